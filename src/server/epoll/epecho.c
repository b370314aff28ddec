/* The c1m-epoll worker process. Everything here runs on one reactor: the listening sockets, the connections and
 * a signalfd for SIGINT/SIGTERM are all slots of the same event blocks, so a worker is one epoll_wait loop with
 * no async signal handler. Per-connection work is the original write-up's echo cycle, with its defects fixed:
 * a recv of 4096 bytes does not write past the buffer, a short send keeps its offset and the slot stays in
 * EPOLLOUT until every byte left, errors and hangups close the connection once, and nothing prints per
 * connection. The accept decisions are the shared acceptctl module's, as in c1m-server; this file supplies the
 * mechanics: listeners in or out of the epoll set, closed, re-opened, and a retry deadline.
 *
 * Stopping (drain.h). The signalfd callback only notes the first SIGINT/SIGTERM; the drain begins between
 * batches, where closing other slots is safe (reactor.h): the listeners are closed (once every worker has,
 * the kernel refuses new connections instead of queueing them), a slot in the recv half of the cycle owes
 * nothing and is closed at once, and a slot in the send half keeps its EPOLLOUT interest (it has no EPOLLIN:
 * level-triggered epoll reports nothing else for it) until its buffer is sent, and is then closed instead of
 * going back to EPOLLIN. At --drain-timeout the rest are closed; the loop ends when none is left. What a peer
 * sent after the signal (or before it, beyond the one buffer a slot holds) is never read, and the kernel
 * answers a close with unread input by a reset, which also drops echo still queued in the kernel: such a
 * peer sees a reset, never an EOF that would pass a partial echo off as complete. */
#include "server/epoll/epecho.h"

#include "server/core/acceptctl.h"
#include "common/util/clock.h"
#include "server/core/drain.h"
#include "common/sys/net.h"
#include "common/sys/procfs.h"
#include "server/epoll/reactor.h"
#include "common/util/counter.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define EPECHO_ERR_LEN 256

/* Why a connection is closed, for the counters. */
enum epecho_close {
	EPECHO_CLOSE_EOF,   /* peer closed: normal end */
	EPECHO_CLOSE_READ,  /* recv failed, or epoll_ctl failed switching the slot to EPOLLOUT after a recv */
	EPECHO_CLOSE_WRITE, /* send failed, or epoll_ctl failed switching the slot back to EPOLLIN */
	EPECHO_CLOSE_RESET, /* ECONNRESET */
	EPECHO_CLOSE_IDLE,  /* --idle-timeout */
	EPECHO_CLOSE_DRAINED,  /* stopping: its buffer was sent (or empty) */
	EPECHO_CLOSE_DEADLINE, /* stopping: --drain-timeout ran out with echo still unsent */
};

/* Runtime state of one worker process; lives on worker_main's stack. */
struct epecho_worker {
	const struct srvmain_config *cfg;
	const struct server_options *opt;
	struct stats_slot *st;        /* this worker's shared counters; we are its only writer */
	unsigned index;               /* worker number */
	struct reactor reactor;
	struct acceptctl ac;          /* accept policy state and the connection count */
	int *lfd;                     /* opt->ports fds while listeners are being opened, else all -1 */
	struct reactor_event **lev;   /* the listeners' reactor slots; all NULL while closed */
	bool closed_in_batch;         /* a connection closed during the last batch while not accepting */
	uint64_t retry_ns;            /* clock_now_ns() of the pending re-check while not accepting; 0 = none */
	uint64_t idle_ns;             /* --idle-timeout, nanoseconds; 0 = off */
	uint64_t housekeep_ns;        /* next RSS refresh, clock_now_ns() time */
	struct procfs_rss rss;        /* resident memory, for the status line and the metrics */
	bool stop;                    /* SIGINT/SIGTERM seen; the drain begins after the batch */
	bool draining;                /* the drain began: no accepting, no reading */
	uint64_t drain_deadline_ns;   /* clock_now_ns() at which the drain closes what is left */
	struct drain_slot *drain;     /* our drain record in shared memory; we are its only writer */
};

static void epecho_recv_cb(struct reactor *r, struct reactor_event *ev, uint32_t revents);
static void epecho_send_cb(struct reactor *r, struct reactor_event *ev, uint32_t revents);

/* The one place a connection ends: counters, then the slot goes back to the reactor. */
static void epecho_conn_close(struct epecho_worker *w, struct reactor_event **evp, enum epecho_close why)
{
	switch (why) {
	case EPECHO_CLOSE_EOF:
		break;
	case EPECHO_CLOSE_READ:
		counter_add(&w->st->err_read, 1);
		break;
	case EPECHO_CLOSE_WRITE:
		counter_add(&w->st->err_write, 1);
		break;
	case EPECHO_CLOSE_RESET:
		counter_add(&w->st->err_reset, 1);
		break;
	case EPECHO_CLOSE_IDLE:
		counter_add(&w->st->idle_closed, 1);
		break;
	case EPECHO_CLOSE_DRAINED:
	case EPECHO_CLOSE_DEADLINE:
		break;
	}
	reactor_event_free(&w->reactor, evp);
	acceptctl_conn_closed(&w->ac);
	if (w->draining)
		drain_slot_closed(w->drain, why == EPECHO_CLOSE_DRAINED ? DRAIN_CLOSE_FLUSHED :
				  why == EPECHO_CLOSE_DEADLINE ? DRAIN_CLOSE_DEADLINE : DRAIN_CLOSE_ERROR);
	else if (!acceptctl_accepting(&w->ac))
		w->closed_in_batch = true;
}

static enum epecho_close epecho_errno_kind(int e, enum epecho_close otherwise)
{
	return e == ECONNRESET ? EPECHO_CLOSE_RESET : otherwise;
}

static void epecho_touch(struct epecho_worker *w, struct reactor_event *ev)
{
	if (w->idle_ns != 0)
		reactor_idle_touch(&w->reactor, ev, clock_now_ns());
}

/* EPOLLIN on a connection. One recv of at most REACTOR_BUFFER_LENGTH bytes; what it got is echoed before the
 * next recv, so at most one buffer of echo is ever unsent per connection and a client that does not read
 * back stops being read from (level-triggered epoll reports the rest once the slot is back in EPOLLIN). */
static void epecho_recv_cb(struct reactor *r, struct reactor_event *ev, uint32_t revents)
{
	struct epecho_worker *w = ev->arg;
	ssize_t n = recv(ev->fd, ev->buffer, REACTOR_BUFFER_LENGTH, 0);

	if (n > 0) {
		counter_add(&w->st->bytes_in, (uint64_t)n);
		ev->length = (uint32_t)n;
		ev->sent = 0;
		ev->callback = epecho_send_cb;
		if (reactor_event_add(r, ev, EPOLLOUT) < 0) {
			epecho_conn_close(w, &ev, EPECHO_CLOSE_READ);
			return;
		}
		epecho_touch(w, ev);
		return;
	}
	if (n == 0) {
		epecho_conn_close(w, &ev, EPECHO_CLOSE_EOF);
		return;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		/* A pending socket error is reported by recv itself; EAGAIN together with EPOLLERR would repeat
		 * forever under level triggering, so such a connection is closed rather than polled again. */
		if (revents & EPOLLERR)
			epecho_conn_close(w, &ev, EPECHO_CLOSE_READ);
		return;
	}
	epecho_conn_close(w, &ev, epecho_errno_kind(errno, EPECHO_CLOSE_READ));
}

/* EPOLLOUT on a connection holding echo. A short send keeps its offset (ev->sent) and the slot stays in
 * EPOLLOUT; only when the whole buffer is gone does it go back to EPOLLIN. */
static void epecho_send_cb(struct reactor *r, struct reactor_event *ev, uint32_t revents)
{
	struct epecho_worker *w = ev->arg;
	ssize_t n = send(ev->fd, ev->buffer + ev->sent, ev->length - ev->sent, MSG_NOSIGNAL);

	if (n > 0) {
		counter_add(&w->st->bytes_out, (uint64_t)n);
		ev->sent += (uint32_t)n;
		epecho_touch(w, ev);
		if (ev->sent < ev->length)
			return;
		ev->length = 0;
		ev->sent = 0;
		if (w->draining) {
			epecho_conn_close(w, &ev, EPECHO_CLOSE_DRAINED);
			return;
		}
		ev->callback = epecho_recv_cb;
		if (reactor_event_add(r, ev, EPOLLIN) < 0)
			epecho_conn_close(w, &ev, EPECHO_CLOSE_WRITE);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		if (revents & EPOLLERR)
			epecho_conn_close(w, &ev, EPECHO_CLOSE_WRITE);
		return;
	}
	/* n == 0 cannot happen with a non-empty buffer; treat it like an error rather than loop on it. */
	epecho_conn_close(w, &ev, n < 0 ? epecho_errno_kind(errno, EPECHO_CLOSE_WRITE) : EPECHO_CLOSE_WRITE);
}

/* ---- listeners: the mechanics behind acceptctl ----------------------------------------------------------- */

static void epecho_accept_cb(struct reactor *r, struct reactor_event *ev, uint32_t revents);

/* Puts the listeners into (on) or out of the epoll set; their sockets and accept queues stay either way.
 * epoll_ctl on our own registered fds fails only on ENOMEM (adding) or a programming error; a listener left
 * out is re-armed by the next retry, one left in costs one wasted accept per wakeup. */
static void epecho_listeners_enable(void *arg, bool on)
{
	struct epecho_worker *w = arg;

	for (unsigned i = 0; i < w->opt->ports; i++) {
		if (w->lev[i] == NULL)
			continue;
		if (on)
			(void)reactor_event_add(&w->reactor, w->lev[i], EPOLLIN);
		else
			(void)reactor_event_del(&w->reactor, w->lev[i]);
	}
}

/* Closing inside a batch is safe (see reactor.h): nothing is accepted again until the batch has ended. */
static void epecho_listeners_close(void *arg)
{
	struct epecho_worker *w = arg;

	if (w->lev == NULL)
		return;
	for (unsigned i = 0; i < w->opt->ports; i++)
		if (w->lev[i] != NULL)
			reactor_event_free(&w->reactor, &w->lev[i]); /* closes the socket */
}

/* Opens one SO_REUSEPORT listener per port, puts each in a reactor slot and arms it. All or nothing. Called
 * only between batches (startup, timer, close-driven re-check), never with events for old fds still queued. */
static int epecho_listeners_open(void *arg, char *err, size_t errlen)
{
	struct epecho_worker *w = arg;
	const struct server_options *o = w->opt;
	unsigned i;

	if (net_listen_range(o->bind_addr, o->port_base, o->ports, o->backlog, true, w->lfd, err, errlen) < 0)
		return -1;
	for (i = 0; i < o->ports; i++) {
		if (reactor_slot(&w->reactor, w->lfd[i], &w->lev[i], err, errlen) < 0)
			goto fail;
		reactor_event_set(w->lev[i], w->lfd[i], epecho_accept_cb, w);
		w->lfd[i] = -1; /* the slot owns it now */
		if (reactor_event_add(&w->reactor, w->lev[i], EPOLLIN) < 0) {
			snprintf(err, errlen, "epoll_ctl add listener port %u: %s", (unsigned)(o->port_base + i),
				 strerror(errno));
			i++;
			goto fail;
		}
	}
	return 0;
fail:
	net_close_range(w->lfd + i, o->ports - i);
	epecho_listeners_close(w);
	return -1;
}

/* One-shot retry: armed only if not already pending, so a re-check happens every ACCEPTCTL_RETRY_MS at most. */
static void epecho_arm_retry(void *arg)
{
	struct epecho_worker *w = arg;

	if (w->retry_ns == 0)
		w->retry_ns = clock_now_ns() + ACCEPTCTL_RETRY_MS * CLOCK_NS_PER_MS;
}

static const struct acceptctl_mech epecho_mech = {
	.enable = epecho_listeners_enable,
	.close = epecho_listeners_close,
	.open = epecho_listeners_open,
	.arm_retry = epecho_arm_retry,
};

/* EPOLLIN on a listener: accept until EAGAIN (the original took one connection per wakeup), stopping at the
 * cap or on a resource error. IMPORTANT: stopping may close every listener, this callback's own slot
 * included, so nothing touches ev after that. */
static void epecho_accept_cb(struct reactor *r, struct reactor_event *ev, uint32_t revents)
{
	struct epecho_worker *w = ev->arg;
	int lfd = ev->fd;
	char err[EPECHO_ERR_LEN];

	for (;;) {
		struct reactor_event *cev;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			int e = errno;

			if (e == EAGAIN || e == EWOULDBLOCK)
				return;
			/* EMFILE, ENFILE, ENOBUFS, ENOMEM and anything unexpected stop accepting: the queued
			 * connection stays queued, so calling accept again at once would fail again. */
			srvmain_accept_event(w->cfg, w->index, &w->ac, ACCEPTCTL_EV_ERROR, e);
			if (!acceptctl_accepting(&w->ac))
				return;
			continue;
		}
		/* TCP_NODELAY only affects latency; a socket that cannot take it fails on its first recv. */
		(void)net_tune_accepted(fd, err, sizeof(err));
		if (reactor_slot(r, fd, &cev, err, sizeof(err)) < 0) {
			close(fd);
			srvmain_accept_event(w->cfg, w->index, &w->ac, ACCEPTCTL_EV_ERROR, ENOMEM);
			return;
		}
		reactor_event_set(cev, fd, epecho_recv_cb, w);
		if (reactor_event_add(r, cev, EPOLLIN) < 0) {
			int e = errno;

			reactor_event_free(r, &cev);
			if (e == ENOMEM || e == ENOSPC) { /* ENOSPC: fs.epoll.max_user_watches */
				srvmain_accept_event(w->cfg, w->index, &w->ac, ACCEPTCTL_EV_ERROR, e);
				return;
			}
			counter_add(&w->st->err_accept, 1);
			continue;
		}
		acceptctl_conn_opened(&w->ac);
		epecho_touch(w, cev);
		srvmain_accept_event(w->cfg, w->index, &w->ac, ACCEPTCTL_EV_OPENED, 0);
		if (!acceptctl_accepting(&w->ac))
			return;
	}
}

/* ---- housekeeping ------------------------------------------------------------------------------------- */

static void epecho_refresh_rss(struct epecho_worker *w)
{
	counter_set(&w->st->rss_bytes, procfs_rss_bytes(&w->rss));
}

/* Closes connections idle for --idle-timeout. The idle list is in activity order, so this stops at the first
 * connection that is still fresh: the cost is proportional to what expires, not to what is open. */
static void epecho_expire_idle(struct epecho_worker *w, uint64_t now)
{
	struct reactor_event *ev;

	while ((ev = reactor_idle_oldest(&w->reactor)) != NULL && now - ev->last_ns >= w->idle_ns)
		epecho_conn_close(w, &ev, EPECHO_CLOSE_IDLE);
}

static void epecho_signal_cb(struct reactor *r, struct reactor_event *ev, uint32_t revents)
{
	struct epecho_worker *w = ev->arg;
	struct signalfd_siginfo si;

	/* Only the first counts: a terminal's Ctrl-C reaches every process of the group and the supervisor
	 * forwards it too, so one stop can arrive twice; "now" is the supervisor's answer to a second signal
	 * sent to it (it kills the workers). */
	while (read(ev->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		w->stop = true;
}

static int epecho_signals_open(struct epecho_worker *w, char *err, size_t errlen)
{
	struct reactor_event *ev;
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		snprintf(err, errlen, "sigprocmask: %s", strerror(errno));
		return -1;
	}
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -1;
	}
	if (reactor_slot(&w->reactor, fd, &ev, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	reactor_event_set(ev, fd, epecho_signal_cb, w);
	if (reactor_event_add(&w->reactor, ev, EPOLLIN) < 0) {
		snprintf(err, errlen, "epoll_ctl add signalfd: %s", strerror(errno));
		reactor_event_free(&w->reactor, &ev);
		return -1;
	}
	return 0;
}

/* Milliseconds until the next timed job (housekeeping, a pending re-check, the oldest idle expiry). */
static int epecho_timeout_ms(const struct epecho_worker *w, uint64_t now)
{
	uint64_t due = w->housekeep_ns;
	struct reactor_event *oldest;

	if (w->retry_ns != 0 && w->retry_ns < due)
		due = w->retry_ns;
	if (w->draining && w->drain_deadline_ns < due)
		due = w->drain_deadline_ns;
	if (w->idle_ns != 0 && (oldest = reactor_idle_oldest(&w->reactor)) != NULL &&
	    oldest->last_ns + w->idle_ns < due)
		due = oldest->last_ns + w->idle_ns;
	if (due <= now)
		return 0;
	return (int)((due - now + CLOCK_NS_PER_MS - 1) / CLOCK_NS_PER_MS);
}

/* Timed jobs and the close-driven re-check, run between batches. */
static void epecho_after_batch(struct epecho_worker *w)
{
	uint64_t now = clock_now_ns();

	if (w->idle_ns != 0)
		epecho_expire_idle(w, now);
	if (w->closed_in_batch) {
		w->closed_in_batch = false;
		srvmain_accept_event(w->cfg, w->index, &w->ac, ACCEPTCTL_EV_CLOSED, 0);
	}
	if (w->retry_ns != 0 && now >= w->retry_ns) {
		w->retry_ns = 0;
		srvmain_accept_event(w->cfg, w->index, &w->ac, ACCEPTCTL_EV_TIMER, 0);
	}
	if (now >= w->housekeep_ns) {
		epecho_refresh_rss(w);
		w->housekeep_ns = now + EPECHO_HOUSEKEEP_MS * CLOCK_NS_PER_MS;
	}
}

/* reactor_foreach: at the start of the drain, closes a connection that owes nothing (its slot is in the recv
 * half of the cycle, so its buffer is empty); one in the send half finishes in epecho_send_cb. */
static void epecho_drain_slot(struct reactor *r, struct reactor_event *ev, void *arg)
{
	if (ev->callback == epecho_recv_cb)
		epecho_conn_close(arg, &ev, EPECHO_CLOSE_DRAINED);
}

/* reactor_foreach: closes any connection, as the drain deadline does. */
static void epecho_close_conn_slot(struct reactor *r, struct reactor_event *ev, void *arg)
{
	if (ev->callback == epecho_recv_cb || ev->callback == epecho_send_cb)
		epecho_conn_close(arg, &ev, EPECHO_CLOSE_DEADLINE);
}

/* Between batches after the first SIGINT/SIGTERM (see the file comment). */
static void epecho_drain_begin(struct epecho_worker *w)
{
	uint64_t now = clock_now_ns();

	acceptctl_stop(&w->ac); /* closes the listeners */
	w->retry_ns = 0;
	w->closed_in_batch = false;
	w->draining = true;
	w->drain_deadline_ns = now + (uint64_t)w->opt->drain_timeout_ms * CLOCK_NS_PER_MS;
	drain_slot_begin(w->drain, now, w->ac.conns);
	reactor_foreach(&w->reactor, epecho_drain_slot, w);
}

/* Whether the drain is over; at the deadline it closes what is left first. */
static bool epecho_drain_done(struct epecho_worker *w)
{
	if (w->ac.conns != 0 && clock_now_ns() >= w->drain_deadline_ns)
		reactor_foreach(&w->reactor, epecho_close_conn_slot, w);
	if (w->ac.conns != 0)
		return false;
	drain_slot_end(w->drain, clock_now_ns());
	return true;
}

/* The end of the worker, whatever the path: stop accepting and close every connection left (none after a
 * drain). */
static void epecho_shutdown(struct epecho_worker *w)
{
	acceptctl_stop(&w->ac);
	reactor_foreach(&w->reactor, epecho_close_conn_slot, w);
}

int epecho_worker_main(unsigned index, void *slotp, const struct srvmain_config *cfg)
{
	struct epecho_worker w;
	char err[EPECHO_ERR_LEN];
	bool first;
	int rc = 1;

	memset(&w, 0, sizeof(w));
	w.cfg = cfg;
	w.opt = cfg->opt;
	w.st = slotp;
	w.drain = &cfg->drain[index];
	w.index = index;
	w.rss.fd = -1;
	w.idle_ns = (uint64_t)w.opt->idle_timeout_s * CLOCK_NS_PER_S;
	w.reactor.epfd = -1;
	first = srvmain_worker_init(cfg, w.st, &epecho_mech, &w, &w.ac);

	w.lfd = calloc(w.opt->ports, sizeof(*w.lfd));
	w.lev = calloc(w.opt->ports, sizeof(*w.lev));
	if (w.lfd == NULL || w.lev == NULL) {
		fprintf(stderr, "%s: worker %u: out of memory for %u listeners\n", cfg->prog, index, w.opt->ports);
		goto out;
	}
	for (unsigned i = 0; i < w.opt->ports; i++)
		w.lfd[i] = -1;
	if (reactor_init(&w.reactor, err, sizeof(err)) < 0 || epecho_signals_open(&w, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: worker %u: %s\n", cfg->prog, index, err);
		goto out;
	}
	/* Without /proc the RSS stays 0; the worker serves anyway. */
	(void)procfs_rss_open(&w.rss, err, sizeof(err));
	epecho_refresh_rss(&w);
	w.housekeep_ns = clock_now_ns() + EPECHO_HOUSEKEEP_MS * CLOCK_NS_PER_MS;

	rc = srvmain_worker_listen(cfg, index, first, &w.ac);
	if (rc != 0)
		goto out;
	for (;;) {
		if (reactor_run_once(&w.reactor, epecho_timeout_ms(&w, clock_now_ns()), err, sizeof(err)) < 0) {
			/* epoll_wait fails only on a broken epoll fd: nothing this loop can recover from. */
			fprintf(stderr, "%s: worker %u: %s\n", cfg->prog, index, err);
			rc = 1;
			goto out;
		}
		epecho_after_batch(&w);
		if (w.stop && !w.draining)
			epecho_drain_begin(&w);
		if (w.draining && epecho_drain_done(&w))
			break;
	}
out:
	epecho_shutdown(&w);
	reactor_destroy(&w.reactor); /* the signalfd and anything left */
	procfs_rss_close(&w.rss);
	free(w.lfd);
	free(w.lev);
	return rc;
}
