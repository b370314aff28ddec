/* Load generator, protocols other than echo (proto.h): the latency phase's writes and replies and the idle
 * hold, through the protocol's table. The shape is loadgen_phase.c's: messages built on the stack from
 * (conn, seq, scheduled time), plain send()/recv() (or its SSL's) on the held connection's one struct
 * event, replies recognised incrementally by the protocol's parser, whose state (and the write offset) is the
 * connection's entry in lg->side. Replies come in order, so reply k is timed from message k's scheduled
 * send time; without pipelining message k+1 waits for reply k, and its wait is in its RTT. */
#include "client/loadgen_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util/clock.h"
#include "common/util/counter.h"
#include "common/util/sbuf.h"

/* Messages c may have written by now: those due, and without pipelining only one beyond the replies. */
static uint32_t write_limit(const struct conn *c)
{
	const struct loadgen *lg = c->lg;
	uint64_t due = sched_conn_due(&lg->sched, c->slot, lg->next_msg);

	if (!lg->ops->pipeline && !lg->pcfg->pipeline && due > (uint64_t)c->u.ph.rd_seq + 1)
		due = (uint64_t)c->u.ph.rd_seq + 1;
	return (uint32_t)due;
}

int loadgen_write_proto(struct conn *c, uint64_t now)
{
	struct loadgen *lg = c->lg;
	struct loadgen_lat *lat = &lg->st->lat;
	struct proto_side *ps = conn_side(c);
	uint32_t limit = write_limit(c);
	struct match_frame f;
	char msg[PROTO_MSG_MAX];
	size_t len;
	uint64_t lag;
	ssize_t n;
	int e;

	while (c->u.ph.wr_seq < limit) {
		loadgen_phase_frame(c, c->u.ph.wr_seq, &f);
		len = lg->ops->msg(lg->pcfg, &f, msg, sizeof(msg));
		if (len == 0 || ps->wr_off >= len) {
			conn_fail(c, DIAG_OTHER, EOVERFLOW);
			return -1;
		}
		n = conn_send(c, msg + ps->wr_off, len - ps->wr_off);
		if (n < 0) {
			e = errno;
			if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)
				break;
			loadgen_io_fail(c, e);
			return -1;
		}
		ps->wr_off += (uint32_t)n;
		if (ps->wr_off < len)
			break;  /* the socket buffer is full */
		ps->wr_off = 0;
		c->u.ph.wr_seq++;
		counter_add(&lat->written, 1);
		lag = now > f.sched_ns ? (now - f.sched_ns) / CLOCK_NS_PER_US : 0;
		counter_max(&lat->send_lag_max_us, lag);
	}
	return loadgen_set_want_write(c, c->u.ph.wr_seq < limit);
}

/* A reply the protocol cannot accept, or one to no message: the first is described, the connection ends. */
static void reply_bad(struct conn *c, const char *what)
{
	struct loadgen_lat *lat = &c->lg->st->lat;

	if (counter_get(&lat->mismatched) == 0)
		snprintf(lat->mismatch_note, sizeof(lat->mismatch_note), "connection %llu message %u: %s",
			 (unsigned long long)c->id, c->u.ph.rd_seq, what);
	counter_add(&lat->mismatched, 1);
	conn_fail(c, DIAG_BAD_REPLY, 0);
}

/* One complete reply, the oldest message's: timed from its scheduled send, or a failed message by code.
 * Returns -1 when the connection ended (the server announced its close). */
static int reply_done(struct conn *c, const struct proto_event *ev, uint64_t now)
{
	struct loadgen *lg = c->lg;
	struct loadgen_lat *lat = &lg->st->lat;
	struct match_frame f;
	uint64_t rtt_ns;

	loadgen_phase_frame(c, c->u.ph.rd_seq, &f);
	c->u.ph.rd_seq++;
	if (ev->code) {
		counter_add(&lat->failed_status, 1);
		loadgen_codes_add(&lg->st->codes, ev->code, 1);
	} else {
		rtt_ns = now > f.sched_ns ? now - f.sched_ns : 0;
		if (rtt_ns > (uint64_t)lg->cfg.reply_timeout_ms * CLOCK_NS_PER_MS) {
			counter_add(&lat->late, 1);
		} else {
			hist_record(&lat->rtt_us, rtt_ns / CLOCK_NS_PER_US);
			counter_add(&lat->answered, 1);
		}
	}
	if (ev->closing) {
		conn_fail(c, DIAG_SERVER_CLOSE, 0);
		return -1;
	}
	return 0;
}

void loadgen_read_proto(struct conn *c)
{
	struct loadgen *lg = c->lg;
	struct proto_side *ps = conn_side(c);
	char buf[LOADGEN_RECV_CHUNK];
	struct proto_event ev;
	enum proto_status s;
	size_t pos = 0, used;
	uint64_t now;
	ssize_t n;

	n = conn_recv(c, buf, sizeof(buf));
	if (n == 0) {
		conn_fail(c, DIAG_PEER_CLOSED, 0);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			loadgen_io_fail(c, errno);
		return;
	}
	now = clock_now_ns();
	while (pos < (size_t)n) {
		s = lg->ops->reply_feed(lg->pcfg, ps->st, buf + pos, (size_t)n - pos, &used, &ev);
		if (s == PROTO_PARTIAL)
			break;
		if (s != PROTO_DONE || used == 0) {
			reply_bad(c, ev.note[0] ? ev.note : "a reply the protocol does not accept");
			return;
		}
		/* a reply may come before its request is complete (an early error), never before it began */
		if (c->u.ph.rd_seq > c->u.ph.wr_seq || (c->u.ph.rd_seq == c->u.ph.wr_seq && ps->wr_off == 0)) {
			reply_bad(c, "a reply beyond every message sent");
			return;
		}
		pos += used;
		if (reply_done(c, &ev, now) < 0)
			return;
	}
	if (!c->want_write)   /* without pipelining the next message waited for this reply */
		(void)loadgen_write_proto(c, now);
}

/* Bytes on a held, idle connection: the protocol's idle_feed may accept them (and answer); without one, or
 * when it refuses them, they are a failure. EOF and errors end the connection. */
void loadgen_idle_proto(struct conn *c)
{
	struct loadgen *lg = c->lg;
	char buf[LOADGEN_RECV_CHUNK], answer[PROTO_MSG_MAX], quoted[4 * PROTO_FIRST_BYTES + 8], note[PROTO_NOTE_LEN];
	struct proto_event ev;
	struct sbuf sb;
	size_t pos = 0, used, alen;
	ssize_t n = conn_recv(c, buf, sizeof(buf));

	if (n == 0) {
		conn_fail(c, DIAG_PEER_CLOSED, 0);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			loadgen_io_fail(c, errno);
		return;
	}
	ev.note[0] = '\0';
	while (pos < (size_t)n && lg->ops->idle_feed) {
		alen = 0;
		if (lg->ops->idle_feed(lg->pcfg, conn_side(c)->st, buf + pos, (size_t)n - pos, &used, answer,
				       sizeof(answer), &alen, &ev) == PROTO_ERROR || used == 0)
			break;
		pos += used;
		if (alen && conn_send(c, answer, alen) != (ssize_t)alen) {
			conn_fail(c, DIAG_OTHER, errno ? errno : EAGAIN);
			return;
		}
	}
	if (pos == (size_t)n)
		return;
	proto_escape(buf + pos, (size_t)n - pos, PROTO_FIRST_BYTES, quoted, sizeof(quoted));
	sbuf_init(&sb, note, sizeof(note));
	if (ev.note[0])   /* the protocol said what was wrong (WS: a close frame, a message while idle) */
		sbuf_printf(&sb, "connection %llu: %s", (unsigned long long)c->id, ev.note);
	else
		sbuf_printf(&sb, "connection %llu: %zd bytes while idle: '%s'", (unsigned long long)c->id,
			    n - (ssize_t)pos, quoted);
	loadgen_note(lg, note);
	conn_fail(c, DIAG_BAD_REPLY, 0);
}

/* The protocol's keepalive (MQTT PINGREQ): every keepalive_ms, on each held connection, one slice of the
 * connections per tick (loadgen_start arms the timer at a LOADGEN_KA_SLICES-th of the period). A socket that
 * cannot take a few bytes on an idle connection is a failure. In a phase a connection gets it too unless it
 * is in the middle of a message or behind (then it is writing anyway): at a low rate per connection a
 * connection may send nothing for longer than the broker waits (1.5 keepalives in MQTT). */
void loadgen_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loadgen *lg = arg;
	char msg[PROTO_MSG_MAX];
	uint64_t i;
	size_t len;
	struct conn *c;

	for (i = lg->ka_slice; i < lg->next; i += LOADGEN_KA_SLICES) {
		c = lg->conns[i];
		if (!c || (c->state != CONN_HOLDING &&
			   (c->state != CONN_ACTIVE || c->want_write || conn_side(c)->wr_off != 0)))
			continue;
		len = lg->ops->keepalive(lg->pcfg, c->id, msg, sizeof(msg));
		if (len && conn_send(c, msg, len) != (ssize_t)len)
			conn_fail(c, errno ? diag_from_errno(errno) : DIAG_OTHER, errno);
	}
	lg->ka_slice = (lg->ka_slice + 1) % LOADGEN_KA_SLICES;
}
