/* The c1m-epoll worker: one reactor (reactor.h) per worker process, one listening socket per port (SO_REUSEPORT,
 * shared with the other workers), and the original write-up's echo cycle: recv into the slot's 4 KB buffer,
 * switch the slot to EPOLLOUT, send until the buffer is drained, switch back to EPOLLIN. The accept policy is
 * the shared one (acceptctl.h), the same as c1m-server's; this worker supplies its epoll mechanics and accepts
 * until EAGAIN. */
#ifndef C1M_EPECHO_H
#define C1M_EPECHO_H

#include "server/core/srvmain.h"

#define EPECHO_HOUSEKEEP_MS   1000u /* RSS refresh period */

/* srvmain_ops.worker_main for c1m-epoll; slot is the worker's struct stats_slot. Returns 0 after
 * SIGINT/SIGTERM, WORKERS_EXIT_FATAL when the listeners cannot be opened at start, 1 on any other startup
 * failure. */
int epecho_worker_main(unsigned index, void *slot, const struct srvmain_config *cfg);

#endif
