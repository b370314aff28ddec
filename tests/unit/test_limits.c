/* Unit tests for the limits model with fabricated machines: a hard fd limit of 20,000 that forces
 * 51 worker processes per side for a million connections, one server port and one source that run out
 * of 4-tuples at 28,232, a conntrack table that binds at 131,072 only when something uses it, tcp_mem
 * that idle connections never reach but in-flight traffic can, and memory and cgroup limits. Also the
 * machine-wide sysctls a child network namespace cannot see (tcp_mem absent: no failure, no ceiling),
 * fixes for read-only keys, the numeric needed_value and sysctl key per check, and the formatters. The
 * reader and its parsers are tested in test_limits_read.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/model/limits.h"
#include "common/util/version.h"

/* A roomy machine where nothing binds except what a test changes. */
static void roomy(struct limits_values *v)
{
	memset(v, 0, sizeof(*v));
	v->nofile_soft = 1024;
	v->nofile_hard = 20000;
	v->file_max = 10000000;
	v->nr_open = 1048576;
	v->file_nr_used = 500;
	v->port_lo = 32768;
	v->port_hi = 60999;
	v->conntrack_present = true;
	v->conntrack_in_use = false;
	v->conntrack_max = 262144;
	v->conntrack_count = 0;
	v->conntrack_buckets = 262144;
	v->somaxconn_present = true;
	v->somaxconn = 4096;
	v->syn_backlog_present = true;
	v->syn_backlog = 2048;
	v->tcp_mem_present = true;
	v->tcp_rmem_present = true;
	v->tcp_wmem_present = true;
	v->tcp_mem[0] = 10000000;
	v->tcp_mem[1] = 20000000;
	v->tcp_mem[2] = 30000000;
	v->tcp_rmem[0] = 4096;
	v->tcp_wmem[0] = 4096;
	v->mem_available = UINT64_C(64) << 30;
	v->page_size = 4096;
	v->tcp_migrate_req_present = true;
	v->tcp_migrate_req = 1;
	v->cgroup_mem_present = true;
	v->cgroup_version = 1;
	v->cgroup_mem_limit = LIMITS_UNLIMITED;
}

static void plan_init(struct limits_plan *p, enum limits_role role, uint64_t n)
{
	memset(p, 0, sizeof(*p));
	p->role = role;
	p->target = n;
	p->ports = 100;
	p->dst_addrs = 1;
	p->sources = 1;
}

static bool has_check(const struct limits_report *r, const char *name)
{
	unsigned i;

	for (i = 0; i < r->n_checks; i++)
		if (strcmp(r->checks[i].name, name) == 0)
			return true;
	return false;
}

/* Never NULL: a missing check fails the test and yields an empty one. */
static const struct limits_check *find(const struct limits_report *r, const char *name)
{
	static const struct limits_check missing;
	unsigned i;

	for (i = 0; i < r->n_checks; i++)
		if (strcmp(r->checks[i].name, name) == 0)
			return &r->checks[i];
	fail_msg("no check named %s", name);
	return &missing;
}

static void test_helpers(void **state)
{
	struct limits_values v;

	(void)state;
	roomy(&v);
	assert_int_equal(limits_fds_per_process(&v), 19980);
	assert_int_equal(limits_port_range_width(&v), 28232);
	assert_int_equal(limits_sources_needed(1000000, 1, 1, &v), 36);    /* 1e6 / 28,232 = 35.4 */
	assert_int_equal(limits_sources_needed(1000000, 1, 100, &v), 1);
	assert_int_equal(limits_sources_needed(28232, 1, 1, &v), 1);
	assert_int_equal(limits_sources_needed(28233, 1, 1, &v), 2);
	v.nofile_hard = 10;
	assert_int_equal(limits_fds_per_process(&v), 0);
}

/* N = 1,000,000 on one process per side with hard 20,000: the fd limit binds per process. */
static void test_million_one_worker(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	roomy(&v);
	plan_init(&p, LIMITS_ROLE_BOTH, 1000000);
	p.workers = 1;
	limits_evaluate(&p, &v, &r);
	assert_string_equal(r.binding, "nofile.hard");
	assert_int_equal(r.ceiling, 19880);         /* server side: 20,000 - 100 listeners - 20 */
	assert_int_equal(r.workers_server, 56);     /* capacity_plan: 17,892 per server process (90 %) */
	assert_int_equal(r.workers_client, 51);     /* 19,980 per client process */
	assert_int_equal(r.workers_needed, 56);
	c = find(&r, "nofile.hard");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_string_equal(c->fix, "--workers 56");
	assert_true(r.n_fail >= 1);
}

/* Auto workers: the fd limit costs processes, not connections; it warns and names the count. */
static void test_million_auto(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	roomy(&v);
	plan_init(&p, LIMITS_ROLE_BOTH, 1000000);
	limits_evaluate(&p, &v, &r);
	c = find(&r, "nofile.hard");
	assert_int_equal(c->verdict, LIMITS_WARN);
	assert_string_equal(c->fix, "--workers 56");
	assert_string_equal(c->needed, "56+51 workers x 19,628 fds");
	assert_non_null(strstr(c->note, "auto plans 17,892 (90%)"));
	assert_non_null(strstr(c->note, "56 server + 51 client processes"));
	assert_true(c->capacity == LIMITS_UNLIMITED);
	assert_int_equal(r.workers_needed, 56);
	assert_int_equal(r.n_fail, 0);
	/* with 56 workers and migration off, the migrate check warns */
	v.tcp_migrate_req = 0;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "tcp_migrate_req");
	assert_int_equal(c->verdict, LIMITS_WARN);
	assert_string_equal(c->fix, "sysctl -w net.ipv4.tcp_migrate_req=1");
	/* file-max counts both sockets of each connection plus listeners: 2N + 100 x 56 + in use */
	c = find(&r, "fs.file-max");
	assert_int_equal(c->verdict, LIMITS_OK);
	v.file_max = 1500000;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "fs.file-max");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_string_equal(c->fix, "sysctl -w fs.file-max=2097152");
	assert_string_equal(r.binding, "fs.file-max");
	assert_int_equal(r.ceiling, (1500000 - 500 - 5600) / 2);
}

/* Too few workers given: fails and says how many are needed. */
static void test_workers_too_few(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	roomy(&v);
	plan_init(&p, LIMITS_ROLE_SERVER, 1000000);
	p.workers = 40;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "nofile.hard");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_string_equal(c->fix, "--workers 56");    /* what --workers auto runs */
	assert_int_equal(c->capacity, 40 * 19880);
	assert_string_equal(r.binding, "nofile.hard");
	p.workers = 51;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "nofile.hard");
	assert_int_equal(c->verdict, LIMITS_OK);
	assert_int_equal(r.n_fail, 0);
	/* server role has no 4-tuple check: the clients are elsewhere */
	assert_false(has_check(&r, "ports.4tuple"));
}

/* 19,000 on one server process fits under 20,000 with 100 listeners. */
static void test_19000_one_process(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;

	(void)state;
	roomy(&v);
	plan_init(&p, LIMITS_ROLE_SERVER, 19000);
	p.workers = 1;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(r.n_fail, 0);
	assert_int_equal(find(&r, "nofile.hard")->verdict, LIMITS_OK);
	/* --workers auto would run two (19,000 > 90 % of 19,880); one fixed worker holds them */
	assert_int_equal(r.workers_needed, 2);
	assert_true(r.ceiling >= 19000);
	/* soft 1024 is below the need: warn, c1m raises it */
	assert_int_equal(find(&r, "nofile.soft")->verdict, LIMITS_WARN);
	assert_string_equal(find(&r, "nofile.soft")->fix, "ulimit -n 19120");
	v.nofile_soft = 20000;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "nofile.soft")->verdict, LIMITS_OK);
	assert_int_equal(r.n_warn, 0);
}

/* One server port, one source, default range: 28,232 connections, the 4-tuple binds. */
static void test_four_tuple(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	roomy(&v);
	plan_init(&p, LIMITS_ROLE_CLIENT, 100000);
	p.ports = 1;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(r.ceiling, 28232);
	assert_string_equal(r.binding, "ports.4tuple");
	c = find(&r, "ports.4tuple");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_string_equal(c->fix, "--sources 4");
	assert_int_equal(r.sources_needed, 4);
	p.sources = 4;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "ports.4tuple")->verdict, LIMITS_OK);
	assert_int_equal(find(&r, "ports.4tuple")->capacity, 4 * 28232);
	/* a narrow range: 3 ports */
	v.port_lo = 40000;
	v.port_hi = 40002;
	p.sources = 1;
	p.ports = 2;
	p.target = 10;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(r.ceiling, 6);
}

/* conntrack binds at its max only when in use; both ends on one host still take one entry. */
static void test_conntrack(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	roomy(&v);
	v.conntrack_max = 131072;
	plan_init(&p, LIMITS_ROLE_BOTH, 1000000);
	limits_evaluate(&p, &v, &r);
	c = find(&r, "nf_conntrack_max");
	assert_int_equal(c->verdict, LIMITS_OK);
	assert_non_null(strstr(c->note, "idle (no rule uses it)"));
	assert_true(c->capacity == LIMITS_UNLIMITED);

	v.conntrack_in_use = true;
	v.conntrack_count = 12;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(r.ceiling, 131072);
	assert_string_equal(r.binding, "nf_conntrack_max");
	c = find(&r, "nf_conntrack_max");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	/* capacity_conntrack_max: 2N (live + lingering), the next power of two */
	assert_string_equal(c->fix, "sysctl -w net.netfilter.nf_conntrack_max=2097152");
	c = find(&r, "nf_conntrack_buckets");
	assert_int_equal(c->verdict, LIMITS_OK);   /* 1e6 / 262,144 = 3.8 entries per chain */
	v.conntrack_buckets = 16384;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "nf_conntrack_buckets")->verdict, LIMITS_WARN);
	assert_string_equal(find(&r, "nf_conntrack_buckets")->fix,
			    "sysctl -w net.netfilter.nf_conntrack_buckets=524288");   /* max / 4 */
	v.conntrack_buckets = 262144;
	v.conntrack_max = 2097152;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "nf_conntrack_max")->verdict, LIMITS_OK);
	assert_int_equal(find(&r, "nf_conntrack_buckets")->verdict, LIMITS_OK);

	v.conntrack_present = false;
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "nf_conntrack_max")->current, "not loaded");
	assert_false(has_check(&r, "nf_conntrack_buckets"));
}

/* Idle connections charge tcp_mem nothing: a million of them with this machine's default tcp_mem
 * (287901 383869 575802 pages) must not bind on it; only the client's in-flight traffic counts, 1,024
 * connections with both ends here = 2,048 sockets x 1 page. */
static void test_tcp_mem_idle(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	roomy(&v);
	v.tcp_mem[0] = 287901;
	v.tcp_mem[1] = 383869;
	v.tcp_mem[2] = 575802;
	plan_init(&p, LIMITS_ROLE_BOTH, 1000000);
	limits_evaluate(&p, &v, &r);
	c = find(&r, "tcp_mem");
	assert_int_equal(c->verdict, LIMITS_OK);
	assert_true(c->capacity == LIMITS_UNLIMITED);
	assert_string_equal(c->needed, "2,048 pages (2,048 active x 1)");
	assert_string_equal(c->fix, "");
	assert_non_null(strstr(c->note, "idle connections hold no buffer pages"));
	assert_non_null(strstr(c->note, "more than 575,802 sockets hold data at once"));
	assert_string_not_equal(r.binding, "tcp_mem");
	assert_int_equal(r.n_fail, 0);
	/* one side here: one socket per in-flight connection */
	plan_init(&p, LIMITS_ROLE_CLIENT, 1000000);
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "tcp_mem")->needed, "1,024 pages (1,024 active x 1)");
	/* fewer connections than the in-flight cap: all of them */
	plan_init(&p, LIMITS_ROLE_BOTH, 300);
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "tcp_mem")->needed, "600 pages (600 active x 1)");
	/* more client processes than the cap: one in flight per process */
	plan_init(&p, LIMITS_ROLE_CLIENT, 1000000);
	p.workers = 2000;
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "tcp_mem")->needed, "2,000 pages (2,000 active x 1)");
}

/* The lab's failure: tcp_mem lowered below what the in-flight connects need. It fails, is named as the
 * binding limit, and its capacity counts the connections that may hold data at once. */
static void test_tcp_mem_small_binds(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;
	char buf[8192];

	(void)state;
	roomy(&v);
	v.tcp_mem[0] = 50;
	v.tcp_mem[1] = 50;
	v.tcp_mem[2] = 50;
	plan_init(&p, LIMITS_ROLE_CLIENT, 2000);
	p.workers = 1;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "tcp_mem");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_string_equal(c->needed, "1,024 pages (1,024 active x 1)");
	assert_int_equal(c->capacity, 50);
	assert_string_equal(r.binding, "tcp_mem");
	assert_int_equal(r.ceiling, 50);
	assert_int_equal(r.n_fail, 1);
	/* pressure at the need, hard limit a third above */
	assert_string_equal(c->fix, "sysctl -w net.ipv4.tcp_mem=\"50 1024 1365\"");
	assert_non_null(strstr(c->note, "TCP: out of memory"));
	assert_true(limits_format_table(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "ceiling: 50 (binding: tcp_mem, connections whose sockets can hold data"));
	/* both ends here: two sockets per connection */
	v.tcp_mem[0] = 1000;
	v.tcp_mem[1] = 1000;
	v.tcp_mem[2] = 1000;
	plan_init(&p, LIMITS_ROLE_BOTH, 1000000);
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "tcp_mem")->capacity, 500);
	assert_string_equal(r.binding, "tcp_mem");
	/* raised to what the fix says, it passes */
	v.tcp_mem[0] = 1000;
	v.tcp_mem[1] = 2048;
	v.tcp_mem[2] = 2730;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "tcp_mem")->verdict, LIMITS_OK);
	/* between [1] and [2]: pressure, a warning that caps nothing */
	v.tcp_mem[1] = 1500;
	v.tcp_mem[2] = 3000;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "tcp_mem");
	assert_int_equal(c->verdict, LIMITS_WARN);
	assert_true(c->capacity == LIMITS_UNLIMITED);
	assert_string_equal(c->fix, "sysctl -w net.ipv4.tcp_mem=\"1000 2048 3000\"");
}

/* The latency phase: every socket of a million connections holding a message at once does not fit
 * the default tcp_mem; bigger messages cost whole pages. */
static void test_tcp_mem_active(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	roomy(&v);
	v.tcp_mem[0] = 287901;
	v.tcp_mem[1] = 383869;
	v.tcp_mem[2] = 575802;
	plan_init(&p, LIMITS_ROLE_BOTH, 1000000);
	p.active_sockets = 2000000;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "tcp_mem");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_string_equal(c->needed, "2,000,000 pages (2,000,000 active x 1)");
	assert_int_equal(c->capacity, 575802 / 2);
	assert_string_equal(r.binding, "tcp_mem");
	assert_int_equal(r.ceiling, 287901);
	assert_string_equal(c->fix, "sysctl -w net.ipv4.tcp_mem=\"287901 2000000 2666666\"");
	/* no more sockets than exist can hold data */
	p.active_sockets = 5000000;
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "tcp_mem")->needed, "2,000,000 pages (2,000,000 active x 1)");
	/* 16 KiB each is 4 pages: 100,000 x 4 passes the pressure mark only */
	p.active_sockets = 100000;
	p.bytes_per_active_socket = 16384;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "tcp_mem");
	assert_string_equal(c->needed, "400,000 pages (100,000 active x 4)");
	assert_int_equal(c->verdict, LIMITS_WARN);
	assert_non_null(strstr(c->note, "memory pressure"));
	/* sub-page messages still cost a whole page */
	p.bytes_per_active_socket = 1;
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "tcp_mem")->needed, "100,000 pages (100,000 active x 1)");
	/* the fix never proposes more than 3/4 of available memory (1 GiB: 196,608 pages) */
	v.tcp_mem[0] = 50000;
	v.tcp_mem[1] = 75000;
	v.tcp_mem[2] = 100000;
	v.mem_available = UINT64_C(1) << 30;
	p.active_sockets = 2000000;
	p.bytes_per_active_socket = 0;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "tcp_mem");
	assert_string_equal(c->fix, "sysctl -w net.ipv4.tcp_mem=\"50000 147456 196608\"");
	assert_non_null(strstr(c->note, "the fix covers 196,608"));
	/* no memory to raise it at all: the in-flight cap must come down instead */
	v.mem_available = UINT64_C(2) << 20;    /* 384 pages of room */
	p.active_sockets = 0;
	v.tcp_mem[0] = v.tcp_mem[1] = v.tcp_mem[2] = 1000;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "tcp_mem");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_string_equal(c->fix, "c1m-client --concurrency 500");
}

static void test_memory_and_cgroup(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;
	uint64_t per = 2 * LIMITS_KERNEL_SOCK_BYTES + 2 * LIMITS_USER_CONN_BYTES;

	(void)state;
	roomy(&v);
	v.mem_available = UINT64_C(8) << 30;
	plan_init(&p, LIMITS_ROLE_BOTH, 1000000);
	limits_evaluate(&p, &v, &r);
	c = find(&r, "memory");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_int_equal(c->capacity, (UINT64_C(8) << 30) / per);
	assert_string_equal(r.binding, "memory");

	roomy(&v);
	v.cgroup_mem_limit = UINT64_C(2) << 30;
	v.cgroup_mem_usage = UINT64_C(1) << 30;
	snprintf(v.cgroup_path, sizeof(v.cgroup_path), "/sys/fs/cgroup/memory/x/memory.limit_in_bytes");
	limits_evaluate(&p, &v, &r);
	c = find(&r, "cgroup.memory");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_int_equal(c->capacity, (UINT64_C(1) << 30) / per);
	assert_string_equal(r.binding, "cgroup.memory");
	assert_non_null(strstr(c->fix, "memory.limit_in_bytes"));

	/* user bytes per connection come from the plan */
	roomy(&v);
	p.user_bytes_per_conn = 100000;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "memory")->capacity,
			 (UINT64_C(64) << 30) / (2 * LIMITS_KERNEL_SOCK_BYTES + 200000));
}

/* --tls: the client's TLS state is one more term per connection, on a host with the client side only. */
static void test_memory_tls(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;
	uint64_t plain = LIMITS_KERNEL_SOCK_BYTES + LIMITS_USER_CONN_BYTES;

	(void)state;
	roomy(&v);
	v.mem_available = UINT64_C(16) << 30;
	plan_init(&p, LIMITS_ROLE_CLIENT, 1000000);
	limits_evaluate(&p, &v, &r);
	c = find(&r, "memory");
	assert_int_equal(c->needed_value, 1000000 * plain);
	assert_int_equal(c->verdict, LIMITS_OK);               /* 6.5 GiB of 16 */
	p.client_tls = true;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "memory");
	assert_int_equal(c->needed_value, 1000000 * (plain + LIMITS_CLIENT_TLS_BYTES));
	assert_int_equal(c->capacity, (UINT64_C(16) << 30) / (plain + LIMITS_CLIENT_TLS_BYTES));
	assert_int_equal(c->verdict, LIMITS_FAIL);             /* 27 GiB: TLS alone makes it fail */
	assert_non_null(strstr(c->note, "client TLS 22400 B"));
	assert_non_null(strstr(c->needed, "(29348 B/conn)"));
	assert_string_equal(r.binding, "memory");
	/* both ends here: two sockets and two sides, the TLS term once (the client's) */
	plan_init(&p, LIMITS_ROLE_BOTH, 1000);
	p.client_tls = true;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "memory")->needed_value, 1000 * (2 * plain + LIMITS_CLIENT_TLS_BYTES));
	/* a server alone: no client here, no client TLS */
	plan_init(&p, LIMITS_ROLE_SERVER, 1000);
	p.client_tls = true;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "memory")->needed_value, 1000 * plain);
}

static void test_backlog(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	roomy(&v);
	plan_init(&p, LIMITS_ROLE_SERVER, 10000);
	p.workers = 1;
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "somaxconn")->needed, "rate unknown");
	/* 1e6 conn/s over 100 listeners: 1,000 per listener in 100 ms */
	p.connect_rate = 1000000;
	v.somaxconn = 128;
	v.syn_backlog = 512;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "somaxconn");
	assert_int_equal(c->verdict, LIMITS_WARN);
	assert_string_equal(c->fix, "sysctl -w net.core.somaxconn=1024");
	assert_int_equal(find(&r, "tcp_max_syn_backlog")->verdict, LIMITS_WARN);
	assert_true(c->capacity == LIMITS_UNLIMITED); /* a rate problem, not a capacity */
	p.connect_rate = 10000;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "somaxconn")->verdict, LIMITS_OK);
	/* clients have no listen queue */
	plan_init(&p, LIMITS_ROLE_CLIENT, 10000);
	limits_evaluate(&p, &v, &r);
	assert_false(has_check(&r, "somaxconn"));
}

static void test_systemd_check(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	roomy(&v);
	plan_init(&p, LIMITS_ROLE_SERVER, 1000000);
	p.workers = 1;
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "systemd.nofile")->current, "not running");
	v.systemd_running = true;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "systemd.nofile");
	assert_int_equal(c->verdict, LIMITS_WARN);                /* default 524288 < 1,000,120 */
	assert_string_equal(c->fix, "LimitNOFILE=1048576");
	v.systemd_nofile_set = true;
	v.systemd_nofile_hard = LIMITS_UNLIMITED;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "systemd.nofile")->verdict, LIMITS_OK);
}

static void test_format(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	char buf[8192], small[64];
	unsigned i;

	(void)state;
	roomy(&v);
	plan_init(&p, LIMITS_ROLE_BOTH, 1000000);
	p.workers = 1;
	limits_evaluate(&p, &v, &r);
	assert_true(limits_format_table(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "ceiling: 19,880 (binding: nofile.hard)"));
	assert_non_null(strstr(buf, "workers needed: 56 server + 51 client"));
	for (i = 0; i < r.n_checks; i++)
		assert_non_null(strstr(buf, r.checks[i].name));
	/* columns line up: "verdict" header and the first row's verdict start at the same offset */
	{
		const char *hdr_end = strchr(buf, '\n');
		const char *row = hdr_end + 1;
		long hv = strstr(buf, "verdict") - buf;
		const char *rv = strstr(row, "warn");

		assert_non_null(rv);
		assert_int_equal(rv - row, hv);
	}
	assert_int_equal(limits_format_table(&r, small, sizeof(small)), -1);
	assert_true(limits_format_json(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"ceiling\":19880"));
	assert_non_null(strstr(buf, "\"binding\":\"nofile.hard\""));
	assert_non_null(strstr(buf, "\"verdict\":\"fail\""));
	assert_int_equal(buf[0], '{');
	{
		char head[64];

		snprintf(head, sizeof(head), "{\"version\":\"%s\",\"target\":", version_project());
		assert_int_equal(strncmp(buf, head, strlen(head)), 0);
	}
	assert_int_equal(limits_format_json(&r, small, sizeof(small)), -1);
}


/* Inside a child network namespace (ip netns exec, a container) net.ipv4.tcp_mem does not exist. The
 * check must say so, never fail and never set the ceiling; it warns only when the need passes the
 * kernel's default for this memory (MemAvailable / page / 16 = 1,048,576 pages for 64 GiB). Hidden
 * backlogs are reported, not checked. */
static void test_absent_netns(void **state)
{
	struct limits_values v, full;
	struct limits_plan p;
	struct limits_report r, rf;
	const struct limits_check *c;

	(void)state;
	roomy(&v);
	v.tcp_mem_present = false;
	memset(v.tcp_mem, 0, sizeof(v.tcp_mem));
	v.somaxconn_present = false;
	v.somaxconn = 0;
	v.syn_backlog_present = false;
	v.syn_backlog = 0;
	plan_init(&p, LIMITS_ROLE_BOTH, 1000000);
	p.connect_rate = 100000;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "tcp_mem");
	assert_string_equal(c->current, "not visible here");
	assert_int_equal(c->verdict, LIMITS_OK);
	assert_true(c->capacity == LIMITS_UNLIMITED);
	assert_string_equal(c->fix, "");
	assert_non_null(strstr(c->note, "machine-wide, not visible in this network namespace"));
	assert_non_null(strstr(c->note, "1,048,576 pages"));
	assert_int_equal(c->needed_value, 2048);
	assert_string_equal(c->sysctl, "net.ipv4.tcp_mem");
	c = find(&r, "somaxconn");
	assert_string_equal(c->current, "not readable here");
	assert_int_equal(c->verdict, LIMITS_OK);
	assert_string_equal(c->fix, "");
	assert_int_equal(c->needed_value, 2);    /* 100,000/s x 100 ms = 10,000 over 100 ports x 51 workers */
	c = find(&r, "tcp_max_syn_backlog");
	assert_string_equal(c->current, "not readable here");
	assert_int_equal(c->verdict, LIMITS_OK);
	/* the ceiling is what it is with every value present and roomy */
	roomy(&full);
	limits_evaluate(&p, &full, &rf);
	assert_true(r.ceiling == rf.ceiling);
	assert_string_equal(r.binding, rf.binding);
	assert_int_equal(r.n_fail, rf.n_fail);

	/* 2,000,000 sockets x 4 pages holding data at once: past the default, a warning, still no cap */
	p.active_sockets = 2000000;
	p.bytes_per_active_socket = 16384;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "tcp_mem");
	assert_int_equal(c->verdict, LIMITS_WARN);
	assert_true(c->capacity == LIMITS_UNLIMITED);
	assert_int_equal(c->needed_value, 8000000);
	assert_non_null(strstr(c->note, "check it in the root namespace"));
	assert_string_not_equal(r.binding, "tcp_mem");
	/* the same plan with tcp_mem visible at the default fails on it */
	v.tcp_mem_present = true;
	v.tcp_mem[0] = 786432;
	v.tcp_mem[1] = 1048576;
	v.tcp_mem[2] = 1572864;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "tcp_mem")->verdict, LIMITS_FAIL);
}

/* A sysctl fix for a key that is read-only here (conntrack from a child namespace, a container's
 * read-only /proc/sys) tells the user to run it elsewhere; writable keys get no such note. */
static void test_readonly_fix(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	roomy(&v);
	v.conntrack_in_use = true;
	v.conntrack_count = 10;
	v.conntrack_max = 300;
	plan_init(&p, LIMITS_ROLE_CLIENT, 400);
	limits_evaluate(&p, &v, &r);
	c = find(&r, "nf_conntrack_max");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_string_equal(c->fix, "sysctl -w net.netfilter.nf_conntrack_max=1024");
	assert_null(strstr(c->note, "read-only"));
	v.sysctl_readonly = LIMITS_RO_CT_MAX | LIMITS_RO_CT_BUCKETS;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "nf_conntrack_max");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_string_equal(c->fix, "sysctl -w net.netfilter.nf_conntrack_max=1024");
	assert_non_null(strstr(c->note, "read-only here: run the fix in the root namespace or on the host; "));
	assert_non_null(strstr(c->note, "table full"));
	/* a check without a fix gets no note */
	assert_null(strstr(find(&r, "nf_conntrack_buckets")->note, "read-only"));
}

/* needed_value and sysctl: the numbers tuning/apply uses, in each key's own unit. */
static void test_needed_value(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;
	char buf[8192];

	(void)state;
	roomy(&v);
	v.port_lo = 40000;
	v.port_hi = 40499;
	v.conntrack_in_use = true;
	plan_init(&p, LIMITS_ROLE_CLIENT, 800);
	p.ports = 1;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "ports.4tuple");
	assert_string_equal(c->sysctl, "net.ipv4.ip_local_port_range");
	assert_int_equal(c->needed_value, 800);        /* ports one (source, destination) must offer */
	p.sources = 3;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "ports.4tuple")->needed_value, 267);   /* ceil(800 / 3) */
	c = find(&r, "nf_conntrack_max");
	assert_string_equal(c->sysctl, "net.netfilter.nf_conntrack_max");
	assert_int_equal(c->needed_value, 800);
	assert_int_equal(find(&r, "nf_conntrack_buckets")->needed_value, 100);
	c = find(&r, "nofile.soft");
	assert_string_equal(c->sysctl, "");
	assert_int_equal(c->needed_value, 820);        /* 800 + CAPACITY_FD_RESERVE */
	c = find(&r, "fs.file-max");
	assert_string_equal(c->sysctl, "fs.file-max");
	assert_int_equal(c->needed_value, 1300);       /* 500 in use + 800 */
	assert_string_equal(find(&r, "fs.nr_open")->sysctl, "fs.nr_open");
	assert_int_equal(find(&r, "memory")->needed_value, 800 * (LIMITS_KERNEL_SOCK_BYTES + LIMITS_USER_CONN_BYTES));
	/* cgroup: the limit must cover what is used plus the need */
	v.cgroup_mem_limit = UINT64_C(1) << 20;
	v.cgroup_mem_usage = 1000;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "cgroup.memory")->needed_value,
			 1000 + 800 * (LIMITS_KERNEL_SOCK_BYTES + LIMITS_USER_CONN_BYTES));
	assert_true(limits_format_json(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"needed_value\":267,\"sysctl\":\"net.ipv4.ip_local_port_range\""));
	assert_non_null(strstr(buf, "\"name\":\"nofile.soft\""));
	assert_non_null(strstr(buf, "\"needed_value\":820,\"sysctl\":null"));

	/* server: backlogs have a number only with a connect rate; migrate_req 1 only with workers > 1 */
	plan_init(&p, LIMITS_ROLE_SERVER, 1000000);
	limits_evaluate(&p, &v, &r);
	c = find(&r, "somaxconn");
	assert_string_equal(c->sysctl, "net.core.somaxconn");
	assert_true(c->needed_value == LIMITS_NO_VALUE);
	assert_int_equal(find(&r, "tcp_migrate_req")->needed_value, 1);
	assert_true(limits_format_json(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"needed_value\":null,\"sysctl\":\"net.core.somaxconn\""));
	p.connect_rate = 50000;
	limits_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "somaxconn")->needed_value, 1);  /* 5,000 over 100 ports x 56 workers */
	assert_int_equal(find(&r, "tcp_max_syn_backlog")->needed_value, 1);
	plan_init(&p, LIMITS_ROLE_SERVER, 1000);
	limits_evaluate(&p, &v, &r);
	assert_true(find(&r, "tcp_migrate_req")->needed_value == LIMITS_NO_VALUE);
}

/* recommended: the value tuning/apply sets for each sysctl check, in sysctl syntax, whether or not the check
 * fails, and the one the fix line writes when it does. */
static void test_recommended(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;
	char buf[8192];
	unsigned i;

	(void)state;
	roomy(&v);
	v.port_lo = 40000;
	v.port_hi = 40499;
	plan_init(&p, LIMITS_ROLE_CLIENT, 800);
	p.ports = 1;
	limits_evaluate(&p, &v, &r);
	c = find(&r, "ports.4tuple");
	assert_string_equal(c->recommended, "1024 65535");          /* 500 ports < 800 per tuple */
	assert_string_equal(find(&r, "nf_conntrack_max")->recommended, "2048");    /* idle: still the value */
	assert_string_equal(find(&r, "nf_conntrack_buckets")->recommended, "512");
	assert_string_equal(find(&r, "fs.nr_open")->recommended, "1024");          /* 820 fds, next power of 2 */
	assert_string_equal(find(&r, "fs.file-max")->recommended, "2048");         /* 1,300 */
	assert_string_equal(find(&r, "tcp_mem")->recommended, "10000000 20000000 30000000"); /* enough already */
	assert_string_equal(find(&r, "nofile.soft")->recommended, "");             /* not a sysctl */
	p.sources = 2;
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "ports.4tuple")->recommended, "40000 40499");  /* 400 per tuple fit */
	/* a failing check's fix writes the recommended value */
	v.conntrack_in_use = true;
	v.conntrack_max = 300;
	v.file_max = 1000;
	v.nr_open = 512;
	v.tcp_mem[0] = 100;
	v.tcp_mem[1] = 200;
	v.tcp_mem[2] = 300;
	p.active_sockets = 800;
	limits_evaluate(&p, &v, &r);
	for (i = 0; i < r.n_checks; i++) {
		char want[160];

		c = &r.checks[i];
		if (strncmp(c->fix, "sysctl -w ", 10) != 0)
			continue;
		snprintf(want, sizeof(want), strchr(c->recommended, ' ') ? "sysctl -w %s=\"%s\"" : "sysctl -w %s=%s",
			 c->sysctl, c->recommended);
		assert_string_equal(c->fix, want);
	}
	assert_string_equal(find(&r, "tcp_mem")->recommended, "100 800 1066");   /* 800 pages, limit a third up */
	assert_string_equal(find(&r, "nf_conntrack_max")->fix, "sysctl -w net.netfilter.nf_conntrack_max=2048");
	assert_string_equal(find(&r, "fs.file-max")->fix, "sysctl -w fs.file-max=2048");
	assert_string_equal(find(&r, "fs.nr_open")->fix, "sysctl -w fs.nr_open=1024");
	assert_true(limits_format_json(&r, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"sysctl\":\"net.ipv4.tcp_mem\",\"recommended\":\"100 800 1066\""));
	assert_non_null(strstr(buf, "\"sysctl\":null,\"recommended\":null"));
	/* backlogs: a value only with a connect rate; migrate_req 1 only with several server workers */
	plan_init(&p, LIMITS_ROLE_SERVER, 1000000);
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "somaxconn")->recommended, "");
	assert_string_equal(find(&r, "tcp_migrate_req")->recommended, "1");
	p.connect_rate = 10000000;      /* 1e6 per 100 ms over 100 ports x 56 workers: 179 per listener */
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "somaxconn")->recommended, "256");
	assert_string_equal(find(&r, "tcp_max_syn_backlog")->recommended, "256");
	v.somaxconn_present = false;
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "somaxconn")->recommended, "");             /* not here to set */
	plan_init(&p, LIMITS_ROLE_SERVER, 1000);
	limits_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "tcp_migrate_req")->recommended, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_million_one_worker),
		cmocka_unit_test(test_million_auto),
		cmocka_unit_test(test_workers_too_few),
		cmocka_unit_test(test_19000_one_process),
		cmocka_unit_test(test_four_tuple),
		cmocka_unit_test(test_conntrack),
		cmocka_unit_test(test_tcp_mem_idle),
		cmocka_unit_test(test_tcp_mem_small_binds),
		cmocka_unit_test(test_tcp_mem_active),
		cmocka_unit_test(test_memory_and_cgroup),
		cmocka_unit_test(test_memory_tls),
		cmocka_unit_test(test_backlog),
		cmocka_unit_test(test_systemd_check),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_absent_netns),
		cmocka_unit_test(test_readonly_fix),
		cmocka_unit_test(test_needed_value),
		cmocka_unit_test(test_recommended),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
