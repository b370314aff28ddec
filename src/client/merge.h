/* The shards' reports of one fleet run, as the report of one run: `c1m-client --merge`. Counters add up,
 * histograms merge bucket by bucket (so the percentiles are exactly those of all samples), each failure
 * kind keeps its earliest first failure with the kernel's numbers and the limits of the machine that saw
 * it, and times line up on the wall clock. Pure: it reads only the reports it is given. */
#ifndef C1M_MERGE_H
#define C1M_MERGE_H

#include <stddef.h>

#include "client/state.h"

/* The merged run: meta points into it (lat, steps, step_lats; limits, kind_limits and rates into the
 * shards' reports, which must outlive it). About 2 MB: keep it off the stack. */
struct merge_result {
	struct report_meta meta;
	struct loadgen_stats stats;
	struct loadgen_lat lat;
	struct findmax_row rows[FINDMAX_MAX_STEPS];     /* --find-max or a sweep: the fleet's steps */
	struct loadgen_lat step_lat[FINDMAX_MAX_STEPS]; /* their merged results */
};

/* Merges n reports of one fleet run. Reports of different runs (another -n, server, ports, phase or SLO,
 * or the same shard twice) are refused: 0, or -1 with err naming the file (paths[i]) and the field. A
 * missing shard is not an error: the merged report names it as a problem, and its verdict fails.
 * --find-max and sweep reports merge step by step: step i of every shard must be its share of the same
 * fleet step (the rate of the sweep's i-th rate or of the fleet's one rate, the connections the step rule
 * gives), else -1 names the file and the step. Each merged step is judged as one process judges its own
 * (report_step_row against the sum of the shards' own schedules), and the steps end where findmax_next or
 * findmax_rate_next ends them; steps a shard ran after that are named as a problem and left out. */
int merge_reports(const struct state_report *const *in, const char *const *paths, unsigned n,
		  struct merge_result *out, char *err, size_t errlen);

/* One step of a fleet's --find-max or sweep, from its shards' done lines (c1m-fleet asks for it through
 * c1m-client --fleet-step, then sends the answer to every shard). */
struct merge_step {
	struct loadgen_lat lat;          /* the shards' results merged */
	struct findmax_row row;          /* judged as one process judges its own step */
	uint32_t step;                   /* 1.. */
	enum findmax_stop stop;          /* the step rule's answer for the fleet (findmax_plan_next) */
	uint64_t next_conns, next_rate;  /* the fleet's next step, when stop is FINDMAX_CONTINUE */
	unsigned missing;                /* shards without a line: their share of the step is not held */
};

/* plan is the fleet's (-n, --step, the rates, --find-max's one rate); in[0..n) the done lines of one step
 * from different shards. 0, or -1 with err naming the shard (another step or fleet, a shard twice, a row
 * that is not its share of the fleet's step, a step that is not the plan's). */
int merge_fleet_step(const struct findmax_plan *plan, unsigned slo_ms, const struct state_step *const *in,
		     unsigned n, struct merge_step *out, char *err, size_t errlen);

#endif
