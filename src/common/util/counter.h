/* The one convention for numbers that processes share through MAP_SHARED memory: the servers' per-worker
 * counters, the drain records, the client's per-worker stats, its histograms and the latency phase's
 * control. Every such field is a C11 _Atomic integer with exactly one writer. The writer updates it with a
 * relaxed load and store (no read-modify-write: nobody else writes), readers load it relaxed, so a reader
 * sees each value whole but in no particular order with others. Where a value announces that other data
 * is ready (a step number, a state, a start time), the writer stores it with release and the reader loads
 * it with acquire, so everything written before the announcement is visible after it. Fields with several
 * writers (the servers' listener holder count) are not counters: they use compare-and-swap where they live. */
#ifndef C1M_UTIL_COUNTER_H
#define C1M_UTIL_COUNTER_H

#include <stdatomic.h>
#include <stdint.h>

/* 64-bit counters and gauges, relaxed. */
void     counter_add(_Atomic uint64_t *c, uint64_t n);
void     counter_sub(_Atomic uint64_t *c, uint64_t n);
void     counter_set(_Atomic uint64_t *c, uint64_t v);
uint64_t counter_get(const _Atomic uint64_t *c);
void     counter_max(_Atomic uint64_t *c, uint64_t v);   /* raise to v when below it */
/* 64-bit announcements: release store, acquire load. */
void     counter_publish(_Atomic uint64_t *c, uint64_t v);
uint64_t counter_acquire(const _Atomic uint64_t *c);

/* 32-bit states, steps and flags: relaxed, and release/acquire for announcements. */
void     counter_set32(_Atomic uint32_t *c, uint32_t v);
uint32_t counter_get32(const _Atomic uint32_t *c);
void     counter_publish32(_Atomic uint32_t *c, uint32_t v);
uint32_t counter_acquire32(const _Atomic uint32_t *c);

/* Signed 32-bit values (pids, errno, signal numbers), relaxed. */
void    counter_set_i32(_Atomic int32_t *c, int32_t v);
int32_t counter_get_i32(const _Atomic int32_t *c);

#endif
