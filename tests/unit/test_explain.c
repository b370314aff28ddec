/* Unit tests for the --explain decision logic with fabricated kernel logs and counters: each known cause
 * is found from its log line or its numbers, old log lines outside --since are ignored, a baseline turns
 * cumulative counters into per-run deltas, and with no evidence the result says it cannot tell. EMFILE
 * and EADDRNOTAVAIL from fabricated process limits and /proc/net/tcp rows; c1m-client's JSON report
 * parsed, and refused when cut or garbled; each failure kind it counted explained and tied to the
 * findings that show it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/model/explain.h"
#include "common/sys/procfs.h"

static char out[16384];

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
	in->tcp_mem_present = true;
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
	struct kstate_tcpext a = { true, 1, 2, 3, 4 }, b;
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
	struct kstate_tcpext c;
	char err[256];

	(void)state;
	assert_int_equal(kstate_parse_tcpext("TcpExt: ListenOverflows ListenDrops TCPMemoryPressures X\n"
						"TcpExt: 3 4 5 6\n", &c, err, sizeof(err)), 0);
	assert_true(c.present);
	assert_int_equal(c.listen_overflows, 3);
	assert_int_equal(c.memory_pressures, 5);
	assert_int_equal(c.abort_on_memory, 0);    /* absent on this fabricated kernel */
	assert_int_equal(kstate_parse_tcpext("TcpExt: A\nTcpExt: 1\n", &c, err, sizeof(err)), -1);
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

/* ---------- EMFILE: processes at their open-file limit ---------- */

static void test_fd_limit(void **state)
{
	struct explain_proc procs[] = {
		{ 1, "systemd", 120, 1024, 524288 },
		{ 1720, "c1m-server", 1017, 1024, 1024 },
		{ 88, "bash", 3, 1024, 1024 },
		{ 90, "nolimit", 5000000, UINT64_MAX, UINT64_MAX },
		{ 91, "zero", 0, 0, 0 },
	};
	struct explain_input in;
	struct explain_result r;
	const struct explain_finding *f;

	(void)state;
	input_init(&in);
	in.procs = procs;
	in.n_procs = sizeof(procs) / sizeof(procs[0]);
	in.procs_checked = true;
	explain_analyze(&in, &r);
	assert_int_equal(r.n, 1);
	f = get(&r, EXPLAIN_FD_LIMIT);
	assert_string_equal(f->evidence, "pid 1720 (c1m-server) holds 1017 of its 1024 open files (hard limit 1024)");
	assert_non_null(strstr(f->fix, "raise the hard limit"));
	assert_string_equal(explain_cause_name(EXPLAIN_FD_LIMIT), "fd_limit");
	assert_true(explain_format(&r, &in, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "open-file limit"));
	assert_non_null(strstr(out, "EMFILE"));
	/* 95% is the line: 972 of 1024 is below it, 973 at it */
	procs[1].fds = 972;
	explain_analyze(&in, &r);
	assert_false(has(&r, EXPLAIN_FD_LIMIT));
	procs[1].fds = 973;
	explain_analyze(&in, &r);
	assert_true(has(&r, EXPLAIN_FD_LIMIT));
	/* a soft limit below the hard one: the process can raise it itself */
	procs[1].hard = 4096;
	explain_analyze(&in, &r);
	assert_non_null(strstr(get(&r, EXPLAIN_FD_LIMIT)->fix, "ulimit -n 4096"));
	assert_non_null(strstr(get(&r, EXPLAIN_FD_LIMIT)->evidence, "(hard limit 4096)"));
	/* no process list: nothing said */
	in.procs = NULL;
	explain_analyze(&in, &r);
	assert_false(has(&r, EXPLAIN_FD_LIMIT));
}

static void test_fd_limit_many(void **state)
{
	struct explain_proc procs[6];
	struct explain_input in;
	struct explain_result r;
	const struct explain_finding *f;
	unsigned i;

	(void)state;
	for (i = 0; i < 6; i++) {
		procs[i].pid = (int)(100 + i);
		snprintf(procs[i].comm, sizeof(procs[i].comm), "w%u", i);
		procs[i].soft = procs[i].hard = 1000;
		procs[i].fds = 950 + i * 10;   /* 950 .. 1000 */
	}
	input_init(&in);
	in.procs = procs;
	in.n_procs = 6;
	explain_analyze(&in, &r);
	f = get(&r, EXPLAIN_FD_LIMIT);
	/* the fullest first, three quoted, the rest counted */
	assert_non_null(strstr(f->evidence, "pid 105 (w5) holds 1000 of its 1000"));
	assert_true(strstr(f->evidence, "pid 105") < strstr(f->evidence, "pid 104"));
	assert_true(strstr(f->evidence, "pid 104") < strstr(f->evidence, "pid 103"));
	assert_null(strstr(f->evidence, "pid 102"));
	assert_non_null(strstr(f->evidence, "; 3 more processes"));
}

/* ---------- EADDRNOTAVAIL: /proc/net/tcp tuples ---------- */

/* A row as the kernel prints it: each address as its raw 32-bit word in hex. */
static int tcp_row(char *buf, size_t len, unsigned sl, const unsigned char *src, unsigned sport,
		   const unsigned char *dst, unsigned dport, unsigned st)
{
	uint32_t a, b;

	memcpy(&a, src, 4);
	memcpy(&b, dst, 4);
	return snprintf(buf, len, "%4u: %08X:%04X %08X:%04X %02X 00000000:00000000 00:00000000 00000000     0"
			"        0 0 3 00000000abfc8714\n", sl, a, sport, b, dport, st);
}

static const unsigned char cl1[4] = { 198, 18, 0, 2 }, cl2[4] = { 198, 18, 0, 3 };
static const unsigned char srv[4] = { 198, 18, 0, 1 }, any4[4] = { 0, 0, 0, 0 };

/* The lab's failure: 500 ports (40000-40499), all held by TIME_WAIT sockets to one server port. */
static size_t lab_tcp_text(char *text, size_t len, unsigned n_tw)
{
	size_t used = 0;
	unsigned i;

	used += (size_t)snprintf(text, len, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
				 "retrnsmt   uid  timeout inode\n");
	used += (size_t)tcp_row(text + used, len - used, 0, any4, 22, any4, 0, PROCFS_TCP_LISTEN);
	for (i = 0; i < n_tw; i++)
		used += (size_t)tcp_row(text + used, len - used, i + 1, cl1, 40000 + i, srv, 8081, PROCFS_TCP_TIME_WAIT);
	/* another destination, a port outside the range, a server-side socket, garbage */
	used += (size_t)tcp_row(text + used, len - used, 900, cl1, 40100, srv, 8082, 1);
	used += (size_t)tcp_row(text + used, len - used, 901, cl1, 39999, srv, 8081, 1);
	used += (size_t)tcp_row(text + used, len - used, 902, srv, 8081, cl2, 40200, 1);
	used += (size_t)snprintf(text + used, len - used, "garbage line\n 903: 0100007F:XXXX\n");
	return used;
}

static void test_tuples(void **state)
{
	static char text[120000];
	static struct explain_tuple slots[64];
	struct explain_tuples t;
	struct explain_input in;
	struct explain_result r;
	const struct explain_finding *f;
	size_t len = lab_tcp_text(text, sizeof(text), 500);

	(void)state;
	assert_true(len < sizeof(text) - 1);
	explain_tuples_init(&t, slots, 64, 40000, 40499);
	explain_tuples_scan(&t, text, len);
	assert_int_equal(t.rows, 504);          /* listener + 500 + 3 */
	/* 500 TIME_WAIT + the one to 8082; local port 39999 is outside the range and the server's
	 * socket holds 8081 as its local port (its peer's port 40200 is not ours) */
	assert_int_equal(t.sockets, 501);
	assert_int_equal(t.used, 2);
	assert_int_equal(t.dropped, 0);
	input_init(&in);
	in.tuples = &t;
	explain_analyze(&in, &r);
	assert_int_equal(r.n, 1);
	f = get(&r, EXPLAIN_LOCAL_PORTS);
	assert_string_equal(f->evidence, "198.18.0.2 -> 198.18.0.1:8081 has 500 sockets (500 in TIME_WAIT) of the "
			    "500 local ports in ip_local_port_range 40000-40499");
	assert_non_null(strstr(f->fix, "ip_local_port_range=\"1024 65535\""));
	assert_non_null(strstr(f->fix, "tcp_tw_reuse=1"));
	assert_true(explain_format(&r, &in, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "EADDRNOTAVAIL"));

	/* line by line gives the same counts */
	{
		struct explain_tuples t2;
		const char *p = text;

		explain_tuples_init(&t2, slots, 64, 40000, 40499);
		while (p < text + len) {
			const char *nl = strchr(p, '\n');

			explain_tuples_scan(&t2, p, (size_t)(nl - p + 1));
			p = nl + 1;
		}
		assert_int_equal(t2.rows, 504);
		assert_int_equal(t2.sockets, 501);
		assert_int_equal(t2.used, 2);
	}
	/* 474 of 500 is under 95%: no finding; 475 is at it */
	len = lab_tcp_text(text, sizeof(text), 474);
	explain_tuples_init(&t, slots, 64, 40000, 40499);
	explain_tuples_scan(&t, text, len);
	explain_analyze(&in, &r);
	assert_false(has(&r, EXPLAIN_LOCAL_PORTS));
	len = lab_tcp_text(text, sizeof(text), 475);
	explain_tuples_init(&t, slots, 64, 40000, 40499);
	explain_tuples_scan(&t, text, len);
	explain_analyze(&in, &r);
	assert_true(has(&r, EXPLAIN_LOCAL_PORTS));
	/* the same sockets against the default range are nowhere near it */
	explain_tuples_init(&t, slots, 64, 32768, 60999);
	explain_tuples_scan(&t, text, len);
	explain_analyze(&in, &r);
	assert_false(has(&r, EXPLAIN_LOCAL_PORTS));
}

static void test_tuples_full_and_v6(void **state)
{
	static struct explain_tuple slots[4];
	struct explain_tuples t;
	struct explain_input in;
	struct explain_result r;
	char row[256];
	unsigned i;

	(void)state;
	/* a table of 4 keeps one slot free: three tuples, the rest dropped and said so */
	explain_tuples_init(&t, slots, 4, 1, 4);
	for (i = 0; i < 4; i++) {
		unsigned char dst[4] = { 10, 0, 0, (unsigned char)(1 + i) };
		int n = tcp_row(row, sizeof(row), i, cl1, 1 + (i % 4), dst, 80, 1);

		explain_tuples_scan(&t, row, (size_t)n);
	}
	assert_int_equal(t.used, 3);
	assert_int_equal(t.dropped, 1);
	explain_tuples_scan(&t, row, strlen(row));   /* a known tuple still counts when full? no: new one */
	assert_int_equal(t.dropped, 2);
	/* IPv6 ::1 -> ::1 port 8081, range of 4 ports, all 4 in use */
	explain_tuples_init(&t, slots, 4, 1, 4);
	for (i = 0; i < 4; i++) {
		snprintf(row, sizeof(row), "%4u: 00000000000000000000000001000000:%04X 00000000000000000000000001000000:"
			 "1F91 01 00000000:00000000 00:00000000 00000000 0 0 0\n", i, 1 + i);
		explain_tuples_scan(&t, row, strlen(row));
	}
	assert_int_equal(t.sockets, 4);
	input_init(&in);
	in.tuples = &t;
	explain_analyze(&in, &r);
	if (*(const unsigned char *)&(const uint32_t){ 1 } == 1)   /* rows written as a little-endian host */
		assert_non_null(strstr(get(&r, EXPLAIN_LOCAL_PORTS)->evidence, "::1 -> [::1]:8081 has 4 sockets (0 in"));
	assert_null(strstr(get(&r, EXPLAIN_LOCAL_PORTS)->fix, "tcp_tw_reuse"));
	/* an empty table and no text: nothing, no crash */
	explain_tuples_init(&t, NULL, 0, 1, 4);
	explain_tuples_scan(&t, row, strlen(row));
	explain_tuples_scan(&t, NULL, 0);
	assert_int_equal(t.sockets, 0);
	assert_int_equal(t.dropped, 1);
}

/* ---------- the client's JSON report ---------- */

/* What c1m-client --json writes (abridged), with the escapes its writer uses. */
static const char client_json[] =
	"{\"host\":\"198.18.0.1\",\"port_base\":8081,\"ports\":1,\"target\":800,\"started\":800,"
	"\"established\":500,\"echoed\":500,\"failed\":300,\"failed_immediate\":300,"
	"\"failures\":{\"EADDRNOTAVAIL\":297,\"echo_timeout\":3,\"from_the_future\":2},"
	"\"elapsed_s\":1.250,\"connect_ms\":{\"p50\":0.5,\"p90\":1.0e0,\"p99\":-2,\"max\":3},"
	"\"workers\":1,\"sources\":{\"count\":4,\"first\":\"127.0.0.2\",\"default\":false},"
	"\"stop_signal\":\"\",\"problems\":\"a\\tb\\u0041\\u00e9\\\"q\\\\\",\"first_cause\":\"EADDRNOTAVAIL\","
	"\"explanations\":{\"EADDRNOTAVAIL\":\"Cannot assign requested address [x] {y}\"},"
	"\"list\":[1,[2,[]],{},null,true,false,\"s\"],\"pass\":false,\"verdict\":\"FAIL 500/800\"}\n";

static struct explain_client parsed;
static char parse_err[256];

static int parse(const char *text)
{
	return explain_client_parse(text, strlen(text), &parsed, parse_err, sizeof(parse_err));
}

/* Someone else's server: the protocol, the first bad reply and the failing statuses by code reach the
 * explanation of the kind, with its count. */
static void test_client_proto(void **state)
{
	struct diag_context ctx;

	(void)state;
	assert_int_equal(parse("{\"failures\":{\"handshake_refused\":15},\"proto\":\"http\",\"echoed\":40,"
			       "\"status_codes\":{\"503\":12,\"404\":3,\"other\":1},"
			       "\"proto_note\":\"connection 7: HTTP 503 Service Unavailable\"}"), 0);
	assert_string_equal(parsed.proto, "http");
	assert_int_equal(parsed.codes[0], 503);
	assert_int_equal(parsed.code_counts[0], 12);
	assert_int_equal(parsed.codes[1], 404);
	assert_int_equal(parsed.code_counts[1], 3);
	assert_int_equal(parsed.codes_other, 1);
	memset(&ctx, 0, sizeof(ctx));
	explain_client_context(&parsed, &ctx);
	assert_string_equal(ctx.proto, "http");
	assert_int_equal(ctx.verified, 40);
	assert_int_equal(ctx.codes[0], 503);
	assert_string_equal(ctx.first_bad, "connection 7: HTTP 503 Service Unavailable");
	/* bad codes are refused with a message */
	assert_int_equal(parse("{\"failures\":{},\"status_codes\":{\"abc\":1}}"), -1);
	assert_non_null(strstr(parse_err, "status code"));
	assert_int_equal(parse("{\"failures\":{},\"status_codes\":{\"1000\":1}}"), -1);
	assert_int_equal(parse("{\"failures\":{},\"status_codes\":{\"503\":-1}}"), -1);
	/* an echo run leaves the context as it was */
	assert_int_equal(parse("{\"failures\":{},\"proto\":\"echo\",\"echoed\":5}"), 0);
	memset(&ctx, 0, sizeof(ctx));
	explain_client_context(&parsed, &ctx);
	assert_null(ctx.proto);
	assert_int_equal(ctx.verified, 0);
}

static void test_client_parse(void **state)
{
	struct explain_client c;
	char e[256];

	(void)state;
	assert_int_equal(explain_client_parse(client_json, strlen(client_json), &c, e, sizeof(e)), 0);
	assert_int_equal(c.failures[DIAG_EADDRNOTAVAIL], 297);
	assert_int_equal(c.failures[DIAG_ECHO_TIMEOUT], 3);
	assert_int_equal(c.failures[DIAG_EMFILE], 0);
	assert_int_equal(c.failures_other, 2);
	assert_int_equal(c.first_cause, DIAG_EADDRNOTAVAIL);
	assert_int_equal(c.target, 800);
	assert_int_equal(c.established, 500);
	assert_int_equal(c.echoed, 500);
	assert_int_equal(c.failed, 300);
	assert_int_equal(c.ports, 1);
	assert_int_equal(c.sources, 4);
	assert_string_equal(c.host, "198.18.0.1");
	/* the smallest report, whitespace everywhere, empty first cause */
	assert_int_equal(parse(" { \"failures\" : { } , \"first_cause\" : \"\" } "), 0);
	assert_int_equal(parsed.first_cause, DIAG_KIND_COUNT);
	/* only len bytes are read: the same text cut short is refused */
	assert_int_equal(explain_client_parse("{\"failures\":{}}XXXX", 15, &c, e, sizeof(e)), 0);
	assert_int_equal(explain_client_parse("{\"failures\":{}}XXXX", 14, &c, e, sizeof(e)), -1);
	/* types the doctor relies on */
	assert_int_equal(parse("{\"failures\":{\"EMFILE\":1.5}}"), -1);
	assert_non_null(strstr(parse_err, "not a whole number"));
	assert_int_equal(parse("{\"failures\":{\"EMFILE\":-1}}"), -1);
	assert_int_equal(parse("{\"failures\":{\"EMFILE\":\"1\"}}"), -1);
	assert_int_equal(parse("{\"failures\":{\"EMFILE\":99999999999999999999}}"), -1);
	assert_int_equal(parse("{\"failures\":[]}"), -1);
	assert_int_equal(parse("{\"target\":5}"), -1);
	assert_non_null(strstr(parse_err, "no \"failures\""));
	assert_int_equal(parse("[]"), -1);
	assert_int_equal(parse(""), -1);
	assert_int_equal(explain_client_parse(NULL, 0, &c, e, sizeof(e)), -1);
	/* optional values of another type are skipped, not trusted */
	assert_int_equal(parse("{\"failures\":{},\"target\":\"800\",\"ports\":1.5,\"host\":7,\"sources\":[4]}"), 0);
	assert_int_equal(parsed.target, 0);
	assert_int_equal(parsed.ports, 0);
	assert_int_equal(parsed.sources, 0);
	assert_string_equal(parsed.host, "");
	/* bad JSON anywhere, even in keys nobody reads */
	assert_int_equal(parse("{\"failures\":{},\"x\":[1,}"), -1);
	assert_int_equal(parse("{\"failures\":{},\"x\":\"\\q\"}"), -1);
	assert_int_equal(parse("{\"failures\":{},\"x\":01}"), -1);
	assert_int_equal(parse("{\"failures\":{},\"x\":tru}"), -1);
	assert_int_equal(parse("{\"failures\":{},\"x\":[1 2]}"), -1);
	assert_int_equal(parse("{\"failures\":{}} {}"), -1);
	assert_non_null(strstr(parse_err, "client report: text after the end"));
}

/* Every cut of a valid report is refused, and nesting is bounded. */
static void test_client_parse_garbage(void **state)
{
	static char deep[256];
	struct explain_client c;
	char e[256];
	size_t n, len = strlen(client_json) - 1;   /* without the newline */
	unsigned i, seed = 12345;

	(void)state;
	for (n = 0; n < len; n++) {
		char *cut = malloc(n + 1);   /* exactly n bytes (+1 so malloc(0) is not special): reads past them are bugs */

		assert_non_null(cut);
		memcpy(cut, client_json, n);
		assert_int_equal(explain_client_parse(cut, n, &c, e, sizeof(e)), -1);
		assert_true(e[0] != '\0');
		free(cut);
	}
	/* 32 levels in an ignored key are fine, 33 are not */
	for (i = 0; i < 2; i++) {
		unsigned depth = 32 + i, k;
		size_t used = (size_t)snprintf(deep, sizeof(deep), "{\"failures\":{},\"x\":");

		for (k = 0; k < depth; k++)
			deep[used++] = '[';
		for (k = 0; k < depth; k++)
			deep[used++] = ']';
		deep[used++] = '}';
		assert_int_equal(explain_client_parse(deep, used, &c, e, sizeof(e)), i == 0 ? 0 : -1);
	}
	assert_non_null(strstr(e, "nested too deep"));
	/* random bytes from JSON's alphabet: an answer, never a crash (run under ASan for reads) */
	for (i = 0; i < 5000; i++) {
		static const char alpha[] = "{}[]\":,\\u0123456789.eE-+ tfnrlsa\"\"failures";
		size_t l, k;
		char *buf;
		int rc;

		seed = seed * 1103515245u + 12345u;
		l = (seed >> 16) % 64;
		buf = malloc(l + 1);
		assert_non_null(buf);
		for (k = 0; k < l; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[k] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
		}
		rc = explain_client_parse(buf, l, &c, e, sizeof(e));
		assert_true(rc == 0 || rc == -1);
		if (rc == 0)
			assert_true(c.first_cause <= DIAG_KIND_COUNT);
		free(buf);
	}
}

/* --from: each kind explained with this machine's numbers, first cause first, tied to the findings. */
static void test_client_kinds(void **state)
{
	static char text[120000];
	static struct explain_tuple slots[64];
	static struct diag_context ctx;
	static struct explain_result r;
	struct explain_client c;
	struct explain_tuples t;
	struct explain_input in;
	char e[256];
	size_t len;

	(void)state;
	assert_int_equal(explain_client_parse(client_json, strlen(client_json), &c, e, sizeof(e)), 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.lim_valid = true;
	ctx.lim.port_lo = 40000;
	ctx.lim.port_hi = 40499;
	ctx.ports = c.ports;
	ctx.sources = 1;
	input_init(&in);
	in.client = &c;
	in.ctx = &ctx;
	explain_analyze(&in, &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.n_kinds, 2);
	assert_int_equal(r.kinds[0].kind, DIAG_EADDRNOTAVAIL);
	assert_true(r.kinds[0].first);
	assert_int_equal(r.kinds[0].count, 297);
	assert_non_null(strstr(r.kinds[0].text, "ip_local_port_range 40000-40499 gives 500 ports"));
	assert_int_equal(r.kinds[0].n_backed, 0);
	assert_int_equal(r.kinds[1].kind, DIAG_ECHO_TIMEOUT);
	assert_false(r.kinds[1].first);
	assert_true(explain_format(&r, &in, out, sizeof(out)) > 0);
	assert_null(strstr(out, "Cannot tell"));
	assert_non_null(strstr(out, "300 of 800 connections failed (server 198.18.0.1)"));
	assert_non_null(strstr(out, "- EADDRNOTAVAIL x 297 (first cause): Cannot assign requested address"));
	assert_non_null(strstr(out, "- echo_timeout x 3: "));
	assert_non_null(strstr(out, "2 failures under kind names this doctor does not know"));
	/* with the sockets still holding their ports, the finding backs the kind up */
	len = lab_tcp_text(text, sizeof(text), 500);
	explain_tuples_init(&t, slots, 64, 40000, 40499);
	explain_tuples_scan(&t, text, len);
	in.tuples = &t;
	explain_analyze(&in, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.kinds[0].n_backed, 1);
	assert_int_equal(r.kinds[0].backed[0], EXPLAIN_LOCAL_PORTS);
	assert_int_equal(r.kinds[1].n_backed, 0);
	assert_true(explain_format(&r, &in, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "  shown now by: local_ports (finding 1)\n"));
	assert_true(explain_format_json(&r, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"client_kinds\":[{\"kind\":\"EADDRNOTAVAIL\",\"count\":297,\"first\":true,"));
	assert_non_null(strstr(out, "\"shown_by\":[\"local_ports\"]"));
	/* no first cause: by count */
	c.first_cause = DIAG_KIND_COUNT;
	c.failures[DIAG_ECHO_TIMEOUT] = 400;
	explain_analyze(&in, &r);
	assert_int_equal(r.kinds[0].kind, DIAG_ECHO_TIMEOUT);
	assert_int_equal(r.kinds[1].kind, DIAG_EADDRNOTAVAIL);
	/* a clean report: nothing to explain from it, and the text says it counted none */
	memset(c.failures, 0, sizeof(c.failures));
	c.failures_other = 0;
	in.tuples = NULL;
	explain_analyze(&in, &r);
	assert_int_equal(r.n_kinds, 0);
	assert_true(explain_format(&r, &in, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "it counted no failures"));
	assert_non_null(strstr(out, "Cannot tell"));
}

/* With nothing found, the text lists what was looked at, processes and sockets included. */
static void test_checked_line(void **state)
{
	static struct explain_tuple slots[8];
	struct explain_proc p = { 7, "idle", 3, 1024, 1024 };
	struct explain_tuples t;
	struct explain_input in;
	struct explain_result r;

	(void)state;
	input_init(&in);
	in.tcp_mem_present = false;
	explain_analyze(&in, &r);
	assert_true(explain_format(&r, &in, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "tcp_mem is machine-wide, not visible in this network namespace"));
	assert_non_null(strstr(out, "open files of processes NOT readable"));
	assert_non_null(strstr(out, "/proc/net/tcp NOT readable"));
	explain_tuples_init(&t, slots, 8, 32768, 60999);
	in.tuples = &t;
	in.procs = &p;
	in.n_procs = 1;
	in.procs_checked = true;
	explain_analyze(&in, &r);
	assert_int_equal(r.n, 0);
	assert_true(explain_format(&r, &in, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "open files of 1 process; local ports of 0 TCP sockets."));
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
		cmocka_unit_test(test_fd_limit),
		cmocka_unit_test(test_fd_limit_many),
		cmocka_unit_test(test_tuples),
		cmocka_unit_test(test_tuples_full_and_v6),
		cmocka_unit_test(test_client_parse),
		cmocka_unit_test(test_client_parse_garbage),
		cmocka_unit_test(test_client_kinds),
		cmocka_unit_test(test_client_proto),
		cmocka_unit_test(test_checked_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
