/* The latency phase's coordinator (see coord.h). */
#include "client/coord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sys/workers.h"
#include "common/util/clock.h"
#include "common/util/counter.h"
#include "common/util/num.h"
#include "client/report.h"
#include "client/sched.h"

static const struct loadgen_stats *slot_at(void *slots, unsigned i)
{
	return workers_slot(slots, sizeof(struct loadgen_stats), i);
}

/* This process's share (--shard K/M) of a number of the fleet's. */
static uint64_t share_of(const struct client_options *o, uint64_t fleet)
{
	return o->shard_m > 1 ? sched_share(fleet, o->shard_m, o->shard_k - 1) : fleet;
}

int coord_init(struct coord *co, const struct client_options *o, uint64_t target, uint64_t msg_rate,
	       struct loadgen_ctl *ctl, _Atomic uint64_t *hold_until, char *err, size_t errlen)
{
	memset(co, 0, sizeof(*co));
	co->o = o;
	co->target = target;
	co->ctl = ctl;
	co->hold_until = hold_until;
	co->sum = malloc(sizeof(*co->sum));
	co->last = malloc(sizeof(*co->last));
	if (o->find_max || o->n_rates > 1)
		co->step_lat = calloc(FINDMAX_MAX_STEPS, sizeof(*co->step_lat));
	if (!co->sum || !co->last || ((o->find_max || o->n_rates > 1) && !co->step_lat)) {
		coord_free(co);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(ctl, 0, sizeof(*ctl));
	co->fleet = o->barrier && (o->find_max || o->n_rates > 1);
	co->fleet_rate = o->msg_rate;
	co->fleet_conns = o->find_max ? findmax_first(o->target, o->step) : o->target;
	/* a shard of the fleet's steps runs its share of the fleet's first step; alone, its own first step */
	counter_set(&ctl->step_conns, co->fleet ? share_of(o, co->fleet_conns) :
				      o->find_max ? findmax_first(target, o->step) : target);
	counter_set(&ctl->msg_rate, msg_rate);
	counter_set32(&ctl->step, 1);
	return 0;
}

void coord_free(struct coord *co)
{
	free(co->sum);
	free(co->last);
	free(co->step_lat);
	co->sum = NULL;
	co->last = NULL;
	co->step_lat = NULL;
}

/* One step's row of the table from the merged results. */
static void fill_row(const struct coord *co, const struct loadgen_lat *l, uint64_t conns, uint64_t failures,
		     struct findmax_row *row)
{
	uint64_t rate = counter_get(&co->ctl->msg_rate);

	report_step_row(l, conns, rate, sched_total(rate, co->o->duration_ms), failures, co->o->slo_ms, row);
}

static void end_steps(struct coord *co, uint64_t hold_until_ns)
{
	counter_publish(co->hold_until, hold_until_ns);
	counter_publish32(&co->ctl->end, 1);
	co->ended = true;
}

/* The next step, conns connections at rate, for every worker. */
static void publish_step(struct coord *co, uint64_t conns, uint64_t rate)
{
	counter_set(&co->ctl->step_conns, conns);
	counter_set(&co->ctl->msg_rate, rate);
	counter_set(&co->ctl->start_ns, 0);
	counter_publish32(&co->ctl->step, counter_get32(&co->ctl->step) + 1);
}

/* The step has not started: once every live worker is READY, publish one start time for all, with a
 * margin because workers poll ctl every LOADGEN_CTL_POLL_MS. With nothing held (the server refused or
 * dropped every connection) a phase would only count --duration seconds of messages to nobody: end now,
 * and the report says the phase did not run. */
static void start_step(struct coord *co, void *slots, unsigned count, const bool *dead, uint64_t now)
{
	uint32_t step = counter_get32(&co->ctl->step);
	uint64_t held = 0, earliest = now + LOADGEN_START_MARGIN_MS * CLOCK_NS_PER_MS;
	unsigned i;

	for (i = 0; i < count; i++)
		if (!dead[i])
			held += counter_get(&slot_at(slots, i)->open);
	if (held == 0) {
		co->stop = FINDMAX_STOP_CONN_FAILED;
		end_steps(co, now);
		return;
	}
	if (!co->o->barrier) {
		counter_publish(&co->ctl->start_ns, earliest);
		return;
	}
	if (co->go_step != step) {
		co->waiting_step = step;   /* the caller announces it and waits for the fleet's go */
		return;
	}
	co->waiting_step = 0;
	if (co->go_ns < earliest && earliest - co->go_ns > co->late_ns)
		co->late_ns = earliest - co->go_ns;
	counter_publish(&co->ctl->start_ns, co->go_ns > earliest ? co->go_ns : earliest);
}

void coord_go(struct coord *co, uint32_t step, uint64_t start_ns)
{
	co->go_step = step;
	co->go_ns = start_ns;
}

int coord_parse_go(const char *line, uint32_t *step, uint64_t *unix_ns, char *err, size_t errlen)
{
	char a[16], b[24], why[160];
	uint64_t s;
	int n = 0;

	if (strncmp(line, "go ", 3) != 0 || sscanf(line + 3, "%15s %23s%n", a, b, &n) != 2 || line[3 + n] != '\0') {
		snprintf(err, errlen, "barrier: '%.40s' is not 'go STEP UNIX_TIME_NS'", line);
		return -1;
	}
	if (num_parse_u64(a, 0, FINDMAX_MAX_STEPS, &s, why, sizeof(why)) < 0 ||
	    num_parse_u64(b, 1, UINT64_MAX, unix_ns, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "barrier: '%.40s': %s", line, why);
		return -1;
	}
	*step = (uint32_t)s;
	return 0;
}

int coord_parse_line(const char *line, struct coord_line *out, char *err, size_t errlen)
{
	char a[16], b[24], c[24], why[160];
	uint64_t s;
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (strncmp(line, "go ", 3) == 0) {
		out->kind = COORD_LINE_GO;
		return coord_parse_go(line, &out->step, &out->unix_ns, err, errlen);
	}
	if (strncmp(line, "next ", 5) == 0) {
		out->kind = COORD_LINE_NEXT;
		if (sscanf(line + 5, "%15s %23s %23s%n", a, b, c, &n) != 3 || line[5 + n] != '\0') {
			snprintf(err, errlen, "barrier: '%.40s' is not 'next STEP RATE CONNS'", line);
			return -1;
		}
		if (num_parse_u64(a, 2, FINDMAX_MAX_STEPS, &s, why, sizeof(why)) < 0 ||
		    num_parse_u64(b, 1, SCHED_MAX_RATE, &out->msg_rate, why, sizeof(why)) < 0 ||
		    num_parse_u64(c, 1, CLIENT_MAX_TARGET, &out->conns, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "barrier: '%.40s': %s", line, why);
			return -1;
		}
		out->step = (uint32_t)s;
		return 0;
	}
	if (strncmp(line, "end ", 4) == 0) {
		out->kind = COORD_LINE_END;
		if (findmax_stop_parse(line + 4, &out->stop) < 0 || out->stop == FINDMAX_CONTINUE) {
			snprintf(err, errlen, "barrier: '%.40s': not 'end REASON' (connection_failures, slo_missed or "
				 "reached_target)", line);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "barrier: '%.40s' is not a go, next or end line", line);
	return -1;
}

/* Every live worker is DONE: merge the step, ask the step rule (findmax_plan_next: connections of
 * --find-max, the next rate of a sweep) what follows, and publish the next step or the end; with co->fleet
 * the fleet's driver decides instead, from every shard's row (coord_next, coord_end). */
static void finish_step(struct coord *co, void *slots, unsigned count, uint64_t failed, uint64_t now)
{
	const struct client_options *o = co->o;
	struct loadgen_ctl *ctl = co->ctl;
	struct findmax_plan plan = { o->find_max, co->target, o->step, o->msg_rates, o->n_rates,
				     counter_get(&ctl->msg_rate) };
	struct findmax_row *row;
	uint64_t conns = 0, rate = 0;
	unsigned i;

	loadgen_lat_init(co->sum);
	for (i = 0; i < count; i++)
		loadgen_lat_merge(co->sum, &slot_at(slots, i)->lat);
	memcpy(co->last, co->sum, sizeof(*co->last));
	co->have_last = true;
	i = co->n_rows < FINDMAX_MAX_STEPS ? co->n_rows++ : FINDMAX_MAX_STEPS - 1;
	row = &co->rows[i];
	if (co->step_lat)
		memcpy(&co->step_lat[i], co->sum, sizeof(*co->sum));
	fill_row(co, co->sum, counter_get(&ctl->step_conns), failed - co->failed_before, row);
	co->failed_before = failed;
	if (co->fleet) {
		co->done_step = counter_get32(&ctl->step);
		return;
	}
	co->stop = findmax_plan_next(&plan, co->n_rows, row, &conns, &rate);
	if (co->stop == FINDMAX_CONTINUE && co->n_rows < FINDMAX_MAX_STEPS) {
		publish_step(co, conns, rate);
		return;
	}
	end_steps(co, now + o->hold_ms * CLOCK_NS_PER_MS);
}

int coord_next(struct coord *co, uint32_t step, uint64_t fleet_rate, uint64_t fleet_conns, char *err,
	       size_t errlen)
{
	uint64_t conns = share_of(co->o, fleet_conns), rate = share_of(co->o, fleet_rate);

	if (!co->fleet || co->done_step == 0) {
		snprintf(err, errlen, "barrier: 'next %u' while no step is done", step);
		return -1;
	}
	if (step != co->done_step + 1 || co->n_rows >= FINDMAX_MAX_STEPS) {
		snprintf(err, errlen, "barrier: 'next %u' after step %u (of at most %d)", step, co->done_step,
			 FINDMAX_MAX_STEPS);
		return -1;
	}
	if (conns > co->target || conns < counter_get(&co->ctl->step_conns) || rate == 0) {
		snprintf(err, errlen, "barrier: 'next %u %llu %llu': this shard's share is %llu connections (it has "
			 "%llu, and holds %llu) at %llu msg/s", step, (unsigned long long)fleet_rate,
			 (unsigned long long)fleet_conns, (unsigned long long)conns, (unsigned long long)co->target,
			 (unsigned long long)counter_get(&co->ctl->step_conns), (unsigned long long)rate);
		return -1;
	}
	co->done_step = 0;
	co->fleet_conns = fleet_conns;
	co->fleet_rate = fleet_rate;
	publish_step(co, conns, rate);
	return 0;
}

int coord_end(struct coord *co, enum findmax_stop stop, uint64_t now_ns, char *err, size_t errlen)
{
	if (!co->fleet || co->done_step == 0) {
		snprintf(err, errlen, "barrier: 'end %s' while no step is done", findmax_stop_name(stop));
		return -1;
	}
	co->done_step = 0;
	co->stop = stop;
	end_steps(co, now_ns + co->o->hold_ms * CLOCK_NS_PER_MS);
	return 0;
}

void coord_tick(struct coord *co, void *slots, unsigned count, const bool *dead, uint64_t now_ns)
{
	uint32_t step = counter_get32(&co->ctl->step), s, state;
	bool ready = true, done = true;
	const struct loadgen_stats *st;
	uint64_t failed = 0;
	unsigned i;

	if (co->ended || co->done_step)
		return;   /* over, or waiting for the fleet's decision */
	for (i = 0; i < count; i++) {
		st = slot_at(slots, i);
		failed += counter_get(&st->failed);
		if (dead[i])
			continue;
		s = counter_acquire32(&st->lat.step);
		state = counter_acquire32(&st->lat.state);
		if (s != step || state < LOADGEN_STEP_READY)
			ready = false;
		if (s != step || state < LOADGEN_STEP_DONE)
			done = false;
	}
	if (counter_get(&co->ctl->start_ns) == 0) {
		if (ready)
			start_step(co, slots, count, dead, now_ns);
	} else if (done) {
		finish_step(co, slots, count, failed, now_ns);
	}
}
