/* Unit tests for the client's report: the JSON writer (escaping, nesting, overflow, misuse), the verdict
 * and failure explanations of the text report, the JSON report's keys, and the progress line, all from
 * fabricated stats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report.h"

static void test_json_escaping(void **state)
{
	struct report_json w;
	char buf[256];

	(void)state;
	report_json_init(&w, buf, sizeof(buf));
	report_json_object_begin(&w, NULL);
	report_json_string(&w, "s", "a\"b\\c\nd\te\x01\x1f" "\xc3\xa9/");
	report_json_string(&w, "k\"ey", "");
	report_json_object_end(&w);
	assert_int_equal(report_json_finish(&w), (int)strlen(buf));
	assert_string_equal(buf, "{\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f\xc3\xa9/\",\"k\\\"ey\":\"\"}");
}

static void test_json_values_and_nesting(void **state)
{
	struct report_json w;
	char buf[256];

	(void)state;
	report_json_init(&w, buf, sizeof(buf));
	report_json_object_begin(&w, NULL);
	report_json_u64(&w, "u", UINT64_MAX);
	report_json_i64(&w, "i", -42);
	report_json_double(&w, "d", 1.23456, 2);
	report_json_double(&w, "nan", 0.0 / 0.0, 2);
	report_json_bool(&w, "t", true);
	report_json_bool(&w, "f", false);
	report_json_object_begin(&w, "o");
	report_json_object_end(&w);
	report_json_array_begin(&w, "a");
	report_json_u64(&w, NULL, 1);
	report_json_string(&w, NULL, "x");
	report_json_object_begin(&w, NULL);
	report_json_u64(&w, "y", 2);
	report_json_object_end(&w);
	report_json_array_end(&w);
	report_json_object_end(&w);
	assert_true(report_json_finish(&w) > 0);
	assert_string_equal(buf, "{\"u\":18446744073709551615,\"i\":-42,\"d\":1.23,\"nan\":null,\"t\":true,"
				 "\"f\":false,\"o\":{},\"a\":[1,\"x\",{\"y\":2}]}");
}

static void test_json_overflow_and_misuse(void **state)
{
	struct report_json w;
	char small[10], buf[64];
	int i;

	(void)state;
	report_json_init(&w, small, sizeof(small));
	report_json_object_begin(&w, NULL);
	report_json_string(&w, "key", "a long value that does not fit");
	report_json_object_end(&w);
	assert_int_equal(report_json_finish(&w), -1);
	assert_true(strlen(small) < sizeof(small));  /* still NUL-terminated */

	report_json_init(&w, buf, sizeof(buf));      /* unclosed */
	report_json_object_begin(&w, NULL);
	assert_int_equal(report_json_finish(&w), -1);

	report_json_init(&w, buf, sizeof(buf));      /* closed too often */
	report_json_object_begin(&w, NULL);
	report_json_object_end(&w);
	report_json_object_end(&w);
	assert_int_equal(report_json_finish(&w), -1);

	report_json_init(&w, buf, sizeof(buf));      /* two top-level values */
	report_json_u64(&w, NULL, 1);
	report_json_u64(&w, NULL, 2);
	assert_int_equal(report_json_finish(&w), -1);

	report_json_init(&w, buf, sizeof(buf));      /* too deep */
	for (i = 0; i <= REPORT_JSON_DEPTH; i++)
		report_json_array_begin(&w, NULL);
	assert_int_equal(report_json_finish(&w), -1);
}

static void meta_init(struct report_meta *m, uint64_t target)
{
	memset(m, 0, sizeof(*m));
	m->target = target;
	strcpy(m->host, "127.0.0.1");
	m->port_base = 8081;
	m->ports = 100;
	m->sources.first = 0x7f000001;
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
	all.sources.first = 0x7f000001;
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
	assert_int_equal(w[0].sources.first, 0x7f000001);
	assert_int_equal(w[0].sources.count + w[1].sources.count + w[2].sources.count, 7);
	assert_int_equal(w[1].sources.first, w[0].sources.first + w[0].sources.count);
	assert_int_equal(w[2].sources.first, w[1].sources.first + w[1].sources.count);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_json_values_and_nesting),
		cmocka_unit_test(test_json_overflow_and_misuse),
		cmocka_unit_test(test_text_pass),
		cmocka_unit_test(test_text_fail_explains_each_kind_once),
		cmocka_unit_test(test_text_interrupted_and_problems),
		cmocka_unit_test(test_json_report),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_merge_is_exact),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
