/* Server counters published by each worker process in shared memory and aggregated by the supervisor.
 * One struct stats_slot per worker, written only by that worker (relaxed C11 atomics: a plain load and store,
 * no read-modify-write, no locks) and read by the supervisor, which sums the slots into a struct stats_totals
 * and formats one status line for the whole server. The formatters are pure. */
#ifndef C1M_STATS_H
#define C1M_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Listener state a worker publishes (stats_slot.accept_state). */
enum stats_accept_state {
	STATS_ACCEPTING = 0, /* listeners open and enabled */
	STATS_PAUSED    = 1, /* listeners disabled after EMFILE/ENFILE; a timer or a close resumes */
	STATS_FULL_HELD = 2, /* at its cap, listeners kept open but disabled: the last worker with listeners, or
	                        net.ipv4.tcp_migrate_req = 0 (closing would reset the queued connections) */
	STATS_CLOSED    = 3, /* at its cap: listeners closed, queued requests migrate to other workers */
	STATS_STOPPING  = 4, /* shutting down */
	STATS_STARTING  = 5, /* (re)started, listeners not open yet */
	STATS_STATE_COUNT
};

struct stats_slot {
	_Atomic uint64_t conns;          /* connections open now */
	_Atomic uint64_t accepted;       /* connections accepted, cumulative */
	_Atomic uint64_t closed;         /* connections closed, cumulative (includes lost) */
	_Atomic uint64_t lost;           /* connections that died with a crashed earlier incarnation of this worker */
	_Atomic uint64_t err_emfile;     /* accept() failed with EMFILE (process fd limit) */
	_Atomic uint64_t err_enfile;     /* accept() failed with ENFILE (system fd limit, fs.file-max) */
	_Atomic uint64_t err_accept;     /* other accept() failures (ENOMEM, ENOBUFS, ...) */
	_Atomic uint64_t err_read;       /* connections closed by a read error other than a reset */
	_Atomic uint64_t err_write;      /* connections closed by a write error (EPIPE, ...) */
	_Atomic uint64_t err_reset;      /* connections closed by ECONNRESET */
	_Atomic uint64_t idle_closed;    /* connections closed by --idle-timeout */
	_Atomic uint64_t stop_closed;    /* connections still open at SIGINT/SIGTERM, closed by the server */
	_Atomic uint64_t bytes_in;       /* bytes read from clients */
	_Atomic uint64_t bytes_out;      /* bytes queued back to clients (echo) */
	_Atomic uint64_t accept_pauses;  /* times accepting stopped (EMFILE/ENFILE pause or cap reached) */
	_Atomic uint64_t listener_closes; /* times the listeners were closed at the cap (reuseport hand-over) */
	_Atomic uint64_t rss_bytes;      /* resident set size of the worker process, bytes (refreshed ~1/s) */
	_Atomic uint64_t cap;            /* this worker's connection cap */
	_Atomic uint32_t accept_state;   /* enum stats_accept_state */
	_Atomic int32_t  pid;            /* worker process id; 0 = never started */
	_Atomic uint32_t incarnation;    /* 1 for the first start, +1 per restart */
	_Atomic uint32_t stop_state;     /* accept_state when the worker began to stop (SIGINT/SIGTERM or the end
	                                    of its loop); STATS_STARTING until then */
};

/* Plain sums over all slots. */
struct stats_totals {
	uint64_t conns, accepted, closed, lost;
	uint64_t err_emfile, err_enfile, err_accept, err_read, err_write, err_reset, idle_closed, stop_closed;
	uint64_t bytes_in, bytes_out;
	uint64_t accept_pauses, listener_closes;
	uint64_t rss_bytes;              /* sum over workers, bytes */
	uint64_t cap;                    /* sum of the caps, connections */
	unsigned workers;                /* slots summed */
	unsigned running;                /* slots with pid != 0 */
	unsigned by_state[STATS_STATE_COUNT]; /* workers in each enum stats_accept_state */
	uint64_t restarts;               /* sum of (incarnation - 1) */
};

/* The slot's fields are updated with common/util/counter.h (single writer, relaxed). */
void     stats_set_state(struct stats_slot *s, enum stats_accept_state st);

/* Zeroes a slot (before the first fork). */
void stats_slot_init(struct stats_slot *s);

/* Called by a (re)started worker on its own slot: the connections an earlier incarnation held died with it,
 * so they move to closed and lost; records pid, bumps incarnation, state STATS_STARTING. */
void stats_slot_adopt(struct stats_slot *s, int32_t pid);

/* Sums n slots laid out slot_size bytes apart (slot_size >= sizeof(struct stats_slot)). */
void stats_sum(const void *slots, size_t slot_size, unsigned n, struct stats_totals *total);

const char *stats_state_name(enum stats_accept_state st);

/* Pure. One status line (no newline) from two snapshots dt_s seconds apart; prev may be NULL (rates shown
 * as 0). Returns snprintf's length. Example:
 * "conns 19000 | +4210/s accepted 19000 closed 0 | errors: EMFILE 0 ENFILE 0 accept 0 read 0 write 0 reset 0 |
 *  in 0.1 MB/s out 0.1 MB/s | paused 0/1 workers, full 0 | rss 21.4 MiB" */
int stats_format_line(const struct stats_totals *now, const struct stats_totals *prev, double dt_s, char *buf,
		      size_t len);

/* Pure. Multi-line shutdown summary over a run of elapsed_s seconds, ending in a newline. */
int stats_format_summary(const struct stats_totals *t, double elapsed_s, char *buf, size_t len);

/* Pure. One line of the summary for worker index (its last pid, started starts times), ending in a newline:
 * "  worker 0 pid 1234 (starts 1): accepted 100, closed 90, open at stop 10, state accepting". The counters
 * cover all incarnations, so the lines add up to the totals; "open at stop" is what the stop closed plus
 * what was still counted open; the state is the one the worker was in when it began to stop. */
int stats_format_worker(unsigned index, int pid, unsigned starts, const struct stats_slot *s, char *buf,
			size_t len);

#endif
