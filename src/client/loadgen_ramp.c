/* Load generator ramp: nonblocking connects through one event_base, paced by a token bucket and the cap on
 * connections in flight, and one echo check per connection before it is held.
 *
 * The socket is created and connect()ed here rather than by bufferevent_socket_connect(bev, sa) so that
 * (1) a source address can be bound first, with IP_BIND_ADDRESS_NO_PORT so the kernel picks the local port
 * per 4-tuple at connect time instead of reserving one per source at bind time, and (2) an immediate errno
 * from socket()/bind()/connect() (EMFILE, EADDRNOTAVAIL, ENOBUFS ...) is classified exactly instead of
 * being folded into a generic bufferevent error. bufferevent_socket_connect(bev, NULL, 0) then tells
 * libevent 2.1 that the fd is already connecting; an asynchronous error (ECONNREFUSED) arrives in the event
 * callback, where libevent has put SO_ERROR into errno (EVUTIL_SOCKET_ERROR()).
 *
 * With --tls the TCP connect completes the same way, then an OpenSSL bufferevent takes over the socket for
 * the TLS handshake (loadgen_tls.c): the connection is established, and its connect time taken, at the end
 * of the TLS handshake; the protocol's handshake follows as without TLS.
 *
 * Re-entrancy: callbacks never start new connections themselves; they schedule the pump event. So a fd
 * closed in a callback is never reused by a new socket before libevent has dropped the old bufferevent's
 * events, and an immediate failure storm (EMFILE on every socket()) cannot recurse. */
#include "client/loadgen_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/util.h>

#include "common/util/clock.h"
#include "common/util/counter.h"
#include "common/util/sbuf.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

size_t loadgen_format_line(uint64_t n, char *buf, size_t len)
{
	int r = snprintf(buf, len, "Hello Server: client --> %llu\n", (unsigned long long)n);

	return r < 0 ? 0 : (size_t)r;
}

void loadgen_schedule_pump(struct loadgen *lg, uint64_t delay_ns)
{
	uint64_t due = clock_now_ns() + delay_ns;
	struct timeval tv;

	if (lg->finished || lg->next >= lg->goal)
		return;
	if (lg->pump_due_ns && lg->pump_due_ns <= due)
		return;
	tv = clock_timeval_ns(delay_ns);
	if (event_add(lg->pump_ev, &tv) == 0)
		lg->pump_due_ns = due;
}

/* After the echo the bufferevent is released; a held connection needs only a bare struct event. */
static void to_hold(struct conn *c)
{
	struct loadgen *lg = c->lg;
	struct event *ev;

	/* The bufferevent is freed without closing the fd (no BEV_OPT_CLOSE_ON_FREE); its events leave the
	 * event map when this callback returns, while the new event already watches the same fd. */
	ev = event_new(lg->base, c->fd, EV_READ | EV_PERSIST, loadgen_io_cb, c);
	if (!ev || event_add(ev, NULL) < 0) {
		if (ev)
			event_free(ev);
		conn_fail(c, DIAG_ENOMEM, ENOMEM);
		return;
	}
	bufferevent_free(c->io.bev);   /* an OpenSSL one leaves its SSL, in lg->ssl */
	conn_set_state(c, CONN_HOLDING);
	c->io.ev = ev;
	if (lg->ssl)
		loadgen_tls_kick(c);
	loadgen_schedule_pump(lg, 0);
	loadgen_check_progress(lg);
}

/* The echo deadline from the write; -1 (connection failed) when it passed, else the timeouts rearmed for
 * what is left of it. */
static int hello_deadline(struct conn *c, struct bufferevent *bev, uint64_t now)
{
	uint64_t deadline = c->u.t_ns + (uint64_t)c->lg->cfg.echo_timeout_ms * CLOCK_NS_PER_MS, left_us;
	struct timeval tv;

	if (now >= deadline) {
		conn_fail(c, DIAG_ECHO_TIMEOUT, 0);
		return -1;
	}
	left_us = (deadline - now) / CLOCK_NS_PER_US + 1;  /* > 0: a zero timeval means no timeout */
	tv = clock_timeval_ns(left_us * CLOCK_NS_PER_US);
	bufferevent_set_timeouts(bev, &tv, &tv);
	return 0;
}

/* A failed handshake reply: the note (the first one of the run) and the failure. */
static void hello_fail(struct conn *c, enum diag_kind k, const char *note)
{
	char line[PROTO_NOTE_LEN];
	struct sbuf sb;

	sbuf_init(&sb, line, sizeof(line));
	sbuf_printf(&sb, "connection %llu: %s", (unsigned long long)c->id, note);
	loadgen_note(c->lg, line);
	conn_fail(c, k, 0);
}

/* The handshake reply of a protocol other than echo, through its table: verified (held), refused,
 * malformed, or not complete yet (the bytes are consumed; the parser keeps its state). */
static void read_hello(struct conn *c, struct bufferevent *bev)
{
	struct loadgen *lg = c->lg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in), used = 0;
	const char *data = n ? (const char *)evbuffer_pullup(in, -1) : NULL;
	char quoted[4 * PROTO_FIRST_BYTES + 8], note[PROTO_NOTE_LEN];
	struct proto_event ev;
	enum proto_status s;
	struct sbuf sb;
	uint64_t now = clock_now_ns();

	if (!data)
		return;
	c->matched = 1;   /* a reply byte came: a close from now on is not a refusal at accept */
	s = lg->ops->hello_feed(lg->pcfg, conn_side(c)->st, data, n, &used, &ev);
	if (s == PROTO_REFUSED) {
		loadgen_codes_add(&lg->st->codes, ev.code, 1);
		hello_fail(c, DIAG_HANDSHAKE_REFUSED, ev.note);
		return;
	}
	if (s == PROTO_ERROR) {
		hello_fail(c, DIAG_BAD_REPLY, ev.note);
		return;
	}
	if (s == PROTO_DONE && used < n) {
		proto_escape(data + used, n - used, PROTO_FIRST_BYTES, quoted, sizeof(quoted));
		sbuf_init(&sb, note, sizeof(note));
		sbuf_printf(&sb, "%zu bytes after the handshake reply: '%s'", n - used, quoted);
		hello_fail(c, DIAG_BAD_REPLY, note);
		return;
	}
	evbuffer_drain(in, n);
	if (s == PROTO_PARTIAL) {
		(void)hello_deadline(c, bev, now);
		return;
	}
	if (now >= c->u.t_ns + (uint64_t)lg->cfg.echo_timeout_ms * CLOCK_NS_PER_MS) {
		conn_fail(c, DIAG_ECHO_TIMEOUT, 0);
		return;
	}
	if (ev.closing) {   /* verified, but the server will close it: nothing to hold */
		conn_fail(c, DIAG_SERVER_CLOSE, 0);
		return;
	}
	hist_record(&lg->st->rtt_us, (now - c->u.t_ns) / CLOCK_NS_PER_US);
	to_hold(c);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char expect[LOADGEN_LINE_MAX], got[LOADGEN_LINE_MAX];
	size_t want = loadgen_format_line(c->id, expect, sizeof(expect));
	size_t n = evbuffer_get_length(in);
	uint64_t now = clock_now_ns(), deadline = c->u.t_ns + (uint64_t)c->lg->cfg.echo_timeout_ms * CLOCK_NS_PER_MS;
	uint64_t left_us;
	struct timeval tv;

	if (c->lg->side && c->state == CONN_ECHOING) {
		read_hello(c, bev);
		return;
	}
	if (c->state != CONN_ECHOING || c->matched + n > want) {
		conn_fail(c, DIAG_ECHO_MISMATCH, 0);
		return;
	}
	if (evbuffer_remove(in, got, n) != (int)n || memcmp(got, expect + c->matched, n) != 0) {
		conn_fail(c, DIAG_ECHO_MISMATCH, 0);
		return;
	}
	/* The echo timeout is a deadline from the write, not an idle timeout: libevent restarts its read
	 * timeout at every read, so a server trickling the echo a byte at a time would otherwise never time
	 * out, and an echo seconds past the deadline would count as a success. */
	if (now >= deadline) {
		conn_fail(c, DIAG_ECHO_TIMEOUT, 0);
		return;
	}
	c->matched = (uint8_t)(c->matched + n);
	if (c->matched < want) {
		left_us = (deadline - now) / CLOCK_NS_PER_US + 1;  /* > 0: a zero timeval means no timeout */
		tv = clock_timeval_ns(left_us * CLOCK_NS_PER_US);
		bufferevent_set_timeouts(bev, &tv, &tv);
		return;
	}
	hist_record(&c->lg->st->rtt_us, (now - c->u.t_ns) / CLOCK_NS_PER_US);
	to_hold(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct loadgen *lg = c->lg;
	int e = EVUTIL_SOCKET_ERROR();
	char line[PROTO_MSG_MAX];
	size_t len;
	struct timeval tv;
	enum diag_kind k;

	if ((what & BEV_EVENT_CONNECTED) && c->state == CONN_CONNECTING) {
		uint64_t now = clock_now_ns();

		/* --tls: TCP is up, the TLS handshake next; its own CONNECTED comes back here */
		if (lg->ssl && !lg->ssl[c->slot]) {
			(void)loadgen_tls_start(c, read_cb, event_cb);
			return;
		}
		hist_record(&lg->st->connect_us, (now - c->u.t_ns) / CLOCK_NS_PER_US);
		conn_set_state(c, CONN_ECHOING);
		tv = clock_timeval_ms(lg->cfg.echo_timeout_ms);
		bufferevent_set_timeouts(bev, &tv, &tv);
		len = lg->ops->hello(lg->pcfg, c->id, line, sizeof(line));
		c->u.t_ns = clock_now_ns();
		if (len == 0 || bufferevent_write(bev, line, len) < 0 || bufferevent_enable(bev, EV_READ) < 0) {
			conn_fail(c, DIAG_ENOMEM, ENOMEM);
			return;
		}
		return;
	}
	if (lg->ssl && loadgen_tls_failed(c, bev, what, e))
		return;
	if (what & BEV_EVENT_TIMEOUT)
		k = c->state == CONN_CONNECTING ? DIAG_CONNECT_TIMEOUT : DIAG_ECHO_TIMEOUT;
	else if (lg->side && c->state == CONN_ECHOING && c->matched == 0 &&
		 ((what & BEV_EVENT_EOF) || e == ECONNRESET || e == EPIPE))
		k = DIAG_HANDSHAKE_CLOSED;   /* accepted, then closed without a byte of reply */
	else if (what & BEV_EVENT_EOF)
		k = DIAG_PEER_CLOSED;
	else if (e != 0)
		k = diag_from_errno(e);
	else
		k = DIAG_OTHER;
	conn_fail(c, k, e);
}

/* Wraps a socket whose connect() is under way into a connection: bufferevent (without
 * BEV_OPT_CLOSE_ON_FREE: the fd is closed only in conn_free), connect deadline, slot in the live array.
 * Returns NULL with errno set; the caller still owns fd then. */
static struct conn *conn_new(struct loadgen *lg, int fd, uint64_t index, uint64_t id, uint64_t t0)
{
	struct conn *c;
	struct timeval tv;

	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	c->io.bev = bufferevent_socket_new(lg->base, fd, 0);
	if (!c->io.bev)
		goto nomem;
	c->lg = lg;
	c->u.t_ns = t0;
	c->id = id;
	c->fd = fd;
	c->state = CONN_CONNECTING;
	bufferevent_setcb(c->io.bev, read_cb, NULL, event_cb, c);
	tv = clock_timeval_ms(lg->cfg.connect_timeout_ms);
	bufferevent_set_timeouts(c->io.bev, NULL, &tv);  /* the write timeout covers the connect */
	if (bufferevent_socket_connect(c->io.bev, NULL, 0) < 0)
		goto nomem;
	c->slot = (uint32_t)index;
	if (lg->side) {
		struct proto_side *ps = conn_side(c);

		ps->wr_off = 0;
		lg->ops->rx_init(lg->pcfg, id, ps->st);
	}
	lg->conns[index] = c;
	lg->nconns++;
	lg->in_flight++;
	counter_add(&lg->st->connecting, 1);
	return c;
nomem:
	if (c && c->io.bev)
		bufferevent_free(c->io.bev);
	free(c);
	errno = ENOMEM;
	return NULL;
}

/* Starts attempt number lg->next. Immediate failures are counted here and leave no connection behind. */
static void start_one(struct loadgen *lg)
{
	const struct loadgen_config *cfg = &lg->cfg;
	uint64_t i = lg->next++, id = cfg->id_base + i, t0;
	struct sockaddr_storage sa;
	socklen_t sl;
	struct addr_ip src;
	int fd, one = 1, e;

	counter_add(&lg->st->started, 1);
	fd = socket(cfg->dst.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		loadgen_record_failure(lg, diag_from_errno(e), e, true);
		return;
	}
	if (cfg->sources.count) {
		/* best effort: without it bind() takes a port per source, capping one source at ~28k sockets
		 * (an IPPROTO_IP option that IPv6 sockets honour too) */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		src = addr_nth(&cfg->sources, cfg->source_offset + i);
		sl = addr_sockaddr(&src, 0, &sa);
		if (bind(fd, (struct sockaddr *)&sa, sl) < 0)
			goto fail;
	}
	sl = addr_sockaddr(&cfg->dst, (uint16_t)(cfg->port_base + id % cfg->ports), &sa);
	t0 = clock_now_ns();
	if (connect(fd, (struct sockaddr *)&sa, sl) < 0 && errno != EINPROGRESS)
		goto fail;
	if (!conn_new(lg, fd, i, id, t0))
		goto fail;
	return;
fail:
	e = errno;
	close(fd);
	loadgen_record_failure(lg, diag_from_errno(e), e, true);
}

/* Starts as many connections as tokens, the in-flight cap and a per-iteration batch allow, then arranges
 * to be called again: at once if only the batch limited it, when a token is due if the bucket did. A
 * completion reschedules it too, which covers the in-flight cap. */
void loadgen_pump(struct loadgen *lg)
{
	uint64_t want, n, i, now;

	if (lg->finished)
		return;
	if (lg->next < lg->goal && lg->in_flight < lg->cfg.concurrency) {
		want = lg->goal - lg->next;
		if (want > lg->cfg.concurrency - lg->in_flight)
			want = lg->cfg.concurrency - lg->in_flight;
		if (want > LOADGEN_BATCH)
			want = LOADGEN_BATCH;
		now = clock_now_ns();
		n = tbucket_take(&lg->tb, now, want);
		for (i = 0; i < n; i++)
			start_one(lg);
		if (lg->next < lg->goal) {
			if (n < want)
				loadgen_schedule_pump(lg, tbucket_wait_ns(&lg->tb, clock_now_ns()));
			else if (lg->in_flight < lg->cfg.concurrency)
				loadgen_schedule_pump(lg, 0);
		}
	}
	loadgen_check_progress(lg);
}

void loadgen_pump_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loadgen *lg = arg;

	lg->pump_due_ns = 0;
	loadgen_pump(lg);
}
