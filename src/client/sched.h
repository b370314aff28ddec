/* Open-loop send schedule of the latency phase. Message k (0 <= k < total) of the phase is due at
 * t0 + floor(k * 10^9 / rate) ns and goes to connection g = k mod conns; connection g belongs to worker
 * g mod workers, where it is local connection g / workers (the loadgen numbers its attempts the same way:
 * worker i's share of a step is share(conns, workers, i) connections). So the whole phase is one evenly
 * spread sequence over time and connections, split exactly over the workers, and each worker can walk its
 * own messages in order without looking at the others'. Everything is integer arithmetic on pure values,
 * so every worker computes the same times and the tests can enumerate the schedule.
 *
 * Within a worker, local message j is (seq = j / local_conns, local connection c = j mod local_conns):
 * round seq visits the worker's connections in order, so one connection gets its messages one round (conns
 * messages, conns / rate seconds) apart. Pipelining rule: a connection may get its next message while an
 * earlier one is unanswered; nothing waits for a reply, which is what makes the load open-loop. */
#ifndef C1M_SCHED_H
#define C1M_SCHED_H

#include <stdint.h>

#define SCHED_MAX_RATE        100000000ULL  /* messages per second, all workers */
#define SCHED_MAX_DURATION_MS 86400000ULL   /* one day */

struct sched {
	uint64_t rate;          /* messages per second, all workers (>= 1) */
	uint64_t total;         /* messages in the phase, all workers: round(rate * duration) */
	uint64_t conns;         /* connections of the phase, all workers */
	uint64_t local_conns;   /* this worker's share of them */
	uint64_t local_total;   /* this worker's messages */
	unsigned workers;       /* processes sharing the phase (>= 1) */
	unsigned index;         /* this worker, 0 .. workers - 1 */
};

/* round(rate * duration_ms / 1000): messages in a phase (half rounds up). */
uint64_t sched_total(uint64_t rate, uint64_t duration_ms);
/* Number of x in [0, total) with x mod parts == index: worker index's share of total. */
uint64_t sched_share(uint64_t total, unsigned parts, unsigned index);

/* Fills s for worker index of workers. Returns 0, or -1 if rate is 0 or above SCHED_MAX_RATE, duration is
 * 0 or above SCHED_MAX_DURATION_MS, workers is 0 or index >= workers. conns 0 gives no messages. */
int sched_init(struct sched *s, uint64_t rate, uint64_t duration_ms, uint64_t conns, unsigned workers,
	       unsigned index);

/* Global number k of local message j (< local_total). */
uint64_t sched_global(const struct sched *s, uint64_t j);
/* Offset from t0 of global message k, nanoseconds: floor(k * 10^9 / rate). */
uint64_t sched_offset_ns(const struct sched *s, uint64_t k);
/* Offset of local message j: sched_offset_ns(sched_global(j)). */
uint64_t sched_local_offset_ns(const struct sched *s, uint64_t j);
/* Local messages due (offset <= elapsed_ns): a count, at most local_total. */
uint64_t sched_due(const struct sched *s, uint64_t elapsed_ns);
/* Local connection and per-connection sequence number of local message j, and back. */
uint64_t sched_conn_of(const struct sched *s, uint64_t j);
uint64_t sched_seq_of(const struct sched *s, uint64_t j);
uint64_t sched_local_index(const struct sched *s, uint64_t conn, uint64_t seq);
/* Messages of local connection conn among the first j local messages. */
uint64_t sched_conn_due(const struct sched *s, uint64_t conn, uint64_t j);

#endif
