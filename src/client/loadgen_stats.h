/* What a load generator measures: struct loadgen_stats for one process (or a merge of several) and, inside
 * it, struct loadgen_lat for the latency phase's current step. Both are pointer-free, with exactly one
 * writer per field (common/util/counter.h), so they can be shared-memory slots that a supervisor reads
 * while the workers run and merges exactly afterwards: counters summed, histograms merged bucket by bucket,
 * times the earliest or the latest. The merge functions are pure; the report reads only merged copies. */
#ifndef C1M_LOADGEN_STATS_H
#define C1M_LOADGEN_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/model/diag.h"
#include "common/sys/kstate.h"
#include "client/hist.h"
#include "client/match.h"
#include "client/proto.h"

#define LOADGEN_CODES 8              /* distinct failing reply statuses counted by code (more: "other") */

enum loadgen_phase {
	LOADGEN_IDLE = 0,            /* not started */
	LOADGEN_RAMP = 1,            /* opening connections */
	LOADGEN_HOLD = 2,            /* every attempt resolved; holding the open ones */
	LOADGEN_DONE = 3,            /* everything closed */
};

/* Where a worker is in the current step (struct loadgen_lat.state). */
enum loadgen_step_state {
	LOADGEN_STEP_RAMP = 0,       /* opening the step's connections */
	LOADGEN_STEP_READY = 1,      /* every attempt of the step resolved; waiting for t0 */
	LOADGEN_STEP_RUN = 2,        /* sending and matching */
	LOADGEN_STEP_DONE = 3,       /* every message answered, or the straggler wait is over */
};

/* Latency phase results of one process for one step (or their merge). Single writer, like the stats;
 * step and state are announcements (release/acquire): what the process wrote before them is visible. */
struct loadgen_lat {
	_Atomic uint32_t step;            /* step these numbers belong to (0 = none yet) */
	_Atomic uint32_t state;           /* enum loadgen_step_state; min over a merge */
	_Atomic uint32_t workers;         /* processes merged into this struct */
	_Atomic uint64_t conns;           /* connections the schedule addresses (the step's share) */
	_Atomic uint64_t held;            /* of those, open when the phase began */
	_Atomic uint64_t sent;            /* messages whose scheduled time came (written, queued or lost) */
	_Atomic uint64_t written;         /* messages written completely */
	_Atomic uint64_t answered;        /* replies verified within the timeout: the RTT histogram's count */
	_Atomic uint64_t late;            /* replies verified after the timeout */
	_Atomic uint64_t lost;            /* messages never answered: connection gone, or no reply by the end */
	_Atomic uint64_t mismatched;      /* replies that differed from what was sent, or did not parse
	                                     (connection closed) */
	_Atomic uint64_t failed_status;   /* replies whose status is a failure (HTTP outside 2xx/3xx): the
	                                     message failed, the connection stays (codes in the stats) */
	_Atomic uint64_t start_ns;        /* t0 (earliest over a merge) */
	_Atomic uint64_t end_ns;          /* end of the phase incl. the straggler wait (latest), 0 = running */
	_Atomic uint64_t send_lag_max_us; /* largest delay from a message's scheduled time to its write */
	_Atomic uint64_t rss_base_bytes;  /* resident memory when the process started its ramp (summed) */
	_Atomic uint64_t rss_bytes;       /* resident memory at the end of the phase (summed) */
	/* what the phase cost the client (summed over processes unless said): the saturation judge */
	_Atomic uint64_t cpu_us;          /* user + system CPU during the phase */
	_Atomic uint64_t cpu_permille_max; /* the busiest process: its CPU per phase wall time, 1000 = a whole
	                                      CPU (max) */
	_Atomic uint64_t wakeups;         /* context switches during the phase, voluntary and not */
	_Atomic uint64_t machine_permille; /* the machine's CPUs busy during the phase, 1000 = all of them (max:
	                                      the busiest client machine); 0 = unreadable */
	char mismatch_note[MATCH_NOTE_LEN]; /* the first mismatch in words, "" if none; written before the
	                                       mismatched count that makes a merge copy it */
	struct hist rtt_us;               /* scheduled send to verified reply, microseconds (answered only) */
};

/* Failing reply statuses by code (HTTP 503, ...), of the handshakes and the phases; single writer. A slot is
 * taken when its code is first stored (code 0 = free). */
struct loadgen_codes {
	_Atomic uint32_t code[LOADGEN_CODES];
	_Atomic uint64_t count[LOADGEN_CODES];
	_Atomic uint64_t other;           /* replies of codes beyond the slots */
};

/* Counters of one process, written only by its loadgen, read with loadgen_stats_merge. Gauges go up and
 * down, the rest only up. */
struct loadgen_stats {
	_Atomic uint64_t target;           /* connections this process was asked for */
	_Atomic uint64_t started;          /* connect attempts begun (socket() called) */
	_Atomic uint64_t connecting;       /* gauge: between connect() and the handshake */
	_Atomic uint64_t echoing;          /* gauge: connected, echo not verified yet */
	_Atomic uint64_t open;             /* gauge: echoed and held open */
	_Atomic uint64_t established;      /* handshakes completed */
	_Atomic uint64_t echoed;           /* echoes verified */
	_Atomic uint64_t failed;           /* attempts or connections that failed, each counted once */
	_Atomic uint64_t failed_immediate; /* of those, failed synchronously in socket()/bind()/connect() */
	_Atomic uint64_t failures[DIAG_KIND_COUNT];      /* failures per kind */
	_Atomic uint64_t first_fail_ns[DIAG_KIND_COUNT]; /* clock_now_ns() of the first failure per kind, 0 = none */
	_Atomic int32_t  other_errno;      /* errno of the first DIAG_OTHER failure, 0 = none */
	_Atomic int32_t  pid;              /* process id of the writer */
	_Atomic int32_t  stop_signal;      /* signal that stopped this process early, 0 = none */
	_Atomic uint32_t phase;            /* enum loadgen_phase */
	_Atomic uint32_t workers;          /* merges into this struct (1 for one process's own stats) */
	_Atomic uint64_t start_ns;         /* clock_now_ns() when the ramp began */
	_Atomic uint64_t ramp_end_ns;      /* when every attempt had resolved (or the run was stopped), 0 = not yet */
	_Atomic uint64_t end_ns;           /* when everything was closed, 0 = not yet */
	_Atomic uint32_t snap_valid[DIAG_KIND_COUNT]; /* snap[k] holds the kernel's numbers at the first failure
	                                                 of k; published (release) after snap[k] was written */
	struct kstate snap[DIAG_KIND_COUNT];
	struct hist connect_us;            /* connect() to handshake complete, microseconds */
	struct hist rtt_us;                /* line written to echo verified, microseconds */
	struct loadgen_lat lat;            /* latency phase of the current step */
	struct loadgen_codes codes;        /* failing statuses, whole run */
	_Atomic uint32_t note_set;         /* proto_note is written (release) */
	char proto_note[PROTO_NOTE_LEN];   /* the first bad or refused handshake reply in words, "" if none */
};

/* Zeroes st for a loadgen that will open target connections. */
void loadgen_stats_init(struct loadgen_stats *st, uint64_t target);
/* Empty accumulator for loadgen_stats_merge (workers = 0). */
void loadgen_stats_init_sum(struct loadgen_stats *acc);
/* dst += src (one process's stats, or another sum): counters summed, histograms merged exactly, per kind
 * the earliest first failure (and its context) kept, start the earliest, ramp/end the latest (0 if any is
 * still 0). src may be live. */
void loadgen_stats_merge(struct loadgen_stats *dst, const struct loadgen_stats *src);
/* True when every connection asked for is open and echoed and nothing failed. */
bool loadgen_success(const struct loadgen_stats *st);

/* Counts n replies of status code (single writer; a merge may pass any n). */
void loadgen_codes_add(struct loadgen_codes *c, unsigned code, uint64_t n);

/* Empty latency results (workers = 0, as an accumulator for loadgen_lat_merge). */
void loadgen_lat_init(struct loadgen_lat *l);
/* dst += src: counters and resident memory summed, histograms merged exactly, send lag the max, start the
 * earliest, end the latest (0 if any is 0), state and step the least. src may be live. */
void loadgen_lat_merge(struct loadgen_lat *dst, const struct loadgen_lat *src);
/* Messages neither answered, late nor lost yet. */
uint64_t loadgen_lat_in_flight(const struct loadgen_lat *l);

#endif
