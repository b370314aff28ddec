/* The load generator of one client process: opens `target` TCP connections through one event_base, sends
 * one line on each, checks the echo byte for byte, then holds the connections open. Everything it measures
 * goes into a struct loadgen_stats, a pointer-free struct with a single writer, so it can be a
 * shared-memory slot that a supervisor reads while the worker runs and merges exactly afterwards.
 *
 * The code is in four files around one private header (loadgen_int.h): loadgen.c (the lifecycle and the
 * one owner of a connection), loadgen_ramp.c (connects and the echo check), loadgen_phase.c (the latency
 * phase) and loadgen_stats.c (the pure merge and split).
 *
 * Pacing: a token bucket (rate) and a cap on connections in flight (concurrency). "In flight" means from
 * connect() until the echo was verified, so a slow server throttles the client instead of piling up SYNs
 * in its listen queues; without --concurrency the cap is CLIENT_DEFAULT_CONCURRENCY for all processes.
 *
 * Latency phase (cfg.ctl set): after the ramp the held connections carry an open-loop stream of fixed-size
 * frames (match.h) at the rate and times sched.h assigns, and every echo is checked byte for byte and
 * timed from its scheduled send time. A coordinator (coord.h: in the supervisor, or on a timer in a single
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
#include "client/loadgen_stats.h"
#include "client/proto.h"
#include "client/tls.h"

#define LOADGEN_LINE_MAX        64 /* longest line sent: "Hello Server: client --> <n>\n" */
#define LOADGEN_HOLD_POLL_MS    50 /* how often a worker looks for the supervisor's shared hold deadline */
#define LOADGEN_CTL_POLL_MS     10 /* latency phase: how often a worker looks at the shared control */
#define LOADGEN_START_MARGIN_MS 50 /* the coordinator sets t0 this far ahead, so every worker has seen it */

/* Control of the latency phase in memory shared by the coordinator (its only writer) and the workers. */
struct loadgen_ctl {
	_Atomic uint64_t step_conns; /* connections of the current step, all workers */
	_Atomic uint64_t msg_rate;   /* messages per second of the current step's phase, all workers
	                                (a rate sweep changes it per step; 0 = cfg.msg_rate) */
	_Atomic uint64_t start_ns;   /* clock_now_ns() t0 of the step's phase; 0 = not yet (release) */
	_Atomic uint32_t step;       /* current step, from 1; stored last, with release ordering */
	_Atomic uint32_t end;        /* 1 = no more steps: hold until *hold_until_ns, then finish (release) */
};

struct loadgen_config {
	struct addr_ip dst;          /* server address (IPv4 or IPv6; sources are of its family) */
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
	unsigned send_window_ms;     /* latency phase: the send timer waits at least this long between
	                                wake-ups, so each wake-up writes every message due by then; a
	                                message waits up to this long, which its RTT includes (>= 1) */
	const struct proto_cfg *proto; /* the protocol and its options (proto.h); NULL = echo. Not owned:
	                                  it must outlive the loadgen (the workers inherit it by fork) */
	unsigned workers;            /* processes sharing the phase (0 = 1) */
	unsigned index;              /* this process among them */
	struct ssl_ctx_st *tls;      /* --tls: the process's client context (tls.h), not owned; NULL = plain TCP */
	const char *sni;             /* --tls: the server name sent, NULL = none */
};

struct loadgen;

/* Line sent on connection n (without NUL); returns its length. Pure. */
size_t loadgen_format_line(uint64_t n, char *buf, size_t len);

/* Configuration of worker index out of workers, from the configuration of the whole run (pure):
 * connections, rate and in-flight cap divided as evenly as possible (at least 1 conn/s and 1 in flight
 * each), n numbering continued across workers, sources sliced when there are at least as many as workers,
 * else shared with a different starting offset per worker; workers and index recorded for the schedule. */
void loadgen_split(const struct loadgen_config *all, unsigned workers, unsigned index, struct loadgen_config *out);

/* Configuration of shard index (0-based) of shards, from the configuration of the whole fleet's run (pure):
 * loadgen_split's share of connections, connect rate, in-flight cap, sources and n numbering (so the ports
 * rotate on where the previous shard stopped), plus its share of the latency phase's message rate; the
 * result is the whole run of that shard, to be split over its own workers. */
void loadgen_shard(const struct loadgen_config *all, unsigned shards, unsigned index, struct loadgen_config *out);

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
void loadgen_free(struct loadgen **lgp);

#endif
