/* Unit tests for the one capacity function: this machine's numbers (hard limit 20,000: 56 server and 51 client
 * processes for 1,000,000), the edges (no room for a socket, exactly full processes, the WORKERS_MAX cap), and
 * the conntrack recommendation, which --explain's fix for a full table (a fixed line, since it knows no N)
 * must quote too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/model/capacity.h"
#include "common/model/explain.h"

#include <inttypes.h>
#include <stdio.h>

static char err[256];

static void test_this_machine(void **state)
{
	struct capacity c;

	(void)state;
	assert_int_equal(capacity_plan(CAPACITY_SERVER, 20000, 100, 1000000, &c, err, sizeof(err)), 0);
	assert_int_equal(c.budget, 19880);          /* 20000 - 100 listeners - 20 */
	assert_int_equal(c.fill, 17892);            /* 90 % */
	assert_int_equal(c.workers, 56);            /* ceil(1e6 / 17892) */
	assert_int_equal(capacity_plan(CAPACITY_CLIENT, 20000, 100, 1000000, &c, err, sizeof(err)), 0);
	assert_int_equal(c.budget, 19980);
	assert_int_equal(c.fill, 19980);
	assert_int_equal(c.workers, 51);
	assert_int_equal(capacity_plan(CAPACITY_CLIENT, 20000, 100, 19980, &c, err, sizeof(err)), 0);
	assert_int_equal(c.workers, 1);             /* exactly full */
	assert_int_equal(capacity_plan(CAPACITY_CLIENT, 20000, 100, 19981, &c, err, sizeof(err)), 0);
	assert_int_equal(c.workers, 2);
	assert_int_equal(capacity_plan(CAPACITY_SERVER, 20000, 100, 0, &c, err, sizeof(err)), 0);
	assert_int_equal(c.workers, 1);
}

static void test_edges(void **state)
{
	struct capacity c;

	(void)state;
	assert_int_equal(capacity_plan(CAPACITY_SERVER, 120, 100, 10, &c, err, sizeof(err)), -1);
	assert_int_equal(c.budget, 0);
	assert_int_equal(c.workers, UINT32_MAX);
	assert_non_null(strstr(err, "leaves no descriptor"));
	assert_int_equal(capacity_plan(CAPACITY_SERVER, 121, 100, 10, &c, err, sizeof(err)), 0);
	assert_int_equal(c.budget, 1);
	assert_int_equal(c.fill, 1);                /* 90 % of 1 rounds to 0: still one per process */
	assert_int_equal(c.workers, 10);
	assert_int_equal(capacity_plan(CAPACITY_CLIENT, 1024, 100, (uint64_t)1004 * WORKERS_MAX, &c, err, sizeof(err)), 0);
	assert_int_equal(c.workers, WORKERS_MAX);
	assert_int_equal(capacity_plan(CAPACITY_CLIENT, 1024, 100, (uint64_t)1004 * WORKERS_MAX + 1, &c, err,
				       sizeof(err)), -1);
	assert_int_equal(c.workers, WORKERS_MAX + 1);
	assert_non_null(strstr(err, "more than the 4096 supported"));
	/* an unlimited hard limit caps the budget, not the arithmetic */
	assert_int_equal(capacity_plan(CAPACITY_CLIENT, UINT64_MAX, 1, UINT64_C(1) << 40, &c, err, sizeof(err)), 0);
	assert_int_equal(c.budget, UINT32_MAX);
}

static void test_conntrack(void **state)
{
	(void)state;
	assert_int_equal(capacity_conntrack_max(1000000), 2097152);
	assert_int_equal(capacity_conntrack_max(0), 2097152);      /* unknown N: the C1M */
	assert_int_equal(capacity_conntrack_max(800), 2048);
	assert_int_equal(capacity_conntrack_max(1024), 2048);
	assert_int_equal(capacity_conntrack_buckets(1000000), 524288);
	assert_int_equal(capacity_conntrack_buckets(1), 1);
	assert_int_equal(capacity_round_pow2(0), 1);
	assert_int_equal(capacity_round_pow2(17978), 32768);
	assert_true(capacity_conntrack_max(UINT64_MAX) >= (UINT64_C(1) << 63));
}

/* explain.c writes its conntrack fix as text; it must be capacity_conntrack_max of the run's N, or of an
 * unknown N without the client's report. */
static void test_explain_fix(void **state)
{
	static struct explain_input in;
	static struct explain_result r;
	struct explain_client cl;
	struct diag_context ctx;
	char want[128];
	unsigned i;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.kmsg = "[  900.1] nf_conntrack: nf_conntrack: table full, dropping packet\n";
	in.uptime_s = 1000;
	explain_analyze(&in, &r);
	snprintf(want, sizeof(want), "sysctl -w net.netfilter.nf_conntrack_max=%" PRIu64, capacity_conntrack_max(0));
	for (i = 0; i < r.n; i++)
		if (r.findings[i].cause == EXPLAIN_CONNTRACK_FULL)
			break;
	assert_true(i < r.n);
	assert_string_equal(r.findings[i].fix, want);
	/* with the client's report, the run's own N */
	memset(&ctx, 0, sizeof(ctx));
	ctx.target = 400;
	memset(&cl, 0, sizeof(cl));
	cl.target = 400;
	cl.first_cause = DIAG_KIND_COUNT;
	in.client = &cl;
	in.ctx = &ctx;
	explain_analyze(&in, &r);
	snprintf(want, sizeof(want), "sysctl -w net.netfilter.nf_conntrack_max=%" PRIu64 " (for 400 connections)",
		 capacity_conntrack_max(400));
	assert_int_equal(r.findings[0].cause, EXPLAIN_CONNTRACK_FULL);
	assert_string_equal(r.findings[0].fix, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_this_machine),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_conntrack),
		cmocka_unit_test(test_explain_fix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
