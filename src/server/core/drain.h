/* The servers' graceful stop, counted. On its first SIGINT/SIGTERM a worker of c1m-server or c1m-epoll stops
 * accepting and reading, sends each connection the echo it still owes, closes it once nothing is left, and at
 * --drain-timeout closes whatever is still open. Each worker publishes how its drain went in one struct
 * drain_slot of shared memory (one writer, relaxed atomics, like struct stats_slot; the supervisor writes a
 * slot only after reaping its worker), and the supervisor sums the slots into the drain line of the shutdown
 * summary. The sum and the formatter are pure. */
#ifndef C1M_DRAIN_H
#define C1M_DRAIN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* How a connection open at the start of a drain ended. */
enum drain_close {
	DRAIN_CLOSE_FLUSHED,  /* every byte of echo it was owed went to the kernel (or none was owed): clean */
	DRAIN_CLOSE_DEADLINE, /* echo still unsent when --drain-timeout ran out: closed anyway */
	DRAIN_CLOSE_ERROR,    /* the peer reset, a write failed or the idle timeout fired while draining */
};

/* One worker's last drain. drain_slot_begin() starts a fresh record. */
struct drain_slot {
	_Atomic uint64_t begin_ns; /* clock_now_ns() when the drain began; 0 = the worker never drained */
	_Atomic uint64_t end_ns;   /* clock_now_ns() when nothing was left open; 0 = not ended (yet) */
	_Atomic uint64_t open;     /* connections open when the drain began */
	_Atomic uint64_t flushed;  /* of those, closed as DRAIN_CLOSE_FLUSHED */
	_Atomic uint64_t deadline; /* closed as DRAIN_CLOSE_DEADLINE */
	_Atomic uint64_t errors;   /* closed as DRAIN_CLOSE_ERROR */
	_Atomic uint64_t killed;   /* still open when the worker was killed mid-drain (set by the supervisor) */
	_Atomic uint64_t cut;      /* 1 when the worker was killed before its drain ended (set by the supervisor) */
};

/* The slots of all workers summed. */
struct drain_totals {
	unsigned workers;          /* workers that began a drain */
	unsigned killed_workers;   /* of those, killed before their drain ended */
	uint64_t begin_ns;         /* earliest begin_ns; 0 = no drain */
	uint64_t end_ns;           /* latest end_ns */
	uint64_t open, flushed, deadline, errors, killed; /* connections, summed as in struct drain_slot */
};

/* Worker side, on its own slot. */
void drain_slot_begin(struct drain_slot *d, uint64_t now_ns, uint64_t open);
void drain_slot_closed(struct drain_slot *d, enum drain_close why);
void drain_slot_end(struct drain_slot *d, uint64_t now_ns);

/* Supervisor side, after reaping a worker that was killed (not exited) with `open` connections still counted
 * open: if it had begun a drain and not ended it, those count as killed and the drain ends now. Returns
 * whether the slot was mid-drain. */
int drain_slot_killed(struct drain_slot *d, uint64_t open, uint64_t now_ns);

/* Pure: sums n consecutive slots. */
void drain_sum(const struct drain_slot *slots, unsigned n, struct drain_totals *t);

/* Pure: the summary's drain line for a --drain-timeout of timeout_ms, ending in a newline, or an empty string
 * when no worker drained. Returns snprintf's length. Example:
 * "  drain (--drain-timeout 5 s): took 0.041 s; 10001 open at the signal: 10000 flushed and closed,
 *   1 closed at the deadline, 0 ended early (reset, error, idle timeout)\n" (one line). */
int drain_format_summary(const struct drain_totals *t, unsigned timeout_ms, char *buf, size_t len);

#endif
