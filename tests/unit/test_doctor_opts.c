/* Unit tests for c1m-doctor's option parser: the defaults, every flag (both value spellings, -n attached),
 * --help stopping the parse, every rejection with the exact one-line message main() prints after
 * "c1m-doctor: ", and the modes that do not go together. The parser is pure, so each case is one call. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/sys/workers.h"
#include "doctor/doctor_opts.h"

#define MAX_ARGS 32

/* Parses the NULL-terminated arguments after the program name. */
static int parse_v(struct doctor_options *o, char *err, size_t errlen, va_list ap)
{
	char *argv[MAX_ARGS + 2];
	const char *a;
	int argc = 1;

	argv[0] = "c1m-doctor";
	while ((a = va_arg(ap, const char *)) != NULL && argc <= MAX_ARGS)
		argv[argc++] = (char *)a;
	argv[argc] = NULL;
	err[0] = '\0';
	return doctor_opts_parse(argc, argv, o, err, errlen);
}

static void expect_ok(struct doctor_options *o, ...)
{
	char err[DOCTOR_ERR_LEN];
	va_list ap;
	int rc;

	va_start(ap, o);
	rc = parse_v(o, err, sizeof(err), ap);
	va_end(ap);
	if (rc != 0)
		fail_msg("parse failed: %s", err);
	assert_string_equal(err, "");
}

/* The parse fails with exactly msg, one line. */
static void expect_error(const char *msg, ...)
{
	struct doctor_options o;
	char err[DOCTOR_ERR_LEN];
	va_list ap;
	int rc;

	va_start(ap, msg);
	rc = parse_v(&o, err, sizeof(err), ap);
	va_end(ap);
	if (rc != -1)
		fail_msg("parse accepted what should fail with '%s'", msg);
	assert_null(strchr(err, '\n'));
	assert_string_equal(err, msg);
}

static void test_defaults(void **state)
{
	struct doctor_options o;

	(void)state;
	expect_ok(&o, "--role", "server", "-n", "1000", NULL);
	assert_int_equal(o.mode, DOCTOR_MODE_CHECK);
	assert_true(o.role_set);
	assert_true(o.target_set);
	assert_int_equal(o.plan.role, LIMITS_ROLE_SERVER);
	assert_int_equal(o.plan.target, 1000);
	assert_int_equal(o.plan.ports, DOCTOR_DEFAULT_PORTS);
	assert_int_equal(o.plan.sources, 1);
	assert_int_equal(o.plan.dst_addrs, 1);
	assert_int_equal(o.plan.workers, 0);
	assert_int_equal(o.plan.connect_rate, 0);
	assert_int_equal(o.plan.user_bytes_per_conn, 0);
	assert_int_equal(o.plan.active_sockets, 0);
	assert_int_equal(o.plan.bytes_per_active_socket, 0);
	assert_false(o.json);
	assert_false(o.help);
	assert_false(o.version);
	assert_false(o.since_set);
	assert_null(o.baseline);
	assert_null(o.save_baseline);
	assert_null(o.from);
}

static void test_check_flags(void **state)
{
	struct doctor_options o;

	(void)state;
	expect_ok(&o, "--role", "client", "-n", "5000", "--ports", "10", "--sources", "127.0.0.2-127.0.0.9",
		  "--dst-addrs", "3", "--workers", "4", "--rate", "1000", "--user-bytes", "4096", "--active", "100",
		  "--bytes-per-active", "16384", "--json", NULL);
	assert_int_equal(o.plan.role, LIMITS_ROLE_CLIENT);
	assert_int_equal(o.plan.target, 5000);
	assert_int_equal(o.plan.ports, 10);
	assert_int_equal(o.plan.sources, 8);
	assert_int_equal(o.plan.dst_addrs, 3);
	assert_int_equal(o.plan.workers, 4);
	assert_int_equal(o.plan.connect_rate, 1000);
	assert_int_equal(o.plan.user_bytes_per_conn, 4096);
	assert_int_equal(o.plan.active_sockets, 100);
	assert_int_equal(o.plan.bytes_per_active_socket, 16384);
	assert_true(o.json);

	/* "=" values, -n attached, a count of sources, auto workers, the largest values */
	expect_ok(&o, "--role=both", "-n1000000000", "--sources=16777216", "--workers=auto", "--ports=65535",
		  "--active=2000000000", "--rate=100000000", "--user-bytes=1073741824",
		  "--bytes-per-active=1073741824", "--dst-addrs=16777216", NULL);
	assert_int_equal(o.plan.role, LIMITS_ROLE_BOTH);
	assert_int_equal(o.plan.target, 1000000000);
	assert_int_equal(o.plan.sources, 16777216);
	assert_int_equal(o.plan.workers, 0);
	assert_int_equal(o.plan.ports, 65535);
	assert_int_equal(o.plan.active_sockets, 2000000000);
	assert_int_equal(o.plan.dst_addrs, 16777216);

	expect_ok(&o, "-n", "1", "--role", "server", "--workers", "4096", "--workers", "1", NULL);
	assert_int_equal(o.plan.workers, 1); /* the last one counts */
	expect_ok(&o, "-n", "1", "--role", "server", "--workers", "4096", NULL);
	assert_int_equal(o.plan.workers, WORKERS_MAX);
}

static void test_explain_flags(void **state)
{
	struct doctor_options o;

	(void)state;
	expect_ok(&o, "--explain", NULL);
	assert_int_equal(o.mode, DOCTOR_MODE_EXPLAIN);
	assert_false(o.since_set);
	expect_ok(&o, "--explain", "--since", "600", "--baseline", "b.txt", "--from", "client.json", "--json", NULL);
	assert_int_equal(o.mode, DOCTOR_MODE_EXPLAIN);
	assert_true(o.since_set);
	assert_true(o.since_s == 600.0);
	assert_string_equal(o.baseline, "b.txt");
	assert_string_equal(o.from, "client.json");
	assert_true(o.json);
	expect_ok(&o, "--since=3153600000", "--explain", NULL); /* a century; order does not matter */
	assert_true(o.since_s == 3153600000.0);

	expect_ok(&o, "--save-baseline", "base.txt", NULL);
	assert_string_equal(o.save_baseline, "base.txt");
	assert_int_equal(o.mode, DOCTOR_MODE_CHECK);
	expect_ok(&o, "--save-baseline=x", "--json", NULL);
	assert_string_equal(o.save_baseline, "x");
}

/* --help stops the parse: what comes after it is not looked at, what came before still is. */
static void test_help(void **state)
{
	struct doctor_options o;
	char usage[DOCTOR_USAGE_LEN];
	int n;

	(void)state;
	expect_ok(&o, "--help", NULL);
	assert_true(o.help);
	expect_ok(&o, "-h", NULL);
	assert_true(o.help);
	expect_ok(&o, "--help", "--role", "bogus", "stray", NULL);
	assert_true(o.help);
	expect_ok(&o, "stray", "--help", NULL); /* a stray argument is only reported at the end */
	assert_true(o.help);
	expect_error("--role 'bogus': must be server, client, both or balancer", "--role", "bogus", "--help", NULL);
	expect_error("--help takes no value ('--help=1')", "--help=1", NULL);

	n = doctor_opts_usage(usage, sizeof(usage));
	assert_true(n > 0 && (size_t)n < sizeof(usage));
	assert_non_null(strstr(usage, "usage: c1m-doctor --role server|client|both -n N"));
	assert_non_null(strstr(usage, "--save-baseline FILE"));
	assert_non_null(strstr(usage, "(default 100)"));
	assert_non_null(strstr(usage, "c1m-doctor -h | --help | --version\n"));
}

/* --version stops the parse like --help; it takes no value. */
static void test_version(void **state)
{
	struct doctor_options o;

	(void)state;
	expect_ok(&o, "--version", NULL);
	assert_true(o.version);
	assert_false(o.help);
	expect_ok(&o, "--version", "--role", "bogus", "stray", NULL);
	assert_true(o.version);
	expect_error("--version takes no value ('--version=1')", "--version=1", NULL);
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_error("--role 'bogus': must be server, client, both or balancer", "--role", "bogus", "-n", "5", NULL);
	expect_error("--role '': must be server, client, both or balancer", "--role=", "-n", "5", NULL);
	expect_error("-n '0': must be between 1 and 1000000000", "--role", "both", "-n", "0", NULL);
	expect_error("-n '1000000001': must be between 1 and 1000000000", "-n", "1000000001", NULL);
	expect_error("-n '1e3': not a whole number", "-n", "1e3", NULL);
	expect_error("-n '-5': not a whole number", "-n", "-5", NULL);
	expect_error("-n '5 ': not a whole number", "-n", "5 ", NULL);
	expect_error("-n '': not a whole number", "-n", "", NULL);
	expect_error("-n '18446744073709551616': not a whole number", "-n", "18446744073709551616", NULL);
	expect_error("-n 'x': not a whole number", "-nx", NULL);
	expect_error("--ports '0': must be between 1 and 65535", "--ports", "0", NULL);
	expect_error("--ports '65536': must be between 1 and 65535", "--ports", "65536", NULL);
	expect_error("--sources '0': must be between 1 and 16777216", "--sources", "0", NULL);
	expect_error("--sources '16777217': must be between 1 and 16777216", "--sources", "16777217", NULL);
	expect_error("--sources '10.0.0.1-10.0.0.3': source addresses must be in 127.0.0.0/8 (other addresses only with --role balancer)", "--sources",
		     "10.0.0.1-10.0.0.3", NULL);
	expect_error("--dst-addrs '0': must be between 1 and 16777216", "--dst-addrs", "0", NULL);
	expect_error("--workers '0': must be auto or a number from 1 to 4096", "--workers", "0", NULL);
	expect_error("--workers '4097': must be auto or a number from 1 to 4096", "--workers", "4097", NULL);
	expect_error("--workers 'x': must be auto or a number from 1 to 4096", "--workers", "x", NULL);
	expect_error("--rate '0': must be between 1 and 100000000", "--rate", "0", NULL);
	expect_error("--rate '100000001': must be between 1 and 100000000", "--rate", "100000001", NULL);
	expect_error("--user-bytes '1073741825': must be between 1 and 1073741824", "--user-bytes", "1073741825",
		     NULL);
	expect_error("--active '2000000001': must be between 1 and 2000000000", "--active", "2000000001", NULL);
	expect_error("--bytes-per-active '0': must be between 1 and 1073741824", "--bytes-per-active", "0", NULL);
	expect_error("--since '0': must be between 1 and 3153600000", "--explain", "--since", "0", NULL);
	expect_error("--since '3153600001': must be between 1 and 3153600000", "--since", "3153600001", NULL);
	expect_error("--since 'abc': not a whole number", "--since", "abc", NULL);
}

/* A bad source range names what addr_parse_range found wrong. */
static void test_bad_source_range(void **state)
{
	struct doctor_options o;
	char *argv[] = { "c1m-doctor", "--sources", "127.0.0.9-127.0.0.2", NULL };
	char err[DOCTOR_ERR_LEN] = "";

	(void)state;
	assert_int_equal(doctor_opts_parse(3, argv, &o, err, sizeof(err)), -1);
	assert_int_equal(strncmp(err, "--sources '127.0.0.9-127.0.0.2': ", 33), 0);
	assert_true(strlen(err) > 33);
}

static void test_bad_syntax(void **state)
{
	(void)state;
	expect_error("--role needs a value", "--role", NULL);
	expect_error("-n needs a value", "--role", "both", "-n", NULL);
	expect_error("--from needs a value", "--explain", "--from", NULL);
	expect_error("unknown option '--bogus' (see --help)", "--bogus", NULL);
	expect_error("unknown option '--bogus=1' (see --help)", "--bogus=1", NULL);
	expect_error("unknown option '--rol' (see --help)", "--rol", "both", NULL); /* no abbreviations */
	expect_error("unknown option '-x' (see --help)", "-x", NULL);
	expect_error("unknown option '-x' (see --help)", "-xyz", NULL);
	expect_error("--json takes no value ('--json=1')", "--json=1", NULL);
	expect_error("--explain takes no value ('--explain=')", "--explain=", NULL);
	expect_error("unexpected argument 'foo' (see --help)", "foo", "--role", "both", "-n", "5", NULL);
	expect_error("unexpected argument 'foo' (see --help)", "--role", "both", "-n", "5", "foo", "bar", NULL);
	expect_error("unexpected argument '-' (see --help)", "--role", "both", "-n", "5", "-", NULL);
	expect_error("unexpected argument '-n' (see --help)", "--role", "both", "--", "-n", "5", NULL);
	/* an unknown flag before a stray argument is reported first, as getopt's permutation did */
	expect_error("unknown option '--bogus' (see --help)", "foo", "--bogus", NULL);
}

static void test_modes(void **state)
{
	struct doctor_options o;

	(void)state;
	expect_error("--role is required (server, client, both or balancer; see --help)", NULL);
	expect_error("--role is required (server, client, both or balancer; see --help)", "-n", "5", NULL);
	expect_error("-n is required (connections wanted; see --help)", "--role", "both", NULL);
	expect_error("--explain takes no --role or -n", "--explain", "--role", "both", NULL);
	expect_error("--explain takes no --role or -n", "--explain", "-n", "5", NULL);
	expect_error("--since only goes with --explain", "--role", "both", "-n", "5", "--since", "10", NULL);
	expect_error("--baseline only goes with --explain", "--role", "both", "-n", "5", "--baseline", "b", NULL);
	expect_error("--from only goes with --explain", "--role", "both", "-n", "5", "--from", "c.json", NULL);
	expect_error("--since only goes with --explain", "--since", "10", "--baseline", "b", "--from", "c", NULL);
	expect_error("--save-baseline 'b' takes no other mode", "--save-baseline", "b", "--explain", NULL);
	expect_error("--save-baseline 'b' takes no other mode", "--save-baseline", "b", "--role", "both", NULL);
	expect_error("--save-baseline 'b' takes no other mode", "--save-baseline", "b", "-n", "5", NULL);
	expect_error("--save-baseline 'b' takes no other mode", "--save-baseline", "b", "--from", "c", NULL);
	/* what --save-baseline ignores: the plan's other numbers, --since and --baseline */
	expect_ok(&o, "--save-baseline", "b", "--ports", "5", "--since", "10", "--baseline", "x", NULL);
	/* --explain ignores the plan's other numbers but still checks them */
	expect_ok(&o, "--explain", "--ports", "5", "--workers", "3", NULL);
	expect_error("--ports '0': must be between 1 and 65535", "--explain", "--ports", "0", NULL);
}

/* --role balancer: its backends as a count (with --ports, default 1) or an ADDR:PORT list, its source
 * addresses anywhere, HAProxy's maxconn and fd limit; the flags that do not apply to it are refused, and its
 * flags are refused for the other roles. */
static void test_balancer(void **state)
{
	struct doctor_options o;

	(void)state;
	expect_ok(&o, "--role", "balancer", "-n", "1500", "--backends", "198.18.0.1:8081,198.18.0.4:8081",
		  "--sources", "198.18.0.11-198.18.0.20", "--maxconn", "4000", "--fd-limit", "20000", NULL);
	assert_int_equal(o.plan.role, LIMITS_ROLE_BALANCER);
	assert_int_equal(o.plan.dst_addrs, 2);
	assert_int_equal(o.plan.ports, 1);
	assert_int_equal(o.plan.sources, 10);
	assert_int_equal(o.plan.maxconn, 4000);
	assert_int_equal(o.plan.fd_limit, 20000);
	assert_true(o.backends_list);
	expect_ok(&o, "--role=balancer", "-n", "5", "--backends", "3", NULL);
	assert_int_equal(o.plan.dst_addrs, 3);
	assert_int_equal(o.plan.ports, 1);        /* not c1m-server's 100: one port per server line */
	assert_int_equal(o.plan.maxconn, 0);
	assert_int_equal(o.plan.fd_limit, 0);
	expect_ok(&o, "--role", "balancer", "-n", "5", "--backends", "3", "--ports", "4", "--user-bytes", "100", NULL);
	assert_int_equal(o.plan.ports, 4);
	assert_int_equal(o.plan.user_bytes_per_conn, 100);
	/* the same address on two ports is two backends */
	expect_ok(&o, "--role", "balancer", "-n", "5", "--backends", "10.0.0.1:1,10.0.0.1:2", NULL);
	assert_int_equal(o.plan.dst_addrs, 2);

	expect_error("--role balancer needs --backends (a count, or ADDR:PORT,...; see --help)", "--role", "balancer",
		     "-n", "5", NULL);
	expect_error("--workers does not go with --role balancer", "--role", "balancer", "-n", "5", "--backends", "2",
		     "--workers", "2", NULL);
	expect_error("--dst-addrs does not go with --role balancer", "--role", "balancer", "-n", "5", "--backends",
		     "2", "--dst-addrs", "2", NULL);
	expect_error("--rate does not go with --role balancer", "--role", "balancer", "-n", "5", "--backends", "2",
		     "--rate", "100", NULL);
	expect_error("--ports does not go with --role balancer and a --backends list (its entries carry the ports)",
		     "--role", "balancer", "-n", "5", "--backends", "10.0.0.1:80", "--ports", "2", NULL);
	expect_error("--backends only goes with --role balancer", "--role", "client", "-n", "5", "--backends", "2",
		     NULL);
	expect_error("--maxconn only goes with --role balancer", "--role", "server", "-n", "5", "--maxconn", "9", NULL);
	expect_error("--fd-limit only goes with --role balancer", "--explain", "--fd-limit", "9", NULL);
	expect_error("--sources '198.18.0.11-198.18.0.12': source addresses must be in 127.0.0.0/8 (other addresses"
		     " only with --role balancer)", "--role", "client", "-n", "5", "--sources", "198.18.0.11-198.18.0.12",
		     NULL);
	expect_error("--backends '0': must be between 1 and 16777216", "--backends", "0", NULL);
	expect_error("--backends '10.0.0.1:80,10.0.0.1:80': a backend is listed twice", "--backends",
		     "10.0.0.1:80,10.0.0.1:80", NULL);
	expect_error("--backends '10.0.0.1:0': each backend is ADDR:PORT ([IPv6]:PORT), PORT 1..65535", "--backends", "10.0.0.1:0",
		     NULL);
	expect_error("--backends '10.0.0.1:80,': want a count or ADDR:PORT,ADDR:PORT,...", "--backends", "10.0.0.1:80,",
		     NULL);
	expect_error("--backends '10.0.0:80': each backend is ADDR:PORT ([IPv6]:PORT), PORT 1..65535", "--backends", "10.0.0:80",
		     NULL);
	/* IPv6 backends in brackets, as in a URL; the same address with another port is another backend */
	expect_ok(&o, "--role", "balancer", "-n", "5", "--backends", "[2001:2::1]:80,[2001:2::1]:81,198.18.0.1:80",
		  "--sources", "2001:2::11-2001:2::20", NULL);
	assert_int_equal(o.plan.dst_addrs, 3);
	assert_int_equal(o.plan.sources, 16);
	expect_error("--backends '[2001:2::1]:80,[2001:2:0::1]:80': a backend is listed twice", "--backends",
		     "[2001:2::1]:80,[2001:2:0::1]:80", NULL);
	expect_error("--backends '2001:2::1:80': each backend is ADDR:PORT ([IPv6]:PORT), PORT 1..65535", "--backends",
		     "2001:2::1:80", NULL);
	expect_error("--backends '[2001:2::1]80': each backend is ADDR:PORT ([IPv6]:PORT), PORT 1..65535", "--backends",
		     "[2001:2::1]80", NULL);
	expect_error("--save-baseline 'b' takes no other mode", "--save-baseline", "b", "--role", "balancer", NULL);
	expect_error("--maxconn '0': must be between 1 and 1000000000", "--maxconn", "0", NULL);
	expect_error("--fd-limit '1073741817': must be between 1 and 1073741816", "--fd-limit", "1073741817", NULL);
}

/* The parser keeps no state between calls: a failed parse does not leak into the next. */
static void test_repeatable(void **state)
{
	struct doctor_options o;

	(void)state;
	expect_error("--role 'x': must be server, client, both or balancer", "--role", "x", NULL);
	expect_ok(&o, "--role", "both", "-n", "7", NULL);
	assert_int_equal(o.plan.target, 7);
	expect_ok(&o, "--explain", NULL);
	assert_false(o.role_set);
	assert_false(o.target_set);
	assert_int_equal(o.plan.target, 0);
}

/* IPv6 source ranges count like IPv4 ones, for every role (IPv6 has no loopback range to stay inside). */
static void test_ipv6_sources(void **state)
{
	struct doctor_options o;

	(void)state;
	expect_ok(&o, "--role", "client", "-n", "5000", "--sources", "2001:2::1-2001:2::8", NULL);
	assert_int_equal(o.plan.sources, 8);
	expect_ok(&o, "--role", "both", "-n", "5000", "--sources", "::1", NULL);
	assert_int_equal(o.plan.sources, 1);
	expect_error("--sources '::1-127.0.0.1': bad address range '::1-127.0.0.1': the two ends are of different "
		     "families (IPv6 and IPv4)", "--role", "client", "-n", "5", "--sources", "::1-127.0.0.1", NULL);
	expect_error("--sources '2001:2::-2001:3::': bad address range '2001:2::-2001:3::': 2^64 or more addresses, "
		     "at most 16777216 allowed", "--role", "client", "-n", "5", "--sources", "2001:2::-2001:3::", NULL);
}

/* --tls: the client's TLS memory, for a plan with a client side only. */
static void test_tls(void **state)
{
	struct doctor_options o;

	(void)state;
	expect_ok(&o, "--role", "client", "-n", "5000", NULL);
	assert_false(o.plan.client_tls);
	expect_ok(&o, "--role", "client", "-n", "5000", "--tls", NULL);
	assert_true(o.plan.client_tls);
	expect_ok(&o, "--tls", "--role", "both", "-n", "5000", NULL);
	assert_true(o.plan.client_tls);
	expect_error("--tls adds c1m-client's TLS memory: it needs --role client or both (a TLS server's own is its "
		     "--user-bytes)", "--role", "server", "-n", "5", "--tls", NULL);
	expect_error("--tls does not go with --role balancer", "--role", "balancer", "-n", "5", "--backends", "2",
		     "--tls", NULL);
	expect_error("--tls describes a plan's client (--role client or both), not --explain", "--explain", "--tls",
		     NULL);
	expect_error("--save-baseline 'f' takes no other mode", "--save-baseline", "f", "--tls", NULL);
	expect_error("--tls takes no value ('--tls=1')", "--role", "client", "-n", "5", "--tls=1", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_check_flags),
		cmocka_unit_test(test_explain_flags),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_source_range),
		cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_repeatable),
		cmocka_unit_test(test_balancer),
		cmocka_unit_test(test_ipv6_sources),
		cmocka_unit_test(test_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
