/* Single-writer shared counters: see counter.h. */
#include "common/util/counter.h"

void counter_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

void counter_sub(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) - n, memory_order_relaxed);
}

void counter_set(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

uint64_t counter_get(const _Atomic uint64_t *c)
{
	/* C11 declares the argument non-const; loading does not write, and glibc/gcc accept the cast */
	return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

void counter_max(_Atomic uint64_t *c, uint64_t v)
{
	if (atomic_load_explicit(c, memory_order_relaxed) < v)
		atomic_store_explicit(c, v, memory_order_relaxed);
}

void counter_publish(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_release);
}

uint64_t counter_acquire(const _Atomic uint64_t *c)
{
	return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_acquire);
}

void counter_set32(_Atomic uint32_t *c, uint32_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

uint32_t counter_get32(const _Atomic uint32_t *c)
{
	return atomic_load_explicit((_Atomic uint32_t *)c, memory_order_relaxed);
}

void counter_publish32(_Atomic uint32_t *c, uint32_t v)
{
	atomic_store_explicit(c, v, memory_order_release);
}

uint32_t counter_acquire32(const _Atomic uint32_t *c)
{
	return atomic_load_explicit((_Atomic uint32_t *)c, memory_order_acquire);
}

void counter_set_i32(_Atomic int32_t *c, int32_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

int32_t counter_get_i32(const _Atomic int32_t *c)
{
	return atomic_load_explicit((_Atomic int32_t *)c, memory_order_relaxed);
}
