/* Unit tests for failure diagnosis: errno mapping and stable names, and that each explanation names the
 * cause the fabricated numbers point at (conntrack full vs listen queue overflow for a timed-out
 * connect, port exhaustion arithmetic, the fixed hard fd limit) with the line that fixes it; and that
 * tcp_mem hidden in a child network namespace is said to be so rather than quoted as zeros. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "common/model/diag.h"

static char buf[DIAG_EXPLAIN_LEN];

static void ctx_init(struct diag_context *c)
{
	memset(c, 0, sizeof(*c));
	c->lim_valid = true;
	c->lim.nofile_soft = 20000;
	c->lim.nofile_hard = 20000;
	c->lim.nofile_hard_raisable = false;
	c->lim.file_max = 2466193;
	c->lim.file_nr_used = 400;
	c->lim.port_lo = 32768;
	c->lim.port_hi = 60999;
	c->lim.conntrack_present = true;
	c->lim.conntrack_max = 131072;
	c->lim.conntrack_count = 10;
	c->lim.somaxconn = 4096;
	c->lim.tcp_mem_present = true;
	c->lim.tcp_mem[0] = 287901;
	c->lim.tcp_mem[1] = 383869;
	c->lim.tcp_mem[2] = 575802;
	c->lim.sockstat_present = true;
	c->lim.tcp_mem_used = 1000;
	c->lim.mem_available = UINT64_C(24) << 30;
	c->tcpext.present = true;
	c->ports = 1;
	c->sources = 1;
	c->dst_addrs = 1;
}

static void test_errno_map(void **state)
{
	(void)state;
	assert_int_equal(diag_from_errno(EMFILE), DIAG_EMFILE);
	assert_int_equal(diag_from_errno(ENFILE), DIAG_ENFILE);
	assert_int_equal(diag_from_errno(EADDRNOTAVAIL), DIAG_EADDRNOTAVAIL);
	assert_int_equal(diag_from_errno(ETIMEDOUT), DIAG_ETIMEDOUT);
	assert_int_equal(diag_from_errno(ECONNREFUSED), DIAG_ECONNREFUSED);
	assert_int_equal(diag_from_errno(ECONNRESET), DIAG_ECONNRESET);
	assert_int_equal(diag_from_errno(EPIPE), DIAG_EPIPE);
	assert_int_equal(diag_from_errno(ENOMEM), DIAG_ENOMEM);
	assert_int_equal(diag_from_errno(ENOBUFS), DIAG_ENOBUFS);
	assert_int_equal(diag_from_errno(EINVAL), DIAG_OTHER);
	assert_int_equal(diag_from_errno(0), DIAG_OTHER);
}

static void test_names(void **state)
{
	unsigned i, j;

	(void)state;
	assert_string_equal(diag_kind_name(DIAG_EMFILE), "EMFILE");
	assert_string_equal(diag_kind_name(DIAG_ECHO_MISMATCH), "echo_mismatch");
	assert_string_equal(diag_kind_name(DIAG_CONNECT_TIMEOUT), "connect_timeout");
	assert_string_equal(diag_kind_name(DIAG_KIND_COUNT), "invalid");
	for (i = 0; i < DIAG_KIND_COUNT; i++) {
		const char *n = diag_kind_name((enum diag_kind)i);

		assert_non_null(n);
		assert_int_equal(diag_kind_from_name(n), i);
		for (j = 0; j < i; j++)  /* JSON keys must be unique */
			assert_string_not_equal(n, diag_kind_name((enum diag_kind)j));
	}
	assert_int_equal(diag_kind_from_name("nope"), DIAG_KIND_COUNT);
	assert_int_equal(diag_kind_from_name(NULL), DIAG_KIND_COUNT);
}

/* Every kind explains itself in a bounded buffer; an invalid kind and a tiny buffer fail. */
static void test_every_kind(void **state)
{
	struct diag_context c;
	char tiny[16];
	unsigned i;

	(void)state;
	ctx_init(&c);
	for (i = 0; i < DIAG_KIND_COUNT; i++) {
		assert_int_equal(diag_explain((enum diag_kind)i, &c, buf, sizeof(buf)), 0);
		assert_true(strlen(buf) > 40);
	}
	assert_int_equal(diag_explain(DIAG_KIND_COUNT, &c, buf, sizeof(buf)), -1);
	assert_int_equal(diag_explain(DIAG_EMFILE, &c, tiny, sizeof(tiny)), -1);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	/* without system numbers the text still gives the fix */
	c.lim_valid = false;
	c.tcpext.present = false;
	for (i = 0; i < DIAG_KIND_COUNT; i++)
		assert_int_equal(diag_explain((enum diag_kind)i, &c, buf, sizeof(buf)), 0);
}

static void test_emfile(void **state)
{
	struct diag_context c;

	(void)state;
	ctx_init(&c);
	assert_int_equal(diag_explain(DIAG_EMFILE, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "Soft limit 20000, hard limit 20000"));
	assert_non_null(strstr(buf, "ulimit -n"));
	assert_non_null(strstr(buf, "* hard nofile 1048576"));
	assert_non_null(strstr(buf, "LimitNOFILE="));
	assert_non_null(strstr(buf, "cannot be raised"));
	assert_non_null(strstr(buf, "--workers"));
	c.lim.nofile_hard_raisable = true;
	assert_int_equal(diag_explain(DIAG_EMFILE, &c, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "cannot be raised"));
}

static void test_enfile(void **state)
{
	struct diag_context c;

	(void)state;
	ctx_init(&c);
	assert_int_equal(diag_explain(DIAG_ENFILE, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "fs.file-max is 2466193"));
	assert_non_null(strstr(buf, "sysctl -w fs.file-max=4932386"));
}

static void test_eaddrnotavail(void **state)
{
	struct diag_context c;

	(void)state;
	ctx_init(&c);
	assert_int_equal(diag_explain(DIAG_EADDRNOTAVAIL, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "32768-60999 gives 28232 ports"));
	assert_non_null(strstr(buf, "capacity is 28232 connections"));
	assert_non_null(strstr(buf, "--sources"));
	assert_non_null(strstr(buf, "ip_local_port_range"));
	c.ports = 100;
	c.sources = 8;
	assert_int_equal(diag_explain(DIAG_EADDRNOTAVAIL, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "capacity is 22585600 connections"));
	assert_non_null(strstr(buf, "127.0.0.2-127.0.0.9"));
	/* the same arithmetic for IPv6, with a fix that names IPv6 sources and says lo has only ::1 */
	c.ipv6 = true;
	assert_int_equal(diag_explain(DIAG_EADDRNOTAVAIL, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "capacity is 22585600 connections"));
	assert_non_null(strstr(buf, "2001:2::1-2001:2::8"));
	assert_non_null(strstr(buf, "only ::1"));
	assert_null(strstr(buf, "127.0.0.2"));
}

/* A timed-out connect: the explanation must follow the numbers. */
static void test_timeout_cause(void **state)
{
	struct diag_context c;

	(void)state;
	ctx_init(&c);
	/* conntrack full, no overflows -> conntrack */
	c.lim.conntrack_count = 131072;
	assert_int_equal(diag_explain(DIAG_ETIMEDOUT, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "131072 of 131072 entries in use (full)"));
	assert_non_null(strstr(buf, "point at conntrack"));
	assert_non_null(strstr(buf, "nf_conntrack_max=2097152"));   /* capacity_conntrack_max: N unknown */
	c.target = 800;
	assert_int_equal(diag_explain(DIAG_ETIMEDOUT, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "nf_conntrack_max=2048"));      /* 2 x 800, the next power of two */
	assert_null(strstr(buf, "point at the listen queue"));
	/* listen overflows, conntrack nearly empty -> listen queue */
	ctx_init(&c);
	c.tcpext.listen_overflows = 5000;
	c.tcpext.listen_drops = 5000;
	assert_int_equal(diag_explain(DIAG_CONNECT_TIMEOUT, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "Connect deadline expired"));
	assert_non_null(strstr(buf, "ListenOverflows 5000"));
	assert_non_null(strstr(buf, "point at the listen queue"));
	assert_non_null(strstr(buf, "somaxconn"));
	assert_null(strstr(buf, "point at conntrack"));
	/* neither -> says so plainly */
	ctx_init(&c);
	assert_int_equal(diag_explain(DIAG_ETIMEDOUT, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "Neither counter shows a drop"));
	/* conntrack not loaded: it is ruled out */
	c.lim.conntrack_present = false;
	assert_int_equal(diag_explain(DIAG_ETIMEDOUT, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "not loaded"));
}

static void test_reset_and_memory(void **state)
{
	struct diag_context c;

	(void)state;
	ctx_init(&c);
	assert_int_equal(diag_explain(DIAG_ECONNRESET, &c, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "tcp_abort_on_overflow is 1"));
	c.lim.tcp_abort_on_overflow = 1;
	c.tcpext.listen_overflows = 7;
	assert_int_equal(diag_explain(DIAG_ECONNRESET, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "tcp_abort_on_overflow is 1"));
	assert_non_null(strstr(buf, "ListenOverflows 7"));

	ctx_init(&c);
	c.lim.tcp_mem_used = 600000;
	c.tcpext.memory_pressures = 3;
	assert_int_equal(diag_explain(DIAG_ENOBUFS, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "TCP uses 600000 pages now; tcp_mem is 287901 383869 575802"));
	assert_non_null(strstr(buf, "TCPMemoryPressures 3"));
	assert_non_null(strstr(buf, "tcp_rmem"));
	assert_int_equal(diag_explain(DIAG_ECHO_TIMEOUT, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "memory pressure"));
	c.lim.tcp_mem_used = 10;
	assert_int_equal(diag_explain(DIAG_ECHO_TIMEOUT, &c, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "memory pressure"));
}

/* In a child network namespace tcp_mem cannot be read: say so, never quote zeros or claim pressure. */
static void test_tcp_mem_absent(void **state)
{
	struct diag_context c;

	(void)state;
	ctx_init(&c);
	c.lim.tcp_mem_present = false;
	memset(c.lim.tcp_mem, 0, sizeof(c.lim.tcp_mem));
	c.lim.tcp_mem_used = 600000;
	assert_int_equal(diag_explain(DIAG_ENOMEM, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "TCP uses 600000 pages now; tcp_mem is machine-wide, not visible in this "
				    "network namespace"));
	assert_null(strstr(buf, "tcp_mem is 0"));
	assert_int_equal(diag_explain(DIAG_ECHO_TIMEOUT, &c, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "memory pressure"));
	assert_non_null(strstr(buf, "open-file limit"));
}

/* The snapshot taken at the failure replaces the moving numbers read at start; the rest stays. */
static void test_context_init(void **state)
{
	struct limits_values lim;
	struct kstate now;
	struct diag_context c;

	(void)state;
	memset(&lim, 0, sizeof(lim));
	lim.nofile_soft = 1024;
	lim.nofile_hard = 20000;
	lim.port_lo = 40000;
	lim.port_hi = 40499;
	lim.file_nr_used = 10;
	memset(&now, 0, sizeof(now));
	now.valid = true;
	now.nofile_present = true;
	now.nofile_soft = 20000;
	now.nofile_hard = 20000;
	now.conntrack_present = true;
	now.conntrack_count = 300;
	now.conntrack_max = 300;
	now.tcpext.present = true;
	now.tcpext.listen_overflows = 9;

	diag_context_init(&c, &lim, &now, 100, 4);
	assert_true(c.lim_valid);
	assert_int_equal(c.ports, 100);
	assert_int_equal(c.sources, 4);
	assert_int_equal(c.dst_addrs, 1);
	assert_int_equal(c.lim.nofile_soft, 20000);      /* from the snapshot */
	assert_int_equal(c.lim.port_lo, 40000);          /* from the start */
	assert_int_equal(c.lim.file_nr_used, 10);        /* the snapshot had no file-nr */
	assert_true(c.lim.conntrack_in_use);
	assert_int_equal(c.lim.conntrack_count, 300);
	assert_true(c.tcpext.present);
	assert_int_equal(c.tcpext.listen_overflows, 9);

	/* no limits: the counters still count, the limits are said to be unknown */
	diag_context_init(&c, NULL, &now, 1, 1);
	assert_false(c.lim_valid);
	assert_true(c.tcpext.present);
	/* no snapshot: the start values alone */
	diag_context_init(&c, &lim, NULL, 1, 1);
	assert_int_equal(c.lim.nofile_soft, 1024);
	assert_false(c.tcpext.present);
}

/* Someone else's server: what c1m saw is named, a connection limit only as a possibility. */
static void test_handshake_closed(void **state)
{
	struct diag_context c;

	(void)state;
	ctx_init(&c);
	c.proto = "http";
	c.count = 9000;
	c.verified = 996;
	assert_int_equal(diag_explain(DIAG_HANDSHAKE_CLOSED, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "http handshake (9000 times)"));
	assert_non_null(strstr(buf, "serve 996 connections"));
	assert_non_null(strstr(buf, "possibly its own connection limit"));
	assert_non_null(strstr(buf, "near 996 connections"));
	assert_non_null(strstr(buf, "worker_connections"));
	assert_non_null(strstr(buf, "maxclients"));
	assert_non_null(strstr(buf, "Mosquitto max_connections"));
	assert_non_null(strstr(buf, "mosquitto: \"denied: max_connections exceeded\""));
	assert_non_null(strstr(buf, "maxconn"));
	/* nothing verified: no number for a limit */
	c.verified = 0;
	assert_int_equal(diag_explain(DIAG_HANDSHAKE_CLOSED, &c, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "near "));
	assert_null(strstr(buf, "did serve"));
}

static void test_handshake_refused(void **state)
{
	struct diag_context c;

	(void)state;
	ctx_init(&c);
	c.proto = "http";
	c.count = 15;
	c.codes[0] = 503;
	c.code_counts[0] = 12;
	c.codes[1] = 404;
	c.code_counts[1] = 3;
	c.codes_other = 2;
	c.first_bad = "connection 7: HTTP 503 Service Unavailable";
	assert_int_equal(diag_explain(DIAG_HANDSHAKE_REFUSED, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "503 x 12, 404 x 3, other codes x 2"));
	assert_non_null(strstr(buf, "The first: connection 7: HTTP 503 Service Unavailable."));
	assert_non_null(strstr(buf, "possibly its limit"));
	assert_non_null(strstr(buf, "--path"));
	assert_null(strstr(buf, "429"));
	assert_null(strstr(buf, "5xx"));
	/* no codes seen (a refusal without one): no list, no guesses */
	memset(c.codes, 0, sizeof(c.codes));
	c.codes_other = 0;
	c.first_bad = NULL;
	assert_int_equal(diag_explain(DIAG_HANDSHAKE_REFUSED, &c, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "by code"));
	assert_null(strstr(buf, "503"));
}

static void test_bad_reply(void **state)
{
	struct diag_context c;

	(void)state;
	ctx_init(&c);
	c.proto = "http";
	/* the note holds the escaped text \x15\x03: backslash, x, 1, 5 */
	c.first_bad = "connection 0: not HTTP: '\\x15\\x03\\x03'";
	assert_int_equal(diag_explain(DIAG_BAD_REPLY, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "The first: connection 0"));
	assert_non_null(strstr(buf, "TLS record"));
	assert_non_null(strstr(buf, "--tls"));
	c.proto = NULL;
	c.first_bad = "connection 3: 'HTTP/1.1 400 Bad Request\\r\\n...'";
	assert_int_equal(diag_explain(DIAG_BAD_REPLY, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "not valid for the echo protocol"));
	assert_non_null(strstr(buf, "--proto http"));
	c.first_bad = "connection 3: 'garbage'";
	assert_int_equal(diag_explain(DIAG_BAD_REPLY, &c, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "look like"));
}

static void test_server_close(void **state)
{
	struct diag_context c;

	(void)state;
	ctx_init(&c);
	c.proto = "http";
	c.count = 1;
	assert_int_equal(diag_explain(DIAG_SERVER_CLOSE, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "counted 1 such reply,"));
	c.count = 40;
	assert_int_equal(diag_explain(DIAG_SERVER_CLOSE, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "counted 40 such replies"));
	assert_non_null(strstr(buf, "keepalive_requests"));
	/* peer closed after connections were held: the idle timeout and the connection limit as
	 * possibilities, only then */
	c.verified = 10;
	assert_int_equal(diag_explain(DIAG_PEER_CLOSED, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "possibly its idle timeout (nginx keepalive_timeout"));
	assert_non_null(strstr(buf, "worker_connections are not enough, reusing connections"));
	c.proto = NULL;
	assert_int_equal(diag_explain(DIAG_PEER_CLOSED, &c, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "keepalive_timeout"));
	assert_null(strstr(buf, "worker_connections"));
}

/* TLS: OpenSSL's first error quoted, and what it possibly means named only as a possibility. */
static void test_tls(void **state)
{
	struct diag_context c;

	(void)state;
	ctx_init(&c);
	c.count = 5000;
	c.first_bad = "connection 7: TLS: error:0A000086:SSL routines::certificate verify failed (unable to get "
		      "local issuer certificate)";
	assert_int_equal(diag_explain(DIAG_TLS, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "(5000 times)"));
	assert_non_null(strstr(buf, "The first: connection 7: TLS: error:0A000086"));
	assert_non_null(strstr(buf, "--ca"));
	assert_non_null(strstr(buf, "--insecure"));
	c.first_bad = "connection 1: TLS: error:0A00010B:SSL routines::wrong version number";
	assert_int_equal(diag_explain(DIAG_TLS, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "possibly does not speak TLS"));
	assert_null(strstr(buf, "--insecure"));
	c.first_bad = "connection 1: TLS: error:0A0000F4:SSL routines::unexpected message";
	assert_int_equal(diag_explain(DIAG_TLS, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "possibly a server that echoes"));
	c.first_bad = "connection 1: TLS: error:0A000410:SSL routines::sslv3 alert handshake failure";
	assert_int_equal(diag_explain(DIAG_TLS, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "ended the handshake with the alert"));
	c.first_bad = "connection 1: TLS: the server closed the connection during the handshake";
	assert_int_equal(diag_explain(DIAG_TLS, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "possibly its own connection limit"));
	c.first_bad = "connection 1: TLS: handshake not complete within the connect deadline";
	assert_int_equal(diag_explain(DIAG_TLS, &c, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "--connect-timeout"));
	/* a note that is not a TLS one (an HTTP refusal came first) is not quoted as the TLS failure */
	c.first_bad = "connection 2: HTTP 503";
	assert_int_equal(diag_explain(DIAG_TLS, &c, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "The first"));
	assert_non_null(strstr(buf, "error log"));
	assert_string_equal(diag_kind_name(DIAG_TLS), "tls");
	assert_int_equal(diag_kind_from_name("tls"), DIAG_TLS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_map),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_emfile),
		cmocka_unit_test(test_enfile),
		cmocka_unit_test(test_eaddrnotavail),
		cmocka_unit_test(test_timeout_cause),
		cmocka_unit_test(test_reset_and_memory),
		cmocka_unit_test(test_tcp_mem_absent),
		cmocka_unit_test(test_context_init),
		cmocka_unit_test(test_handshake_closed),
		cmocka_unit_test(test_handshake_refused),
		cmocka_unit_test(test_bad_reply),
		cmocka_unit_test(test_server_close),
		cmocka_unit_test(test_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
