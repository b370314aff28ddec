/* Monotonic clock. CLOCK_MONOTONIC is a vDSO call on Linux, cheap enough for the per-connection path. */
#include "common/util/clock.h"

#include <time.h>

uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}
