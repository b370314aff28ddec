/* Unit tests for the client's report: the verdict and failure explanations of the text report, the JSON
 * report's keys, and the progress line, all from fabricated stats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/util/counter.h"
#include "common/util/version.h"
#include "client/loadgen.h"
#include "client/report.h"

static void meta_init(struct report_meta *m, uint64_t target)
{
	memset(m, 0, sizeof(*m));
	m->target = target;
	strcpy(m->host, "127.0.0.1");
	m->port_base = 8081;
	m->ports = 100;
	m->sources.first = addr_ipv4(0x7f000001);
	m->sources.count = 2;
	m->sources_default = true;
	m->workers = 1;
	m->concurrency = 1024;
}

static struct loadgen_stats *stats_new(uint64_t target)
{
	struct loadgen_stats *t = malloc(sizeof(*t));

	assert_non_null(t);
	loadgen_stats_init(t, target);
	t->start_ns = 1000000000ULL;
	t->ramp_end_ns = t->start_ns + 2000000000ULL;   /* 2 s ramp */
	t->end_ns = t->ramp_end_ns + 1000000000ULL;     /* 1 s hold */
	return t;
}

static void test_text_pass(void **state)
{
	struct report_meta m;
	struct loadgen_stats *t = stats_new(1000);
	char *buf = malloc(REPORT_TEXT_LEN);
	struct report_summary s;
	uint64_t i;

	(void)state;
	meta_init(&m, 1000);
	t->started = t->established = t->echoed = 1000;
	for (i = 1; i <= 1000; i++) {
		hist_record(&t->connect_us, i * 10);    /* 10 us .. 10 ms */
		hist_record(&t->rtt_us, 500);
	}
	report_summarize(&m, t, &s);
	assert_true(s.pass);
	assert_true(s.elapsed_s > 1.999 && s.elapsed_s < 2.001);
	assert_true(s.connect_rate > 499.9 && s.connect_rate < 500.1);
	assert_int_equal(s.first_cause, DIAG_KIND_COUNT);
	assert_true(s.connect_ms[0] > 4.95 && s.connect_ms[0] < 5.05);
	assert_true(s.connect_ms[3] == 10.0);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: PASS 1000/1000 connections established and echoed\n"));
	assert_non_null(strstr(buf, "127.0.0.1-127.0.0.2 (2 addresses, default)"));
	assert_non_null(strstr(buf, "mean 500 conn/s"));
	assert_null(strstr(buf, "FAIL"));
	/* a too-small buffer is reported, not overrun */
	assert_int_equal(report_format_text(&m, t, buf, 40), -1);
	assert_true(strlen(buf) < 40);
	free(buf);
	free(t);
}

static void test_text_fail_explains_each_kind_once(void **state)
{
	struct report_meta m;
	struct loadgen_stats *t = stats_new(100);
	char *buf = malloc(REPORT_TEXT_LEN), *p;
	struct report_summary s;

	(void)state;
	meta_init(&m, 100);
	t->started = 100;
	t->established = t->echoed = 60;
	t->failed = 40;
	t->failures[DIAG_ECONNREFUSED] = 10;
	t->first_fail_ns[DIAG_ECONNREFUSED] = t->start_ns + 500000000ULL;
	t->failures[DIAG_EMFILE] = 30;
	t->first_fail_ns[DIAG_EMFILE] = t->start_ns + 100000000ULL;   /* earlier: the binding cause */
	report_summarize(&m, t, &s);
	assert_false(s.pass);
	assert_int_equal(s.first_cause, DIAG_EMFILE);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: FAIL 60/100 connections established and echoed, 40 failed; "
				    "first binding cause: EMFILE\n"));
	/* against another protocol the connections were verified by its handshake, not echoed */
	m.proto = PROTO_HTTP;
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: FAIL 60/100 connections established and verified, 40 failed; "));
	m.proto = PROTO_ECHO;
	/* each kind has exactly one explanation paragraph, EMFILE first */
	p = strstr(buf, "\nEMFILE x 30: ");
	assert_non_null(p);
	assert_null(strstr(p + 1, "\nEMFILE x 30: "));
	assert_non_null(strstr(p, "\nECONNREFUSED x 10: "));
	assert_null(strstr(strstr(p, "\nECONNREFUSED x 10: ") + 1, "\nECONNREFUSED x 10: "));
	assert_non_null(strstr(buf, "    EMFILE           30  (first after 0.100 s)"));
	free(buf);
	free(t);
}

static void test_text_interrupted_and_problems(void **state)
{
	struct report_meta m;
	struct loadgen_stats *t = stats_new(1000);
	char *buf = malloc(REPORT_TEXT_LEN);

	(void)state;
	meta_init(&m, 1000);
	t->started = 400;
	t->established = t->echoed = 400;
	m.stop_signal = 2;
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: FAIL 400/1000"));
	assert_non_null(strstr(buf, "interrupted by SIGINT after 400 of 1000 attempts"));
	/* SIGINT after everything was echoed is the normal end of an open-ended hold */
	t->started = t->established = t->echoed = 1000;
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: PASS 1000/1000"));
	/* a dead worker fails the run even if the counts look complete */
	strcpy(m.problems, "worker 3 killed by signal 9 (Killed)");
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: FAIL 1000/1000"));
	assert_non_null(strstr(buf, "worker 3 killed by signal 9"));
	free(buf);
	free(t);
}

static void test_json_report(void **state)
{
	struct report_meta m;
	struct loadgen_stats *t = stats_new(20);
	char *buf = malloc(REPORT_TEXT_LEN);
	int n;

	(void)state;
	meta_init(&m, 20);
	m.workers = 3;
	t->started = 20;
	t->failed = 20;
	t->failures[DIAG_ECONNREFUSED] = 20;
	t->first_fail_ns[DIAG_ECONNREFUSED] = t->start_ns + 1000;
	n = report_format_json(&m, t, buf, REPORT_TEXT_LEN);
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(buf[0], '{');
	/* the version comes first, from the one place that knows it */
	{
		char head[64];

		snprintf(head, sizeof(head), "{\"version\":\"%s\",\"host\":", version_project());
		assert_int_equal(strncmp(buf, head, strlen(head)), 0);
	}
	assert_non_null(strstr(buf, "\"target\":20,"));
	assert_non_null(strstr(buf, "\"established\":0,"));
	assert_non_null(strstr(buf, "\"failed\":20,"));
	assert_non_null(strstr(buf, "\"failures\":{\"ECONNREFUSED\":20}"));
	assert_non_null(strstr(buf, "\"elapsed_s\":2.000"));
	assert_non_null(strstr(buf, "\"connect_rate\":0.0"));
	assert_non_null(strstr(buf, "\"connect_ms\":{\"p50\":"));
	assert_non_null(strstr(buf, "\"rtt_ms\":{\"p50\":"));
	assert_non_null(strstr(buf, "\"workers\":3"));
	assert_non_null(strstr(buf, "\"sources\":{\"count\":2,\"first\":\"127.0.0.1\",\"last\":\"127.0.0.2\""));
	assert_non_null(strstr(buf, "\"first_cause\":\"ECONNREFUSED\""));
	assert_non_null(strstr(buf, "\"explanations\":{\"ECONNREFUSED\":\""));
	assert_non_null(strstr(buf, "\"pass\":false"));
	assert_non_null(strstr(buf, "\"verdict\":\"VERDICT: FAIL 0/20"));
	assert_int_equal(report_format_json(&m, t, buf, 100), -1);
	free(buf);
	free(t);
}

static void test_progress(void **state)
{
	struct loadgen_stats *now = stats_new(19000), *prev = stats_new(19000);
	char line[256];

	(void)state;
	now->open = 12000;
	now->established = 12100;
	now->connecting = 512;
	now->echoing = 100;
	now->failed = 3;
	now->failures[DIAG_ECONNREFUSED] = 2;
	now->failures[DIAG_CONNECT_TIMEOUT] = 1;
	prev->established = 8100;
	assert_true(report_format_progress(now, prev, 2.0, now->start_ns + 3500000000ULL, line, sizeof(line)) > 0);
	assert_string_equal(line, "[    3.5s] open 12000/19000  connecting 512  echoing 100  failed 3 "
				  "(ECONNREFUSED 2, connect_timeout 1)  2000 conn/s");
	assert_null(strchr(line, '\n'));
	assert_true(report_format_progress(now, NULL, 0, 0, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, " 0 conn/s"));
	free(now);
	free(prev);
}

/* A latency phase of 1000 messages over 1000 connections for 1 s at 1000 msg/s: 990 at 1 ms and 10 at
 * ms_slow milliseconds, so p99 is 1 ms (1.001, the histogram bucket's midpoint) and p99.9 and max are
 * ms_slow. */
static void lat_fill(struct loadgen_lat *l, uint64_t ms_slow)
{
	unsigned i;

	loadgen_lat_init(l);
	l->step = 1;
	l->state = LOADGEN_STEP_DONE;
	l->conns = l->held = 1000;
	l->sent = l->written = l->answered = 1000;
	l->start_ns = 5000000000ULL;
	l->end_ns = l->start_ns + 1000000000ULL;
	l->send_lag_max_us = 900;
	l->rss_base_bytes = 1000000;
	l->rss_bytes = 1000000 + 1000 * 320;
	for (i = 0; i < 990; i++)
		hist_record(&l->rtt_us, 1000);
	for (i = 0; i < 10; i++)
		hist_record(&l->rtt_us, ms_slow * 1000);
}

static void lat_meta(struct report_meta *m, const struct loadgen_lat *l)
{
	meta_init(m, 1000);
	m->latency = true;
	m->msg_rate = 1000;
	m->duration_ms = 1000;
	m->reply_timeout_ms = 1000;
	m->slo_ms = 200;
	m->lat = l;
}

static void test_latency_pass(void **state)
{
	struct report_meta m;
	struct loadgen_stats *t = stats_new(1000);
	struct loadgen_lat *l = malloc(sizeof(*l));
	char *buf = malloc(REPORT_TEXT_LEN);
	struct report_summary s;

	(void)state;
	t->started = t->established = t->echoed = 1000;
	lat_fill(l, 150);
	lat_meta(&m, l);
	report_summarize(&m, t, &s);
	assert_true(s.lat_pass);
	assert_true(s.pass);
	assert_true(s.lat_ms[2] > 0.99 && s.lat_ms[2] < 1.01);
	assert_true(s.lat_ms[3] > 149 && s.lat_ms[3] < 151);
	assert_true(s.achieved_rate > 999.9 && s.achieved_rate < 1000.1);
	assert_true(s.bytes_per_conn > 319.9 && s.bytes_per_conn < 320.1);
	assert_int_equal(s.lat_total, 1000);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: concurrency 1000 held, p99 1.001 ms <= SLO 200 ms, 0 of 1000 messages "
				    "lost: PASS\n"));
	assert_non_null(strstr(buf, "p99.9 150."));
	assert_non_null(strstr(buf, "320 bytes per held connection"));
	assert_true(report_format_json(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "\"latency\":{\"msg_rate\":1000,\"duration_s\":1.000,"));
	assert_non_null(strstr(buf, "\"sent\":1000,"));
	assert_non_null(strstr(buf, "\"answered\":1000,\"lost\":0,"));
	assert_non_null(strstr(buf, "\"rtt_ms\":{\"p50\":1.001,\"p90\":1.001,\"p99\":1.001,\"p99_9\":150."));
	assert_non_null(strstr(buf, "\"count\":1000}"));
	assert_non_null(strstr(buf, "\"slo_ms\":200,"));
	assert_non_null(strstr(buf, "\"achieved_rate\":1000.0"));
	assert_non_null(strstr(buf, "\"environment\":{"));
	assert_null(strstr(buf, "\"find_max\""));
	/* the send window: a report from before --send-window (0) sent with 1 ms; the text names a wider one */
	assert_non_null(strstr(buf, "\"slo_ms\":200,\"send_window_ms\":1,"));
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_null(strstr(buf, "send window"));
	m.send_window_ms = 10;
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "\n    send window 10 ms: each process sends at most every 10 ms"));
	assert_true(report_format_json(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "\"send_window_ms\":10,"));
	free(buf);
	free(l);
	free(t);
}

/* p99 over the SLO fails; so does a single lost message with a fine p99; so do missing messages. */
static void test_latency_fail(void **state)
{
	struct report_meta m;
	struct loadgen_stats *t = stats_new(1000);
	struct loadgen_lat *l = malloc(sizeof(*l));
	char *buf = malloc(REPORT_TEXT_LEN);
	struct report_summary s;

	(void)state;
	t->started = t->established = t->echoed = 1000;
	lat_fill(l, 150);
	lat_meta(&m, l);
	/* 20 slow of 1010: p99 is slow */
	lat_fill(l, 300);
	{
		unsigned i;

		for (i = 0; i < 10; i++)
			hist_record(&l->rtt_us, 300000);
		l->sent = l->written = l->answered = 1010;
	}
	m.msg_rate = 1010;
	report_summarize(&m, t, &s);
	assert_false(s.lat_pass);
	assert_false(s.pass);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "> SLO 200 ms, 0 of 1010 messages lost: FAIL\n"));
	/* one message lost, p99 fine */
	lat_fill(l, 150);
	m.msg_rate = 1000;
	l->answered = 999;
	l->lost = 1;
	counter_sub(&l->rtt_us.counts[hist_bucket_of(1000)], 1);
	counter_sub(&l->rtt_us.total, 1);
	report_summarize(&m, t, &s);
	assert_false(s.lat_pass);
	assert_int_equal(s.lat_lost, 1);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "<= SLO 200 ms, 1 of 1000 messages lost: FAIL\n"));
	/* a worker that never sent: fewer sent than scheduled */
	lat_fill(l, 150);
	l->sent = l->written = l->answered = 500;
	assert_false(report_latency_pass(l, 1000, 200));
	/* the phase never ran */
	m.lat = NULL;
	report_summarize(&m, t, &s);
	assert_false(s.pass);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: latency phase did not run: FAIL\n"));
	assert_true(report_format_json(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "\"ran\":false"));
	free(buf);
	free(l);
	free(t);
}

static void test_findmax_report(void **state)
{
	struct report_meta m;
	struct loadgen_stats *t = stats_new(3000);
	struct loadgen_lat *l = malloc(sizeof(*l));
	char *buf = malloc(REPORT_TEXT_LEN);
	struct findmax_row rows[3];
	struct report_summary s;
	unsigned i;

	(void)state;
	t->started = t->established = t->echoed = 3000;
	lat_fill(l, 150);
	lat_meta(&m, l);
	m.target = 3000;
	m.find_max = true;
	m.step = 1000;
	memset(rows, 0, sizeof(rows));
	for (i = 0; i < 3; i++) {
		rows[i].conns = rows[i].held = 1000 * (i + 1);
		rows[i].msg_rate = 1000;
		rows[i].sent = rows[i].answered = 1000;
		rows[i].p50_ms = 1;
		rows[i].p99_ms = 1 + i * 150;    /* 1, 151, 301 */
		rows[i].p999_ms = 400;
		rows[i].start_ns = 1000000000u * (i + 1);
		rows[i].end_ns = rows[i].start_ns + 500000000u;
		rows[i].cpu_us = 7000 * (i + 1);
		rows[i].slo_met = rows[i].pass = i < 2;
	}
	rows[0].start_ns = rows[0].end_ns = 0;   /* not known: 0, not the offset alone */
	m.steps = rows;
	m.n_steps = 3;
	m.stop = FINDMAX_STOP_SLO;
	m.wall_offset_ns = 250;
	report_summarize(&m, t, &s);
	assert_int_equal(s.max_conns, 2000);
	assert_false(s.pass);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: max concurrency 2000 within SLO 200 ms (p99 151.000 ms); at 3000 "
				    "connections p99 301.000 ms > SLO 200 ms, 0 of 1000 messages lost: FAIL\n"));
	assert_non_null(strstr(buf, "stopped: slo_missed; most connections within the SLO: 2000"));
	assert_non_null(strstr(buf, "        3000       3000         0      1000       1000       1000        0     1.000   301.000"));
	assert_true(report_format_json(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "\"find_max\":{\"step\":1000,\"max_connections\":2000,\"stop_reason\":\"slo_missed\","
				    "\"steps\":[{\"connections\":1000,"));
	assert_non_null(strstr(buf, "\"p99\":301.000,\"p99_9\":400.000,\"max\":0.000,\"start_ns\":3000000250,"
				    "\"end_ns\":3500000250,\"client_cpu_us\":21000,\"pass\":false}]}"));
	assert_non_null(strstr(buf, "\"start_ns\":0,\"end_ns\":0,\"client_cpu_us\":7000,"));
	/* every step passed up to -n */
	rows[2].p99_ms = 2;
	rows[2].slo_met = rows[2].pass = true;
	m.stop = FINDMAX_STOP_TARGET;
	report_summarize(&m, t, &s);
	assert_true(s.pass);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: concurrency 3000 held, p99 2.000 ms <= SLO 200 ms at every step up to -n: "
				    "PASS\n"));
	/* the first step lost connections */
	rows[0].held = 990;
	rows[0].conn_failures = 10;
	rows[0].pass = false;
	m.n_steps = 1;
	m.stop = FINDMAX_STOP_CONN_FAILED;
	report_summarize(&m, t, &s);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: no step met the SLO 200 ms; at 1000 connections 990 of 1000 held, 10 "
				    "connection failures: FAIL\n"));
	/* nothing answered: no p99 to compare */
	rows[0].held = 1000;
	rows[0].conn_failures = 0;
	rows[0].answered = 0;
	m.stop = FINDMAX_STOP_SLO;
	report_summarize(&m, t, &s);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: no step met the SLO 200 ms; at 1000 connections no replies, 1000 of 1000 "
				    "messages lost: FAIL\n"));
	free(buf);
	free(l);
	free(t);
}

/* A rate sweep: the rows differ by rate at the same connections; the verdict names the highest passing
 * rate and why the next one failed; the JSON has a rate_sweep object instead of find_max. */
static void test_sweep_report(void **state)
{
	static const uint64_t rates[] = { 1000, 2000, 4000 };
	struct report_meta m;
	struct loadgen_stats *t = stats_new(1000);
	struct loadgen_lat *l = malloc(sizeof(*l));
	char *buf = malloc(REPORT_TEXT_LEN);
	struct findmax_row rows[3];
	struct report_summary s;
	unsigned i;

	(void)state;
	t->started = t->established = t->echoed = 1000;
	lat_fill(l, 150);
	lat_meta(&m, l);
	m.target = 1000;
	m.sweep = true;
	m.rates = rates;
	m.n_rates = 3;
	memset(rows, 0, sizeof(rows));
	for (i = 0; i < 3; i++) {
		rows[i].conns = rows[i].held = 1000;
		rows[i].msg_rate = rates[i];
		rows[i].sent = rows[i].answered = rates[i];
		rows[i].p99_ms = 10 + i * 150;    /* 10, 160, 310 */
		rows[i].slo_met = rows[i].pass = i < 2;
	}
	rows[2].answered = 3990;
	rows[2].lost = 10;
	m.steps = rows;
	m.n_steps = 3;
	m.stop = FINDMAX_STOP_SLO;
	m.msg_rate = 4000;      /* the last phase ran at 4000 msg/s: 1000 messages (lat_fill) in 0.25 s */
	m.duration_ms = 250;
	report_summarize(&m, t, &s);
	assert_int_equal(s.max_rate, 2000);
	assert_int_equal(s.max_conns, 0);
	assert_false(s.pass);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: max 2000 msg/s within SLO 200 ms over 1000 connections (p99 160.000 ms); "
				    "at 4000 msg/s p99 310.000 ms > SLO 200 ms, 10 of 4000 messages lost: FAIL\n"));
	assert_non_null(strstr(buf, "rate sweep    3 rates, 1000..4000 msg/s, stopped: slo_missed; highest rate within "
				    "the SLO: 2000 msg/s"));
	assert_true(report_format_json(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_null(strstr(buf, "\"find_max\""));
	assert_non_null(strstr(buf, "\"rate_sweep\":{\"rates\":[1000,2000,4000],\"max_rate\":2000,"
				    "\"stop_reason\":\"slo_missed\",\"steps\":[{\"connections\":1000,\"held\":1000,"
				    "\"conn_failures\":0,\"msg_rate\":1000,"));
	/* every rate passed */
	rows[2].p99_ms = 20;
	rows[2].answered = 4000;
	rows[2].lost = 0;
	rows[2].slo_met = rows[2].pass = true;
	m.stop = FINDMAX_STOP_TARGET;
	report_summarize(&m, t, &s);
	assert_int_equal(s.max_rate, 4000);
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "VERDICT: concurrency 1000 held, p99 <= SLO 200 ms at every rate up to 4000 msg/s "
				    "(p99 20.000 ms there)"));
	free(buf);
	free(l);
	free(t);
}

static void test_environment(void **state)
{
	struct report_meta m;
	struct loadgen_stats *t = stats_new(10);
	struct limits_values v;
	char *buf = malloc(REPORT_TEXT_LEN);

	(void)state;
	meta_init(&m, 10);
	memset(&v, 0, sizeof(v));
	v.nofile_soft = v.nofile_hard = 20000;
	v.port_lo = 32768;
	v.port_hi = 60999;
	v.tcp_mem[0] = 1;
	v.tcp_mem[1] = 2;
	v.tcp_mem[2] = 3;
	strcpy(m.kernel, "Linux 6.1.0 #1 x86_64");
	m.cpus = 2;
	m.limits = &v;
	assert_true(report_format_text(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "  system        Linux 6.1.0 #1 x86_64, 2 CPUs\n"));
	assert_non_null(strstr(buf, "nofile 20000/20000"));
	assert_non_null(strstr(buf, "local ports 32768-60999"));
	assert_true(report_format_json(&m, t, buf, REPORT_TEXT_LEN) > 0);
	assert_non_null(strstr(buf, "\"environment\":{\"kernel\":\"Linux 6.1.0 #1 x86_64\",\"cpus\":2,"
				    "\"client_workers\":1,\"limits\":{\"nofile_soft\":20000,"));
	assert_non_null(strstr(buf, "\"tcp_mem_pages\":[1,2,3]"));
	free(buf);
	free(t);
}

static void test_progress_latency(void **state)
{
	struct loadgen_stats *now = stats_new(100), *prev = stats_new(100);
	char line[256];

	(void)state;
	now->open = 100;
	now->established = 100;
	prev->established = 100;
	assert_true(report_format_progress(now, prev, 1.0, now->start_ns, line, sizeof(line)) > 0);
	assert_null(strstr(line, "msgs"));       /* no phase yet */
	now->lat.step = prev->lat.step = 1;
	now->lat.state = LOADGEN_STEP_RUN;
	now->lat.sent = 5000;
	now->lat.answered = 4990;
	now->lat.lost = 2;
	now->lat.late = 1;
	prev->lat.answered = 2990;
	hist_record(&now->lat.rtt_us, 1500);
	assert_true(report_format_progress(now, prev, 2.0, now->start_ns, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "  msgs sent 5000 ok 4990 lost 3  1000 msg/s  p99 1.500 ms"));
	free(now);
	free(prev);
}

static void test_merge_is_exact(void **state)
{
	struct loadgen_stats *a = stats_new(10), *b = stats_new(10), *sum = malloc(sizeof(*sum));

	(void)state;
	hist_record(&a->connect_us, 100);
	hist_record(&b->connect_us, 300);
	a->echoed = 10;
	b->echoed = 7;
	b->failed = 3;
	b->failures[DIAG_EMFILE] = 3;
	b->first_fail_ns[DIAG_EMFILE] = 5;
	b->ramp_end_ns = a->ramp_end_ns + 7;
	loadgen_stats_init_sum(sum);
	loadgen_stats_merge(sum, a);
	loadgen_stats_merge(sum, b);
	assert_int_equal(sum->workers, 2);
	assert_int_equal(sum->target, 20);
	assert_int_equal(sum->echoed, 17);
	assert_int_equal(sum->failures[DIAG_EMFILE], 3);
	assert_int_equal(sum->first_fail_ns[DIAG_EMFILE], 5);
	assert_int_equal(hist_count(&sum->connect_us), 2);
	assert_int_equal(hist_min(&sum->connect_us), 100);
	assert_int_equal(hist_max(&sum->connect_us), 300);
	assert_int_equal(sum->start_ns, a->start_ns);
	assert_int_equal(sum->ramp_end_ns, b->ramp_end_ns);
	/* a process still ramping keeps the merged ramp open */
	b->ramp_end_ns = 0;
	loadgen_stats_init_sum(sum);
	loadgen_stats_merge(sum, a);
	loadgen_stats_merge(sum, b);
	assert_int_equal(sum->ramp_end_ns, 0);
	free(a);
	free(b);
	free(sum);
}

static void test_split(void **state)
{
	struct loadgen_config all, w[3];
	unsigned i;
	uint64_t total = 0, rate = 0, conc = 0;

	(void)state;
	memset(&all, 0, sizeof(all));
	all.target = 1000001;
	all.rate = 1000;
	all.concurrency = 1024;
	all.ports = 100;
	all.port_base = 8081;
	all.sources.first = addr_ipv4(0x7f000001);
	all.sources.count = 7;
	for (i = 0; i < 3; i++) {
		loadgen_split(&all, 3, i, &w[i]);
		total += w[i].target;
		rate += w[i].rate;
		conc += w[i].concurrency;
	}
	assert_int_equal(total, all.target);
	assert_int_equal(rate, all.rate);
	assert_int_equal(conc, all.concurrency);
	assert_int_equal(w[0].id_base, 0);
	assert_int_equal(w[1].id_base, w[0].target);
	assert_int_equal(w[2].id_base, w[0].target + w[1].target);
	/* 7 sources over 3 workers: disjoint slices covering all */
	assert_true(addr_equal(&w[0].sources.first, &all.sources.first));
	assert_int_equal(w[0].sources.count + w[1].sources.count + w[2].sources.count, 7);
	assert_true(addr_equal(&w[1].sources.first, &(struct addr_ip){ AF_INET, { 127, 0, 0, (unsigned char)(1 + w[0].sources.count) } }));
	assert_true(addr_equal(&w[2].sources.first, &(struct addr_ip){ AF_INET, { 127, 0, 0, (unsigned char)(1 + w[0].sources.count + w[1].sources.count) } }));
	/* fewer sources than workers: shared, different offsets; tiny rate still paced (never 0 = unlimited) */
	all.sources.count = 2;
	all.rate = 2;
	loadgen_split(&all, 3, 2, &w[2]);
	assert_int_equal(w[2].sources.count, 2);
	assert_int_equal(w[2].source_offset, 2);
	assert_int_equal(w[2].rate, 1);
}

static void test_line(void **state)
{
	char buf[LOADGEN_LINE_MAX];

	(void)state;
	assert_int_equal(loadgen_format_line(42, buf, sizeof(buf)), strlen("Hello Server: client --> 42\n"));
	assert_string_equal(buf, "Hello Server: client --> 42\n");
	assert_true(loadgen_format_line(UINT64_MAX, buf, sizeof(buf)) < sizeof(buf));
}

/* The saturation judge with fabricated phase costs: a busy client process, a busy shared machine, a busy
 * machine with the client pinned apart, an idle client, and nothing measured. */
static void test_saturation(void **state)
{
	static struct loadgen_lat l;
	struct sat_view v;
	char buf[2048];
	struct sbuf o;

	(void)state;
	loadgen_lat_init(&l);
	counter_set32(&l.workers, 2);
	counter_set(&l.start_ns, 1000000000ull);
	counter_set(&l.end_ns, 3000000000ull);    /* 2 s */
	counter_set(&l.cpu_us, 3000000);           /* 1.5 CPUs */
	counter_set(&l.cpu_permille_max, 950);
	counter_set(&l.machine_permille, 990);
	counter_set(&l.sent, 4000);
	counter_set(&l.wakeups, 1000);
	sat_judge(&l, true, false, &v);
	assert_int_equal(v.side, SAT_NONE);        /* a pass names no side */
	assert_true(v.measured);
	assert_true(v.client_cpus > 1.49 && v.client_cpus < 1.51);
	assert_true(v.wakeups_per_msg > 0.249 && v.wakeups_per_msg < 0.251);
	sat_judge(&l, false, false, &v);
	assert_int_equal(v.side, SAT_CLIENT);
	assert_string_equal(sat_name(v.side), "client");
	sbuf_init(&o, buf, sizeof(buf));
	sat_text(&o, &v);
	sat_verdict(&o, &v);
	assert_non_null(strstr(buf, "    client CPU  1.50 CPUs over 2 processes (busiest 95% of one CPU), 0.25 wake-ups "
				    "per message; this machine's CPUs 99% busy\n"));
	assert_non_null(strstr(buf, "    ran out     the client: its busiest process was on CPU 95%"));
	assert_non_null(strstr(buf, "; ran out: the client"));
	counter_set(&l.cpu_permille_max, 600);
	sat_judge(&l, false, false, &v);
	assert_int_equal(v.side, SAT_MACHINE);
	assert_string_equal(sat_name(v.side), "machine_cpu");
	sat_judge(&l, false, true, &v);            /* pinned apart: a busy machine is not the client's */
	assert_int_equal(v.side, SAT_SERVER);
	sbuf_init(&o, buf, sizeof(buf));
	sat_text(&o, &v);
	assert_non_null(strstr(buf, "(the client on CPUs of its own, --cpus)"));
	counter_set(&l.machine_permille, 500);
	sat_judge(&l, false, false, &v);
	assert_int_equal(v.side, SAT_SERVER);
	assert_string_equal(sat_name(v.side), "server_or_network");
	sbuf_init(&o, buf, sizeof(buf));
	sat_verdict(&o, &v);
	assert_string_equal(buf, "; ran out: the server or the path to it (not the client)");
	counter_set(&l.cpu_us, 0);
	counter_set(&l.cpu_permille_max, 0);
	sat_judge(&l, false, false, &v);           /* nothing measured (an older report): no claim */
	assert_int_equal(v.side, SAT_NONE);
	sbuf_init(&o, buf, sizeof(buf));
	sat_text(&o, &v);
	sat_verdict(&o, &v);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_pass),
		cmocka_unit_test(test_text_fail_explains_each_kind_once),
		cmocka_unit_test(test_text_interrupted_and_problems),
		cmocka_unit_test(test_json_report),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_latency_pass),
		cmocka_unit_test(test_latency_fail),
		cmocka_unit_test(test_findmax_report),
		cmocka_unit_test(test_sweep_report),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_progress_latency),
		cmocka_unit_test(test_merge_is_exact),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_saturation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
