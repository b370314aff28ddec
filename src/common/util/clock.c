/* Monotonic clock. CLOCK_MONOTONIC is a vDSO call on Linux, cheap enough for the per-connection path. The wall
 * clock is only for what other machines must agree on (a fleet's start time, times in a shard's report). */
#include "common/util/clock.h"

#include <time.h>

uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t clock_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}

struct timeval clock_timeval_ns(uint64_t ns)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ns / CLOCK_NS_PER_S);
	tv.tv_usec = (suseconds_t)(ns % CLOCK_NS_PER_S / CLOCK_NS_PER_US);
	return tv;
}

struct timeval clock_timeval_ms(uint64_t ms)
{
	return clock_timeval_ns(ms * CLOCK_NS_PER_MS);
}
