/* The c1m-server worker process: an echo server on one libevent event_base with one evconnlistener per port.
 *
 * Accept policy. The decisions (when to disable, close, re-open or re-enable the listeners, and when to say
 * so) are the shared acceptctl module's, identical in c1m-epoll; this file supplies the libevent mechanics:
 * evconnlistener_disable/enable, evconnlistener_free, re-creating the listeners, and a one-shot retry timer.
 *
 * Connections. One struct echo_conn per connection owns one bufferevent; it is created in echo_conn_new()
 * and freed only in echo_conn_free(): from the event callback on EOF, error or idle timeout, from the write
 * callback once a draining connection has nothing left to send, or by the drain itself. Echo moves the input
 * chains to the output with evbuffer_add_buffer() (no copy). Backpressure as in libevent's le-proxy sample:
 * when unsent output reaches the high watermark, reading stops and a write low-watermark callback turns it
 * back on at half, so a peer that never reads costs at most one watermark plus one read of user memory.
 *
 * Stopping (drain.h). The first SIGINT/SIGTERM frees the listeners (once every worker has, the kernel refuses
 * new connections instead of queueing them), turns reading off on every connection, frees at once those
 * with no output left, and puts the rest into the draining state the half-close already uses: write low
 * watermark 0, so the write callback runs when the output is empty and frees the connection. A one-shot
 * timer at --drain-timeout frees whatever is left; the loop ends when the last connection is gone. What a
 * peer sent after the signal (or before it, held back by the high watermark) is never read, and the kernel
 * answers a close with unread input by a reset, which also drops echo still queued in the kernel: such a
 * peer sees a reset, never an EOF that would pass a partial echo off as complete. */
#include "server/echo.h"

#include "server/core/acceptctl.h"
#include "common/util/clock.h"
#include "server/core/drain.h"
#include "common/sys/net.h"
#include "common/sys/procfs.h"
#include "common/util/counter.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

enum echo_conn_state {
	ECHO_CONN_ECHOING,  /* reading and echoing */
	ECHO_CONN_BLOCKED,  /* output at the high watermark: reading disabled until it drains to the low one */
	ECHO_CONN_DRAINING, /* peer sent EOF, or the worker is stopping: reading is off; flush what is left, then
	                       free */
};

struct echo_worker;

struct echo_conn {
	struct echo_conn   *prev, *next; /* worker's list of open connections, for shutdown */
	struct bufferevent *bev;         /* owns the socket (BEV_OPT_CLOSE_ON_FREE) */
	struct echo_worker *w;
	enum echo_conn_state state;
	evutil_socket_t     fd;          /* bev's socket, kept here: bufferevent_getfd() is a ctrl call through
	                                    the bufferevent's ops, once per message (fits the struct's padding) */
};

struct echo_worker {
	const struct srvmain_config *cfg;
	const struct server_options *opt;
	unsigned index;
	struct stats_slot *st;             /* our slot in shared memory; we are its only writer */
	struct acceptctl ac;               /* accept policy state and the connection count */
	struct event_base *base;
	struct evconnlistener **lev;       /* opt->ports listeners; all NULL while closed */
	struct echo_conn *head;            /* open connections */
	struct event *retry_ev;            /* one-shot ACCEPTCTL_RETRY_MS while not accepting */
	struct event *housekeep_ev;        /* ECHO_HOUSEKEEP_MS persistent: RSS */
	struct event *sig_ev[2];           /* SIGINT, SIGTERM */
	struct event *drain_ev;            /* one-shot: the --drain-timeout deadline after the first signal */
	struct drain_slot *drain;          /* our drain record in shared memory; we are its only writer */
	bool draining;                     /* the first SIGINT/SIGTERM came: no accepting, no reading */
	bool drained;                      /* the drain ended: nothing open any more (sockets closed by the
	                                      teardown at the latest) */
	const struct timeval *idle_tv;     /* libevent common timeout, NULL without --idle-timeout */
	size_t high_wm, low_wm;            /* bytes of unsent output: stop reading at high, resume at low */
	struct procfs_rss rss;             /* resident memory, for the status line and the metrics */
};

static void echo_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int socklen,
			   void *arg);
static void echo_accept_error_cb(struct evconnlistener *l, void *arg);
static void echo_drain_end(struct echo_worker *w);

/* --- connection ------------------------------------------------------------------------------------------ */

static const char *echo_conn_state_str(enum echo_conn_state s)
{
	switch (s) {
	case ECHO_CONN_ECHOING:
		return "echoing";
	case ECHO_CONN_BLOCKED:
		return "blocked";
	case ECHO_CONN_DRAINING:
		return "draining";
	}
	return "?";
}

/* The only place a connection changes state; a transition not in the table is a bug. */
static void echo_conn_set_state(struct echo_conn *c, enum echo_conn_state to)
{
	bool ok = false;

	switch (c->state) {
	case ECHO_CONN_ECHOING:
		ok = to == ECHO_CONN_BLOCKED || to == ECHO_CONN_DRAINING;
		break;
	case ECHO_CONN_BLOCKED:
		ok = to == ECHO_CONN_ECHOING || to == ECHO_CONN_DRAINING;
		break;
	case ECHO_CONN_DRAINING:
		break;
	}
	if (!ok) {
		fprintf(stderr, "c1m-server: internal error: connection state %s -> %s\n",
			echo_conn_state_str(c->state), echo_conn_state_str(to));
		abort();
	}
	c->state = to;
}

/* libevent 2.1 keeps an empty chain in an input buffer after a read that returned nothing. evbuffer_read()
 * sizes its read from FIONREAD, and when that says 0 (as it does at EOF) it reserves EVBUFFER_MAX_READ,
 * 4096 bytes: evbuffer_chain_new() rounds that plus the chain header up to a power of two, an 8 KiB malloc.
 * recv() then returns 0 and the chain stays, empty, on the buffer. evbuffer_drain() cannot free it: it
 * returns at once when the buffer's length is 0. So when every client closes at once, each connection
 * holds 8 KiB from its EOF until the bufferevent's deferred finalizer runs, and the worker's peak RSS was
 * 1,842 B per connection against 1,071 B while the same 19,000 connections were held (14 MiB more: about
 * 1,800 such chains at once). The release:
 * evbuffer_prepend() of one byte puts it into that empty chain (an empty chain counts as free space at
 * its front, so nothing is allocated), and evbuffer_drain() of that byte is then a drain of the whole
 * buffer, which frees every chain. A chain that held data needs none of this: draining the last byte
 * (evbuffer_write() of the whole input, or evbuffer_add_buffer() moving it to the output) frees or moves
 * it, so the echo path pays nothing. */
static void echo_input_release(struct bufferevent *bev)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	static const char one = 0;

	if (evbuffer_get_length(in) != 0)
		return;
	if (evbuffer_prepend(in, &one, 1) == 0)
		(void)evbuffer_drain(in, 1);
}

/* The one place a connection is freed. why says how it ended if the worker is draining (else it is unused:
 * the callers count errors and idle closes themselves). */
static void echo_conn_free(struct echo_conn **cp, enum drain_close why)
{
	struct echo_conn *c = *cp;
	struct echo_worker *w = c->w;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	echo_input_release(c->bev); /* else its 8 KiB lives until the deferred finalizer runs */
	bufferevent_free(c->bev); /* closes the socket; safe inside the bev's own callback */
	free(c);
	*cp = NULL;
	acceptctl_conn_closed(&w->ac);
	if (w->draining) {
		drain_slot_closed(w->drain, why);
		if (w->head == NULL)
			echo_drain_end(w);
		return;
	}
	if (!acceptctl_accepting(&w->ac)) /* a close can only change something for a worker not accepting */
		srvmain_accept_event(w->cfg, w->index, &w->ac, ACCEPTCTL_EV_CLOSED, 0);
}

/* Writes what it can of in to the socket at once and drains that much. Input that sits in one chain (a read
 * fills one unless it spans the end of a chain) goes out with send(), as c1m-epoll's does: evbuffer_write()
 * would use writev(), whose kernel path (the iovec import and the file-level checks of vfs_writev) took
 * 130-270 ns more CPU than sendto() per 64-byte write on a loopback TCP socket here, about 1% of what a
 * whole echoed message costs this worker. An error leaves the bytes in in: the caller queues them, and the
 * bufferevent's own write reports it, except a reset: send() takes the socket's pending ECONNRESET, so the
 * later write would see only EPIPE and count a write error; it returns -1 for the caller to count the reset
 * and close. */
static int echo_write_now(struct echo_conn *c, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	ssize_t k;

	if (evbuffer_peek(in, -1, NULL, &v, 1) != 1)
		k = evbuffer_write(in, c->fd);
	else if ((k = send(c->fd, v.iov_base, v.iov_len, MSG_NOSIGNAL)) > 0)
		(void)evbuffer_drain(in, (size_t)k);
	return k < 0 && errno == ECONNRESET ? -1 : 0;
}

static void echo_read_cb(struct bufferevent *bev, void *arg)
{
	struct echo_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	size_t n = evbuffer_get_length(in);
	size_t queued = evbuffer_get_length(out);

	counter_add(&c->w->st->bytes_in, n);
	counter_add(&c->w->st->bytes_out, n);
	/* Echo at once when nothing is queued: handing the bytes to the output buffer instead would make the
	 * bufferevent add its write event (epoll_ctl), wait a loop iteration for EPOLLOUT, write, and remove
	 * the event again (epoll_ctl): twice the system calls of c1m-epoll per message, which halved the
	 * message rate this server sustained at 1M connections. Only what the socket does not take now (or
	 * anything, on an error, so the bufferevent reports it) goes through the output buffer, after what is
	 * already queued there, so the order is kept. In the common case the input is written whole and the
	 * output stays empty, so there is nothing more to look at. */
	if (queued == 0) {
		if (echo_write_now(c, in) < 0) {
			counter_add(&c->w->st->err_reset, 1);
			echo_conn_free(&c, DRAIN_CLOSE_ERROR);
			return;
		}
		if (evbuffer_get_length(in) == 0)
			return;
	}
	evbuffer_add_buffer(out, in);
	if (evbuffer_get_length(out) >= c->w->high_wm) {
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(bev, EV_WRITE, c->w->low_wm, 0);
		echo_conn_set_state(c, ECHO_CONN_BLOCKED);
	}
}

/* Runs when the output fell to the write low watermark (0 unless blocked or draining). */
static void echo_write_cb(struct bufferevent *bev, void *arg)
{
	struct echo_conn *c = arg;

	if (c->state == ECHO_CONN_BLOCKED) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		echo_conn_set_state(c, ECHO_CONN_ECHOING);
		bufferevent_enable(bev, EV_READ);
	} else if (c->state == ECHO_CONN_DRAINING && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		echo_conn_free(&c, DRAIN_CLOSE_FLUSHED);
	}
}

static void echo_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct echo_conn *c = arg;
	struct stats_slot *st = c->w->st;

	if (what & BEV_EVENT_ERROR) {
		int e = EVUTIL_SOCKET_ERROR();

		if (e == ECONNRESET)
			counter_add(&st->err_reset, 1);
		else if (what & BEV_EVENT_READING)
			counter_add(&st->err_read, 1);
		else
			counter_add(&st->err_write, 1);
	} else if (what & BEV_EVENT_TIMEOUT) {
		counter_add(&st->idle_closed, 1);
	} else if ((what & BEV_EVENT_EOF) && c->state != ECHO_CONN_DRAINING &&
		   evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		/* Half-close: the peer may still read what it sent. Reading is over: the empty chain the EOF
		 * left would otherwise stay for as long as the flush takes. */
		bufferevent_disable(bev, EV_READ);
		echo_input_release(bev);
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		echo_conn_set_state(c, ECHO_CONN_DRAINING);
		return;
	}
	echo_conn_free(&c, DRAIN_CLOSE_ERROR);
}

static int echo_conn_new(struct echo_worker *w, evutil_socket_t fd)
{
	struct echo_conn *c;
	char err[128];

	(void)net_tune_accepted(fd, err, sizeof(err)); /* only latency depends on it; a dead socket fails later */
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		evutil_closesocket(fd);
		return -1;
	}
	c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return -1;
	}
	c->w = w;
	c->state = ECHO_CONN_ECHOING;
	c->fd = fd;
	bufferevent_setcb(c->bev, echo_read_cb, echo_write_cb, echo_event_cb, c);
	if (w->idle_tv != NULL)
		bufferevent_set_timeouts(c->bev, w->idle_tv, w->idle_tv);
	if (bufferevent_enable(c->bev, EV_READ) < 0) {
		bufferevent_free(c->bev);
		free(c);
		return -1;
	}
	c->next = w->head;
	if (w->head != NULL)
		w->head->prev = c;
	w->head = c;
	acceptctl_conn_opened(&w->ac);
	return 0;
}

/* --- listeners: the mechanics behind acceptctl ------------------------------------------------------------ */

static void echo_listeners_close(void *arg)
{
	struct echo_worker *w = arg;
	unsigned i;

	if (w->lev == NULL)
		return;
	for (i = 0; i < w->opt->ports; i++) {
		if (w->lev[i] != NULL) {
			evconnlistener_free(w->lev[i]); /* safe from inside its own callback: libevent refcounts */
			w->lev[i] = NULL;
		}
	}
}

static int echo_listeners_open(void *arg, char *err, size_t errlen)
{
	struct echo_worker *w = arg;
	const struct server_options *o = w->opt;
	int *fds;
	unsigned i;

	fds = calloc(o->ports, sizeof(*fds));
	if (fds == NULL) {
		snprintf(err, errlen, "out of memory for %u listeners", o->ports);
		return -1;
	}
	if (net_listen_range(o->bind_addr, o->port_base, o->ports, o->backlog, true, fds, err, errlen) < 0) {
		free(fds);
		return -1;
	}
	for (i = 0; i < o->ports; i++) {
		/* backlog 0: the socket is already listening with our explicit backlog. */
		w->lev[i] = evconnlistener_new(w->base, echo_accept_cb, w, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
					       0, fds[i]);
		if (w->lev[i] == NULL) {
			snprintf(err, errlen, "evconnlistener_new port %u failed", (unsigned)(o->port_base + i));
			echo_listeners_close(w);
			net_close_range(fds + i, o->ports - i);
			free(fds);
			return -1;
		}
		fds[i] = -1;
		evconnlistener_set_error_cb(w->lev[i], echo_accept_error_cb);
	}
	free(fds);
	return 0;
}

static void echo_listeners_enable(void *arg, bool on)
{
	struct echo_worker *w = arg;
	unsigned i;

	for (i = 0; i < w->opt->ports; i++) {
		if (w->lev[i] == NULL)
			continue;
		if (on)
			evconnlistener_enable(w->lev[i]);
		else
			evconnlistener_disable(w->lev[i]);
	}
}

static void echo_arm_retry(void *arg)
{
	struct echo_worker *w = arg;
	struct timeval tv = clock_timeval_ms(ACCEPTCTL_RETRY_MS);

	if (!evtimer_pending(w->retry_ev, NULL))
		evtimer_add(w->retry_ev, &tv);
}

static const struct acceptctl_mech echo_mech = {
	.enable = echo_listeners_enable,
	.close = echo_listeners_close,
	.open = echo_listeners_open,
	.arm_retry = echo_arm_retry,
};

static void echo_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct echo_worker *w = arg;

	srvmain_accept_event(w->cfg, w->index, &w->ac, ACCEPTCTL_EV_TIMER, 0);
}

static void echo_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int socklen,
			   void *arg)
{
	struct echo_worker *w = arg;

	if (echo_conn_new(w, fd) < 0) {
		counter_add(&w->st->err_accept, 1);
		return;
	}
	srvmain_accept_event(w->cfg, w->index, &w->ac, ACCEPTCTL_EV_OPENED, 0);
}

/* libevent calls this for errors it does not retry itself (EINTR, EAGAIN and ECONNABORTED are retried). On
 * EMFILE the pending connection stays queued, so without disabling the listener level-triggered epoll would
 * call us again at once, forever. */
static void echo_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct echo_worker *w = arg;

	srvmain_accept_event(w->cfg, w->index, &w->ac, ACCEPTCTL_EV_ERROR, EVUTIL_SOCKET_ERROR());
}

/* --- worker ---------------------------------------------------------------------------------------------- */

static void echo_housekeep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct echo_worker *w = arg;

	counter_set(&w->st->rss_bytes, procfs_rss_bytes(&w->rss));
}

/* --- stopping ------------------------------------------------------------------------------------------- */

/* Nothing is open any more: the loop ends (its persistent timers would keep it running). The drain record
 * ends after the teardown: bufferevent_free() leaves the close of the socket to a finalizer that the loop
 * (or event_base_free) runs later, and with 10,000 connections those closes are most of the drain's time. */
static void echo_drain_end(struct echo_worker *w)
{
	if (w->drained)
		return;
	w->drained = true;
	event_base_loopbreak(w->base);
}

/* Frees every connection still open, counted as closed by the deadline. */
static void echo_close_all(struct echo_worker *w)
{
	while (w->head != NULL) {
		struct echo_conn *c = w->head;

		echo_conn_free(&c, DRAIN_CLOSE_DEADLINE);
	}
}

static void echo_drain_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	echo_close_all(arg);
}

/* A connection that still owes echo at the start of the drain: echo_write_cb frees it once it is sent. */
static void echo_conn_drain(struct echo_conn *c)
{
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (c->state != ECHO_CONN_DRAINING)
		echo_conn_set_state(c, ECHO_CONN_DRAINING);
}

/* The first SIGINT/SIGTERM begins the drain (see the file comment). Later ones change nothing here: a
 * terminal's Ctrl-C reaches every process of the group and the supervisor forwards it as well, so one stop
 * can arrive twice; "now" is the supervisor's answer to a second signal sent to it (it kills the workers). */
static void echo_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct echo_worker *w = arg;
	struct echo_conn *c, *next;
	unsigned ms = w->opt->drain_timeout_ms;
	struct timeval tv = clock_timeval_ms(ms);

	if (w->draining)
		return;
	acceptctl_stop(&w->ac); /* frees the listeners */
	evtimer_del(w->retry_ev);
	w->draining = true;
	drain_slot_begin(w->drain, clock_now_ns(), w->ac.conns);
	if (w->head == NULL) {
		echo_drain_end(w);
		return;
	}
	if (ms != 0)
		evtimer_add(w->drain_ev, &tv);
	for (c = w->head; c != NULL; c = next) {
		bool owes = evbuffer_get_length(bufferevent_get_output(c->bev)) != 0;

		next = c->next; /* c may be freed */
		if (owes)
			echo_conn_drain(c);
		else
			echo_conn_free(&c, DRAIN_CLOSE_FLUSHED); /* nothing owed: closed at once */
	}
	if (ms == 0)
		echo_close_all(w);
}

static void echo_worker_teardown(struct echo_worker *w)
{
	unsigned i;

	echo_close_all(w); /* none after a drain; only if the loop ended some other way */
	for (i = 0; i < 2; i++)
		if (w->sig_ev[i] != NULL)
			event_free(w->sig_ev[i]);
	if (w->drain_ev != NULL)
		event_free(w->drain_ev);
	if (w->housekeep_ev != NULL)
		event_free(w->housekeep_ev);
	if (w->retry_ev != NULL)
		event_free(w->retry_ev);
	echo_listeners_close(w);
	procfs_rss_close(&w->rss);
	free(w->lev);
	if (w->base != NULL)
		event_base_free(w->base);
}

int echo_worker_main(unsigned index, void *slotp, const struct srvmain_config *cfg)
{
	struct echo_worker w;
	struct timeval tv;
	char err[128];
	bool first;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	w.rss.fd = -1;
	w.cfg = cfg;
	w.opt = cfg->opt;
	w.index = index;
	w.st = slotp;
	w.drain = &cfg->drain[index];
	w.high_wm = w.opt->high_watermark;
	w.low_wm = w.high_wm / 2;
	first = srvmain_worker_init(cfg, w.st, &echo_mech, &w, &w.ac);
	/* Without /proc the RSS stays 0; the worker serves anyway. */
	(void)procfs_rss_open(&w.rss, err, sizeof(err));

	w.base = event_base_new();
	w.lev = calloc(w.opt->ports, sizeof(*w.lev));
	if (w.base == NULL || w.lev == NULL) {
		fprintf(stderr, "%s: worker %u: cannot create the event loop\n", cfg->prog, index);
		rc = 1;
		goto out;
	}
	if (w.opt->idle_timeout_s != 0) {
		tv = clock_timeval_ms((uint64_t)w.opt->idle_timeout_s * 1000);
		/* A common timeout: one queue instead of a heap insert per connection. */
		w.idle_tv = event_base_init_common_timeout(w.base, &tv);
	}
	w.sig_ev[0] = evsignal_new(w.base, SIGINT, echo_signal_cb, &w);
	w.sig_ev[1] = evsignal_new(w.base, SIGTERM, echo_signal_cb, &w);
	w.retry_ev = evtimer_new(w.base, echo_retry_cb, &w);
	w.drain_ev = evtimer_new(w.base, echo_drain_deadline_cb, &w);
	w.housekeep_ev = event_new(w.base, -1, EV_PERSIST, echo_housekeep_cb, &w);
	if (w.sig_ev[0] == NULL || w.sig_ev[1] == NULL || w.retry_ev == NULL || w.drain_ev == NULL ||
	    w.housekeep_ev == NULL) {
		fprintf(stderr, "%s: worker %u: cannot create events\n", cfg->prog, index);
		rc = 1;
		goto out;
	}
	tv = clock_timeval_ms(ECHO_HOUSEKEEP_MS);
	event_add(w.sig_ev[0], NULL);
	event_add(w.sig_ev[1], NULL);
	event_add(w.housekeep_ev, &tv);
	echo_housekeep_cb(-1, 0, &w);

	rc = srvmain_worker_listen(cfg, index, first, &w.ac);
	if (rc != 0)
		goto out;
	event_base_dispatch(w.base);
out:
	acceptctl_stop(&w.ac);
	echo_worker_teardown(&w);
	if (w.drained)
		drain_slot_end(w.drain, clock_now_ns());
	return rc;
}
