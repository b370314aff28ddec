/* Unit tests for the latency histogram: bucket geometry and its error bound over the whole range, exact
 * percentiles on known data, merge exactness across randomly split data, clamping and the empty case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/hist.h"

static struct hist *hist_new(void)
{
	struct hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	hist_init(h);
	return h;
}

/* |a - b| <= b * pct / 100 */
static void assert_within(uint64_t a, uint64_t b, double pct)
{
	double d = (double)a - (double)b;

	if (d < 0)
		d = -d;
	if (d > (double)b * pct / 100.0)
		fail_msg("%llu is not within %.2f%% of %llu", (unsigned long long)a, pct, (unsigned long long)b);
}

static void test_geometry_contiguous(void **state)
{
	unsigned i;

	(void)state;
	assert_int_equal(hist_bucket_low(0), 0);
	for (i = 1; i < HIST_BUCKETS; i++)
		assert_int_equal(hist_bucket_low(i), hist_bucket_high(i - 1) + 1);
	assert_true(hist_bucket_of(HIST_MAX_US) < HIST_BUCKETS);
	assert_int_equal(hist_bucket_of(UINT64_MAX), hist_bucket_of(HIST_MAX_US));
	for (i = 0; i < HIST_EXACT_LIMIT; i++) {
		assert_int_equal(hist_bucket_of(i), i);
		assert_int_equal(hist_bucket_low(i), hist_bucket_high(i));
	}
}

/* Every value from 0 to 60 s (sampled densely around each power of two, and with a stride elsewhere) falls in
 * a bucket that contains it, and the bucket midpoint is within 1% of it. */
static void check_value(uint64_t v)
{
	unsigned b = hist_bucket_of(v);
	uint64_t lo = hist_bucket_low(b), hi = hist_bucket_high(b), mid = lo + (hi - lo) / 2;

	if (v < lo || v > hi)
		fail_msg("value %llu outside its bucket %u [%llu, %llu]", (unsigned long long)v, b,
			 (unsigned long long)lo, (unsigned long long)hi);
	if (v == 0)
		assert_int_equal(mid, 0);
	else
		assert_within(mid, v, 1.0);
}

static void test_relative_error_whole_range(void **state)
{
	uint64_t v, p;
	int d;

	(void)state;
	for (v = 0; v < 100000; v++)
		check_value(v);
	for (v = 100000; v <= HIST_MAX_US; v += 997)
		check_value(v);
	for (p = 1; p <= HIST_MAX_US; p <<= 1)
		for (d = -3; d <= 3; d++)
			if ((int64_t)p + d >= 0 && p + (uint64_t)d <= HIST_MAX_US)
				check_value(p + (uint64_t)d);
	check_value(HIST_MAX_US);
}

static void test_uniform_percentiles(void **state)
{
	struct hist *h = hist_new();
	uint64_t v;
	int p;

	(void)state;
	for (v = 1; v <= 10000; v++)
		hist_record(h, v);
	assert_int_equal(hist_count(h), 10000);
	assert_int_equal(hist_min(h), 1);
	assert_int_equal(hist_max(h), 10000);
	assert_true(hist_mean(h) > 5000.49 && hist_mean(h) < 5000.51);
	for (p = 1; p < 100; p++)
		assert_within(hist_percentile(h, p), (uint64_t)p * 100, 1.0);
	assert_within(hist_percentile(h, 50), 5000, 1.0);
	assert_within(hist_percentile(h, 99.9), 9990, 1.0);
	assert_int_equal(hist_percentile(h, 0), 1);
	assert_int_equal(hist_percentile(h, 100), 10000);
	/* small values are exact */
	assert_int_equal(hist_percentile(h, 1), 100);
	assert_int_equal(hist_percentile(h, 2.55), 255);
	free(h);
}

static void test_single_value_exact(void **state)
{
	struct hist *h = hist_new();

	(void)state;
	hist_record(h, 123456);
	/* midpoint clamped to [min, max] gives the value itself */
	assert_int_equal(hist_percentile(h, 50), 123456);
	assert_int_equal(hist_percentile(h, 99), 123456);
	assert_int_equal(hist_min(h), 123456);
	assert_int_equal(hist_max(h), 123456);
	free(h);
}

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void test_merge_exact(void **state)
{
	struct hist *all = hist_new(), *part[3], *merged = hist_new();
	uint64_t seed = 0x9E3779B97F4A7C15ULL, v;
	double p;
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		part[i] = hist_new();
	for (i = 0; i < 200000; i++) {
		/* log-uniform over 0 .. ~70 s so every decade is exercised, including overflow */
		v = rnd(&seed) >> (rnd(&seed) % 64);
		v %= 70000000ULL;
		hist_record(all, v);
		hist_record(part[rnd(&seed) % 3], v);
	}
	for (i = 0; i < 3; i++)
		hist_merge(merged, part[i]);
	assert_int_equal(hist_count(merged), hist_count(all));
	assert_int_equal(hist_min(merged), hist_min(all));
	assert_int_equal(hist_max(merged), hist_max(all));
	assert_int_equal(hist_overflow(merged), hist_overflow(all));
	assert_true(hist_overflow(all) > 0);
	assert_true(hist_mean(merged) == hist_mean(all));
	for (p = 0.0; p <= 100.0; p += 0.1)
		assert_int_equal(hist_percentile(merged, p), hist_percentile(all, p));
	assert_memory_equal(merged, all, sizeof(*all));
	for (i = 0; i < 3; i++)
		free(part[i]);
	free(all);
	free(merged);
}

static void test_merge_empty(void **state)
{
	struct hist *a = hist_new(), *b = hist_new();

	(void)state;
	hist_record(a, 42);
	hist_merge(a, b);
	assert_int_equal(hist_count(a), 1);
	assert_int_equal(hist_min(a), 42);
	hist_merge(b, a);
	assert_int_equal(hist_min(b), 42);
	assert_int_equal(hist_max(b), 42);
	free(a);
	free(b);
}

static void test_clamp(void **state)
{
	struct hist *h = hist_new();

	(void)state;
	hist_record(h, HIST_MAX_US);
	assert_int_equal(hist_overflow(h), 0);
	hist_record(h, HIST_MAX_US + 1);
	hist_record(h, 3600ULL * 1000000);
	assert_int_equal(hist_overflow(h), 2);
	assert_int_equal(hist_count(h), 3);
	assert_int_equal(hist_max(h), 3600ULL * 1000000);  /* the exact max is kept */
	assert_int_equal(h->counts[hist_bucket_of(HIST_MAX_US)], 3);
	/* p50 is in the top bucket: within 1% of 60 s */
	assert_within(hist_percentile(h, 50), HIST_MAX_US, 1.0);
	free(h);
}

static void test_zero_and_empty(void **state)
{
	struct hist *h = hist_new();

	(void)state;
	assert_int_equal(hist_count(h), 0);
	assert_int_equal(hist_min(h), 0);
	assert_int_equal(hist_max(h), 0);
	assert_true(hist_mean(h) == 0.0);
	assert_int_equal(hist_percentile(h, 50), 0);
	assert_int_equal(hist_percentile(h, 100), 0);
	hist_record(h, 0);
	assert_int_equal(hist_count(h), 1);
	assert_int_equal(hist_min(h), 0);
	assert_int_equal(hist_max(h), 0);
	assert_int_equal(hist_percentile(h, 50), 0);
	free(h);
}

static void test_pod_size(void **state)
{
	(void)state;
	/* fixed size, small enough that one per worker slot per metric is cheap */
	assert_true(sizeof(struct hist) < 32 * 1024);
	assert_int_equal(HIST_BUCKETS, 2560);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry_contiguous),
		cmocka_unit_test(test_relative_error_whole_range),
		cmocka_unit_test(test_uniform_percentiles),
		cmocka_unit_test(test_single_value_exact),
		cmocka_unit_test(test_merge_exact),
		cmocka_unit_test(test_merge_empty),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_zero_and_empty),
		cmocka_unit_test(test_pod_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
