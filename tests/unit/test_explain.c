/* Unit tests for the --explain decision logic with fabricated kernel logs and counters: each known cause
 * is found from its log line or its numbers, old log lines outside --since are ignored, a baseline turns
 * cumulative counters into per-run deltas, and with no evidence the result says it cannot tell. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "explain.h"

static char out[8192];

static void input_init(struct explain_input *in)
{
	memset(in, 0, sizeof(*in));
	in->kmsg = "[    3.022008] random: crng reseeded due to virtual machine fork\n"
		   "[    3.100222] EXT4-fs (vda): mounted filesystem r/w without journal.\n";
	in->uptime_s = 1000;
	in->now.present = true;
	in->conntrack_present = true;
	in->conntrack_count = 5;
	in->conntrack_max = 262144;
	in->sockstat_present = true;
	in->tcp_mem_used = 300;
	in->tcp_mem[0] = 287901;
	in->tcp_mem[1] = 383869;
	in->tcp_mem[2] = 575802;
}

static bool has(const struct explain_result *r, enum explain_cause c)
{
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (r->findings[i].cause == c)
			return true;
	return false;
}

/* Never NULL: a missing finding fails the test and yields an empty one. */
static const struct explain_finding *get(const struct explain_result *r, enum explain_cause c)
{
	static const struct explain_finding missing;
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (r->findings[i].cause == c)
			return &r->findings[i];
	fail_msg("no finding %s", explain_cause_name(c));
	return &missing;
}

static void test_nothing(void **state)
{
	struct explain_input in;
	struct explain_result r;

	(void)state;
	input_init(&in);
	explain_analyze(&in, &r);
	assert_int_equal(r.n, 0);
	assert_true(r.kmsg_checked);
	assert_int_equal(r.kmsg_lines, 2);
	assert_true(explain_format(&r, &in, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "Cannot tell"));
	assert_non_null(strstr(out, "since boot"));
	/* unreadable log is said plainly */
	in.kmsg = NULL;
	explain_analyze(&in, &r);
	assert_false(r.kmsg_checked);
	assert_true(explain_format(&r, &in, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "kernel log NOT readable"));
}

static void test_conntrack_log(void **state)
{
	struct explain_input in;
	struct explain_result r;
	const struct explain_finding *f;

	(void)state;
	input_init(&in);
	in.kmsg = "[  900.1] nf_conntrack: nf_conntrack: table full, dropping packet\n"
		  "[  900.2] nf_conntrack: nf_conntrack: table full, dropping packet\n"
		  "[  901.0] net_ratelimit: 312 callbacks suppressed\n";
	explain_analyze(&in, &r);
	assert_int_equal(r.n, 1);
	f = get(&r, EXPLAIN_CONNTRACK_FULL);
	assert_non_null(strstr(f->evidence, "2 lines"));
	assert_non_null(strstr(f->evidence, "table full, dropping packet"));
	assert_non_null(strstr(f->fix, "nf_conntrack_max"));
	assert_string_equal(explain_cause_name(f->cause), "conntrack_full");
	/* a full table now is evidence too, even with no log */
	input_init(&in);
	in.conntrack_count = 262000;
	explain_analyze(&in, &r);
	f = get(&r, EXPLAIN_CONNTRACK_FULL);
	assert_non_null(strstr(f->evidence, "262000 of max 262144"));
	in.conntrack_count = 100000;
	explain_analyze(&in, &r);
	assert_false(has(&r, EXPLAIN_CONNTRACK_FULL));
}

static void test_oom_and_tcp_oom(void **state)
{
	struct explain_input in;
	struct explain_result r;

	(void)state;
	input_init(&in);
	in.kmsg = "[  950.0] TCP: out of memory -- consider tuning tcp_mem\n"
		  "[  960.0] c1m-client invoked oom-killer: gfp_mask=0x140cca\n"
		  "[  960.1] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=c1m-client,pid=7266\n"
		  "[  960.2] Out of memory: Killed process 7266 (c1m-client) total-vm:8708kB\n";
	explain_analyze(&in, &r);
	assert_int_equal(r.n, 2);
	assert_true(has(&r, EXPLAIN_TCP_OOM));
	assert_true(has(&r, EXPLAIN_OOM_KILL));
	assert_non_null(strstr(get(&r, EXPLAIN_OOM_KILL)->evidence, "2 lines"));
	assert_non_null(strstr(get(&r, EXPLAIN_OOM_KILL)->evidence, "Killed process 7266"));
	assert_true(explain_format(&r, &in, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "1. "));
	assert_non_null(strstr(out, "2. "));
	assert_non_null(strstr(out, "OOM killer"));
}

static void test_since_window(void **state)
{
	struct explain_input in;
	struct explain_result r;

	(void)state;
	input_init(&in);
	in.uptime_s = 1000;
	in.kmsg = "[  100.000000] nf_conntrack: nf_conntrack: table full, dropping packet\n"
		  "[  990.000000] VFS: file-max limit 1048576 reached\n";
	in.since_s = 60;
	explain_analyze(&in, &r);
	assert_false(has(&r, EXPLAIN_CONNTRACK_FULL));   /* 900 s old */
	assert_true(has(&r, EXPLAIN_FILE_MAX));
	assert_int_equal(r.kmsg_lines, 1);
	in.since_s = 0;
	explain_analyze(&in, &r);
	assert_true(has(&r, EXPLAIN_CONNTRACK_FULL));
	assert_int_equal(r.kmsg_lines, 2);
}

static void test_counters_and_baseline(void **state)
{
	struct explain_input in;
	struct explain_result r;
	const struct explain_finding *f;

	(void)state;
	input_init(&in);
	in.now.listen_overflows = 120;
	in.now.listen_drops = 130;
	explain_analyze(&in, &r);
	f = get(&r, EXPLAIN_LISTEN_OVERFLOW);
	assert_non_null(strstr(f->evidence, "ListenOverflows +120, ListenDrops +130 since boot"));
	/* the same totals were there before the run: no finding */
	in.has_base = true;
	in.base.present = true;
	in.base.listen_overflows = 120;
	in.base.listen_drops = 130;
	explain_analyze(&in, &r);
	assert_false(has(&r, EXPLAIN_LISTEN_OVERFLOW));
	assert_int_equal(r.n, 0);
	/* grew during the run */
	in.now.listen_overflows = 150;
	in.now.listen_drops = 160;
	explain_analyze(&in, &r);
	f = get(&r, EXPLAIN_LISTEN_OVERFLOW);
	assert_non_null(strstr(f->evidence, "+30, ListenDrops +30 during the run"));
	/* memory counters */
	in.now.memory_pressures = 4;
	in.now.abort_on_memory = 2;
	explain_analyze(&in, &r);
	assert_non_null(strstr(get(&r, EXPLAIN_TCP_MEM_PRESSURE)->evidence, "TCPMemoryPressures +4"));
	assert_non_null(strstr(get(&r, EXPLAIN_TCP_OOM)->evidence, "TCPAbortOnMemory +2"));
	/* a SYN-flood log line adds to the listen finding, not a new one */
	in.kmsg = "[ 999.0] TCP: request_sock_TCP: Possible SYN flooding on port 8081. Dropping request.\n";
	explain_analyze(&in, &r);
	f = get(&r, EXPLAIN_LISTEN_OVERFLOW);
	assert_non_null(strstr(f->evidence, "SYN flooding"));
	assert_non_null(strstr(f->evidence, "ListenOverflows +30"));
}

static void test_socket_memory_now(void **state)
{
	struct explain_input in;
	struct explain_result r;

	(void)state;
	input_init(&in);
	in.tcp_mem_used = 400000;   /* between [1] and [2] */
	explain_analyze(&in, &r);
	assert_true(has(&r, EXPLAIN_TCP_MEM_PRESSURE));
	assert_false(has(&r, EXPLAIN_TCP_OOM));
	in.tcp_mem_used = 575802;
	explain_analyze(&in, &r);
	assert_true(has(&r, EXPLAIN_TCP_OOM));
	assert_false(has(&r, EXPLAIN_TCP_MEM_PRESSURE));
}

static void test_baseline_roundtrip(void **state)
{
	struct explain_counters a = { true, 1, 2, 3, 4 }, b;
	char text[256], err[256];

	(void)state;
	assert_true(explain_format_baseline(&a, text, sizeof(text)) > 0);
	assert_int_equal(explain_parse_baseline(text, &b, err, sizeof(err)), 0);
	assert_true(b.present);
	assert_int_equal(b.listen_overflows, 1);
	assert_int_equal(b.listen_drops, 2);
	assert_int_equal(b.memory_pressures, 3);
	assert_int_equal(b.abort_on_memory, 4);
	assert_int_equal(explain_parse_baseline("ListenOverflows 1\n", &b, err, sizeof(err)), -1);
	assert_int_equal(explain_parse_baseline("ListenOverflows x\nListenDrops 1\nTCPMemoryPressures 1\n"
						"TCPAbortOnMemory 1\n", &b, err, sizeof(err)), -1);
	assert_int_equal(explain_parse_baseline("", &b, err, sizeof(err)), -1);
	assert_int_equal(explain_format_baseline(&a, text, 8), -1);
}

static void test_counters_parse(void **state)
{
	struct explain_counters c;
	char err[256];

	(void)state;
	assert_int_equal(explain_counters_parse("TcpExt: ListenOverflows ListenDrops TCPMemoryPressures X\n"
						"TcpExt: 3 4 5 6\n", &c, err, sizeof(err)), 0);
	assert_true(c.present);
	assert_int_equal(c.listen_overflows, 3);
	assert_int_equal(c.memory_pressures, 5);
	assert_int_equal(c.abort_on_memory, 0);    /* absent on this fabricated kernel */
	assert_int_equal(explain_counters_parse("TcpExt: A\nTcpExt: 1\n", &c, err, sizeof(err)), -1);
}

static void test_json(void **state)
{
	struct explain_input in;
	struct explain_result r;

	(void)state;
	input_init(&in);
	in.kmsg = "[ 1.0] Out of memory: Killed process 1 (\"odd\\name\")\n";
	explain_analyze(&in, &r);
	assert_true(explain_format_json(&r, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"cause\":\"oom_kill\""));
	assert_non_null(strstr(out, "(\\\"odd\\\\name\\\")"));
	assert_int_equal(explain_format_json(&r, out, 10), -1);
}

/* Garbage logs: every prefix and odd timestamps must not crash or misfire. */
static void test_garbage_log(void **state)
{
	static const char log[] = "[   12.5] nf_conntrack: table full, dropping packet\n[ x] [\n[99999999999999999999."
				  "9] TCP: out of memory -- consider tuning tcp_mem\n\n[";
	char buf[sizeof(log)];
	struct explain_input in;
	struct explain_result r;
	size_t n;

	(void)state;
	input_init(&in);
	in.since_s = 10;
	for (n = 0; n < sizeof(log); n++) {
		memcpy(buf, log, n);
		buf[n] = '\0';
		in.kmsg = buf;
		explain_analyze(&in, &r);
		assert_true(r.n <= EXPLAIN_CAUSE_COUNT);
	}
	in.kmsg = log;
	explain_analyze(&in, &r);
	assert_false(has(&r, EXPLAIN_CONNTRACK_FULL));   /* 12.5 s is older than 1000 - 10 */
	assert_true(has(&r, EXPLAIN_TCP_OOM));            /* far-future stamp counts as recent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_conntrack_log),
		cmocka_unit_test(test_oom_and_tcp_oom),
		cmocka_unit_test(test_since_window),
		cmocka_unit_test(test_counters_and_baseline),
		cmocka_unit_test(test_socket_memory_now),
		cmocka_unit_test(test_baseline_roundtrip),
		cmocka_unit_test(test_counters_parse),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_garbage_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
