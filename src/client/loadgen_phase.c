/* Load generator latency phase: follows the coordinator's steps through the shared struct loadgen_ctl
 * (ramp to the step's connections, READY, run from the common t0, DONE), sends each connection's frames at
 * the times sched.h assigns, and matches the replies.
 *
 * A held connection keeps its one struct event, reassigned to EV_READ|EV_WRITE only while it has frames it
 * could not write yet, and uses plain send()/recv() (with --tls, SSL_write/SSL_read: loadgen_int.h):
 * frames are built on the stack from (conn, seq, scheduled time), and replies are compared against the rebuilt frame (match.h), so the phase adds no
 * per-connection allocation at all; its per-connection state (write and read positions) shares the struct
 * conn's bytes with the connect-time timestamp. One timer per process writes every message that has come
 * due, however many connections there are. */
#include "client/loadgen_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "common/util/clock.h"
#include "common/util/counter.h"
#include "client/match.h"

static void phase_end(struct loadgen *lg, uint64_t now);

/* The frame numbered seq of connection c in the running phase. */
void loadgen_phase_frame(const struct conn *c, uint32_t seq, struct match_frame *f)
{
	const struct loadgen *lg = c->lg;

	f->conn = c->id;
	f->seq = seq;
	f->sched_ns = lg->t0 + sched_local_offset_ns(&lg->sched, sched_local_index(&lg->sched, c->slot, seq));
}

/* Adds or removes EV_WRITE. The event is re-assigned in place (same struct event, no allocation).
 * Returns -1 (connection freed) if libevent refuses. */
int loadgen_set_want_write(struct conn *c, bool want)
{
	short what = EV_READ | EV_PERSIST | (want ? EV_WRITE : 0);

	if (c->want_write == (uint8_t)want)
		return 0;
	event_del(c->io.ev);
	if (event_assign(c->io.ev, c->lg->base, c->fd, what, loadgen_io_cb, c) < 0 || event_add(c->io.ev, NULL) < 0) {
		conn_fail(c, DIAG_ENOMEM, ENOMEM);
		return -1;
	}
	c->want_write = (uint8_t)want;
	return 0;
}

/* Writes every frame of c that has come due, as far as the socket takes them; waits for EV_WRITE while
 * some are left. Returns -1 if the connection failed (and was freed). */
int loadgen_conn_write(struct conn *c, uint64_t now)
{
	struct loadgen *lg = c->lg;
	struct loadgen_lat *lat = &lg->st->lat;
	uint64_t due = sched_conn_due(&lg->sched, c->slot, lg->next_msg), lag;
	struct match_frame f;
	char frame[MATCH_FRAME_LEN];
	ssize_t n;
	int e;

	if (lg->side)
		return loadgen_write_proto(c, now);
	while (c->u.ph.wr_seq < due) {
		loadgen_phase_frame(c, c->u.ph.wr_seq, &f);
		if (match_format(&f, frame) < 0) {
			conn_fail(c, DIAG_OTHER, EOVERFLOW);
			return -1;
		}
		n = conn_send(c, frame + c->wr_off, MATCH_FRAME_LEN - c->wr_off);
		if (n < 0) {
			e = errno;
			if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)
				break;
			loadgen_io_fail(c, e);
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
	return loadgen_set_want_write(c, c->u.ph.wr_seq < due);
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

	if (lg->side) {
		loadgen_read_proto(c);
		return;
	}
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
		rx.seq = c->u.ph.rd_seq;
		rx.off = c->matched;
		loadgen_phase_frame(c, rx.seq, &f);
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
void loadgen_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char buf[64];
	ssize_t n;

	if (c->state == CONN_ACTIVE) {
		if ((what & EV_WRITE) && loadgen_conn_write(c, clock_now_ns()) < 0)
			return;
		if (what & EV_READ)
			conn_read_phase(c);
		return;
	}
	if (c->lg->side) {
		loadgen_idle_proto(c);
		return;
	}
	n = conn_recv(c, buf, sizeof(buf));
	if (n > 0)              /* the server sent more than the echo */
		conn_fail(c, DIAG_ECHO_MISMATCH, 0);
	else if (n == 0)
		conn_fail(c, DIAG_PEER_CLOSED, 0);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		loadgen_io_fail(c, errno);
}

/* Arms the send timer for the next local message's scheduled time, but at least the send window
 * (--send-window, default 1 ms) ahead, so that each wake-up writes every message due by then; after the
 * last message, every LOADGEN_TAIL_POLL_MS until the replies are in or the straggler deadline. A fixed
 * 1 ms tick would wake each of the ~50 client processes of a 1M run 1,000 times a second even when its
 * share of the rate is a few hundred messages. A wider window trades latency for wake-ups: a process
 * wakes at most 1000 / window times a second to send, the burst it writes also reaches the server and
 * comes back together (one wake-up each side instead of one per message), and a message waits up to
 * the window before it is written, which its RTT shows (it counts from the scheduled time). */
static void phase_arm(struct loadgen *lg, uint64_t now)
{
	uint64_t at, wait, window = (uint64_t)lg->cfg.send_window_ms * CLOCK_NS_PER_MS;
	struct timeval tv;

	if (lg->next_msg < lg->sched.local_total) {
		at = lg->t0 + sched_local_offset_ns(&lg->sched, lg->next_msg);
	} else {
		at = now + LOADGEN_TAIL_POLL_MS * CLOCK_NS_PER_MS;
		if (at > lg->deadline_ns)
			at = lg->deadline_ns;
	}
	wait = at > now ? at - now : 0;
	if (wait < window)
		wait = window;
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
			loadgen_conn_write(c, now);
	}
	if (lg->next_msg == lg->sched.local_total &&
	    (loadgen_lat_in_flight(lat) == 0 || now >= lg->deadline_ns))
		phase_end(lg, now);
	else
		phase_arm(lg, now);
}

void loadgen_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	phase_tick(arg);
}

void loadgen_ctl_arm(struct loadgen *lg)
{
	struct timeval tv = clock_timeval_ms(LOADGEN_CTL_POLL_MS);

	event_add(lg->ctl_ev, &tv);
}

static void usage_read(struct loadgen_usage *u)
{
	struct rusage ru;
	char err[128];

	memset(u, 0, sizeof(*u));
	u->ns = clock_now_ns();
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		u->cpu_us = (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
			    (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
		u->wakeups = (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
	}
	if (procfs_read_stat_cpu(&u->machine_busy, &u->machine_total, err, sizeof(err)) < 0)
		u->machine_busy = u->machine_total = 0;
}

/* The phase's cost since usage0, into lat (the phase is over: nothing else writes these). */
static void usage_publish(const struct loadgen *lg, struct loadgen_lat *lat)
{
	struct loadgen_usage now;
	const struct loadgen_usage *u0 = &lg->usage0;
	uint64_t wall_us, cpu;

	usage_read(&now);
	wall_us = (now.ns - u0->ns) / 1000u;
	cpu = now.cpu_us >= u0->cpu_us ? now.cpu_us - u0->cpu_us : 0;
	counter_set(&lat->cpu_us, cpu);
	counter_set(&lat->cpu_permille_max, wall_us ? cpu * 1000u / wall_us : 0);
	counter_set(&lat->wakeups, now.wakeups >= u0->wakeups ? now.wakeups - u0->wakeups : 0);
	if (u0->machine_total && now.machine_total > u0->machine_total && now.machine_busy >= u0->machine_busy)
		counter_set(&lat->machine_permille, (now.machine_busy - u0->machine_busy) * 1000u /
				(now.machine_total - u0->machine_total));
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
	usage_read(&lg->usage0);
	lg->phase_on = true;
	/* The control has nothing for a running phase (loadgen_ctl_poll ignores it until phase_end), and its
	 * 10 ms poll would be 100 wake-ups a second: at a 1M run's few hundred messages a second per process,
	 * a quarter or more of the process's wake-ups. */
	event_del(lg->ctl_ev);
	loadgen_publish_state(lg, LOADGEN_STEP_RUN);
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
		if (loadgen_set_want_write(c, false) < 0)
			continue;
		conn_set_state(c, CONN_HOLDING);
	}
	lg->phase_on = false;
	loadgen_ctl_arm(lg);
	counter_set(&lat->rss_bytes, procfs_rss_bytes(&lg->rss));
	usage_publish(lg, lat);
	counter_set(&lat->end_ns, now);
	loadgen_publish_state(lg, LOADGEN_STEP_DONE);
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
	loadgen_publish_state(lg, LOADGEN_STEP_RAMP);
	counter_publish32(&lat->step, step);
	lg->step = step;
	lg->goal = goal < lg->cfg.target ? goal : lg->cfg.target;
	lg->step_opens = lg->goal > lg->next;
	lg->ramp_over = false;
	counter_set32(&lg->st->phase, LOADGEN_RAMP);
	loadgen_pump(lg);
}

/* Follows the coordinator: a new step, the start time of the current one, the end of all steps. */
void loadgen_ctl_poll(struct loadgen *lg)
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
			loadgen_finish(lg);
		return;
	}
	if (state == LOADGEN_STEP_READY) {
		t0 = counter_acquire(&ctl->start_ns);
		if (t0)
			phase_begin(lg, t0);
	}
}

void loadgen_ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	loadgen_ctl_poll(arg);
}
