/* Prometheus metrics of c1m-server and c1m-epoll (--metrics ADDR:PORT). The supervisor serves GET /metrics
 * from its own event loop with libevent's evhttp; the workers never see the endpoint, so a slow or stuck
 * scraper costs the echo path nothing. Each scrape sums the workers' shared counters (struct stats_slot),
 * adds what only the kernel knows per worker (descriptors open and the open-file limit, from /proc and
 * prlimit), and renders the text exposition format 0.0.4 with metrics_render(), which is pure so the unit
 * tests can pin every line from fabricated counters.
 *
 * Naming: c1m_ prefix, base units (bytes), counters end in _total. Where a value exists for the whole server
 * and per worker, the total is c1m_X and the breakdown c1m_worker_X{worker="N"}, so that sum() over a family
 * never counts anything twice; descriptors exist only per worker (c1m_open_fds{worker="N"}). */
#ifndef C1M_METRICS_H
#define C1M_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/stats.h"

struct event_base;

#define METRICS_PATH         "/metrics"
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_TIMEOUT_S    10   /* an HTTP connection idle this long is dropped, seconds */
#define METRICS_BACKLOG      64   /* listen(2) backlog of the endpoint: scrapers are few */

/* One worker as the renderer sees it. */
struct metrics_worker {
	bool     running;   /* a live process holds the slot (its pid is published and not reaped yet) */
	uint64_t conns;     /* connections open now; 0 when not running */
	uint64_t rss_bytes; /* resident set size, bytes; 0 when not running or not measured yet */
	bool     fds_known; /* open_fds and max_fds were read (false when not running or the read failed) */
	uint64_t open_fds;  /* descriptors open in the process */
	uint64_t max_fds;   /* its RLIMIT_NOFILE soft limit */
};

/* Pure. Renders the exposition text for n workers into buf (always NUL-terminated when len > 0) and returns
 * the length the whole text needs, excluding the NUL, like snprintf: a return >= len means truncated. The
 * counters come from t; the gauges c1m_connections and c1m_resident_memory_bytes are the sums over w, so a
 * total always equals the sum of its per-worker series. */
size_t metrics_render(const struct stats_totals *t, const struct metrics_worker *w, unsigned n, char *buf,
		      size_t len);

/* Reads the slots (stride bytes apart, each beginning with a struct stats_slot) into *t and w[0..n-1]: the
 * impure half of a scrape, including /proc/<pid>/fd and prlimit() for every running worker. */
void metrics_collect(const void *slots, size_t stride, unsigned n, struct stats_totals *t,
		     struct metrics_worker *w);

/* Descriptors open in process pid and its RLIMIT_NOFILE soft limit. Counting /proc/<pid>/fd is O(fds); since
 * Linux 6.2 stat() of the directory reports the count as its size, which costs nothing at 20,000 fds per
 * worker, so that is tried first. Returns 0, or -1 with err (the process is gone, or /proc is missing). */
int metrics_read_fds(int pid, uint64_t *open_fds, uint64_t *max_fds, char *err, size_t errlen);

struct metrics_server;

/* Listens on addr:port (numeric IPv4 or IPv6; port 0 = any free port) and serves GET /metrics on base for
 * the n slots at slots, stride bytes apart, until metrics_server_free(). Every descriptor it opens is
 * close-on-exec, as workers_run() requires of events on its loop. Returns NULL with err on failure. */
struct metrics_server *metrics_server_new(struct event_base *base, const char *addr, uint16_t port,
					  const void *slots, size_t stride, unsigned n, char *err, size_t errlen);

/* The port the endpoint listens on (the one the kernel picked for port 0). */
uint16_t metrics_server_port(const struct metrics_server *ms);

/* Closes the endpoint and any scrape in progress; sets *ms to NULL. */
void metrics_server_free(struct metrics_server **ms);

#endif
