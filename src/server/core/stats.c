/* Shared-memory counters of the server workers and the supervisor's status line. A slot has exactly one
 * writer, so an update is a relaxed load plus a relaxed store: no lock prefix on the per-byte path, and the
 * supervisor may read a value one update old, which a once-per-second status line does not notice. */
#include "server/core/stats.h"

#include "common/util/counter.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void stats_set_state(struct stats_slot *s, enum stats_accept_state st)
{
	counter_set32(&s->accept_state, (uint32_t)st);
}

void stats_slot_init(struct stats_slot *s)
{
	memset(s, 0, sizeof(*s));
}

void stats_slot_adopt(struct stats_slot *s, int32_t pid)
{
	uint64_t orphans = counter_get(&s->conns);

	counter_add(&s->closed, orphans);
	counter_add(&s->lost, orphans);
	counter_set(&s->conns, 0);
	counter_set(&s->rss_bytes, 0);
	stats_set_state(s, STATS_STARTING);
	counter_set32(&s->stop_state, (uint32_t)STATS_STARTING);
	counter_set32(&s->incarnation, counter_get32(&s->incarnation) + 1);
	counter_set_i32(&s->pid, pid);
}

void stats_sum(const void *slots, size_t slot_size, unsigned n, struct stats_totals *t)
{
	unsigned i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++) {
		const struct stats_slot *s = (const struct stats_slot *)(const void *)((const char *)slots +
											 (size_t)i * slot_size);
		uint32_t st = counter_get32(&s->accept_state);
		uint32_t inc = counter_get32(&s->incarnation);

		t->conns += counter_get(&s->conns);
		t->accepted += counter_get(&s->accepted);
		t->closed += counter_get(&s->closed);
		t->lost += counter_get(&s->lost);
		t->err_emfile += counter_get(&s->err_emfile);
		t->err_enfile += counter_get(&s->err_enfile);
		t->err_accept += counter_get(&s->err_accept);
		t->err_read += counter_get(&s->err_read);
		t->err_write += counter_get(&s->err_write);
		t->err_reset += counter_get(&s->err_reset);
		t->idle_closed += counter_get(&s->idle_closed);
		t->stop_closed += counter_get(&s->stop_closed);
		t->bytes_in += counter_get(&s->bytes_in);
		t->bytes_out += counter_get(&s->bytes_out);
		t->accept_pauses += counter_get(&s->accept_pauses);
		t->listener_closes += counter_get(&s->listener_closes);
		t->rss_bytes += counter_get(&s->rss_bytes);
		t->cap += counter_get(&s->cap);
		if (st < STATS_STATE_COUNT)
			t->by_state[st]++;
		if (counter_get_i32(&s->pid) != 0)
			t->running++;
		if (inc > 1)
			t->restarts += inc - 1;
		t->workers++;
	}
}

const char *stats_state_name(enum stats_accept_state st)
{
	switch (st) {
	case STATS_ACCEPTING:
		return "accepting";
	case STATS_PAUSED:
		return "paused";
	case STATS_FULL_HELD:
		return "full (listeners held)";
	case STATS_CLOSED:
		return "full (listeners closed)";
	case STATS_STOPPING:
		return "stopping";
	case STATS_STARTING:
		return "starting";
	case STATS_STATE_COUNT:
		break;
	}
	return "unknown";
}

/* Counter difference that survives a restarted worker (counters never go backwards, but be safe). */
static uint64_t stats_delta(uint64_t now, uint64_t prev)
{
	return now >= prev ? now - prev : 0;
}

static double stats_rate(uint64_t now, uint64_t prev, double dt_s)
{
	if (dt_s <= 0.0)
		return 0.0;
	return (double)stats_delta(now, prev) / dt_s;
}

int stats_format_line(const struct stats_totals *now, const struct stats_totals *prev, double dt_s, char *buf,
		      size_t len)
{
	const double mb = 1000.0 * 1000.0;

	if (prev == NULL) {
		prev = now;
		dt_s = 0.0;
	}
	return snprintf(buf, len,
		"conns %" PRIu64 " | +%.0f/s accepted %" PRIu64 " closed %" PRIu64
		" | errors: EMFILE %" PRIu64 " ENFILE %" PRIu64 " accept %" PRIu64 " read %" PRIu64
		" write %" PRIu64 " reset %" PRIu64
		" | in %.2f MB/s out %.2f MB/s | paused %u/%u workers, full %u | rss %.1f MiB",
		now->conns, stats_rate(now->accepted, prev->accepted, dt_s), now->accepted, now->closed,
		now->err_emfile, now->err_enfile, now->err_accept, now->err_read, now->err_write, now->err_reset,
		stats_rate(now->bytes_in, prev->bytes_in, dt_s) / mb, stats_rate(now->bytes_out, prev->bytes_out, dt_s) / mb,
		now->by_state[STATS_PAUSED], now->workers,
		now->by_state[STATS_FULL_HELD] + now->by_state[STATS_CLOSED],
		(double)now->rss_bytes / (1024.0 * 1024.0));
}

int stats_format_summary(const struct stats_totals *t, double elapsed_s, char *buf, size_t len)
{
	return snprintf(buf, len,
		"summary: %.1f s, %u workers (%" PRIu64 " restarts)\n"
		"  connections: accepted %" PRIu64 ", closed %" PRIu64 " (idle timeout %" PRIu64
		", lost with a crashed worker %" PRIu64 "), open at shutdown %" PRIu64 "\n"
		"  errors: EMFILE %" PRIu64 ", ENFILE %" PRIu64 ", other accept %" PRIu64 ", read %" PRIu64
		", write %" PRIu64 ", reset %" PRIu64 "\n"
		"  accept pauses %" PRIu64 ", listener closes at cap %" PRIu64 "\n"
		"  bytes: in %" PRIu64 ", out %" PRIu64 "\n",
		elapsed_s, t->workers, t->restarts,
		t->accepted, t->closed, t->idle_closed, t->lost, t->stop_closed + t->conns,
		t->err_emfile, t->err_enfile, t->err_accept, t->err_read, t->err_write, t->err_reset,
		t->accept_pauses, t->listener_closes,
		t->bytes_in, t->bytes_out);
}

int stats_format_worker(unsigned index, int pid, unsigned starts, const struct stats_slot *s, char *buf,
			size_t len)
{
	uint32_t st = counter_get32(&s->stop_state);

	return snprintf(buf, len,
		"  worker %u pid %d (starts %u): accepted %" PRIu64 ", closed %" PRIu64 ", open at stop %" PRIu64
		", state %s\n",
		index, pid, starts, counter_get(&s->accepted), counter_get(&s->closed),
		counter_get(&s->stop_closed) + counter_get(&s->conns),
		stats_state_name(st < STATS_STATE_COUNT ? (enum stats_accept_state)st : STATS_STATE_COUNT));
}
