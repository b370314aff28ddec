/* The single-reactor epoll core of c1m-epoll, laid out as in the original write-up: a reactor owns a linked
 * list of event blocks of REACTOR_BLOCK_SLOTS slots, each slot holding fd, interest set, callback and a
 * REACTOR_BUFFER_LENGTH-byte buffer, found by fd / REACTOR_BLOCK_SLOTS and fd % REACTOR_BLOCK_SLOTS. Unlike the
 * original, an index array of block pointers (grown by doubling) makes the fd lookup O(1), each epoll
 * registration carries its slot pointer in epoll_data.ptr so dispatch needs no lookup at all, and a slot is
 * released in exactly one place. Epoll is level-triggered throughout. The reactor knows nothing about echo,
 * listeners or counters: those live in the callbacks. */
#ifndef C1M_REACTOR_H
#define C1M_REACTOR_H

#include <stddef.h>
#include <stdint.h>

#define REACTOR_BUFFER_LENGTH 4096 /* bytes of echo buffer per slot, as in the original */
#define REACTOR_BLOCK_SLOTS   1024 /* slots per event block, as in the original */
#define REACTOR_MAX_EVENTS    1024 /* events returned by one epoll_wait call (MAX_EPOLL_EVENTS) */

struct reactor;
struct reactor_event;
struct epoll_event;

/* Called with the epoll event mask (EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP/EPOLLRDHUP). IMPORTANT: the callback may
 * release its own slot with reactor_event_free(). It may release other slots only if no new fd is created for
 * the rest of the batch: a slot released mid-batch is skipped by the dispatcher, but if its fd number were
 * handed out again (accept) within the same batch, an event still queued for the old fd would reach the new
 * connection. c1m-epoll releases other slots only when it closes its listeners, after which it cannot accept
 * until the batch ends; idle expiry and re-opening happen between batches. */
typedef void (*reactor_cb)(struct reactor *r, struct reactor_event *ev, uint32_t revents);

/* One fd slot. A slot is in use while callback is set; zeroed memory is a free slot, so a fresh block costs no
 * RSS until its slots are used. */
struct reactor_event {
	int fd;                  /* the socket; -1 (or 0 in a never-used slot) while the slot is free */
	uint32_t events;         /* interest set registered with epoll, 0 while not registered */
	reactor_cb callback;     /* what to run when the fd is ready, swapped between recv and send; NULL = free */
	void *arg;               /* callback context */
	int status;              /* 1 while the fd is in the epoll set */
	uint32_t length;         /* bytes held in buffer */
	uint32_t sent;           /* bytes of buffer already sent; length - sent are still owed to the peer */
	uint64_t last_ns;        /* clock_now_ns() of the last activity, for the idle list */
	struct reactor_event *idle_prev; /* idle list, least recently active first; NULL when not listed */
	struct reactor_event *idle_next;
	char buffer[REACTOR_BUFFER_LENGTH]; /* bytes received and not yet fully echoed */
};

/* A block of REACTOR_BLOCK_SLOTS slots, covering fds [index * REACTOR_BLOCK_SLOTS, (index + 1) * ...). */
struct reactor_block {
	struct reactor_block *next;    /* next block in fd order, NULL at the end */
	struct reactor_event *events;  /* REACTOR_BLOCK_SLOTS slots */
};

struct reactor {
	int epfd;                       /* the epoll instance, -1 before reactor_init */
	unsigned blkcnt;                /* blocks in the list */
	struct reactor_block *evblk;    /* first block (fds 0..1023) */
	struct reactor_block *tail;     /* last block, so growing does not walk the list */
	struct reactor_block **index;   /* index[i] = block i; blkcnt used entries */
	unsigned index_cap;             /* entries allocated in index, doubled when full */
	struct reactor_event *idle_head; /* least recently active listed slot */
	struct reactor_event *idle_tail; /* most recently active listed slot */
	struct epoll_event *ready;      /* REACTOR_MAX_EVENTS entries for epoll_wait */
};

int reactor_init(struct reactor *r, char *err, size_t errlen);
void reactor_destroy(struct reactor *r); /* closes every fd still held and frees all blocks */

/* The slot for fd, allocating blocks (and growing the index) as needed. -1 on ENOMEM. */
int reactor_slot(struct reactor *r, int fd, struct reactor_event **out, char *err, size_t errlen);

/* Claims a free slot for fd: sets fd, callback (not NULL) and arg, nothing registered yet. */
void reactor_event_set(struct reactor_event *ev, int fd, reactor_cb callback, void *arg);
/* Registers (EPOLL_CTL_ADD) or changes (EPOLL_CTL_MOD) the interest set. -1 with errno kept on failure. */
int reactor_event_add(struct reactor *r, struct reactor_event *ev, uint32_t events);
/* Removes the fd from the epoll set without closing it. -1 with errno kept on failure. */
int reactor_event_del(struct reactor *r, struct reactor_event *ev);
/* The one place a slot is released: unlists it, closes the fd (which also drops it from the epoll set) and
 * marks the slot free. Sets *evp to NULL. Releasing a free slot is a programming error (asserted). */
void reactor_event_free(struct reactor *r, struct reactor_event **evp);

/* Calls fn for every slot in use, in fd order; fn may release the slot it is given (and only that one). */
void reactor_foreach(struct reactor *r, void (*fn)(struct reactor *r, struct reactor_event *ev, void *arg),
		     void *arg);

/* Idle list: move ev to the most-recent end with last_ns = now_ns (listing it if needed). */
void reactor_idle_touch(struct reactor *r, struct reactor_event *ev, uint64_t now_ns);
/* The least recently active listed slot, or NULL. */
struct reactor_event *reactor_idle_oldest(const struct reactor *r);

/* One epoll_wait (up to REACTOR_MAX_EVENTS events, timeout in milliseconds, -1 = forever) and dispatch.
 * Returns the number of events dispatched, 0 on timeout or EINTR, -1 on any other epoll_wait failure. */
int reactor_run_once(struct reactor *r, int timeout_ms, char *err, size_t errlen);

#endif
