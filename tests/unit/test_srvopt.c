/* Unit tests for the server option parser and the machine-dependent defaults (srvopt_resolve) with
 * fabricated environments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "server/core/srvopt.h"
#include "common/model/capacity.h"

/* A NULL-terminated argv literal; parse() counts it, so argc can never disagree with the list. */
#define ARGV(...) ((char *[]){ "c1m-server", __VA_ARGS__, NULL })

static int parse(char **argv, struct server_options *o, char *err, size_t errlen)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return srvopt_parse(argc, argv, o, err, errlen);
}

static void test_defaults(void **state)
{
	struct server_options o;
	char *argv[] = { "c1m-server", NULL };
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.bind_addr, "0.0.0.0");
	assert_int_equal(o.port_base, 8081);
	assert_int_equal(o.ports, 100);
	assert_int_equal(o.backlog, 0);          /* unresolved: from somaxconn */
	assert_int_equal(o.max_connections, 0);  /* unresolved: from the fd limit */
	assert_false(o.max_conn_given);
	assert_int_equal(o.workers, 0);
	assert_false(o.workers_auto);
	assert_int_equal(o.stats_interval_ms, 0);
	assert_false(o.check);
	assert_int_equal(o.idle_timeout_s, 0);
	assert_int_equal(o.high_watermark, SRVOPT_DEFAULT_HIGH_WATERMARK);
	assert_false(o.high_watermark_given);
	assert_int_equal(o.drain_timeout_ms, SRVOPT_DEFAULT_DRAIN_MS);
	assert_false(o.help);
	assert_false(o.version);
}

static void test_all_flags(void **state)
{
	struct server_options o;
	char **argv = ARGV("--bind", "127.0.0.1", "--port=9000", "--ports", "10", "--backlog", "65535",
			   "--max-connections", "1000000", "--workers", "7", "--stats-interval", "0.5", "--check",
			   "--idle-timeout=30", "--high-watermark", "64k");
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.bind_addr, "127.0.0.1");
	assert_int_equal(o.port_base, 9000);
	assert_int_equal(o.ports, 10);
	assert_int_equal(o.backlog, 65535);
	assert_int_equal(o.max_connections, 1000000);
	assert_true(o.max_conn_given);
	assert_int_equal(o.workers, 7);
	assert_int_equal(o.stats_interval_ms, 500);
	assert_true(o.check);
	assert_int_equal(o.idle_timeout_s, 30);
	assert_int_equal(o.high_watermark, 65536);
	assert_true(o.high_watermark_given);
}

static void test_ipv6_auto_and_suffix(void **state)
{
	struct server_options o;
	char **argv = ARGV("--bind", "::1", "--workers", "auto", "--high-watermark", "1M", "--stats-interval", "10");
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.bind_addr, "::1");
	assert_true(o.workers_auto);
	assert_int_equal(o.high_watermark, 1048576);
	assert_int_equal(o.stats_interval_ms, 10000);
}

static void test_help(void **state)
{
	struct server_options o;
	char **argv = ARGV("-h");
	char err[256] = "", usage[8192];

	(void)state;
	assert_int_equal(parse(argv, &o, err, sizeof(err)), 0);
	assert_true(o.help);
	assert_true(srvopt_usage("c1m-server", 0, usage, sizeof(usage)) < (int)sizeof(usage));
	assert_non_null(strstr(usage, "--max-connections"));
	assert_non_null(strstr(usage, "--workers N|auto"));
	assert_non_null(strstr(usage, "--high-watermark BYTES unsent echo"));
	assert_null(strstr(usage, "not accepted"));
	/* The stop's bound, its exit status and what a second signal does are stated. */
	assert_non_null(strstr(usage, "--drain-timeout SEC    graceful stop bound (default 5; 0 = close every"));
	assert_non_null(strstr(usage, "Exit\n                         status 0 either way"));
	assert_non_null(strstr(usage, "A second SIGTERM/SIGINT kills the workers at once"));
	assert_non_null(strstr(usage, "still running 2 s after the\n                         deadline"));
	assert_non_null(strstr(usage, "SIGPIPE is ignored"));
	/* A server with a fixed buffer says the flag is refused instead of documenting a value it ignores. */
	assert_true(srvopt_usage("c1m-epoll", 4096, usage, sizeof(usage)) < (int)sizeof(usage));
	assert_non_null(strstr(usage, "usage: c1m-epoll"));
	assert_non_null(strstr(usage, "--high-watermark       not accepted: the echo buffer is the fixed 4096-byte"));
	assert_null(strstr(usage, "BYTES unsent echo"));
}

/* Every rejected input must fail and name the flag and the value the user typed. */
static void expect_bad(char **argv, const char *needle1, const char *needle2)
{
	struct server_options o;
	char err[256] = "";

	assert_int_equal(parse(argv, &o, err, sizeof(err)), -1);
	if (strstr(err, needle1) == NULL || (needle2 != NULL && strstr(err, needle2) == NULL))
		fail_msg("error '%s' lacks '%s' / '%s'", err, needle1, needle2 ? needle2 : "");
}

/* --version is a flag of its own, listed in the usage, and takes no value. */
static void test_version(void **state)
{
	struct server_options o;
	char err[256] = "", usage[8192];

	(void)state;
	assert_int_equal(parse(ARGV("--port", "9000", "--version"), &o, err, sizeof(err)), 0);
	assert_true(o.version);
	assert_false(o.help);
	assert_int_equal(parse(ARGV("--version=1"), &o, err, sizeof(err)), -1);
	assert_string_equal(err, "--version takes no value (got '1')");
	assert_true(srvopt_usage("c1m-server", 0, usage, sizeof(usage)) < (int)sizeof(usage));
	assert_non_null(strstr(usage, "\n  --version              print the version"));
}

static void test_bad_input(void **state)
{
	(void)state;
	expect_bad(ARGV("--port", "70000"), "--port", "70000");
	expect_bad(ARGV("--port", "0"), "--port", "'0'");
	expect_bad(ARGV("--port", "-1"), "--port", "-1");
	expect_bad(ARGV("--port", "80x"), "--port", "80x");
	expect_bad(ARGV("--ports", "0"), "--ports", "'0'");
	expect_bad(ARGV("--port", "65500", "--ports", "100"), "65599", "past 65535");
	expect_bad(ARGV("--ports", "100", "--port", "65437"), "65536", NULL);
	expect_bad(ARGV("--bogus"), "unknown option", "--bogus");
	expect_bad(ARGV("stray"), "unexpected argument", "stray");
	expect_bad(ARGV("--port"), "--port", "missing value");
	expect_bad(ARGV("--check=yes"), "--check", "yes");
	expect_bad(ARGV("--bind", "localhost"), "--bind", "localhost");
	expect_bad(ARGV("--bind", "1.2.3.256"), "--bind", "1.2.3.256");
	expect_bad(ARGV("--backlog", "0"), "--backlog", "'0'");
	expect_bad(ARGV("--backlog", "4294967296"), "--backlog", "4294967296");
	expect_bad(ARGV("--max-connections", "0"), "--max-connections", "'0'");
	expect_bad(ARGV("--max-connections", "1e6"), "--max-connections", "1e6");
	expect_bad(ARGV("--workers", "0"), "--workers", "'0'");
	expect_bad(ARGV("--workers", "many"), "--workers", "many");
	expect_bad(ARGV("--workers", "5000"), "--workers", "5000");
	expect_bad(ARGV("--workers", "4097"), "--workers", "1..4096");   /* WORKERS_MAX, the one cap */
	expect_bad(ARGV("--stats-interval", "0"), "--stats-interval", "'0'");
	expect_bad(ARGV("--stats-interval", "0.05"), "--stats-interval", "0.05");
	expect_bad(ARGV("--stats-interval", "1."), "--stats-interval", "1.");
	expect_bad(ARGV("--stats-interval", "1.2345"), "--stats-interval", "1.2345");
	expect_bad(ARGV("--idle-timeout", "-5"), "--idle-timeout", "-5");
	expect_bad(ARGV("--high-watermark", "10"), "--high-watermark", "'10'");
	expect_bad(ARGV("--high-watermark", "2G"), "--high-watermark", "2G");
	expect_bad(ARGV("--high-watermark", "k"), "--high-watermark", "'k'");
	expect_bad(ARGV("--metrics", "9100"), "--metrics", "'9100'");
	expect_bad(ARGV("--metrics", "localhost:9100"), "--metrics", "localhost:9100");
	expect_bad(ARGV("--metrics", "127.0.0.1:"), "--metrics", "127.0.0.1:");
	expect_bad(ARGV("--metrics", "127.0.0.1:65536"), "--metrics", "65536");
	expect_bad(ARGV("--metrics", ":9100"), "--metrics", "':9100'");
	expect_bad(ARGV("--metrics", "::1:9100"), "--metrics", "::1:9100");    /* IPv6 needs brackets */
	expect_bad(ARGV("--metrics", "[::1]9100"), "--metrics", "[::1]9100");
	expect_bad(ARGV("--metrics", "[127.0.0.1]:9100"), "--metrics", "[127.0.0.1]");
	expect_bad(ARGV("--metrics"), "--metrics", "missing value");
	expect_bad(ARGV("--drain-timeout", "-1"), "--drain-timeout", "'-1'");
	expect_bad(ARGV("--drain-timeout", "5s"), "--drain-timeout", "'5s'");
	expect_bad(ARGV("--drain-timeout", "0.0001"), "--drain-timeout", "0.0001");
	expect_bad(ARGV("--drain-timeout", "3600.001"), "--drain-timeout", "3600.001");
	expect_bad(ARGV("--drain-timeout", ".5"), "--drain-timeout", "'.5'");
	expect_bad(ARGV("--drain-timeout", "1."), "--drain-timeout", "0..3600");
	expect_bad(ARGV("--drain-timeout", ""), "--drain-timeout", "''");
	expect_bad(ARGV("--drain-timeout"), "--drain-timeout", "missing value");
	/* The metrics port must not be one of the echo ports (the workers could not bind it). */
	expect_bad(ARGV("--port", "9000", "--ports", "10", "--metrics", "127.0.0.1:9009"), "--metrics port 9009",
		   "9000..9009");
}

static void test_drain_timeout(void **state)
{
	struct server_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(ARGV("--drain-timeout", "0"), &o, err, sizeof(err)), 0);
	assert_int_equal(o.drain_timeout_ms, 0);
	assert_int_equal(parse(ARGV("--drain-timeout=2.5"), &o, err, sizeof(err)), 0);
	assert_int_equal(o.drain_timeout_ms, 2500);
	assert_int_equal(parse(ARGV("--drain-timeout", "0.001"), &o, err, sizeof(err)), 0);
	assert_int_equal(o.drain_timeout_ms, 1);
	assert_int_equal(parse(ARGV("--drain-timeout", "3600"), &o, err, sizeof(err)), 0);
	assert_int_equal(o.drain_timeout_ms, SRVOPT_MAX_DRAIN_MS);
	/* The last one wins, like every other flag. */
	assert_int_equal(parse(ARGV("--drain-timeout", "1", "--drain-timeout", "30"), &o, err, sizeof(err)), 0);
	assert_int_equal(o.drain_timeout_ms, 30000);
}

/* --cpus: the list in the order written (worker i on its i-th CPU), none by default, errors named. */
static void test_cpus(void **state)
{
	struct server_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(ARGV("--port", "9000"), &o, err, sizeof(err)), 0);
	assert_int_equal(o.cpus.count, 0);
	assert_int_equal(parse(ARGV("--cpus", "1,0"), &o, err, sizeof(err)), 0);
	assert_int_equal(o.cpus.count, 2);
	assert_int_equal(o.cpus.cpu[0], 1);
	assert_int_equal(o.cpus.cpu[1], 0);
	assert_int_equal(parse(ARGV("--cpus=0-3"), &o, err, sizeof(err)), 0);
	assert_int_equal(o.cpus.count, 4);
	assert_int_equal(parse(ARGV("--cpus", "2-1"), &o, err, sizeof(err)), -1);
	assert_string_equal(err, "--cpus '2-1': '2-1' is a reversed range");
	assert_int_equal(parse(ARGV("--cpus"), &o, err, sizeof(err)), -1);
}

static void test_metrics_flag(void **state)
{
	struct server_options o;
	char err[256] = "", usage[8192];

	(void)state;
	assert_int_equal(parse(ARGV("--port", "9000"), &o, err, sizeof(err)), 0);
	assert_false(o.metrics);
	assert_int_equal(parse(ARGV("--metrics", "127.0.0.1:9100"), &o, err, sizeof(err)), 0);
	assert_true(o.metrics);
	assert_string_equal(o.metrics_addr, "127.0.0.1");
	assert_int_equal(o.metrics_port, 9100);
	assert_int_equal(parse(ARGV("--metrics=[::1]:0"), &o, err, sizeof(err)), 0);
	assert_string_equal(o.metrics_addr, "::1");
	assert_int_equal(o.metrics_port, 0);
	assert_int_equal(parse(ARGV("--port", "9000", "--ports", "10", "--metrics", "0.0.0.0:9010"), &o, err,
				    sizeof(err)), 0);
	assert_int_equal(o.metrics_port, 9010);
	assert_true(srvopt_usage("c1m-epoll", 4096, usage, sizeof(usage)) < (int)sizeof(usage));
	assert_non_null(strstr(usage, "--metrics ADDR:PORT"));
}

static void resolve_ok(struct server_options *o, uint64_t nofile, int somaxconn, bool tty)
{
	struct srvopt_env env = { nofile, somaxconn, tty };
	char err[256] = "";

	if (srvopt_resolve(o, &env, err, sizeof(err)) != 0)
		fail_msg("srvopt_resolve failed: %s", err);
}

static void test_resolve_defaults(void **state)
{
	struct server_options o;
	char *argv[] = { "c1m-server", NULL };
	char err[256];

	(void)state;
	assert_int_equal(parse(argv, &o, err, sizeof(err)), 0);
	resolve_ok(&o, 20000, 4096, true);
	assert_int_equal(o.backlog, 4096);
	assert_int_equal(o.workers, 1);
	assert_int_equal(o.fds_per_worker, 20000 - 100 - CAPACITY_FD_RESERVE);
	assert_int_equal(o.max_connections, 20000 - 100 - CAPACITY_FD_RESERVE);
	assert_int_equal(o.per_worker_max, o.max_connections);
	assert_int_equal(o.stats_interval_ms, 1000);

	assert_int_equal(parse(argv, &o, err, sizeof(err)), 0);
	resolve_ok(&o, 1024, 128, false);
	assert_int_equal(o.backlog, 128);
	assert_int_equal(o.stats_interval_ms, 10000);
	assert_int_equal(o.max_connections, 1024 - 100 - CAPACITY_FD_RESERVE);
}

static void test_resolve_workers(void **state)
{
	struct server_options o;
	char err[256];
	unsigned fds = 20000 - 100 - CAPACITY_FD_RESERVE;
	uint64_t per = (uint64_t)fds * CAPACITY_SERVER_FILL_PCT / 100;

	(void)state;
	/* Fixed workers without a target: every worker gets the whole per-process budget. */
	assert_int_equal(parse(ARGV("--workers", "3"), &o, err, sizeof(err)), 0);
	resolve_ok(&o, 20000, 4096, false);
	assert_int_equal(o.max_connections, 3ULL * fds);
	assert_int_equal(o.per_worker_max, fds);

	/* Fixed workers with a target: the target is split, rounded up. */
	assert_int_equal(parse(ARGV("--workers", "3", "--max-connections", "3001"), &o, err, sizeof(err)), 0);
	resolve_ok(&o, 20000, 4096, false);
	assert_int_equal(o.per_worker_max, 1001);

	/* auto: enough workers for 1M at 90% of the fds per process. */
	assert_int_equal(parse(ARGV("--workers", "auto", "--max-connections", "1000000"), &o, err, sizeof(err)), 0);
	resolve_ok(&o, 20000, 4096, false);
	assert_int_equal(o.workers, (unsigned)((1000000 + per - 1) / per));
	assert_int_equal(o.workers, 56);              /* what c1m-doctor --role server says here */
	/* ... and each may use its whole fd budget: the 10% spare absorbs SO_REUSEPORT's uneven spread
	 * instead of every worker stopping at exactly its share. */
	assert_int_equal(o.per_worker_max, fds);
	assert_true((uint64_t)per * o.workers >= 1000000);

	/* auto without a target is one worker. */
	assert_int_equal(parse(ARGV("--workers", "auto"), &o, err, sizeof(err)), 0);
	resolve_ok(&o, 20000, 4096, false);
	assert_int_equal(o.workers, 1);

	/* An explicit target beyond the fd limit is honoured (the limits check and EMFILE handling cover it). */
	assert_int_equal(parse(ARGV("--max-connections", "1000"), &o, err, sizeof(err)), 0);
	resolve_ok(&o, 256, 4096, false);
	assert_int_equal(o.per_worker_max, 1000);
	assert_int_equal(o.fds_per_worker, 256 - 100 - CAPACITY_FD_RESERVE);

	/* An explicit backlog is kept. */
	assert_int_equal(parse(ARGV("--backlog", "100"), &o, err, sizeof(err)), 0);
	resolve_ok(&o, 20000, 4096, false);
	assert_int_equal(o.backlog, 100);
}

static void test_resolve_errors(void **state)
{
	struct server_options o;
	struct srvopt_env env = { 100, 4096, false };
	char err[256] = "";

	(void)state;
	/* 100 fds cannot even hold the 100 listeners. */
	assert_int_equal(parse((char *[]){ "c1m-server", NULL }, &o, err, sizeof(err)), 0);
	assert_int_equal(srvopt_resolve(&o, &env, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ulimit -n"));
	/* somaxconn unknown and no --backlog: refuse rather than guess. */
	assert_int_equal(parse((char *[]){ "c1m-server", NULL }, &o, err, sizeof(err)), 0);
	env.nofile = 20000;
	env.somaxconn = 0;
	assert_int_equal(srvopt_resolve(&o, &env, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--backlog"));
	/* auto needing more than WORKERS_MAX processes. */
	assert_int_equal(parse(ARGV("--workers", "auto", "--max-connections", "100000000"), &o, err, sizeof(err)),
			 0);
	env.somaxconn = 4096;
	env.nofile = 1024;
	assert_int_equal(srvopt_resolve(&o, &env, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "auto"));
	assert_non_null(strstr(err, "more than the 4096 supported"));
	/* ... while the most processes it may plan are accepted, and so is that count given by hand. */
	assert_int_equal(parse(ARGV("--workers", "auto", "--max-connections", "3330048"), &o, err, sizeof(err)), 0);
	assert_int_equal(srvopt_resolve(&o, &env, err, sizeof(err)), 0);   /* 813 per process x 4096 */
	assert_int_equal(o.workers, WORKERS_MAX);
	assert_int_equal(parse(ARGV("--workers", "4096"), &o, err, sizeof(err)), 0);
	assert_int_equal(o.workers, WORKERS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_flags),
		cmocka_unit_test(test_ipv6_auto_and_suffix),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_drain_timeout),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_metrics_flag),
		cmocka_unit_test(test_resolve_defaults),
		cmocka_unit_test(test_resolve_workers),
		cmocka_unit_test(test_resolve_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
