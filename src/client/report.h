/* The client's report: the live progress line, the final human report with its verdict and one plain-words
 * explanation per failure kind (diag_explain), and the same as JSON (common/util/json.h). All
 * pure: they take merged loadgen_stats and a description of the run, and fill a caller's buffer. */
#ifndef C1M_REPORT_H
#define C1M_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util/addr.h"
#include "client/saturation.h"
#include "client/findmax.h"
#include "common/sys/limits_read.h"
#include "client/loadgen_stats.h"
#include "common/util/json.h"
#include "client/proto.h"

#define REPORT_TEXT_LEN   (8 * 1024 * 1024) /* always holds the full text or JSON report: the JSON carries
                                          three histograms and one per step (at most FINDMAX_MAX_STEPS), each
                                          at most 2,560 buckets of 29 bytes (74 KB) */

/* What the run was asked to do, for the report header and the JSON. */
struct report_meta {
	uint64_t target;               /* N (of this process's run: a shard's share) */
	uint64_t fleet_target;         /* -n of the whole fleet (= target when not sharded) */
	unsigned shard_k, shard_m;     /* --shard K/M; 1/1 when not sharded */
	char hostname[65];             /* this machine's name (HOST_NAME_MAX + 1), "" = unknown */
	int64_t wall_offset_ns;        /* CLOCK_REALTIME - CLOCK_MONOTONIC when the report was made: the state
	                                  in the JSON gives its times on the wall clock */
	uint64_t start_late_ns;        /* --barrier: the most a phase started after the fleet's time */
	char shards[512];              /* a merged report: its shards in words ("2 of 2: a (1/2), b (2/2)") */
	const struct limits_values *kind_limits[DIAG_KIND_COUNT]; /* per failure kind, the limits of the machine
	                                  that saw its first failure (a merge of shards); NULL = limits */
	char host[ADDR_STRLEN];        /* server address, as text (IPv4 or IPv6) */
	char host_name[256];           /* HOST as given when it was a name resolved to host, "" = an address */
	enum proto_id proto;           /* --proto (echo = 0) */
	size_t msg_bytes;              /* bytes of one latency-phase message; 0 = MATCH_FRAME_LEN (echo) */
	unsigned port_base;            /* first server port */
	unsigned ports;                /* server ports */
	struct addr_range sources;     /* source addresses bound; count 0 = the kernel chose */
	bool sources_default;          /* sources were chosen by the client, not --sources */
	unsigned workers;              /* processes */
	uint64_t rate;                 /* --rate, conn/s; 0 = unlimited */
	unsigned concurrency;          /* in-flight cap, all processes */
	uint64_t hold_ms;              /* --hold; 0 = until a signal */
	int stop_signal;               /* signal that stopped the run, 0 = none */
	char problems[256];            /* e.g. a worker that died, "" if none */
	/* latency phase (all zero when --msg-rate was not given) */
	bool latency;                  /* a latency phase was asked for */
	uint64_t msg_rate;             /* messages per second, all workers */
	uint64_t duration_ms;          /* phase length */
	unsigned reply_timeout_ms;     /* reply deadline from the scheduled send */
	unsigned slo_ms;               /* the verdict's p99 bound */
	unsigned send_window_ms;       /* --send-window: shortest wait between send wake-ups (0 = a report
	                                  from before the option, which sent with 1) */
	const struct loadgen_lat *lat; /* merged results of the last phase that ran, NULL if none did
	                                  (msg_rate is then the rate that phase ran at) */
	uint64_t lat_total;            /* messages the schedule of that phase has; 0 = sched_total(msg_rate,
	                                  duration_ms). A merge sets the sum of the shards' own schedules: each
	                                  shard rounds its share of the rate apart, so the sum can differ */
	bool find_max;                 /* --find-max */
	uint64_t step;                 /* connections added per step */
	const struct findmax_row *steps; /* one row per step run */
	const struct loadgen_lat *step_lats; /* each step's merged results (n_steps of them), NULL = not kept:
	                                  the state carries them so that shards' steps merge exactly */
	unsigned n_steps;
	bool sweep;                    /* --msg-rate R1,R2,...: one phase per rate at -n connections */
	const uint64_t *rates;         /* the sweep's rates, increasing (n_rates of them) */
	unsigned n_rates;
	enum findmax_stop stop;        /* why the steps (of --find-max or the sweep) ended */
	/* environment */
	char kernel[280];              /* uname: sysname, release, version, machine; "" = unknown */
	unsigned cpus;                 /* online CPUs, 0 = unknown */
	bool cpus_pinned;              /* --cpus: the client ran on CPUs of its own (the saturation judge) */
	const struct limits_values *limits; /* what limits_read found at startup, NULL = not read */
	/* --tls (all zero without) */
	bool tls;                      /* every connection spoke TLS */
	bool tls_insecure;             /* --insecure: the server's certificate was not verified */
	char tls_ca[256];              /* --ca FILE, "" = the system's CAs */
	char tls_sni[256];             /* the server name sent, "" = none */
	char tls_name[256];            /* the name or address the certificate had to carry */
};

/* Appends one problem to m->problems, after "; " when there are others (cut when the field is full). */
void report_add_problem(struct report_meta *m, const char *what);

/* Numbers derived from the stats, shared by the text and JSON reports. */
struct report_summary {
	double elapsed_s;              /* ramp: first connect to last attempt resolved, seconds */
	double total_s;                /* whole run including the hold, seconds */
	double connect_rate;           /* established / elapsed_s, conn/s */
	double connect_ms[4];          /* connect time p50, p90, p99, max; milliseconds */
	double rtt_ms[4];              /* echo round trip p50, p90, p99, max; milliseconds */
	bool conn_pass;                /* all N established and echoed, nothing failed, no worker problem
	                                  (a signal after that is the normal end of an open-ended hold) */
	bool pass;                     /* conn_pass and, with a latency phase, lat_pass (with --find-max:
	                                  every step up to -n passed; with a sweep: every rate passed) */
	enum diag_kind first_cause;    /* kind of the earliest failure, DIAG_KIND_COUNT if none */
	/* latency phase */
	bool lat_ran;                  /* meta->lat is set */
	bool lat_pass;                 /* report_latency_pass of the last phase */
	double lat_ms[5];              /* RTT from the scheduled send: p50, p90, p99, p99.9, max; ms */
	uint64_t lat_total;            /* messages the schedule has: round(msg_rate * duration) */
	uint64_t lat_lost;             /* not answered within the timeout: late + never */
	uint64_t lat_in_flight;        /* neither answered nor lost when the phase ended */
	double achieved_rate;          /* answered within the timeout per second of the phase */
	double bytes_per_conn;         /* client resident memory growth per held connection; 0 = unknown */
	uint64_t max_conns;            /* --find-max: most connections of a passing step, 0 = none */
	uint64_t max_rate;             /* sweep: highest msg rate of a passing step, 0 = none */
	struct sat_view sat;           /* the last phase: the client's CPU, and who ran out if it failed */
};

/* The SLO rule, shared by the verdict and the --find-max steps: every scheduled message (total) was
 * sent and answered within the timeout, none lost, late or mismatched, and p99 <= slo_ms. */
bool report_latency_pass(const struct loadgen_lat *l, uint64_t total, unsigned slo_ms);
/* One --find-max or sweep step's row from its merged results l: conns connections asked for at msg_rate,
 * total messages scheduled, conn_failures during the step; the SLO rule is report_latency_pass. The
 * coordinator and a merge of shards' steps both judge a step with this. */
void report_step_row(const struct loadgen_lat *l, uint64_t conns, uint64_t msg_rate, uint64_t total,
		     uint64_t conn_failures, unsigned slo_ms, struct findmax_row *row);
/* RTT percentiles of l in milliseconds: p50, p90, p99, p99.9, max. */
void report_latency_ms(const struct loadgen_lat *l, double out[5]);
/* Pure: what the run saw of someone else's server into c, for diag_explain: the protocol, the first bad
 * reply, the failing statuses by code and the connections verified. c->first_bad points into t. */
void report_diag_proto(struct diag_context *c, const struct report_meta *m, const struct loadgen_stats *t);

void report_summarize(const struct report_meta *m, const struct loadgen_stats *t, struct report_summary *s);

/* One progress line (no newline). prev may be NULL; dt_s is the time between the two snapshots. */
int report_format_progress(const struct loadgen_stats *now, const struct loadgen_stats *prev, double dt_s,
			   uint64_t now_ns, char *buf, size_t len);
/* The final report, ending with the VERDICT line and a newline. Returns the length, -1 if truncated. */
int report_format_text(const struct report_meta *m, const struct loadgen_stats *t, char *buf, size_t len);
/* The same as one JSON object followed by a newline. Returns the length, -1 if truncated. */
int report_format_json(const struct report_meta *m, const struct loadgen_stats *t, char *buf, size_t len);

#endif
