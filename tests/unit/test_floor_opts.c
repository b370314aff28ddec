/* Unit tests for c1m-floor's command line (bench/floor_opts.c): the two probes and their defaults, every
 * bad input refused with a message naming the option, options of the other probe refused, and the process
 * plan against capacity_plan: the automatic counts are --workers auto's for the same N, and a share that
 * does not fit a process's descriptors is refused with the count to use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bench/floor_opts.h"
#include "common/model/capacity.h"

static char err[256];

#define ARGV(...) ((char *const[]){ "c1m-floor", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((const char *[]){ "c1m-floor", __VA_ARGS__ }) / sizeof(const char *)))
#define PARSE(o, ...) floor_opts_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), err, sizeof(err))

static void test_message_defaults(void **state)
{
	struct floor_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "message", "--pairs", "1000"), 0);
	assert_int_equal(o.mode, FLOOR_MESSAGE);
	assert_true(o.pairs == 1000);
	assert_int_equal(o.procs, 0);
	assert_true(o.duration_ms == FLOOR_DURATION_DEFAULT_MS);
	assert_int_equal(o.size, 32);
	assert_int_equal(PARSE(&o, "message", "--pairs", "99000", "--procs", "10", "--duration", "2.5", "--size",
			       "1k"), 0);
	assert_int_equal(o.procs, 10);
	assert_true(o.duration_ms == 2500);
	assert_int_equal(o.size, 1024);
}

static void test_connect_defaults(void **state)
{
	struct floor_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "connect", "-n", "20000"), 0);
	assert_int_equal(o.mode, FLOOR_CONNECT);
	assert_true(o.conns == 20000);
	assert_int_equal(o.ports, 100);
	assert_int_equal(o.port_base, 8081);
	assert_int_equal(o.concurrency, 1024);
	assert_int_equal(o.sources.count, 0);
	assert_int_equal(PARSE(&o, "connect", "--connections", "500", "--clients", "2", "--servers", "3", "--ports",
			       "4", "--port", "20000", "--sources", "127.0.0.2-127.0.0.5", "--concurrency", "64",
			       "--timeout", "30"), 0);
	assert_int_equal(o.clients, 2);
	assert_int_equal(o.servers, 3);
	assert_int_equal(o.ports, 4);
	assert_int_equal(o.port_base, 20000);
	assert_int_equal(o.sources.count, 4);
	assert_int_equal(o.concurrency, 64);
	assert_true(o.timeout_ms == 30000);
}

struct bad_case {
	int argc;
	char *const *argv;
	const char *want;            /* a piece of the message */
};

static void test_bad(void **state)
{
	const struct bad_case cases[] = {
		{ ARGC("message"), ARGV("message"), "needs --pairs" },
		{ ARGC("connect"), ARGV("connect"), "needs -n" },
		{ ARGC("bogus"), ARGV("bogus"), "'bogus' is not a probe" },
		{ ARGC("--pairs", "1"), ARGV("--pairs", "1"), "needs a probe first" },
		{ ARGC("message", "--pairs"), ARGV("message", "--pairs"), "--pairs needs a value" },
		{ ARGC("message", "--pairs", ""), ARGV("message", "--pairs", ""), "--pairs needs a value" },
		{ ARGC("message", "--pairs", "0"), ARGV("message", "--pairs", "0"), "--pairs: 0 is out of range" },
		{ ARGC("message", "--pairs", "1e3"), ARGV("message", "--pairs", "1e3"), "is not a whole number" },
		{ ARGC("message", "--pairs", "5", "--pairs", "6"), ARGV("message", "--pairs", "5", "--pairs", "6"),
		  "--pairs given twice" },
		{ ARGC("message", "--pairs", "5", "-n", "6"), ARGV("message", "--pairs", "5", "-n", "6"),
		  "-n belongs to the connect probe, not message" },
		{ ARGC("connect", "-n", "5", "--procs", "2"), ARGV("connect", "-n", "5", "--procs", "2"),
		  "--procs belongs to the message probe, not connect" },
		{ ARGC("message", "--pairs", "5", "--duration", "0.05"),
		  ARGV("message", "--pairs", "5", "--duration", "0.05"), "too short" },
		{ ARGC("message", "--pairs", "5", "--duration", "abc"),
		  ARGV("message", "--pairs", "5", "--duration", "abc"), "--duration:" },
		{ ARGC("message", "--pairs", "5", "--size", "0"), ARGV("message", "--pairs", "5", "--size", "0"),
		  "--size:" },
		{ ARGC("message", "--pairs", "5", "--size", "5k"), ARGV("message", "--pairs", "5", "--size", "5k"),
		  "--size:" },
		{ ARGC("message", "--pairs", "5", "--frobnicate"), ARGV("message", "--pairs", "5", "--frobnicate"),
		  "unknown option '--frobnicate'" },
		{ ARGC("connect", "-n", "5", "--port", "65535", "--ports", "2"),
		  ARGV("connect", "-n", "5", "--port", "65535", "--ports", "2"), "goes past port 65535" },
		{ ARGC("connect", "-n", "5", "--port", "0"), ARGV("connect", "-n", "5", "--port", "0"), "--port:" },
		{ ARGC("connect", "-n", "5", "--sources", "::1"), ARGV("connect", "-n", "5", "--sources", "::1"),
		  "is not IPv4" },
		{ ARGC("connect", "-n", "5", "--sources", "127.0.0.9-127.0.0.2"),
		  ARGV("connect", "-n", "5", "--sources", "127.0.0.9-127.0.0.2"), "--sources:" },
		{ ARGC("connect", "-n", "5", "--clients", "0"), ARGV("connect", "-n", "5", "--clients", "0"),
		  "--clients: 0 is out of range" },
		{ ARGC("connect", "-n", "5", "--servers", "5000"), ARGV("connect", "-n", "5", "--servers", "5000"),
		  "--servers: 5000 is out of range" },
	};
	struct floor_options o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(floor_opts_parse(cases[i].argc, cases[i].argv, &o, err, sizeof(err)), -1);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].want);
	}
}

static void test_help_version(void **state)
{
	struct floor_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "--help"), 0);
	assert_true(o.help);
	assert_int_equal(PARSE(&o, "message", "-h"), 0);
	assert_true(o.help);
	assert_int_equal(PARSE(&o, "--version"), 0);
	assert_true(o.version);
	assert_non_null(strstr(floor_opts_usage(), "--pairs K"));
	assert_non_null(strstr(floor_opts_usage(), "--sources RANGE"));
}

/* With the hard limit of 20,000: 19,980 sockets a process, 9,990 pairs. */
static void test_plan_message(void **state)
{
	struct floor_options o;

	(void)state;
	assert_int_equal(PARSE(&o, "message", "--pairs", "9990"), 0);
	assert_int_equal(floor_opts_plan(&o, 20000, err, sizeof(err)), 0);
	assert_int_equal(o.procs, 1);
	assert_int_equal(PARSE(&o, "message", "--pairs", "9991"), 0);
	assert_int_equal(floor_opts_plan(&o, 20000, err, sizeof(err)), 0);
	assert_int_equal(o.procs, 2);
	assert_int_equal(PARSE(&o, "message", "--pairs", "1000000"), 0);
	assert_int_equal(floor_opts_plan(&o, 20000, err, sizeof(err)), 0);
	assert_int_equal(o.procs, 101);
	/* 101 x 9,900 as the probe: allowed */
	assert_int_equal(PARSE(&o, "message", "--pairs", "999900", "--procs", "101"), 0);
	assert_int_equal(floor_opts_plan(&o, 20000, err, sizeof(err)), 0);
	assert_int_equal(PARSE(&o, "message", "--pairs", "100000", "--procs", "10"), 0);
	assert_int_equal(floor_opts_plan(&o, 20000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--procs 10 puts 10000 pairs in a process"));
	assert_non_null(strstr(err, "use --procs 11 or more"));
	assert_int_equal(PARSE(&o, "message", "--pairs", "3", "--procs", "4"), 0);
	assert_int_equal(floor_opts_plan(&o, 20000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--procs 4 is more than --pairs 3"));
	assert_int_equal(PARSE(&o, "message", "--pairs", "3"), 0);
	assert_int_equal(floor_opts_plan(&o, 21, err, sizeof(err)), -1);
	assert_int_equal(floor_opts_plan(&o, 10, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "open-file limit of 10"));
}

/* The automatic counts are capacity_plan's, the numbers c1m-server and c1m-client --workers auto use. */
static void test_plan_connect(void **state)
{
	static const uint64_t ns[] = { 1, 2000, 17892, 17893, 19000, 100000, 1000000 };
	struct floor_options o;
	struct capacity s, c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char n[32];

		snprintf(n, sizeof(n), "%llu", (unsigned long long)ns[i]);
		assert_int_equal(PARSE(&o, "connect", "-n", n), 0);
		assert_int_equal(floor_opts_plan(&o, 20000, err, sizeof(err)), 0);
		assert_int_equal(capacity_plan(CAPACITY_SERVER, 20000, 100, ns[i], &s, err, sizeof(err)), 0);
		assert_int_equal(capacity_plan(CAPACITY_CLIENT, 20000, 0, ns[i], &c, err, sizeof(err)), 0);
		assert_int_equal(o.servers, s.workers);
		assert_int_equal(o.clients, c.workers);
	}
	/* the README's layout at 1M: 56 server and 51 client processes */
	assert_int_equal(o.servers, 56);
	assert_int_equal(o.clients, 51);
	assert_int_equal(PARSE(&o, "connect", "-n", "100000", "--servers", "2"), 0);
	assert_int_equal(floor_opts_plan(&o, 20000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--servers 2 puts 50000 connections in a process"));
	assert_non_null(strstr(err, "use --servers 6 or more"));
	assert_int_equal(PARSE(&o, "connect", "-n", "100000", "--clients", "3"), 0);
	assert_int_equal(floor_opts_plan(&o, 20000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "use --clients 6 or more"));
	assert_int_equal(PARSE(&o, "connect", "-n", "3", "--clients", "4"), 0);
	assert_int_equal(floor_opts_plan(&o, 20000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--clients 4 is more than -n 3"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_defaults),
		cmocka_unit_test(test_connect_defaults),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_plan_message),
		cmocka_unit_test(test_plan_connect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
