/* The pure part of the load generator: its stats (init, exact merge, success) and the split of a whole
 * run's configuration between worker processes. No sockets, no libevent: the report and the tests use it
 * on fabricated numbers. Sources may be live shared-memory slots, so every field is read with counter_;
 * the accumulators are written with counter_ too (relaxed load and store, never a locked operation). */
#include "client/loadgen.h"

#include <string.h>

#include "common/util/counter.h"
#include "client/sched.h"

void loadgen_stats_init(struct loadgen_stats *st, uint64_t target)
{
	memset(st, 0, sizeof(*st));
	counter_set(&st->target, target);
	counter_set32(&st->workers, 1);
	hist_init(&st->connect_us);
	hist_init(&st->rtt_us);
	loadgen_lat_init(&st->lat);
}

void loadgen_stats_init_sum(struct loadgen_stats *acc)
{
	loadgen_stats_init(acc, 0);
	counter_set32(&acc->workers, 0);
}

/* Merge rules for times: the earliest that is set, and the latest, or 0 while any is not there yet. */
static void merge_earliest(_Atomic uint64_t *dst, uint64_t v)
{
	uint64_t have = counter_get(dst);

	if (v && (have == 0 || v < have))
		counter_set(dst, v);
}

static void merge_latest(_Atomic uint64_t *dst, uint64_t v, bool first)
{
	uint64_t have = counter_get(dst);

	counter_set(dst, first ? v : (v == 0 || have == 0 ? 0 : (v > have ? v : have)));
}

static void merge_least32(_Atomic uint32_t *dst, uint32_t v, bool first)
{
	if (first || v < counter_get32(dst))
		counter_set32(dst, v);
}

static void merge_workers(_Atomic uint32_t *dst, const _Atomic uint32_t *src)
{
	uint32_t w = counter_get32(src);

	counter_set32(dst, counter_get32(dst) + (w ? w : 1));
}

/* The kernel's numbers at the first failure of kind k: the earliest first failure's, else any. */
static void merge_failure(struct loadgen_stats *dst, const struct loadgen_stats *src, unsigned k)
{
	uint64_t b = counter_get(&src->first_fail_ns[k]), a = counter_get(&dst->first_fail_ns[k]);
	bool earlier = b && (a == 0 || b < a);

	counter_add(&dst->failures[k], counter_get(&src->failures[k]));
	if (earlier)
		counter_set(&dst->first_fail_ns[k], b);
	if ((earlier || !counter_get32(&dst->snap_valid[k])) && counter_acquire32(&src->snap_valid[k])) {
		dst->snap[k] = src->snap[k];
		counter_set32(&dst->snap_valid[k], 1);
	}
}

void loadgen_stats_merge(struct loadgen_stats *dst, const struct loadgen_stats *src)
{
	unsigned k;
	bool first = counter_get32(&dst->workers) == 0;

	counter_add(&dst->target, counter_get(&src->target));
	counter_add(&dst->started, counter_get(&src->started));
	counter_add(&dst->connecting, counter_get(&src->connecting));
	counter_add(&dst->echoing, counter_get(&src->echoing));
	counter_add(&dst->open, counter_get(&src->open));
	counter_add(&dst->established, counter_get(&src->established));
	counter_add(&dst->echoed, counter_get(&src->echoed));
	counter_add(&dst->failed, counter_get(&src->failed));
	counter_add(&dst->failed_immediate, counter_get(&src->failed_immediate));
	for (k = 0; k < DIAG_KIND_COUNT; k++)
		merge_failure(dst, src, k);
	if (counter_get_i32(&dst->other_errno) == 0)
		counter_set_i32(&dst->other_errno, counter_get_i32(&src->other_errno));
	if (counter_get_i32(&dst->stop_signal) == 0)
		counter_set_i32(&dst->stop_signal, counter_get_i32(&src->stop_signal));
	/* phase: the least advanced process; start: the earliest; ramp end and end: the latest, or 0 while
	 * any process is not there yet */
	merge_least32(&dst->phase, counter_get32(&src->phase), first);
	merge_earliest(&dst->start_ns, counter_get(&src->start_ns));
	merge_latest(&dst->ramp_end_ns, counter_get(&src->ramp_end_ns), first);
	merge_latest(&dst->end_ns, counter_get(&src->end_ns), first);
	merge_workers(&dst->workers, &src->workers);
	counter_set_i32(&dst->pid, 0);
	hist_merge(&dst->connect_us, &src->connect_us);
	hist_merge(&dst->rtt_us, &src->rtt_us);
	loadgen_lat_merge(&dst->lat, &src->lat);
	for (k = 0; k < LOADGEN_CODES; k++)
		if (counter_get32(&src->codes.code[k]))
			loadgen_codes_add(&dst->codes, counter_get32(&src->codes.code[k]), counter_get(&src->codes.count[k]));
	counter_add(&dst->codes.other, counter_get(&src->codes.other));
	if (!counter_get32(&dst->note_set) && counter_acquire32(&src->note_set)) {
		memcpy(dst->proto_note, src->proto_note, sizeof(dst->proto_note));
		dst->proto_note[sizeof(dst->proto_note) - 1] = '\0';
		counter_set32(&dst->note_set, 1);
	}
}

void loadgen_codes_add(struct loadgen_codes *c, unsigned code, uint64_t n)
{
	unsigned k;

	for (k = 0; code != 0 && k < LOADGEN_CODES; k++) {
		uint32_t have = counter_get32(&c->code[k]);

		if (have == 0) {
			counter_set32(&c->code[k], code);
			have = code;
		}
		if (have == code) {
			counter_add(&c->count[k], n);
			return;
		}
	}
	counter_add(&c->other, n);
}

bool loadgen_success(const struct loadgen_stats *st)
{
	uint64_t target = counter_get(&st->target);

	return target > 0 && counter_get(&st->echoed) == target && counter_get(&st->failed) == 0;
}

void loadgen_lat_init(struct loadgen_lat *l)
{
	memset(l, 0, sizeof(*l));
	hist_init(&l->rtt_us);
}

void loadgen_lat_merge(struct loadgen_lat *dst, const struct loadgen_lat *src)
{
	bool first = counter_get32(&dst->workers) == 0;

	merge_least32(&dst->step, counter_acquire32(&src->step), first);
	merge_least32(&dst->state, counter_acquire32(&src->state), first);
	counter_add(&dst->conns, counter_get(&src->conns));
	counter_add(&dst->held, counter_get(&src->held));
	counter_add(&dst->sent, counter_get(&src->sent));
	counter_add(&dst->written, counter_get(&src->written));
	counter_add(&dst->answered, counter_get(&src->answered));
	counter_add(&dst->late, counter_get(&src->late));
	counter_add(&dst->lost, counter_get(&src->lost));
	counter_add(&dst->mismatched, counter_get(&src->mismatched));
	counter_add(&dst->failed_status, counter_get(&src->failed_status));
	counter_add(&dst->rss_base_bytes, counter_get(&src->rss_base_bytes));
	counter_add(&dst->rss_bytes, counter_get(&src->rss_bytes));
	counter_max(&dst->send_lag_max_us, counter_get(&src->send_lag_max_us));
	counter_add(&dst->cpu_us, counter_get(&src->cpu_us));
	counter_max(&dst->cpu_permille_max, counter_get(&src->cpu_permille_max));
	counter_add(&dst->wakeups, counter_get(&src->wakeups));
	counter_max(&dst->machine_permille, counter_get(&src->machine_permille));
	merge_earliest(&dst->start_ns, counter_get(&src->start_ns));
	merge_latest(&dst->end_ns, counter_get(&src->end_ns), first);
	if (dst->mismatch_note[0] == '\0' && counter_get(&src->mismatched) > 0) {
		memcpy(dst->mismatch_note, src->mismatch_note, sizeof(dst->mismatch_note));
		dst->mismatch_note[sizeof(dst->mismatch_note) - 1] = '\0';
	}
	merge_workers(&dst->workers, &src->workers);
	hist_merge(&dst->rtt_us, &src->rtt_us);
}

uint64_t loadgen_lat_in_flight(const struct loadgen_lat *l)
{
	uint64_t done = counter_get(&l->answered) + counter_get(&l->late) + counter_get(&l->lost) +
			counter_get(&l->failed_status);
	uint64_t sent = counter_get(&l->sent);

	return sent > done ? sent - done : 0;
}

void loadgen_split(const struct loadgen_config *all, unsigned workers, unsigned index, struct loadgen_config *out)
{
	uint64_t per = all->target / workers, rest = all->target % workers, s = all->sources.count;

	*out = *all;
	out->workers = workers;
	out->index = index;
	out->target = sched_share(all->target, workers, index);
	out->id_base = all->id_base + index * per + (index < rest ? index : rest);
	if (all->rate) {
		out->rate = sched_share(all->rate, workers, index);
		if (out->rate == 0)
			out->rate = 1;
	}
	out->concurrency = (unsigned)sched_share(all->concurrency, workers, index);
	if (out->concurrency == 0)
		out->concurrency = 1;
	if (s >= workers) {
		uint64_t lo = s * index / workers, hi = s * (index + 1) / workers;

		out->sources = addr_range_slice(&all->sources, (uint32_t)lo, (uint32_t)(hi - lo));
		out->source_offset = 0;
	} else if (s > 0) {
		out->source_offset = all->source_offset + index;
	}
}

void loadgen_shard(const struct loadgen_config *all, unsigned shards, unsigned index, struct loadgen_config *out)
{
	loadgen_split(all, shards, index, out);
	out->msg_rate = sched_share(all->msg_rate, shards, index);
	out->workers = 1;
	out->index = 0;
}
