/* The one capacity function, held to its promise: over a matrix of hard open-file limits, listening ports
 * and connection counts, the doctor's model (limits_evaluate with --workers auto, role server, client and
 * both), c1m-server's --workers auto --max-connections N (srvopt_resolve) and c1m-client's plan
 * (client_opts_plan) give the worker counts capacity_plan gives, or all refuse together. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "client/client_opts.h"
#include "common/model/capacity.h"
#include "common/model/limits.h"
#include "server/core/srvopt.h"

static const uint64_t nofiles[] = { 1024, 4096, 20000, 65536, 1048576 };
static const unsigned port_counts[] = { 1, 100, 1000 };
static const uint64_t targets[] = { 1, 1000, 19000, 100000, 1000000, 10000000 };

/* A machine where only the fd limit can refuse: every other limit is far above any N of the matrix. */
static void machine(struct limits_values *v, uint64_t nofile)
{
	memset(v, 0, sizeof(*v));
	v->nofile_soft = nofile;
	v->nofile_hard = nofile;
	v->file_max = UINT64_C(1) << 40;
	v->nr_open = UINT64_C(1) << 30;
	v->port_lo = 1024;
	v->port_hi = 65535;
	v->mem_available = UINT64_C(1) << 50;
	v->page_size = 4096;
	v->cgroup_mem_limit = LIMITS_UNLIMITED;
}

/* Never NULL: a missing check fails the test and yields an empty one. */
static const struct limits_check *nofile_hard(const struct limits_report *r)
{
	static const struct limits_check missing;
	unsigned i;

	for (i = 0; i < r->n_checks; i++)
		if (strcmp(r->checks[i].name, "nofile.hard") == 0)
			return &r->checks[i];
	fail_msg("no nofile.hard check");
	return &missing;
}

/* The doctor: workers auto, one role. Refusing is failing the hard-limit check. */
static void doctor(enum limits_role role, uint64_t nofile, unsigned ports, uint64_t n, bool *ok,
		   unsigned *srv, unsigned *cli)
{
	static struct limits_report r;
	struct limits_values v;
	struct limits_plan p;

	machine(&v, nofile);
	memset(&p, 0, sizeof(p));
	p.role = role;
	p.target = n;
	p.ports = ports;
	p.dst_addrs = 1;
	p.sources = 1;
	limits_evaluate(&p, &v, &r);
	*ok = nofile_hard(&r)->verdict != LIMITS_FAIL;
	*srv = r.workers_server;
	*cli = r.workers_client;
}

static int server(uint64_t nofile, unsigned ports, uint64_t n, unsigned *workers)
{
	struct server_options o;
	struct srvopt_env env = { nofile, 4096, false };
	char nbuf[32], pbuf[16], err[256];
	char *argv[] = { "c1m-server", "--workers", "auto", "--max-connections", nbuf, "--ports", pbuf, NULL };

	snprintf(nbuf, sizeof(nbuf), "%llu", (unsigned long long)n);
	snprintf(pbuf, sizeof(pbuf), "%u", ports);
	if (srvopt_parse(7, argv, &o, err, sizeof(err)) < 0)
		fail_msg("srvopt_parse: %s", err);
	if (srvopt_resolve(&o, &env, err, sizeof(err)) < 0)
		return -1;
	*workers = o.workers;
	return 0;
}

static int client(uint64_t nofile, unsigned ports, uint64_t n, unsigned *workers)
{
	struct client_options o;
	struct client_plan p;
	char nbuf[32], pbuf[16], err[256];
	char *argv[] = { "c1m-client", "127.0.0.1", "-n", nbuf, "--ports", pbuf, NULL };

	snprintf(nbuf, sizeof(nbuf), "%llu", (unsigned long long)n);
	snprintf(pbuf, sizeof(pbuf), "%u", ports);
	if (client_opts_parse(6, argv, &o, err, sizeof(err)) < 0)
		fail_msg("client_opts_parse: %s", err);
	if (client_opts_plan(&o, nofile, 1, &p, err, sizeof(err)) < 0)
		return -1;
	if (p.workers != p.workers_needed)
		fail_msg("client: %u workers planned, %u needed", p.workers, p.workers_needed);
	*workers = p.workers;
	return 0;
}

/* One caller's answer against capacity_plan's for the cell (nofile, ports, n). */
static void agree(const char *who, uint64_t nofile, unsigned ports, uint64_t n, bool ok, unsigned workers,
		  bool want_ok, unsigned want)
{
	if (ok != want_ok || (ok && workers != want))
		fail_msg("nofile %llu ports %u n %llu: %s %s %u, capacity_plan %s %u", (unsigned long long)nofile,
			 ports, (unsigned long long)n, who, ok ? "plans" : "refuses", workers,
			 want_ok ? "plans" : "refuses", want);
}

static void test_matrix(void **state)
{
	unsigned a, b, k, refused = 0, cells = 0;

	(void)state;
	for (a = 0; a < sizeof(nofiles) / sizeof(nofiles[0]); a++)
		for (b = 0; b < sizeof(port_counts) / sizeof(port_counts[0]); b++)
			for (k = 0; k < sizeof(targets) / sizeof(targets[0]); k++) {
				uint64_t nofile = nofiles[a], n = targets[k];
				unsigned ports = port_counts[b], srv, cli, w = 0;
				struct capacity cs, cc;
				char err[256];
				bool s_ok = capacity_plan(CAPACITY_SERVER, nofile, ports, n, &cs, err, sizeof(err)) == 0;
				bool c_ok = capacity_plan(CAPACITY_CLIENT, nofile, ports, n, &cc, err, sizeof(err)) == 0;
				bool ok;

				cells++;
				refused += !s_ok + !c_ok;
				doctor(LIMITS_ROLE_SERVER, nofile, ports, n, &ok, &srv, &cli);
				agree("doctor --role server", nofile, ports, n, ok, srv, s_ok, cs.workers);
				doctor(LIMITS_ROLE_CLIENT, nofile, ports, n, &ok, &srv, &cli);
				agree("doctor --role client", nofile, ports, n, ok, cli, c_ok, cc.workers);
				doctor(LIMITS_ROLE_BOTH, nofile, ports, n, &ok, &srv, &cli);
				agree("doctor --role both", nofile, ports, n, ok, srv, s_ok && c_ok, cs.workers);
				if (ok)
					agree("doctor --role both (client)", nofile, ports, n, ok, cli, c_ok, cc.workers);
				ok = server(nofile, ports, n, &w) == 0;
				agree("srvopt_resolve", nofile, ports, n, ok, w, s_ok, cs.workers);
				ok = client(nofile, ports, n, &w) == 0;
				agree("client_opts_plan", nofile, ports, n, ok, w, c_ok, cc.workers);
			}
	/* the matrix reaches both outcomes, so agreement on refusals is tested too */
	assert_int_equal(cells, 90);
	assert_true(refused > 0 && refused < 2 * cells);
}

/* This machine's case, spelled out: hard limit 20,000, 100 ports, 1,000,000 connections. */
static void test_this_machine(void **state)
{
	unsigned srv, cli, w;
	bool ok;

	(void)state;
	doctor(LIMITS_ROLE_BOTH, 20000, 100, 1000000, &ok, &srv, &cli);
	assert_true(ok);
	assert_int_equal(srv, 56);
	assert_int_equal(cli, 51);
	assert_int_equal(server(20000, 100, 1000000, &w), 0);
	assert_int_equal(w, 56);
	assert_int_equal(client(20000, 100, 1000000, &w), 0);
	assert_int_equal(w, 51);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_this_machine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
