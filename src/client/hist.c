/* Log-linear latency histogram. The bucket of a value v >= 256 is found from its most significant bit m
 * (8..25) and the next 7 bits below it: index = 256 + (m - 8) * 128 + ((v >> (m - 7)) - 128). Everything is
 * integer arithmetic, so the same value always lands in the same bucket in every process, which is what makes
 * merged percentiles exact. The histogram may sit in shared memory while the supervisor reads it; there is
 * exactly one writer, so every field is a counter_ (relaxed load and store, no locked read-modify-write). */
#include "client/hist.h"

#include <math.h>

#include "common/util/counter.h"

static unsigned msb64(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);
}

unsigned hist_bucket_of(uint64_t value_us)
{
	unsigned m;

	if (value_us > HIST_MAX_US)
		value_us = HIST_MAX_US;
	if (value_us < HIST_EXACT_LIMIT)
		return (unsigned)value_us;
	m = msb64(value_us);
	return HIST_EXACT_LIMIT + (m - 8) * HIST_SUB_COUNT +
	       (unsigned)((value_us >> (m - HIST_SUB_BITS)) - HIST_SUB_COUNT);
}

uint64_t hist_bucket_low(unsigned index)
{
	unsigned m, sub;

	if (index < HIST_EXACT_LIMIT)
		return index;
	m = 8 + (index - HIST_EXACT_LIMIT) / HIST_SUB_COUNT;
	sub = (index - HIST_EXACT_LIMIT) % HIST_SUB_COUNT;
	return (uint64_t)(HIST_SUB_COUNT + sub) << (m - HIST_SUB_BITS);
}

uint64_t hist_bucket_high(unsigned index)
{
	unsigned m;

	if (index < HIST_EXACT_LIMIT)
		return index;
	m = 8 + (index - HIST_EXACT_LIMIT) / HIST_SUB_COUNT;
	return hist_bucket_low(index) + (1ULL << (m - HIST_SUB_BITS)) - 1;
}

void hist_init(struct hist *h)
{
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		counter_set(&h->counts[i], 0);
	counter_set(&h->total, 0);
	counter_set(&h->overflow, 0);
	counter_set(&h->sum_us, 0);
	counter_set(&h->min_us, UINT64_MAX);
	counter_set(&h->max_us, 0);
}

void hist_record(struct hist *h, uint64_t value_us)
{
	counter_add(&h->counts[hist_bucket_of(value_us)], 1);
	if (value_us > HIST_MAX_US)
		counter_add(&h->overflow, 1);
	counter_add(&h->sum_us, value_us);
	if (value_us < counter_get(&h->min_us))
		counter_set(&h->min_us, value_us);
	counter_max(&h->max_us, value_us);
	/* total last: a concurrent reader that sees the count also sees the bucket (on x86 stores are ordered;
	 * elsewhere a reader is off by one value at most, which only matters for live progress). */
	counter_add(&h->total, 1);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned i;
	uint64_t v;

	if (counter_get(&src->total) == 0)  /* also keeps a zeroed, never initialised src from faking min 0 */
		return;
	for (i = 0; i < HIST_BUCKETS; i++) {
		v = counter_get(&src->counts[i]);
		if (v)
			counter_add(&dst->counts[i], v);
	}
	counter_add(&dst->total, counter_get(&src->total));
	counter_add(&dst->overflow, counter_get(&src->overflow));
	counter_add(&dst->sum_us, counter_get(&src->sum_us));
	v = counter_get(&src->min_us);
	if (v < counter_get(&dst->min_us))
		counter_set(&dst->min_us, v);
	counter_max(&dst->max_us, counter_get(&src->max_us));
}

uint64_t hist_count(const struct hist *h)
{
	return counter_get(&h->total);
}

uint64_t hist_overflow(const struct hist *h)
{
	return counter_get(&h->overflow);
}

uint64_t hist_min(const struct hist *h)
{
	return counter_get(&h->total) ? counter_get(&h->min_us) : 0;
}

uint64_t hist_max(const struct hist *h)
{
	return counter_get(&h->total) ? counter_get(&h->max_us) : 0;
}

double hist_mean(const struct hist *h)
{
	uint64_t n = counter_get(&h->total);

	return n ? (double)counter_get(&h->sum_us) / (double)n : 0.0;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t n = counter_get(&h->total), rank, seen = 0, lo, hi, mid, mn, mx;
	unsigned i;

	if (n == 0)
		return 0;
	mn = counter_get(&h->min_us);
	mx = counter_get(&h->max_us);
	if (!(p > 0.0))        /* also catches NaN */
		return mn;
	if (p >= 100.0)
		return mx;
	rank = (uint64_t)ceil(p * (double)n / 100.0);  /* p*n first: exact for integer p */
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += counter_get(&h->counts[i]);
		if (seen >= rank)
			break;
	}
	if (i == HIST_BUCKETS)  /* a live histogram read mid-update: counts lag total */
		return mx;
	lo = hist_bucket_low(i);
	hi = hist_bucket_high(i);
	mid = lo + (hi - lo) / 2;
	if (mid < mn)
		mid = mn;
	if (mid > mx)
		mid = mx;
	return mid;
}
