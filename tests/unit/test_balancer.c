/* Unit tests for the balancer tier's model with fabricated machines: the lab's case A (one source, two
 * backends, a 500-port range: 1,000 connections) and the write-up's 28,232 for one source and one backend
 * port, the sources that fix it, HAProxy refusing to start when maxconn asks for more fds than its limit
 * (2 per connection, one process), maxconn below N, fs.nr_open under a raisable limit, conntrack's two flows
 * per connection only when it is in use, memory, and what the formatters say for this role. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/model/balancer.h"

/* This machine's shape: hard fd limit 20,000 that cannot be raised, everything else roomy. */
static void machine(struct limits_values *v)
{
	memset(v, 0, sizeof(*v));
	v->nofile_soft = 20000;
	v->nofile_hard = 20000;
	v->file_max = 10000000;
	v->nr_open = 1048576;
	v->file_nr_used = 500;
	v->port_lo = 32768;
	v->port_hi = 60999;
	v->conntrack_present = true;
	v->conntrack_max = 262144;
	v->conntrack_buckets = 65536;
	v->mem_available = UINT64_C(16) << 30;
	v->page_size = 4096;
}

/* N through the balancer to backends x ports, from sources, with HAProxy's maxconn (0 = not given). */
static void plan(struct limits_plan *p, uint64_t n, unsigned sources, unsigned backends, unsigned ports,
		 uint64_t maxconn)
{
	memset(p, 0, sizeof(*p));
	p->role = LIMITS_ROLE_BALANCER;
	p->target = n;
	p->sources = sources;
	p->dst_addrs = backends;
	p->ports = ports;
	p->maxconn = maxconn;
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

/* Case A of lab.balancer: 1 x 2 x 1 x 500 = 1,000 < 1,500, and two sources fix it. */
static void test_lab_case_a(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	machine(&v);
	v.port_lo = 40000;
	v.port_hi = 40499;
	plan(&p, 1500, 1, 2, 1, 4000);
	limits_evaluate(&p, &v, &r);   /* the role dispatches to balancer_evaluate */
	assert_int_equal(r.role, LIMITS_ROLE_BALANCER);
	assert_string_equal(r.binding, "ports.4tuple");
	assert_int_equal(r.ceiling, 1000);
	assert_int_equal(r.n_fail, 1);
	assert_int_equal(r.sources_needed, 2);
	c = find(&r, "ports.4tuple");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_int_equal(c->needed_value, 750);         /* ports each (source, backend) must offer */
	assert_string_equal(c->current, "1,000 (1x2x1x500)");
	assert_non_null(strstr(c->fix, "2 source addresses"));
	assert_non_null(strstr(c->note, "no free ports"));
	assert_string_equal(c->recommended, "1024 65535");
	assert_int_equal(r.workers_needed, 0);

	/* case B: the shipped ten sources */
	plan(&p, 1500, 10, 2, 1, 4000);
	balancer_evaluate(&p, &v, &r);
	assert_int_equal(r.n_fail, 0);
	assert_int_equal(find(&r, "ports.4tuple")->capacity, 10000);
	assert_string_equal(r.binding, "haproxy.maxconn");
	assert_int_equal(r.ceiling, 4000);
}

/* The original write-up's second failure, back on the balancer: one source toward one backend port. */
static void test_one_tuple(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;

	(void)state;
	machine(&v);
	plan(&p, 1000000, 1, 1, 1, 0);
	p.fd_limit = 4000000;
	v.nr_open = 4194304;
	balancer_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "ports.4tuple")->capacity, 28232);
	assert_string_equal(r.binding, "ports.4tuple");
	assert_int_equal(r.sources_needed, 36);          /* ceil(1,000,000 / 28,232) */
	/* the shipped file's arithmetic: 10 sources x 2 backends x 64,412 ports */
	v.port_lo = 1124;
	v.port_hi = 65535;
	plan(&p, 1000000, 10, 2, 1, 1000000);
	p.fd_limit = 2097152;
	balancer_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "ports.4tuple")->capacity, 1288240);
	assert_int_equal(find(&r, "ports.4tuple")->verdict, LIMITS_OK);
}

/* HAProxy sizes itself from maxconn: 2 fds each plus the reserve, or it exits at start. */
static void test_fd_limit(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	machine(&v);
	assert_int_equal(balancer_fd_capacity(20000), 9900);
	assert_int_equal(balancer_fd_capacity(BALANCER_FD_RESERVE), 0);

	/* the shipped maxconn on this machine: nothing starts */
	plan(&p, 1000000, 10, 2, 1, 1000000);
	balancer_evaluate(&p, &v, &r);
	c = find(&r, "haproxy.fd");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_int_equal(c->capacity, 0);
	assert_int_equal(c->needed_value, 2000200);
	assert_string_equal(c->fix, "ulimit-n 2000200");
	assert_string_equal(c->current, "20,000 (hard limit)");
	assert_string_equal(r.binding, "haproxy.fd");
	assert_int_equal(r.ceiling, 0);

	/* N fits, maxconn does not: lower maxconn to what the limit holds */
	plan(&p, 1500, 10, 2, 1, 10000);
	balancer_evaluate(&p, &v, &r);
	c = find(&r, "haproxy.fd");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_string_equal(c->fix, "maxconn 9900");
	plan(&p, 1500, 10, 2, 1, 9900);
	balancer_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "haproxy.fd")->verdict, LIMITS_OK);
	assert_int_equal(r.n_fail, 0);

	/* no maxconn: the limit holds 9,900 connections */
	plan(&p, 10000, 10, 2, 1, 0);
	balancer_evaluate(&p, &v, &r);
	c = find(&r, "haproxy.fd");
	assert_int_equal(c->capacity, 9900);
	assert_string_equal(c->fix, "ulimit-n 20200");
	assert_string_equal(r.binding, "haproxy.fd");
	assert_int_equal(find(&r, "haproxy.maxconn")->capacity, LIMITS_UNLIMITED);

	/* a given limit wins over the one read */
	p.fd_limit = 30000;
	balancer_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "haproxy.fd")->verdict, LIMITS_OK);
	assert_string_equal(find(&r, "haproxy.fd")->current, "30,000 (given)");
}

/* Root with CAP_SYS_RESOURCE raises its limit itself, up to fs.nr_open, which then binds. */
static void test_nr_open(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	machine(&v);
	v.nofile_hard_raisable = true;
	plan(&p, 1000000, 20, 2, 1, 1000000);
	assert_int_equal(balancer_fd_limit(&p, &v), 1048576);
	balancer_evaluate(&p, &v, &r);
	c = find(&r, "fs.nr_open");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_string_equal(c->fix, "sysctl -w fs.nr_open=2097152");
	assert_string_equal(find(&r, "haproxy.fd")->current, "1,048,576 (fs.nr_open)");
	v.nr_open = 2097152;
	balancer_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "fs.nr_open")->verdict, LIMITS_OK);
	assert_int_equal(find(&r, "haproxy.fd")->verdict, LIMITS_OK);
}

static void test_maxconn(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	machine(&v);
	plan(&p, 5000, 10, 2, 1, 2000);
	balancer_evaluate(&p, &v, &r);
	c = find(&r, "haproxy.maxconn");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_int_equal(c->capacity, 2000);
	assert_string_equal(c->fix, "maxconn 5000");
	assert_string_equal(r.binding, "haproxy.maxconn");
}

/* Two flows per proxied connection, counted only when a rule makes conntrack track them. */
static void test_conntrack(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;

	(void)state;
	machine(&v);
	plan(&p, 200000, 10, 2, 1, 0);
	p.fd_limit = 500000;
	v.nr_open = 1048576;
	balancer_evaluate(&p, &v, &r);
	c = find(&r, "nf_conntrack_max");
	assert_int_equal(c->verdict, LIMITS_OK);
	assert_int_equal(c->capacity, LIMITS_UNLIMITED);
	assert_int_equal(c->needed_value, 400000);
	v.conntrack_in_use = true;
	balancer_evaluate(&p, &v, &r);
	c = find(&r, "nf_conntrack_max");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_int_equal(c->capacity, 131072);
	/* 400,000 flows, as many again lingering from the previous run: the next power of two */
	assert_string_equal(c->fix, "sysctl -w net.netfilter.nf_conntrack_max=1048576");
	assert_string_equal(r.binding, "nf_conntrack_max");
	v.conntrack_present = false;
	balancer_evaluate(&p, &v, &r);
	assert_string_equal(find(&r, "nf_conntrack_max")->current, "not loaded");
}

static void test_memory(void **state)
{
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;
	const struct limits_check *c;
	uint64_t per = 2 * LIMITS_KERNEL_SOCK_BYTES + BALANCER_USER_CONN_BYTES;

	(void)state;
	machine(&v);
	v.mem_available = per * 1000;
	plan(&p, 1500, 10, 2, 1, 4000);
	balancer_evaluate(&p, &v, &r);
	c = find(&r, "memory");
	assert_int_equal(c->verdict, LIMITS_FAIL);
	assert_int_equal(c->capacity, 1000);
	assert_string_equal(r.binding, "memory");
	p.user_bytes_per_conn = 100;
	balancer_evaluate(&p, &v, &r);
	assert_int_equal(find(&r, "memory")->capacity, per * 1000 / (2 * LIMITS_KERNEL_SOCK_BYTES + 100));
}

/* The table speaks of source addresses, not worker processes; the JSON names the role. */
static void test_format(void **state)
{
	static char out[16384];
	struct limits_values v;
	struct limits_plan p;
	struct limits_report r;

	(void)state;
	machine(&v);
	v.port_lo = 40000;
	v.port_hi = 40499;
	plan(&p, 1500, 1, 2, 1, 4000);
	balancer_evaluate(&p, &v, &r);
	assert_true(limits_format_table(&r, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "ceiling: 1,000 (binding: ports.4tuple) < target"));
	assert_non_null(strstr(out, "balancer sources needed: 2"));
	assert_null(strstr(out, "workers needed"));
	assert_true(limits_format_json(&r, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"role\":\"balancer\""));
	assert_string_equal(limits_role_name(LIMITS_ROLE_BALANCER), "balancer");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_case_a),
		cmocka_unit_test(test_one_tuple),
		cmocka_unit_test(test_fd_limit),
		cmocka_unit_test(test_nr_open),
		cmocka_unit_test(test_maxconn),
		cmocka_unit_test(test_conntrack),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
