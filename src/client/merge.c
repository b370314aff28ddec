/* The shards' reports as one fleet's (see merge.h). */
#include "client/merge.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client/client_opts.h"
#include "common/util/counter.h"
#include "common/util/sbuf.h"

/* What every shard of one run was asked the same way. */
static int same_run(const struct report_meta *a, const struct report_meta *b, const char *path, char *err,
		    size_t errlen)
{
	const char *what = a->shard_m != b->shard_m ? "the number of shards (--shard K/M)" :
			   a->fleet_target != b->fleet_target ? "-n" :
			   strcmp(a->host, b->host) != 0 ? "the server address" :
			   a->port_base != b->port_base || a->ports != b->ports ? "the server ports" :
			   a->hold_ms != b->hold_ms ? "--hold" :
			   a->latency != b->latency || a->duration_ms != b->duration_ms ? "the latency phase" :
			   a->reply_timeout_ms != b->reply_timeout_ms ? "--timeout" :
			   a->slo_ms != b->slo_ms ? "--slo" : NULL;

	if (what == NULL)
		return 0;
	snprintf(err, errlen, "%s: another run than the first report's: %s differs", path, what);
	return -1;
}

/* "shard K/M: what", after the problems already named. */
static void add_problem(struct report_meta *m, unsigned k, const char *what)
{
	char line[sizeof(m->problems) + 48];   /* "shard K/M: " and all of what */

	snprintf(line, sizeof(line), "shard %u/%u: %s", k, m->shard_m, what);
	report_add_problem(m, line);
}

/* The sums of what each shard was given, and the shards in words. */
static void merge_meta(const struct state_report *const *in, unsigned n, struct merge_result *out)
{
	struct report_meta *m = &out->meta;
	struct sbuf sb;
	unsigned i;

	*m = in[0]->meta;
	m->target = m->workers = m->concurrency = 0;
	m->rate = m->msg_rate = m->start_late_ns = 0;
	m->sources.count = 0;
	m->problems[0] = '\0';
	m->stop_signal = 0;
	m->lat = NULL;
	m->limits = in[0]->meta.limits;
	sbuf_init(&sb, m->shards, sizeof(m->shards));
	sbuf_printf(&sb, "%u of %u:", n, m->shard_m);
	for (i = 0; i < n; i++) {
		const struct report_meta *s = &in[i]->meta;

		m->target += s->target;
		m->workers += s->workers;
		m->concurrency += s->concurrency;
		m->rate += s->rate;
		m->msg_rate += s->msg_rate;
		m->sources.count += s->sources.count;
		if (s->start_late_ns > m->start_late_ns)
			m->start_late_ns = s->start_late_ns;
		if (m->stop_signal == 0)
			m->stop_signal = s->stop_signal;
		if (s->problems[0])
			add_problem(m, s->shard_k, s->problems);
		sbuf_printf(&sb, "%s %s (%u/%u)", i ? "," : "", s->hostname[0] ? s->hostname : "?", s->shard_k,
			    s->shard_m);
	}
	m->shard_k = 0;   /* the whole fleet */
	m->sources_default = false;
}

/* The machine whose shard saw the first failure of each kind explains it. */
static void merge_kind_limits(const struct state_report *const *in, unsigned n, struct merge_result *out)
{
	unsigned k, i;
	uint64_t best, t;

	for (k = 0; k < DIAG_KIND_COUNT; k++) {
		best = 0;
		for (i = 0; i < n; i++) {
			t = counter_get(&in[i]->stats.first_fail_ns[k]);
			if (counter_get(&in[i]->stats.failures[k]) == 0 || (best && t >= best))
				continue;
			best = t ? t : best;
			out->meta.kind_limits[k] = in[i]->meta.limits;
		}
	}
}

/* The phase every shard judged, merged; a shard without one is a problem of the fleet's phase. */
static void merge_lat(const struct state_report *const *in, unsigned n, struct merge_result *out)
{
	unsigned i, have = 0;

	loadgen_lat_init(&out->lat);
	for (i = 0; i < n; i++) {
		if (in[i]->meta.lat == NULL)
			continue;
		loadgen_lat_merge(&out->lat, in[i]->meta.lat);
		have++;
	}
	if (have == 0)
		return;
	out->meta.lat = &out->lat;
	for (i = 0; i < n && have < n; i++)
		if (in[i]->meta.lat == NULL)
			add_problem(&out->meta, in[i]->meta.shard_k, "its latency phase did not run");
}

int merge_reports(const struct state_report *const *in, const char *const *paths, unsigned n,
		  struct merge_result *out, char *err, size_t errlen)
{
	bool seen[CLIENT_MAX_SHARDS + 1] = { false };
	unsigned i, k;

	if (n == 0) {
		snprintf(err, errlen, "no reports to merge");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct report_meta *s = &in[i]->meta;

		if (s->find_max || s->sweep) {
			snprintf(err, errlen, "%s: a --find-max or sweep report: its steps cannot be merged", paths[i]);
			return -1;
		}
		if (s->shard_m == 0 || s->shard_m > CLIENT_MAX_SHARDS || s->shard_k == 0 || s->shard_k > s->shard_m) {
			snprintf(err, errlen, "%s: shard %u/%u is not a shard number", paths[i], s->shard_k, s->shard_m);
			return -1;
		}
		if (same_run(&in[0]->meta, s, paths[i], err, errlen) < 0)
			return -1;
		if (seen[s->shard_k]) {
			snprintf(err, errlen, "%s: shard %u/%u is given twice", paths[i], s->shard_k, s->shard_m);
			return -1;
		}
		seen[s->shard_k] = true;
	}
	memset(out, 0, sizeof(*out));
	merge_meta(in, n, out);
	for (k = 1; k <= out->meta.shard_m; k++)
		if (!seen[k])
			add_problem(&out->meta, k, "no report (its connections are not in this one)");
	loadgen_stats_init_sum(&out->stats);
	for (i = 0; i < n; i++)
		loadgen_stats_merge(&out->stats, &in[i]->stats);
	/* the shards that sent no report opened nothing here: the fleet's target stays -n */
	counter_set(&out->stats.target, out->meta.fleet_target);
	out->meta.target = out->meta.fleet_target;
	merge_kind_limits(in, n, out);
	merge_lat(in, n, out);
	return 0;
}
