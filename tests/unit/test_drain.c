/* Unit tests for the drain records: a worker's record from begin to end, the supervisor's entry for a worker
 * killed mid-drain, the sum over workers (earliest begin, latest end, workers that never drained left out)
 * and the summary line, all with fabricated clock values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/util/clock.h"
#include "server/core/drain.h"
#include "server/core/stats.h"
#include "common/util/counter.h"

static void test_slot_lifecycle(void **state)
{
	struct drain_slot d;
	unsigned i;

	(void)state;
	memset(&d, 0, sizeof(d));
	drain_slot_begin(&d, 5 * CLOCK_NS_PER_S, 10);
	for (i = 0; i < 7; i++)
		drain_slot_closed(&d, DRAIN_CLOSE_FLUSHED);
	drain_slot_closed(&d, DRAIN_CLOSE_ERROR);
	drain_slot_closed(&d, DRAIN_CLOSE_DEADLINE);
	drain_slot_closed(&d, DRAIN_CLOSE_DEADLINE);
	assert_int_equal(counter_get(&d.end_ns), 0);
	drain_slot_end(&d, 6 * CLOCK_NS_PER_S);
	assert_int_equal(counter_get(&d.begin_ns), 5 * CLOCK_NS_PER_S);
	assert_int_equal(counter_get(&d.end_ns), 6 * CLOCK_NS_PER_S);
	assert_int_equal(counter_get(&d.open), 10);
	assert_int_equal(counter_get(&d.flushed), 7);
	assert_int_equal(counter_get(&d.deadline), 2);
	assert_int_equal(counter_get(&d.errors), 1);
	/* An ended drain is not cut short by a later kill. */
	assert_int_equal(drain_slot_killed(&d, 3, 7 * CLOCK_NS_PER_S), 0);
	assert_int_equal(counter_get(&d.killed), 0);
	assert_int_equal(counter_get(&d.end_ns), 6 * CLOCK_NS_PER_S);
	/* A new drain (the worker was restarted and stopped again) starts a fresh record. */
	drain_slot_begin(&d, 9 * CLOCK_NS_PER_S, 4);
	assert_int_equal(counter_get(&d.end_ns), 0);
	assert_int_equal(counter_get(&d.flushed), 0);
	assert_int_equal(counter_get(&d.deadline), 0);
	assert_int_equal(counter_get(&d.errors), 0);
	assert_int_equal(counter_get(&d.open), 4);
}

static void test_killed(void **state)
{
	struct drain_slot d;

	(void)state;
	memset(&d, 0, sizeof(d));
	/* A worker killed before it ever drained (e.g. SIGKILL while serving) has no drain to cut. */
	assert_int_equal(drain_slot_killed(&d, 5, CLOCK_NS_PER_S), 0);
	assert_int_equal(counter_get(&d.begin_ns), 0);
	drain_slot_begin(&d, 2 * CLOCK_NS_PER_S, 5);
	drain_slot_closed(&d, DRAIN_CLOSE_FLUSHED);
	assert_int_equal(drain_slot_killed(&d, 4, 3 * CLOCK_NS_PER_S), 1);
	assert_int_equal(counter_get(&d.killed), 4);
	assert_int_equal(counter_get(&d.cut), 1);
	assert_int_equal(counter_get(&d.end_ns), 3 * CLOCK_NS_PER_S);
}

static void test_sum_and_format(void **state)
{
	struct drain_slot d[4];
	struct drain_totals t;
	char buf[512];
	unsigned i;
	int n;

	(void)state;
	memset(d, 0, sizeof(d));
	/* Worker 0: 3 open, 2 flushed, 1 at the deadline, from 10.0 s to 15.0 s. */
	drain_slot_begin(&d[0], 10 * CLOCK_NS_PER_S, 3);
	drain_slot_closed(&d[0], DRAIN_CLOSE_FLUSHED);
	drain_slot_closed(&d[0], DRAIN_CLOSE_FLUSHED);
	drain_slot_closed(&d[0], DRAIN_CLOSE_DEADLINE);
	drain_slot_end(&d[0], 15 * CLOCK_NS_PER_S);
	/* Worker 1 never drained (it was restarting): left out. Worker 2: 10000 flushed, began 1 ms later. */
	drain_slot_begin(&d[2], 10 * CLOCK_NS_PER_S + CLOCK_NS_PER_MS, 10000);
	for (i = 0; i < 10000; i++)
		drain_slot_closed(&d[2], DRAIN_CLOSE_FLUSHED);
	drain_slot_end(&d[2], 10 * CLOCK_NS_PER_S + 42 * CLOCK_NS_PER_MS);
	/* Worker 3: one reset. */
	drain_slot_begin(&d[3], 10 * CLOCK_NS_PER_S + 2 * CLOCK_NS_PER_MS, 1);
	drain_slot_closed(&d[3], DRAIN_CLOSE_ERROR);
	drain_slot_end(&d[3], 10 * CLOCK_NS_PER_S + 3 * CLOCK_NS_PER_MS);

	drain_sum(d, 4, &t);
	assert_int_equal(t.workers, 3);
	assert_int_equal(t.killed_workers, 0);
	assert_int_equal(t.begin_ns, 10 * CLOCK_NS_PER_S);
	assert_int_equal(t.end_ns, 15 * CLOCK_NS_PER_S);
	assert_int_equal(t.open, 10004);
	assert_int_equal(t.flushed, 10002);
	assert_int_equal(t.deadline, 1);
	assert_int_equal(t.errors, 1);
	assert_int_equal(t.killed, 0);
	n = drain_format_summary(&t, 5000, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "  drain (--drain-timeout 5 s): took 5.000 s; 10004 open at the signal: 10002 "
			    "flushed and closed, 1 closed at the deadline, 1 ended early (reset, error, idle "
			    "timeout)\n");

	/* Worker 0 killed instead: 1 still open when it died, at 11.5 s. */
	memset(&d[0], 0, sizeof(d[0]));
	drain_slot_begin(&d[0], 10 * CLOCK_NS_PER_S, 3);
	drain_slot_closed(&d[0], DRAIN_CLOSE_FLUSHED);
	drain_slot_closed(&d[0], DRAIN_CLOSE_FLUSHED);
	assert_int_equal(drain_slot_killed(&d[0], 1, 11 * CLOCK_NS_PER_S + 500 * CLOCK_NS_PER_MS), 1);
	drain_sum(d, 4, &t);
	assert_int_equal(t.killed_workers, 1);
	assert_int_equal(t.killed, 1);
	drain_format_summary(&t, 250, buf, sizeof(buf));
	assert_string_equal(buf, "  drain (--drain-timeout 0.25 s): took 1.500 s; 10004 open at the signal: 10002 "
			    "flushed and closed, 0 closed at the deadline, 1 ended early (reset, error, idle "
			    "timeout), 1 still open when 1 worker was killed\n");
}

static void test_format_nothing(void **state)
{
	struct drain_slot d[2];
	struct drain_totals t;
	char buf[256] = "junk";

	(void)state;
	memset(d, 0, sizeof(d));
	drain_sum(d, 2, &t);
	assert_int_equal(t.workers, 0);
	assert_int_equal(t.begin_ns, 0);
	assert_int_equal(drain_format_summary(&t, 5000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* A drain with no connections at all still says it happened, instantly. */
	drain_slot_begin(&d[1], 7, 0);
	drain_slot_end(&d[1], 7);
	drain_sum(d, 2, &t);
	drain_format_summary(&t, 0, buf, sizeof(buf));
	assert_string_equal(buf, "  drain (--drain-timeout 0 s): took 0.000 s; 0 open at the signal: 0 flushed and "
			    "closed, 0 closed at the deadline, 0 ended early (reset, error, idle timeout)\n");
	/* Truncation is reported by the length, as snprintf does. */
	assert_true(drain_format_summary(&t, 0, buf, 16) > 16);
	assert_int_equal(strlen(buf), 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_lifecycle),
		cmocka_unit_test(test_killed),
		cmocka_unit_test(test_sum_and_format),
		cmocka_unit_test(test_format_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
