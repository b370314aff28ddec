/* Drain records of the server workers (see drain.h). The worker that drains is a slot's only writer until it
 * dies; the supervisor touches a slot only after reaping that worker, so the single-writer updates of stats.c
 * (a relaxed load plus a relaxed store) are enough here too. */
#include "server/core/drain.h"

#include "server/core/stats.h"
#include "common/util/counter.h"

#include <inttypes.h>
#include <stdio.h>

void drain_slot_begin(struct drain_slot *d, uint64_t now_ns, uint64_t open)
{
	counter_set(&d->end_ns, 0);
	counter_set(&d->open, open);
	counter_set(&d->flushed, 0);
	counter_set(&d->deadline, 0);
	counter_set(&d->errors, 0);
	counter_set(&d->killed, 0);
	counter_set(&d->cut, 0);
	/* Last: a non-zero begin_ns is what says the record is in use. */
	counter_set(&d->begin_ns, now_ns != 0 ? now_ns : 1);
}

void drain_slot_closed(struct drain_slot *d, enum drain_close why)
{
	switch (why) {
	case DRAIN_CLOSE_FLUSHED:
		counter_add(&d->flushed, 1);
		break;
	case DRAIN_CLOSE_DEADLINE:
		counter_add(&d->deadline, 1);
		break;
	case DRAIN_CLOSE_ERROR:
		counter_add(&d->errors, 1);
		break;
	}
}

void drain_slot_end(struct drain_slot *d, uint64_t now_ns)
{
	counter_set(&d->end_ns, now_ns);
}

int drain_slot_killed(struct drain_slot *d, uint64_t open, uint64_t now_ns)
{
	if (counter_get(&d->begin_ns) == 0 || counter_get(&d->end_ns) != 0)
		return 0;
	counter_set(&d->killed, open);
	counter_set(&d->cut, 1);
	counter_set(&d->end_ns, now_ns);
	return 1;
}

void drain_sum(const struct drain_slot *slots, unsigned n, struct drain_totals *t)
{
	unsigned i;

	*t = (struct drain_totals){ 0 };
	for (i = 0; i < n; i++) {
		const struct drain_slot *d = &slots[i];
		uint64_t b = counter_get(&d->begin_ns), e = counter_get(&d->end_ns);

		if (b == 0)
			continue;
		t->workers++;
		if (counter_get(&d->cut) != 0)
			t->killed_workers++;
		if (t->begin_ns == 0 || b < t->begin_ns)
			t->begin_ns = b;
		if (e > t->end_ns)
			t->end_ns = e;
		t->open += counter_get(&d->open);
		t->flushed += counter_get(&d->flushed);
		t->deadline += counter_get(&d->deadline);
		t->errors += counter_get(&d->errors);
		t->killed += counter_get(&d->killed);
	}
}

int drain_format_summary(const struct drain_totals *t, unsigned timeout_ms, char *buf, size_t len)
{
	char took[64], killed[96] = "";

	if (t->workers == 0) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	/* A worker that never ended its drain (it could only have been killed, and then the supervisor ends
	 * the record) leaves end_ns at 0: there is no duration to state. */
	if (t->end_ns >= t->begin_ns)
		snprintf(took, sizeof(took), "took %.3f s", (double)(t->end_ns - t->begin_ns) / 1e9);
	else
		snprintf(took, sizeof(took), "did not end");
	if (t->killed_workers != 0)
		snprintf(killed, sizeof(killed), ", %" PRIu64 " still open when %u worker%s %s killed", t->killed,
			 t->killed_workers, t->killed_workers == 1 ? "" : "s", t->killed_workers == 1 ? "was" : "were");
	return snprintf(buf, len,
		"  drain (--drain-timeout %g s): %s; %" PRIu64 " open at the signal: %" PRIu64 " flushed and "
		"closed, %" PRIu64 " closed at the deadline, %" PRIu64 " ended early (reset, error, idle timeout)%s\n",
		timeout_ms / 1000.0, took, t->open, t->flushed, t->deadline, t->errors, killed);
}
