/* Load generator: nonblocking connects through one event_base, one echo check per connection, then hold.
 *
 * The socket is created and connect()ed here rather than by bufferevent_socket_connect(bev, sa) so that
 * (1) a source address can be bound first, with IP_BIND_ADDRESS_NO_PORT so the kernel picks the local port
 * per 4-tuple at connect time instead of reserving one per source at bind time, and (2) an immediate errno
 * from socket()/bind()/connect() (EMFILE, EADDRNOTAVAIL, ENOBUFS ...) is classified exactly instead of
 * being folded into a generic bufferevent error. bufferevent_socket_connect(bev, NULL, 0) then tells
 * libevent 2.1 that the fd is already connecting; an asynchronous error (ECONNREFUSED) arrives in the event
 * callback, where libevent has put SO_ERROR into errno (EVUTIL_SOCKET_ERROR()).
 *
 * Memory: a connection is one struct conn (48 bytes) with one owner, the loadgen's array of connections
 * indexed by attempt number, and is freed only in conn_free(). While connecting and echoing it owns a
 * bufferevent; once the echo is verified the bufferevent (and its two evbuffers) is released and a bare
 * struct event watches the socket for EOF or error only, which is all a held connection needs.
 *
 * Latency phase: the same struct event, reassigned to EV_READ|EV_WRITE only while a connection has frames
 * it could not write yet, and plain send()/recv(): frames are built on the stack from (conn, seq, scheduled
 * time), and replies are compared against the rebuilt frame (match.h), so the phase adds no per-connection
 * allocation at all; its per-connection state (write and read positions) shares the struct conn's bytes
 * with the connect-time timestamp. One timer per process fires every LOADGEN_TICK_MS and writes every
 * message that has come due (sched.h), however many connections there are.
 *
 * Re-entrancy: callbacks never start new connections themselves; they schedule the pump event. So a fd
 * closed in a callback is never reused by a new socket before libevent has dropped the old bufferevent's
 * events, and an immediate failure storm (EMFILE on every socket()) cannot recurse. */
#include "client/loadgen.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/util.h>

#include "common/util/clock.h"
#include "common/util/counter.h"
#include "common/sys/procfs.h"
#include "client/tbucket.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum conn_state {
	CONN_CONNECTING,  /* connect() issued, handshake pending; owns a bufferevent */
	CONN_ECHOING,     /* line written, echo pending; owns a bufferevent */
	CONN_HOLDING,     /* echo verified; owns a read-only struct event */
	CONN_ACTIVE,      /* in a latency phase: owns the struct event, read (and write while behind) */
};

struct conn {
	struct loadgen *lg;          /* owner */
	union {
		struct bufferevent *bev; /* CONNECTING, ECHOING */
		struct event *ev;        /* HOLDING, ACTIVE */
	} io;
	union {
		uint64_t t_ns;           /* CONNECTING, ECHOING: connect() time, then when the line was written */
		struct {
			uint32_t wr_seq; /* frames of this phase written completely */
			uint32_t rd_seq; /* replies matched completely (struct match_rx.seq) */
		} ph;                    /* ACTIVE */
	} u;
	uint64_t id;                 /* n of the line sent; the conn field of the phase's frames */
	uint32_t slot;               /* attempt number: index in lg->conns, local connection of the phase */
	int fd;                      /* the socket; closed only in conn_free */
	uint8_t state;               /* enum conn_state */
	uint8_t matched;             /* ECHOING: echo bytes verified; ACTIVE: bytes of reply rd_seq matched */
	uint8_t wr_off;              /* ACTIVE: bytes of frame wr_seq written */
	uint8_t want_write;          /* ACTIVE: the event also waits for EV_WRITE */
};

/* The phase's state lives in the bytes the connect timestamp no longer needs: no growth per connection. */
_Static_assert(sizeof(struct conn) == 48, "struct conn is 48 bytes on LP64");

struct loadgen {
	struct event_base *base;     /* not owned */
	struct loadgen_config cfg;
	struct loadgen_stats *st;    /* not owned; possibly shared memory */
	struct tbucket tb;
	struct event *pump_ev;       /* timer: start more connections */
	struct event *hold_ev;       /* timer: end of the hold */
	struct event *ctl_ev;        /* latency: poll of the shared control, every LOADGEN_CTL_POLL_MS */
	struct event *tick_ev;       /* latency: the send timer, armed for the next message's time (see phase_arm) */
	struct conn **conns;         /* by attempt number [0, next); NULL = failed or closed */
	uint64_t nconns;             /* live connections */
	uint64_t next;               /* attempts started so far */
	uint64_t goal;               /* attempts of the current step (cfg.target without a latency phase) */
	uint64_t in_flight;          /* CONNECTING + ECHOING */
	uint64_t pump_due_ns;        /* when pump_ev fires, 0 = not pending */
	int reserve_fd;              /* /dev/null, released so kstate_read can open files at EMFILE */
	struct procfs_rss rss;       /* resident memory, for the phase's bytes per connection */
	bool ramp_over;              /* every attempt of the step resolved */
	bool finished;               /* everything closed */
	/* latency phase */
	uint32_t step;               /* step being worked on, 0 = none yet */
	bool phase_on;               /* between phase_begin and phase_end */
	struct sched sched;          /* the running phase's schedule */
	uint64_t t0;                 /* its start, clock_now_ns() */
	uint64_t next_msg;           /* local messages scheduled so far */
	uint64_t deadline_ns;        /* end of the straggler wait */
};

void loadgen_stats_init(struct loadgen_stats *st, uint64_t target)
{
	memset(st, 0, sizeof(*st));
	counter_set(&st->target, target);
	counter_set32(&st->workers, 1);
	hist_init(&st->connect_us);
	hist_init(&st->rtt_us);
	loadgen_lat_init(&st->lat);
}

void loadgen_stats_init_sum(struct loadgen_stats *acc)
{
	loadgen_stats_init(acc, 0);
	counter_set32(&acc->workers, 0);
}

/* Merge rules for times: the earliest that is set, and the latest, or 0 while any is not there yet. */
static void merge_earliest(_Atomic uint64_t *dst, uint64_t v)
{
	uint64_t have = counter_get(dst);

	if (v && (have == 0 || v < have))
		counter_set(dst, v);
}

static void merge_latest(_Atomic uint64_t *dst, uint64_t v, bool first)
{
	uint64_t have = counter_get(dst);

	counter_set(dst, first ? v : (v == 0 || have == 0 ? 0 : (v > have ? v : have)));
}

static void merge_least32(_Atomic uint32_t *dst, uint32_t v, bool first)
{
	if (first || v < counter_get32(dst))
		counter_set32(dst, v);
}

static void merge_workers(_Atomic uint32_t *dst, const _Atomic uint32_t *src)
{
	uint32_t w = counter_get32(src);

	counter_set32(dst, counter_get32(dst) + (w ? w : 1));
}

/* The kernel's numbers at the first failure of kind k: the earliest first failure's, else any. */
static void merge_failure(struct loadgen_stats *dst, const struct loadgen_stats *src, unsigned k)
{
	uint64_t b = counter_get(&src->first_fail_ns[k]), a = counter_get(&dst->first_fail_ns[k]);
	bool earlier = b && (a == 0 || b < a);

	counter_add(&dst->failures[k], counter_get(&src->failures[k]));
	if (earlier)
		counter_set(&dst->first_fail_ns[k], b);
	if ((earlier || !counter_get32(&dst->snap_valid[k])) && counter_acquire32(&src->snap_valid[k])) {
		dst->snap[k] = src->snap[k];
		counter_set32(&dst->snap_valid[k], 1);
	}
}

void loadgen_stats_merge(struct loadgen_stats *dst, const struct loadgen_stats *src)
{
	unsigned k;
	bool first = counter_get32(&dst->workers) == 0;

	counter_add(&dst->target, counter_get(&src->target));
	counter_add(&dst->started, counter_get(&src->started));
	counter_add(&dst->connecting, counter_get(&src->connecting));
	counter_add(&dst->echoing, counter_get(&src->echoing));
	counter_add(&dst->open, counter_get(&src->open));
	counter_add(&dst->established, counter_get(&src->established));
	counter_add(&dst->echoed, counter_get(&src->echoed));
	counter_add(&dst->failed, counter_get(&src->failed));
	counter_add(&dst->failed_immediate, counter_get(&src->failed_immediate));
	for (k = 0; k < DIAG_KIND_COUNT; k++)
		merge_failure(dst, src, k);
	if (counter_get_i32(&dst->other_errno) == 0)
		counter_set_i32(&dst->other_errno, counter_get_i32(&src->other_errno));
	if (counter_get_i32(&dst->stop_signal) == 0)
		counter_set_i32(&dst->stop_signal, counter_get_i32(&src->stop_signal));
	/* phase: the least advanced process; start: the earliest; ramp end and end: the latest, or 0 while
	 * any process is not there yet */
	merge_least32(&dst->phase, counter_get32(&src->phase), first);
	merge_earliest(&dst->start_ns, counter_get(&src->start_ns));
	merge_latest(&dst->ramp_end_ns, counter_get(&src->ramp_end_ns), first);
	merge_latest(&dst->end_ns, counter_get(&src->end_ns), first);
	merge_workers(&dst->workers, &src->workers);
	counter_set_i32(&dst->pid, 0);
	hist_merge(&dst->connect_us, &src->connect_us);
	hist_merge(&dst->rtt_us, &src->rtt_us);
	loadgen_lat_merge(&dst->lat, &src->lat);
}

void loadgen_lat_init(struct loadgen_lat *l)
{
	memset(l, 0, sizeof(*l));
	hist_init(&l->rtt_us);
}

void loadgen_lat_merge(struct loadgen_lat *dst, const struct loadgen_lat *src)
{
	bool first = counter_get32(&dst->workers) == 0;

	merge_least32(&dst->step, counter_acquire32(&src->step), first);
	merge_least32(&dst->state, counter_acquire32(&src->state), first);
	counter_add(&dst->conns, counter_get(&src->conns));
	counter_add(&dst->held, counter_get(&src->held));
	counter_add(&dst->sent, counter_get(&src->sent));
	counter_add(&dst->written, counter_get(&src->written));
	counter_add(&dst->answered, counter_get(&src->answered));
	counter_add(&dst->late, counter_get(&src->late));
	counter_add(&dst->lost, counter_get(&src->lost));
	counter_add(&dst->mismatched, counter_get(&src->mismatched));
	counter_add(&dst->rss_base_bytes, counter_get(&src->rss_base_bytes));
	counter_add(&dst->rss_bytes, counter_get(&src->rss_bytes));
	counter_max(&dst->send_lag_max_us, counter_get(&src->send_lag_max_us));
	merge_earliest(&dst->start_ns, counter_get(&src->start_ns));
	merge_latest(&dst->end_ns, counter_get(&src->end_ns), first);
	if (dst->mismatch_note[0] == '\0' && counter_get(&src->mismatched) > 0) {
		memcpy(dst->mismatch_note, src->mismatch_note, sizeof(dst->mismatch_note));
		dst->mismatch_note[sizeof(dst->mismatch_note) - 1] = '\0';
	}
	merge_workers(&dst->workers, &src->workers);
	hist_merge(&dst->rtt_us, &src->rtt_us);
}

uint64_t loadgen_lat_in_flight(const struct loadgen_lat *l)
{
	uint64_t done = counter_get(&l->answered) + counter_get(&l->late) + counter_get(&l->lost);
	uint64_t sent = counter_get(&l->sent);

	return sent > done ? sent - done : 0;
}

static uint64_t share(uint64_t total, unsigned parts, unsigned index)
{
	return total / parts + (index < total % parts ? 1 : 0);
}

void loadgen_split(const struct loadgen_config *all, unsigned workers, unsigned index, struct loadgen_config *out)
{
	uint64_t per = all->target / workers, rest = all->target % workers, s = all->sources.count;

	*out = *all;
	out->workers = workers;
	out->index = index;
	out->target = share(all->target, workers, index);
	out->id_base = all->id_base + index * per + (index < rest ? index : rest);
	if (all->rate) {
		out->rate = share(all->rate, workers, index);
		if (out->rate == 0)
			out->rate = 1;
	}
	out->concurrency = (unsigned)share(all->concurrency, workers, index);
	if (out->concurrency == 0)
		out->concurrency = 1;
	if (s >= workers) {
		uint64_t lo = s * index / workers, hi = s * (index + 1) / workers;

		out->sources.first = all->sources.first + (uint32_t)lo;
		out->sources.count = (uint32_t)(hi - lo);
		out->source_offset = 0;
	} else if (s > 0) {
		out->source_offset = all->source_offset + index;
	}
}

size_t loadgen_format_line(uint64_t n, char *buf, size_t len)
{
	int r = snprintf(buf, len, "Hello Server: client --> %llu\n", (unsigned long long)n);

	return r < 0 ? 0 : (size_t)r;
}

bool loadgen_success(const struct loadgen_stats *st)
{
	uint64_t target = counter_get(&st->target);

	return target > 0 && counter_get(&st->echoed) == target && counter_get(&st->failed) == 0;
}

static void schedule_pump(struct loadgen *lg, uint64_t delay_ns)
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

/* Takes the snapshot of the moving kernel numbers at the first failure of a kind, when counters such as
 * nf_conntrack_count or ListenOverflows still describe what went wrong. The reserve fd is released first
 * because at EMFILE the reader could not open /proc otherwise. */
static void capture_context(struct loadgen *lg, enum diag_kind k)
{
	if (lg->reserve_fd >= 0) {
		close(lg->reserve_fd);
		lg->reserve_fd = -1;
	}
	kstate_read(&lg->st->snap[k]);
	counter_publish32(&lg->st->snap_valid[k], 1);
	lg->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void record_failure(struct loadgen *lg, enum diag_kind k, int e, bool immediate)
{
	struct loadgen_stats *st = lg->st;

	if (k >= DIAG_KIND_COUNT)
		k = DIAG_OTHER;
	counter_add(&st->failed, 1);
	if (immediate)
		counter_add(&st->failed_immediate, 1);
	counter_add(&st->failures[k], 1);
	if (k == DIAG_OTHER && counter_get_i32(&st->other_errno) == 0)
		counter_set_i32(&st->other_errno, e);
	if (counter_get(&st->first_fail_ns[k]) == 0) {
		counter_set(&st->first_fail_ns[k], clock_now_ns());
		capture_context(lg, k);
	}
}

static void finish(struct loadgen *lg);
static void phase_end(struct loadgen *lg, uint64_t now);
static void pump(struct loadgen *lg);

static bool latency_mode(const struct loadgen *lg)
{
	return lg->cfg.ctl != NULL;
}

static void publish_state(struct loadgen *lg, enum loadgen_step_state s)
{
	counter_publish32(&lg->st->lat.state, (uint32_t)s);
}

/* Called whenever an attempt resolves: decides the end of the ramp and of the hold. In a latency phase
 * the end of a step's ramp is published as READY instead, and the coordinator decides what follows. */
static void check_progress(struct loadgen *lg)
{
	struct timeval tv;

	if (lg->finished)
		return;
	if (latency_mode(lg)) {
		if (lg->step == 0 || lg->ramp_over || lg->next < lg->goal || lg->in_flight > 0)
			return;
		lg->ramp_over = true;
		counter_set(&lg->st->ramp_end_ns, clock_now_ns());
		counter_set32(&lg->st->phase, LOADGEN_HOLD);
		publish_state(lg, LOADGEN_STEP_READY);
		return;
	}
	if (!lg->ramp_over) {
		if (lg->next < lg->goal || lg->in_flight > 0)
			return;
		lg->ramp_over = true;
		counter_set(&lg->st->ramp_end_ns, clock_now_ns());
		counter_set32(&lg->st->phase, LOADGEN_HOLD);
		if (lg->cfg.hold_ms > 0 && lg->nconns > 0) {
			/* with a shared deadline, look at it at once */
			tv = clock_timeval_ms(lg->cfg.hold_until_ns ? 0 : lg->cfg.hold_ms);
			event_add(lg->hold_ev, &tv);
		}
	}
	/* nothing left to hold: done (also when the server closed every held connection) */
	if (lg->nconns == 0)
		finish(lg);
}

static void conn_set_state(struct conn *c, enum conn_state to)
{
	struct loadgen_stats *st = c->lg->st;

	if (c->state == CONN_CONNECTING && to == CONN_ECHOING) {
		counter_sub(&st->connecting, 1);
		counter_add(&st->echoing, 1);
		counter_add(&st->established, 1);
	} else if (c->state == CONN_ECHOING && to == CONN_HOLDING) {
		counter_sub(&st->echoing, 1);
		counter_add(&st->open, 1);
		counter_add(&st->echoed, 1);
		c->lg->in_flight--;
	} else if (c->state == CONN_HOLDING && to == CONN_ACTIVE) {
		c->u.ph.wr_seq = 0;
		c->u.ph.rd_seq = 0;
		c->matched = 0;
		c->wr_off = 0;
		c->want_write = 0;
	} else if (c->state == CONN_ACTIVE && to == CONN_HOLDING) {
		c->u.t_ns = 0;
	} else {
		abort();  /* no other transition exists */
	}
	c->state = (uint8_t)to;
}

/* The one place a connection is freed: gauges, libevent objects, the fd, the array. A connection that dies
 * in a phase takes its unanswered messages with it: they are lost. */
static void conn_free(struct conn **cp)
{
	struct conn *c = *cp;
	struct loadgen *lg;
	uint64_t due;

	if (!c)
		return;
	lg = c->lg;
	switch (c->state) {
	case CONN_CONNECTING:
		counter_sub(&lg->st->connecting, 1);
		lg->in_flight--;
		bufferevent_free(c->io.bev);
		break;
	case CONN_ECHOING:
		counter_sub(&lg->st->echoing, 1);
		lg->in_flight--;
		bufferevent_free(c->io.bev);
		break;
	case CONN_ACTIVE:
		due = sched_conn_due(&lg->sched, c->slot, lg->next_msg);
		if (due > c->u.ph.rd_seq)
			counter_add(&lg->st->lat.lost, due - c->u.ph.rd_seq);
		/* fall through */
	case CONN_HOLDING:
		counter_sub(&lg->st->open, 1);
		event_free(c->io.ev);
		break;
	}
	close(c->fd);
	lg->conns[c->slot] = NULL;
	lg->nconns--;
	free(c);
	*cp = NULL;
}

static void conn_fail(struct conn *c, enum diag_kind k, int e)
{
	struct loadgen *lg = c->lg;

	record_failure(lg, k, e, false);
	conn_free(&c);
	schedule_pump(lg, 0);
	check_progress(lg);
}

/* ---- latency phase: one connection ---- */

static void io_cb(evutil_socket_t fd, short what, void *arg);

/* The frame numbered seq of connection c in the running phase. */
static void phase_frame(const struct conn *c, uint32_t seq, struct match_frame *f)
{
	const struct loadgen *lg = c->lg;

	f->conn = c->id;
	f->seq = seq;
	f->sched_ns = lg->t0 + sched_local_offset_ns(&lg->sched, sched_local_index(&lg->sched, c->slot, seq));
}

/* Adds or removes EV_WRITE. The event is re-assigned in place (same struct event, no allocation).
 * Returns -1 (connection freed) if libevent refuses. */
static int set_want_write(struct conn *c, bool want)
{
	short what = EV_READ | EV_PERSIST | (want ? EV_WRITE : 0);

	if (c->want_write == (uint8_t)want)
		return 0;
	event_del(c->io.ev);
	if (event_assign(c->io.ev, c->lg->base, c->fd, what, io_cb, c) < 0 || event_add(c->io.ev, NULL) < 0) {
		conn_fail(c, DIAG_ENOMEM, ENOMEM);
		return -1;
	}
	c->want_write = (uint8_t)want;
	return 0;
}

/* Writes every frame of c that has come due, as far as the socket takes them; waits for EV_WRITE while
 * some are left. Returns -1 if the connection failed (and was freed). */
static int conn_write(struct conn *c, uint64_t now)
{
	struct loadgen *lg = c->lg;
	struct loadgen_lat *lat = &lg->st->lat;
	uint64_t due = sched_conn_due(&lg->sched, c->slot, lg->next_msg), lag;
	struct match_frame f;
	char frame[MATCH_FRAME_LEN];
	ssize_t n;
	int e;

	while (c->u.ph.wr_seq < due) {
		phase_frame(c, c->u.ph.wr_seq, &f);
		if (match_format(&f, frame) < 0) {
			conn_fail(c, DIAG_OTHER, EOVERFLOW);
			return -1;
		}
		n = send(c->fd, frame + c->wr_off, MATCH_FRAME_LEN - c->wr_off, MSG_NOSIGNAL);
		if (n < 0) {
			e = errno;
			if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)
				break;
			conn_fail(c, diag_from_errno(e), e);
			return -1;
		}
		c->wr_off = (uint8_t)(c->wr_off + n);
		if (c->wr_off < MATCH_FRAME_LEN)
			break;  /* the socket buffer is full */
		c->wr_off = 0;
		c->u.ph.wr_seq++;
		counter_add(&lat->written, 1);
		lag = now > f.sched_ns ? (now - f.sched_ns) / CLOCK_NS_PER_US : 0;
		counter_max(&lat->send_lag_max_us, lag);
	}
	return set_want_write(c, c->u.ph.wr_seq < due);
}

/* Reads replies and matches them against the frames sent, in order. A reply counts from its frame's
 * scheduled time, so time the frame spent waiting to be written is in the RTT too. */
static void conn_read_phase(struct conn *c)
{
	struct loadgen *lg = c->lg;
	struct loadgen_lat *lat = &lg->st->lat;
	char buf[LOADGEN_RECV_CHUNK];
	struct match_frame f;
	struct match_rx rx;
	enum match_status ms;
	uint64_t now, rtt_ns, sent_bytes;
	size_t pos = 0, used;
	ssize_t n;

	n = recv(c->fd, buf, sizeof(buf), 0);
	if (n == 0) {
		conn_fail(c, DIAG_PEER_CLOSED, 0);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_fail(c, diag_from_errno(errno), errno);
		return;
	}
	now = clock_now_ns();
	while (pos < (size_t)n) {
		rx.seq = c->u.ph.rd_seq;
		rx.off = c->matched;
		phase_frame(c, rx.seq, &f);
		sent_bytes = (uint64_t)c->u.ph.wr_seq * MATCH_FRAME_LEN + c->wr_off;
		ms = match_feed(&rx, &f, sent_bytes, buf + pos, (size_t)n - pos, &used);
		if (ms == MATCH_MISMATCH || ms == MATCH_EXTRA) {
			if (counter_get(&lat->mismatched) == 0) {
				if (ms == MATCH_MISMATCH)
					match_explain(&f, c->matched + (unsigned)used, (unsigned char)buf[pos + used],
						      lat->mismatch_note, sizeof(lat->mismatch_note));
				else
					snprintf(lat->mismatch_note, sizeof(lat->mismatch_note),
						 "connection %llu: %zu reply bytes beyond everything sent",
						 (unsigned long long)c->id, (size_t)n - pos - used);
			}
			counter_add(&lat->mismatched, 1);
			conn_fail(c, DIAG_ECHO_MISMATCH, 0);
			return;
		}
		c->u.ph.rd_seq = rx.seq;
		c->matched = rx.off;
		pos += used;
		if (ms == MATCH_FRAME) {
			rtt_ns = now > f.sched_ns ? now - f.sched_ns : 0;
			if (rtt_ns > (uint64_t)lg->cfg.reply_timeout_ms * CLOCK_NS_PER_MS) {
				counter_add(&lat->late, 1);
			} else {
				hist_record(&lat->rtt_us, rtt_ns / CLOCK_NS_PER_US);
				counter_add(&lat->answered, 1);
			}
		}
	}
}

/* The held connection's event: in a phase replies and writability, otherwise any byte or EOF is a
 * failure (the server has nothing to say to an idle connection). */
static void io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char buf[64];
	ssize_t n;

	if (c->state == CONN_ACTIVE) {
		if ((what & EV_WRITE) && conn_write(c, clock_now_ns()) < 0)
			return;
		if (what & EV_READ)
			conn_read_phase(c);
		return;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n > 0)              /* the server sent more than the echo */
		conn_fail(c, DIAG_ECHO_MISMATCH, 0);
	else if (n == 0)
		conn_fail(c, DIAG_PEER_CLOSED, 0);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		conn_fail(c, diag_from_errno(errno), errno);
}

/* ---- latency phase: the process ---- */

/* Arms the send timer for the next local message's scheduled time, but at least LOADGEN_TICK_MS ahead so
 * that a busy process sends in batches; after the last message, every LOADGEN_TAIL_POLL_MS until the
 * replies are in or the straggler deadline. A fixed 1 ms tick would wake each of the ~50 client processes
 * of a 1M run 1,000 times a second even when its share of the rate is a few hundred messages. */
static void phase_arm(struct loadgen *lg, uint64_t now)
{
	uint64_t at, wait;
	struct timeval tv;

	if (lg->next_msg < lg->sched.local_total) {
		at = lg->t0 + sched_local_offset_ns(&lg->sched, lg->next_msg);
	} else {
		at = now + LOADGEN_TAIL_POLL_MS * CLOCK_NS_PER_MS;
		if (at > lg->deadline_ns)
			at = lg->deadline_ns;
	}
	wait = at > now ? at - now : 0;
	if (wait < LOADGEN_TICK_MS * CLOCK_NS_PER_MS)
		wait = LOADGEN_TICK_MS * CLOCK_NS_PER_MS;
	tv = clock_timeval_ns(wait);
	event_add(lg->tick_ev, &tv);
}

/* Schedules every message that has come due (at most LOADGEN_SEND_BATCH per tick) and ends the phase
 * when all are scheduled and answered, or at the straggler deadline. A message whose connection is gone
 * is counted as sent and lost at its scheduled time, so sent always equals the schedule. */
static void phase_tick(struct loadgen *lg)
{
	struct loadgen_lat *lat = &lg->st->lat;
	uint64_t now = clock_now_ns(), due, limit, j;
	struct conn *c;

	due = now >= lg->t0 ? sched_due(&lg->sched, now - lg->t0) : 0;
	limit = lg->next_msg + LOADGEN_SEND_BATCH;
	if (due > limit)
		due = limit;
	while (lg->next_msg < due) {
		j = lg->next_msg++;
		counter_add(&lat->sent, 1);
		c = lg->conns[sched_conn_of(&lg->sched, j)];
		if (!c || c->state != CONN_ACTIVE) {
			counter_add(&lat->lost, 1);
			continue;
		}
		if (!c->want_write)   /* else it is behind and writes its backlog when writable */
			conn_write(c, now);
	}
	if (lg->next_msg == lg->sched.local_total &&
	    (loadgen_lat_in_flight(lat) == 0 || now >= lg->deadline_ns))
		phase_end(lg, now);
	else
		phase_arm(lg, now);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	phase_tick(arg);
}

static void phase_begin(struct loadgen *lg, uint64_t t0)
{
	struct loadgen_lat *lat = &lg->st->lat;
	uint64_t conns = counter_get(&lg->cfg.ctl->step_conns), i, held = 0;
	uint64_t rate = counter_get(&lg->cfg.ctl->msg_rate);
	unsigned workers = lg->cfg.workers ? lg->cfg.workers : 1;

	if (sched_init(&lg->sched, rate ? rate : lg->cfg.msg_rate, lg->cfg.duration_ms, conns, workers,
		       lg->cfg.index) < 0)
		memset(&lg->sched, 0, sizeof(lg->sched));  /* refused by the options already; sends nothing */
	lg->t0 = t0;
	lg->next_msg = 0;
	lg->deadline_ns = t0 + lg->cfg.duration_ms * CLOCK_NS_PER_MS +
			  (uint64_t)lg->cfg.reply_timeout_ms * CLOCK_NS_PER_MS;
	for (i = 0; i < lg->sched.local_conns && i < lg->next; i++)
		if (lg->conns[i]) {
			conn_set_state(lg->conns[i], CONN_ACTIVE);
			held++;
		}
	counter_set(&lat->conns, lg->sched.local_conns);
	counter_set(&lat->held, held);
	counter_set(&lat->start_ns, t0);
	lg->phase_on = true;
	publish_state(lg, LOADGEN_STEP_RUN);
	phase_tick(lg);
}

/* Closes connections that still owe replies (their messages are lost; the failure is an echo timeout),
 * returns the others to idle holding, and publishes DONE. */
static void phase_end(struct loadgen *lg, uint64_t now)
{
	struct loadgen_lat *lat = &lg->st->lat;
	uint64_t i, due;
	struct conn *c;

	event_del(lg->tick_ev);
	for (i = 0; i < lg->sched.local_conns && i < lg->next; i++) {
		c = lg->conns[i];
		if (!c || c->state != CONN_ACTIVE)
			continue;
		due = sched_conn_due(&lg->sched, i, lg->next_msg);
		if (c->u.ph.rd_seq < due) {
			conn_fail(c, DIAG_ECHO_TIMEOUT, 0);
			continue;
		}
		if (set_want_write(c, false) < 0)
			continue;
		conn_set_state(c, CONN_HOLDING);
	}
	lg->phase_on = false;
	counter_set(&lat->rss_bytes, procfs_rss_bytes(&lg->rss));
	counter_set(&lat->end_ns, now);
	publish_state(lg, LOADGEN_STEP_DONE);
}

/* A new step: zero the step's results, ramp to this process's share of the step's connections. */
static void begin_step(struct loadgen *lg, uint32_t step)
{
	struct loadgen_lat *lat = &lg->st->lat;
	uint64_t conns = counter_get(&lg->cfg.ctl->step_conns), rss_base;
	unsigned workers = lg->cfg.workers ? lg->cfg.workers : 1;
	uint64_t goal = sched_share(conns, workers, lg->cfg.index);

	rss_base = counter_get(&lat->rss_base_bytes);
	/* the supervisor reads lat only after this process has published the new step below */
	loadgen_lat_init(lat);
	counter_set(&lat->rss_base_bytes, rss_base);
	publish_state(lg, LOADGEN_STEP_RAMP);
	counter_publish32(&lat->step, step);
	lg->step = step;
	lg->goal = goal < lg->cfg.target ? goal : lg->cfg.target;
	lg->ramp_over = false;
	counter_set32(&lg->st->phase, LOADGEN_RAMP);
	pump(lg);
}

/* Follows the coordinator: a new step, the start time of the current one, the end of all steps. */
static void ctl_poll(struct loadgen *lg)
{
	const struct loadgen_ctl *ctl = lg->cfg.ctl;
	uint32_t step = counter_acquire32(&ctl->step);
	uint32_t state = counter_get32(&lg->st->lat.state);
	uint64_t t0, until;

	if (lg->finished || lg->phase_on)
		return;
	if (step > lg->step) {
		begin_step(lg, step);
		return;
	}
	if (step == 0)
		return;
	/* The end can also come while READY: the coordinator skips a phase when no connection is held. */
	if (state >= LOADGEN_STEP_READY && counter_acquire32(&ctl->end)) {
		until = lg->cfg.hold_until_ns ? counter_acquire(lg->cfg.hold_until_ns) : 1;
		if (until && clock_now_ns() >= until)
			finish(lg);
		return;
	}
	if (state == LOADGEN_STEP_READY) {
		t0 = counter_acquire(&ctl->start_ns);
		if (t0)
			phase_begin(lg, t0);
	}
}

static void ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	ctl_poll(arg);
}

/* ---- ramp ---- */

/* After the echo the bufferevent is released; a held connection needs only a bare struct event. */
static void to_hold(struct conn *c)
{
	struct loadgen *lg = c->lg;
	struct event *ev;

	/* The bufferevent is freed without closing the fd (no BEV_OPT_CLOSE_ON_FREE); its events leave the
	 * event map when this callback returns, while the new event already watches the same fd. */
	ev = event_new(lg->base, c->fd, EV_READ | EV_PERSIST, io_cb, c);
	if (!ev || event_add(ev, NULL) < 0) {
		if (ev)
			event_free(ev);
		conn_fail(c, DIAG_ENOMEM, ENOMEM);
		return;
	}
	bufferevent_free(c->io.bev);
	conn_set_state(c, CONN_HOLDING);
	c->io.ev = ev;
	schedule_pump(lg, 0);
	check_progress(lg);
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
	char line[LOADGEN_LINE_MAX];
	size_t len;
	struct timeval tv;
	enum diag_kind k;

	if ((what & BEV_EVENT_CONNECTED) && c->state == CONN_CONNECTING) {
		uint64_t now = clock_now_ns();

		hist_record(&lg->st->connect_us, (now - c->u.t_ns) / CLOCK_NS_PER_US);
		conn_set_state(c, CONN_ECHOING);
		tv = clock_timeval_ms(lg->cfg.echo_timeout_ms);
		bufferevent_set_timeouts(bev, &tv, &tv);
		len = loadgen_format_line(c->id, line, sizeof(line));
		c->u.t_ns = clock_now_ns();
		if (bufferevent_write(bev, line, len) < 0 || bufferevent_enable(bev, EV_READ) < 0) {
			conn_fail(c, DIAG_ENOMEM, ENOMEM);
			return;
		}
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		k = c->state == CONN_CONNECTING ? DIAG_CONNECT_TIMEOUT : DIAG_ECHO_TIMEOUT;
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
	struct sockaddr_in sa;
	int fd, one = 1, e;

	counter_add(&lg->st->started, 1);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		record_failure(lg, diag_from_errno(e), e, true);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (cfg->sources.count) {
		/* best effort: without it bind() takes a port per source, capping one source at ~28k sockets */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		sa.sin_addr = addr_nth(&cfg->sources, cfg->source_offset + i);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	}
	sa.sin_addr.s_addr = htonl(cfg->dst_addr);
	sa.sin_port = htons((uint16_t)(cfg->port_base + id % cfg->ports));
	t0 = clock_now_ns();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		goto fail;
	if (!conn_new(lg, fd, i, id, t0))
		goto fail;
	return;
fail:
	e = errno;
	close(fd);
	record_failure(lg, diag_from_errno(e), e, true);
}

/* Starts as many connections as tokens, the in-flight cap and a per-iteration batch allow, then arranges
 * to be called again: at once if only the batch limited it, when a token is due if the bucket did. A
 * completion reschedules it too, which covers the in-flight cap. */
static void pump(struct loadgen *lg)
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
				schedule_pump(lg, tbucket_wait_ns(&lg->tb, clock_now_ns()));
			else if (lg->in_flight < lg->cfg.concurrency)
				schedule_pump(lg, 0);
		}
	}
	check_progress(lg);
}

static void pump_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loadgen *lg = arg;

	lg->pump_due_ns = 0;
	pump(lg);
}

/* End of the hold. With a shared deadline it polls until the supervisor has set it (every
 * LOADGEN_HOLD_POLL_MS), then sleeps until it. */
static void hold_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loadgen *lg = arg;
	uint64_t until, now, wait_ns;
	struct timeval tv;

	if (!lg->cfg.hold_until_ns) {
		finish(lg);
		return;
	}
	until = counter_acquire(lg->cfg.hold_until_ns);
	now = clock_now_ns();
	if (until != 0 && now >= until) {
		finish(lg);
		return;
	}
	wait_ns = until ? until - now : LOADGEN_HOLD_POLL_MS * CLOCK_NS_PER_MS;
	tv = clock_timeval_ns(wait_ns);
	event_add(lg->hold_ev, &tv);
}

/* Frees every live connection; a phase's unanswered messages are counted lost by conn_free. */
static void free_all(struct loadgen *lg)
{
	uint64_t i;

	for (i = 0; i < lg->next && lg->nconns > 0; i++) {
		struct conn *c = lg->conns[i];

		conn_free(&c);
	}
}

static void finish(struct loadgen *lg)
{
	if (lg->finished)
		return;
	lg->finished = true;
	if (!lg->ramp_over) {
		lg->ramp_over = true;
		counter_set(&lg->st->ramp_end_ns, clock_now_ns());
	}
	event_del(lg->pump_ev);
	event_del(lg->hold_ev);
	if (lg->ctl_ev)
		event_del(lg->ctl_ev);
	free_all(lg);
	if (lg->phase_on) {  /* stopped by a signal in a phase */
		lg->phase_on = false;
		event_del(lg->tick_ev);
		counter_set(&lg->st->lat.end_ns, clock_now_ns());
	}
	counter_set(&lg->st->end_ns, clock_now_ns());
	counter_set32(&lg->st->phase, LOADGEN_DONE);
	event_base_loopexit(lg->base, NULL);
}

struct event_base *loadgen_base_new(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (!ec)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

struct loadgen *loadgen_new(struct event_base *base, const struct loadgen_config *cfg, struct loadgen_stats *st,
			    char *err, size_t errlen)
{
	struct loadgen *lg;
	uint64_t burst;

	if (cfg->target == 0 || cfg->ports == 0 || cfg->concurrency == 0 ||
	    cfg->port_base + cfg->ports - 1 > 65535 ||
	    (cfg->ctl && (cfg->msg_rate == 0 || cfg->duration_ms == 0 || cfg->reply_timeout_ms == 0))) {
		snprintf(err, errlen, "loadgen: bad configuration (target %llu, ports %u..+%u, concurrency %u)",
			 (unsigned long long)cfg->target, cfg->port_base, cfg->ports, cfg->concurrency);
		return NULL;
	}
	lg = calloc(1, sizeof(*lg));
	if (!lg)
		goto nomem;
	lg->base = base;
	lg->cfg = *cfg;
	lg->st = st;
	lg->reserve_fd = -1;
	lg->rss.fd = -1;
	/* burst: 20 ms worth of tokens, so a late timer does not lose rate, yet no visible spike */
	burst = cfg->rate / 50 + 1;
	tbucket_init(&lg->tb, cfg->rate, burst);
	lg->goal = cfg->ctl ? 0 : cfg->target;  /* with a latency phase each step sets the goal */
	lg->conns = calloc((size_t)cfg->target, sizeof(*lg->conns));
	lg->pump_ev = evtimer_new(base, pump_cb, lg);
	lg->hold_ev = evtimer_new(base, hold_timer_cb, lg);
	if (!lg->conns || !lg->pump_ev || !lg->hold_ev)
		goto nomem;
	if (cfg->ctl) {
		lg->ctl_ev = event_new(base, -1, EV_PERSIST, ctl_cb, lg);
		lg->tick_ev = event_new(base, -1, 0, tick_cb, lg);
		if (!lg->ctl_ev || !lg->tick_ev)
			goto nomem;
	}
	(void)procfs_rss_open(&lg->rss, err, errlen);  /* without /proc the memory figure is 0 */
	lg->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (lg->reserve_fd < 0) {
		snprintf(err, errlen, "open /dev/null: %s", strerror(errno));
		loadgen_free(&lg);
		return NULL;
	}
	return lg;
nomem:
	snprintf(err, errlen, "loadgen: out of memory for %llu connections", (unsigned long long)cfg->target);
	loadgen_free(&lg);
	return NULL;
}

void loadgen_start(struct loadgen *lg)
{
	counter_set(&lg->st->target, lg->cfg.target);
	counter_set_i32(&lg->st->pid, (int32_t)getpid());
	counter_set(&lg->st->start_ns, clock_now_ns());
	counter_set32(&lg->st->phase, LOADGEN_RAMP);
	counter_set(&lg->st->lat.rss_base_bytes, procfs_rss_bytes(&lg->rss));
	if (lg->cfg.ctl) {
		struct timeval tv = clock_timeval_ms(LOADGEN_CTL_POLL_MS);

		event_add(lg->ctl_ev, &tv);
		ctl_poll(lg);   /* the coordinator publishes step 1 before the workers start */
		return;
	}
	pump(lg);
}

void loadgen_stop(struct loadgen *lg, int sig)
{
	if (sig && !lg->finished && counter_get_i32(&lg->st->stop_signal) == 0)
		counter_set_i32(&lg->st->stop_signal, sig);
	finish(lg);
}

void loadgen_free(struct loadgen **lgp)
{
	struct loadgen *lg = *lgp;

	if (!lg)
		return;
	if (lg->conns) {
		free_all(lg);
		free(lg->conns);
	}
	if (lg->ctl_ev)
		event_free(lg->ctl_ev);
	if (lg->tick_ev)
		event_free(lg->tick_ev);
	if (lg->pump_ev)
		event_free(lg->pump_ev);
	if (lg->hold_ev)
		event_free(lg->hold_ev);
	if (lg->reserve_fd >= 0)
		close(lg->reserve_fd);
	procfs_rss_close(&lg->rss);
	free(lg);
	*lgp = NULL;
}
