/* What `c1m-doctor --explain` prints: the findings and the client's failure kinds as text or JSON, and the
 * baseline file of TcpExt counters (its writer and its parser side by side, so the format is defined once). */
#include "common/model/explain.h"
#include "common/sys/procfs.h"
#include "common/util/json.h"
#include "common/util/sbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const cause_titles[EXPLAIN_CAUSE_COUNT] = {
	[EXPLAIN_CONNTRACK_FULL] = "conntrack table full: new SYNs were dropped, so connects timed out",
	[EXPLAIN_LISTEN_OVERFLOW] = "listen queue overflow: the server accepted slower than clients connected, "
				    "SYNs were dropped",
	[EXPLAIN_TCP_OOM] = "TCP ran out of socket memory (tcp_mem hard limit): sockets were aborted",
	[EXPLAIN_TCP_MEM_PRESSURE] = "TCP memory pressure: the stack shrank buffers, which adds latency",
	[EXPLAIN_OOM_KILL] = "the OOM killer ended a process: the machine ran out of memory",
	[EXPLAIN_FILE_MAX] = "fs.file-max reached: the whole system ran out of file descriptors (ENFILE)",
	[EXPLAIN_FD_LIMIT] = "a process is at its open-file limit: its accept() and connect() fail with EMFILE "
			     "(Too many open files)",
	[EXPLAIN_LOCAL_PORTS] = "local ports used up for a (source, destination) pair: connect() fails with "
				"EADDRNOTAVAIL (Cannot assign requested address)",
};

static void format_kinds(struct sbuf *sb, const struct explain_result *r, const struct explain_client *cl)
{
	unsigned i, j;

	sbuf_printf(sb, "%sThe client's report: %" PRIu64 " of %" PRIu64 " connections failed", r->n ? "\n" : "",
		  cl->failed, cl->target);
	if (cl->host[0] != '\0')
		sbuf_printf(sb, " (server %s)", cl->host);
	if (r->n_kinds == 0)
		sbuf_printf(sb, "; it counted no failures.\n");
	else
		sbuf_printf(sb, ". By kind, with this machine's numbers now:\n");
	for (i = 0; i < r->n_kinds; i++) {
		const struct explain_kind *k = &r->kinds[i];

		sbuf_printf(sb, "- %s x %" PRIu64 "%s: %s\n", diag_kind_name(k->kind), k->count,
			  k->first ? " (first cause)" : "", k->text);
		if (k->n_backed > 0) {
			sbuf_printf(sb, "  shown now by:");
			for (j = 0; j < k->n_backed; j++) {
				unsigned f;

				for (f = 0; f < r->n && r->findings[f].cause != k->backed[j]; f++)
					;
				sbuf_printf(sb, "%s %s (finding %u)", j ? "," : "", explain_cause_name(k->backed[j]), f + 1);
			}
			sbuf_printf(sb, "\n");
		}
	}
	if (cl->failures_other > 0)
		sbuf_printf(sb, "- %" PRIu64 " failure%s under kind names this doctor does not know (a newer client?)\n",
			  cl->failures_other, cl->failures_other == 1 ? "" : "s");
}

int explain_format(const struct explain_result *r, const struct explain_input *in, char *buf, size_t len)
{
	struct sbuf sb;
	unsigned i;

	sbuf_init(&sb, buf, len);
	for (i = 0; i < r->n; i++) {
		const struct explain_finding *f = &r->findings[i];

		sbuf_printf(&sb, "%u. %s.\n   evidence: %s\n   fix: %s\n", i + 1, cause_titles[f->cause],
			  f->evidence, f->fix);
	}
	if (in->client != NULL)
		format_kinds(&sb, r, in->client);
	if (r->n == 0 && r->n_kinds == 0) {
		sbuf_printf(&sb, "Cannot tell: none of the known causes shows in the evidence.\n");
		sbuf_printf(&sb, "Checked: %s; %s; %s; %s; ",
			  r->kmsg_checked ? "kernel log" : "kernel log NOT readable",
			  in->now.present ? "TcpExt counters" : "TcpExt counters NOT readable",
			  in->conntrack_present ? "nf_conntrack fill" : "nf_conntrack not loaded",
			  !in->sockstat_present ? "sockstat NOT readable" :
			  in->tcp_mem_present ? "TCP socket memory" :
			  "TCP socket memory (tcp_mem is machine-wide, not visible in this network namespace)");
		if (in->procs_checked)
			sbuf_printf(&sb, "open files of %u process%s; ", in->n_procs, in->n_procs == 1 ? "" : "es");
		else
			sbuf_printf(&sb, "open files of processes NOT readable; ");
		if (in->tuples != NULL)
			sbuf_printf(&sb, "local ports of %" PRIu64 " TCP socket%s.\n", in->tuples->rows,
				  in->tuples->rows == 1 ? "" : "s");
		else
			sbuf_printf(&sb, "/proc/net/tcp NOT readable.\n");
		sbuf_printf(&sb, "Look at the failing program's own errors (c1m-client reports each kind with an "
			       "explanation; c1m-doctor --explain --from CLIENT_JSON explains them with the numbers "
			       "now) and the server's worker exits.\n");
	}
	if (!in->has_base && in->now.present)
		sbuf_printf(&sb, "Note: counters are totals since boot; save a baseline before the run "
			       "(--save-baseline FILE, then --baseline FILE) to see only the run's share.\n");
	if (r->kmsg_checked && in->since_s > 0)
		sbuf_printf(&sb, "Kernel log: %u lines from the last %.0f s examined.\n", r->kmsg_lines, in->since_s);
	return sb.overflow ? -1 : (int)sb.used;
}

int explain_format_json(const struct explain_result *r, char *buf, size_t len)
{
	struct json_w w;
	unsigned i, j;

	json_w_init(&w, buf, len);
	json_w_object_begin(&w, NULL);
	json_w_bool(&w, "kmsg_checked", r->kmsg_checked);
	json_w_u64(&w, "kmsg_lines", r->kmsg_lines);
	json_w_array_begin(&w, "findings");
	for (i = 0; i < r->n; i++) {
		const struct explain_finding *f = &r->findings[i];

		json_w_object_begin(&w, NULL);
		json_w_string(&w, "cause", explain_cause_name(f->cause));
		json_w_string(&w, "evidence", f->evidence);
		json_w_string(&w, "fix", f->fix);
		json_w_object_end(&w);
	}
	json_w_array_end(&w);
	json_w_array_begin(&w, "client_kinds");
	for (i = 0; i < r->n_kinds; i++) {
		const struct explain_kind *k = &r->kinds[i];

		json_w_object_begin(&w, NULL);
		json_w_string(&w, "kind", diag_kind_name(k->kind));
		json_w_u64(&w, "count", k->count);
		json_w_bool(&w, "first", k->first);
		json_w_string(&w, "explanation", k->text);
		json_w_array_begin(&w, "shown_by");
		for (j = 0; j < k->n_backed; j++)
			json_w_string(&w, NULL, explain_cause_name(k->backed[j]));
		json_w_array_end(&w);
		json_w_object_end(&w);
	}
	json_w_array_end(&w);
	json_w_object_end(&w);
	if (json_w_finish(&w) < 0)
		return -1;
	sbuf_printf(&w.sb, "\n");
	return sbuf_done(&w.sb);
}

static const char *const baseline_keys[4] = {
	"ListenOverflows", "ListenDrops", "TCPMemoryPressures", "TCPAbortOnMemory"
};

static uint64_t *baseline_field(struct kstate_tcpext *c, unsigned i)
{
	switch (i) {
	case 0: return &c->listen_overflows;
	case 1: return &c->listen_drops;
	case 2: return &c->memory_pressures;
	default: return &c->abort_on_memory;
	}
}

int explain_format_baseline(const struct kstate_tcpext *c, char *buf, size_t len)
{
	struct sbuf sb;
	struct kstate_tcpext copy = *c;
	unsigned i;

	sbuf_init(&sb, buf, len);
	for (i = 0; i < 4; i++)
		sbuf_printf(&sb, "%s %" PRIu64 "\n", baseline_keys[i], *baseline_field(&copy, i));
	return sb.overflow ? -1 : (int)sb.used;
}

int explain_parse_baseline(const char *text, struct kstate_tcpext *c, char *err, size_t errlen)
{
	char perr[PROCFS_ERR_LEN];
	unsigned i;

	memset(c, 0, sizeof(*c));
	if (text == NULL) {
		snprintf(err, errlen, "baseline: no text");
		return -1;
	}
	/* One "Name value" pair per line, in any order; every counter must be present. */
	for (i = 0; i < 4; i++) {
		const char *line = text;
		size_t klen = strlen(baseline_keys[i]);
		bool found = false;

		while (line != NULL && *line != '\0') {
			const char *nl = strchr(line, '\n');

			if (strncmp(line, baseline_keys[i], klen) == 0 && line[klen] == ' ') {
				char val[32];
				size_t vlen = nl != NULL ? (size_t)(nl - line) - klen - 1 : strlen(line + klen + 1);

				if (vlen == 0 || vlen >= sizeof(val)) {
					snprintf(err, errlen, "baseline: bad value for %s", baseline_keys[i]);
					return -1;
				}
				memcpy(val, line + klen + 1, vlen);
				val[vlen] = '\0';
				if (procfs_parse_u64(val, baseline_field(c, i), perr, sizeof(perr)) < 0) {
					snprintf(err, errlen, "baseline %s: %s", baseline_keys[i], perr);
					return -1;
				}
				found = true;
				break;
			}
			line = nl != NULL ? nl + 1 : NULL;
		}
		if (!found) {
			snprintf(err, errlen, "baseline: no %s line", baseline_keys[i]);
			return -1;
		}
	}
	c->present = true;
	return 0;
}
