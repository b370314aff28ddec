/* Report formatting for c1m-client. Everything here is pure: merged stats and the run's description in,
 * text out. The verdict is decided in one place (report_summarize) so the text, the JSON and the exit
 * status cannot disagree. */
#include "client/report.h"
#include "client/state.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/util/clock.h"
#include "common/util/version.h"
#include "client/sched.h"

/* ---- derived numbers ---- */

static double ns_to_s(uint64_t ns)
{
	return (double)ns / (double)CLOCK_NS_PER_S;
}

static void pct_ms(const struct hist *h, double out[4])
{
	out[0] = (double)hist_percentile(h, 50) / 1000.0;
	out[1] = (double)hist_percentile(h, 90) / 1000.0;
	out[2] = (double)hist_percentile(h, 99) / 1000.0;
	out[3] = (double)hist_max(h) / 1000.0;
}

/* Failure kinds in the order they first happened (kinds without a timestamp last). */
static unsigned kinds_by_time(const struct loadgen_stats *t, enum diag_kind out[DIAG_KIND_COUNT])
{
	unsigned n = 0, i, j, k;
	enum diag_kind tmp;

	for (k = 0; k < DIAG_KIND_COUNT; k++)
		if (t->failures[k])
			out[n++] = (enum diag_kind)k;
	for (i = 1; i < n; i++)
		for (j = i; j > 0; j--) {
			uint64_t a = t->first_fail_ns[out[j - 1]], b = t->first_fail_ns[out[j]];

			if ((a == 0 && b != 0) || (b != 0 && b < a)) {
				tmp = out[j];
				out[j] = out[j - 1];
				out[j - 1] = tmp;
			}
		}
	return n;
}

void report_summarize(const struct report_meta *m, const struct loadgen_stats *t, struct report_summary *s)
{
	enum diag_kind kinds[DIAG_KIND_COUNT];

	memset(s, 0, sizeof(*s));
	if (t->start_ns && t->ramp_end_ns > t->start_ns)
		s->elapsed_s = ns_to_s(t->ramp_end_ns - t->start_ns);
	if (t->start_ns && t->end_ns > t->start_ns)
		s->total_s = ns_to_s(t->end_ns - t->start_ns);
	if (s->elapsed_s > 0)
		s->connect_rate = (double)t->established / s->elapsed_s;
	pct_ms(&t->connect_us, s->connect_ms);
	pct_ms(&t->rtt_us, s->rtt_ms);
	s->first_cause = kinds_by_time(t, kinds) ? kinds[0] : DIAG_KIND_COUNT;
	/* A run stopped by a signal after everything was established and echoed still passes: holding until
	 * SIGINT is the default. */
	s->conn_pass = m->target > 0 && t->echoed == m->target && t->failed == 0 && m->problems[0] == '\0';
	s->pass = s->conn_pass;
	if (!m->latency)
		return;
	s->lat_total = m->lat_total ? m->lat_total : sched_total(m->msg_rate, m->duration_ms);
	s->max_conns = m->find_max ? findmax_best(m->steps, m->n_steps) : 0;
	s->max_rate = m->sweep ? findmax_best_rate(m->steps, m->n_steps) : 0;
	if (!m->lat) {
		s->pass = false;
		return;
	}
	s->lat_ran = true;
	report_latency_ms(m->lat, s->lat_ms);
	s->lat_lost = m->lat->late + m->lat->lost;
	s->lat_in_flight = loadgen_lat_in_flight(m->lat);
	if (m->duration_ms)
		s->achieved_rate = (double)m->lat->answered * 1000.0 / (double)m->duration_ms;
	if (m->lat->held && m->lat->rss_bytes > m->lat->rss_base_bytes)
		s->bytes_per_conn = (double)(m->lat->rss_bytes - m->lat->rss_base_bytes) / (double)m->lat->held;
	s->lat_pass = report_latency_pass(m->lat, s->lat_total, m->slo_ms);
	sat_judge(m->lat, s->lat_pass, m->cpus_pinned, &s->sat);
	s->pass = s->conn_pass && s->lat_pass;
	if (m->find_max || m->sweep)
		s->pass = s->pass && m->stop == FINDMAX_STOP_TARGET;
}

void report_add_problem(struct report_meta *m, const char *what)
{
	struct sbuf sb;

	sbuf_resume(&sb, m->problems, sizeof(m->problems));
	sbuf_printf(&sb, "%s%s", sb.used ? "; " : "", what);
}

bool report_latency_pass(const struct loadgen_lat *l, uint64_t total, unsigned slo_ms)
{
	double ms[5];

	report_latency_ms(l, ms);
	return total > 0 && l->sent == total && l->answered == total && l->late == 0 && l->lost == 0 &&
	       l->mismatched == 0 && hist_count(&l->rtt_us) == total && ms[2] <= (double)slo_ms;
}

void report_step_row(const struct loadgen_lat *l, uint64_t conns, uint64_t msg_rate, uint64_t total,
		     uint64_t conn_failures, unsigned slo_ms, struct findmax_row *row)
{
	double ms[5];

	report_latency_ms(l, ms);
	memset(row, 0, sizeof(*row));
	row->conns = conns;
	row->msg_rate = msg_rate;
	row->held = l->held;
	row->conn_failures = conn_failures;
	row->sent = l->sent;
	row->answered = l->answered;
	row->lost = total > row->answered ? total - row->answered : 0;
	row->p50_ms = ms[0];
	row->p99_ms = ms[2];
	row->p999_ms = ms[3];
	row->max_ms = ms[4];
	row->start_ns = l->start_ns;
	row->end_ns = l->end_ns;
	row->cpu_us = l->cpu_us;
	row->slo_met = report_latency_pass(l, total, slo_ms);
	row->pass = row->slo_met && row->held == row->conns && conn_failures == 0;
}

void report_latency_ms(const struct loadgen_lat *l, double out[5])
{
	out[0] = (double)hist_percentile(&l->rtt_us, 50) / 1000.0;
	out[1] = (double)hist_percentile(&l->rtt_us, 90) / 1000.0;
	out[2] = (double)hist_percentile(&l->rtt_us, 99) / 1000.0;
	out[3] = (double)hist_percentile(&l->rtt_us, 99.9) / 1000.0;
	out[4] = (double)hist_max(&l->rtt_us) / 1000.0;
}

/* ---- text ---- */

static const char *signal_name(int sig)
{
	switch (sig) {
	case 2:  return "SIGINT";
	case 15: return "SIGTERM";
	default: return "a signal";
	}
}

void report_diag_proto(struct diag_context *c, const struct report_meta *m, const struct loadgen_stats *t)
{
	unsigned k, n = 0;

	c->proto = proto_name(m->proto);
	c->first_bad = t->proto_note;
	c->verified = t->echoed;
	for (k = 0; k < LOADGEN_CODES; k++) {
		if (!t->codes.code[k])
			continue;
		if (n < DIAG_CODES) {
			c->codes[n] = t->codes.code[k];
			c->code_counts[n++] = t->codes.count[k];
		} else {
			c->codes_other += t->codes.count[k];
		}
	}
	c->codes_other += t->codes.other;
}

static void explain(const struct loadgen_stats *t, enum diag_kind k, const struct report_meta *m, char *buf,
		    size_t len)
{
	struct diag_context c;

	/* the limits read at start, with the numbers of the moment the first failure of k happened */
	diag_context_init(&c, m->kind_limits[k] ? m->kind_limits[k] : m->limits, t->snap_valid[k] ? &t->snap[k] : NULL,
			  m->ports,
			  m->sources.count ? m->sources.count : 1);
	c.target = m->target;
	c.ipv6 = strchr(m->host, ':') != NULL;
	c.count = t->failures[k];
	if (m->proto != PROTO_ECHO)
		report_diag_proto(&c, m, t);
	else if (m->tls)
		c.first_bad = t->proto_note;   /* echo notes nothing but TLS failures */
	if (diag_explain(k, &c, buf, len) < 0 && buf[0] == '\0')
		snprintf(buf, len, "(no explanation available)");
}

/* Connection trouble appended to a latency verdict: failures, an interruption, worker problems. */
static void conn_tail(struct sbuf *o, const struct report_meta *m, const struct loadgen_stats *t,
		      const struct report_summary *s)
{
	if (t->failed)
		sbuf_printf(o, "; %" PRIu64 " connection failure%s, first cause: %s", t->failed, t->failed == 1 ? "" : "s",
		    diag_kind_name(s->first_cause));
	if (m->stop_signal)
		sbuf_printf(o, "; interrupted by %s", signal_name(m->stop_signal));
	if (m->problems[0])
		sbuf_printf(o, "; %s", m->problems);
}

/* Why a --find-max or sweep step did not pass, in a few words. */
static void row_reason(struct sbuf *o, const struct findmax_row *r, unsigned slo_ms)
{
	if (r->conn_failures || r->held < r->conns)
		sbuf_printf(o, "%" PRIu64 " of %" PRIu64 " held, %" PRIu64 " connection failure%s", r->held, r->conns,
		    r->conn_failures, r->conn_failures == 1 ? "" : "s");
	else if (r->answered == 0)  /* a p99 of nothing reads as a pass */
		sbuf_printf(o, "no replies, %" PRIu64 " of %" PRIu64 " messages lost", r->sent, r->sent);
	else
		sbuf_printf(o, "p99 %.3f ms %s SLO %u ms, %" PRIu64 " of %" PRIu64 " messages lost", r->p99_ms,
		    r->p99_ms <= (double)slo_ms ? "<=" : ">", slo_ms, r->sent - (r->answered < r->sent ? r->answered : r->sent),
		    r->sent);
}

/* The verdict of --find-max or a sweep: the steps only go up (connections or rate), so the best step is the
 * last one that passed. */
static void steps_verdict(struct sbuf *o, const struct report_meta *m, const struct loadgen_stats *t,
			  const struct report_summary *s)
{
	const struct findmax_row *last = &m->steps[m->n_steps - 1], *best = NULL;
	unsigned i;

	for (i = 0; i < m->n_steps; i++)
		if (m->steps[i].pass)
			best = &m->steps[i];
	if (s->pass && m->sweep)
		sbuf_printf(o, "VERDICT: concurrency %" PRIu64 " held, p99 <= SLO %u ms at every rate up to %" PRIu64
		    " msg/s (p99 %.3f ms there)", last->held, m->slo_ms, last->msg_rate, last->p99_ms);
	else if (s->pass)
		sbuf_printf(o, "VERDICT: concurrency %" PRIu64 " held, p99 %.3f ms <= SLO %u ms at every step up to -n",
		    last->held, last->p99_ms, m->slo_ms);
	else if (!best)
		sbuf_printf(o, "VERDICT: no %s met the SLO %u ms", m->sweep ? "rate" : "step", m->slo_ms);
	else if (m->sweep)
		sbuf_printf(o, "VERDICT: max %" PRIu64 " msg/s within SLO %u ms over %" PRIu64 " connections (p99 %.3f ms)",
		    best->msg_rate, m->slo_ms, best->held, best->p99_ms);
	else
		sbuf_printf(o, "VERDICT: max concurrency %" PRIu64 " within SLO %u ms (p99 %.3f ms)", best->conns, m->slo_ms,
		    best->p99_ms);
	if (!s->pass) {
		if (!last->pass) {
			if (m->sweep)
				sbuf_printf(o, "; at %" PRIu64 " msg/s ", last->msg_rate);
			else
				sbuf_printf(o, "; at %" PRIu64 " connections ", last->conns);
			row_reason(o, last, m->slo_ms);
			sat_verdict(o, &s->sat);
		}
		conn_tail(o, m, t, s);
	}
	sbuf_printf(o, ": %s\n", s->pass ? "PASS" : "FAIL");
}

static void latency_verdict(struct sbuf *o, const struct report_meta *m, const struct loadgen_stats *t,
			    const struct report_summary *s)
{
	const struct loadgen_lat *l = m->lat;

	if ((m->sweep || m->find_max) && m->n_steps > 0) {
		steps_verdict(o, m, t, s);
		return;
	}
	if (!l) {
		sbuf_printf(o, "VERDICT: latency phase did not run");
		conn_tail(o, m, t, s);
		sbuf_printf(o, ": FAIL\n");
		return;
	}
	sbuf_printf(o, "VERDICT: concurrency %" PRIu64, l->held);
	if (l->held < l->conns)
		sbuf_printf(o, " of %" PRIu64, l->conns);
	if (l->answered == 0)  /* a p99 of nothing reads as a pass */
		sbuf_printf(o, " held, no replies, %" PRIu64 " of %" PRIu64 " messages lost", s->lat_total, s->lat_total);
	else
		sbuf_printf(o, " held, p99 %.3f ms %s SLO %u ms, %" PRIu64 " of %" PRIu64 " messages lost", s->lat_ms[2],
			    s->lat_ms[2] <= (double)m->slo_ms ? "<=" : ">", m->slo_ms,
			    s->lat_total > l->answered ? s->lat_total - l->answered : 0, s->lat_total);
	if (l->mismatched)
		sbuf_printf(o, ", %" PRIu64 " mismatched", l->mismatched);
	if (l->failed_status)
		sbuf_printf(o, ", %" PRIu64 " failed by status", l->failed_status);
	sat_verdict(o, &s->sat);
	conn_tail(o, m, t, s);
	sbuf_printf(o, ": %s\n", s->pass ? "PASS" : "FAIL");
}

static void verdict(struct sbuf *o, const struct report_meta *m, const struct loadgen_stats *t,
		    const struct report_summary *s)
{
	if (m->latency) {
		latency_verdict(o, m, t, s);
		return;
	}
	if (s->pass) {
		sbuf_printf(o, "VERDICT: PASS %" PRIu64 "/%" PRIu64 " connections established and %s\n", t->echoed,
		    m->target, m->proto == PROTO_ECHO ? "echoed" : "verified");
		return;
	}
	sbuf_printf(o, "VERDICT: FAIL %" PRIu64 "/%" PRIu64 " connections established and %s", t->echoed, m->target,
	    m->proto == PROTO_ECHO ? "echoed" : "verified");
	if (t->failed)
		sbuf_printf(o, ", %" PRIu64 " failed; first binding cause: %s", t->failed, diag_kind_name(s->first_cause));
	if (m->stop_signal && t->started < m->target)
		sbuf_printf(o, "; interrupted by %s after %" PRIu64 " of %" PRIu64 " attempts", signal_name(m->stop_signal),
		    t->started, m->target);
	else if (m->stop_signal && t->echoed + t->failed < m->target)
		sbuf_printf(o, "; interrupted by %s before every attempt resolved", signal_name(m->stop_signal));
	if (m->problems[0])
		sbuf_printf(o, "; %s", m->problems);
	sbuf_printf(o, "\n");
}

static void sources_text(const struct report_meta *m, char *buf, size_t len)
{
	char r[ADDR_RANGE_STRLEN];

	if (m->sources.count == 0) {
		snprintf(buf, len, "chosen by the kernel (no --sources)");
		return;
	}
	if (m->shards[0]) {   /* each shard bound its own slice, on its own host */
		snprintf(buf, len, "%u address%s over the shards", m->sources.count, m->sources.count == 1 ? "" : "es");
		return;
	}
	addr_format_range(&m->sources, r, sizeof(r));
	snprintf(buf, len, "%s (%u address%s%s)", r, m->sources.count, m->sources.count == 1 ? "" : "es",
		 m->sources_default ? ", default" : "");
}

static void latency_text(struct sbuf *o, const struct report_meta *m, const struct report_summary *s)
{
	const struct loadgen_lat *l = m->lat;

	sbuf_printf(o, "  latency phase %" PRIu64 " msg/s for %.3f s (%" PRIu64 " messages of %d bytes), reply timeout %u ms, "
	    "SLO p99 <= %u ms\n", m->msg_rate, (double)m->duration_ms / 1000.0, s->lat_total,
	    m->msg_bytes ? (int)m->msg_bytes : MATCH_FRAME_LEN,
	    m->reply_timeout_ms, m->slo_ms);
	if (m->send_window_ms > 1)
		sbuf_printf(o, "    send window %u ms: each process sends at most every %u ms, a message waits up to that "
		    "long to be written (in its RTT)\n", m->send_window_ms, m->send_window_ms);
	if (!l) {
		sbuf_printf(o, "    (did not run)\n");
		return;
	}
	sbuf_printf(o, "    connections %" PRIu64 " held of %" PRIu64 " addressed\n", l->held, l->conns);
	sbuf_printf(o, "    messages    sent %" PRIu64 ", answered %" PRIu64 ", lost %" PRIu64 " (late %" PRIu64 ", never %" PRIu64
	    "), in flight %" PRIu64 ", mismatched %" PRIu64 "\n", l->sent, l->answered, s->lat_lost, l->late, l->lost,
	    s->lat_in_flight, l->mismatched);
	sbuf_printf(o, "    achieved    %.1f msg/s answered within the timeout\n", s->achieved_rate);
	sbuf_printf(o, "    RTT         p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  (%" PRIu64
	    " samples, from the scheduled send time)\n", s->lat_ms[0], s->lat_ms[1], s->lat_ms[2], s->lat_ms[3],
	    s->lat_ms[4], hist_count(&l->rtt_us));
	sbuf_printf(o, "    send lag    max %.3f ms (scheduled time to write; included in the RTT)\n",
	    (double)l->send_lag_max_us / 1000.0);
	sat_text(o, &s->sat);
	if (s->bytes_per_conn > 0)
		sbuf_printf(o, "    memory      %.0f bytes per held connection (client resident memory growth)\n",
		    s->bytes_per_conn);
	if (l->failed_status)
		sbuf_printf(o, "    failed      %" PRIu64 " replies with a failing status (see status)\n", l->failed_status);
	if (l->mismatch_note[0])
		sbuf_printf(o, "    mismatch    %s\n", l->mismatch_note);
}

/* Failing reply statuses by code, "503 x 12, 404 x 1"; "" when none. */
static void codes_text(const struct loadgen_stats *t, char *buf, size_t len)
{
	struct sbuf o;
	unsigned k;

	sbuf_init(&o, buf, len);
	for (k = 0; k < LOADGEN_CODES; k++)
		if (t->codes.code[k])
			sbuf_printf(&o, "%s%u x %" PRIu64, o.used ? ", " : "", (unsigned)t->codes.code[k], (uint64_t)t->codes.count[k]);
	if (t->codes.other)
		sbuf_printf(&o, "%sother codes x %" PRIu64, o.used ? ", " : "", (uint64_t)t->codes.other);
}

static void findmax_text(struct sbuf *o, const struct report_meta *m, const struct report_summary *s)
{
	const struct findmax_row *r;
	unsigned i;

	if (m->sweep)
		sbuf_printf(o, "  rate sweep    %u rates, %" PRIu64 "..%" PRIu64 " msg/s, stopped: %s; highest rate within the SLO: %"
		    PRIu64 " msg/s\n", m->n_rates, m->rates[0], m->rates[m->n_rates - 1], findmax_stop_name(m->stop),
		    s->max_rate);
	else
		sbuf_printf(o, "  find-max      +%" PRIu64 " connections per step, stopped: %s; most connections within the SLO: %"
		    PRIu64 "\n", m->step, findmax_stop_name(m->stop), s->max_conns);
	sbuf_printf(o, "    %11s %10s %9s %9s %10s %10s %8s %9s %9s %9s  %s\n", "connections", "held", "failures", "msg/s", "sent",
	    "answered", "lost", "p50 ms", "p99 ms", "p99.9 ms", "result");
	for (i = 0; i < m->n_steps; i++) {
		r = &m->steps[i];
		sbuf_printf(o, "    %11" PRIu64 " %10" PRIu64 " %9" PRIu64 " %9" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8" PRIu64
		    " %9.3f %9.3f %9.3f  %s\n", r->conns, r->held, r->conn_failures, r->msg_rate, r->sent, r->answered,
		    r->lost, r->p50_ms, r->p99_ms, r->p999_ms, r->pass ? "pass" : "FAIL");
	}
}

static void environment_text(struct sbuf *o, const struct report_meta *m)
{
	const struct limits_values *v = m->limits;
	char mem[80];

	sbuf_printf(o, "  system        %s, %u CPU%s\n", m->kernel[0] ? m->kernel : "unknown kernel", m->cpus,
	    m->cpus == 1 ? "" : "s");

	if (!v)
		return;
	if (v->tcp_mem_present)
		snprintf(mem, sizeof(mem), "%" PRIu64 " %" PRIu64 " %" PRIu64 " pages", v->tcp_mem[0], v->tcp_mem[1],
			 v->tcp_mem[2]);
	else   /* machine-wide: a child network namespace does not show it */
		snprintf(mem, sizeof(mem), "not visible in this network namespace");
	sbuf_printf(o, "  limits        nofile %" PRIu64 "/%" PRIu64 ", file-max %" PRIu64 ", local ports %u-%u, somaxconn %"
	    PRIu64 ", tcp_mem %s, conntrack %s\n", v->nofile_soft, v->nofile_hard, v->file_max, v->port_lo, v->port_hi,
	    v->somaxconn, mem, v->conntrack_present ? "loaded" : "not loaded");
}

int report_format_text(const struct report_meta *m, const struct loadgen_stats *t, char *buf, size_t len)
{
	struct sbuf o;
	struct report_summary s;
	enum diag_kind kinds[DIAG_KIND_COUNT];
	unsigned n, i;
	char src[160];
	char *why;
	char expl[DIAG_EXPLAIN_LEN];

	sbuf_init(&o, buf, len);
	report_summarize(m, t, &s);
	sources_text(m, src, sizeof(src));
	sbuf_printf(&o, "c1m-client report\n");
	sbuf_printf(&o, "  target        %" PRIu64 " connections to %s%s%s%s ports %u-%u (%u port%s)\n", m->target, m->host,
	    m->host_name[0] ? " (" : "", m->host_name, m->host_name[0] ? ")" : "", m->port_base,
	    m->port_base + m->ports - 1, m->ports, m->ports == 1 ? "" : "s");
	if (m->shards[0])
		sbuf_printf(&o, "  shards        %s\n", m->shards);
	else if (m->shard_m > 1)
		sbuf_printf(&o, "  shard         %u of %u (%s), of %" PRIu64 " connections in all\n", m->shard_k, m->shard_m,
		    m->hostname[0] ? m->hostname : "this host", m->fleet_target);
	if (m->proto != PROTO_ECHO)
		sbuf_printf(&o, "  protocol      %s\n", proto_name(m->proto));
	if (m->tls && m->tls_insecure)
		sbuf_printf(&o, "  tls           certificate NOT verified (--insecure): any server could have answered; "
		    "SNI %s\n", m->tls_sni[0] ? m->tls_sni : "none");
	else if (m->tls)
		sbuf_printf(&o, "  tls           certificate verified against %s, for %s; SNI %s\n",
		    m->tls_ca[0] ? m->tls_ca : "the system's CAs", m->tls_name, m->tls_sni[0] ? m->tls_sni : "none");
	sbuf_printf(&o, "  sources       %s\n", src);
	sbuf_printf(&o, "  workers       %u process%s, in-flight cap %u, rate %s", m->workers, m->workers == 1 ? "" : "es",
	    m->concurrency, m->rate ? "" : "unlimited");
	if (m->rate)
		sbuf_printf(&o, "%" PRIu64 " conn/s", m->rate);
	sbuf_printf(&o, "\n");
	sbuf_printf(&o, "  established   %" PRIu64 " (TCP%s handshakes), %s %" PRIu64 "\n", t->established,
	    m->tls ? " and TLS" : "",
	    m->proto == PROTO_ECHO ? "echoed" : "verified (a good reply to the first request)", t->echoed);
	sbuf_printf(&o, "  failed        %" PRIu64 "\n", t->failed);
	n = kinds_by_time(t, kinds);
	for (i = 0; i < n; i++)
		sbuf_printf(&o, "    %-16s %" PRIu64 "  (first after %.3f s)\n", diag_kind_name(kinds[i]), t->failures[kinds[i]],
		    t->first_fail_ns[kinds[i]] > t->start_ns && t->start_ns ?
			    ns_to_s(t->first_fail_ns[kinds[i]] - t->start_ns) : 0.0);
	sbuf_printf(&o, "  elapsed       %.3f s to open (mean %.0f conn/s), %.3f s in total\n", s.elapsed_s, s.connect_rate,
	    s.total_s);
	sbuf_printf(&o, "  connect time  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms  (%" PRIu64 " samples)\n",
	    s.connect_ms[0], s.connect_ms[1], s.connect_ms[2], s.connect_ms[3], hist_count(&t->connect_us));
	sbuf_printf(&o, "  echo RTT      p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms  (%" PRIu64 " samples)\n",
	    s.rtt_ms[0], s.rtt_ms[1], s.rtt_ms[2], s.rtt_ms[3], hist_count(&t->rtt_us));
	codes_text(t, expl, sizeof(expl));
	if (expl[0])
		sbuf_printf(&o, "  status        failing replies by code: %s\n", expl);
	if (t->proto_note[0])
		sbuf_printf(&o, "  first bad     %s\n", t->proto_note);
	if (m->latency)
		latency_text(&o, m, &s);
	if (m->find_max || m->sweep)
		findmax_text(&o, m, &s);
	if (m->kernel[0] || m->cpus || m->limits)
		environment_text(&o, m);
	if (m->start_late_ns)
		sbuf_printf(&o, "  barrier       a phase started up to %.3f ms after the fleet's start time\n",
		    (double)m->start_late_ns / 1e6);
	if (m->stop_signal)
		sbuf_printf(&o, "  stopped by    %s\n", signal_name(m->stop_signal));
	if (m->problems[0])
		sbuf_printf(&o, "  problems      %s\n", m->problems);
	for (i = 0; i < n; i++) {
		explain(t, kinds[i], m, expl, sizeof(expl));
		why = expl;
		sbuf_printf(&o, "\n%s x %" PRIu64 ": %s\n", diag_kind_name(kinds[i]), t->failures[kinds[i]], why);
		if (kinds[i] == DIAG_OTHER && t->other_errno)
			sbuf_printf(&o, "  (the first 'other' failure was errno %d: %s)\n", t->other_errno,
			    strerror(t->other_errno));
	}
	if (n)
		sbuf_printf(&o, "\n");
	verdict(&o, m, t, &s);
	return sbuf_done(&o);
}

/* ---- JSON ---- */

static void json_pcts(struct json_w *w, const char *key, const double v[4])
{
	json_w_object_begin(w, key);
	json_w_double(w, "p50", v[0], 3);
	json_w_double(w, "p90", v[1], 3);
	json_w_double(w, "p99", v[2], 3);
	json_w_double(w, "max", v[3], 3);
	json_w_object_end(w);
}

static void json_latency(struct json_w *w, const struct report_meta *m, const struct report_summary *s)
{
	const struct loadgen_lat *l = m->lat;

	json_w_object_begin(w, "latency");
	json_w_u64(w, "msg_rate", m->msg_rate);
	json_w_double(w, "duration_s", (double)m->duration_ms / 1000.0, 3);
	json_w_u64(w, "msg_bytes", m->msg_bytes ? m->msg_bytes : MATCH_FRAME_LEN);
	json_w_u64(w, "scheduled", s->lat_total);
	json_w_u64(w, "timeout_ms", m->reply_timeout_ms);
	json_w_u64(w, "slo_ms", m->slo_ms);
	json_w_u64(w, "send_window_ms", m->send_window_ms ? m->send_window_ms : 1);
	json_w_bool(w, "ran", l != NULL);
	if (l) {
		json_w_u64(w, "connections", l->conns);
		json_w_u64(w, "held", l->held);
		json_w_u64(w, "sent", l->sent);
		json_w_u64(w, "written", l->written);
		json_w_u64(w, "answered", l->answered);
		json_w_u64(w, "lost", s->lat_lost);
		json_w_u64(w, "late", l->late);
		json_w_u64(w, "unanswered", l->lost);
		json_w_u64(w, "in_flight", s->lat_in_flight);
		json_w_u64(w, "mismatched", l->mismatched);
		json_w_u64(w, "failed_status", l->failed_status);
		json_w_double(w, "achieved_rate", s->achieved_rate, 1);
		json_w_object_begin(w, "rtt_ms");
		json_w_double(w, "p50", s->lat_ms[0], 3);
		json_w_double(w, "p90", s->lat_ms[1], 3);
		json_w_double(w, "p99", s->lat_ms[2], 3);
		json_w_double(w, "p99_9", s->lat_ms[3], 3);
		json_w_double(w, "max", s->lat_ms[4], 3);
		json_w_u64(w, "count", hist_count(&l->rtt_us));
		json_w_object_end(w);
		json_w_double(w, "send_lag_max_ms", (double)l->send_lag_max_us / 1000.0, 3);
		json_w_double(w, "client_cpus", s->sat.client_cpus, 3);
		json_w_double(w, "client_cpu_busiest_pct", s->sat.busiest_pct, 1);
		json_w_double(w, "machine_cpu_pct", s->sat.machine_pct, 1);
		json_w_double(w, "wakeups_per_msg", s->sat.wakeups_per_msg, 3);
		json_w_string(w, "ran_out", sat_name(s->sat.side));
		json_w_double(w, "bytes_per_conn", s->bytes_per_conn, 0);
		json_w_string(w, "mismatch_note", l->mismatch_note);
	}
	json_w_bool(w, "pass", s->lat_pass);
	json_w_object_end(w);
}

static void json_findmax(struct json_w *w, const struct report_meta *m, const struct report_summary *s)
{
	const struct findmax_row *r;
	unsigned i;

	if (m->sweep) {
		json_w_object_begin(w, "rate_sweep");
		json_w_array_begin(w, "rates");
		for (i = 0; i < m->n_rates; i++)
			json_w_u64(w, NULL, m->rates[i]);
		json_w_array_end(w);
		json_w_u64(w, "max_rate", s->max_rate);
	} else {
		json_w_object_begin(w, "find_max");
		json_w_u64(w, "step", m->step);
		json_w_u64(w, "max_connections", s->max_conns);
	}
	json_w_string(w, "stop_reason", findmax_stop_name(m->stop));
	json_w_array_begin(w, "steps");
	for (i = 0; i < m->n_steps; i++) {
		r = &m->steps[i];
		json_w_object_begin(w, NULL);
		json_w_u64(w, "connections", r->conns);
		json_w_u64(w, "held", r->held);
		json_w_u64(w, "conn_failures", r->conn_failures);
		json_w_u64(w, "msg_rate", r->msg_rate);
		json_w_u64(w, "sent", r->sent);
		json_w_u64(w, "answered", r->answered);
		json_w_u64(w, "lost", r->lost);
		json_w_double(w, "p50", r->p50_ms, 3);
		json_w_double(w, "p99", r->p99_ms, 3);
		json_w_double(w, "p99_9", r->p999_ms, 3);
		json_w_double(w, "max", r->max_ms, 3);
		/* wall clock, as the state's times: a bench can line the phase up with its own samples */
		json_w_u64(w, "start_ns", r->start_ns ? (uint64_t)((int64_t)r->start_ns + m->wall_offset_ns) : 0);
		json_w_u64(w, "end_ns", r->end_ns ? (uint64_t)((int64_t)r->end_ns + m->wall_offset_ns) : 0);
		json_w_u64(w, "client_cpu_us", r->cpu_us);
		json_w_bool(w, "pass", r->pass);
		json_w_object_end(w);
	}
	json_w_array_end(w);
	json_w_object_end(w);
}

static void json_triple(struct json_w *w, const char *key, const uint64_t v[3])
{
	unsigned i;

	json_w_array_begin(w, key);
	for (i = 0; i < 3; i++)
		json_w_u64(w, NULL, v[i]);
	json_w_array_end(w);
}

static void json_environment(struct json_w *w, const struct report_meta *m)
{
	const struct limits_values *v = m->limits;

	json_w_object_begin(w, "environment");
	json_w_string(w, "kernel", m->kernel);
	json_w_u64(w, "cpus", m->cpus);
	json_w_u64(w, "client_workers", m->workers);
	if (v) {
		json_w_object_begin(w, "limits");
		json_w_u64(w, "nofile_soft", v->nofile_soft);
		json_w_u64(w, "nofile_hard", v->nofile_hard);
		json_w_u64(w, "file_max", v->file_max);
		json_w_u64(w, "nr_open", v->nr_open);
		json_w_u64(w, "file_nr_used", v->file_nr_used);
		json_w_u64(w, "port_lo", v->port_lo);
		json_w_u64(w, "port_hi", v->port_hi);
		json_w_bool(w, "conntrack_present", v->conntrack_present);
		json_w_u64(w, "conntrack_max", v->conntrack_max);
		json_w_u64(w, "conntrack_count", v->conntrack_count);
		json_w_u64(w, "somaxconn", v->somaxconn);
		json_w_u64(w, "tcp_max_syn_backlog", v->syn_backlog);
		json_triple(w, "tcp_mem_pages", v->tcp_mem);
		json_triple(w, "tcp_rmem", v->tcp_rmem);
		json_triple(w, "tcp_wmem", v->tcp_wmem);
		json_w_u64(w, "mem_available", v->mem_available);
		json_w_u64(w, "page_size", v->page_size);
		json_w_object_end(w);
	}
	json_w_object_end(w);
}

/* "status_codes": {"503": 12, ...} (failing reply statuses), "proto_note": the first bad handshake reply. */
static void json_codes(struct json_w *w, const struct loadgen_stats *t)
{
	char key[16];
	unsigned k;

	json_w_object_begin(w, "status_codes");
	for (k = 0; k < LOADGEN_CODES; k++)
		if (t->codes.code[k]) {
			snprintf(key, sizeof(key), "%u", (unsigned)t->codes.code[k]);
			json_w_u64(w, key, t->codes.count[k]);
		}
	if (t->codes.other)
		json_w_u64(w, "other", t->codes.other);
	json_w_object_end(w);
	json_w_string(w, "proto_note", t->proto_note);
}

/* Who wrote the report in a fleet (1/1 alone; k 0 for a merge of shards). */
static void json_shard(struct json_w *w, const struct report_meta *m)
{
	json_w_object_begin(w, "shard");
	json_w_u64(w, "k", m->shard_k);
	json_w_u64(w, "m", m->shard_m);
	json_w_string(w, "hostname", m->hostname);
	json_w_u64(w, "fleet_target", m->fleet_target);
	json_w_double(w, "start_late_ms", (double)m->start_late_ns / 1e6, 3);
	if (m->shards[0])
		json_w_string(w, "merged", m->shards);
	json_w_object_end(w);
}

int report_format_json(const struct report_meta *m, const struct loadgen_stats *t, char *buf, size_t len)
{
	struct json_w w;
	struct report_summary s;
	enum diag_kind kinds[DIAG_KIND_COUNT];
	unsigned n, i, k;
	char a[ADDR_STRLEN], vline[512];
	char expl[DIAG_EXPLAIN_LEN];
	struct sbuf o;
	int r;

	sbuf_init(&o, vline, sizeof(vline));
	report_summarize(m, t, &s);
	json_w_init(&w, buf, len);
	json_w_object_begin(&w, NULL);
	json_w_string(&w, "version", version_project());
	json_w_string(&w, "host", m->host);
	json_w_string(&w, "host_name", m->host_name);
	json_w_string(&w, "proto", proto_name(m->proto));
	if (m->tls) {
		json_w_object_begin(&w, "tls");
		json_w_bool(&w, "verified", !m->tls_insecure);
		json_w_string_or_null(&w, "ca", m->tls_ca[0] ? m->tls_ca : NULL);
		json_w_string_or_null(&w, "sni", m->tls_sni[0] ? m->tls_sni : NULL);
		json_w_string_or_null(&w, "name", m->tls_insecure ? NULL : m->tls_name);
		json_w_object_end(&w);
	} else {
		json_w_null(&w, "tls");
	}
	json_w_u64(&w, "port_base", m->port_base);
	json_w_u64(&w, "ports", m->ports);
	json_w_u64(&w, "target", m->target);
	json_w_u64(&w, "started", t->started);
	json_w_u64(&w, "established", t->established);
	json_w_u64(&w, "echoed", t->echoed);
	json_w_u64(&w, "failed", t->failed);
	json_w_u64(&w, "failed_immediate", t->failed_immediate);
	json_w_object_begin(&w, "failures");
	for (k = 0; k < DIAG_KIND_COUNT; k++)
		if (t->failures[k])
			json_w_u64(&w, diag_kind_name((enum diag_kind)k), t->failures[k]);
	json_w_object_end(&w);
	json_codes(&w, t);
	json_w_double(&w, "elapsed_s", s.elapsed_s, 3);
	json_w_double(&w, "total_s", s.total_s, 3);
	json_w_double(&w, "connect_rate", s.connect_rate, 1);
	json_pcts(&w, "connect_ms", s.connect_ms);
	json_pcts(&w, "rtt_ms", s.rtt_ms);
	json_w_u64(&w, "workers", m->workers);
	json_w_u64(&w, "concurrency", m->concurrency);
	json_w_u64(&w, "rate", m->rate);
	json_w_double(&w, "hold_s", (double)m->hold_ms / 1000.0, 3);
	json_w_object_begin(&w, "sources");
	json_w_u64(&w, "count", m->sources.count);
	if (m->sources.count) {
		struct addr_ip last = addr_nth(&m->sources, m->sources.count - 1);

		json_w_string(&w, "first", addr_format(&m->sources.first, a, sizeof(a)));
		json_w_string(&w, "last", addr_format(&last, a, sizeof(a)));
	}
	json_w_bool(&w, "default", m->sources_default);
	json_w_bool(&w, "kernel_chosen", m->sources.count == 0);
	json_w_object_end(&w);
	json_w_string(&w, "stop_signal", m->stop_signal ? signal_name(m->stop_signal) : "");
	json_w_string(&w, "problems", m->problems);
	json_w_string(&w, "first_cause", s.first_cause < DIAG_KIND_COUNT ? diag_kind_name(s.first_cause) : "");
	n = kinds_by_time(t, kinds);
	json_w_object_begin(&w, "explanations");
	for (i = 0; i < n; i++) {
		explain(t, kinds[i], m, expl, sizeof(expl));
		json_w_string(&w, diag_kind_name(kinds[i]), expl);
	}
	json_w_object_end(&w);
	if (m->latency)
		json_latency(&w, m, &s);
	if (m->find_max || m->sweep)
		json_findmax(&w, m, &s);
	json_environment(&w, m);
	json_shard(&w, m);
	state_write(&w, m, t);
	json_w_bool(&w, "pass", s.pass);
	verdict(&o, m, t, &s);
	if (o.used > 0 && vline[o.used - 1] == '\n')
		vline[o.used - 1] = '\0';
	json_w_string(&w, "verdict", vline);
	json_w_object_end(&w);
	r = json_w_finish(&w);
	if (r < 0 || (size_t)r + 2 > len)
		return -1;
	buf[r] = '\n';
	buf[r + 1] = '\0';
	return r + 1;
}

/* ---- progress ---- */

int report_format_progress(const struct loadgen_stats *now, const struct loadgen_stats *prev, double dt_s,
			   uint64_t now_ns, char *buf, size_t len)
{
	struct sbuf o;
	double rate = 0;
	unsigned k;
	bool any = false;

	sbuf_init(&o, buf, len);
	if (prev && dt_s > 0 && now->established >= prev->established)
		rate = (double)(now->established - prev->established) / dt_s;
	sbuf_printf(&o, "[%7.1fs] open %" PRIu64 "/%" PRIu64 "  connecting %" PRIu64 "  echoing %" PRIu64 "  failed %" PRIu64,
	    now->start_ns && now_ns > now->start_ns ? ns_to_s(now_ns - now->start_ns) : 0.0, now->open, now->target,
	    now->connecting, now->echoing, now->failed);
	for (k = 0; k < DIAG_KIND_COUNT; k++) {
		if (!now->failures[k])
			continue;
		sbuf_printf(&o, "%s%s %" PRIu64, any ? ", " : " (", diag_kind_name((enum diag_kind)k), now->failures[k]);
		any = true;
	}
	if (any)
		sbuf_printf(&o, ")");
	sbuf_printf(&o, "  %.0f conn/s", rate);
	if (now->lat.state >= LOADGEN_STEP_RUN || now->lat.sent > 0) {
		const struct loadgen_lat *l = &now->lat;
		double mrate = 0;

		if (prev && dt_s > 0 && prev->lat.step == l->step && l->answered >= prev->lat.answered)
			mrate = (double)(l->answered - prev->lat.answered) / dt_s;
		sbuf_printf(&o, "  msgs sent %" PRIu64 " ok %" PRIu64 " lost %" PRIu64 "  %.0f msg/s  p99 %.3f ms", l->sent,
		    l->answered, l->late + l->lost, mrate, (double)hist_percentile(&l->rtt_us, 99) / 1000.0);
	}
	return sbuf_done(&o);
}
