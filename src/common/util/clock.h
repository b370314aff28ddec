/* Monotonic time in nanoseconds, the one clock every latency and rate in c1m is measured with, and the
 * conversion of durations to the struct timeval of libevent's timers. */
#ifndef C1M_CLOCK_H
#define C1M_CLOCK_H

#include <stdint.h>
#include <sys/time.h>

#define CLOCK_NS_PER_US 1000ULL
#define CLOCK_NS_PER_MS 1000000ULL
#define CLOCK_NS_PER_S  1000000000ULL

uint64_t clock_now_ns(void); /* CLOCK_MONOTONIC, nanoseconds */
uint64_t clock_wall_ns(void); /* CLOCK_REALTIME, nanoseconds since 1970 */

/* A duration as the struct timeval libevent's timers take: the one conversion of the tree. */
struct timeval clock_timeval_ms(uint64_t ms);
struct timeval clock_timeval_ns(uint64_t ns);  /* rounded down to the microsecond */

#endif
