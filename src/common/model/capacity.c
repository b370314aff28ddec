/* Processes and tables from the open-file limit: see capacity.h. */
#include "common/model/capacity.h"

#include <inttypes.h>
#include <stdio.h>

uint64_t capacity_round_pow2(uint64_t v)
{
	uint64_t p = 1;

	while (p < v && p <= UINT64_MAX / 2)
		p *= 2;
	return p;
}

int capacity_plan(enum capacity_side side, uint64_t nofile, unsigned ports, uint64_t n, struct capacity *c,
		  char *err, size_t errlen)
{
	uint64_t reserve = CAPACITY_FD_RESERVE + (side == CAPACITY_SERVER ? (uint64_t)ports : 0), budget, fill, w;

	budget = nofile > reserve ? nofile - reserve : 0;
	if (budget > UINT32_MAX)
		budget = UINT32_MAX;
	fill = side == CAPACITY_SERVER ? budget * CAPACITY_SERVER_FILL_PCT / 100 : budget;
	if (fill == 0 && budget > 0)
		fill = 1;
	c->budget = (unsigned)budget;
	c->fill = (unsigned)fill;
	if (fill == 0) {
		c->workers = UINT32_MAX;
		snprintf(err, errlen, "an open-file limit of %" PRIu64 " leaves no descriptor for connections after %" PRIu64
			 " reserved%s", nofile, reserve, side == CAPACITY_SERVER ? " (listeners included)" : "");
		return -1;
	}
	w = n == 0 ? 1 : n / fill + (n % fill != 0);
	c->workers = w > UINT32_MAX ? UINT32_MAX : (unsigned)w;
	if (w > WORKERS_MAX) {
		snprintf(err, errlen, "%" PRIu64 " connections at %" PRIu64 " per process need %" PRIu64
			 " processes, more than the %u supported; raise the hard open-file limit", n, fill, w,
			 (unsigned)WORKERS_MAX);
		return -1;
	}
	return 0;
}

uint64_t capacity_conntrack_max(uint64_t n)
{
	if (n == 0)
		n = CAPACITY_DEFAULT_TARGET;
	if (n > UINT64_MAX / CAPACITY_CONNTRACK_PER_CONN)
		n = UINT64_MAX / CAPACITY_CONNTRACK_PER_CONN;
	return capacity_round_pow2(n * CAPACITY_CONNTRACK_PER_CONN);
}

uint64_t capacity_conntrack_buckets(uint64_t n)
{
	uint64_t b = capacity_conntrack_max(n) / CAPACITY_CONNTRACK_CHAIN;

	return b ? b : 1;
}
