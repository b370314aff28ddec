/* The latency phase's schedule: exact counts over a duration, even spacing in time, every message of the
 * phase owned by exactly one worker and one connection, and the due counts a worker derives from the
 * clock agreeing with the times of its own messages. Small cases are enumerated exhaustively. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/sched.h"

#define NS 1000000000ULL

static void test_total_rounds(void **state)
{
	(void)state;
	assert_int_equal(sched_total(10000, 10000), 100000);
	assert_int_equal(sched_total(3, 500), 2);       /* 1.5 rounds half up */
	assert_int_equal(sched_total(3, 499), 1);       /* 1.497 */
	assert_int_equal(sched_total(1, 499), 0);       /* less than one message */
	assert_int_equal(sched_total(2000, 3000), 6000);
	assert_int_equal(sched_total(SCHED_MAX_RATE, SCHED_MAX_DURATION_MS), SCHED_MAX_RATE * 86400ULL);
}

static void test_init_rejects(void **state)
{
	struct sched s;

	(void)state;
	assert_int_equal(sched_init(&s, 0, 1000, 10, 1, 0), -1);
	assert_int_equal(sched_init(&s, SCHED_MAX_RATE + 1, 1000, 10, 1, 0), -1);
	assert_int_equal(sched_init(&s, 10, 0, 10, 1, 0), -1);
	assert_int_equal(sched_init(&s, 10, SCHED_MAX_DURATION_MS + 1, 10, 1, 0), -1);
	assert_int_equal(sched_init(&s, 10, 1000, 10, 0, 0), -1);
	assert_int_equal(sched_init(&s, 10, 1000, 10, 2, 2), -1);
	assert_int_equal(sched_init(&s, 10, 1000, 0, 1, 0), 0);
	assert_int_equal(s.local_total, 0);               /* no connections: no messages */
}

/* One process: message k due at k/R, to connection k mod C, with seq k / C. */
static void test_single_worker_layout(void **state)
{
	struct sched s;
	uint64_t j;

	(void)state;
	assert_int_equal(sched_init(&s, 1000, 2000, 7, 1, 0), 0);
	assert_int_equal(s.total, 2000);
	assert_int_equal(s.local_total, 2000);
	for (j = 0; j < s.local_total; j++) {
		assert_int_equal(sched_global(&s, j), j);
		assert_int_equal(sched_conn_of(&s, j), j % 7);
		assert_int_equal(sched_seq_of(&s, j), j / 7);
		assert_int_equal(sched_local_index(&s, j % 7, j / 7), j);
		assert_int_equal(sched_local_offset_ns(&s, j), j * 1000000ULL);   /* 1 ms apart exactly */
	}
	assert_int_equal(sched_offset_ns(&s, 1999), 1999000000ULL);
}

/* Evenly spread: consecutive messages are floor or ceil of 10^9 / R apart, and the last one is before the
 * end of the duration. */
static void test_even_spacing(void **state)
{
	static const uint64_t rates[] = { 1, 3, 7, 1000, 2999, 10000, 333333, 99999989 };
	struct sched s;
	uint64_t i, k, d, lo, hi, prev;

	(void)state;
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		assert_int_equal(sched_init(&s, rates[i], 3000, 1, 1, 0), 0);
		lo = NS / rates[i];
		hi = lo + (NS % rates[i] ? 1 : 0);
		prev = sched_offset_ns(&s, 0);
		assert_int_equal(prev, 0);
		for (k = 1; k < s.total && k < 200000; k++) {
			d = sched_offset_ns(&s, k) - prev;
			assert_true(d == lo || d == hi);
			prev += d;
		}
		assert_true(sched_offset_ns(&s, s.total - 1) < 3000 * 1000000ULL + NS / rates[i]);
	}
}

/* Every global message in [0, total) belongs to exactly one (worker, local index), local messages come in
 * increasing global order, and the connection of message k is k mod C, owned by worker (k mod C) mod W as
 * its local connection (k mod C) / W. */
static void test_split_is_a_partition(void **state)
{
	static const struct { uint64_t rate, ms, conns; unsigned workers; } cases[] = {
		{ 1000, 1000, 10, 3 }, { 997, 1500, 7, 7 }, { 50, 2000, 3, 5 }, { 10000, 100, 1000, 4 },
		{ 123, 1000, 1, 1 }, { 500, 1000, 41, 6 }, { 10, 1000, 100, 3 },
	};
	struct sched s;
	unsigned c, w;
	uint64_t j, k, sum, prev;
	bool *seen;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint64_t total = sched_total(cases[c].rate, cases[c].ms);

		seen = calloc(total, sizeof(*seen));
		assert_non_null(seen);
		sum = 0;
		for (w = 0; w < cases[c].workers; w++) {
			assert_int_equal(sched_init(&s, cases[c].rate, cases[c].ms, cases[c].conns, cases[c].workers, w), 0);
			assert_int_equal(s.local_conns, sched_share(cases[c].conns, cases[c].workers, w));
			sum += s.local_total;
			prev = 0;
			for (j = 0; j < s.local_total; j++) {
				k = sched_global(&s, j);
				assert_true(k < total);
				assert_false(seen[k]);
				seen[k] = true;
				if (j > 0)
					assert_true(k > prev);
				prev = k;
				assert_int_equal((k % cases[c].conns) % cases[c].workers, w);
				assert_int_equal((k % cases[c].conns) / cases[c].workers, sched_conn_of(&s, j));
				assert_int_equal(sched_local_index(&s, sched_conn_of(&s, j), sched_seq_of(&s, j)), j);
			}
		}
		assert_int_equal(sum, total);   /* split over workers sums exactly */
		for (k = 0; k < total; k++)
			assert_true(seen[k]);
		free(seen);
	}
}

/* sched_due(d) is exactly the number of local messages whose offset is <= d, at and around every
 * message's time, and sched_conn_due agrees with counting. */
static void test_due_matches_times(void **state)
{
	struct sched s;
	uint64_t j, n, d, c, cnt, x;
	unsigned w;
	const uint64_t probes[] = { 0, 1, 999999, 1000000, 1000001, 333333333, 999999999, 1000000000, 1499999999,
				    2000000000, 5000000000ULL };

	(void)state;
	for (w = 0; w < 3; w++) {
		assert_int_equal(sched_init(&s, 3001, 1500, 11, 3, w), 0);
		for (j = 0; j < s.local_total; j++) {
			d = sched_local_offset_ns(&s, j);
			assert_int_equal(sched_due(&s, d), j + 1);
			if (d > 0)
				assert_true(sched_due(&s, d - 1) <= j);
		}
		for (x = 0; x < sizeof(probes) / sizeof(probes[0]); x++) {
			d = probes[x];
			for (n = 0; n < s.local_total && sched_local_offset_ns(&s, n) <= d; n++)
				;
			assert_int_equal(sched_due(&s, d), n);
		}
		assert_int_equal(sched_due(&s, UINT64_MAX), s.local_total);
		for (c = 0; c < s.local_conns; c++)
			for (n = 0; n <= s.local_total; n += 7) {
				for (cnt = 0, j = 0; j < n; j++)
					cnt += sched_conn_of(&s, j) == c;
				assert_int_equal(sched_conn_due(&s, c, n), cnt);
			}
	}
}

/* More workers than connections: the idle workers get no messages, the others all of them. */
static void test_more_workers_than_conns(void **state)
{
	struct sched s;
	uint64_t sum = 0;
	unsigned w;

	(void)state;
	for (w = 0; w < 8; w++) {
		assert_int_equal(sched_init(&s, 100, 1000, 5, 8, w), 0);
		if (w >= 5)
			assert_int_equal(s.local_total, 0);
		sum += s.local_total;
	}
	assert_int_equal(sum, 100);
}

/* Large numbers do not overflow: 10^8 msg/s for a day, last message just before 86400 s. */
static void test_large(void **state)
{
	struct sched s;

	(void)state;
	assert_int_equal(sched_init(&s, SCHED_MAX_RATE, SCHED_MAX_DURATION_MS, 1000000, 50, 49), 0);
	assert_int_equal(sched_offset_ns(&s, s.total - 1), 86400 * NS - 10);
	assert_int_equal(sched_due(&s, 86400 * NS), s.local_total);
	assert_int_equal(s.local_total * 50, s.total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_total_rounds),
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test(test_single_worker_layout),
		cmocka_unit_test(test_even_spacing),
		cmocka_unit_test(test_split_is_a_partition),
		cmocka_unit_test(test_due_matches_times),
		cmocka_unit_test(test_more_workers_than_conns),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
