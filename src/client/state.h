/* A process's whole result, written into its JSON report (the "state" member) so that another process can
 * read it back exactly: every counter, every failure kind with its first time and the kernel's numbers at
 * that moment, every non-empty bucket of the three histograms, the latency phase the report judged, the
 * limits it read and what the run was asked to do. `c1m-client --merge` reads the shards' reports with
 * state_parse and prints one report for the fleet (client/merge.h). Times are written on the wall clock
 * (the writer's monotonic times plus report_meta.wall_offset_ns), so that shards on other hosts line up;
 * the report only ever uses differences of them. The field tables in state.c are the one definition of
 * the format: the writer and the reader walk the same tables. */
#ifndef C1M_STATE_H
#define C1M_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "client/loadgen_stats.h"
#include "client/report.h"
#include "common/sys/limits_read.h"
#include "common/util/json.h"

#define STATE_FORMAT 3   /* "state": {"format": 3, ...}: bumped when a table changes meaning (2: the
                            sources' first address as text, IPv4 or IPv6; 3: --step, the sweep's rates,
                            the steps' stop and every step's results with its histogram; the phase's
                            failed statuses and the client's CPU during it, for the saturation judge) */

/* What a report's state holds, read back. meta.lat, meta.limits, meta.rates, meta.steps and
 * meta.step_lats point into this struct (about 2 MB: keep it off the stack). */
struct state_report {
	struct report_meta meta;
	struct limits_values limits;
	bool has_limits;
	struct loadgen_stats stats;
	struct loadgen_lat lat;          /* the phase the report judged (meta.lat), valid if meta.lat */
	uint64_t rates[FINDMAX_MAX_STEPS];          /* a sweep's rates (meta.n_rates) */
	struct findmax_row rows[FINDMAX_MAX_STEPS]; /* the steps (meta.n_steps), judged again from step_lat */
	struct loadgen_lat step_lat[FINDMAX_MAX_STEPS]; /* each step's results, as the writer merged them */
};

/* One finished step of a fleet's --find-max or sweep, as a shard reports it to the fleet's driver (the
 * JSON of its "c1m-shard: done" line): the driver merges every shard's to decide the next step. */
struct state_step {
	uint32_t step;                   /* 1.. */
	unsigned shard_k, shard_m;       /* --shard K/M */
	uint64_t fleet_conns;            /* the fleet's step: its connections ... */
	uint64_t fleet_rate;             /* ... and messages per second */
	uint64_t duration_ms;            /* --duration */
	struct findmax_row row;          /* this shard's conns, msg_rate and conn_failures (the rest unset) */
	struct loadgen_lat lat;          /* this shard's results of the step */
};

#define STATE_STEP_LEN (96 * 1024)   /* holds a step's JSON: one histogram (74 KB) and its counts */

/* The step as one line of JSON (no newline) into buf, times on the wall clock (wall_offset_ns as in
 * report_meta). Returns the length, -1 if it does not fit. */
int state_format_step(const struct state_step *s, int64_t wall_offset_ns, char *buf, size_t len);
/* Reads what state_format_step wrote. Every field must be there, 1 <= shard_k <= shard_m. 0, or -1 with
 * err naming the field. */
int state_parse_step(const char *text, size_t len, struct state_step *s, char *err, size_t errlen);

/* Writes "state": {...} as a member of the open object w (pure). */
void state_write(struct json_w *w, const struct report_meta *m, const struct loadgen_stats *t);

/* Reads a whole c1m-client --json report in text[0..len) into r (large: keep it off small stacks). Every
 * field of the state must be there with its type; anything else in the report is skipped. 0, or -1 with
 * err naming the field. */
int state_parse(const char *text, size_t len, struct state_report *r, char *err, size_t errlen);

#endif
