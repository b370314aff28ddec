/* Log-linear latency histogram (HdrHistogram-like) for connect times and echo round trips, in microseconds.
 * Values 0..255 us are counted exactly; above that every power of two is split into 128 equal sub-buckets, so
 * a bucket is never wider than 1/128 of its lower bound (< 0.8 %), and the midpoint we report is within 0.4 %
 * of any value in it. Range 0 us .. HIST_MAX_US (60 s); larger values are clamped into the top bucket and
 * counted in `overflow`. The struct is plain old data without pointers, so it can live in a shared-memory slot
 * written by one worker and read by the supervisor: its fields are single-writer counters (common/util/counter.h),
 * so hist_record needs no lock and hist_merge / the readers see each field whole.
 * Merging adds counts bucket by bucket, so a merged histogram is bit-for-bit the histogram that would have
 * recorded all values itself: its percentiles are exactly the same. */
#ifndef C1M_HIST_H
#define C1M_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define HIST_MAX_US      60000000ULL  /* 60 s: largest value with its own bucket */
#define HIST_SUB_BITS    7            /* 2^7 = 128 sub-buckets per power of two */
#define HIST_SUB_COUNT   (1u << HIST_SUB_BITS)
#define HIST_EXACT_LIMIT (2u * HIST_SUB_COUNT)  /* values below 256 us have a bucket each */
#define HIST_TOP_MSB     25           /* floor(log2(HIST_MAX_US)) */
/* 256 exact buckets + 128 per power of two from 2^8 to 2^25 */
#define HIST_BUCKETS     (HIST_EXACT_LIMIT + (HIST_TOP_MSB - 7) * HIST_SUB_COUNT)

struct hist {
	_Atomic uint64_t counts[HIST_BUCKETS]; /* number of values per bucket */
	_Atomic uint64_t total;                /* number of values recorded */
	_Atomic uint64_t overflow;             /* values above HIST_MAX_US (clamped into the top bucket) */
	_Atomic uint64_t sum_us;               /* sum of recorded values as given (unclamped), microseconds */
	_Atomic uint64_t min_us;               /* exact smallest value, microseconds; UINT64_MAX when empty */
	_Atomic uint64_t max_us;               /* exact largest value (unclamped), microseconds; 0 when empty */
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t value_us);
/* dst += src. src may be concurrently written by its single owner: each field is read atomically. */
void hist_merge(struct hist *dst, const struct hist *src);
/* Value at percentile p (0..100, clamped): the midpoint of the bucket holding the value of rank
 * ceil(p/100 * count) (at least 1), clamped to [min, max]. p = 0 gives min, p = 100 gives max, exactly.
 * Within 0.4 % of a recorded value for values <= HIST_MAX_US. 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);
uint64_t hist_count(const struct hist *h);
uint64_t hist_min(const struct hist *h);    /* 0 when empty */
uint64_t hist_max(const struct hist *h);    /* 0 when empty */
double   hist_mean(const struct hist *h);   /* microseconds; 0 when empty */
uint64_t hist_overflow(const struct hist *h);

/* Bucket geometry, exposed for the tests: index of a value, and the inclusive value range of a bucket. */
unsigned hist_bucket_of(uint64_t value_us);
uint64_t hist_bucket_low(unsigned index);
uint64_t hist_bucket_high(unsigned index);

#endif
