/* The latency phase's coordinator (client/coord.h) on fabricated worker slots and clock values: a step
 * starts only when every live worker is ready, at one time for all; a dead worker is not waited for; a run
 * with nothing held ends at once; a finished step is merged into its row and followed by the next step of
 * --find-max, the next rate of a sweep, or the end and the hold. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/sys/workers.h"
#include "common/util/clock.h"
#include "common/util/counter.h"
#include "client/coord.h"
#include "client/sched.h"

#define T0 (1000 * CLOCK_NS_PER_S)   /* an arbitrary "now" */

struct fixture {
	struct client_options o;
	struct loadgen_ctl ctl;
	_Atomic uint64_t hold_until;
	struct coord co;
	void *slots;
	unsigned count;
	bool dead[4];
};

static struct loadgen_stats *slot(struct fixture *f, unsigned i)
{
	return workers_slot(f->slots, sizeof(struct loadgen_stats), i);
}

/* count workers, each opening target / count of -n target; one step of rate msg/s for 1 s, SLO 200 ms. */
static void fixture_init(struct fixture *f, unsigned count, uint64_t target, uint64_t rate)
{
	unsigned i;

	memset(f, 0, sizeof(*f));
	f->o.target = target;
	f->o.msg_rate = rate;
	f->o.msg_rates[0] = rate;
	f->o.n_rates = 1;
	f->o.duration_ms = 1000;
	f->o.reply_timeout_ms = 1000;
	f->o.slo_ms = 200;
	f->o.hold_ms = 3000;
	f->count = count;
	f->slots = calloc(1, workers_slots_size(count, sizeof(struct loadgen_stats)));
	assert_non_null(f->slots);
	for (i = 0; i < count; i++)
		loadgen_stats_init(slot(f, i), target / count);
}

static void fixture_start(struct fixture *f)
{
	char err[128];

	assert_int_equal(coord_init(&f->co, &f->o, f->o.target, f->o.msg_rate, &f->ctl, &f->hold_until, err, sizeof(err)), 0);
}

static void fixture_free(struct fixture *f)
{
	coord_free(&f->co);
	free(f->slots);
}

/* Worker i has opened (and holds) open connections for step, and waits for t0. */
static void ready(struct fixture *f, unsigned i, uint32_t step, uint64_t open)
{
	struct loadgen_stats *st = slot(f, i);

	counter_set(&st->open, open);
	counter_set32(&st->lat.step, step);
	counter_set32(&st->lat.state, LOADGEN_STEP_READY);
}

/* Worker i finished step: its share of the schedule over conns connections, all answered in rtt_us. */
static void done(struct fixture *f, unsigned i, uint32_t step, uint64_t conns, uint64_t messages, uint64_t rtt_us)
{
	struct loadgen_lat *l = &slot(f, i)->lat;
	uint64_t k;

	loadgen_lat_init(l);
	counter_set32(&l->workers, 1);
	counter_set(&l->conns, conns);
	counter_set(&l->held, conns);
	counter_set(&l->sent, messages);
	counter_set(&l->written, messages);
	counter_set(&l->answered, messages);
	for (k = 0; k < messages; k++)
		hist_record(&l->rtt_us, rtt_us);
	counter_set32(&l->step, step);
	counter_set32(&l->state, LOADGEN_STEP_DONE);
}

static void test_start_waits_for_every_live_worker(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 3, 300, 300);
	fixture_start(&f);
	assert_int_equal(f.ctl.step, 1);
	assert_int_equal(f.ctl.step_conns, 300);
	assert_int_equal(f.ctl.msg_rate, 300);
	ready(&f, 0, 1, 100);
	ready(&f, 1, 1, 100);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0);
	assert_int_equal(f.ctl.start_ns, 0);           /* worker 2 still ramps */
	f.dead[2] = true;                               /* ... until it dies: not waited for */
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 1);
	assert_int_equal(f.ctl.start_ns, T0 + 1 + LOADGEN_START_MARGIN_MS * CLOCK_NS_PER_MS);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 2);   /* one start time, published once */
	assert_int_equal(f.ctl.start_ns, T0 + 1 + LOADGEN_START_MARGIN_MS * CLOCK_NS_PER_MS);
	assert_false(f.co.ended);
	fixture_free(&f);
}

static void test_nothing_held_ends_at_once(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 2, 200, 100);
	fixture_start(&f);
	ready(&f, 0, 1, 0);
	ready(&f, 1, 1, 0);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0);
	assert_true(f.co.ended);
	assert_int_equal(f.ctl.end, 1);
	assert_int_equal(f.ctl.start_ns, 0);
	assert_int_equal(f.hold_until, T0);
	assert_int_equal(f.co.stop, FINDMAX_STOP_CONN_FAILED);
	assert_int_equal(f.co.n_rows, 0);
	assert_false(f.co.have_last);
	fixture_free(&f);
}

static void test_one_step_merges_and_holds(void **state)
{
	struct fixture f;
	uint64_t total;

	(void)state;
	fixture_init(&f, 2, 200, 400);
	fixture_start(&f);
	total = sched_total(400, 1000);
	ready(&f, 0, 1, 100);
	ready(&f, 1, 1, 100);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0);
	done(&f, 0, 1, 100, total / 2, 3000);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + CLOCK_NS_PER_S);
	assert_false(f.co.ended);                       /* worker 1 is still in the phase */
	done(&f, 1, 1, 100, total - total / 2, 5000);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 2 * CLOCK_NS_PER_S);
	assert_true(f.co.ended);
	assert_int_equal(f.co.stop, FINDMAX_STOP_TARGET);
	assert_int_equal(f.co.n_rows, 1);
	assert_int_equal(f.co.rows[0].conns, 200);
	assert_int_equal(f.co.rows[0].held, 200);
	assert_int_equal(f.co.rows[0].answered, total);
	assert_int_equal(f.co.rows[0].lost, 0);
	assert_true(f.co.rows[0].pass);
	assert_true(f.co.rows[0].p99_ms >= 4.9 && f.co.rows[0].p99_ms <= 5.1);
	assert_true(f.co.have_last);
	assert_int_equal(hist_count(&f.co.last->rtt_us), total);
	assert_int_equal(f.hold_until, T0 + 2 * CLOCK_NS_PER_S + 3000 * CLOCK_NS_PER_MS);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 3 * CLOCK_NS_PER_S);   /* ended: nothing changes */
	assert_int_equal(f.co.n_rows, 1);
	fixture_free(&f);
}

static void test_find_max_steps_until_a_failure(void **state)
{
	struct fixture f;
	uint64_t total = sched_total(100, 1000);

	(void)state;
	fixture_init(&f, 1, 300, 100);
	f.o.find_max = true;
	f.o.step = 100;
	fixture_start(&f);
	assert_int_equal(f.ctl.step_conns, 100);
	ready(&f, 0, 1, 100);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0);
	done(&f, 0, 1, 100, total, 1000);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 1);
	assert_false(f.co.ended);                       /* passed: one more step of 100 */
	assert_int_equal(f.ctl.step, 2);
	assert_int_equal(f.ctl.step_conns, 200);
	assert_int_equal(f.ctl.start_ns, 0);
	ready(&f, 0, 1, 200);                           /* a stale step is not the current one */
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 2);
	assert_int_equal(f.ctl.start_ns, 0);
	ready(&f, 0, 2, 200);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 3);
	assert_true(f.ctl.start_ns > 0);
	counter_set(&slot(&f, 0)->failed, 7);           /* seven connections failed during step 2 */
	done(&f, 0, 2, 200, total, 1000);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 4);
	assert_true(f.co.ended);
	assert_int_equal(f.co.n_rows, 2);
	assert_int_equal(f.co.rows[1].conn_failures, 7);
	assert_false(f.co.rows[1].pass);
	assert_int_equal(f.co.stop, FINDMAX_STOP_CONN_FAILED);
	fixture_free(&f);
}

static void test_sweep_moves_to_the_next_rate(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 1, 100, 100);
	f.o.msg_rates[1] = 200;
	f.o.n_rates = 2;
	fixture_start(&f);
	ready(&f, 0, 1, 100);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0);
	done(&f, 0, 1, 100, sched_total(100, 1000), 2000);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 1);
	assert_int_equal(f.ctl.step, 2);
	assert_int_equal(f.ctl.msg_rate, 200);
	assert_int_equal(f.ctl.step_conns, 100);
	ready(&f, 0, 2, 100);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 2);
	/* half the answers of the second rate: the SLO is missed and the sweep stops */
	done(&f, 0, 2, 100, sched_total(200, 1000) / 2, 2000);
	counter_set(&slot(&f, 0)->lat.sent, sched_total(200, 1000));
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 3);
	assert_true(f.co.ended);
	assert_int_equal(f.co.n_rows, 2);
	assert_int_equal(f.co.rows[1].msg_rate, 200);
	assert_int_equal(f.co.rows[1].lost, sched_total(200, 1000) / 2);
	assert_int_equal(f.co.stop, FINDMAX_STOP_SLO);
	fixture_free(&f);
}

/* --barrier: a ready step waits for its go, starts at the go's time (or the earliest safe one, counted
 * as late), and the go line is parsed strictly. */
static void test_barrier(void **state)
{
	struct fixture f;
	uint32_t step;
	uint64_t ns;
	char err[160];

	(void)state;
	fixture_init(&f, 1, 100, 100);
	f.o.barrier = true;
	fixture_start(&f);
	ready(&f, 0, 1, 100);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0);
	assert_int_equal(f.ctl.start_ns, 0);
	assert_int_equal(f.co.waiting_step, 1);
	coord_go(&f.co, 1, T0 + CLOCK_NS_PER_S);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 1);
	assert_int_equal(f.ctl.start_ns, T0 + CLOCK_NS_PER_S);
	assert_int_equal(f.co.waiting_step, 0);
	assert_int_equal(f.co.late_ns, 0);
	fixture_free(&f);

	fixture_init(&f, 1, 100, 100);
	f.o.barrier = true;
	fixture_start(&f);
	ready(&f, 0, 1, 100);
	coord_go(&f.co, 1, T0);   /* a go already past when the step is ready */
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 30 * CLOCK_NS_PER_MS);
	assert_int_equal(f.ctl.start_ns, T0 + (30 + LOADGEN_START_MARGIN_MS) * CLOCK_NS_PER_MS);
	assert_int_equal(f.co.late_ns, (30 + LOADGEN_START_MARGIN_MS) * CLOCK_NS_PER_MS);
	fixture_free(&f);

	assert_int_equal(coord_parse_go("go 1 1700000000123456789", &step, &ns, err, sizeof(err)), 0);
	assert_int_equal(step, 1);
	assert_true(ns == UINT64_C(1700000000123456789));
	assert_int_equal(coord_parse_go("go 0 5", &step, &ns, err, sizeof(err)), 0);
	assert_int_equal(step, 0);
	assert_int_equal(coord_parse_go("go 1", &step, &ns, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "go STEP UNIX_TIME_NS"));
	assert_int_equal(coord_parse_go("go 1 2 3", &step, &ns, err, sizeof(err)), -1);
	assert_int_equal(coord_parse_go("stop 1 2", &step, &ns, err, sizeof(err)), -1);
	assert_int_equal(coord_parse_go("go x 2", &step, &ns, err, sizeof(err)), -1);
	assert_int_equal(coord_parse_go("go 1 -2", &step, &ns, err, sizeof(err)), -1);
	assert_int_equal(coord_parse_go("go 1 99999999999999999999999", &step, &ns, err, sizeof(err)), -1);
}

/* --barrier with a sweep, as shard 2/2 of a fleet: a finished step waits for the fleet's decision (no next
 * step of its own), then runs its share of the fleet's next rate; an end line ends the steps and starts the
 * hold. Lines that do not follow are refused. */
static void test_fleet_steps(void **state)
{
	struct fixture f;
	char err[200];

	(void)state;
	fixture_init(&f, 1, 201, 101);
	f.o.msg_rates[1] = 301;
	f.o.n_rates = 2;
	f.o.barrier = true;
	f.o.shard_k = 2;
	f.o.shard_m = 2;
	assert_int_equal(coord_init(&f.co, &f.o, 100, 50, &f.ctl, &f.hold_until, err, sizeof(err)), 0);
	assert_true(f.co.fleet);
	assert_int_equal(f.co.fleet_conns, 201);
	assert_int_equal(f.co.fleet_rate, 101);
	assert_int_equal(f.ctl.step_conns, 100);          /* shard 2's share of 201 */
	assert_int_equal(coord_end(&f.co, FINDMAX_STOP_TARGET, T0, err, sizeof(err)), -1);   /* no step done */
	assert_non_null(strstr(err, "no step is done"));
	ready(&f, 0, 1, 100);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0);
	coord_go(&f.co, 1, T0 + 1);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 1);
	done(&f, 0, 1, 100, sched_total(50, 1000), 2000);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 2);
	assert_int_equal(f.co.done_step, 1);              /* the fleet decides, not this shard */
	assert_int_equal(f.ctl.step, 1);
	assert_false(f.co.ended);
	assert_int_equal(f.co.n_rows, 1);
	assert_true(f.co.rows[0].pass);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 3);
	assert_int_equal(f.co.n_rows, 1);                 /* waiting: the step is not counted twice */
	assert_int_equal(coord_next(&f.co, 3, 301, 201, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "after step 1"));
	assert_int_equal(coord_next(&f.co, 2, 301, 400, err, sizeof(err)), -1);   /* 200 > this shard's 100 */
	assert_non_null(strstr(err, "share is 200 connections"));
	assert_int_equal(coord_next(&f.co, 2, 301, 201, err, sizeof(err)), 0);
	assert_int_equal(f.ctl.step, 2);
	assert_int_equal(f.ctl.msg_rate, 150);            /* shard 2's share of 301 */
	assert_int_equal(f.ctl.step_conns, 100);
	assert_int_equal(f.co.fleet_rate, 301);
	assert_int_equal(f.co.done_step, 0);
	assert_int_equal(coord_next(&f.co, 3, 301, 201, err, sizeof(err)), -1);   /* step 2 is not done */
	ready(&f, 0, 2, 100);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 4);
	assert_int_equal(f.co.waiting_step, 2);
	coord_go(&f.co, 2, T0 + 5);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 5);
	done(&f, 0, 2, 100, sched_total(150, 1000), 2000);
	coord_tick(&f.co, f.slots, f.count, f.dead, T0 + 6);
	assert_int_equal(f.co.done_step, 2);
	assert_int_equal(f.co.rows[1].msg_rate, 150);
	assert_int_equal(coord_end(&f.co, FINDMAX_STOP_TARGET, T0 + 7, err, sizeof(err)), 0);
	assert_true(f.co.ended);
	assert_int_equal(f.co.stop, FINDMAX_STOP_TARGET);
	assert_int_equal(f.hold_until, T0 + 7 + 3000 * CLOCK_NS_PER_MS);
	fixture_free(&f);
}

/* The barrier's lines: go, next and end, strictly. */
static void test_parse_line(void **state)
{
	struct coord_line l;
	char err[200];

	(void)state;
	assert_int_equal(coord_parse_line("go 2 1700000000123456789", &l, err, sizeof(err)), 0);
	assert_int_equal(l.kind, COORD_LINE_GO);
	assert_int_equal(l.step, 2);
	assert_int_equal(coord_parse_line("next 2 5000 40000", &l, err, sizeof(err)), 0);
	assert_int_equal(l.kind, COORD_LINE_NEXT);
	assert_int_equal(l.step, 2);
	assert_int_equal(l.msg_rate, 5000);
	assert_int_equal(l.conns, 40000);
	assert_int_equal(coord_parse_line("end slo_missed", &l, err, sizeof(err)), 0);
	assert_int_equal(l.kind, COORD_LINE_END);
	assert_int_equal(l.stop, FINDMAX_STOP_SLO);
	assert_int_equal(coord_parse_line("end reached_target", &l, err, sizeof(err)), 0);
	assert_int_equal(l.stop, FINDMAX_STOP_TARGET);
	assert_int_equal(coord_parse_line("end continue", &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "end REASON"));
	assert_int_equal(coord_parse_line("end slo_missed ", &l, err, sizeof(err)), -1);
	assert_int_equal(coord_parse_line("next 2 5000", &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "next STEP RATE CONNS"));
	assert_int_equal(coord_parse_line("next 1 5000 10", &l, err, sizeof(err)), -1);   /* step 1 needs no next */
	assert_int_equal(coord_parse_line("next 2 0 10", &l, err, sizeof(err)), -1);
	assert_int_equal(coord_parse_line("next 2 10 0", &l, err, sizeof(err)), -1);
	assert_int_equal(coord_parse_line("next 2 10 10 10", &l, err, sizeof(err)), -1);
	assert_int_equal(coord_parse_line("next 101 10 10", &l, err, sizeof(err)), -1);
	assert_int_equal(coord_parse_line("stop", &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a go, next or end line"));
	assert_int_equal(coord_parse_line("", &l, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_waits_for_every_live_worker),
		cmocka_unit_test(test_nothing_held_ends_at_once),
		cmocka_unit_test(test_one_step_merges_and_holds),
		cmocka_unit_test(test_find_max_steps_until_a_failure),
		cmocka_unit_test(test_sweep_moves_to_the_next_rate),
		cmocka_unit_test(test_barrier),
		cmocka_unit_test(test_fleet_steps),
		cmocka_unit_test(test_parse_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
