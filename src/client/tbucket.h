/* Token bucket that paces new connections (--rate CONN_PER_S). Pure: the caller passes the monotonic time
 * in nanoseconds, so tests drive it with simulated time. Tokens are kept in nano-tokens (1 token = 10^9) and
 * refilled with integer arithmetic, so over any simulated interval the number of tokens granted is exact:
 * burst + floor(rate * elapsed_ns / 10^9), with no floating-point drift. */
#ifndef C1M_TBUCKET_H
#define C1M_TBUCKET_H

#include <stdbool.h>
#include <stdint.h>

#define TBUCKET_NANO 1000000000ULL /* nano-tokens per token */

struct tbucket {
	uint64_t rate;      /* tokens per second; 0 = unlimited */
	uint64_t burst;     /* bucket capacity, tokens (>= 1) */
	uint64_t nano;      /* current fill, nano-tokens (<= burst * TBUCKET_NANO) */
	uint64_t last_ns;   /* time of the last refill, monotonic ns */
	bool     started;   /* false until the first take/wait anchors last_ns */
};

/* rate 0 = unlimited. burst 0 is taken as 1. The bucket starts full at the time of the first call. */
void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t burst);
/* Takes up to `want` tokens at time now_ns; returns the number granted (all of them when unlimited). */
uint64_t tbucket_take(struct tbucket *b, uint64_t now_ns, uint64_t want);
/* Nanoseconds until at least one token is available at now_ns (0 = available now or unlimited). */
uint64_t tbucket_wait_ns(struct tbucket *b, uint64_t now_ns);

#endif
