/* Log-linear latency histogram. The bucket of a value v >= 256 is found from its most significant bit m
 * (8..25) and the next 7 bits below it: index = 256 + (m - 8) * 128 + ((v >> (m - 7)) - 128). Everything is
 * integer arithmetic, so the same value always lands in the same bucket in every process, which is what makes
 * merged percentiles exact. Fields are written with relaxed atomic stores because the histogram may sit in
 * shared memory while the supervisor reads it; there is exactly one writer, so load-add-store is enough. */
#include "client/hist.h"

#include <math.h>

#define LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

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
		STORE(&h->counts[i], 0);
	STORE(&h->total, 0);
	STORE(&h->overflow, 0);
	STORE(&h->sum_us, 0);
	STORE(&h->min_us, UINT64_MAX);
	STORE(&h->max_us, 0);
}

void hist_record(struct hist *h, uint64_t value_us)
{
	unsigned b = hist_bucket_of(value_us);

	STORE(&h->counts[b], LOAD(&h->counts[b]) + 1);
	if (value_us > HIST_MAX_US)
		STORE(&h->overflow, LOAD(&h->overflow) + 1);
	STORE(&h->sum_us, LOAD(&h->sum_us) + value_us);
	if (value_us < LOAD(&h->min_us))
		STORE(&h->min_us, value_us);
	if (value_us > LOAD(&h->max_us))
		STORE(&h->max_us, value_us);
	/* total last: a concurrent reader that sees the count also sees the bucket (on x86 stores are ordered;
	 * elsewhere a reader is off by one value at most, which only matters for live progress). */
	STORE(&h->total, LOAD(&h->total) + 1);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned i;
	uint64_t v;

	if (LOAD(&src->total) == 0)  /* also keeps a zeroed, never initialised src from faking min 0 */
		return;
	for (i = 0; i < HIST_BUCKETS; i++) {
		v = LOAD(&src->counts[i]);
		if (v)
			STORE(&dst->counts[i], LOAD(&dst->counts[i]) + v);
	}
	STORE(&dst->total, LOAD(&dst->total) + LOAD(&src->total));
	STORE(&dst->overflow, LOAD(&dst->overflow) + LOAD(&src->overflow));
	STORE(&dst->sum_us, LOAD(&dst->sum_us) + LOAD(&src->sum_us));
	v = LOAD(&src->min_us);
	if (v < LOAD(&dst->min_us))
		STORE(&dst->min_us, v);
	v = LOAD(&src->max_us);
	if (v > LOAD(&dst->max_us))
		STORE(&dst->max_us, v);
}

uint64_t hist_count(const struct hist *h)
{
	return LOAD(&h->total);
}

uint64_t hist_overflow(const struct hist *h)
{
	return LOAD(&h->overflow);
}

uint64_t hist_min(const struct hist *h)
{
	return LOAD(&h->total) ? LOAD(&h->min_us) : 0;
}

uint64_t hist_max(const struct hist *h)
{
	return LOAD(&h->total) ? LOAD(&h->max_us) : 0;
}

double hist_mean(const struct hist *h)
{
	uint64_t n = LOAD(&h->total);

	return n ? (double)LOAD(&h->sum_us) / (double)n : 0.0;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t n = LOAD(&h->total), rank, seen = 0, lo, hi, mid, mn, mx;
	unsigned i;

	if (n == 0)
		return 0;
	mn = LOAD(&h->min_us);
	mx = LOAD(&h->max_us);
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
		seen += LOAD(&h->counts[i]);
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
