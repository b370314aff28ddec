/* libFuzzer target: c1m-doctor's command line (doctor_opts_parse). The input is an argv, arguments separated
 * by NUL bytes. A parse that succeeds must leave the options in the ranges and mode combinations the parser
 * promises, and a check-mode plan is then evaluated and formatted against a small and a large fabricated
 * machine, because the parsed numbers (-n, --ports, --sources, --workers, --active, and for --role balancer
 * --backends, --maxconn and --fd-limit) flow straight into the capacity arithmetic. */
#include "fuzz_util.h"

#include "common/model/limits.h"
#include "common/sys/workers.h"
#include "common/util/version.h"
#include "doctor/doctor_opts.h"

#include <stdlib.h>
#include <string.h>

/* A machine with the fd limit hard (1024 or 1M) and everything else present. */
static void fuzz_machine(struct limits_values *v, uint64_t nofile)
{
	memset(v, 0, sizeof(*v));
	v->nofile_soft = nofile;
	v->nofile_hard = nofile;
	v->file_max = 10000000;
	v->nr_open = 1048576;
	v->port_lo = 32768;
	v->port_hi = 60999;
	v->conntrack_present = true;
	v->conntrack_max = 262144;
	v->conntrack_buckets = 65536;
	v->somaxconn_present = true;
	v->somaxconn = 4096;
	v->syn_backlog_present = true;
	v->syn_backlog = 2048;
	v->tcp_mem_present = true;
	v->tcp_mem[0] = 100000;
	v->tcp_mem[1] = 200000;
	v->tcp_mem[2] = 300000;
	v->mem_available = UINT64_C(8) << 30;
	v->page_size = 4096;
}

static void fuzz_check_options(const struct doctor_options *o)
{
	const struct limits_plan *p = &o->plan;

	if (p->ports < 1 || p->ports > 65535 || p->sources < 1 || p->dst_addrs < 1 || p->workers > WORKERS_MAX)
		fuzz_fail("doctor_opts_parse", "accepted a count outside its range");
	if (p->maxconn > DOCTOR_MAX_TARGET || p->fd_limit > DOCTOR_MAX_FD_LIMIT)
		fuzz_fail("doctor_opts_parse", "accepted a maxconn or fd limit outside its range");
	if (p->role != LIMITS_ROLE_BALANCER &&
	    (o->backends != NULL || p->maxconn != 0 || p->fd_limit != 0 || o->sources_wide != NULL))
		fuzz_fail("doctor_opts_parse", "accepted a balancer's flag for another role");
	if (p->role == LIMITS_ROLE_BALANCER && o->mode == DOCTOR_MODE_CHECK && o->save_baseline == NULL &&
	    (o->backends == NULL || p->workers != 0 || p->connect_rate != 0 || p->active_sockets != 0))
		fuzz_fail("doctor_opts_parse", "accepted a balancer plan without backends or with a c1m flag");
	if (o->save_baseline != NULL) {
		if (o->mode == DOCTOR_MODE_EXPLAIN || o->role_set || o->target_set || o->from != NULL)
			fuzz_fail("doctor_opts_parse", "accepted --save-baseline with another mode");
	} else if (o->mode == DOCTOR_MODE_EXPLAIN) {
		if (o->role_set || o->target_set)
			fuzz_fail("doctor_opts_parse", "accepted --explain with --role or -n");
	} else if (!o->role_set || !o->target_set || p->target < 1 || p->target > DOCTOR_MAX_TARGET ||
		   o->since_set || o->baseline != NULL || o->from != NULL) {
		fuzz_fail("doctor_opts_parse", "accepted a check without a plan, or with --explain's flags");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t nofile[] = { 1024, 1048576 };
	static struct limits_report rep;
	static char out[65536];
	char *argv[FUZZ_MAX_ARGS + 2], *block;
	char err[FUZZ_ERR_LEN] = "", usage[DOCTOR_USAGE_LEN];
	struct doctor_options o;
	struct limits_values v;
	bool nl = memchr(data, '\n', size) != NULL;
	int argc = fuzz_argv(data, size, "c1m-doctor", argv, &block);
	unsigned i;

	if (doctor_opts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fuzz_check_err("doctor_opts_parse", err, sizeof(err), nl);
	} else if (o.help) {
		int n = doctor_opts_usage(usage, sizeof(usage));

		if (n <= 0 || (size_t)n >= sizeof(usage))
			fuzz_fail("doctor_opts_usage", "the usage text does not fit DOCTOR_USAGE_LEN");
	} else if (o.version) { /* stops the parse like --help: the rest of argv was not looked at */
		int n = version_text(argv[0], NULL, usage, sizeof(usage));

		if (n <= 0 || n >= VERSION_TEXT_LEN)
			fuzz_fail("version_text", "the --version text does not fit VERSION_TEXT_LEN");
	} else {
		fuzz_check_options(&o);
		for (i = 0; o.mode == DOCTOR_MODE_CHECK && o.save_baseline == NULL && i < 2; i++) {
			fuzz_machine(&v, nofile[i]);
			limits_evaluate(&o.plan, &v, &rep);
			if (limits_format_table(&rep, out, sizeof(out)) < 0 ||
			    limits_format_json(&rep, out, sizeof(out)) < 0)
				fuzz_fail("limits_format", "the report of a parsed plan does not fit 64 KiB");
		}
	}
	free(block);
	return 0;
}
