/* The one source of the numbers every part of c1m derives from the open-file limit: how many sockets one
 * process can hold, how many connections --workers auto plans per process, how many processes N
 * connections need, and the connection-tracking table the fix lines recommend. c1m-doctor's model,
 * c1m-server's and c1m-epoll's --workers auto, c1m-client's worker plan and (through the doctor's JSON)
 * tuning/apply all call these functions, so they cannot disagree: for the hard limit of 20,000 here and
 * 1,000,000 connections, 56 server processes and 51 client processes. Pure. */
#ifndef C1M_MODEL_CAPACITY_H
#define C1M_MODEL_CAPACITY_H

#include <stddef.h>
#include <stdint.h>

#include "common/sys/workers.h"   /* WORKERS_MAX: the one cap on processes per side */

#define CAPACITY_FD_RESERVE      20u    /* fds a process needs besides sockets: stdio, epoll, pipes, logs */
#define CAPACITY_SERVER_FILL_PCT 90u    /* --workers auto plans a server process at this % of its socket
                                           budget: SO_REUSEPORT hashing is not load-aware, so some
                                           workers get more than their share and need the room */
#define CAPACITY_DEFAULT_TARGET  UINT64_C(1000000) /* N when a fix is asked for without one: the C1M */
#define CAPACITY_CONNTRACK_PER_CONN 2u  /* conntrack entries per connection a fix provides: the live one,
                                           plus one lingering in TIME_WAIT (120 s) from the previous run */
#define CAPACITY_CONNTRACK_CHAIN 4u     /* average hash chain length the recommended buckets give a full table */

/* Which side of the connection a process is on. */
enum capacity_side {
	CAPACITY_SERVER,             /* holds the listeners too; planned at CAPACITY_SERVER_FILL_PCT */
	CAPACITY_CLIENT,             /* the client splits N exactly, so it plans at its whole budget */
};

struct capacity {
	unsigned budget;             /* sockets one process can hold: nofile - reserve (- ports on a server);
	                                0 = none */
	unsigned fill;               /* connections --workers auto plans per process (at least 1 if budget) */
	unsigned workers;            /* processes needed for n: ceil(n / fill), at least 1; UINT32_MAX
	                                when the budget is 0 */
};

/* Pure: the plan for n connections on one side, for processes whose open-file limit is nofile (the soft
 * limit c1m runs with: it raises it to the hard limit at start) and, on the server side, ports listeners
 * each. Returns 0, or -1 with err when the limit leaves no socket or n needs more than WORKERS_MAX
 * processes (c is filled either way, so a report can still quote the numbers). */
int capacity_plan(enum capacity_side side, uint64_t nofile, unsigned ports, uint64_t n, struct capacity *c,
		  char *err, size_t errlen);

/* Pure: nf_conntrack_max to recommend for n connections (0 = CAPACITY_DEFAULT_TARGET): the next power of two
 * at or above CAPACITY_CONNTRACK_PER_CONN x n. */
uint64_t capacity_conntrack_max(uint64_t n);
/* Pure: nf_conntrack_buckets to go with it: capacity_conntrack_max(n) / CAPACITY_CONNTRACK_CHAIN. */
uint64_t capacity_conntrack_buckets(uint64_t n);
/* Pure: the next power of two at or above v (at least 1): round numbers leave headroom in fix lines. */
uint64_t capacity_round_pow2(uint64_t v);

#endif
