/* Unit tests for c1m-client's option parser and run plan: defaults, every flag in both spellings, and each
 * rejection (unknown flag, N <= 0, bad range, ports past 65535, too few workers) with a message that names
 * the flag and the value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "client/client_opts.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int parse(int argc, char **argv, struct client_options *o, char *err, size_t errlen)
{
	err[0] = '\0';
	return client_opts_parse(argc, argv, o, err, errlen);
}

static void expect_error(int argc, char **argv, const char *needle1, const char *needle2)
{
	struct client_options o;
	char err[256];

	assert_int_equal(parse(argc, argv, &o, err, sizeof(err)), -1);
	assert_null(strchr(err, '\n'));
	if (!strstr(err, needle1) || (needle2 && !strstr(err, needle2)))
		fail_msg("error '%s' should mention '%s'%s%s", err, needle1, needle2 ? " and " : "",
			 needle2 ? needle2 : "");
}

static void test_defaults(void **state)
{
	char *argv[] = { "c1m-client", "127.0.0.1", "-n", "19000" };
	struct client_options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.host, "127.0.0.1");
	assert_true(addr_equal(&o.dst, &(struct addr_ip){ AF_INET, { 127, 0, 0, 1 } }));
	assert_int_equal(o.target, 19000);
	assert_int_equal(o.port_base, 8081);
	assert_int_equal(o.ports, 100);
	assert_false(o.sources_set);
	assert_int_equal(o.rate, 0);
	assert_int_equal(o.concurrency, CLIENT_DEFAULT_CONCURRENCY);
	assert_int_equal(o.hold_ms, 0);
	assert_null(o.json_path);
	assert_int_equal(o.connect_timeout_ms, 10000);
	assert_int_equal(o.echo_timeout_ms, 10000);
	assert_false(o.workers_set);
	assert_int_equal(o.workers, CLIENT_WORKERS_AUTO);
	assert_int_equal(o.progress_ms, 1000);
	assert_false(o.quiet);
	assert_false(o.help);
	assert_false(o.version);
}

static void test_all_flags(void **state)
{
	char *argv[] = { "c1m-client", "--port", "9000", "--ports=10", "-n", "500", "--sources",
			 "127.0.0.2-127.0.0.9", "--rate=2500", "--concurrency", "64", "--hold", "2.5", "--json", "-",
			 "--connect-timeout", "0.25", "--echo-timeout=3", "--workers", "4", "--progress-interval",
			 "0.5", "198.18.0.1" };
	struct client_options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(argv), argv, &o, err, sizeof(err)), 0);
	assert_true(addr_equal(&o.dst, &(struct addr_ip){ AF_INET, { 198, 18, 0, 1 } }));
	assert_int_equal(o.port_base, 9000);
	assert_int_equal(o.ports, 10);
	assert_int_equal(o.target, 500);
	assert_true(o.sources_set);
	assert_true(addr_equal(&o.sources.first, &(struct addr_ip){ AF_INET, { 127, 0, 0, 2 } }));
	assert_int_equal(o.sources.count, 8);
	assert_int_equal(o.rate, 2500);
	assert_int_equal(o.concurrency, 64);
	assert_true(o.concurrency_set);
	assert_int_equal(o.hold_ms, 2500);
	assert_string_equal(o.json_path, "-");
	assert_int_equal(o.connect_timeout_ms, 250);
	assert_int_equal(o.echo_timeout_ms, 3000);
	assert_true(o.workers_set);
	assert_int_equal(o.workers, 4);
	assert_int_equal(o.progress_ms, 500);
}

static void test_misc_flags(void **state)
{
	char *a1[] = { "c1m-client", "localhost", "--connections=7", "--workers", "auto", "-q" };
	char *a2[] = { "c1m-client", "--help" };
	char *a3[] = { "c1m-client", "-n", "1", "--", "10.1.2.3" };
	char *a4[] = { "c1m-client", "--version" };
	char *a5[] = { "c1m-client", "--version=2" };
	struct client_options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(a1), a1, &o, err, sizeof(err)), 0);
	assert_string_equal(o.host_name, "localhost");   /* a name: main resolves it, the parser stays pure */
	assert_string_equal(o.host, "");
	assert_int_equal(o.dst.family, 0);
	assert_int_equal(o.target, 7);
	assert_true(o.workers_set);
	assert_int_equal(o.workers, CLIENT_WORKERS_AUTO);
	assert_true(o.quiet);
	assert_int_equal(o.progress_ms, 0);
	/* --help needs nothing else */
	assert_int_equal(parse(ARGC(a2), a2, &o, err, sizeof(err)), 0);
	assert_true(o.help);
	assert_false(o.version);
	/* nor does --version, which takes no value */
	assert_int_equal(parse(ARGC(a4), a4, &o, err, sizeof(err)), 0);
	assert_true(o.version);
	assert_false(o.help);
	assert_int_equal(parse(ARGC(a5), a5, &o, err, sizeof(err)), -1);
	assert_string_equal(err, "--version takes no value");
	assert_non_null(strstr(client_opts_usage(), "\n  --version               print the version"));
	assert_int_equal(parse(ARGC(a3), a3, &o, err, sizeof(err)), 0);
	assert_true(addr_equal(&o.dst, &(struct addr_ip){ AF_INET, { 10, 1, 2, 3 } }));
	assert_non_null(strstr(client_opts_usage(), "--sources"));
	/* --cpus: none by default, the list in the order written, errors named with the flag */
	assert_int_equal(o.cpus.count, 0);
	{
		char *c1[] = { "c1m-client", "127.0.0.1", "-n", "1", "--cpus", "1,0" };
		char *c2[] = { "c1m-client", "127.0.0.1", "-n", "1", "--cpus", "0,0" };

		assert_int_equal(parse(ARGC(c1), c1, &o, err, sizeof(err)), 0);
		assert_int_equal(o.cpus.count, 2);
		assert_int_equal(o.cpus.cpu[0], 1);
		assert_int_equal(parse(ARGC(c2), c2, &o, err, sizeof(err)), -1);
		assert_string_equal(err, "--cpus '0,0': CPU 0 is listed twice");
	}
}

static void test_rejections(void **state)
{
	char *unknown[] = { "c1m-client", "127.0.0.1", "-n", "5", "--bogus" };
	char *n0[] = { "c1m-client", "127.0.0.1", "-n", "0" };
	char *nneg[] = { "c1m-client", "127.0.0.1", "-n", "-3" };
	char *nbad[] = { "c1m-client", "127.0.0.1", "-n", "12k" };
	char *nmissing[] = { "c1m-client", "127.0.0.1" };
	char *nohost[] = { "c1m-client", "-n", "5" };
	char *twohosts[] = { "c1m-client", "127.0.0.1", "127.0.0.2", "-n", "5" };
	char *badhost[] = { "c1m-client", "10.0.0.300", "-n", "5" };
	char *v6host[] = { "c1m-client", "::1::2", "-n", "5" };
	char *namehost[] = { "c1m-client", "exa_mple.com", "-n", "5" };
	char *v4mix[] = { "c1m-client", "::1", "-n", "5", "-4" };
	char *srcmix[] = { "c1m-client", "::1", "-n", "5", "--sources", "127.0.0.2-127.0.0.3" };
	char *srcmix2[] = { "c1m-client", "127.0.0.1", "-n", "5", "--sources", "::1" };
	char *rmix[] = { "c1m-client", "::1", "-n", "5", "--sources", "::1-127.0.0.1" };
	char *range[] = { "c1m-client", "127.0.0.1", "-n", "5", "--sources", "127.0.0.9-127.0.0.2" };
	char *garbage[] = { "c1m-client", "127.0.0.1", "-n", "5", "--sources", "a.b.c.d" };
	char *past[] = { "c1m-client", "127.0.0.1", "-n", "5", "--port", "65500", "--ports", "100" };
	char *port0[] = { "c1m-client", "127.0.0.1", "-n", "5", "--port", "0" };
	char *ports0[] = { "c1m-client", "127.0.0.1", "-n", "5", "--ports", "0" };
	char *novalue[] = { "c1m-client", "127.0.0.1", "-n" };
	char *flagvalue[] = { "c1m-client", "127.0.0.1", "-n", "5", "--quiet=yes" };
	char *workers[] = { "c1m-client", "127.0.0.1", "-n", "5", "--workers", "many" };
	char *timeout[] = { "c1m-client", "127.0.0.1", "-n", "5", "--connect-timeout", "0" };
	char *hold[] = { "c1m-client", "127.0.0.1", "-n", "5", "--hold", "-1" };
	char *conc[] = { "c1m-client", "127.0.0.1", "-n", "5", "--concurrency", "0" };
	char *hold4[] = { "c1m-client", "127.0.0.1", "-n", "5", "--hold", "0.0005" };  /* more than 3 decimals */
	char *holdexp[] = { "c1m-client", "127.0.0.1", "-n", "5", "--hold", "1e3" };
	char *json[] = { "c1m-client", "127.0.0.1", "-n", "5", "--json=" };

	(void)state;
	expect_error(ARGC(unknown), unknown, "--bogus", "unknown");
	expect_error(ARGC(n0), n0, "-n", "0");
	expect_error(ARGC(nneg), nneg, "-n", "-3");
	expect_error(ARGC(nbad), nbad, "-n", "12k");
	expect_error(ARGC(nmissing), nmissing, "-n", NULL);
	expect_error(ARGC(nohost), nohost, "HOST", NULL);
	expect_error(ARGC(twohosts), twohosts, "127.0.0.2", NULL);
	expect_error(ARGC(badhost), badhost, "10.0.0.300", "out of range");
	expect_error(ARGC(v6host), v6host, "IPv6", NULL);
	expect_error(ARGC(namehost), namehost, "exa_mple.com", NULL);
	expect_error(ARGC(v4mix), v4mix, "-4", "IPv6");
	expect_error(ARGC(srcmix), srcmix, "--sources", "IPv4");
	expect_error(ARGC(srcmix2), srcmix2, "--sources", "IPv6");
	expect_error(ARGC(rmix), rmix, "--sources", "different families");
	expect_error(ARGC(range), range, "--sources", "reversed");
	expect_error(ARGC(garbage), garbage, "--sources", "a.b.c.d");
	expect_error(ARGC(past), past, "65535", "65500");
	expect_error(ARGC(port0), port0, "--port", "0");
	expect_error(ARGC(ports0), ports0, "--ports", "0");
	expect_error(ARGC(novalue), novalue, "-n", "value");
	expect_error(ARGC(flagvalue), flagvalue, "--quiet", NULL);
	expect_error(ARGC(workers), workers, "--workers", "many");
	expect_error(ARGC(timeout), timeout, "--connect-timeout", NULL);
	expect_error(ARGC(hold), hold, "--hold", "-1");
	expect_error(ARGC(hold4), hold4, "--hold", "up to 3 decimals");
	expect_error(ARGC(holdexp), holdexp, "--hold", "'1e3'");
	expect_error(ARGC(conc), conc, "--concurrency", "0");
	expect_error(ARGC(json), json, "--json", NULL);
}

static void parse_ok(int argc, char **argv, struct client_options *o)
{
	char err[256];

	if (parse(argc, argv, o, err, sizeof(err)) < 0)
		fail_msg("unexpected parse error: %s", err);
}

/* The latency phase's flags: defaults, the timeout following a large SLO, the find-max step. */
static void test_latency_flags(void **state)
{
	char *plain[] = { "c1m-client", "127.0.0.1", "-n", "19000" };
	char *lat[] = { "c1m-client", "127.0.0.1", "-n", "19000", "--msg-rate", "10000" };
	char *all[] = { "c1m-client", "127.0.0.1", "-n", "19000", "--msg-rate=2000", "--duration", "2.5",
			"--timeout", "750", "--slo=100", "--find-max", "--step", "5000" };
	char *bigslo[] = { "c1m-client", "127.0.0.1", "-n", "100", "--msg-rate", "10", "--slo", "800" };
	char *fm[] = { "c1m-client", "127.0.0.1", "-n", "19000", "--msg-rate", "10", "--find-max" };
	char *win[] = { "c1m-client", "127.0.0.1", "-n", "100", "--msg-rate", "10", "--send-window", "20" };
	char *winslo[] = { "c1m-client", "127.0.0.1", "-n", "100", "--msg-rate", "10", "--slo", "1" };
	struct client_options o;

	(void)state;
	parse_ok(ARGC(plain), plain, &o);
	assert_int_equal(o.msg_rate, 0);
	assert_false(o.find_max);
	parse_ok(ARGC(lat), lat, &o);
	assert_int_equal(o.msg_rate, 10000);
	assert_int_equal(o.duration_ms, CLIENT_DEFAULT_DURATION_MS);
	assert_int_equal(o.slo_ms, 200);
	assert_int_equal(o.reply_timeout_ms, 1000);
	assert_int_equal(o.send_window_ms, CLIENT_DEFAULT_SEND_WINDOW_MS);
	assert_int_equal(o.send_window_ms, 1);
	parse_ok(ARGC(all), all, &o);
	assert_int_equal(o.msg_rate, 2000);
	assert_int_equal(o.duration_ms, 2500);
	assert_int_equal(o.reply_timeout_ms, 750);   /* given: kept even below 2 x SLO */
	assert_int_equal(o.slo_ms, 100);
	assert_true(o.find_max);
	assert_int_equal(o.step, 5000);
	parse_ok(ARGC(bigslo), bigslo, &o);
	assert_int_equal(o.reply_timeout_ms, 1600);  /* default follows the SLO: 2 x 800 */
	parse_ok(ARGC(fm), fm, &o);
	assert_int_equal(o.step, 3800);              /* 20% of -n */
	parse_ok(ARGC(win), win, &o);
	assert_int_equal(o.send_window_ms, 20);
	parse_ok(ARGC(winslo), winslo, &o);          /* the default window is not checked against --slo */
	assert_int_equal(o.send_window_ms, 1);
	assert_non_null(strstr(client_opts_usage(), "--send-window"));
	assert_non_null(strstr(client_opts_usage(), "--msg-rate"));
	assert_non_null(strstr(client_opts_usage(), "--find-max"));
}

static void test_latency_rejections(void **state)
{
	char *orphan_d[] = { "c1m-client", "127.0.0.1", "-n", "5", "--duration", "3" };
	char *orphan_fm[] = { "c1m-client", "127.0.0.1", "-n", "5", "--find-max" };
	char *orphan_slo[] = { "c1m-client", "127.0.0.1", "-n", "5", "--slo", "100" };
	char *step_nofm[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "10", "--step", "2" };
	char *rate0[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "0" };
	char *ratebig[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "100000001" };
	char *dur0[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "10", "--duration", "0" };
	char *durlong[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "10", "--duration", "86401" };
	char *nomsg[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "1", "--duration", "0.4" };
	char *slo0[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "10", "--slo", "0" };
	char *tmo[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "10", "--timeout", "1s" };
	char *steps[] = { "c1m-client", "127.0.0.1", "-n", "1000", "--msg-rate", "10", "--find-max", "--step", "9" };
	char *seq[] = { "c1m-client", "127.0.0.1", "-n", "1", "--msg-rate", "100000000", "--duration", "86400" };
	char *orphan_win[] = { "c1m-client", "127.0.0.1", "-n", "5", "--send-window", "5" };
	char *win0[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "10", "--send-window", "0" };
	char *winbig[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "10", "--send-window", "1001" };
	char *winslo[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "10", "--slo", "50", "--send-window", "50" };

	(void)state;
	expect_error(ARGC(orphan_d), orphan_d, "--duration", "--msg-rate");
	expect_error(ARGC(orphan_fm), orphan_fm, "--find-max", "--msg-rate");
	expect_error(ARGC(orphan_slo), orphan_slo, "--slo", "--msg-rate");
	expect_error(ARGC(step_nofm), step_nofm, "--step 2", "--find-max");
	expect_error(ARGC(rate0), rate0, "--msg-rate", "0");
	expect_error(ARGC(ratebig), ratebig, "--msg-rate", "100000001");
	expect_error(ARGC(dur0), dur0, "--duration", "too short");
	expect_error(ARGC(durlong), durlong, "--duration", "86401");
	expect_error(ARGC(nomsg), nomsg, "--msg-rate 1 --duration 0.400", "less than one message");
	expect_error(ARGC(slo0), slo0, "--slo", "0");
	expect_error(ARGC(tmo), tmo, "--timeout", "1s");
	expect_error(ARGC(steps), steps, "--step 9", "112 steps");
	expect_error(ARGC(seq), seq, "2^32", NULL);
	expect_error(ARGC(orphan_win), orphan_win, "--send-window", "--msg-rate");
	expect_error(ARGC(win0), win0, "--send-window", "0");
	expect_error(ARGC(winbig), winbig, "--send-window", "1001");
	expect_error(ARGC(winslo), winslo, "--send-window 50", "below --slo 50");
}

/* --msg-rate R1,R2,...: a sweep of increasing rates; the first is the phase's msg_rate. */
static void test_rate_sweep(void **state)
{
	char *sw[] = { "c1m-client", "127.0.0.1", "-n", "1000", "--msg-rate", "1000,5000,20000" };
	char *one[] = { "c1m-client", "127.0.0.1", "-n", "1000", "--msg-rate", "7" };
	char *down[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "100,50" };
	char *same[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "100,100" };
	char *empty[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "100,,200" };
	char *trail[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "100," };
	char *junk[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "100,2k" };
	char *fm[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", "10,20", "--find-max" };
	char *seq[] = { "c1m-client", "127.0.0.1", "-n", "1", "--msg-rate", "1,100000000", "--duration", "86400" };
	char many[2048], *lots[] = { "c1m-client", "127.0.0.1", "-n", "5", "--msg-rate", many };
	struct client_options o;
	char err[256];
	size_t used = 0;
	unsigned i;

	(void)state;
	assert_int_equal(client_opts_parse(ARGC(sw), sw, &o, err, sizeof(err)), 0);
	assert_int_equal(o.n_rates, 3);
	assert_int_equal(o.msg_rate, 1000);
	assert_int_equal(o.msg_rates[2], 20000);
	assert_int_equal(client_opts_parse(ARGC(one), one, &o, err, sizeof(err)), 0);
	assert_int_equal(o.n_rates, 1);
	assert_int_equal(o.msg_rate, 7);
	expect_error(ARGC(down), down, "--msg-rate", "must increase, but 50 follows 100");
	expect_error(ARGC(same), same, "--msg-rate", "must increase");
	expect_error(ARGC(empty), empty, "--msg-rate", "empty entry");
	expect_error(ARGC(trail), trail, "--msg-rate", "empty entry");
	expect_error(ARGC(junk), junk, "--msg-rate", "2k");
	expect_error(ARGC(fm), fm, "--find-max", "one or the other");
	expect_error(ARGC(seq), seq, "2^32", "100000000");
	for (i = 1; i <= FINDMAX_MAX_STEPS + 1; i++)
		used += (size_t)snprintf(many + used, sizeof(many) - used, "%s%u", i > 1 ? "," : "", i);
	expect_error(ARGC(lots), lots, "--msg-rate", "more than 100 rates");
	assert_non_null(strstr(client_opts_usage(), "R1,R2"));
}

static void test_plan_workers(void **state)
{
	char *small[] = { "c1m-client", "127.0.0.1", "-n", "19000" };
	char *big[] = { "c1m-client", "127.0.0.1", "-n", "1000000" };
	char *few[] = { "c1m-client", "127.0.0.1", "-n", "1000000", "--workers", "10" };
	char *many[] = { "c1m-client", "127.0.0.1", "-n", "3", "--workers", "8" };
	struct client_options o;
	struct client_plan p;
	char err[256];

	(void)state;
	parse_ok(ARGC(small), small, &o);
	assert_int_equal(client_opts_plan(&o, 20000, 1, &p, err, sizeof(err)), 0);
	assert_int_equal(p.workers, 1);
	parse_ok(ARGC(big), big, &o);
	assert_int_equal(client_opts_plan(&o, 20000, 1, &p, err, sizeof(err)), 0);
	assert_int_equal(p.workers, 51);          /* ceil(1e6 / 19980) */
	assert_int_equal(p.workers_needed, 51);
	parse_ok(ARGC(few), few, &o);
	assert_int_equal(client_opts_plan(&o, 20000, 1, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--workers 51"));
	assert_non_null(strstr(err, "19980"));
	parse_ok(ARGC(many), many, &o);
	assert_int_equal(client_opts_plan(&o, 20000, 1, &p, err, sizeof(err)), 0);
	assert_int_equal(p.workers, 3);           /* never more processes than connections */
	assert_non_null(strstr(p.note, "--workers 8"));
	assert_int_equal(client_opts_plan(&o, 20, 1, &p, err, sizeof(err)), -1);   /* all reserved */
	assert_non_null(strstr(err, "ulimit -n"));
	/* more processes than WORKERS_MAX: refused with the number, as srvopt_resolve and the doctor do */
	parse_ok(ARGC(big), big, &o);
	assert_int_equal(client_opts_plan(&o, 200, 1, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "-n 1000000"));
	assert_non_null(strstr(err, "more than the 4096 supported"));
}

static void test_plan_sources(void **state)
{
	char *loop[] = { "c1m-client", "127.0.0.1", "-n", "100000" };
	char *remote[] = { "c1m-client", "198.18.0.1", "-n", "100000" };
	char *given[] = { "c1m-client", "127.0.0.1", "-n", "100000", "--sources", "127.0.0.5" };
	struct client_options o;
	struct client_plan p;
	char err[256];

	(void)state;
	parse_ok(ARGC(loop), loop, &o);
	assert_int_equal(client_opts_plan(&o, 20000, 4, &p, err, sizeof(err)), 0);
	assert_true(p.sources_default);
	assert_true(addr_equal(&p.sources.first, &(struct addr_ip){ AF_INET, { 127, 0, 0, 1 } }));
	assert_int_equal(p.sources.count, 4);
	assert_string_equal(p.note, "");
	parse_ok(ARGC(remote), remote, &o);
	assert_int_equal(client_opts_plan(&o, 20000, 4, &p, err, sizeof(err)), 0);
	assert_int_equal(p.sources.count, 0);     /* not loopback: the kernel picks the source */
	parse_ok(ARGC(given), given, &o);
	assert_int_equal(client_opts_plan(&o, 20000, 4, &p, err, sizeof(err)), 0);
	assert_false(p.sources_default);
	assert_int_equal(p.sources.count, 1);
	assert_non_null(strstr(p.note, "EADDRNOTAVAIL"));
}

static void test_plan_concurrency_floor(void **state)
{
	char *argv[] = { "c1m-client", "127.0.0.1", "-n", "100000", "--concurrency", "2" };
	struct client_options o;
	struct client_plan p;
	char err[256];

	(void)state;
	parse_ok(ARGC(argv), argv, &o);
	assert_int_equal(client_opts_plan(&o, 20000, 1, &p, err, sizeof(err)), 0);
	assert_int_equal(p.workers, 6);
	assert_int_equal(p.concurrency, 6);       /* one in flight per process at least */
}

/* --shard K/M: the K-th share of -n, the first -n mod M shards one more; the shares add up to -n. */
static void test_shard(void **state)
{
	char *ok[] = { "c", "127.0.0.1", "-n", "10", "--shard", "3/4" };
	char *bad_k[] = { "c", "127.0.0.1", "-n", "10", "--shard", "5/4" };
	char *bad_fmt[] = { "c", "127.0.0.1", "-n", "10", "--shard", "3" };
	char *too_many[] = { "c", "127.0.0.1", "-n", "3", "--shard", "1/4" };
	char *fm[] = { "c", "127.0.0.1", "-n", "10", "--shard", "1/2", "--msg-rate", "100", "--find-max" };
	char *sweep[] = { "c", "127.0.0.1", "-n", "10", "--shard", "1/2", "--msg-rate", "100,200" };
	char *few_msgs[] = { "c", "127.0.0.1", "-n", "10", "--shard", "1/4", "--msg-rate", "3" };
	struct client_options o;
	char err[256], m[16];
	uint64_t sum = 0;
	unsigned k;

	(void)state;
	assert_int_equal(parse(ARGC(ok), ok, &o, err, sizeof(err)), 0);
	assert_int_equal(o.shard_k, 3);
	assert_int_equal(o.shard_m, 4);
	assert_int_equal(client_opts_shard_target(&o), 2);   /* 10 = 3 + 3 + 2 + 2 */
	for (k = 1; k <= 4; k++) {
		snprintf(m, sizeof(m), "%u/4", k);
		ok[5] = m;
		assert_int_equal(parse(ARGC(ok), ok, &o, err, sizeof(err)), 0);
		assert_int_equal(client_opts_shard_target(&o), k <= 2 ? 3 : 2);
		sum += client_opts_shard_target(&o);
	}
	assert_int_equal(sum, 10);
	expect_error(ARGC(bad_k), bad_k, "--shard 5/4", "K");
	expect_error(ARGC(bad_fmt), bad_fmt, "--shard", "K/M");
	expect_error(ARGC(too_many), too_many, "--shard 1/4", "no connection");
	expect_error(ARGC(fm), fm, "--find-max", "--barrier");
	expect_error(ARGC(sweep), sweep, "sweep", "--barrier");
	expect_error(ARGC(few_msgs), few_msgs, "--msg-rate 3", "without messages");
}

/* A shard's sweep or --find-max runs with --barrier (the driver decides each step); --fleet-step takes the
 * fleet's options of such a run, without --shard and --barrier. */
static void test_fleet_steps(void **state)
{
	char *sweep[] = { "c", "127.0.0.1", "-n", "10", "--shard", "1/2", "--barrier", "--msg-rate", "100,200" };
	char *fm[] = { "c", "127.0.0.1", "-n", "10", "--shard", "2/2", "--barrier", "--msg-rate", "100", "--find-max" };
	char *step[] = { "c", "127.0.0.1", "-n", "10", "--msg-rate", "100,200", "--fleet-step", "s.txt" };
	char *step_shard[] = { "c", "127.0.0.1", "-n", "10", "--msg-rate", "100,200", "--fleet-step", "s.txt",
			       "--shard", "1/2", "--barrier" };
	char *step_one[] = { "c", "127.0.0.1", "-n", "10", "--msg-rate", "100", "--fleet-step", "s.txt" };
	char *small_step[] = { "c", "127.0.0.1", "-n", "10", "--shard", "1/3", "--barrier", "--msg-rate", "100",
			       "--find-max", "--step", "2" };
	struct client_options o;
	char err[256];

	(void)state;
	assert_int_equal(client_opts_parse(ARGC(sweep), sweep, &o, err, sizeof(err)), 0);
	assert_true(o.barrier);
	assert_int_equal(o.n_rates, 2);
	assert_int_equal(client_opts_parse(ARGC(fm), fm, &o, err, sizeof(err)), 0);
	assert_true(o.find_max);
	assert_int_equal(client_opts_parse(ARGC(step), step, &o, err, sizeof(err)), 0);
	assert_string_equal(o.fleet_step_path, "s.txt");
	expect_error(ARGC(step_shard), step_shard, "--fleet-step", "without --shard");
	expect_error(ARGC(step_one), step_one, "--fleet-step", "--find-max or --msg-rate R1,R2");
	expect_error(ARGC(small_step), small_step, "--step 2", "no connection in the first step");
	assert_non_null(strstr(client_opts_usage(), "--fleet-step"));
}

static void test_barrier_and_merge(void **state)
{
	char *barrier[] = { "c", "127.0.0.1", "-n", "10", "--barrier", "--hold", "1" };
	char *lonely[] = { "c", "127.0.0.1", "-n", "10", "--barrier" };
	char *merge[] = { "c", "--merge", "a.json", "b.json", "--json", "out.json", "-q" };
	char *merge_run[] = { "c", "--merge", "a.json", "--msg-rate", "10" };
	char *merge_none[] = { "c", "--merge" };
	char *merge_late[] = { "c", "127.0.0.1", "--merge", "a.json" };
	struct client_options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(barrier), barrier, &o, err, sizeof(err)), 0);
	assert_true(o.barrier);
	expect_error(ARGC(lonely), lonely, "--barrier", "--msg-rate or --hold");
	assert_int_equal(parse(ARGC(merge), merge, &o, err, sizeof(err)), 0);
	assert_true(o.merge);
	assert_int_equal(o.n_merge, 2);
	assert_string_equal(o.merge_files[0], "a.json");
	assert_string_equal(o.merge_files[1], "b.json");
	assert_string_equal(o.json_path, "out.json");
	expect_error(ARGC(merge_run), merge_run, "--merge", "--msg-rate does not apply");
	expect_error(ARGC(merge_none), merge_none, "--merge needs", NULL);
	expect_error(ARGC(merge_late), merge_late, "before the report files", "127.0.0.1");
}

/* IPv6 destinations and sources, names kept for main, and the family a name is resolved in. */
static void test_ipv6_and_names(void **state)
{
	char *v6[] = { "c1m-client", "::1", "-n", "10", "--sources", "2001:2::1-2001:2::10" };
	char *name[] = { "c1m-client", "db-1.example", "-n", "10", "-6" };
	char *name_src[] = { "c1m-client", "localhost", "-n", "10", "--sources", "::1" };
	char *loop6[] = { "c1m-client", "::1", "-n", "100000" };
	struct client_options o;
	struct client_plan p;
	char err[256];

	(void)state;
	parse_ok(ARGC(v6), v6, &o);
	assert_string_equal(o.host, "::1");
	assert_string_equal(o.proto.host, "[::1]");   /* an HTTP Host header takes an IPv6 literal in brackets */
	assert_int_equal(o.dst.family, AF_INET6);
	assert_int_equal(o.sources.first.family, AF_INET6);
	assert_int_equal(o.sources.count, 16);
	assert_int_equal(client_opts_family(&o), AF_INET6);
	parse_ok(ARGC(name), name, &o);
	assert_string_equal(o.host_name, "db-1.example");
	assert_int_equal(client_opts_family(&o), AF_INET6);
	parse_ok(ARGC(name_src), name_src, &o);
	assert_int_equal(client_opts_family(&o), AF_INET6);   /* --sources picks the family */
	/* the name resolved (as main does) to the other family than the sources': refused */
	o.dst = addr_ipv4(0x7f000001);
	snprintf(o.host, sizeof(o.host), "127.0.0.1");
	assert_int_equal(client_opts_check_family(&o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--sources are IPv6"));
	/* ::1: no default sources (lo has one IPv6 address), and a note when more would be needed */
	parse_ok(ARGC(loop6), loop6, &o);
	assert_int_equal(client_opts_plan(&o, 20000, 1, &p, err, sizeof(err)), 0);
	assert_int_equal(p.sources.count, 0);
	assert_string_equal(p.note, "");
	assert_int_equal(client_opts_plan(&o, 20000, 4, &p, err, sizeof(err)), 0);
	assert_int_equal(p.sources.count, 0);
	assert_non_null(strstr(p.note, "::1"));
}

/* --tls and its options: defaults (SNI a HOST name, none for an address), and each rejection. */
static void test_tls(void **state)
{
	char *ip[] = { "c1m-client", "127.0.0.1", "-n", "10", "--tls", "--ca", "ca.pem" };
	char *name[] = { "c1m-client", "localhost", "-n", "10", "--tls", "--insecure" };
	char *sni[] = { "c1m-client", "127.0.0.1", "-n", "10", "--tls", "--sni=localhost" };
	char *off[] = { "c1m-client", "127.0.0.1", "-n", "10" };
	char *sni_alone[] = { "c1m-client", "127.0.0.1", "-n", "10", "--sni", "localhost" };
	char *ca_alone[] = { "c1m-client", "127.0.0.1", "-n", "10", "--ca", "ca.pem" };
	char *insecure_alone[] = { "c1m-client", "127.0.0.1", "-n", "10", "--insecure" };
	char *both[] = { "c1m-client", "127.0.0.1", "-n", "10", "--tls", "--insecure", "--ca", "ca.pem" };
	char *sni_ip[] = { "c1m-client", "127.0.0.1", "-n", "10", "--tls", "--sni", "10.0.0.1" };
	char *sni_bad[] = { "c1m-client", "127.0.0.1", "-n", "10", "--tls", "--sni", "a b" };
	char *sni_empty[] = { "c1m-client", "127.0.0.1", "-n", "10", "--tls", "--sni=" };
	char *ca_empty[] = { "c1m-client", "127.0.0.1", "-n", "10", "--tls", "--ca=" };
	char *tls_value[] = { "c1m-client", "127.0.0.1", "-n", "10", "--tls=yes" };
	char *merge[] = { "c1m-client", "--merge", "--tls", "a.json" };
	char long_name[TLS_SNI_MAX + 2], long_arg[TLS_SNI_MAX + 8];
	char *sni_long[] = { "c1m-client", "127.0.0.1", "-n", "10", "--tls", long_arg };
	struct client_options o;

	(void)state;
	parse_ok(ARGC(ip), ip, &o);
	assert_true(o.tls.on);
	assert_false(o.tls.insecure);
	assert_string_equal(o.tls.ca, "ca.pem");
	assert_null(o.tls.sni);                       /* an address: no SNI */
	assert_null(o.tls.verify_host);
	assert_string_equal(o.tls.verify_ip, "127.0.0.1");
	parse_ok(ARGC(name), name, &o);
	assert_true(o.tls.insecure);
	assert_null(o.tls.ca);
	assert_string_equal(o.tls.sni, "localhost");  /* a name: SNI and the name to verify */
	assert_string_equal(o.tls.verify_host, "localhost");
	parse_ok(ARGC(sni), sni, &o);
	assert_string_equal(o.tls.sni, "localhost");
	assert_string_equal(o.tls.verify_host, "localhost");
	assert_null(o.tls.verify_ip);
	parse_ok(ARGC(off), off, &o);
	assert_false(o.tls.on);
	expect_error(ARGC(sni_alone), sni_alone, "--sni needs --tls", NULL);
	expect_error(ARGC(ca_alone), ca_alone, "--ca needs --tls", NULL);
	expect_error(ARGC(insecure_alone), insecure_alone, "--insecure needs --tls", NULL);
	expect_error(ARGC(both), both, "--insecure", "--ca ca.pem");
	expect_error(ARGC(sni_ip), sni_ip, "--sni 10.0.0.1", "RFC 6066");
	expect_error(ARGC(sni_bad), sni_bad, "--sni a b", "not a host name");
	expect_error(ARGC(sni_empty), sni_empty, "--sni", "1 to 255 bytes");
	expect_error(ARGC(ca_empty), ca_empty, "--ca", "empty");
	expect_error(ARGC(tls_value), tls_value, "--tls takes no value", NULL);
	expect_error(ARGC(merge), merge, "--merge", "--tls does not apply");
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';      /* 256 bytes: one too many */
	snprintf(long_arg, sizeof(long_arg), "--sni=%s", long_name);
	expect_error(ARGC(sni_long), sni_long, "--sni", "not 256");
	long_arg[strlen(long_arg) - 1] = '\0';        /* 255: taken */
	parse_ok(ARGC(sni_long), sni_long, &o);
	assert_int_equal(strlen(o.tls.sni), TLS_SNI_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_flags),
		cmocka_unit_test(test_misc_flags),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_latency_flags),
		cmocka_unit_test(test_latency_rejections),
		cmocka_unit_test(test_rate_sweep),
		cmocka_unit_test(test_plan_workers),
		cmocka_unit_test(test_plan_sources),
		cmocka_unit_test(test_ipv6_and_names),
		cmocka_unit_test(test_plan_concurrency_floor),
		cmocka_unit_test(test_shard),
		cmocka_unit_test(test_fleet_steps),
		cmocka_unit_test(test_barrier_and_merge),
		cmocka_unit_test(test_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
