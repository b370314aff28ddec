/* The load generator of one client process: opens `target` TCP connections through one event_base, sends
 * one line on each, checks the echo byte for byte, then holds the connections open. Everything it measures
 * goes into a struct loadgen_stats, a pointer-free struct with a single writer, so it can be a
 * shared-memory slot that a supervisor reads while the worker runs and merges exactly afterwards.
 *
 * Pacing: a token bucket (rate) and a cap on connections in flight (concurrency). "In flight" means from
 * connect() until the echo was verified, so a slow server throttles the client instead of piling up SYNs
 * in its listen queues; without --concurrency the cap is CLIENT_DEFAULT_CONCURRENCY for all processes.
 *
 * Latency phase (cfg.ctl set): after the ramp the held connections carry an open-loop stream of fixed-size
 * frames (match.h) at the rate and times sched.h assigns, and every echo is checked byte for byte and
 * timed from its scheduled send time. A coordinator (main.c: the supervisor, or a timer in a single
 * process) drives the steps through a shared struct loadgen_ctl: it publishes a step (how many
 * connections), each worker ramps to its share and says READY in its stats, the coordinator sets one
 * common start time t0, each worker runs the phase and says DONE, and the coordinator reads the merged
 * struct loadgen_lat of the step. A single phase is one step; --find-max is several. */
#ifndef C1M_LOADGEN_H
#define C1M_LOADGEN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "common/util/addr.h"
#include "common/model/diag.h"
#include "common/sys/kstate.h"
#include "client/hist.h"
#include "client/match.h"
#include "client/sched.h"

#define LOADGEN_LINE_MAX   64    /* longest line sent: "Hello Server: client --> <n>\n" */
#define LOADGEN_BATCH      256   /* connects started per loop iteration at most, so replies are not starved */
#define LOADGEN_HOLD_POLL_MS 50  /* how often a worker looks for the supervisor's shared hold deadline */
#define LOADGEN_TICK_MS      1   /* latency phase: shortest wait of the send timer (sends batch within it) */
#define LOADGEN_TAIL_POLL_MS 5   /* latency phase: after the last send, how often replies are checked */
#define LOADGEN_CTL_POLL_MS  10  /* latency phase: how often a worker looks at the shared control */
#define LOADGEN_START_MARGIN_MS 50 /* the coordinator sets t0 this far ahead, so every worker has seen it */
#define LOADGEN_SEND_BATCH   4096 /* messages scheduled per tick at most, so replies are read in between */
#define LOADGEN_RECV_CHUNK   2048 /* bytes read per readable event in the phase (stack buffer) */

/* Control of the latency phase in memory shared by the coordinator (its only writer) and the workers. */
struct loadgen_ctl {
	_Atomic uint64_t step_conns;         /* connections of the current step, all workers */
	_Atomic uint64_t msg_rate;           /* messages per second of the current step's phase, all workers
	                                (a rate sweep changes it per step; 0 = cfg.msg_rate) */
	_Atomic uint64_t start_ns;           /* clock_now_ns() t0 of the step's phase; 0 = not yet */
	_Atomic uint32_t step;               /* current step, from 1; stored last, with release ordering */
	_Atomic uint32_t end;                /* 1 = no more steps: hold until *hold_until_ns, then finish */
};

/* Where a worker is in the current step (struct loadgen_lat.state). */
enum loadgen_step_state {
	LOADGEN_STEP_RAMP = 0,       /* opening the step's connections */
	LOADGEN_STEP_READY = 1,      /* every attempt of the step resolved; waiting for t0 */
	LOADGEN_STEP_RUN = 2,        /* sending and matching */
	LOADGEN_STEP_DONE = 3,       /* every message answered, or the straggler wait is over */
};

struct loadgen_config {
	uint32_t dst_addr;           /* server address, host byte order */
	unsigned port_base;          /* first server port */
	unsigned ports;              /* server ports, round-robin starting at id_base % ports */
	struct addr_range sources;   /* source addresses to bind round-robin; count 0 = let the kernel choose */
	uint64_t source_offset;      /* index into sources of the first connection (spreads workers) */
	uint64_t target;             /* connections to open */
	uint64_t id_base;            /* n in the line of the first connection (global index across workers) */
	uint64_t rate;               /* new connections per second; 0 = unlimited */
	unsigned concurrency;        /* connections in flight at most (>= 1) */
	unsigned connect_timeout_ms; /* connect deadline */
	unsigned echo_timeout_ms;    /* echo deadline after the line was sent */
	uint64_t hold_ms;            /* hold after the ramp; 0 = until loadgen_stop() */
	const _Atomic uint64_t *hold_until_ns; /* shared with a supervisor: when hold_ms > 0, hold until this
	                                  clock_now_ns() deadline, which the supervisor sets (0 = not yet)
	                                  once every process has ramped, so all N are open at the same
	                                  time; NULL = hold hold_ms from this process's own ramp end.
	                                  With ctl: the hold after the last phase, same rule */
	const struct loadgen_ctl *ctl; /* latency phase control (shared); NULL = no latency phase */
	uint64_t msg_rate;           /* latency phase: messages per second, all workers together */
	uint64_t duration_ms;        /* latency phase: length of the send schedule */
	unsigned reply_timeout_ms;   /* a reply later than this after its scheduled send is late; the
	                                phase also waits this long after duration_ms for stragglers */
	unsigned workers;            /* processes sharing the phase (0 = 1) */
	unsigned index;              /* this process among them */
};

enum loadgen_phase {
	LOADGEN_IDLE = 0,            /* not started */
	LOADGEN_RAMP = 1,            /* opening connections */
	LOADGEN_HOLD = 2,            /* every attempt resolved; holding the open ones */
	LOADGEN_DONE = 3,            /* everything closed */
};

/* Latency phase results of one process for one step (or their merge). Single writer, like the stats. */
struct loadgen_lat {
	_Atomic uint32_t step;               /* step these numbers belong to (0 = none yet) */
	_Atomic uint32_t state;              /* enum loadgen_step_state; min over a merge */
	_Atomic uint32_t workers;            /* processes merged into this struct */
	_Atomic uint64_t conns;              /* connections the schedule addresses (the step's share) */
	_Atomic uint64_t held;               /* of those, open when the phase began */
	_Atomic uint64_t sent;               /* messages whose scheduled time came (written, queued or lost) */
	_Atomic uint64_t written;            /* messages written completely */
	_Atomic uint64_t answered;           /* replies verified within the timeout: the RTT histogram's count */
	_Atomic uint64_t late;               /* replies verified after the timeout */
	_Atomic uint64_t lost;               /* messages never answered: connection gone, or no reply by the end */
	_Atomic uint64_t mismatched;         /* replies that differed from what was sent (connection closed) */
	_Atomic uint64_t start_ns;           /* t0 (earliest over a merge) */
	_Atomic uint64_t end_ns;             /* end of the phase incl. the straggler wait (latest), 0 = running */
	_Atomic uint64_t send_lag_max_us;    /* largest delay from a message's scheduled time to its write */
	_Atomic uint64_t rss_base_bytes;     /* resident memory when the process started its ramp (summed) */
	_Atomic uint64_t rss_bytes;          /* resident memory at the end of the phase (summed) */
	char mismatch_note[MATCH_NOTE_LEN]; /* the first mismatch in words, "" if none */
	struct hist rtt_us;          /* scheduled send to verified reply, microseconds (answered only) */
};

/* Counters of one process. Written only by its loadgen with relaxed atomic stores; read with
 * loadgen_stats_merge (relaxed atomic loads). Gauges go up and down, the rest only up. */
struct loadgen_stats {
	_Atomic uint64_t target;             /* connections this process was asked for */
	_Atomic uint64_t started;            /* connect attempts begun (socket() called) */
	_Atomic uint64_t connecting;         /* gauge: between connect() and the handshake */
	_Atomic uint64_t echoing;            /* gauge: connected, echo not verified yet */
	_Atomic uint64_t open;               /* gauge: echoed and held open */
	_Atomic uint64_t established;        /* handshakes completed */
	_Atomic uint64_t echoed;             /* echoes verified */
	_Atomic uint64_t failed;             /* attempts or connections that failed, each counted once */
	_Atomic uint64_t failed_immediate;   /* of those, failed synchronously in socket()/bind()/connect() */
	_Atomic uint64_t failures[DIAG_KIND_COUNT];      /* failures per kind */
	_Atomic uint64_t first_fail_ns[DIAG_KIND_COUNT]; /* clock_now_ns() of the first failure per kind, 0 = none */
	_Atomic int32_t other_errno;        /* errno of the first DIAG_OTHER failure, 0 = none */
	_Atomic int32_t pid;                /* process id of the writer */
	_Atomic int32_t stop_signal;        /* signal that stopped this process early, 0 = none */
	_Atomic uint32_t phase;              /* enum loadgen_phase */
	_Atomic uint32_t workers;            /* merges into this struct (1 for one process's own stats) */
	_Atomic uint64_t start_ns;           /* clock_now_ns() when the ramp began */
	_Atomic uint64_t ramp_end_ns;        /* when every attempt had resolved (or the run was stopped), 0 = not yet */
	_Atomic uint64_t end_ns;             /* when everything was closed, 0 = not yet */
	_Atomic uint32_t snap_valid[DIAG_KIND_COUNT];    /* snap[k] holds the kernel's numbers at the first failure of k */
	struct kstate snap[DIAG_KIND_COUNT];
	struct hist connect_us;      /* connect() to handshake complete, microseconds */
	struct hist rtt_us;          /* line written to echo verified, microseconds */
	struct loadgen_lat lat;      /* latency phase of the current step */
};

struct loadgen;

/* Zeroes st for a loadgen that will open target connections. */
void loadgen_stats_init(struct loadgen_stats *st, uint64_t target);
/* Empty accumulator for loadgen_stats_merge (workers = 0). */
void loadgen_stats_init_sum(struct loadgen_stats *acc);
/* dst += src (one process's stats, or another sum): counters summed, histograms merged exactly, per kind the earliest first failure (and its
 * context) kept, start the earliest, ramp/end the latest (0 if any is still 0). src may be live. */
void loadgen_stats_merge(struct loadgen_stats *dst, const struct loadgen_stats *src);

/* Empty latency results (workers = 0, as an accumulator for loadgen_lat_merge). */
void loadgen_lat_init(struct loadgen_lat *l);
/* dst += src: counters and resident memory summed, histograms merged exactly, send lag the max, start the
 * earliest, end the latest (0 if any is 0), state and step the least. src may be live. */
void loadgen_lat_merge(struct loadgen_lat *dst, const struct loadgen_lat *src);
/* Messages neither answered, late nor lost yet. */
uint64_t loadgen_lat_in_flight(const struct loadgen_lat *l);

/* Line sent on connection n (without NUL); returns its length. Pure. */
size_t loadgen_format_line(uint64_t n, char *buf, size_t len);

/* Configuration of worker index out of workers, from the configuration of the whole run (pure):
 * connections, rate and in-flight cap divided as evenly as possible (at least 1 conn/s and 1 in flight
 * each), n numbering continued across workers, sources sliced when there are at least as many as workers,
 * else shared with a different starting offset per worker; workers and index recorded for the schedule. */
void loadgen_split(const struct loadgen_config *all, unsigned workers, unsigned index, struct loadgen_config *out);

/* An event_base for a loadgen: EVENT_BASE_FLAG_PRECISE_TIMER, because libevent's timers otherwise run on
 * CLOCK_MONOTONIC_COARSE, whose jiffy (4 ms here) would delay every scheduled send by up to 4 ms and show
 * up in the measured RTT. NULL on failure. */
struct event_base *loadgen_base_new(void);

/* Creates the generator on base; counts go to *st, which must outlive it. The caller owns base. */
struct loadgen *loadgen_new(struct event_base *base, const struct loadgen_config *cfg, struct loadgen_stats *st,
			    char *err, size_t errlen);
/* Begins the ramp. When the ramp and then the hold are over (or nothing is left open to hold), the
 * generator closes everything and calls event_base_loopexit(base). */
void loadgen_start(struct loadgen *lg);
/* Closes every connection now (SIGINT/SIGTERM, recorded in stop_signal; 0 = none), records the end and
 * exits the loop. Idempotent. */
void loadgen_stop(struct loadgen *lg, int sig);
/* True when every connection asked for is open and echoed and nothing failed. */
bool loadgen_success(const struct loadgen_stats *st);
void loadgen_free(struct loadgen **lgp);

#endif
