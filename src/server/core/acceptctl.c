/* The shared accept policy of the server workers (see acceptctl.h for the policy itself). The decisions are the
 * pure acceptctl_decide(); the driver below adds what cannot be pure: the holder count in shared memory, the
 * counters, the clock and the server's mechanics. The order of state publication and holder-count changes
 * matters when a worker dies between the two: the supervisor's acceptctl_reaped() gives back a place only for
 * a worker whose published state says it holds listeners, so every sequence here leaves the count too LOW
 * rather than too high after such a death. Too low makes the others more reluctant to close; too high could
 * let the real last holder close and empty the reuseport group. */
#include "server/core/acceptctl.h"

#include "common/util/counter.h"

#include "common/util/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Errors accept() reports for one aborted or failed connection; the next one may well succeed. Linux also
 * passes pending network errors of the new socket up through accept (see accept(2)). */
bool acceptctl_transient(int err)
{
	switch (err) {
	case EINTR:
	case EAGAIN:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
	case EPERM: /* firewall rules */
		return true;
	default:
		return false;
	}
}

uint64_t acceptctl_reopen_mark(uint64_t eff_cap)
{
	uint64_t gap = eff_cap / 100;

	if (gap < ACCEPTCTL_REOPEN_MIN_GAP)
		gap = ACCEPTCTL_REOPEN_MIN_GAP;
	return eff_cap > gap ? eff_cap - gap : 0;
}

/* Stopping hands the queue over only where the kernel moves it: closing with tcp_migrate_req = 0 resets it. */
static bool acceptctl_may_close(const struct acceptctl_input *in)
{
	return in->others_listening && in->migrate_req;
}

/* Accepting stops: at the cap (out_of_fds = false) or for lack of descriptors or memory. */
static void acceptctl_decide_stop(const struct acceptctl_state *s, const struct acceptctl_input *in,
				  bool out_of_fds, struct acceptctl_state *next, struct acceptctl_decision *d)
{
	d->stopped = true;
	if (acceptctl_may_close(in)) {
		d->action = ACCEPTCTL_CLOSE;
		next->state = STATS_CLOSED;
	} else {
		d->action = ACCEPTCTL_PAUSE;
		next->state = out_of_fds ? STATS_PAUSED : STATS_FULL_HELD;
	}
	if (!out_of_fds)
		return;
	next->eff_cap = in->conns;
	/* A pause repeated on every retry while the same limit binds is one event: one line per gap. */
	if (s->last_log_ns != 0 && in->now_ns - s->last_log_ns < (uint64_t)ACCEPTCTL_LOG_GAP_S * CLOCK_NS_PER_S) {
		next->suppressed = s->suppressed + 1;
		return;
	}
	d->log = true;
	next->last_log_ns = in->now_ns;
	next->suppressed = 0;
}

struct acceptctl_decision acceptctl_decide(const struct acceptctl_state *s, const struct acceptctl_input *in,
					   struct acceptctl_state *next)
{
	struct acceptctl_decision d = { ACCEPTCTL_NONE, false, false, false };
	bool recheck = in->ev == ACCEPTCTL_EV_CLOSED || in->ev == ACCEPTCTL_EV_TIMER;

	*next = *s;
	switch (s->state) {
	case STATS_ACCEPTING:
		if (in->ev == ACCEPTCTL_EV_OPENED && in->conns >= s->eff_cap)
			acceptctl_decide_stop(s, in, false, next, &d);
		else if (in->ev == ACCEPTCTL_EV_ERROR && !acceptctl_transient(in->err))
			acceptctl_decide_stop(s, in, true, next, &d);
		break;
	case STATS_PAUSED:
		/* Out of descriptors: try again on the timer, or as soon as a close freed one. */
		if (in->ev == ACCEPTCTL_EV_TIMER || (in->ev == ACCEPTCTL_EV_CLOSED && in->conns < s->eff_cap)) {
			d.action = ACCEPTCTL_ENABLE;
			next->state = STATS_ACCEPTING;
			next->eff_cap = s->cap;
		}
		break;
	case STATS_FULL_HELD:
		if (recheck && in->conns < s->cap) {
			d.action = ACCEPTCTL_ENABLE;
			next->state = STATS_ACCEPTING;
		} else if (in->ev == ACCEPTCTL_EV_TIMER && acceptctl_may_close(in)) {
			/* Another worker (re-)opened since we became the last holder: hand our queue over to it. */
			d.action = ACCEPTCTL_CLOSE;
			next->state = STATS_CLOSED;
		}
		break;
	case STATS_CLOSED:
		/* Hysteresis: a worker at the edge must not re-create its listeners on every close. */
		if (recheck && in->conns <= acceptctl_reopen_mark(s->eff_cap)) {
			d.action = ACCEPTCTL_REOPEN;
			next->state = STATS_ACCEPTING;
			next->eff_cap = s->cap;
		}
		break;
	case STATS_STOPPING:
	case STATS_STARTING:
	case STATS_STATE_COUNT:
		return d;
	}
	d.retry = next->state == STATS_PAUSED || next->state == STATS_FULL_HELD || next->state == STATS_CLOSED;
	return d;
}

int acceptctl_format_pause(int err, uint64_t conns, enum stats_accept_state st, unsigned suppressed,
			   const char *explain, char *buf, size_t len)
{
	const char *name = strerrorname_np(err);
	char more[64] = "", ename[32];
	int n;
	char *p;

	if (name == NULL) {
		snprintf(ename, sizeof(ename), "errno %d", err);
		name = ename;
	}
	if (suppressed != 0)
		snprintf(more, sizeof(more), " (%u more pause%s since the last line)", suppressed,
			 suppressed == 1 ? "" : "s");
	if (st == STATS_CLOSED)
		n = snprintf(buf, len, ACCEPTCTL_PAUSE_PREFIX "%s (%s) at %" PRIu64 " connections; listeners closed, the "
			     "other workers take new connections%s.%s%s", name, strerror(err), conns, more,
			     explain[0] != '\0' ? " " : "", explain);
	else
		n = snprintf(buf, len, ACCEPTCTL_PAUSE_PREFIX "%s (%s) at %" PRIu64 " connections; listeners disabled, "
			     "retrying every %u ms and on every close%s.%s%s", name, strerror(err), conns,
			     ACCEPTCTL_RETRY_MS, more, explain[0] != '\0' ? " " : "", explain);
	/* One line: the explanation is a paragraph that may contain newlines. */
	for (p = buf; len != 0 && *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	return n;
}

/* --- driver ------------------------------------------------------------------------------------------------ */

void acceptctl_init(struct acceptctl *a, const struct acceptctl_config *cfg)
{
	memset(a, 0, sizeof(*a));
	a->cfg = *cfg;
	a->s.state = STATS_STARTING;
	a->s.cap = cfg->cap;
	a->s.eff_cap = cfg->cap;
	counter_set(&cfg->st->cap, cfg->cap);
	stats_set_state(cfg->st, STATS_STARTING);
}

static void acceptctl_publish(struct acceptctl *a, enum stats_accept_state st)
{
	a->s.state = st;
	stats_set_state(a->cfg.st, st);
}

/* State first, count second: a worker dying in between is given back a place it never took (see top). */
static void acceptctl_take(struct acceptctl *a)
{
	atomic_fetch_add_explicit(&a->cfg.shared->listening, 1, memory_order_acq_rel);
	a->holds = true;
}

/* Gives up this worker's place among the holders unless it is the last one. */
static bool acceptctl_release(struct acceptctl *a)
{
	_Atomic uint32_t *l = &a->cfg.shared->listening;
	uint32_t n;

	if (a->cfg.workers < 2)
		return false;
	n = atomic_load_explicit(l, memory_order_relaxed);
	while (n > 1) {
		if (atomic_compare_exchange_weak_explicit(l, &n, n - 1, memory_order_acq_rel, memory_order_relaxed)) {
			a->holds = false;
			return true;
		}
	}
	return false;
}

int acceptctl_start(struct acceptctl *a, char *err, size_t errlen)
{
	if (a->cfg.mech->open(a->cfg.arg, err, errlen) < 0)
		return -1;
	a->s.eff_cap = a->s.cap;
	acceptctl_publish(a, STATS_ACCEPTING);
	acceptctl_take(a);
	return 0;
}

void acceptctl_conn_opened(struct acceptctl *a)
{
	a->conns++;
	counter_set(&a->cfg.st->conns, a->conns);
	counter_add(&a->cfg.st->accepted, 1);
}

void acceptctl_conn_closed(struct acceptctl *a)
{
	a->conns--;
	counter_set(&a->cfg.st->conns, a->conns);
	counter_add(&a->cfg.st->closed, 1);
}

static void acceptctl_count_error(struct acceptctl *a, int err)
{
	if (err == EMFILE)
		counter_add(&a->cfg.st->err_emfile, 1);
	else if (err == ENFILE)
		counter_add(&a->cfg.st->err_enfile, 1);
	else if (err != EINTR)
		counter_add(&a->cfg.st->err_accept, 1);
}

/* The explanation for a pause line: diag's, from the limits the supervisor read at start (at EMFILE nothing can
 * be opened to read them now), or a fixed hint without them. */
static void acceptctl_explain(const struct acceptctl *a, int err, char *buf, size_t len)
{
	buf[0] = '\0';
	if (a->cfg.diag != NULL && a->cfg.diag->lim_valid)
		diag_explain(diag_from_errno(err), a->cfg.diag, buf, len);
	else if (err == EMFILE)
		snprintf(buf, len, "Raise the per-process fd limit (ulimit -n, LimitNOFILE=) or use --workers auto.");
}

int acceptctl_event(struct acceptctl *a, enum acceptctl_event ev, int err, char *msg, size_t msglen)
{
	struct acceptctl_input in;
	struct acceptctl_state next;
	struct acceptctl_decision d;
	const struct acceptctl_mech *m = a->cfg.mech;
	unsigned suppressed = a->s.suppressed;
	char oerr[256];
	int out = 0;

	if (ev == ACCEPTCTL_EV_ERROR)
		acceptctl_count_error(a, err);
	in.ev = ev;
	in.err = err;
	in.conns = a->conns;
	in.others_listening = a->cfg.workers >= 2 &&
			      atomic_load_explicit(&a->cfg.shared->listening, memory_order_relaxed) > 1;
	in.migrate_req = a->cfg.migrate_req;
	in.now_ns = clock_now_ns();
	d = acceptctl_decide(&a->s, &in, &next);
	if (d.action == ACCEPTCTL_CLOSE && !acceptctl_release(a)) {
		/* Another worker closed first and we are the last holder after all. */
		in.others_listening = false;
		d = acceptctl_decide(&a->s, &in, &next);
	}
	switch (d.action) {
	case ACCEPTCTL_NONE:
		break;
	case ACCEPTCTL_PAUSE:
		m->enable(a->cfg.arg, false);
		break;
	case ACCEPTCTL_ENABLE:
		m->enable(a->cfg.arg, true);
		break;
	case ACCEPTCTL_CLOSE:
		/* The place was given up above, before the state says so: count too low if we die here. */
		m->close(a->cfg.arg);
		counter_add(&a->cfg.st->listener_closes, 1);
		break;
	case ACCEPTCTL_REOPEN:
		if (m->open(a->cfg.arg, oerr, sizeof(oerr)) < 0) {
			/* Still closed; the retry timer tries again. Said once per log gap, on the timer only. */
			next = a->s;
			d.retry = true;
			if (ev == ACCEPTCTL_EV_TIMER && (a->s.last_log_ns == 0 || in.now_ns - a->s.last_log_ns >=
							  (uint64_t)ACCEPTCTL_LOG_GAP_S * CLOCK_NS_PER_S)) {
				snprintf(msg, msglen, "re-opening listeners: %s", oerr);
				next.last_log_ns = in.now_ns;
				out = 1;
			}
			d.action = ACCEPTCTL_NONE;
		}
		break;
	}
	if (d.stopped)
		counter_add(&a->cfg.st->accept_pauses, 1);
	a->s = next;
	acceptctl_publish(a, next.state);
	if (d.action == ACCEPTCTL_REOPEN)
		acceptctl_take(a);
	if (d.log) {
		char explain[DIAG_EXPLAIN_LEN];

		acceptctl_explain(a, err, explain, sizeof(explain));
		acceptctl_format_pause(err, a->conns, next.state, suppressed, explain, msg, msglen);
		out = 1;
	}
	if (d.retry)
		m->arm_retry(a->cfg.arg);
	return out;
}

bool acceptctl_accepting(const struct acceptctl *a)
{
	return a->s.state == STATS_ACCEPTING;
}

void acceptctl_stop(struct acceptctl *a)
{
	if (a->s.state == STATS_STOPPING)
		return;
	counter_set32(&a->cfg.st->stop_state, (uint32_t)a->s.state);
	acceptctl_publish(a, STATS_STOPPING);
	counter_add(&a->cfg.st->stop_closed, a->conns);
	if (a->holds) {
		atomic_fetch_sub_explicit(&a->cfg.shared->listening, 1, memory_order_acq_rel);
		a->holds = false;
	}
	a->cfg.mech->close(a->cfg.arg);
}

void acceptctl_reaped(struct acceptctl_shared *shared, struct stats_slot *slot)
{
	uint32_t st = counter_get32(&slot->accept_state);

	/* The worker is dead, so the supervisor is now the slot's only writer. */
	if (st == STATS_ACCEPTING || st == STATS_PAUSED || st == STATS_FULL_HELD) {
		uint32_t n = atomic_load_explicit(&shared->listening, memory_order_relaxed);

		while (n > 0 && !atomic_compare_exchange_weak_explicit(&shared->listening, &n, n - 1,
								       memory_order_acq_rel, memory_order_relaxed))
			;
	}
	stats_set_state(slot, STATS_CLOSED);
	counter_set_i32(&slot->pid, 0);
}
