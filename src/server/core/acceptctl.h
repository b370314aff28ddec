/* The accept policy both servers share (c1m-server's libevent workers and c1m-epoll's raw-epoll workers).
 * Every worker binds the same ports with SO_REUSEPORT and the kernel hashes each new connection to one
 * listener of the group, whatever that worker's load. A worker that merely stops calling accept() at its cap
 * leaves the connections hashed to it waiting in its accept queue. So, when net.ipv4.tcp_migrate_req = 1, a
 * worker that reaches its cap (or runs out of descriptors) CLOSES its listeners: the kernel moves their queued
 * requests to the other listeners of the group and hashes new SYNs only to open ones. It re-creates them once
 * its connections fell a little below the cap (hysteresis). The last worker holding listeners never closes
 * (a shared holder count, lowered only by compare-and-swap from above 1): with everyone full the server is
 * simply full, and that worker disables its listeners instead. With tcp_migrate_req = 0 closing a listener
 * RESETS the connections queued on it, so then no worker ever closes; a full worker disables its listeners
 * and its queued connections wait until it has room again. A worker that is not accepting re-checks on a
 * short timer and after connections close, so EMFILE never becomes an accept-error busy loop.
 *
 * The decisions are acceptctl_decide(), a pure transition function; struct acceptctl is the thin driver each
 * worker embeds: it reads the holder count, does the compare-and-swap, keeps the counters and calls the
 * server's mechanics (struct acceptctl_mech) for what differs: evconnlistener_disable/free or epoll_ctl/close.
 * Library code: nothing here prints; lines worth printing are handed back to the worker. */
#ifndef C1M_ACCEPTCTL_H
#define C1M_ACCEPTCTL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/model/diag.h"
#include "server/core/stats.h"

#define ACCEPTCTL_RETRY_MS       200u  /* a worker that is not accepting re-checks this often */
#define ACCEPTCTL_LOG_GAP_S      10u   /* at most one "accept paused" line per worker per this many seconds */
#define ACCEPTCTL_REOPEN_MIN_GAP 64u   /* closed listeners re-open once connections fell this far (or 1% of the
                                          cap, whichever is more) below the cap */
#define ACCEPTCTL_MSG_LEN        (DIAG_EXPLAIN_LEN + 512) /* always holds one line from acceptctl_event() */
#define ACCEPTCTL_PAUSE_PREFIX   "accept paused: " /* every pause line starts with this */

/* Shared by all workers of one server (MAP_SHARED, created before fork). Unlike the stats slots it has
 * several writers, so it is only ever changed with compare-and-swap / fetch-add. */
struct acceptctl_shared {
	_Atomic uint32_t listening; /* workers holding open listening sockets; never lowered below 1 by a worker
	                               closing at its cap, so the reuseport group never empties */
};

/* What happened. */
enum acceptctl_event {
	ACCEPTCTL_EV_OPENED, /* a connection was accepted (conns includes it) */
	ACCEPTCTL_EV_ERROR,  /* accept() (or registering the accepted socket) failed with errno err */
	ACCEPTCTL_EV_CLOSED, /* one or more connections closed */
	ACCEPTCTL_EV_TIMER,  /* the retry timer fired */
};

/* What the worker does to its listeners. */
enum acceptctl_action {
	ACCEPTCTL_NONE,   /* leave them as they are */
	ACCEPTCTL_PAUSE,  /* disable: out of the event loop, sockets and queues kept */
	ACCEPTCTL_CLOSE,  /* close: with tcp_migrate_req = 1 the queues move to the other workers */
	ACCEPTCTL_REOPEN, /* create, bind, listen and enable them again */
	ACCEPTCTL_ENABLE, /* put the disabled ones back into the event loop */
};

/* The policy's state for one worker: plain values, so acceptctl_decide() can be tested with fabricated ones. */
struct acceptctl_state {
	enum stats_accept_state state; /* STATS_ACCEPTING, _PAUSED, _FULL_HELD or _CLOSED; others ignore events */
	uint64_t cap;                  /* configured connection cap of this worker */
	uint64_t eff_cap;              /* cap, or the connection count at which accept() ran out of resources */
	uint64_t last_log_ns;          /* clock_now_ns() of the last pause line; 0 = none yet */
	unsigned suppressed;           /* pause lines not printed since (rate limit) */
};

/* One event and what the worker knows at that moment. */
struct acceptctl_input {
	enum acceptctl_event ev;
	int err;                       /* errno for ACCEPTCTL_EV_ERROR, else 0 */
	uint64_t conns;                /* open connections now */
	bool others_listening;         /* another worker holds listeners (holder count > 1, >= 2 workers) */
	bool migrate_req;              /* net.ipv4.tcp_migrate_req = 1: closing hands the queue over */
	uint64_t now_ns;               /* clock_now_ns(), for the log rate limit */
};

/* The outcome of one event. */
struct acceptctl_decision {
	enum acceptctl_action action;
	bool stopped;                  /* accepting stopped (counts one accept pause) */
	bool log;                      /* print the pause line now (rate limit already applied) */
	bool retry;                    /* not accepting afterwards: the retry timer must be pending */
};

/* Pure: whether an accept() error concerns only the one connection (the next accept may succeed), as
 * opposed to a lack of descriptors or memory (or anything unexpected) that would fail again at once. */
bool acceptctl_transient(int err);

/* Pure: connections at or below which closed listeners re-open, for an effective cap. */
uint64_t acceptctl_reopen_mark(uint64_t eff_cap);

/* Pure: the transition. *next receives the state after the action has been carried out; if the action
 * fails (REOPEN), the caller keeps *s. */
struct acceptctl_decision acceptctl_decide(const struct acceptctl_state *s, const struct acceptctl_input *in,
					   struct acceptctl_state *next);

/* Pure: the pause line, "accept paused: EMFILE (Too many open files) at 153 connections; ...", for a
 * worker now in state st. explain may be empty. Returns snprintf's length. */
int acceptctl_format_pause(int err, uint64_t conns, enum stats_accept_state st, unsigned suppressed,
			   const char *explain, char *buf, size_t len);

/* The mechanics a server supplies; each acts on all of the worker's listeners. */
struct acceptctl_mech {
	void (*enable)(void *arg, bool on);                /* into (on) or out of the event loop */
	void (*close)(void *arg);                          /* close them; safe when none are open */
	int  (*open)(void *arg, char *err, size_t errlen); /* create and enable them; 0 or -1 with err */
	void (*arm_retry)(void *arg);                      /* one-shot re-check in ACCEPTCTL_RETRY_MS unless pending */
};

/* What a worker passes to acceptctl_init(). */
struct acceptctl_config {
	struct acceptctl_shared *shared;   /* the server's holder count */
	struct stats_slot *st;             /* the worker's counters; the worker is their only writer */
	unsigned workers;                  /* worker processes of the server */
	uint64_t cap;                      /* this worker's connection cap */
	bool migrate_req;                  /* net.ipv4.tcp_migrate_req = 1 */
	const struct diag_context *diag;   /* the supervisor's limits, for the explanation at EMFILE; may be NULL */
	const struct acceptctl_mech *mech;
	void *arg;                         /* passed to the mechanics */
};

/* One worker's controller: the policy state plus what the driver needs. */
struct acceptctl {
	struct acceptctl_config cfg;
	struct acceptctl_state s;
	uint64_t conns;                    /* open connections (mirrored to st->conns) */
	bool holds;                        /* counted in shared->listening */
};

/* State STATS_STARTING. */
void acceptctl_init(struct acceptctl *a, const struct acceptctl_config *cfg);

/* Opens the listeners and takes a holder place; state STATS_ACCEPTING. 0, or -1 with err. */
int acceptctl_start(struct acceptctl *a, char *err, size_t errlen);

/* Counts one accepted / one closed connection. Call acceptctl_event() with OPENED / CLOSED afterwards (a
 * server may batch the CLOSED event, e.g. to change listeners only between epoll batches). */
void acceptctl_conn_opened(struct acceptctl *a);
void acceptctl_conn_closed(struct acceptctl *a);

/* Runs one event through the policy and the mechanics. Returns 1 when msg holds a line for the worker to
 * print (prefixed with its name), else 0. msg should have ACCEPTCTL_MSG_LEN bytes. */
int acceptctl_event(struct acceptctl *a, enum acceptctl_event ev, int err, char *msg, size_t msglen);

/* Whether the worker is accepting (listeners open and enabled). */
bool acceptctl_accepting(const struct acceptctl *a);

/* SIGINT/SIGTERM or the end of the worker: records the state at stop, counts the connections still open as
 * closed by the stop, gives up the holder place and closes the listeners. Idempotent. */
void acceptctl_stop(struct acceptctl *a);

/* Supervisor side: a worker ended. If it died holding listeners its place in shared->listening is given back;
 * its slot becomes STATS_CLOSED with pid 0. */
void acceptctl_reaped(struct acceptctl_shared *shared, struct stats_slot *slot);

#endif
