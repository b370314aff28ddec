/* What c1m-client prints besides its progress: the plan, the report (text, and JSON with --json), and
 * what runs no load: --help, --version, --merge and --fleet-step. */
#include "client/main_out.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "client/merge.h"
#include "client/state.h"
#include "common/sys/procfs.h"
#include "common/util/version.h"

#define ERR_LEN MAIN_OUT_ERR_LEN

static int write_json(const char *path, const char *text, char *err, size_t errlen)
{
	FILE *f;

	if (strcmp(path, "-") == 0) {
		fputs(text, stdout);
		fflush(stdout);
		return 0;
	}
	f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "--json %s: %s", path, strerror(errno));
		return -1;
	}
	if (fputs(text, f) == EOF || fclose(f) == EOF) {
		snprintf(err, errlen, "--json %s: write failed: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* What the run will do, before it starts (with progress on). */
void main_out_plan(const struct client_options *o, const struct client_plan *plan)
{
	bool v6 = o->dst.family == AF_INET6;

	if (!o->progress_ms)
		return;
	fprintf(stderr, "c1m-client: %llu connections to %s%s%s:%u-%u, %u process%s, sources %u%s\n",
		(unsigned long long)o->target, v6 ? "[" : "", o->host, v6 ? "]" : "", o->port_base,
		o->port_base + o->ports - 1, plan->workers,
		plan->workers == 1 ? "" : "es", plan->sources.count, plan->sources.count ? "" : " (kernel)");
	if (o->msg_rate && o->n_rates > 1)
		fprintf(stderr, "c1m-client: then a sweep of %u rates from %llu to %llu msg/s, %.3f s each, reply "
			"timeout %u ms, SLO p99 <= %u ms\n", o->n_rates, (unsigned long long)o->msg_rates[0],
			(unsigned long long)o->msg_rates[o->n_rates - 1], (double)o->duration_ms / 1000.0,
			o->reply_timeout_ms, o->slo_ms);
	else if (o->msg_rate)
		fprintf(stderr, "c1m-client: then %s%llu msg/s for %.3f s, reply timeout %u ms, SLO p99 <= %u ms\n",
			o->find_max ? "in steps of +connections, each step " : "", (unsigned long long)o->msg_rate,
			(double)o->duration_ms / 1000.0, o->reply_timeout_ms, o->slo_ms);
}

/* Text on stdout (stderr when the JSON owns stdout), JSON with --json. Returns the verdict. */
bool main_out_report(const struct report_meta *m, const struct loadgen_stats *t, const struct client_options *o,
		     char *text, char *err)
{
	struct report_summary s;

	if (report_format_text(m, t, text, REPORT_TEXT_LEN) < 0)
		fprintf(stderr, "c1m-client: report truncated\n");
	/* with --json - the JSON owns stdout, so the human report goes to stderr */
	fputs(text, o->json_path && strcmp(o->json_path, "-") == 0 ? stderr : stdout);
	fflush(stdout);
	if (o->json_path) {
		if (report_format_json(m, t, text, REPORT_TEXT_LEN) < 0)
			fprintf(stderr, "c1m-client: JSON report truncated\n");
		else if (write_json(o->json_path, text, err, ERR_LEN) < 0)
			fprintf(stderr, "c1m-client: %s\n", err);
	}
	report_summarize(m, t, &s);
	return s.pass;
}

/* --fleet-step: the shards' done lines of one step (one a line, "c1m-shard: done STEP " before the JSON or
 * not) read from a file. 0, or -1 with err. */
static int read_steps(const char *path, struct state_step **in, unsigned *n, char *err, size_t errlen)
{
	static const char prefix[] = "c1m-shard: done ";
	FILE *f = fopen(path, "r");
	char *line = NULL, *p, why[256];
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = -1;

	*n = 0;
	if (!f) {
		snprintf(err, errlen, "--fleet-step %s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		p = line;
		if (strncmp(p, prefix, sizeof(prefix) - 1) == 0) {
			p += sizeof(prefix) - 1;
			p += strspn(p, "0123456789");
			p += strspn(p, " ");
		}
		if (p[strspn(p, " \t\r\n")] == '\0')
			continue;
		if (*n == CLIENT_MAX_SHARDS) {
			snprintf(err, errlen, "--fleet-step %s: more than %d shards' lines", path, CLIENT_MAX_SHARDS);
			goto out;
		}
		in[*n] = malloc(sizeof(*in[*n]));
		if (!in[*n]) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (state_parse_step(p, strlen(p), in[(*n)++], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--fleet-step %s:%u: %s", path, lineno, why);
			goto out;
		}
	}
	rc = 0;
out:
	free(line);
	(void)fclose(f);   /* read only: nothing is lost on a failed close */
	return rc;
}

/* --fleet-step: the fleet's next line on stdout (next STEP RATE CONNS, or end REASON), the merged step in
 * words on stderr. Exit status 0, or 2 for lines that cannot be read or do not belong together. */
static int run_fleet_step(const struct client_options *o)
{
	struct findmax_plan plan = { o->find_max, o->target, o->step, o->msg_rates, o->n_rates, o->msg_rate };
	struct state_step **in = calloc(CLIENT_MAX_SHARDS, sizeof(void *));   /* an array of pointers */
	struct merge_step *ms = malloc(sizeof(*ms));
	const struct findmax_row *r;
	char err[ERR_LEN];
	unsigned i, n = 0;
	int status = 2;

	if (!in || !ms) {
		fprintf(stderr, "c1m-client: out of memory\n");
		goto out;
	}
	if (read_steps(o->fleet_step_path, in, &n, err, sizeof(err)) < 0 ||
	    merge_fleet_step(&plan, o->slo_ms, (const struct state_step *const *)in, n, ms, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-client: %s\n", err);
		goto out;
	}
	r = &ms->row;
	fprintf(stderr, "c1m-client: fleet step %u: %llu of %llu connections held, %llu msg/s, %llu sent, %llu "
		"answered, %llu lost, p99 %.3f ms: %s%s\n", ms->step, (unsigned long long)r->held,
		(unsigned long long)r->conns, (unsigned long long)r->msg_rate, (unsigned long long)r->sent,
		(unsigned long long)r->answered, (unsigned long long)r->lost, r->p99_ms, r->pass ? "pass" : "FAIL",
		ms->missing ? " (shards without this step: their share is not held)" : "");
	if (ms->stop == FINDMAX_CONTINUE)
		printf("next %u %llu %llu\n", ms->step + 1, (unsigned long long)ms->next_rate,
		       (unsigned long long)ms->next_conns);
	else
		printf("end %s\n", findmax_stop_name(ms->stop));
	fflush(stdout);
	status = 0;
out:
	for (i = 0; in && i < n; i++)
		free(in[i]);
	free(in);
	free(ms);
	return status;
}

/* --merge: the shards' reports read, merged and printed as one; exit status 2 for a report that cannot be
 * read or belongs to another run, else the merged verdict. */
static int run_merge(const struct client_options *o, char *text)
{
	const struct state_report **in = calloc(o->n_merge, sizeof(void *));   /* an array of pointers */
	struct merge_result *mr = malloc(sizeof(*mr));
	char err[ERR_LEN], why[ERR_LEN];
	int status = 2;
	unsigned i;

	if (!in || !mr) {
		fprintf(stderr, "c1m-client: out of memory\n");
		goto out;
	}
	for (i = 0; i < o->n_merge; i++) {
		struct state_report *r = malloc(sizeof(*r));

		in[i] = r;
		if (!r) {
			fprintf(stderr, "c1m-client: out of memory\n");
			goto out;
		}
		if (procfs_read_file(o->merge_files[i], text, REPORT_TEXT_LEN, why, sizeof(why)) < 0 ||
		    state_parse(text, strlen(text), r, why, sizeof(why)) < 0) {
			fprintf(stderr, "c1m-client: --merge %s: %s\n", o->merge_files[i], why);
			goto out;
		}
	}
	if (merge_reports(in, o->merge_files, o->n_merge, mr, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-client: --merge: %s\n", err);
		goto out;
	}
	status = main_out_report(&mr->meta, &mr->stats, o, text, err) ? 0 : 1;
out:
	for (i = 0; in && i < o->n_merge; i++)
		free((void *)in[i]);
	free(in);
	free(mr);
	return status;
}

/* --help, --version and --merge: what runs no load. Returns the exit status. */
int main_out_without_load(const struct client_options *o)
{
	char vtext[VERSION_TEXT_LEN], *text;
	int rc;

	if (o->help) {
		fputs(client_opts_usage(), stdout);
		return 0;
	}
	if (o->version) {
		version_text("c1m-client", event_get_version(), vtext, sizeof(vtext));
		fputs(vtext, stdout);
		return 0;
	}
	if (o->fleet_step_path)
		return run_fleet_step(o);
	text = malloc(REPORT_TEXT_LEN);
	if (!text) {
		fprintf(stderr, "c1m-client: out of memory\n");
		return 2;
	}
	rc = run_merge(o, text);
	free(text);
	return rc;
}

