/* c1m-doctor: the limits module as a command. Before a run it reads every limit that caps concurrent
 * connections, evaluates them against the plan given on the command line and prints a table with the
 * predicted ceiling, the binding limit, the worker processes needed and the exact fix for each problem
 * (exit 0 all ok or only warnings, 1 some check fails, 2 bad usage). After a failed run, --explain reads
 * the kernel log, the TcpExt counters, conntrack fill, TCP socket memory, every process's open files
 * against its limit and the local ports held per (source, destination) in /proc/net/tcp, and names
 * which known cause happened; with --from it also explains each failure kind in c1m-client's JSON
 * report with the numbers now (exit 0 none found, 1 a cause found, 2 bad usage). The command line is
 * parsed in doctor_opts.c and the machine read in doctor_read.c; the decisions live in limits.c and
 * explain.c. This file runs the three modes and prints. */
#include "common/model/diag.h"
#include "common/model/explain.h"
#include "common/model/limits.h"
#include "common/sys/kstate.h"
#include "common/sys/limits_read.h"
#include "common/util/version.h"
#include "doctor/doctor_opts.h"
#include "doctor/doctor_read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TUPLES_CAP 65536 /* distinct (source, destination, port) counted from /proc/net/tcp */

/* The plan line above the table, in the role's own terms. */
static void print_plan(const struct limits_plan *p)
{
	char workers[32], maxconn[32], fds[32];

	if (p->role == LIMITS_ROLE_BALANCER) {
		snprintf(maxconn, sizeof(maxconn), "%" PRIu64, p->maxconn);
		snprintf(fds, sizeof(fds), "%" PRIu64, p->fd_limit);
		printf("plan: role balancer, %" PRIu64 " connections, %u source address%s, %u backend%s x %u port%s, "
		       "maxconn %s, fd limit %s\n", p->target, p->sources, p->sources == 1 ? "" : "es", p->dst_addrs,
		       p->dst_addrs == 1 ? "" : "s", p->ports, p->ports == 1 ? "" : "s",
		       p->maxconn ? maxconn : "not given", p->fd_limit ? fds : "as raised here");
		return;
	}
	if (p->workers)
		snprintf(workers, sizeof(workers), "%u per side", p->workers);
	else
		snprintf(workers, sizeof(workers), "auto");
	printf("plan: role %s, %" PRIu64 " connections, %u port%s, %u source%s, %u destination address%s, "
	       "workers %s\n",
	       limits_role_name(p->role), p->target, p->ports, p->ports == 1 ? "" : "s",
	       p->sources, p->sources == 1 ? "" : "s", p->dst_addrs,
	       p->dst_addrs == 1 ? "" : "es", workers);
}

static int run_check(const struct doctor_options *o)
{
	static char out[16384];
	struct limits_values v;
	struct limits_report r;
	char err[LIMITS_ERR_LEN];
	int n;

	if (limits_read(&v, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-doctor: %s\n", err);
		return 2;
	}
	limits_evaluate(&o->plan, &v, &r);
	if (o->json) {
		n = limits_format_json(&r, out, sizeof(out));
	} else {
		print_plan(&o->plan);
		n = limits_format_table(&r, out, sizeof(out));
	}
	if (n < 0) {
		fprintf(stderr, "c1m-doctor: report larger than %zu bytes\n", sizeof(out));
		return 2;
	}
	fputs(out, stdout);
	return r.n_fail > 0 ? 1 : 0;
}

static int save_baseline(const char *path)
{
	struct kstate k;
	char buf[512];
	FILE *f;
	int n;

	kstate_read(&k);
	if (!k.tcpext.present) {
		fprintf(stderr, "c1m-doctor: cannot read /proc/net/netstat counters\n");
		return 2;
	}
	n = explain_format_baseline(&k.tcpext, buf, sizeof(buf));
	f = fopen(path, "w");
	if (f == NULL || n < 0 || fputs(buf, f) == EOF || fclose(f) != 0) {
		fprintf(stderr, "c1m-doctor: --save-baseline '%s': %s\n", path, strerror(errno));
		return 2;
	}
	printf("baseline saved to %s: ListenOverflows %" PRIu64 ", ListenDrops %" PRIu64
	       ", TCPMemoryPressures %" PRIu64 ", TCPAbortOnMemory %" PRIu64 "\n", path, k.tcpext.listen_overflows,
	       k.tcpext.listen_drops, k.tcpext.memory_pressures, k.tcpext.abort_on_memory);
	return 0;
}

/* --from: the client's report, and the numbers diag_explain quotes (lim NULL: this machine's limits could not
 * be read), with the run's ports and sources so its capacity sums match. */
static int load_client(const char *path, const struct limits_values *lim, const char *lim_err,
		       const struct kstate *now, struct explain_client *cl, struct diag_context *ctx)
{
	char err[DOCTOR_ERR_LEN];

	if (doctor_read_client(path, cl, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-doctor: %s\n", err);
		return -1;
	}
	if (lim == NULL)
		fprintf(stderr, "c1m-doctor: warning: %s; explanations without this machine's numbers\n", lim_err);
	diag_context_init(ctx, lim, now, cl->ports ? cl->ports : 1, cl->sources ? cl->sources : 1);
	ctx->target = cl->target;
	explain_client_context(cl, ctx);
	return 0;
}

/* Conntrack fill, TCP socket memory and the local port range, from the limits read at start. */
static void set_limits(struct explain_input *in, const struct limits_values *v)
{
	in->conntrack_present = v->conntrack_present;
	in->conntrack_count = v->conntrack_count;
	in->conntrack_max = v->conntrack_max;
	in->sockstat_present = v->sockstat_present;
	in->tcp_mem_used = v->tcp_mem_used;
	in->tcp_mem_present = v->tcp_mem_present;
	memcpy(in->tcp_mem, v->tcp_mem, sizeof(in->tcp_mem));
}

static int run_explain(const struct doctor_options *o)
{
	static char kmsg[DOCTOR_KMSG_MAX], out[65536];
	static struct explain_result r;
	static struct explain_client client;
	static struct diag_context ctx;
	struct explain_input in;
	struct explain_tuples tuples;
	struct explain_tuple *slots;
	struct explain_proc *procs;
	struct limits_values lim;
	struct kstate now;
	char err[DOCTOR_ERR_LEN], lim_err[LIMITS_ERR_LEN];
	bool have_lim;
	int n;

	memset(&in, 0, sizeof(in));
	in.kmsg = doctor_read_kmsg(kmsg, sizeof(kmsg)) > 0 ? kmsg : NULL;
	in.since_s = o->since_s;
	in.uptime_s = doctor_read_uptime();
	kstate_read(&now);
	in.now = now.tcpext;
	have_lim = limits_read(&lim, lim_err, sizeof(lim_err)) == 0;
	if (o->baseline != NULL) {
		if (doctor_read_baseline(o->baseline, &in.base, err, sizeof(err)) < 0) {
			fprintf(stderr, "c1m-doctor: %s\n", err);
			return 2;
		}
		in.has_base = true;
	}
	if (o->from != NULL) {
		if (load_client(o->from, have_lim ? &lim : NULL, lim_err, &now, &client, &ctx) < 0)
			return 2;
		in.client = &client;
		in.ctx = &ctx;
	}
	slots = calloc(TUPLES_CAP, sizeof(*slots));
	if (have_lim) {
		set_limits(&in, &lim);
		explain_tuples_init(&tuples, slots, slots != NULL ? TUPLES_CAP : 0, lim.port_lo, lim.port_hi);
		if (slots != NULL && doctor_read_tuples(&tuples))
			in.tuples = &tuples;
	} else {
		fprintf(stderr, "c1m-doctor: warning: %s; conntrack, socket memory and local ports not checked\n",
			lim_err);
	}
	procs = doctor_read_procs(&in.n_procs, &in.procs_checked);
	in.procs = procs;
	explain_analyze(&in, &r);
	n = o->json ? explain_format_json(&r, out, sizeof(out)) : explain_format(&r, &in, out, sizeof(out));
	free(procs);
	free(slots);
	if (n < 0) {
		fprintf(stderr, "c1m-doctor: explanation larger than %zu bytes\n", sizeof(out));
		return 2;
	}
	fputs(out, stdout);
	return r.n > 0 || r.n_kinds > 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct doctor_options o;
	char err[DOCTOR_ERR_LEN];

	if (doctor_opts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-doctor: %s\n", err);
		return 2;
	}
	if (o.help) {
		char usage[DOCTOR_USAGE_LEN];

		doctor_opts_usage(usage, sizeof(usage));
		fputs(usage, stdout);
		return 0;
	}
	if (o.version) {
		char text[VERSION_TEXT_LEN];

		/* no libevent line: the doctor does not run on libevent (it is not even linked in) */
		version_text("c1m-doctor", NULL, text, sizeof(text));
		fputs(text, stdout);
		return 0;
	}
	if (o.save_baseline != NULL)
		return save_baseline(o.save_baseline);
	if (o.mode == DOCTOR_MODE_EXPLAIN)
		return run_explain(&o);
	return run_check(&o);
}
