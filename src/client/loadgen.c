/* Load generator lifecycle: creation, start, the end of the ramp and of the hold, stop and teardown, and
 * the one owner of a connection (conn_set_state, conn_free, conn_fail) with the failure accounting that
 * goes with it. The ramp is in loadgen_ramp.c, the latency phase in loadgen_phase.c. */
#include "client/loadgen_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util/clock.h"
#include "common/util/counter.h"
#include "common/sys/kstate.h"

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

void loadgen_record_failure(struct loadgen *lg, enum diag_kind k, int e, bool immediate)
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

static bool latency_mode(const struct loadgen *lg)
{
	return lg->cfg.ctl != NULL;
}

void loadgen_publish_state(struct loadgen *lg, enum loadgen_step_state s)
{
	counter_publish32(&lg->st->lat.state, (uint32_t)s);
}

/* Called whenever an attempt resolves: decides the end of the ramp and of the hold. In a latency phase
 * the end of a step's ramp is published as READY instead, and the coordinator decides what follows. The
 * ramp's end time is the first step's, and moves only with a later step that opened connections: a rate
 * sweep's later steps hold the same ones, so its time to N is the ramp's, not the start of its last phase. */
void loadgen_check_progress(struct loadgen *lg)
{
	struct timeval tv;

	if (lg->finished)
		return;
	if (latency_mode(lg)) {
		if (lg->step == 0 || lg->ramp_over || lg->next < lg->goal || lg->in_flight > 0)
			return;
		lg->ramp_over = true;
		if (lg->step_opens || counter_get(&lg->st->ramp_end_ns) == 0)
			counter_set(&lg->st->ramp_end_ns, clock_now_ns());
		counter_set32(&lg->st->phase, LOADGEN_HOLD);
		loadgen_publish_state(lg, LOADGEN_STEP_READY);
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
		loadgen_finish(lg);
}

struct proto_side *conn_side(const struct conn *c)
{
	return (struct proto_side *)(void *)(c->lg->side + (size_t)c->slot * c->lg->side_size);
}

void loadgen_note(struct loadgen *lg, const char *note)
{
	struct loadgen_stats *st = lg->st;

	if (counter_get32(&st->note_set) || note[0] == '\0')
		return;
	snprintf(st->proto_note, sizeof(st->proto_note), "%s", note);
	counter_publish32(&st->note_set, 1);
}

void conn_set_state(struct conn *c, enum conn_state to)
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
		if (c->lg->side) {
			struct proto_side *ps = conn_side(c);

			ps->wr_off = 0;
			c->lg->ops->rx_init(c->lg->pcfg, c->id, ps->st);
		}
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
void conn_free(struct conn **cp)
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
	if (lg->ssl)
		loadgen_tls_free(c);
	close(c->fd);
	lg->conns[c->slot] = NULL;
	lg->nconns--;
	free(c);
	*cp = NULL;
}

void conn_fail(struct conn *c, enum diag_kind k, int e)
{
	struct loadgen *lg = c->lg;

	loadgen_record_failure(lg, k, e, false);
	conn_free(&c);
	loadgen_schedule_pump(lg, 0);
	loadgen_check_progress(lg);
}

/* End of the hold. With a shared deadline it polls until the supervisor has set it (every
 * LOADGEN_HOLD_POLL_MS), then sleeps until it. */
static void hold_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loadgen *lg = arg;
	uint64_t until, now, wait_ns;
	struct timeval tv;

	if (!lg->cfg.hold_until_ns) {
		loadgen_finish(lg);
		return;
	}
	until = counter_acquire(lg->cfg.hold_until_ns);
	now = clock_now_ns();
	if (until != 0 && now >= until) {
		loadgen_finish(lg);
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

void loadgen_finish(struct loadgen *lg)
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
	if (lg->ka_ev)
		event_del(lg->ka_ev);
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
	    (cfg->ctl && (cfg->msg_rate == 0 || cfg->duration_ms == 0 || cfg->reply_timeout_ms == 0 ||
			  cfg->send_window_ms == 0))) {
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
	lg->ops = proto_get(cfg->proto ? cfg->proto->id : PROTO_ECHO);
	lg->pcfg = cfg->proto;
	lg->side_size = proto_side_size(lg->ops);
	if (lg->side_size) {   /* never for echo: its state is in struct conn */
		lg->side = calloc((size_t)cfg->target, lg->side_size);
		if (!lg->side)
			goto nomem;
	}
	if (lg->ops->keepalive && cfg->proto && cfg->proto->keepalive_ms) {
		lg->ka_ev = event_new(base, -1, EV_PERSIST, loadgen_keepalive_cb, lg);
		if (!lg->ka_ev)
			goto nomem;
	}
	if (cfg->tls) {   /* never without TLS: a plain connection costs no byte for it */
		lg->ssl = calloc((size_t)cfg->target, sizeof(*lg->ssl));
		if (!lg->ssl)
			goto nomem;
	}
	lg->conns = calloc((size_t)cfg->target, sizeof(*lg->conns));
	lg->pump_ev = evtimer_new(base, loadgen_pump_cb, lg);
	lg->hold_ev = evtimer_new(base, hold_timer_cb, lg);
	if (!lg->conns || !lg->pump_ev || !lg->hold_ev)
		goto nomem;
	if (cfg->ctl) {
		lg->ctl_ev = event_new(base, -1, EV_PERSIST, loadgen_ctl_cb, lg);
		lg->tick_ev = event_new(base, -1, 0, loadgen_tick_cb, lg);
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
	if (lg->ka_ev) {
		/* a slice of the connections every 1/LOADGEN_KA_SLICES of the period: each still gets one per
		 * period, and 10,000 PINGREQs (and their answers) do not land in one burst in a phase's RTT */
		struct timeval ka = clock_timeval_ns((uint64_t)lg->pcfg->keepalive_ms * CLOCK_NS_PER_MS /
						     LOADGEN_KA_SLICES);

		event_add(lg->ka_ev, &ka);
	}
	if (lg->cfg.ctl) {
		loadgen_ctl_arm(lg);
		loadgen_ctl_poll(lg);   /* the coordinator publishes step 1 before the workers start */
		return;
	}
	loadgen_pump(lg);
}

void loadgen_stop(struct loadgen *lg, int sig)
{
	if (sig && !lg->finished && counter_get_i32(&lg->st->stop_signal) == 0)
		counter_set_i32(&lg->st->stop_signal, sig);
	loadgen_finish(lg);
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
	if (lg->ka_ev)
		event_free(lg->ka_ev);
	free(lg->side);
	free(lg->ssl);
	if (lg->reserve_fd >= 0)
		close(lg->reserve_fd);
	procfs_rss_close(&lg->rss);
	free(lg);
	*lgp = NULL;
}
