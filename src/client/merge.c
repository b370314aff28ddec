/* The shards' reports as one fleet's (see merge.h). */
#include "client/merge.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client/client_opts.h"
#include "client/sched.h"
#include "common/util/counter.h"
#include "common/util/sbuf.h"

/* What every shard of one run was asked the same way. */
static int same_run(const struct report_meta *a, const struct report_meta *b, const char *path, char *err,
		    size_t errlen)
{
	const char *what = a->shard_m != b->shard_m ? "the number of shards (--shard K/M)" :
			   a->proto != b->proto ? "--proto" :
			   a->tls != b->tls || a->tls_insecure != b->tls_insecure ? "--tls or --insecure" :
			   a->fleet_target != b->fleet_target ? "-n" :
			   strcmp(a->host, b->host) != 0 ? "the server address" :
			   a->port_base != b->port_base || a->ports != b->ports ? "the server ports" :
			   a->hold_ms != b->hold_ms ? "--hold" :
			   a->latency != b->latency || a->duration_ms != b->duration_ms ? "the latency phase" :
			   a->reply_timeout_ms != b->reply_timeout_ms ? "--timeout" :
			   a->slo_ms != b->slo_ms ? "--slo" :
			   a->send_window_ms != b->send_window_ms ? "--send-window" :
			   a->find_max != b->find_max || a->step != b->step ? "--find-max or --step" :
			   a->sweep != b->sweep || a->n_rates != b->n_rates ||
			   (a->n_rates && memcmp(a->rates, b->rates, a->n_rates * sizeof(a->rates[0])) != 0) ? "the sweep's rates" :
			   NULL;

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
	m->lat_total = 0;
	m->steps = NULL;
	m->step_lats = NULL;
	m->n_steps = 0;
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
		/* each shard's schedule rounds its own share of the rate: the fleet's is their sum */
		out->meta.lat_total += sched_total(in[i]->meta.msg_rate, in[i]->meta.duration_ms);
		have++;
	}
	if (have == 0)
		return;
	out->meta.lat = &out->lat;
	for (i = 0; i < n && have < n; i++)
		if (in[i]->meta.lat == NULL)
			add_problem(&out->meta, in[i]->meta.shard_k, "its latency phase did not run");
}

/* Shard k/m's row of step (1-based) is its share of the fleet's conns connections and fleet_rate msg/s
 * (0 = the rate is not known here). */
static int share_check(const char *name, unsigned k, unsigned m, unsigned step, const struct findmax_row *row,
		       uint64_t conns, uint64_t fleet_rate, char *err, size_t errlen)
{
	uint64_t share = sched_share(conns, m, k - 1);

	if (row->conns != share) {
		snprintf(err, errlen, "%s: step %u: shard %u/%u asked for %" PRIu64 " connections, not its share %"
			 PRIu64 " of the fleet's %" PRIu64, name, step, k, m, row->conns, share, conns);
		return -1;
	}
	share = sched_share(fleet_rate, m, k - 1);
	if (fleet_rate && row->msg_rate != share) {
		snprintf(err, errlen, "%s: step %u: shard %u/%u ran %" PRIu64 " msg/s, not its share %" PRIu64
			 " of the fleet's %" PRIu64, name, step, k, m, row->msg_rate, share, fleet_rate);
		return -1;
	}
	return 0;
}

/* Step i (0-based) of every report against the fleet's: conns connections (a sweep: -n; --find-max: what
 * the rule gave after the step before), at the sweep's i-th rate, or --find-max's one rate. */
static int step_check(const struct state_report *const *in, const char *const *paths, unsigned n, unsigned i,
		      uint64_t conns, char *err, size_t errlen)
{
	const struct report_meta *m0 = &in[0]->meta;
	uint64_t fleet_rate = 0;
	unsigned s, have = 0;

	for (s = 0; s < n; s++)
		if (i < in[s]->meta.n_steps) {
			fleet_rate += in[s]->rows[i].msg_rate;
			have++;
		}
	if (m0->sweep)
		fleet_rate = m0->rates[i];
	else if (have < m0->shard_m)
		fleet_rate = 0;   /* the fleet's one rate is the sum of every shard's share: unknown, not checked */
	for (s = 0; s < n; s++) {
		const struct report_meta *m = &in[s]->meta;
		const struct findmax_row *row = &in[s]->rows[i];

		if (i >= m->n_steps)
			continue;
		if (share_check(paths[s], m->shard_k, m->shard_m, i + 1, row, conns, fleet_rate, err, errlen) < 0)
			return -1;
		if (!m0->sweep && i > 0 && row->msg_rate != in[s]->rows[0].msg_rate) {
			snprintf(err, errlen, "%s: step %u: shard %u/%u ran %" PRIu64 " msg/s, not the %" PRIu64
				 " of its first step (--find-max keeps one rate)", paths[s], i + 1, m->shard_k, m->shard_m,
				 row->msg_rate, in[s]->rows[0].msg_rate);
			return -1;
		}
	}
	return 0;
}

/* Step i of the fleet: every shard's step i merged, judged as one process judges its own. */
static void step_merge(const struct state_report *const *in, unsigned n, unsigned i, uint64_t conns,
		       struct merge_result *out)
{
	struct loadgen_lat *l = &out->step_lat[i];
	uint64_t rate = 0, total = 0, failures = 0;
	unsigned s;
	char what[64];

	loadgen_lat_init(l);
	for (s = 0; s < n; s++) {
		const struct report_meta *m = &in[s]->meta;
		const struct findmax_row *row = &in[s]->rows[i];

		if (i >= m->n_steps) {
			if (i == m->n_steps) {   /* once, at its first missing step */
				snprintf(what, sizeof(what), "ran %u of the fleet's steps", m->n_steps);
				add_problem(&out->meta, m->shard_k, what);
			}
			continue;
		}
		loadgen_lat_merge(l, &in[s]->step_lat[i]);
		rate += row->msg_rate;
		total += sched_total(row->msg_rate, m->duration_ms);
		failures += row->conn_failures;
	}
	/* the step asked for conns over the fleet: a shard without it held none of its share */
	report_step_row(l, conns, rate, total, failures, out->meta.slo_ms, &out->rows[i]);
	out->meta.lat_total = total;
}

/* --find-max or a sweep: the shards' steps merged one by one, each checked against the fleet's step, and
 * ended where the step rule ends them. */
static int merge_steps(const struct state_report *const *in, const char *const *paths, unsigned n,
		       struct merge_result *out, char *err, size_t errlen)
{
	struct report_meta *m = &out->meta;
	struct findmax_plan plan = { m->find_max, m->fleet_target, m->step, m->rates, m->n_rates, 0 };
	uint64_t conns, next_conns = 0, next_rate = 0;
	unsigned i, steps = 0, s;
	char what[96];

	for (s = 0; s < n; s++)
		if (in[s]->meta.n_steps > steps)
			steps = in[s]->meta.n_steps;
	m->steps = out->rows;
	m->step_lats = out->step_lat;
	m->n_steps = 0;
	m->stop = FINDMAX_CONTINUE;
	m->lat = NULL;
	conns = m->find_max ? findmax_first(m->fleet_target, m->step) : m->fleet_target;
	for (i = 0; i < steps; i++) {
		if (step_check(in, paths, n, i, conns, err, errlen) < 0)
			return -1;
		step_merge(in, n, i, conns, out);
		m->n_steps = i + 1;
		m->msg_rate = out->rows[i].msg_rate;
		m->lat = &out->step_lat[i];
		m->stop = findmax_plan_next(&plan, i + 1, &out->rows[i], &next_conns, &next_rate);
		if (m->stop != FINDMAX_CONTINUE && n == m->shard_m)
			break;
		/* the next step the shards ran: the rule's, or with a shard missing the one it gave them */
		if (next_conns)
			conns = next_conns;
		else if (m->find_max)
			conns = m->fleet_target - conns > m->step ? conns + m->step : m->fleet_target;
	}
	if (n < m->shard_m) {
		/* a shard sent no report: every step lacks its share, so the rule cannot be replayed; the steps
		   are the ones the shards ran, and they ended as the shards were told (the missing shard fails
		   the verdict) */
		m->stop = in[0]->meta.stop;
		return 0;
	}
	if (i + 1 < steps) {
		snprintf(what, sizeof(what), "steps %u to %u ran after the fleet's steps ended (%s): left out", i + 2,
			 steps, findmax_stop_name(m->stop));
		report_add_problem(m, what);
	}
	return 0;
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
	if (out->meta.find_max || out->meta.sweep)
		return merge_steps(in, paths, n, out, err, errlen);
	merge_lat(in, n, out);
	return 0;
}

/* The fleet's step from its shards' done lines: each one this fleet's, of this step, its share of it. */
static int fleet_step_check(const struct findmax_plan *plan, const struct state_step *const *in, unsigned n,
			    char *err, size_t errlen)
{
	const struct state_step *a = in[0];
	bool seen[CLIENT_MAX_SHARDS + 1] = { false };
	char name[48];
	unsigned i;

	if (a->shard_m > CLIENT_MAX_SHARDS) {
		snprintf(err, errlen, "shard %u/%u: more shards than %d", a->shard_k, a->shard_m, CLIENT_MAX_SHARDS);
		return -1;
	}
	if (plan->n_rates > 1 && (a->step > plan->n_rates || a->fleet_rate != plan->rates[a->step - 1] ||
				  a->fleet_conns != plan->target)) {
		snprintf(err, errlen, "shard %u/%u: step %u at %" PRIu64 " msg/s over %" PRIu64 " connections is not "
			 "this sweep's", a->shard_k, a->shard_m, a->step, a->fleet_rate, a->fleet_conns);
		return -1;
	}
	if (plan->find_max && (a->fleet_rate != plan->msg_rate || a->fleet_conns > plan->target)) {
		snprintf(err, errlen, "shard %u/%u: step %u at %" PRIu64 " msg/s over %" PRIu64 " connections is not "
			 "this --find-max's", a->shard_k, a->shard_m, a->step, a->fleet_rate, a->fleet_conns);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct state_step *s = in[i];

		snprintf(name, sizeof(name), "shard %u/%u", s->shard_k, s->shard_m);
		if (s->step != a->step || s->shard_m != a->shard_m || s->fleet_conns != a->fleet_conns ||
		    s->fleet_rate != a->fleet_rate || s->duration_ms != a->duration_ms) {
			snprintf(err, errlen, "%s: its step %u (%" PRIu64 " connections, %" PRIu64 " msg/s, of %u shards) is "
				 "not shard %u/%u's step %u", name, s->step, s->fleet_conns, s->fleet_rate, s->shard_m,
				 a->shard_k, a->shard_m, a->step);
			return -1;
		}
		if (seen[s->shard_k]) {
			snprintf(err, errlen, "%s: given twice", name);
			return -1;
		}
		seen[s->shard_k] = true;
	}
	for (i = 0; i < n; i++) {
		const struct state_step *s = in[i];

		snprintf(name, sizeof(name), "shard %u/%u", s->shard_k, s->shard_m);
		if (share_check(name, s->shard_k, s->shard_m, s->step, &s->row, s->fleet_conns, s->fleet_rate, err,
				errlen) < 0)
			return -1;
	}
	return 0;
}

int merge_fleet_step(const struct findmax_plan *plan, unsigned slo_ms, const struct state_step *const *in,
		     unsigned n, struct merge_step *out, char *err, size_t errlen)
{
	uint64_t rate = 0, total = 0, failures = 0;
	unsigned i;

	memset(out, 0, sizeof(*out));
	if (n == 0) {
		snprintf(err, errlen, "no shard's step to merge");
		return -1;
	}
	if (fleet_step_check(plan, in, n, err, errlen) < 0)
		return -1;
	loadgen_lat_init(&out->lat);
	for (i = 0; i < n; i++) {
		loadgen_lat_merge(&out->lat, &in[i]->lat);
		rate += in[i]->row.msg_rate;
		total += sched_total(in[i]->row.msg_rate, in[i]->duration_ms);
		failures += in[i]->row.conn_failures;
	}
	out->missing = in[0]->shard_m - n;
	/* the step asked for the fleet's connections: a shard without a line held none of its share */
	report_step_row(&out->lat, in[0]->fleet_conns, rate, total, failures, slo_ms, &out->row);
	out->step = in[0]->step;
	out->stop = findmax_plan_next(plan, in[0]->step, &out->row, &out->next_conns, &out->next_rate);
	return 0;
}
