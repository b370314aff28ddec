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
	counter_set(&ctl->step_conns, o->find_max ? findmax_first(target, o->step) : target);
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

/* Every live worker is DONE: merge the step, ask findmax_next (connections) or findmax_rate_next (a
 * sweep: same connections, the next rate) what follows, and publish the next step or the end. */
static void finish_step(struct coord *co, void *slots, unsigned count, uint64_t failed, uint64_t now)
{
	const struct client_options *o = co->o;
	struct loadgen_ctl *ctl = co->ctl;
	struct findmax_row *row;
	uint64_t next = 0;
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
	if (o->find_max)
		co->stop = findmax_next(co->target, o->step, row, &next);
	else if (o->n_rates > 1)
		co->stop = findmax_rate_next(o->msg_rates, o->n_rates, co->n_rows, row, &next);
	else
		co->stop = FINDMAX_STOP_TARGET;
	if (co->stop == FINDMAX_CONTINUE && co->n_rows < FINDMAX_MAX_STEPS) {
		co->failed_before = failed;
		counter_set(o->find_max ? &ctl->step_conns : &ctl->msg_rate, next);
		counter_set(&ctl->start_ns, 0);
		counter_publish32(&ctl->step, counter_get32(&ctl->step) + 1);
		return;
	}
	end_steps(co, now + o->hold_ms * CLOCK_NS_PER_MS);
}

void coord_tick(struct coord *co, void *slots, unsigned count, const bool *dead, uint64_t now_ns)
{
	uint32_t step = counter_get32(&co->ctl->step), s, state;
	bool ready = true, done = true;
	const struct loadgen_stats *st;
	uint64_t failed = 0;
	unsigned i;

	if (co->ended)
		return;
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
