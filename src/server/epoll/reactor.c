/* Epoll mechanics of c1m-epoll: event blocks, the fd -> slot lookup, registration and the dispatch loop.
 * The memory layout is the original write-up's (linked blocks of 1024 slots with a 4 KB buffer each, so RSS
 * grows by about 4.2 KB per connection); what changes is that nothing walks the list on the hot path: the
 * index array answers fd / 1024 directly, and epoll hands back the slot pointer it was registered with. */
#include "server/epoll/reactor.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Appends one block. calloc of a 4 MB block is served by mmap with zero pages, and a zeroed slot is a free
 * slot, so nothing is touched here: a slot costs RSS (one or two pages, shared with its neighbours, so about
 * sizeof(struct reactor_event) once the block is dense) only when a connection first uses it. */
static int reactor_alloc(struct reactor *r, char *err, size_t errlen)
{
	struct reactor_block *blk;

	if (r->blkcnt == r->index_cap) {
		unsigned cap = r->index_cap ? r->index_cap * 2 : 16;
		struct reactor_block **idx = realloc(r->index, cap * sizeof(*idx));

		if (idx == NULL) {
			snprintf(err, errlen, "reactor: growing the block index to %u entries: %s", cap, strerror(errno));
			return -1;
		}
		r->index = idx;
		r->index_cap = cap;
	}
	blk = calloc(1, sizeof(*blk));
	if (blk == NULL) {
		snprintf(err, errlen, "reactor: allocating an event block: %s", strerror(errno));
		return -1;
	}
	blk->events = calloc(REACTOR_BLOCK_SLOTS, sizeof(*blk->events));
	if (blk->events == NULL) {
		snprintf(err, errlen, "reactor: allocating %d event slots (%zu bytes): %s", REACTOR_BLOCK_SLOTS,
			REACTOR_BLOCK_SLOTS * sizeof(*blk->events), strerror(errno));
		free(blk);
		return -1;
	}
	if (r->tail != NULL)
		r->tail->next = blk;
	else
		r->evblk = blk;
	r->tail = blk;
	r->index[r->blkcnt++] = blk;
	return 0;
}

int reactor_init(struct reactor *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->epfd = -1;
	r->ready = calloc(REACTOR_MAX_EVENTS, sizeof(*r->ready));
	if (r->ready == NULL) {
		snprintf(err, errlen, "reactor: allocating the epoll event array: %s", strerror(errno));
		goto fail;
	}
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		goto fail;
	}
	if (reactor_alloc(r, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	reactor_destroy(r);
	return -1;
}

void reactor_destroy(struct reactor *r)
{
	struct reactor_block *blk = r->evblk;

	while (blk != NULL) {
		struct reactor_block *next = blk->next;

		for (unsigned i = 0; i < REACTOR_BLOCK_SLOTS; i++) {
			struct reactor_event *ev = &blk->events[i];

			if (ev->callback != NULL)
				reactor_event_free(r, &ev);
		}
		free(blk->events);
		free(blk);
		blk = next;
	}
	if (r->epfd >= 0)
		close(r->epfd);
	free(r->index);
	free(r->ready);
	memset(r, 0, sizeof(*r));
	r->epfd = -1;
}

int reactor_slot(struct reactor *r, int fd, struct reactor_event **out, char *err, size_t errlen)
{
	unsigned blkidx;

	assert(fd >= 0);
	blkidx = (unsigned)fd / REACTOR_BLOCK_SLOTS;
	while (blkidx >= r->blkcnt)
		if (reactor_alloc(r, err, errlen) < 0)
			return -1;
	*out = &r->index[blkidx]->events[(unsigned)fd % REACTOR_BLOCK_SLOTS];
	return 0;
}

void reactor_event_set(struct reactor_event *ev, int fd, reactor_cb callback, void *arg)
{
	ev->fd = fd;
	ev->callback = callback;
	ev->arg = arg;
	ev->events = 0;
	ev->status = 0;
	ev->length = 0;
	ev->sent = 0;
	ev->idle_prev = NULL;
	ev->idle_next = NULL;
}

int reactor_event_add(struct reactor *r, struct reactor_event *ev, uint32_t events)
{
	struct epoll_event ep = { .events = events, .data.ptr = ev };
	int op = ev->status ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (ev->status && ev->events == events)
		return 0;
	if (epoll_ctl(r->epfd, op, ev->fd, &ep) < 0)
		return -1;
	ev->status = 1;
	ev->events = events;
	return 0;
}

int reactor_event_del(struct reactor *r, struct reactor_event *ev)
{
	struct epoll_event ep = { 0 }; /* ignored by the kernel, but pre-2.6.9 kernels wanted non-NULL */

	if (!ev->status)
		return 0;
	if (epoll_ctl(r->epfd, EPOLL_CTL_DEL, ev->fd, &ep) < 0)
		return -1;
	ev->status = 0;
	ev->events = 0;
	return 0;
}

static void idle_unlink(struct reactor *r, struct reactor_event *ev)
{
	if (ev->idle_prev != NULL)
		ev->idle_prev->idle_next = ev->idle_next;
	else if (r->idle_head == ev)
		r->idle_head = ev->idle_next;
	else
		return; /* not listed */
	if (ev->idle_next != NULL)
		ev->idle_next->idle_prev = ev->idle_prev;
	else
		r->idle_tail = ev->idle_prev;
	ev->idle_prev = NULL;
	ev->idle_next = NULL;
}

/* Closing the fd is what removes it from the epoll set: no process holds a duplicate of a connection fd (the
 * workers are forked before any connection exists, and every fd is CLOEXEC), so an explicit EPOLL_CTL_DEL
 * would be one syscall per connection spent on nothing. close() on a socket can report only EINTR or EIO
 * after the fd is already gone on Linux, so its result does not change what happens to the slot. */
void reactor_event_free(struct reactor *r, struct reactor_event **evp)
{
	struct reactor_event *ev = *evp;

	assert(ev != NULL && ev->callback != NULL);
	idle_unlink(r, ev);
	(void)close(ev->fd);
	ev->fd = -1;
	ev->status = 0;
	ev->events = 0;
	ev->callback = NULL;
	ev->arg = NULL;
	ev->length = 0;
	ev->sent = 0;
	*evp = NULL;
}

void reactor_foreach(struct reactor *r, void (*fn)(struct reactor *r, struct reactor_event *ev, void *arg),
		     void *arg)
{
	for (struct reactor_block *blk = r->evblk; blk != NULL; blk = blk->next)
		for (unsigned i = 0; i < REACTOR_BLOCK_SLOTS; i++)
			if (blk->events[i].callback != NULL)
				fn(r, &blk->events[i], arg);
}

void reactor_idle_touch(struct reactor *r, struct reactor_event *ev, uint64_t now_ns)
{
	ev->last_ns = now_ns;
	if (r->idle_tail == ev)
		return;
	idle_unlink(r, ev);
	ev->idle_prev = r->idle_tail;
	if (r->idle_tail != NULL)
		r->idle_tail->idle_next = ev;
	else
		r->idle_head = ev;
	r->idle_tail = ev;
}

struct reactor_event *reactor_idle_oldest(const struct reactor *r)
{
	return r->idle_head;
}

int reactor_run_once(struct reactor *r, int timeout_ms, char *err, size_t errlen)
{
	int nready = epoll_wait(r->epfd, r->ready, REACTOR_MAX_EVENTS, timeout_ms);

	if (nready < 0) {
		if (errno == EINTR)
			return 0;
		snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < nready; i++) {
		struct reactor_event *ev = r->ready[i].data.ptr;
		uint32_t revents = r->ready[i].events;

		/* A slot released earlier in this batch (a listener closed on EMFILE) has nothing to run. */
		if (ev->callback == NULL || !ev->status)
			continue;
		/* Level-triggered: an event outside the current interest set (EPOLLOUT reported just after the slot
		 * switched back to EPOLLIN) is simply ignored; errors and hangups always reach the callback. */
		if (!(revents & (ev->events | EPOLLERR | EPOLLHUP)))
			continue;
		ev->callback(r, ev, revents);
	}
	return nready;
}
