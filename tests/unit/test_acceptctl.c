/* Unit tests for the shared accept policy: every transition of the pure acceptctl_decide() from fabricated
 * states and inputs (cap, resource errors, the last-holder rule, tcp_migrate_req = 0, hysteresis, the log rate
 * limit), the exact pause line, and the driver against fake mechanics and a holder count in plain memory. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "server/core/acceptctl.h"
#include "common/util/clock.h"
#include "common/util/counter.h"

#define T0 (UINT64_C(1000) * CLOCK_NS_PER_S) /* an arbitrary "now" */

static struct acceptctl_state st(enum stats_accept_state s, uint64_t cap, uint64_t eff_cap)
{
	struct acceptctl_state x;

	memset(&x, 0, sizeof(x));
	x.state = s;
	x.cap = cap;
	x.eff_cap = eff_cap;
	return x;
}

static struct acceptctl_input in(enum acceptctl_event ev, int err, uint64_t conns, bool others, bool migrate)
{
	struct acceptctl_input x;

	x.ev = ev;
	x.err = err;
	x.conns = conns;
	x.others_listening = others;
	x.migrate_req = migrate;
	x.now_ns = T0;
	return x;
}

static void test_transient(void **state)
{
	(void)state;
	assert_true(acceptctl_transient(ECONNABORTED));
	assert_true(acceptctl_transient(EINTR));
	assert_true(acceptctl_transient(EPROTO));
	assert_true(acceptctl_transient(EPERM));
	assert_false(acceptctl_transient(EMFILE));
	assert_false(acceptctl_transient(ENFILE));
	assert_false(acceptctl_transient(ENOBUFS));
	assert_false(acceptctl_transient(ENOMEM));
	assert_false(acceptctl_transient(EBADF)); /* unexpected: stop rather than spin */
}

static void test_reopen_mark(void **state)
{
	(void)state;
	assert_int_equal(acceptctl_reopen_mark(1000), 1000 - ACCEPTCTL_REOPEN_MIN_GAP);
	assert_int_equal(acceptctl_reopen_mark(100000), 99000); /* 1% beats the minimum gap */
	assert_int_equal(acceptctl_reopen_mark(10), 0);
	assert_int_equal(acceptctl_reopen_mark(0), 0);
}

/* One row per transition: state (cap, effective cap), event, what the worker knows -> action and the result. */
struct row {
	const char *what;
	enum stats_accept_state from;
	uint64_t cap, eff_cap;
	enum acceptctl_event ev;
	int err;
	uint64_t conns;
	bool others, migrate;
	enum acceptctl_action action;
	enum stats_accept_state to;
	uint64_t to_eff_cap;
	bool stopped, retry, log;
};

#define A STATS_ACCEPTING
#define P STATS_PAUSED
#define H STATS_FULL_HELD
#define C STATS_CLOSED
#define OPENED ACCEPTCTL_EV_OPENED
#define ERROR ACCEPTCTL_EV_ERROR
#define CLOSED ACCEPTCTL_EV_CLOSED
#define TIMER ACCEPTCTL_EV_TIMER

static const struct row rows[] = {
	/* what                                      from cap eff  event  err        conns oth  mig  -> action             to eff  stop   retry  log */
	{ "below the cap",                           A, 100, 100, OPENED, 0,           99, true, true, ACCEPTCTL_NONE,   A, 100, false, false, false },
	{ "close while accepting",                   A, 100, 100, CLOSED, 0,           50, true, true, ACCEPTCTL_NONE,   A, 100, false, false, false },
	{ "timer while accepting",                   A, 100, 100, TIMER,  0,           50, true, true, ACCEPTCTL_NONE,   A, 100, false, false, false },
	/* At the cap with other holders and migration: close, the kernel moves the queue on. Normal: no line. */
	{ "cap, queue migrates",                     A, 100, 100, OPENED, 0,          100, true, true, ACCEPTCTL_CLOSE,  C, 100, true,  true,  false },
	/* tcp_migrate_req = 0: closing would reset the queued connections, so it holds even with other holders. */
	{ "cap, no migration",                       A, 100, 100, OPENED, 0,          100, true, false, ACCEPTCTL_PAUSE, H, 100, true,  true,  false },
	/* The last holder never closes: with everyone full the server is full, not unreachable. */
	{ "cap, last holder",                        A, 100, 100, OPENED, 0,          100, false, true, ACCEPTCTL_PAUSE, H, 100, true,  true,  false },
	/* Out of descriptors: the effective cap becomes the count it happened at, and it is worth a line. */
	{ "EMFILE, last holder",                     A, 1000, 1000, ERROR, EMFILE,    153, false, true, ACCEPTCTL_PAUSE, P, 153, true,  true,  true },
	{ "EMFILE, queue migrates",                  A, 1000, 1000, ERROR, EMFILE,    153, true, true, ACCEPTCTL_CLOSE,  C, 153, true,  true,  true },
	{ "EMFILE, no migration",                    A, 1000, 1000, ERROR, EMFILE,    153, true, false, ACCEPTCTL_PAUSE, P, 153, true,  true,  true },
	{ "ENOBUFS",                                 A, 1000, 1000, ERROR, ENOBUFS,   153, false, true, ACCEPTCTL_PAUSE, P, 153, true,  true,  true },
	{ "unexpected error: stop, not spin",        A, 1000, 1000, ERROR, EBADF,      10, false, true, ACCEPTCTL_PAUSE, P, 10,  true,  true,  true },
	{ "transient error",                         A, 1000, 1000, ERROR, ECONNABORTED, 10, true, true, ACCEPTCTL_NONE, A, 1000, false, false, false },
	/* Paused: a close that freed a descriptor, or the timer (the limit may have moved, e.g. ENFILE). */
	{ "paused, no descriptor freed yet",         P, 1000, 150, CLOSED, 0,         150, false, true, ACCEPTCTL_NONE,  P, 150, false, true,  false },
	{ "paused, a close freed one",               P, 1000, 150, CLOSED, 0,         149, false, true, ACCEPTCTL_ENABLE, A, 1000, false, false, false },
	{ "paused, timer",                           P, 1000, 150, TIMER,  0,         150, false, true, ACCEPTCTL_ENABLE, A, 1000, false, false, false },
	/* Full and holding: resume below the cap; hand the queue over on the timer once another worker listens. */
	{ "held, below the cap again",               H, 100, 100, CLOSED, 0,           99, false, true, ACCEPTCTL_ENABLE, A, 100, false, false, false },
	{ "held, still full, close",                 H, 100, 100, CLOSED, 0,          100, true, true, ACCEPTCTL_NONE,   H, 100, false, true,  false },
	{ "held, timer, another holder",             H, 100, 100, TIMER,  0,          100, true, true, ACCEPTCTL_CLOSE,  C, 100, false, true,  false },
	{ "held, timer, another holder, no migr.",   H, 100, 100, TIMER,  0,          100, true, false, ACCEPTCTL_NONE,  H, 100, false, true,  false },
	{ "held, timer, still the last",             H, 100, 100, TIMER,  0,          100, false, true, ACCEPTCTL_NONE,  H, 100, false, true,  false },
	/* Closed: re-open only at the mark (hysteresis), restoring the configured cap. */
	{ "closed, one below the cap",               C, 1000, 1000, CLOSED, 0,        999, true, true, ACCEPTCTL_NONE,   C, 1000, false, true, false },
	{ "closed, one above the mark",              C, 1000, 1000, TIMER,  0,        937, true, true, ACCEPTCTL_NONE,   C, 1000, false, true, false },
	{ "closed, at the mark",                     C, 1000, 1000, CLOSED, 0,        936, true, true, ACCEPTCTL_REOPEN, A, 1000, false, false, false },
	{ "closed after EMFILE, above its mark",     C, 1000, 150,  CLOSED, 0,        100, true, true, ACCEPTCTL_NONE,   C, 150, false, true,  false },
	{ "closed after EMFILE, at its mark",        C, 1000, 150,  TIMER,  0,         86, true, true, ACCEPTCTL_REOPEN, A, 1000, false, false, false },
	/* Starting and stopping workers ignore everything. */
	{ "stopping, cap",                           STATS_STOPPING, 10, 10, OPENED, 0, 10, true, true, ACCEPTCTL_NONE, STATS_STOPPING, 10, false, false, false },
	{ "stopping, EMFILE",                        STATS_STOPPING, 10, 10, ERROR, EMFILE, 5, true, true, ACCEPTCTL_NONE, STATS_STOPPING, 10, false, false, false },
	{ "stopping, close",                         STATS_STOPPING, 10, 10, CLOSED, 0, 0, true, true, ACCEPTCTL_NONE, STATS_STOPPING, 10, false, false, false },
	{ "starting, timer",                         STATS_STARTING, 10, 10, TIMER, 0,  0, true, true, ACCEPTCTL_NONE, STATS_STARTING, 10, false, false, false },
};

static void test_transitions(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct acceptctl_state s = st(r->from, r->cap, r->eff_cap), next;
		struct acceptctl_input x = in(r->ev, r->err, r->conns, r->others, r->migrate);
		struct acceptctl_decision d = acceptctl_decide(&s, &x, &next);

		print_message("%s\n", r->what);
		assert_int_equal(d.action, r->action);
		assert_int_equal(next.state, r->to);
		assert_int_equal(next.eff_cap, r->to_eff_cap);
		assert_int_equal(next.cap, r->cap);
		assert_int_equal(d.stopped, r->stopped);
		assert_int_equal(d.retry, r->retry);
		assert_int_equal(d.log, r->log);
		assert_int_equal(next.last_log_ns, r->log ? T0 : 0);
	}
}

#undef A
#undef P
#undef H
#undef C
#undef OPENED
#undef ERROR
#undef CLOSED
#undef TIMER

/* One pause line per ACCEPTCTL_LOG_GAP_S: the pauses in between are counted and reported with the next. */
static void test_log_rate_limit(void **state)
{
	struct acceptctl_state s = st(STATS_ACCEPTING, 1000, 1000), next;
	struct acceptctl_input i = in(ACCEPTCTL_EV_ERROR, EMFILE, 150, false, true);
	struct acceptctl_decision d;

	(void)state;
	s.last_log_ns = T0 - CLOCK_NS_PER_S; /* one second ago */
	s.suppressed = 2;
	d = acceptctl_decide(&s, &i, &next);
	assert_true(d.stopped);
	assert_false(d.log);
	assert_int_equal(next.suppressed, 3);
	assert_int_equal(next.last_log_ns, s.last_log_ns);
	s.last_log_ns = T0 - (uint64_t)ACCEPTCTL_LOG_GAP_S * CLOCK_NS_PER_S;
	d = acceptctl_decide(&s, &i, &next);
	assert_true(d.log);
	assert_int_equal(next.suppressed, 0);
	assert_int_equal(next.last_log_ns, T0);
}

static void test_format_pause(void **state)
{
	char buf[512];

	(void)state;
	acceptctl_format_pause(EMFILE, 153, STATS_PAUSED, 0, "Raise it.\nNow.", buf, sizeof(buf));
	assert_string_equal(buf, "accept paused: EMFILE (Too many open files) at 153 connections; listeners "
			    "disabled, retrying every 200 ms and on every close. Raise it. Now.");
	acceptctl_format_pause(ENFILE, 7, STATS_CLOSED, 3, "", buf, sizeof(buf));
	assert_string_equal(buf, "accept paused: ENFILE (Too many open files in system) at 7 connections; "
			    "listeners closed, the other workers take new connections (3 more pauses since the "
			    "last line).");
	acceptctl_format_pause(ENOMEM, 1, STATS_PAUSED, 1, "", buf, sizeof(buf));
	assert_non_null(strstr(buf, "accept paused: ENOMEM ("));
	assert_non_null(strstr(buf, "(1 more pause since the last line)"));
	/* Truncation still leaves a terminated string with the prefix. */
	acceptctl_format_pause(EMFILE, 1, STATS_PAUSED, 0, "", buf, 20);
	assert_string_equal(buf, "accept paused: EMFI");
}

/* --- driver against fake mechanics ----------------------------------------------------------------------- */

struct fake {
	unsigned enables, disables, closes, opens, arms;
	bool open_fails;
	bool open;     /* listeners exist */
	bool enabled;  /* and are in the event loop */
};

static void fake_enable(void *arg, bool on)
{
	struct fake *f = arg;

	if (on)
		f->enables++;
	else
		f->disables++;
	f->enabled = on;
}

static void fake_close(void *arg)
{
	struct fake *f = arg;

	f->closes++;
	f->open = false;
	f->enabled = false;
}

static int fake_open(void *arg, char *err, size_t errlen)
{
	struct fake *f = arg;

	f->opens++;
	if (f->open_fails) {
		snprintf(err, errlen, "bind: Address already in use");
		return -1;
	}
	f->open = true;
	f->enabled = true;
	return 0;
}

static void fake_arm(void *arg)
{
	((struct fake *)arg)->arms++;
}

static const struct acceptctl_mech fake_mech = { fake_enable, fake_close, fake_open, fake_arm };

static void setup_worker(struct acceptctl *a, struct fake *f, struct stats_slot *slot,
			 struct acceptctl_shared *shared, unsigned workers, uint64_t cap, bool migrate)
{
	struct acceptctl_config c;
	char err[256];

	memset(f, 0, sizeof(*f));
	stats_slot_init(slot);
	stats_slot_adopt(slot, 4242);
	c.shared = shared;
	c.st = slot;
	c.workers = workers;
	c.cap = cap;
	c.migrate_req = migrate;
	c.diag = NULL;
	c.mech = &fake_mech;
	c.arg = f;
	acceptctl_init(a, &c);
	assert_int_equal(counter_get(&slot->cap), cap);
	assert_int_equal(acceptctl_start(a, err, sizeof(err)), 0);
	assert_true(f->open);
	assert_true(acceptctl_accepting(a));
}

/* Open n connections through the driver, as a worker's accept callback does. */
static void open_conns(struct acceptctl *a, unsigned n)
{
	char msg[ACCEPTCTL_MSG_LEN];
	unsigned i;

	for (i = 0; i < n; i++) {
		acceptctl_conn_opened(a);
		assert_int_equal(acceptctl_event(a, ACCEPTCTL_EV_OPENED, 0, msg, sizeof(msg)), 0);
	}
}

/* Two workers of one server sharing a holder count. */
struct two {
	struct acceptctl_shared shared;
	struct acceptctl a, b;
	struct fake fa, fb;
	struct stats_slot sa, sb;
};

static void setup_two(struct two *t, uint64_t cap, bool migrate)
{
	memset(&t->shared, 0, sizeof(t->shared));
	setup_worker(&t->a, &t->fa, &t->sa, &t->shared, 2, cap, migrate);
	setup_worker(&t->b, &t->fb, &t->sb, &t->shared, 2, cap, migrate);
	assert_int_equal(atomic_load(&t->shared.listening), 2);
}

/* Two workers with migration: the first to fill closes, the second (now the last holder) only pauses. */
static void test_driver_two_workers(void **state)
{
	struct two t;
	char msg[ACCEPTCTL_MSG_LEN];

	(void)state;
	setup_two(&t, 3, true);

	open_conns(&t.a, 3);
	assert_int_equal(t.fa.closes, 1);
	assert_false(t.fa.open);
	assert_int_equal(t.a.s.state, STATS_CLOSED);
	assert_int_equal(atomic_load(&t.sa.accept_state), STATS_CLOSED);
	assert_int_equal(atomic_load(&t.shared.listening), 1);
	assert_int_equal(counter_get(&t.sa.accept_pauses), 1);
	assert_int_equal(counter_get(&t.sa.listener_closes), 1);
	assert_int_equal(counter_get(&t.sa.conns), 3);
	assert_int_equal(counter_get(&t.sa.accepted), 3);
	assert_true(t.fa.arms >= 1);

	open_conns(&t.b, 3);
	assert_int_equal(t.fb.closes, 0);
	assert_int_equal(t.fb.disables, 1);
	assert_true(t.fb.open);
	assert_int_equal(t.b.s.state, STATS_FULL_HELD);
	assert_int_equal(atomic_load(&t.shared.listening), 1);

	/* a closes one connection: 2 is above its re-open mark of 0, so it stays closed. */
	acceptctl_conn_closed(&t.a);
	assert_int_equal(acceptctl_event(&t.a, ACCEPTCTL_EV_CLOSED, 0, msg, sizeof(msg)), 0);
	assert_int_equal(t.a.s.state, STATS_CLOSED);
	assert_int_equal(counter_get(&t.sa.closed), 1);
	acceptctl_conn_closed(&t.a);
	acceptctl_conn_closed(&t.a);
	acceptctl_event(&t.a, ACCEPTCTL_EV_CLOSED, 0, msg, sizeof(msg));
	assert_int_equal(t.a.s.state, STATS_ACCEPTING);
	assert_int_equal(t.fa.opens, 2);
	assert_int_equal(atomic_load(&t.shared.listening), 2);

	/* Now t.b, full and holding, hands its queue over on the next timer. */
	acceptctl_event(&t.b, ACCEPTCTL_EV_TIMER, 0, msg, sizeof(msg));
	assert_int_equal(t.b.s.state, STATS_CLOSED);
	assert_int_equal(t.fb.closes, 1);
	assert_int_equal(atomic_load(&t.shared.listening), 1);

	/* Stop: a gives its place back, b had none; open connections count as closed by the stop. */
	acceptctl_stop(&t.a);
	acceptctl_stop(&t.b);
	acceptctl_stop(&t.b); /* idempotent */
	assert_int_equal(atomic_load(&t.shared.listening), 0);
	assert_int_equal(atomic_load(&t.sa.accept_state), STATS_STOPPING);
	assert_int_equal(atomic_load(&t.sa.stop_state), STATS_ACCEPTING);
	assert_int_equal(atomic_load(&t.sb.stop_state), STATS_CLOSED);
	assert_int_equal(counter_get(&t.sb.stop_closed), 3);
	assert_int_equal(counter_get(&t.sa.stop_closed), 0);
}

/* Without tcp_migrate_req a full worker never closes, even with another holder. */
static void test_driver_no_migrate(void **state)
{
	struct two t;
	char msg[ACCEPTCTL_MSG_LEN];

	(void)state;
	setup_two(&t, 3, false);
	open_conns(&t.a, 3);
	acceptctl_event(&t.a, ACCEPTCTL_EV_TIMER, 0, msg, sizeof(msg));
	assert_int_equal(t.fa.closes, 0);
	assert_int_equal(t.fa.disables, 1);
	assert_int_equal(t.a.s.state, STATS_FULL_HELD);
	assert_int_equal(atomic_load(&t.shared.listening), 2);
	assert_int_equal(counter_get(&t.sa.listener_closes), 0);
	acceptctl_conn_closed(&t.a);
	acceptctl_event(&t.a, ACCEPTCTL_EV_CLOSED, 0, msg, sizeof(msg));
	assert_int_equal(t.fa.enables, 1);
	assert_true(acceptctl_accepting(&t.a));
}

/* EMFILE: counted, one "accept paused: " line, then silence within the gap; a failed re-open is retried. */
static void test_driver_emfile_and_reopen_failure(void **state)
{
	struct two t;
	char msg[ACCEPTCTL_MSG_LEN];
	const char *want;

	(void)state;
	setup_two(&t, 1000, true);
	open_conns(&t.a, 100);
	assert_int_equal(acceptctl_event(&t.a, ACCEPTCTL_EV_ERROR, EMFILE, msg, sizeof(msg)), 1);
	want = ACCEPTCTL_PAUSE_PREFIX "EMFILE (Too many open files) at 100 connections; listeners closed, the other "
	       "workers take new connections.";
	assert_int_equal(strncmp(msg, want, strlen(want)), 0);
	assert_null(strchr(msg, '\n'));
	assert_int_equal(counter_get(&t.sa.err_emfile), 1);
	assert_int_equal(t.a.s.state, STATS_CLOSED);
	assert_int_equal(t.a.s.eff_cap, 100);

	/* A transient error while closed is only counted. */
	assert_int_equal(acceptctl_event(&t.a, ACCEPTCTL_EV_ERROR, ECONNABORTED, msg, sizeof(msg)), 0);
	assert_int_equal(counter_get(&t.sa.err_accept), 1);

	/* Drop to the re-open mark, but binding fails: still closed, timer armed, one line on the timer only
	 * and not within the log gap of the pause line. */
	while (t.a.conns > acceptctl_reopen_mark(100))
		acceptctl_conn_closed(&t.a);
	t.fa.open_fails = true;
	t.fa.arms = 0;
	assert_int_equal(acceptctl_event(&t.a, ACCEPTCTL_EV_CLOSED, 0, msg, sizeof(msg)), 0);
	assert_int_equal(t.a.s.state, STATS_CLOSED);
	assert_int_equal(t.fa.arms, 1);
	t.a.s.last_log_ns = 0;
	assert_int_equal(acceptctl_event(&t.a, ACCEPTCTL_EV_TIMER, 0, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "re-opening listeners: bind: Address already in use");
	assert_int_equal(atomic_load(&t.shared.listening), 1);
	t.fa.open_fails = false;
	assert_int_equal(acceptctl_event(&t.a, ACCEPTCTL_EV_TIMER, 0, msg, sizeof(msg)), 0);
	assert_true(acceptctl_accepting(&t.a));
	assert_int_equal(t.a.s.eff_cap, 1000);
	assert_int_equal(atomic_load(&t.shared.listening), 2);

	/* The single holder left at EMFILE pauses and says so; a second EMFILE within the gap is silent. */
	acceptctl_stop(&t.a);
	assert_int_equal(acceptctl_event(&t.b, ACCEPTCTL_EV_ERROR, EMFILE, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "listeners disabled"));
	assert_int_equal(t.b.s.state, STATS_PAUSED);
	acceptctl_event(&t.b, ACCEPTCTL_EV_TIMER, 0, msg, sizeof(msg));
	assert_true(acceptctl_accepting(&t.b));
	assert_int_equal(acceptctl_event(&t.b, ACCEPTCTL_EV_ERROR, EMFILE, msg, sizeof(msg)), 0);
	assert_int_equal(t.b.s.suppressed, 1);
	assert_int_equal(counter_get(&t.sb.accept_pauses), 2);
	assert_int_equal(counter_get(&t.sb.err_emfile), 2);
}

/* A single worker is always the last holder. */
static void test_driver_single_worker(void **state)
{
	struct acceptctl_shared shared = { 0 };
	struct acceptctl a;
	struct fake fa;
	struct stats_slot sa;

	(void)state;
	setup_worker(&a, &fa, &sa, &shared, 1, 2, true);
	open_conns(&a, 2);
	assert_int_equal(a.s.state, STATS_FULL_HELD);
	assert_int_equal(fa.closes, 0);
}

/* The supervisor gives back the place of a worker that died holding listeners, and only then. */
static void test_reaped(void **state)
{
	struct acceptctl_shared shared = { 0 };
	struct stats_slot s;

	(void)state;
	atomic_store(&shared.listening, 2);
	stats_slot_init(&s);
	stats_slot_adopt(&s, 77);
	stats_set_state(&s, STATS_FULL_HELD);
	acceptctl_reaped(&shared, &s);
	assert_int_equal(atomic_load(&shared.listening), 1);
	assert_int_equal(atomic_load(&s.accept_state), STATS_CLOSED);
	assert_int_equal(atomic_load(&s.pid), 0);
	/* Closed (or stopping) workers held no place. */
	acceptctl_reaped(&shared, &s);
	assert_int_equal(atomic_load(&shared.listening), 1);
	/* Never below zero. */
	atomic_store(&shared.listening, 0);
	stats_set_state(&s, STATS_ACCEPTING);
	acceptctl_reaped(&shared, &s);
	assert_int_equal(atomic_load(&shared.listening), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transient),
		cmocka_unit_test(test_reopen_mark),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_log_rate_limit),
		cmocka_unit_test(test_format_pause),
		cmocka_unit_test(test_driver_two_workers),
		cmocka_unit_test(test_driver_no_migrate),
		cmocka_unit_test(test_driver_emfile_and_reopen_failure),
		cmocka_unit_test(test_driver_single_worker),
		cmocka_unit_test(test_reaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
