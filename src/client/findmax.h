/* Step logic of the multi-step latency phases. --find-max ramps the connections in steps, runs the same
 * latency phase at each step, stops at the first step that misses the SLO or loses connections (or at -n),
 * and reports the largest step that met it. A rate sweep (--msg-rate R1,R2,...) holds all -n connections
 * and runs one phase per rate, in increasing order, with the same stop rule, and reports the highest rate
 * that met the SLO. Pure functions over the table of steps so far; main.c only runs the steps. */
#ifndef C1M_FINDMAX_H
#define C1M_FINDMAX_H

#include <stdbool.h>
#include <stdint.h>

#define FINDMAX_MAX_STEPS        100  /* more steps than this is a typo in --step (and a very long run) */
#define FINDMAX_DEFAULT_STEP_PCT 20   /* default --step: this share of -n, rounded up */

/* One step's outcome (a row of the report's table). */
struct findmax_row {
	uint64_t conns;          /* connections asked for in this step, all workers */
	uint64_t msg_rate;       /* messages per second of this step's phase, all workers */
	uint64_t held;           /* of those, open when the phase began */
	uint64_t conn_failures;  /* connection failures during the step (its ramp and its phase) */
	uint64_t sent;           /* messages scheduled */
	uint64_t answered;       /* replies verified within the timeout */
	uint64_t lost;           /* messages without a reply within the timeout (late or never) */
	double p50_ms;           /* RTT from the scheduled send time, milliseconds */
	double p99_ms;
	double p999_ms;
	double max_ms;
	uint64_t start_ns;       /* the phase's start and end, CLOCK_MONOTONIC (0 = not known) */
	uint64_t end_ns;
	uint64_t cpu_us;         /* the client's CPU over the phase, all workers (getrusage) */
	bool slo_met;            /* every message answered within the timeout and p99 <= SLO */
	bool pass;               /* slo_met, every connection held and no connection failed */
};

enum findmax_stop {
	FINDMAX_CONTINUE,        /* run another step */
	FINDMAX_STOP_CONN_FAILED,/* connections failed or were not all held */
	FINDMAX_STOP_SLO,        /* the SLO was missed (p99 too high, or messages lost) */
	FINDMAX_STOP_TARGET,     /* the step reached -n (a sweep: the last rate) and passed */
};

/* What decides the steps of one run (a process's, or a fleet's from the merged rows). */
struct findmax_plan {
	bool find_max;           /* --find-max: steps of connections at one rate */
	uint64_t target;         /* -n (the connections of the run the rows describe) */
	uint64_t step;           /* --step */
	const uint64_t *rates;   /* a sweep's rates (n_rates > 1): steps of rates at target connections */
	unsigned n_rates;
	uint64_t msg_rate;       /* --find-max's one rate */
};

/* Default --step for -n target: FINDMAX_DEFAULT_STEP_PCT % of it, rounded up, at least 1. */
uint64_t findmax_default_step(uint64_t target);
/* Steps needed to reach target with step (ceil(target / step)); 0 if step is 0. */
uint64_t findmax_steps(uint64_t target, uint64_t step);
/* Connections of the first step: min(step, target). */
uint64_t findmax_first(uint64_t target, uint64_t step);
/* Decides after a step: stop (with the reason) or continue with *next = min(last->conns + step, target).
 * Connection failures are checked first, because they also lose messages and so would read as an SLO
 * miss. */
enum findmax_stop findmax_next(uint64_t target, uint64_t step, const struct findmax_row *last, uint64_t *next);
/* Largest conns among passing rows, 0 if none passed. */
uint64_t findmax_best(const struct findmax_row *rows, unsigned n);
/* Rate sweep: after the row of rates[done - 1], stop (with the reason) or continue with *next =
 * rates[done]. Same order of checks as findmax_next; *next is 0 when stopping. */
enum findmax_stop findmax_rate_next(const uint64_t *rates, unsigned n_rates, unsigned done,
				    const struct findmax_row *last, uint64_t *next);
/* After step done (1-based) with row: findmax_next for --find-max, findmax_rate_next for a sweep, else
 * FINDMAX_STOP_TARGET (one phase). On FINDMAX_CONTINUE, the next step's connections and rate. The one
 * rule of a process's coordinator, of a fleet's driver and of a merge of shards' reports. */
enum findmax_stop findmax_plan_next(const struct findmax_plan *p, unsigned done, const struct findmax_row *row,
				    uint64_t *next_conns, uint64_t *next_rate);
/* Highest msg_rate among passing rows, 0 if none passed. */
uint64_t findmax_best_rate(const struct findmax_row *rows, unsigned n);
/* Stable name ("continue", "connection_failures", "slo_missed", "reached_target"). */
const char *findmax_stop_name(enum findmax_stop s);
/* The stop of a name findmax_stop_name gives: 0, or -1 for any other text. */
int findmax_stop_parse(const char *name, enum findmax_stop *out);

#endif
