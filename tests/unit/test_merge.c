/* The shards' reports merged (client/state.h, client/merge.h): three shards' fabricated results go through
 * the real JSON writer and reader and merge_reports. The merged histograms equal, bucket by bucket, the
 * histograms of all samples recorded in one place, so every percentile is exact; counts add up (sent =
 * answered + late + unanswered over the fleet); each failure kind keeps its earliest first failure and
 * the limits of the machine that saw it; a missing shard fails the verdict; reports of another run, a
 * shard given twice and a damaged state are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/util/counter.h"
#include "client/merge.h"
#include "client/report.h"
#include "client/sched.h"
#include "client/state.h"

#define SHARDS 3

struct shard {
	struct report_meta meta;
	struct limits_values limits;
	struct loadgen_stats stats;
	struct loadgen_lat lat;
	struct state_report read;        /* what state_parse gives back */
	char json[REPORT_TEXT_LEN];
};

struct fixture {
	struct shard sh[SHARDS];
	struct hist all_connect, all_rtt, all_lat;  /* every sample, recorded once */
	struct merge_result out;
	char text[REPORT_TEXT_LEN];
};

static uint64_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* Shard k (0-based) of SHARDS for -n 3001 (1001, 1000, 1000), a phase of 300 msg/s for 1 s. */
static void shard_make(struct fixture *f, unsigned k, uint64_t *seed)
{
	struct shard *s = &f->sh[k];
	uint64_t n = 3001 / SHARDS + (k < 3001 % SHARDS), i, v, wall = UINT64_C(1700000000) * 1000000000;
	struct loadgen_stats *t = &s->stats;
	struct loadgen_lat *l = &s->lat;

	memset(&s->meta, 0, sizeof(s->meta));
	memset(&s->limits, 0, sizeof(s->limits));
	s->limits.nofile_soft = s->limits.nofile_hard = 20000 + k;   /* tells the machines apart */
	s->limits.port_lo = 32768;
	s->limits.port_hi = 60999;
	s->meta.target = n;
	s->meta.fleet_target = 3001;
	s->meta.shard_k = k + 1;
	s->meta.shard_m = SHARDS;
	snprintf(s->meta.host, sizeof(s->meta.host), "198.18.0.1");
	snprintf(s->meta.hostname, sizeof(s->meta.hostname), "client-%u", k + 1);
	s->meta.port_base = 8081;
	s->meta.ports = 100;
	s->meta.workers = 1;
	s->meta.concurrency = 341;
	s->meta.latency = true;
	s->meta.msg_rate = 100;
	s->meta.duration_ms = 1000;
	s->meta.reply_timeout_ms = 1000;
	s->meta.slo_ms = 200;
	s->meta.limits = &s->limits;
	s->meta.wall_offset_ns = (int64_t)wall;   /* monotonic times near 0 become 2023 wall-clock times */
	loadgen_stats_init(t, n);
	counter_set(&t->started, n);
	counter_set(&t->established, n - (k == 1 ? 2 : 0));
	counter_set(&t->echoed, n - (k == 1 ? 2 : 0));
	counter_set(&t->open, n - (k == 1 ? 2 : 0));
	counter_set32(&t->phase, LOADGEN_DONE);
	counter_set(&t->start_ns, 1000 + k);
	counter_set(&t->ramp_end_ns, 2000000000 + k * 1000);
	counter_set(&t->end_ns, 4000000000 + k * 1000);
	if (k == 1) {                      /* two EMFILE failures on the second machine, later ones on the third */
		counter_set(&t->failed, 2);
		counter_set(&t->failures[DIAG_EMFILE], 2);
		counter_set(&t->first_fail_ns[DIAG_EMFILE], 5000);
		t->snap[DIAG_EMFILE].valid = true;
		t->snap[DIAG_EMFILE].nofile_present = true;
		t->snap[DIAG_EMFILE].nofile_soft = 20001;
		t->snap[DIAG_EMFILE].nofile_hard = 20001;
		counter_set32(&t->snap_valid[DIAG_EMFILE], 1);
	}
	for (i = 0; i < n; i++) {
		v = rnd(seed) % 50000;
		hist_record(&t->connect_us, v);
		hist_record(&f->all_connect, v);
		v = rnd(seed) % 3000000;   /* some above 1 s, into the wide buckets */
		hist_record(&t->rtt_us, v);
		hist_record(&f->all_rtt, v);
	}
	loadgen_lat_init(l);
	counter_set32(&l->step, 1);
	counter_set32(&l->state, LOADGEN_STEP_DONE);
	counter_set32(&l->workers, 1);
	counter_set(&l->conns, n);
	counter_set(&l->held, n - (k == 1 ? 2 : 0));
	counter_set(&l->sent, 100);
	counter_set(&l->written, 100);
	counter_set(&l->answered, 97);
	counter_set(&l->late, 1);
	counter_set(&l->lost, 2);
	counter_set(&l->start_ns, 3000000000);
	counter_set(&l->end_ns, 3500000000 + k);
	for (i = 0; i < 97; i++) {
		v = rnd(seed) % 100000;
		hist_record(&l->rtt_us, v);
		hist_record(&f->all_lat, v);
	}
	s->meta.lat = l;
	assert_true(report_format_json(&s->meta, t, s->json, sizeof(s->json)) > 0);
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint64_t seed = 42;
	char err[256];
	unsigned k;

	assert_non_null(f);
	hist_init(&f->all_connect);
	hist_init(&f->all_rtt);
	hist_init(&f->all_lat);
	for (k = 0; k < SHARDS; k++) {
		shard_make(f, k, &seed);
		if (state_parse(f->sh[k].json, strlen(f->sh[k].json), &f->sh[k].read, err, sizeof(err)) < 0)
			fail_msg("state_parse of shard %u: %s", k + 1, err);
	}
	return f;
}

static int merge_n(struct fixture *f, const unsigned *order, unsigned n, char *err, size_t errlen)
{
	const struct state_report *in[SHARDS + 1];
	const char *paths[SHARDS + 1] = { "a.json", "b.json", "c.json", "d.json" };
	unsigned i;

	for (i = 0; i < n; i++)
		in[i] = &f->sh[order[i]].read;
	return merge_reports(in, paths, n, &f->out, err, errlen);
}

static void assert_hist_equal(const struct hist *a, const struct hist *b)
{
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		if (a->counts[i] != b->counts[i])
			fail_msg("bucket %u: %llu != %llu", i, (unsigned long long)a->counts[i],
				 (unsigned long long)b->counts[i]);
	assert_int_equal(a->total, b->total);
	assert_int_equal(a->sum_us, b->sum_us);
	assert_int_equal(a->min_us, b->min_us);
	assert_int_equal(a->max_us, b->max_us);
	assert_int_equal(hist_percentile(a, 50), hist_percentile(b, 50));
	assert_int_equal(hist_percentile(a, 99), hist_percentile(b, 99));
	assert_int_equal(hist_percentile(a, 99.9), hist_percentile(b, 99.9));
}

static void test_round_trip(void **state)
{
	struct fixture *f = fixture_new();
	struct state_report *r = &f->sh[1].read;
	const struct loadgen_stats *t = &f->sh[1].stats;

	(void)state;
	assert_int_equal(r->meta.target, 1000);
	assert_int_equal(r->meta.shard_k, 2);
	assert_string_equal(r->meta.hostname, "client-2");
	assert_int_equal(r->limits.nofile_hard, 20001);
	assert_true(r->meta.limits == &r->limits);
	assert_int_equal(r->stats.failures[DIAG_EMFILE], 2);
	assert_int_equal(r->stats.snap[DIAG_EMFILE].nofile_soft, 20001);
	/* times come back on the wall clock */
	assert_true(r->stats.start_ns == t->start_ns + (uint64_t)f->sh[1].meta.wall_offset_ns);
	assert_hist_equal(&r->stats.rtt_us, &t->rtt_us);
	assert_hist_equal(&r->lat.rtt_us, &f->sh[1].lat.rtt_us);
	assert_true(r->meta.lat == &r->lat);
	free(f);
}

/* Against someone else's server: the protocol, TLS, the failing statuses by code, the first bad reply and the
 * client's CPU during the phase come back from the state, merge over the shards (codes summed, the first
 * note kept, CPU summed, the busiest process the max), and shards of another protocol are refused. */
static void test_proto_round_trip(void **state)
{
	struct fixture *f = fixture_new();
	const unsigned order[SHARDS] = { 0, 1, 2 };
	struct shard *s;
	char err[256];
	unsigned k;

	(void)state;
	for (k = 0; k < SHARDS; k++) {
		s = &f->sh[k];
		s->meta.proto = PROTO_REDIS;
		s->meta.msg_bytes = 20;
		s->meta.tls = true;
		snprintf(s->meta.tls_sni, sizeof(s->meta.tls_sni), "redis.example");
		loadgen_codes_add(&s->stats.codes, 1, 10 + k);
		if (k == 2)
			loadgen_codes_add(&s->stats.codes, 503, 4);
		if (k == 1) {
			snprintf(s->stats.proto_note, sizeof(s->stats.proto_note), "ERR max number of clients reached");
			counter_set32(&s->stats.note_set, 1);
		}
		counter_set(&s->lat.cpu_us, 100000 * (k + 1));
		counter_set(&s->lat.cpu_permille_max, 300 + 100 * k);
		counter_set(&s->lat.machine_permille, 500);
		assert_true(report_format_json(&s->meta, &s->stats, s->json, sizeof(s->json)) > 0);
		if (state_parse(s->json, strlen(s->json), &s->read, err, sizeof(err)) < 0)
			fail_msg("state_parse of shard %u: %s", k + 1, err);
	}
	s = &f->sh[1];
	assert_int_equal(s->read.meta.proto, PROTO_REDIS);
	assert_int_equal(s->read.meta.msg_bytes, 20);
	assert_true(s->read.meta.tls);
	assert_false(s->read.meta.tls_insecure);
	assert_string_equal(s->read.meta.tls_sni, "redis.example");
	assert_string_equal(s->read.stats.proto_note, "ERR max number of clients reached");
	assert_int_equal(s->read.lat.cpu_permille_max, 400);
	assert_int_equal(merge_n(f, order, SHARDS, err, sizeof(err)), 0);
	assert_int_equal(f->out.meta.proto, PROTO_REDIS);
	assert_true(f->out.meta.tls);
	assert_string_equal(f->out.meta.tls_sni, "redis.example");
	assert_int_equal(f->out.stats.codes.code[0], 1);
	assert_int_equal(f->out.stats.codes.count[0], 10 + 11 + 12);
	assert_int_equal(f->out.stats.codes.code[1], 503);
	assert_int_equal(f->out.stats.codes.count[1], 4);
	assert_string_equal(f->out.stats.proto_note, "ERR max number of clients reached");
	assert_int_equal(f->out.lat.cpu_us, 600000);
	assert_int_equal(f->out.lat.cpu_permille_max, 500);
	/* a shard that spoke another protocol ran another test */
	s = &f->sh[2];
	s->meta.proto = PROTO_HTTP;
	assert_true(report_format_json(&s->meta, &s->stats, s->json, sizeof(s->json)) > 0);
	assert_int_equal(state_parse(s->json, strlen(s->json), &s->read, err, sizeof(err)), 0);
	assert_int_equal(merge_n(f, order, SHARDS, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--proto differs"));
	/* so did one with another send window (it is in every RTT), and the window survives the state */
	s->meta.proto = f->sh[0].meta.proto;
	s->meta.send_window_ms = 10;
	assert_true(report_format_json(&s->meta, &s->stats, s->json, sizeof(s->json)) > 0);
	assert_int_equal(state_parse(s->json, strlen(s->json), &s->read, err, sizeof(err)), 0);
	assert_int_equal(s->read.meta.send_window_ms, 10);
	assert_int_equal(merge_n(f, order, SHARDS, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--send-window differs"));
	free(f);
}

static void test_merge_is_exact(void **state)
{
	struct fixture *f = fixture_new();
	const unsigned order[SHARDS] = { 2, 0, 1 };   /* any order */
	struct report_summary s;
	char err[256];

	(void)state;
	assert_int_equal(merge_n(f, order, SHARDS, err, sizeof(err)), 0);
	assert_hist_equal(&f->out.stats.connect_us, &f->all_connect);
	assert_hist_equal(&f->out.stats.rtt_us, &f->all_rtt);
	assert_hist_equal(&f->out.lat.rtt_us, &f->all_lat);
	assert_int_equal(f->out.meta.target, 3001);
	assert_int_equal(f->out.stats.established, 2999);
	assert_int_equal(f->out.stats.failed, 2);
	assert_int_equal(f->out.lat.sent, 300);
	assert_int_equal(f->out.lat.sent, f->out.lat.answered + f->out.lat.late + f->out.lat.lost);
	assert_int_equal(f->out.lat.conns, 3001);
	assert_int_equal(f->out.meta.msg_rate, 300);
	assert_int_equal(f->out.meta.workers, 3);
	/* the earliest start, the latest end, on the wall clock */
	assert_true(f->out.stats.start_ns == 1000 + (uint64_t)f->sh[0].meta.wall_offset_ns);
	assert_true(f->out.stats.end_ns == 4000002000 + (uint64_t)f->sh[0].meta.wall_offset_ns);
	/* EMFILE is explained with the second machine's limits and numbers */
	assert_true(f->out.meta.kind_limits[DIAG_EMFILE] == &f->sh[1].read.limits);
	assert_int_equal(f->out.stats.snap[DIAG_EMFILE].nofile_soft, 20001);
	assert_non_null(strstr(f->out.meta.shards, "3 of 3: client-3 (3/3), client-1 (1/3), client-2 (2/3)"));
	report_summarize(&f->out.meta, &f->out.stats, &s);
	assert_false(s.pass);   /* two connections failed, messages were lost */
	assert_true(report_format_text(&f->out.meta, &f->out.stats, f->text, sizeof(f->text)) > 0);
	assert_non_null(strstr(f->text, "EMFILE x 2"));
	assert_non_null(strstr(f->text, "hard limit 20001"));
	free(f);
}

static void test_missing_shard(void **state)
{
	struct fixture *f = fixture_new();
	const unsigned order[2] = { 0, 2 };
	struct report_summary s;
	char err[256];

	(void)state;
	assert_int_equal(merge_n(f, order, 2, err, sizeof(err)), 0);
	assert_int_equal(f->out.meta.target, 3001);
	assert_int_equal(f->out.stats.echoed, 2001);
	assert_non_null(strstr(f->out.meta.problems, "shard 2/3: no report"));
	report_summarize(&f->out.meta, &f->out.stats, &s);
	assert_false(s.conn_pass);
	free(f);
}

static void test_refusals(void **state)
{
	struct fixture *f = fixture_new();
	const unsigned twice[2] = { 0, 0 }, both[2] = { 0, 1 };
	struct state_report *r = malloc(sizeof(*r));
	char err[256], *p;

	(void)state;
	assert_non_null(r);
	assert_int_equal(merge_n(f, twice, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "given twice"));
	f->sh[1].read.meta.slo_ms = 100;
	assert_int_equal(merge_n(f, both, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "b.json"));
	assert_non_null(strstr(err, "--slo"));
	/* a bucket count changed by hand no longer adds up to the total */
	p = strstr(f->sh[0].json, "\"buckets\":[[");
	assert_non_null(p);
	p = strchr(p + 12, ',');
	assert_non_null(p);
	p[1] = p[1] == '9' ? '8' : '9';
	assert_int_equal(state_parse(f->sh[0].json, strlen(f->sh[0].json), r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "add up"));
	assert_int_equal(state_parse("{\"target\":1}", 12, r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no \"state\""));
	assert_int_equal(state_parse("[]", 2, r, err, sizeof(err)), -1);
	free(r);
	free(f);
}

/* IPv6 runs: the server address and the sources' first address survive the JSON as text, shards to one
 * IPv6 server merge, and a shard that ran against another address (of either family) is refused. */
static void test_ipv6(void **state)
{
	struct fixture *f = fixture_new();
	const unsigned both[2] = { 0, 1 };
	char err[256], buf[ADDR_STRLEN];
	unsigned k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct shard *s = &f->sh[k];

		snprintf(s->meta.host, sizeof(s->meta.host), "2001:2::1");
		snprintf(s->meta.host_name, sizeof(s->meta.host_name), "echo.example");
		assert_int_equal(addr_parse_range(k == 0 ? "2001:2::11-2001:2::14" : "2001:2::15-2001:2::18",
						  &s->meta.sources, err, sizeof(err)), 0);
		assert_true(report_format_json(&s->meta, &s->stats, s->json, sizeof(s->json)) > 0);
		assert_non_null(strstr(s->json, k == 0 ? "\"first\":\"2001:2::11\",\"last\":\"2001:2::14\"" :
					       "\"first\":\"2001:2::15\",\"last\":\"2001:2::18\""));
		if (state_parse(s->json, strlen(s->json), &s->read, err, sizeof(err)) < 0)
			fail_msg("state_parse of IPv6 shard %u: %s", k + 1, err);
		assert_string_equal(s->read.meta.host, "2001:2::1");
		assert_string_equal(s->read.meta.host_name, "echo.example");
		assert_non_null(strstr(s->json, "\"host\":\"2001:2::1\",\"host_name\":\"echo.example\""));
		assert_true(addr_equal(&s->read.meta.sources.first, &s->meta.sources.first));
		assert_int_equal(s->read.meta.sources.count, 4);
	}
	assert_int_equal(merge_n(f, both, 2, err, sizeof(err)), 0);
	assert_string_equal(f->out.meta.host, "2001:2::1");
	assert_true(report_format_text(&f->out.meta, &f->out.stats, f->text, sizeof(f->text)) > 0);
	assert_non_null(strstr(f->text, "connections to 2001:2::1 (echo.example) ports"));
	assert_int_equal(f->out.meta.sources.count, 8);
	assert_string_equal(addr_format(&f->out.meta.sources.first, buf, sizeof(buf)), "2001:2::11");
	snprintf(f->sh[1].read.meta.host, sizeof(f->sh[1].read.meta.host), "198.18.0.1");
	assert_int_equal(merge_n(f, both, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the server address"));
	free(f);
}

/* ---- --find-max and sweep reports: the steps merge one by one ---- */

#define MS_SHARDS 4
#define MS_STEPS  3

/* Shards of one multi-step run, each written as JSON and read back, and every step's samples recorded
 * once in all[step]. */
struct msteps {
	struct report_meta meta[MS_SHARDS];
	struct loadgen_stats stats[MS_SHARDS];
	struct findmax_row rows[MS_SHARDS][MS_STEPS];
	struct loadgen_lat lat[MS_SHARDS][MS_STEPS];
	uint64_t rates[MS_STEPS];
	struct state_report read[MS_SHARDS];
	char json[MS_SHARDS][REPORT_TEXT_LEN];
	struct hist all[MS_STEPS];
	struct merge_result out;
	char text[REPORT_TEXT_LEN];
};

/* Shard k (0-based) of MS_SHARDS, -n fleet_n, steps at the fleet's conns[i] and rates[i] for 500 ms;
 * every scheduled message answered, RTTs below slow_us, except slow_n of them at slow_us in step
 * slow_step of shard 0. */
static void msteps_shard(struct msteps *f, unsigned k, uint64_t fleet_n, const uint64_t *conns,
			 const uint64_t *rates, unsigned steps, unsigned slow_step, uint64_t slow_n, uint64_t *seed)
{
	struct report_meta *m = &f->meta[k];
	struct loadgen_stats *t = &f->stats[k];
	uint64_t n = fleet_n / MS_SHARDS + (k < fleet_n % MS_SHARDS), total, j, v;
	unsigned i;

	memset(m, 0, sizeof(*m));
	m->target = n;
	m->fleet_target = fleet_n;
	m->shard_k = k + 1;
	m->shard_m = MS_SHARDS;
	snprintf(m->host, sizeof(m->host), "198.18.0.1");
	snprintf(m->hostname, sizeof(m->hostname), "client-%u", k + 1);
	m->port_base = 8081;
	m->ports = 10;
	m->workers = 1;
	m->concurrency = 10;
	m->latency = true;
	m->duration_ms = 500;
	m->reply_timeout_ms = 1000;
	m->slo_ms = 200;
	loadgen_stats_init(t, n);
	counter_set(&t->started, n);
	counter_set(&t->established, n);
	counter_set(&t->echoed, n);
	counter_set(&t->open, n);
	counter_set32(&t->phase, LOADGEN_DONE);
	counter_set(&t->start_ns, 1000);
	counter_set(&t->ramp_end_ns, 2000000);
	counter_set(&t->end_ns, 9000000000);
	for (i = 0; i < steps; i++) {
		struct loadgen_lat *l = &f->lat[k][i];
		uint64_t c = sched_share(conns[i], MS_SHARDS, k), r = sched_share(rates[i], MS_SHARDS, k);

		total = sched_total(r, m->duration_ms);
		loadgen_lat_init(l);
		counter_set32(&l->step, i + 1);
		counter_set32(&l->state, LOADGEN_STEP_DONE);
		counter_set32(&l->workers, 1);
		counter_set(&l->conns, c);
		counter_set(&l->held, c);
		counter_set(&l->sent, total);
		counter_set(&l->written, total);
		counter_set(&l->answered, total);
		counter_set(&l->start_ns, 3000000000 + i * 1000000000ULL);
		counter_set(&l->end_ns, 3600000000 + i * 1000000000ULL);
		for (j = 0; j < total; j++) {
			v = k == 0 && i == slow_step && j < slow_n ? 400000 : rnd(seed) % 150000;
			hist_record(&l->rtt_us, v);
			hist_record(&f->all[i], v);
		}
		report_step_row(l, c, r, total, 0, m->slo_ms, &f->rows[k][i]);
	}
	m->lat = &f->lat[k][steps - 1];
	m->msg_rate = f->rows[k][steps - 1].msg_rate;
	m->steps = f->rows[k];
	m->step_lats = f->lat[k];
	m->n_steps = steps;
	m->stop = FINDMAX_STOP_TARGET;
	m->wall_offset_ns = (int64_t)UINT64_C(1700000000000000000);
}

static struct msteps *msteps_new(bool find_max, const uint64_t *conns, const uint64_t *rates, unsigned steps,
				 unsigned slow_step, uint64_t slow_n)
{
	struct msteps *f = calloc(1, sizeof(*f));
	uint64_t seed = 7;
	unsigned k, i;

	assert_non_null(f);
	for (i = 0; i < MS_STEPS; i++)
		hist_init(&f->all[i]);
	memcpy(f->rates, rates, steps * sizeof(rates[0]));
	for (k = 0; k < MS_SHARDS; k++) {
		msteps_shard(f, k, conns[steps - 1], conns, rates, steps, slow_step, slow_n, &seed);
		f->meta[k].find_max = find_max;
		f->meta[k].step = find_max ? conns[0] : 0;
		f->meta[k].sweep = !find_max;
		f->meta[k].rates = f->rates;
		f->meta[k].n_rates = find_max ? 1 : steps;
	}
	return f;
}

/* Writes every shard's JSON and reads it back, then merges them all. */
static int msteps_merge(struct msteps *f, char *err, size_t errlen)
{
	const struct state_report *in[MS_SHARDS];
	const char *paths[MS_SHARDS] = { "a.json", "b.json", "c.json", "d.json" };
	unsigned k;

	for (k = 0; k < MS_SHARDS; k++) {
		assert_true(report_format_json(&f->meta[k], &f->stats[k], f->json[k], sizeof(f->json[k])) > 0);
		if (state_parse(f->json[k], strlen(f->json[k]), &f->read[k], err, errlen) < 0)
			fail_msg("state_parse of shard %u: %s", k + 1, err);
		in[k] = &f->read[k];
	}
	return merge_reports(in, paths, MS_SHARDS, &f->out, err, errlen);
}

/* A sweep of 6 then 40 msg/s over 4 shards for 0.5 s: shard shares 2, 2, 1, 1 and 10 each, each shard's
 * schedule rounds its own (1, 1, 1, 1 messages: 4, while 6 msg/s for 0.5 s alone would be 3). The merged
 * steps are exact, their counts add up, and the verdict is one process's: a pass at every rate. */
static void test_sweep_steps(void **state)
{
	const uint64_t conns[2] = { 10, 10 }, rates[2] = { 6, 40 };
	struct msteps *f = msteps_new(false, conns, rates, 2, 99, 0);
	struct report_summary s;
	char err[256];
	unsigned i;

	(void)state;
	assert_int_equal(msteps_merge(f, err, sizeof(err)), 0);
	assert_int_equal(f->read[2].meta.n_steps, 2);
	assert_int_equal(f->read[2].rows[0].msg_rate, 1);
	assert_true(f->read[2].rows[0].pass);
	assert_int_equal(f->out.meta.n_steps, 2);
	for (i = 0; i < 2; i++) {
		const struct findmax_row *r = &f->out.meta.steps[i];
		const struct loadgen_lat *l = &f->out.meta.step_lats[i];

		assert_hist_equal(&l->rtt_us, &f->all[i]);
		assert_int_equal(r->conns, 10);
		assert_int_equal(r->held, 10);
		assert_int_equal(r->msg_rate, rates[i]);
		assert_int_equal(l->sent, l->answered + l->late + l->lost);
		assert_int_equal(r->sent, r->answered + r->lost);
		assert_true(r->pass);
	}
	assert_int_equal(f->out.meta.steps[0].sent, 4);   /* the shards' own schedules ... */
	assert_int_equal(sched_total(6, 500), 3);          /* ... not one of the fleet's rate */
	assert_int_equal(f->out.meta.steps[1].sent, 20);
	assert_int_equal(f->out.meta.stop, FINDMAX_STOP_TARGET);
	assert_true(f->out.meta.lat == &f->out.step_lat[1]);
	report_summarize(&f->out.meta, &f->out.stats, &s);
	assert_int_equal(s.lat_total, 20);
	assert_int_equal(s.max_rate, 40);
	assert_true(s.pass);
	assert_true(report_format_text(&f->out.meta, &f->out.stats, f->text, sizeof(f->text)) > 0);
	assert_non_null(strstr(f->text, "rate sweep    2 rates, 6..40 msg/s, stopped: reached_target"));
	assert_non_null(strstr(f->text, ": PASS"));
	free(f);
}

/* The single-phase merge has the same rounding: 6 msg/s over 4 shards for 0.5 s is 4 messages, all
 * answered, and passes. */
static void test_phase_rounding(void **state)
{
	const uint64_t conns[1] = { 10 }, rates[1] = { 6 };
	struct msteps *f = msteps_new(false, conns, rates, 1, 99, 0);
	struct report_summary s;
	char err[256];
	unsigned k;

	(void)state;
	for (k = 0; k < MS_SHARDS; k++) {
		f->meta[k].sweep = false;
		f->meta[k].n_rates = 1;
		f->meta[k].step_lats = NULL;
		f->meta[k].n_steps = 0;
	}
	assert_int_equal(msteps_merge(f, err, sizeof(err)), 0);
	assert_int_equal(f->out.meta.msg_rate, 6);
	assert_int_equal(f->out.meta.lat_total, 4);
	report_summarize(&f->out.meta, &f->out.stats, &s);
	assert_true(s.lat_pass);
	assert_true(s.pass);
	free(f);
}

/* One shard's slow replies lift the fleet's p99 of the first rate above the SLO: the merged step fails as
 * one process's would, the sweep stops there, and the second rate the shards ran is left out. */
static void test_sweep_stops_at_merged_step(void **state)
{
	const uint64_t conns[2] = { 10, 10 }, rates[2] = { 400, 800 };
	struct msteps *f = msteps_new(false, conns, rates, 2, 0, 5);   /* 5 of 200: above 1 % */
	struct report_summary s;
	char err[256];

	(void)state;
	assert_true(f->rows[1][0].pass);   /* every other shard alone met the SLO */
	assert_int_equal(msteps_merge(f, err, sizeof(err)), 0);
	assert_int_equal(f->out.meta.n_steps, 1);
	assert_hist_equal(&f->out.step_lat[0].rtt_us, &f->all[0]);
	assert_false(f->out.meta.steps[0].slo_met);
	assert_int_equal(f->out.meta.stop, FINDMAX_STOP_SLO);
	assert_non_null(strstr(f->out.meta.problems, "steps 2 to 2 ran after the fleet's steps ended (slo_missed)"));
	report_summarize(&f->out.meta, &f->out.stats, &s);
	assert_false(s.pass);
	assert_int_equal(s.max_rate, 0);
	free(f);
}

/* --find-max over 4 shards: -n 20 in steps of 8 (8, 16, 20), each shard its share of each step. */
static void test_findmax_steps(void **state)
{
	const uint64_t conns[3] = { 8, 16, 20 }, rates[3] = { 100, 100, 100 };
	struct msteps *f = msteps_new(true, conns, rates, 3, 99, 0);
	struct report_summary s;
	char err[256];
	unsigned i;

	(void)state;
	assert_int_equal(msteps_merge(f, err, sizeof(err)), 0);
	assert_int_equal(f->out.meta.n_steps, 3);
	for (i = 0; i < 3; i++) {
		assert_hist_equal(&f->out.step_lat[i].rtt_us, &f->all[i]);
		assert_int_equal(f->out.rows[i].conns, conns[i]);
		assert_int_equal(f->out.rows[i].held, conns[i]);
		assert_int_equal(f->out.rows[i].sent, 52);   /* shares 25, 25, 25, 25 msg/s: 13 each in 0.5 s */
	}
	assert_int_equal(f->out.meta.stop, FINDMAX_STOP_TARGET);
	report_summarize(&f->out.meta, &f->out.stats, &s);
	assert_int_equal(s.max_conns, 20);
	assert_true(s.pass);
	free(f);
}

/* Steps that do not agree are refused, naming the file, the shard and the step. */
static void test_steps_disagree(void **state)
{
	const uint64_t conns[2] = { 10, 10 }, rates[2] = { 6, 40 };
	struct msteps *f = msteps_new(false, conns, rates, 2, 99, 0);
	char err[256];

	(void)state;
	f->rows[2][1].msg_rate = 11;   /* not shard 3's share of 40 */
	assert_int_equal(msteps_merge(f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "c.json: step 2: shard 3/4 ran 11 msg/s, not its share 10 of the fleet's 40"));
	f->rows[2][1].msg_rate = 10;
	f->rows[1][0].conns = 2;       /* shard 2's share of 10 is 3 */
	assert_int_equal(msteps_merge(f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "b.json: step 1: shard 2/4 asked for 2 connections, not its share 3 of the fleet's 10"));
	f->rows[1][0].conns = 3;
	f->rates[1] = 41;   /* shard 1 alone: another sweep */
	f->meta[1].rates = rates;
	assert_int_equal(msteps_merge(f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the sweep's rates"));
	free(f);
}

/* A shard that ran fewer steps is named; its share of the step is missing, so the step fails. */
static void test_steps_missing(void **state)
{
	const uint64_t conns[2] = { 10, 10 }, rates[2] = { 6, 40 };
	struct msteps *f = msteps_new(false, conns, rates, 2, 99, 0);
	struct report_summary s;
	char err[256];

	(void)state;
	f->meta[3].n_steps = 1;
	f->meta[3].lat = &f->lat[3][0];
	assert_int_equal(msteps_merge(f, err, sizeof(err)), 0);
	assert_int_equal(f->out.meta.n_steps, 2);
	assert_non_null(strstr(f->out.meta.problems, "shard 4/4: ran 1 of the fleet's steps"));
	assert_int_equal(f->out.rows[1].held, 10 - sched_share(10, MS_SHARDS, 3));
	assert_int_equal(f->out.meta.stop, FINDMAX_STOP_CONN_FAILED);
	report_summarize(&f->out.meta, &f->out.stats, &s);
	assert_false(s.pass);
	free(f);
}

/* A shard without a report: its share of every step is missing, so the rule is not replayed on what is
 * left; the steps the others ran are all there, as they ended, and the verdict fails. */
static void test_steps_no_report(void **state)
{
	const uint64_t conns[2] = { 10, 10 }, rates[2] = { 6, 40 };
	struct msteps *f = msteps_new(false, conns, rates, 2, 99, 0);
	const struct state_report *in[3];
	const char *paths[3] = { "a.json", "b.json", "c.json" };
	struct report_summary s;
	char err[256];
	unsigned k;

	(void)state;
	assert_int_equal(msteps_merge(f, err, sizeof(err)), 0);   /* writes and reads every shard */
	for (k = 0; k < 3; k++)
		in[k] = &f->read[k];
	assert_int_equal(merge_reports(in, paths, 3, &f->out, err, sizeof(err)), 0);
	assert_int_equal(f->out.meta.n_steps, 2);
	assert_int_equal(f->out.rows[1].held, 10 - sched_share(10, MS_SHARDS, 3));
	assert_int_equal(f->out.meta.stop, FINDMAX_STOP_TARGET);   /* as the shards were told */
	assert_non_null(strstr(f->out.meta.problems, "shard 4/4: no report"));
	assert_null(strstr(f->out.meta.problems, "left out"));
	report_summarize(&f->out.meta, &f->out.stats, &s);
	assert_false(s.pass);
	free(f);
}

/* ---- the fleet's step from its shards' done lines (c1m-client --fleet-step) ---- */

/* Shard k's done line of step (1-based) of the sweep in f (msteps_new's), written and read back. */
static void done_line(struct msteps *f, unsigned k, unsigned step, const uint64_t *rates, struct state_step *out)
{
	struct state_step *st = calloc(1, sizeof(*st));
	char *json = malloc(STATE_STEP_LEN), err[256];

	assert_non_null(st);
	assert_non_null(json);
	st->step = step;
	st->shard_k = k + 1;
	st->shard_m = MS_SHARDS;
	st->fleet_conns = 10;
	st->fleet_rate = rates[step - 1];
	st->duration_ms = 500;
	st->row = f->rows[k][step - 1];
	memcpy(&st->lat, &f->lat[k][step - 1], sizeof(st->lat));
	assert_true(state_format_step(st, 1000, json, STATE_STEP_LEN) > 0);
	assert_null(strchr(json, '\n'));   /* one line */
	if (state_parse_step(json, strlen(json), out, err, sizeof(err)) < 0)
		fail_msg("state_parse_step: %s", err);
	free(json);
	free(st);
}

/* Four shards' lines of a sweep of 6, 40 msg/s: the merged first step is exact and passes against the
 * shards' own schedules (4 messages, not 3), so the fleet goes on to 40 msg/s over -n; after the last rate
 * it ends with reached_target. A slow shard ends the sweep with slo_missed; a shard without a line ends it
 * with connection_failures. */
static void test_fleet_step(void **state)
{
	const uint64_t conns[2] = { 10, 10 }, rates[2] = { 6, 40 };
	struct msteps *f = msteps_new(false, conns, rates, 2, 99, 0);
	struct findmax_plan plan = { false, 10, 0, rates, 2, 6 };
	struct state_step *lines = calloc(MS_SHARDS, sizeof(*lines));
	const struct state_step *in[MS_SHARDS];
	struct merge_step *ms = malloc(sizeof(*ms));
	char err[256];
	unsigned k;

	(void)state;
	assert_non_null(lines);
	assert_non_null(ms);
	for (k = 0; k < MS_SHARDS; k++) {
		done_line(f, k, 1, rates, &lines[k]);
		in[k] = &lines[k];
	}
	assert_int_equal(lines[1].shard_k, 2);
	assert_int_equal(lines[1].row.msg_rate, 2);
	assert_hist_equal(&lines[1].lat.rtt_us, &f->lat[1][0].rtt_us);
	assert_int_equal(merge_fleet_step(&plan, 200, in, MS_SHARDS, ms, err, sizeof(err)), 0);
	assert_hist_equal(&ms->lat.rtt_us, &f->all[0]);
	assert_int_equal(ms->row.sent, 4);
	assert_int_equal(ms->row.sent, ms->row.answered + ms->row.lost);
	assert_true(ms->row.pass);
	assert_int_equal(ms->stop, FINDMAX_CONTINUE);
	assert_int_equal(ms->next_rate, 40);
	assert_int_equal(ms->next_conns, 10);
	assert_int_equal(ms->missing, 0);

	/* three of four: the fourth's share is not held */
	assert_int_equal(merge_fleet_step(&plan, 200, in, 3, ms, err, sizeof(err)), 0);
	assert_int_equal(ms->missing, 1);
	assert_int_equal(ms->row.held, 8);
	assert_int_equal(ms->stop, FINDMAX_STOP_CONN_FAILED);

	/* refusals: a shard twice, another step, a row that is not its share */
	in[3] = &lines[0];
	assert_int_equal(merge_fleet_step(&plan, 200, in, MS_SHARDS, ms, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "shard 1/4: given twice"));
	in[3] = &lines[3];
	lines[2].row.msg_rate = 2;
	assert_int_equal(merge_fleet_step(&plan, 200, in, MS_SHARDS, ms, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "shard 3/4: step 1: shard 3/4 ran 2 msg/s, not its share 1 of the fleet's 6"));
	lines[2].row.msg_rate = 1;
	lines[2].fleet_rate = 40;
	assert_int_equal(merge_fleet_step(&plan, 200, in, MS_SHARDS, ms, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "shard 3/4: its step 1 (10 connections, 40 msg/s, of 4 shards) is not shard 1/4's step 1"));
	lines[2].fleet_rate = 6;
	lines[0].fleet_rate = 7;
	assert_int_equal(merge_fleet_step(&plan, 200, in, MS_SHARDS, ms, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "shard 1/4: step 1 at 7 msg/s over 10 connections is not this sweep's"));
	lines[0].step = 2;
	lines[0].fleet_rate = 40;
	assert_int_equal(merge_fleet_step(&plan, 200, in, MS_SHARDS, ms, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "shard 2/4: its step 1 (10 connections, 6 msg/s, of 4 shards) is not shard 1/4's step 2"));

	/* the last rate */
	for (k = 0; k < MS_SHARDS; k++)
		done_line(f, k, 2, rates, &lines[k]);
	for (k = 0; k < MS_SHARDS; k++)
		in[k] = &lines[k];
	assert_int_equal(merge_fleet_step(&plan, 200, in, MS_SHARDS, ms, err, sizeof(err)), 0);
	assert_hist_equal(&ms->lat.rtt_us, &f->all[1]);
	assert_int_equal(ms->stop, FINDMAX_STOP_TARGET);
	assert_true(ms->row.pass);
	free(f);

	/* one shard's slow replies: the fleet's p99 is above the SLO, the sweep ends there */
	f = msteps_new(false, conns, rates, 2, 0, 1);   /* 1 of 4 messages at 400 ms */
	for (k = 0; k < MS_SHARDS; k++)
		done_line(f, k, 1, rates, &lines[k]);
	assert_int_equal(merge_fleet_step(&plan, 200, in, MS_SHARDS, ms, err, sizeof(err)), 0);
	assert_false(ms->row.slo_met);
	assert_int_equal(ms->stop, FINDMAX_STOP_SLO);
	free(f);
	free(ms);
	free(lines);
}

/* A done line that is damaged or of no shard is refused with the field's name. */
static void test_step_line_refusals(void **state)
{
	struct state_step *st = calloc(1, sizeof(*st));
	char *json = malloc(STATE_STEP_LEN), err[256], *p;

	(void)state;
	assert_non_null(st);
	assert_non_null(json);
	loadgen_lat_init(&st->lat);
	st->step = 1;
	st->shard_k = 3;
	st->shard_m = 2;
	assert_true(state_format_step(st, 0, json, STATE_STEP_LEN) > 0);
	assert_int_equal(state_parse_step(json, strlen(json), st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "shard 3/2"));
	assert_int_equal(state_parse_step(json, strlen(json) - 1, st, err, sizeof(err)), -1);   /* cut short */
	p = strstr(json, "\"fleet_rate\"");
	assert_non_null(p);
	p[1] = 'x';
	assert_int_equal(state_parse_step(json, strlen(json), st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no \"fleet_rate\""));
	assert_int_equal(state_parse_step("[]", 2, st, err, sizeof(err)), -1);
	assert_true(state_format_step(st, 0, json, 100) == -1);   /* does not fit */
	free(json);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_proto_round_trip),
		cmocka_unit_test(test_merge_is_exact),
		cmocka_unit_test(test_missing_shard),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_sweep_steps),
		cmocka_unit_test(test_phase_rounding),
		cmocka_unit_test(test_sweep_stops_at_merged_step),
		cmocka_unit_test(test_findmax_steps),
		cmocka_unit_test(test_steps_disagree),
		cmocka_unit_test(test_steps_missing),
		cmocka_unit_test(test_steps_no_report),
		cmocka_unit_test(test_fleet_step),
		cmocka_unit_test(test_step_line_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
