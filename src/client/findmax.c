/* --find-max and rate-sweep step decisions (see findmax.h). */
#include "client/findmax.h"

#include <string.h>

uint64_t findmax_default_step(uint64_t target)
{
	uint64_t s = (target * FINDMAX_DEFAULT_STEP_PCT + 99) / 100;

	return s ? s : 1;
}

uint64_t findmax_steps(uint64_t target, uint64_t step)
{
	return step ? (target + step - 1) / step : 0;
}

uint64_t findmax_first(uint64_t target, uint64_t step)
{
	return step < target ? step : target;
}

/* The stop rule both kinds of steps share: connection failures first (they also lose messages, so they would
 * read as an SLO miss), then the SLO. */
static enum findmax_stop step_verdict(const struct findmax_row *last)
{
	if (last->conn_failures > 0 || last->held < last->conns)
		return FINDMAX_STOP_CONN_FAILED;
	if (!last->slo_met)
		return FINDMAX_STOP_SLO;
	return FINDMAX_CONTINUE;
}

enum findmax_stop findmax_next(uint64_t target, uint64_t step, const struct findmax_row *last, uint64_t *next)
{
	enum findmax_stop v = step_verdict(last);

	*next = 0;
	if (v != FINDMAX_CONTINUE)
		return v;
	if (last->conns >= target || step == 0)
		return FINDMAX_STOP_TARGET;
	*next = target - last->conns > step ? last->conns + step : target;
	return FINDMAX_CONTINUE;
}

uint64_t findmax_best(const struct findmax_row *rows, unsigned n)
{
	uint64_t best = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		if (rows[i].pass && rows[i].conns > best)
			best = rows[i].conns;
	return best;
}

enum findmax_stop findmax_rate_next(const uint64_t *rates, unsigned n_rates, unsigned done,
				    const struct findmax_row *last, uint64_t *next)
{
	enum findmax_stop v = step_verdict(last);

	*next = 0;
	if (v != FINDMAX_CONTINUE)
		return v;
	if (done >= n_rates)
		return FINDMAX_STOP_TARGET;
	*next = rates[done];
	return FINDMAX_CONTINUE;
}

enum findmax_stop findmax_plan_next(const struct findmax_plan *p, unsigned done, const struct findmax_row *row,
				    uint64_t *next_conns, uint64_t *next_rate)
{
	enum findmax_stop v;
	uint64_t next = 0;

	*next_conns = *next_rate = 0;
	if (p->find_max) {
		v = findmax_next(p->target, p->step, row, &next);
		if (v == FINDMAX_CONTINUE) {
			*next_conns = next;
			*next_rate = p->msg_rate;
		}
		return v;
	}
	if (p->n_rates < 2)
		return FINDMAX_STOP_TARGET;
	v = findmax_rate_next(p->rates, p->n_rates, done, row, &next);
	if (v == FINDMAX_CONTINUE) {
		*next_conns = p->target;
		*next_rate = next;
	}
	return v;
}

uint64_t findmax_best_rate(const struct findmax_row *rows, unsigned n)
{
	uint64_t best = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		if (rows[i].pass && rows[i].msg_rate > best)
			best = rows[i].msg_rate;
	return best;
}

const char *findmax_stop_name(enum findmax_stop s)
{
	switch (s) {
	case FINDMAX_CONTINUE:         return "continue";
	case FINDMAX_STOP_CONN_FAILED: return "connection_failures";
	case FINDMAX_STOP_SLO:         return "slo_missed";
	case FINDMAX_STOP_TARGET:      return "reached_target";
	}
	return "?";
}

int findmax_stop_parse(const char *name, enum findmax_stop *out)
{
	unsigned s;

	for (s = FINDMAX_CONTINUE; s <= FINDMAX_STOP_TARGET; s++)
		if (strcmp(name, findmax_stop_name((enum findmax_stop)s)) == 0) {
			*out = (enum findmax_stop)s;
			return 0;
		}
	return -1;
}
