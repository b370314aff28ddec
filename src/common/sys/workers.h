/* Supervisor and worker processes. c1m uses processes, not threads, because RLIMIT_NOFILE is per process:
 * with a hard limit of 20000, 1M sockets need about 50 processes. workers_run() forks the workers, gives them
 * one shared-memory slot each (mmap MAP_SHARED|MAP_ANONYMOUS before fork, single writer per slot), calls
 * tick() every interval_ms in the supervisor, forwards SIGINT/SIGTERM and reaps. A worker dies with its
 * supervisor (PR_SET_PDEATHSIG SIGKILL plus a getppid() check against the fork race), and raises its own
 * oom_score_adj by 100 so that the OOM killer ends a worker, which the supervisor reports, before it.
 *
 * Server mode (restart = true): a worker that ends while no shutdown is under way is reported with on_exit()
 * and started again in its slot (backing off when it dies quickly); workers_run() returns after a SIGINT or
 * SIGTERM has been forwarded and every worker has ended (by itself within stop_grace_ms, or killed then, or
 * killed at once on a second SIGINT/SIGTERM). A worker exiting with WORKERS_EXIT_FATAL (e.g. it
 * cannot bind) stops the whole run instead: workers_run() returns -1.
 * Client mode (restart = false): a worker's end is final; workers_run() returns when all have ended.
 *
 * The supervisor waits in a libevent event_base (its own, or the caller's through spec.base, so the caller can
 * serve other events such as the metrics endpoint on the same loop). A worker closes every inherited
 * descriptor marked close-on-exec before worker_main() runs: the supervisor's loop and whatever the caller
 * attached to it must not live on in the workers. Descriptors meant for the workers must not be close-on-exec. */
#ifndef C1M_WORKERS_H
#define C1M_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct cpulist;

#define WORKERS_EXIT_FATAL      78   /* worker exit status: configuration error, do not restart (EX_CONFIG) */
#define WORKERS_STOP_GRACE_MS   5000 /* default workers_spec.stop_grace_ms */
#define WORKERS_MAX             4096

struct workers_spec {
	unsigned count;       /* number of worker processes */
	size_t   slot_size;   /* bytes of shared memory per worker (rounded up to a cache line) */
	bool     restart;     /* server mode: restart a worker that dies */
	unsigned interval_ms; /* tick period, milliseconds; 0 = no tick */
	int  (*worker_main)(unsigned index, void *slot, void *arg);  /* child; return value = exit status */
	void (*tick)(void *slots, unsigned count, void *arg);        /* supervisor, every interval_ms; may be NULL */
	void (*on_exit)(unsigned index, int wstatus, void *arg);     /* supervisor: a worker ended; may be NULL */
	void *arg;            /* passed to every callback */
	/* Added beyond the contract: */
	void *slots;          /* optional caller-owned shared memory (workers_shm_alloc(workers_slots_size())):
	                         lets the caller read the slots after workers_run() returns; NULL = internal */
	void (*done)(void *slots, unsigned count, void *arg); /* supervisor, once, after the last worker ended
	                                                         and before internal slots are unmapped; may be NULL */
	void (*on_start)(unsigned index, int pid, void *arg); /* supervisor: a worker was (re)started; may be NULL */
	struct event_base *base; /* optional caller-owned event loop the supervisor waits in; the callbacks above
	                            run between its events. NULL = an internal one. Not freed by workers_run */
	unsigned stop_grace_ms; /* after forwarding the first SIGINT/SIGTERM, SIGKILL workers still alive after
	                           this many milliseconds (a server's drain bound plus a margin); a second
	                           SIGINT/SIGTERM kills them at once. 0 = WORKERS_STOP_GRACE_MS */
	const struct cpulist *cpus; /* --cpus: worker i runs on cpus->cpu[i % cpus->count] (checked with
	                               cpus_check first; a worker whose pin fails exits WORKERS_EXIT_FATAL).
	                               NULL or empty = the kernel places them */
};

/* See the file comment. Returns 0, or -1 with err (fork/mmap failure before any worker ran, or a worker
 * exited with WORKERS_EXIT_FATAL). Must be called from a single-threaded process. */
int workers_run(const struct workers_spec *spec, char *err, size_t errlen);

/* Address of slot index in an array of slots laid out slot_size bytes apart (rounded as workers_run does). */
void *workers_slot(void *slots, size_t slot_size, unsigned index);

/* Bytes of shared memory workers_run() uses for count slots of slot_size. */
size_t workers_slots_size(unsigned count, size_t slot_size);

/* Shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS), zeroed, inherited by every worker forked later. */
void *workers_shm_alloc(size_t size, char *err, size_t errlen);
void  workers_shm_free(void *p, size_t size);

/* Describes a wait status in plain words ("exited with status 1", "killed by signal 9 (Killed)"). Pure. */
int workers_describe_status(int wstatus, char *buf, size_t len);

#endif
