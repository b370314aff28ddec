/* --find-max step logic: the default step, the sequence of step sizes up to -n, and each stop condition
 * (connection failures first, then the SLO, then -n reached), plus the best passing step. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "client/findmax.h"

static struct findmax_row ok_row(uint64_t conns)
{
	struct findmax_row r;

	memset(&r, 0, sizeof(r));
	r.conns = conns;
	r.held = conns;
	r.sent = r.answered = 1000;
	r.p99_ms = 5;
	r.slo_met = true;
	r.pass = true;
	return r;
}

static void test_default_step(void **state)
{
	(void)state;
	assert_int_equal(findmax_default_step(19000), 3800);
	assert_int_equal(findmax_default_step(1000000), 200000);
	assert_int_equal(findmax_default_step(7), 2);     /* 1.4 rounded up */
	assert_int_equal(findmax_default_step(1), 1);
	assert_int_equal(findmax_steps(19000, 3800), 5);
	assert_int_equal(findmax_steps(19001, 3800), 6);
	assert_int_equal(findmax_steps(10, 0), 0);
	assert_int_equal(findmax_first(19000, 3800), 3800);
	assert_int_equal(findmax_first(100, 3800), 100);
}

/* All steps pass: 3800, 7600, ..., 19000, then reached_target; the last step is clamped to -n. */
static void test_sequence_to_target(void **state)
{
	struct findmax_row rows[8];
	uint64_t c, next;
	unsigned n = 0;
	enum findmax_stop s;

	(void)state;
	c = findmax_first(20000, 3800);
	for (;;) {
		rows[n] = ok_row(c);
		s = findmax_next(20000, 3800, &rows[n], &next);
		n++;
		if (s != FINDMAX_CONTINUE)
			break;
		assert_true(next > c);
		c = next;
		assert_true(n < 8);
	}
	assert_int_equal(s, FINDMAX_STOP_TARGET);
	assert_int_equal(n, 6);
	assert_int_equal(rows[4].conns, 19000);
	assert_int_equal(rows[5].conns, 20000);
	assert_int_equal(findmax_best(rows, n), 20000);
	assert_string_equal(findmax_stop_name(s), "reached_target");
}

static void test_stop_on_slo(void **state)
{
	struct findmax_row rows[3] = { ok_row(100), ok_row(200), ok_row(300) };
	uint64_t next = 99;

	(void)state;
	rows[2].slo_met = rows[2].pass = false;
	rows[2].p99_ms = 250;
	assert_int_equal(findmax_next(1000, 100, &rows[2], &next), FINDMAX_STOP_SLO);
	assert_int_equal(next, 0);
	assert_int_equal(findmax_best(rows, 3), 200);
	assert_string_equal(findmax_stop_name(FINDMAX_STOP_SLO), "slo_missed");
}

/* Failures win over an SLO miss (they lose messages too); a short hold without failures counts as well. */
static void test_stop_on_connection_failures(void **state)
{
	struct findmax_row r = ok_row(500);
	uint64_t next;

	(void)state;
	r.conn_failures = 3;
	r.slo_met = r.pass = false;
	assert_int_equal(findmax_next(1000, 100, &r, &next), FINDMAX_STOP_CONN_FAILED);
	r = ok_row(500);
	r.held = 499;
	r.pass = false;
	assert_int_equal(findmax_next(1000, 100, &r, &next), FINDMAX_STOP_CONN_FAILED);
	r = ok_row(500);
	assert_int_equal(findmax_next(1000, 100, &r, &next), FINDMAX_CONTINUE);
	assert_int_equal(next, 600);
	assert_string_equal(findmax_stop_name(FINDMAX_STOP_CONN_FAILED), "connection_failures");
}

static void test_best_none(void **state)
{
	struct findmax_row r = ok_row(100);

	(void)state;
	r.pass = false;
	assert_int_equal(findmax_best(&r, 1), 0);
	assert_int_equal(findmax_best(&r, 0), 0);
}

/* A sweep runs the rates in order at the same connections, stops like --find-max, and the best rate is the
 * highest passing one. */
static void test_rate_sweep(void **state)
{
	const uint64_t rates[] = { 1000, 2000, 4000 };
	struct findmax_row rows[3];
	uint64_t next = 99;
	unsigned i;

	(void)state;
	for (i = 0; i < 3; i++) {
		rows[i] = ok_row(500);
		rows[i].msg_rate = rates[i];
	}
	assert_int_equal(findmax_rate_next(rates, 3, 1, &rows[0], &next), FINDMAX_CONTINUE);
	assert_int_equal(next, 2000);
	assert_int_equal(findmax_rate_next(rates, 3, 2, &rows[1], &next), FINDMAX_CONTINUE);
	assert_int_equal(next, 4000);
	assert_int_equal(findmax_rate_next(rates, 3, 3, &rows[2], &next), FINDMAX_STOP_TARGET);
	assert_int_equal(next, 0);
	assert_int_equal(findmax_best_rate(rows, 3), 4000);
	/* the second rate misses the SLO: stop there, the best is the first */
	rows[1].slo_met = rows[1].pass = false;
	assert_int_equal(findmax_rate_next(rates, 3, 2, &rows[1], &next), FINDMAX_STOP_SLO);
	assert_int_equal(findmax_best_rate(rows, 2), 1000);
	/* connection failures win over the SLO miss */
	rows[1].conn_failures = 1;
	assert_int_equal(findmax_rate_next(rates, 3, 2, &rows[1], &next), FINDMAX_STOP_CONN_FAILED);
	rows[1] = ok_row(500);
	rows[1].held = 499;
	rows[1].pass = false;
	assert_int_equal(findmax_rate_next(rates, 3, 2, &rows[1], &next), FINDMAX_STOP_CONN_FAILED);
	/* nothing passed */
	rows[0].pass = false;
	assert_int_equal(findmax_best_rate(rows, 1), 0);
	assert_int_equal(findmax_best_rate(rows, 0), 0);
}

/* findmax_plan_next: the one rule over a plan, the same answers as findmax_next and findmax_rate_next,
 * with the next step's connections and rate filled in; one phase always reaches the target. */
static void test_plan_next(void **state)
{
	const uint64_t rates[3] = { 100, 200, 400 };
	struct findmax_plan fm = { true, 1000, 400, NULL, 0, 50 }, sweep = { false, 1000, 0, rates, 3, 100 },
			    one = { false, 1000, 0, rates, 1, 100 };
	struct findmax_row r = ok_row(400), bad = ok_row(1000);
	uint64_t conns, rate;

	(void)state;
	assert_int_equal(findmax_plan_next(&fm, 1, &r, &conns, &rate), FINDMAX_CONTINUE);
	assert_int_equal(conns, 800);
	assert_int_equal(rate, 50);
	r = ok_row(800);
	assert_int_equal(findmax_plan_next(&fm, 2, &r, &conns, &rate), FINDMAX_CONTINUE);
	assert_int_equal(conns, 1000);
	r = ok_row(1000);
	assert_int_equal(findmax_plan_next(&fm, 3, &r, &conns, &rate), FINDMAX_STOP_TARGET);
	assert_int_equal(conns, 0);
	assert_int_equal(findmax_plan_next(&sweep, 1, &r, &conns, &rate), FINDMAX_CONTINUE);
	assert_int_equal(conns, 1000);
	assert_int_equal(rate, 200);
	assert_int_equal(findmax_plan_next(&sweep, 3, &r, &conns, &rate), FINDMAX_STOP_TARGET);
	bad.slo_met = bad.pass = false;
	assert_int_equal(findmax_plan_next(&sweep, 1, &bad, &conns, &rate), FINDMAX_STOP_SLO);
	assert_int_equal(rate, 0);
	bad.held = 999;
	assert_int_equal(findmax_plan_next(&fm, 1, &bad, &conns, &rate), FINDMAX_STOP_CONN_FAILED);
	assert_int_equal(findmax_plan_next(&one, 1, &bad, &conns, &rate), FINDMAX_STOP_TARGET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_step),
		cmocka_unit_test(test_sequence_to_target),
		cmocka_unit_test(test_stop_on_slo),
		cmocka_unit_test(test_stop_on_connection_failures),
		cmocka_unit_test(test_best_none),
		cmocka_unit_test(test_rate_sweep),
		cmocka_unit_test(test_plan_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
