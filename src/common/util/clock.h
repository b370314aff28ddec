/* Monotonic time in nanoseconds, the one clock every latency and rate in c1m is measured with. */
#ifndef C1M_CLOCK_H
#define C1M_CLOCK_H

#include <stdint.h>

#define CLOCK_NS_PER_US 1000ULL
#define CLOCK_NS_PER_MS 1000000ULL
#define CLOCK_NS_PER_S  1000000000ULL

uint64_t clock_now_ns(void); /* CLOCK_MONOTONIC, nanoseconds */

#endif
