/* The latency phase's coordinator: one writer of the shared struct loadgen_ctl, run in the supervisor (or
 * in the single process) on a timer. It reads every worker's stats slot, starts each step on all workers
 * at one time, merges the step's results into a findmax_row and decides what follows: the next step of
 * --find-max, the next rate of a sweep, or the end (with the hold's deadline). Only reads and writes
 * memory it is given, so a unit test drives it with fabricated slots and clock values. */
#ifndef C1M_COORD_H
#define C1M_COORD_H

#include <stdbool.h>
#include <stdint.h>

#include "client/client_opts.h"
#include "client/findmax.h"
#include "client/loadgen.h"

struct coord {
	const struct client_options *o;  /* the run's options: steps, rates, SLO, hold */
	uint64_t target;                 /* connections of this process's run (a shard's share of -n) */
	struct loadgen_ctl *ctl;         /* shared with the workers; this is its only writer */
	_Atomic uint64_t *hold_until;    /* shared: the hold after the last phase, 0 = not yet */
	struct loadgen_lat *sum;         /* scratch: the merge of a finished step */
	struct loadgen_lat *last;        /* merged results of the last finished step */
	bool have_last;
	struct findmax_row rows[FINDMAX_MAX_STEPS]; /* one per finished step */
	struct loadgen_lat *step_lat;    /* rows[i]'s merged results (FINDMAX_MAX_STEPS of them), for the
	                                    report's state; NULL unless --find-max or a sweep */
	unsigned n_rows;
	enum findmax_stop stop;          /* why the steps ended */
	uint64_t failed_before;          /* connection failures (all workers) when the step began */
	bool ended;                      /* ctl->end published */
	/* --barrier: a step starts at the fleet's time, given by coord_go, not as soon as this process is ready */
	uint32_t waiting_step;           /* ready for this step, waiting for its go (0 = not waiting) */
	uint32_t go_step;                /* the last step released by coord_go (0 = none) */
	uint64_t go_ns;                  /* its start on this process's clock_now_ns() */
	uint64_t late_ns;                /* the most a step started after the time its go asked for */
	/* --barrier with --find-max or a sweep: the fleet's driver decides what follows each step from every
	   shard's row (coord_next, coord_end), since one shard sees only its share */
	bool fleet;
	uint32_t done_step;              /* this step is done (rows[n_rows - 1]): waiting for next or end; 0 = not */
	uint64_t fleet_conns;            /* the fleet's connections of the current step (this process's own
	                                    when not sharded) */
	uint64_t fleet_rate;             /* and its messages per second */
};

/* A line of the barrier on stdin, from the fleet's driver. */
enum coord_line_kind {
	COORD_LINE_GO,                   /* go STEP UNIX_TIME_NS: start step (0 = the hold) at that time */
	COORD_LINE_NEXT,                 /* next STEP RATE CONNS: run step next, the fleet's rate and connections */
	COORD_LINE_END,                  /* end REASON: the fleet's steps are over (a findmax_stop_name) */
};

struct coord_line {
	enum coord_line_kind kind;
	uint32_t step;                   /* go, next */
	uint64_t unix_ns;                /* go: CLOCK_REALTIME */
	uint64_t msg_rate;               /* next: messages per second, the whole fleet */
	uint64_t conns;                  /* next: connections, the whole fleet */
	enum findmax_stop stop;          /* end: never FINDMAX_CONTINUE */
};

/* Publishes step 1 in ctl (before any worker starts, so each begins its ramp at once): target connections
 * (or --find-max's first step) at msg_rate, this process's share of the options' -n and --msg-rate. 0, or
 * -1 with err. */
int coord_init(struct coord *co, const struct client_options *o, uint64_t target, uint64_t msg_rate,
	       struct loadgen_ctl *ctl, _Atomic uint64_t *hold_until, char *err, size_t errlen);

/* One tick at time now_ns over count stats slots (workers_slot layout; one bare struct loadgen_stats for
 * count 1); dead[i] marks a worker that has ended: it is not waited for, its last numbers still merge. */
void coord_tick(struct coord *co, void *slots, unsigned count, const bool *dead, uint64_t now_ns);

/* --barrier: release step at start_ns (clock_now_ns() time). A start too close to be seen by every worker
 * in time is moved to the earliest safe one, and the delay is kept in late_ns. */
void coord_go(struct coord *co, uint32_t step, uint64_t start_ns);

/* Pure: a barrier line "go STEP UNIX_TIME_NS" (STEP 0 = the hold, 1.. = latency steps; the time on the
 * wall clock, CLOCK_REALTIME). 0, or -1 with err naming what is wrong. */
int coord_parse_go(const char *line, uint32_t *step, uint64_t *unix_ns, char *err, size_t errlen);

/* Pure: one barrier line (go, next or end; see enum coord_line_kind). 0, or -1 with err naming what is
 * wrong. */
int coord_parse_line(const char *line, struct coord_line *out, char *err, size_t errlen);

/* The fleet decided (co->fleet, while co->done_step): run step at this process's share (--shard K/M) of
 * the fleet's rate and connections. 0, or -1 with err when the line does not follow (another step, no
 * step done, more connections than this shard has, a share without messages). */
int coord_next(struct coord *co, uint32_t step, uint64_t fleet_rate, uint64_t fleet_conns, char *err,
	       size_t errlen);
/* The fleet's steps ended (co->fleet, while co->done_step) for stop: the hold follows, from now_ns. 0, or
 * -1 with err when no step is done. */
int coord_end(struct coord *co, enum findmax_stop stop, uint64_t now_ns, char *err, size_t errlen);

void coord_free(struct coord *co);

#endif
