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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_merge_is_exact),
		cmocka_unit_test(test_missing_shard),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
