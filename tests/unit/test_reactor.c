/* Unit tests for the c1m-epoll reactor: the fd -> slot lookup through the block index (including growth by
 * doubling and agreement with the linked list), slot claim and release, the idle list order, and dispatch on
 * real eventfds (no network): level triggering, a callback releasing its own slot, and a slot released by an
 * earlier callback of the same batch being skipped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "server/epoll/reactor.h"

/* Counts calls; optionally releases its own slot, or another slot, when called. */
struct probe {
	int calls;
	uint32_t last_revents;
	bool free_self;
	struct reactor_event **free_other; /* released on the first call if not NULL */
};

static void probe_cb(struct reactor *r, struct reactor_event *ev, uint32_t revents)
{
	struct probe *p = ev->arg;

	p->calls++;
	p->last_revents = revents;
	if (p->free_other != NULL && *p->free_other != NULL)
		reactor_event_free(r, p->free_other);
	if (p->free_self)
		reactor_event_free(r, &ev);
}

static struct reactor_block *walk_list(const struct reactor *r, unsigned idx)
{
	struct reactor_block *blk = r->evblk;

	while (idx-- > 0 && blk != NULL)
		blk = blk->next;
	return blk;
}

static void test_lookup_and_growth(void **state)
{
	struct reactor r;
	struct reactor_event *ev, *again;
	char err[256];
	/* Fabricated fd numbers: reactor_slot only computes addresses, it never touches the fd. */
	const int fds[] = { 0, 1, 1023, 1024, 2047, 5000, 16 * 1024 + 5, 40000 };

	(void)state;
	assert_int_equal(reactor_init(&r, err, sizeof(err)), 0);
	assert_int_equal(r.blkcnt, 1);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		unsigned b = (unsigned)fds[i] / REACTOR_BLOCK_SLOTS;

		assert_int_equal(reactor_slot(&r, fds[i], &ev, err, sizeof(err)), 0);
		assert_true(r.blkcnt > b);
		/* The index answers what walking the original's list would. */
		assert_ptr_equal(walk_list(&r, b), r.index[b]);
		assert_ptr_equal(ev, &r.index[b]->events[fds[i] % REACTOR_BLOCK_SLOTS]);
		assert_null(ev->callback); /* a never-used slot is free */
		assert_int_equal(reactor_slot(&r, fds[i], &again, err, sizeof(err)), 0);
		assert_ptr_equal(ev, again);
	}
	assert_int_equal(r.blkcnt, 40000 / REACTOR_BLOCK_SLOTS + 1);
	/* Doubling from 16: 16 -> 32 -> 64 entries for 40 blocks. */
	assert_int_equal(r.index_cap, 64);
	assert_ptr_equal(r.tail, r.index[r.blkcnt - 1]);
	assert_null(r.tail->next);
	reactor_destroy(&r);
	assert_int_equal(r.epfd, -1);
	assert_null(r.evblk);
}

static void test_claim_release_once(void **state)
{
	struct reactor r;
	struct reactor_event *ev, *keep;
	struct probe p = { 0 };
	char err[256];
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(reactor_init(&r, err, sizeof(err)), 0);
	assert_int_equal(reactor_slot(&r, fd, &ev, err, sizeof(err)), 0);
	reactor_event_set(ev, fd, probe_cb, &p);
	assert_int_equal(reactor_event_add(&r, ev, EPOLLIN), 0);
	assert_int_equal(ev->status, 1);
	assert_int_equal(ev->events, EPOLLIN);
	/* Same interest set again: no syscall needed, still fine; a change is an EPOLL_CTL_MOD. */
	assert_int_equal(reactor_event_add(&r, ev, EPOLLIN), 0);
	assert_int_equal(reactor_event_add(&r, ev, EPOLLOUT), 0);
	assert_int_equal(ev->events, EPOLLOUT);
	assert_int_equal(reactor_event_del(&r, ev), 0);
	assert_int_equal(ev->status, 0);
	assert_int_equal(reactor_event_add(&r, ev, EPOLLIN), 0); /* ADD again after DEL */
	keep = ev;
	reactor_event_free(&r, &ev);
	assert_null(ev);
	assert_null(keep->callback);
	assert_int_equal(keep->fd, -1);
	/* The fd was closed by the release. */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	reactor_destroy(&r);
}

static void test_idle_order(void **state)
{
	struct reactor r;
	struct reactor_event *a, *b, *c;
	struct probe p = { 0 };
	char err[256];
	int fa = eventfd(0, EFD_CLOEXEC), fb = eventfd(0, EFD_CLOEXEC), fc = eventfd(0, EFD_CLOEXEC);

	(void)state;
	assert_int_equal(reactor_init(&r, err, sizeof(err)), 0);
	assert_int_equal(reactor_slot(&r, fa, &a, err, sizeof(err)), 0);
	assert_int_equal(reactor_slot(&r, fb, &b, err, sizeof(err)), 0);
	assert_int_equal(reactor_slot(&r, fc, &c, err, sizeof(err)), 0);
	reactor_event_set(a, fa, probe_cb, &p);
	reactor_event_set(b, fb, probe_cb, &p);
	reactor_event_set(c, fc, probe_cb, &p);
	assert_null(reactor_idle_oldest(&r));
	reactor_idle_touch(&r, a, 10);
	reactor_idle_touch(&r, b, 20);
	reactor_idle_touch(&r, c, 30);
	assert_ptr_equal(reactor_idle_oldest(&r), a);
	reactor_idle_touch(&r, a, 40); /* a becomes the most recent */
	assert_ptr_equal(reactor_idle_oldest(&r), b);
	assert_int_equal(a->last_ns, 40);
	reactor_idle_touch(&r, a, 50); /* already the tail */
	assert_ptr_equal(r.idle_tail, a);
	reactor_event_free(&r, &b); /* releasing unlists */
	assert_ptr_equal(reactor_idle_oldest(&r), c);
	reactor_event_free(&r, &c);
	assert_ptr_equal(reactor_idle_oldest(&r), a);
	reactor_event_free(&r, &a);
	assert_null(reactor_idle_oldest(&r));
	assert_null(r.idle_tail);
	reactor_destroy(&r);
}

static void test_dispatch(void **state)
{
	struct reactor r;
	struct reactor_event *ev;
	struct probe p = { 0 };
	char err[256];
	uint64_t one = 1;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	(void)state;
	assert_int_equal(reactor_init(&r, err, sizeof(err)), 0);
	assert_int_equal(reactor_slot(&r, fd, &ev, err, sizeof(err)), 0);
	reactor_event_set(ev, fd, probe_cb, &p);
	assert_int_equal(reactor_event_add(&r, ev, EPOLLIN), 0);
	assert_int_equal(reactor_run_once(&r, 0, err, sizeof(err)), 0); /* nothing ready */
	assert_int_equal(p.calls, 0);
	assert_int_equal(write(fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	/* Level-triggered: readable until read, so it is reported on every call. */
	assert_int_equal(reactor_run_once(&r, 0, err, sizeof(err)), 1);
	assert_int_equal(reactor_run_once(&r, 0, err, sizeof(err)), 1);
	assert_int_equal(p.calls, 2);
	assert_true(p.last_revents & EPOLLIN);
	/* An eventfd is always writable, but EPOLLOUT is not in the interest set: only EPOLLIN arrives. */
	assert_false(p.last_revents & EPOLLOUT);
	p.free_self = true;
	assert_int_equal(reactor_run_once(&r, 0, err, sizeof(err)), 1);
	assert_int_equal(p.calls, 3);
	assert_null(ev->callback);
	/* The fd left the epoll set with its close: nothing more is reported. */
	assert_int_equal(reactor_run_once(&r, 0, err, sizeof(err)), 0);
	assert_int_equal(p.calls, 3);
	reactor_destroy(&r);
}

/* Two ready slots in one batch; whichever runs first releases the other, which must then not run. */
static void test_released_in_batch_is_skipped(void **state)
{
	struct reactor r;
	struct reactor_event *a, *b;
	struct probe pa = { 0 }, pb = { 0 };
	char err[256];
	/* Counter 1 at creation: both readable from the start. */
	int fa = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC), fb = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);

	(void)state;
	assert_int_equal(reactor_init(&r, err, sizeof(err)), 0);
	assert_int_equal(reactor_slot(&r, fa, &a, err, sizeof(err)), 0);
	assert_int_equal(reactor_slot(&r, fb, &b, err, sizeof(err)), 0);
	reactor_event_set(a, fa, probe_cb, &pa);
	reactor_event_set(b, fb, probe_cb, &pb);
	pa.free_other = &b;
	pb.free_other = &a;
	assert_int_equal(reactor_event_add(&r, a, EPOLLIN), 0);
	assert_int_equal(reactor_event_add(&r, b, EPOLLIN), 0);
	assert_int_equal(reactor_run_once(&r, 0, err, sizeof(err)), 2); /* both were reported */
	assert_int_equal(pa.calls + pb.calls, 1);                      /* only one ran */
	reactor_destroy(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_and_growth),
		cmocka_unit_test(test_claim_release_once),
		cmocka_unit_test(test_idle_order),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_released_in_batch_is_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
