/* Unit tests for the shared-memory counters: aggregation over slots laid out with padding, the restart
 * bookkeeping, and the exact status line and summary text from fabricated totals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "server/core/stats.h"
#include "common/util/counter.h"

/* A server slot is bigger than struct stats_slot (it embeds it); the sum must honour the stride. */
struct padded_slot {
	struct stats_slot s;
	char other[40];
};

static void test_sum(void **state)
{
	struct padded_slot slots[3];
	struct stats_totals t;
	unsigned i;

	(void)state;
	memset(slots, 0x5a, sizeof(slots)); /* garbage in the padding must not be summed */
	for (i = 0; i < 3; i++) {
		stats_slot_init(&slots[i].s);
		stats_slot_adopt(&slots[i].s, (int32_t)(100 + i));
		counter_set(&slots[i].s.conns, 10 * (i + 1));
		counter_add(&slots[i].s.accepted, 100 * (i + 1));
		counter_add(&slots[i].s.closed, 90 * (i + 1));
		counter_add(&slots[i].s.err_emfile, i);
		counter_add(&slots[i].s.bytes_in, 1000);
		counter_add(&slots[i].s.bytes_out, 999);
		counter_set(&slots[i].s.rss_bytes, 1 << 20);
		counter_set(&slots[i].s.cap, 1000);
	}
	stats_set_state(&slots[0].s, STATS_ACCEPTING);
	stats_set_state(&slots[1].s, STATS_PAUSED);
	stats_set_state(&slots[2].s, STATS_CLOSED);
	stats_sum(slots, sizeof(slots[0]), 3, &t);
	assert_int_equal(t.workers, 3);
	assert_int_equal(t.running, 3);
	assert_int_equal(t.conns, 60);
	assert_int_equal(t.accepted, 600);
	assert_int_equal(t.closed, 540);
	assert_int_equal(t.err_emfile, 3);
	assert_int_equal(t.bytes_in, 3000);
	assert_int_equal(t.bytes_out, 2997);
	assert_int_equal(t.rss_bytes, 3 << 20);
	assert_int_equal(t.cap, 3000);
	assert_int_equal(t.by_state[STATS_ACCEPTING], 1);
	assert_int_equal(t.by_state[STATS_PAUSED], 1);
	assert_int_equal(t.by_state[STATS_CLOSED], 1);
	assert_int_equal(t.restarts, 0);
	/* Summing fewer slots than exist. */
	stats_sum(slots, sizeof(slots[0]), 1, &t);
	assert_int_equal(t.conns, 10);
	assert_int_equal(t.workers, 1);
}

static void test_counters(void **state)
{
	struct stats_slot s;

	(void)state;
	stats_slot_init(&s);
	counter_add(&s.conns, 5);
	counter_sub(&s.conns, 2);
	assert_int_equal(counter_get(&s.conns), 3);
	counter_set(&s.conns, 42);
	assert_int_equal(counter_get(&s.conns), 42);
}

/* A restarted worker adopts its slot: connections the dead incarnation held are counted closed and lost,
 * cumulative counters continue, and the restart shows in the totals. */
static void test_adopt_after_crash(void **state)
{
	struct stats_slot s;
	struct stats_totals t;

	(void)state;
	stats_slot_init(&s);
	stats_slot_adopt(&s, 10);
	assert_int_equal(s.incarnation, 1);
	assert_int_equal(s.accept_state, STATS_STARTING);
	counter_add(&s.accepted, 700);
	counter_add(&s.closed, 200);
	counter_set(&s.conns, 500);
	stats_slot_adopt(&s, 11);
	assert_int_equal(s.pid, 11);
	assert_int_equal(s.incarnation, 2);
	assert_int_equal(counter_get(&s.conns), 0);
	assert_int_equal(counter_get(&s.closed), 700);
	assert_int_equal(counter_get(&s.lost), 500);
	assert_int_equal(counter_get(&s.accepted), 700);
	stats_sum(&s, sizeof(s), 1, &t);
	assert_int_equal(t.restarts, 1);
	assert_int_equal(t.accepted - t.closed, t.conns);
}

static void fill(struct stats_totals *t, uint64_t conns, uint64_t accepted, uint64_t bytes)
{
	memset(t, 0, sizeof(*t));
	t->conns = conns;
	t->accepted = accepted;
	t->closed = accepted - conns;
	t->bytes_in = bytes;
	t->bytes_out = bytes;
	t->workers = 1;
	t->running = 1;
	t->by_state[STATS_ACCEPTING] = 1;
	t->rss_bytes = 21 * 1024 * 1024 + 512 * 1024;
}

static void test_line(void **state)
{
	struct stats_totals prev, now;
	char buf[512];
	int n;

	(void)state;
	fill(&prev, 10000, 10000, 0);
	fill(&now, 19000, 19000 + 2000, 4000000);
	now.err_emfile = 7;
	now.err_reset = 3;
	now.workers = 3;
	now.by_state[STATS_ACCEPTING] = 1;
	now.by_state[STATS_PAUSED] = 1;
	now.by_state[STATS_CLOSED] = 1;
	n = stats_format_line(&now, &prev, 2.0, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "conns 19000 | +5500/s accepted 21000 closed 2000 | errors: EMFILE 7 ENFILE 0 accept 0 "
				 "read 0 write 0 reset 3 | in 2.00 MB/s out 2.00 MB/s | paused 1/3 workers, full 1 | "
				 "rss 21.5 MiB");
}

static void test_line_first_and_zero_dt(void **state)
{
	struct stats_totals now, prev;
	char buf[512];

	(void)state;
	fill(&now, 5, 5, 100);
	stats_format_line(&now, NULL, 1.0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "conns 5 | +0/s accepted 5 closed 0"));
	assert_non_null(strstr(buf, "in 0.00 MB/s"));
	/* dt 0 must not divide by zero. */
	fill(&prev, 0, 0, 0);
	stats_format_line(&now, &prev, 0.0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "+0/s"));
	/* A counter that went backwards (never expected) gives a rate of 0, not a huge number. */
	fill(&prev, 0, 10, 0);
	stats_format_line(&now, &prev, 1.0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "+0/s"));
}

static void test_line_truncates(void **state)
{
	struct stats_totals now;
	char buf[16];
	int n;

	(void)state;
	fill(&now, 19000, 19000, 0);
	memset(buf, 'x', sizeof(buf));
	n = stats_format_line(&now, NULL, 1.0, buf, sizeof(buf));
	assert_true(n > (int)sizeof(buf));
	assert_int_equal(buf[sizeof(buf) - 1], '\0');
	assert_string_equal(buf, "conns 19000 | +");
}

static void test_summary(void **state)
{
	struct stats_totals t;
	char buf[2048];

	(void)state;
	fill(&t, 0, 19000, 190000);
	t.workers = 3;
	t.restarts = 1;
	t.lost = 1006;
	t.stop_closed = 17000;
	t.err_emfile = 39;
	t.accept_pauses = 40;
	t.listener_closes = 2;
	stats_format_summary(&t, 12.34, buf, sizeof(buf));
	assert_non_null(strstr(buf, "summary: 12.3 s, 3 workers (1 restarts)\n"));
	assert_non_null(strstr(buf, "accepted 19000, closed 19000"));
	assert_non_null(strstr(buf, "lost with a crashed worker 1006), open at shutdown 17000\n"));
	assert_non_null(strstr(buf, "EMFILE 39"));
	assert_non_null(strstr(buf, "accept pauses 40, listener closes at cap 2"));
	assert_non_null(strstr(buf, "bytes: in 190000, out 190000\n"));
	assert_int_equal(buf[strlen(buf) - 1], '\n');
}

/* The per-worker summary lines: counters over all incarnations (so they add up to the totals), "open at
 * stop" = closed by the stop + still counted open, and the state the worker was in when it began to stop. */
static void test_worker_line(void **state)
{
	struct padded_slot slots[2];
	struct stats_totals t;
	char buf[256];
	int n;

	(void)state;
	stats_slot_init(&slots[0].s);
	stats_slot_init(&slots[1].s);
	stats_slot_adopt(&slots[0].s, 1234);
	stats_slot_adopt(&slots[1].s, 1300);
	assert_int_equal(slots[0].s.stop_state, STATS_STARTING);
	counter_add(&slots[0].s.accepted, 700);
	counter_add(&slots[0].s.closed, 200);
	counter_set(&slots[0].s.conns, 500);
	stats_slot_adopt(&slots[0].s, 1299); /* crashed with 500: closed 700, lost 500 */
	counter_add(&slots[0].s.accepted, 40);
	counter_add(&slots[0].s.stop_closed, 40);
	counter_add(&slots[0].s.closed, 40);
	atomic_store(&slots[0].s.stop_state, STATS_CLOSED);
	counter_add(&slots[1].s.accepted, 10);
	counter_set(&slots[1].s.conns, 10);
	atomic_store(&slots[1].s.stop_state, STATS_ACCEPTING);

	n = stats_format_worker(0, 1299, 2, &slots[0].s, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "  worker 0 pid 1299 (starts 2): accepted 740, closed 740, open at stop 40, "
				 "state full (listeners closed)\n");
	stats_format_worker(1, 1300, 1, &slots[1].s, buf, sizeof(buf));
	assert_string_equal(buf, "  worker 1 pid 1300 (starts 1): accepted 10, closed 0, open at stop 10, "
				 "state accepting\n");
	/* The per-worker numbers add up to the totals' line. */
	stats_sum(slots, sizeof(slots[0]), 2, &t);
	assert_int_equal(t.accepted, 750);
	assert_int_equal(t.closed, 740);
	assert_int_equal(t.stop_closed + t.conns, 50);
	/* A garbage state does not index past the names. */
	atomic_store(&slots[1].s.stop_state, 99);
	stats_format_worker(1, 1300, 1, &slots[1].s, buf, sizeof(buf));
	assert_non_null(strstr(buf, "state unknown\n"));
}

static void test_state_names(void **state)
{
	unsigned i;

	(void)state;
	for (i = 0; i < STATS_STATE_COUNT; i++)
		assert_string_not_equal(stats_state_name((enum stats_accept_state)i), "unknown");
	assert_string_equal(stats_state_name(STATS_STATE_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sum),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_adopt_after_crash),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_line_first_and_zero_dt),
		cmocka_unit_test(test_line_truncates),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_worker_line),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
