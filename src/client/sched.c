/* The latency phase's schedule (see sched.h). Products are split so nothing overflows 64 bits within the
 * accepted ranges: k * 10^9 / rate is computed as (k / rate) * 10^9 + (k % rate) * 10^9 / rate, and the
 * inverse (how many messages are due after d ns) as whole seconds times rate plus the remainder's share. */
#include "client/sched.h"

#include <string.h>

#define NS_PER_S 1000000000ULL

uint64_t sched_total(uint64_t rate, uint64_t duration_ms)
{
	return (rate * duration_ms + 500) / 1000;
}

uint64_t sched_share(uint64_t total, unsigned parts, unsigned index)
{
	if (parts == 0 || index >= parts)
		return 0;
	return total / parts + (index < total % parts ? 1 : 0);
}

/* Messages of worker s->index among global messages [0, k): full rounds over all connections, plus the
 * connections of this worker among the first k mod conns of a partial round. */
static uint64_t local_of_global_count(const struct sched *s, uint64_t k)
{
	if (s->conns == 0)
		return 0;
	return k / s->conns * s->local_conns + sched_share(k % s->conns, s->workers, s->index);
}

int sched_init(struct sched *s, uint64_t rate, uint64_t duration_ms, uint64_t conns, unsigned workers,
	       unsigned index)
{
	memset(s, 0, sizeof(*s));
	if (rate == 0 || rate > SCHED_MAX_RATE || duration_ms == 0 || duration_ms > SCHED_MAX_DURATION_MS ||
	    workers == 0 || index >= workers)
		return -1;
	s->rate = rate;
	s->total = sched_total(rate, duration_ms);
	s->conns = conns;
	s->workers = workers;
	s->index = index;
	s->local_conns = sched_share(conns, workers, index);
	s->local_total = local_of_global_count(s, s->total);
	return 0;
}

uint64_t sched_global(const struct sched *s, uint64_t j)
{
	if (s->local_conns == 0)
		return 0;
	return j / s->local_conns * s->conns + s->index + j % s->local_conns * s->workers;
}

uint64_t sched_offset_ns(const struct sched *s, uint64_t k)
{
	return k / s->rate * NS_PER_S + k % s->rate * NS_PER_S / s->rate;
}

uint64_t sched_local_offset_ns(const struct sched *s, uint64_t j)
{
	return sched_offset_ns(s, sched_global(s, j));
}

uint64_t sched_due(const struct sched *s, uint64_t elapsed_ns)
{
	/* offset(k) <= d  <=>  k * 10^9 < (d + 1) * rate  <=>  k < ceil((d + 1) * rate / 10^9) */
	uint64_t q = elapsed_ns / NS_PER_S, r = elapsed_ns % NS_PER_S;
	uint64_t k = q * s->rate + ((r + 1) * s->rate + NS_PER_S - 1) / NS_PER_S;

	if (k > s->total)  /* q * rate < 2^64: q < 1.9e10 for any elapsed_ns, rate <= 1e8 */
		k = s->total;
	return local_of_global_count(s, k);
}

uint64_t sched_conn_of(const struct sched *s, uint64_t j)
{
	return s->local_conns ? j % s->local_conns : 0;
}

uint64_t sched_seq_of(const struct sched *s, uint64_t j)
{
	return s->local_conns ? j / s->local_conns : 0;
}

uint64_t sched_local_index(const struct sched *s, uint64_t conn, uint64_t seq)
{
	return seq * s->local_conns + conn;
}

uint64_t sched_conn_due(const struct sched *s, uint64_t conn, uint64_t j)
{
	if (s->local_conns == 0)
		return 0;
	return j / s->local_conns + (conn < j % s->local_conns ? 1 : 0);
}
