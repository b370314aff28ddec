/* The supervisor both servers share: c1m-server (libevent) and c1m-epoll (raw epoll) differ only in what a
 * worker process runs, so main() of each is one call to srvmain_run() with a struct srvmain_ops naming the
 * program, its worker and the numbers that really differ. srvmain_run() parses the options, reads and raises
 * the limits, checks them for the server role (or prints the table for --check), makes sure the ports are
 * free, sets up the shared memory, and supervises the workers through workers_run(): a status line every
 * --stats-interval, a line for each worker that dies (it is restarted), with --metrics a Prometheus endpoint
 * on the supervisor's event loop (metrics.h), and after SIGINT/SIGTERM, once every worker has drained its
 * connections (drain.h, --drain-timeout), a summary with the drain's figures and one line per worker.
 * It is the program's main, so unlike the rest of the library it prints. */
#ifndef C1M_SRVMAIN_H
#define C1M_SRVMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/core/acceptctl.h"
#include "server/core/drain.h"
#include "server/core/srvopt.h"
#include "server/core/stats.h"

/* Read-only configuration every worker inherits across fork. */
struct srvmain_config {
	const char *prog;                  /* program name, for messages */
	const struct server_options *opt;  /* resolved options */
	struct acceptctl_shared *shared;   /* MAP_SHARED: the listener holder count */
	struct drain_slot *drain;          /* MAP_SHARED: one drain record per worker, indexed like the slots */
	bool migrate_req;                  /* net.ipv4.tcp_migrate_req = 1: a closed listener's queue moves on */
	const struct diag_context *diag;   /* the limits read at start, for the workers' EMFILE lines */
};

/* What differs between the servers. */
struct srvmain_ops {
	const char *prog;                  /* "c1m-server" */
	size_t slot_size;                  /* bytes of shared memory per worker; the slot begins with a
	                                      struct stats_slot */
	uint64_t user_bytes_per_conn;      /* user-space bytes per connection, for the limits plan */
	size_t fixed_buffer;               /* bytes of the fixed per-connection echo buffer, which makes
	                                      --high-watermark an error; 0 = the server honours --high-watermark */
	size_t conn_slot_bytes;            /* bytes of a fixed per-connection slot, named in the startup line;
	                                      0 = not named */
	/* The worker process (workers_spec.worker_main); return = exit status: 0 after SIGINT/SIGTERM and its
	 * drain (drain.h), whether every connection was flushed or the deadline closed some,
	 * WORKERS_EXIT_FATAL when the listeners cannot be opened at first start, 1 on other failures. */
	int (*worker_main)(unsigned index, void *slot, const struct srvmain_config *cfg);
};

/* Worker side, the steps both workers share. srvmain_worker_init() adopts the worker's slot (what a crashed
 * predecessor held is counted lost) and sets up its accept controller with the server's mechanics; it returns
 * whether this is the worker's first start. */
bool srvmain_worker_init(const struct srvmain_config *cfg, struct stats_slot *st, const struct acceptctl_mech *mech,
			 void *arg, struct acceptctl *ac);

/* Opens the listeners. Returns 0, or the exit status for the worker after printing why: WORKERS_EXIT_FATAL at
 * the first start (the supervisor checked the ports were free, so it is configuration), else 1 (after a
 * restart it may be transient, e.g. descriptors, and the supervisor backs off and tries again). */
int srvmain_worker_listen(const struct srvmain_config *cfg, unsigned index, bool first, struct acceptctl *ac);

/* Runs one event through the accept controller and prints the line it hands back, if any. */
void srvmain_accept_event(const struct srvmain_config *cfg, unsigned index, struct acceptctl *ac,
			  enum acceptctl_event ev, int err);

/* The whole program. Returns the exit status: 2 for a bad flag, 1 for a startup failure (or --check with a
 * failing limit), 0 after SIGINT/SIGTERM or --help. */
int srvmain_run(int argc, char **argv, const struct srvmain_ops *ops);

#endif
