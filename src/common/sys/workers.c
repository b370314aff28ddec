/* Supervisor/worker process machinery shared by c1m-server (restart = true) and c1m-client (restart = false).
 * The supervisor keeps SIGINT, SIGTERM and SIGCHLD blocked and reads them from a signalfd watched by a libevent
 * event_base, together with a one-shot timer for the next tick, restart or SIGKILL. There is no async signal
 * handler (libevent's evsignal would install one, plus process-wide state a forked worker inherits and its
 * own base would then warn about), so no race between a child ending and the loop noticing it, and a worker
 * forked at any moment cannot run a handler of ours. The bookkeeping after every wake-up is the same straight
 * loop whatever woke it; the caller can put its own events (the metrics endpoint) on the same base. Workers
 * get the original signal mask and default dispositions back before worker_main() runs, close what they
 * inherited of the supervisor's loop, and install whatever handlers they want (evsignal in the server). */
#include "common/sys/workers.h"

#include "common/sys/cpus.h"
#include "common/sys/procfs.h"
#include "common/util/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#define WORKERS_SLOT_ALIGN      64u   /* a cache line: slots of different workers never share one */
#define WORKERS_QUICK_DEATH_NS  (1000ULL * CLOCK_NS_PER_MS) /* a worker dying sooner than this backs off */
#define WORKERS_BACKOFF_MIN_MS  100u
#define WORKERS_BACKOFF_MAX_MS  5000u

struct workers_child {
	pid_t    pid;          /* 0 when not running */
	uint64_t started_ns;   /* clock_now_ns() at fork */
	uint64_t restart_ns;   /* restart due at this time; 0 = none pending */
	unsigned quick_deaths; /* consecutive deaths within WORKERS_QUICK_DEATH_NS, for back-off */
};

/* Run-time state of one workers_run() call. */
struct workers_state {
	const struct workers_spec *spec;
	void    *slots;
	size_t   stride;       /* slot_size rounded up to WORKERS_SLOT_ALIGN */
	struct workers_child *child;
	unsigned alive;        /* children running */
	pid_t    self;         /* supervisor pid, for the child's getppid() check */
	size_t   own_slots_size; /* bytes of slots mapped here (spec->slots was NULL); 0 = the caller's */
	sigset_t oldmask;      /* mask to give back to children and to restore on return */
	bool     masked;       /* set is blocked: oldmask must be restored */
	bool     stopping;     /* SIGINT/SIGTERM forwarded or a fatal exit seen: no more restarts */
	int      stop_sig;     /* signal forwarded */
	uint64_t kill_ns;      /* SIGKILL the rest at this time; 0 = not armed */
	bool     fatal;        /* a worker exited with WORKERS_EXIT_FATAL */
	unsigned fatal_index;
	sigset_t set;          /* SIGINT, SIGTERM, SIGCHLD: blocked while workers_run() runs */
	struct event_base *base; /* the loop we wait in: spec->base or own_base */
	struct event_base *own_base; /* created here when spec->base is NULL */
	int      sigfd;        /* signalfd for set; -1 = none */
	struct event *sig_ev;  /* reads sigfd */
	struct event *wake_ev; /* one-shot: the next tick, restart or SIGKILL is due */
};

static size_t workers_stride(size_t slot_size)
{
	return (slot_size + WORKERS_SLOT_ALIGN - 1) / WORKERS_SLOT_ALIGN * WORKERS_SLOT_ALIGN;
}

void *workers_slot(void *slots, size_t slot_size, unsigned index)
{
	return (char *)slots + (size_t)index * workers_stride(slot_size);
}

size_t workers_slots_size(unsigned count, size_t slot_size)
{
	return (size_t)count * workers_stride(slot_size);
}

void *workers_shm_alloc(size_t size, char *err, size_t errlen)
{
	void *p;

	if (size == 0)
		size = 1;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap %zu bytes of shared memory: %s", size, strerror(errno));
		return NULL;
	}
	return p; /* anonymous mappings are zero-filled */
}

void workers_shm_free(void *p, size_t size)
{
	if (p != NULL)
		munmap(p, size == 0 ? 1 : size);
}

int workers_describe_status(int wstatus, char *buf, size_t len)
{
	if (WIFEXITED(wstatus))
		return snprintf(buf, len, "exited with status %d", WEXITSTATUS(wstatus));
	if (WIFSIGNALED(wstatus))
		return snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(wstatus),
				strsignal(WTERMSIG(wstatus)), WCOREDUMP(wstatus) ? ", core dumped" : "");
	return snprintf(buf, len, "ended with wait status 0x%x", (unsigned)wstatus);
}

static void workers_close_if_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl >= 0 && (fl & FD_CLOEXEC) != 0)
		close(fd);
}

/* A worker must not keep the supervisor's descriptors: a copy of a metrics connection the supervisor closed
 * would keep it open (the scraper would wait for an EOF), and a copy of a descriptor registered in the
 * supervisor's epoll instance, which the child shares, would keep the registration alive after the
 * supervisor closed its own. The loop's and the caller's descriptors are all close-on-exec (libevent's are,
 * and a caller adding events to spec->base must make its own so), so the child closes exactly those, as if it
 * had exec'd. Only descriptors below the open-file limit are looked at: a tool such as valgrind keeps its own
 * above it. */
static void workers_close_inherited(void)
{
	struct rlimit rl;
	struct dirent *de;
	long limit = INT_MAX;
	DIR *d;
	int fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)limit)
		limit = (long)rl.rlim_cur;
	d = opendir("/proc/self/fd");
	if (d == NULL) {
		/* No /proc: ask every possible descriptor (a few thousand cheap fcntl calls, once per fork). */
		if (limit > 65536)
			limit = 65536;
		for (fd = 3; fd < limit; fd++)
			workers_close_if_cloexec(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long v = strtol(de->d_name, &end, 10);

		if (*end != '\0' || end == de->d_name || v < 3 || v >= limit || v == dirfd(d))
			continue;
		workers_close_if_cloexec((int)v);
	}
	closedir(d);
}

/* The OOM killer picks the process with the most memory. A supervisor has touched more of its libraries
 * than its workers (a fork does not copy file pages a child has not touched) and can score higher than a
 * worker that holds thousands of connections in kernel memory; killed, it could report nothing. So each
 * worker asks to go first (best effort: raising one's own score needs no privilege). */
#define WORKERS_OOM_SCORE_ADJ 100    /* added to what the supervisor has (-1000..1000) */

static void workers_oom_prefer_self(void)
{
	char buf[16], err[128];
	uint64_t v = 0;
	long adj = 0;
	int fd, n;

	/* the value may be negative, which procfs_parse_u64 does not read */
	if (procfs_read_file("/proc/self/oom_score_adj", buf, sizeof(buf), err, sizeof(err)) < 0)
		return;
	if (buf[0] == '-') {
		if (procfs_parse_u64(buf + 1, &v, err, sizeof(err)) < 0 || v > 1000)
			return;
		adj = -(long)v;
	} else if (procfs_parse_u64(buf, &v, err, sizeof(err)) == 0 && v <= 1000) {
		adj = (long)v;
	} else {
		return;
	}
	adj = adj + WORKERS_OOM_SCORE_ADJ > 1000 ? 1000 : adj + WORKERS_OOM_SCORE_ADJ;
	n = snprintf(buf, sizeof(buf), "%ld", adj);
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, buf, (size_t)n) < 0) {
		/* a locked-down /proc: the kernel's own choice stands */
	}
	close(fd);
}

/* Child side of fork(): never returns. */
static void workers_child_main(struct workers_state *w, unsigned index)
{
	const struct workers_spec *spec = w->spec;
	char why[128];
	int status;

	/* Die with the supervisor. The getppid() check closes the window where the supervisor died between
	 * fork() and prctl(), in which case we were already re-parented and would never get the signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != w->self)
		_exit(1);
	workers_close_inherited();
	workers_oom_prefer_self();
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &w->oldmask, NULL);
	if (spec->cpus != NULL && spec->cpus->count > 0 &&
	    cpus_pin(spec->cpus->cpu[index % spec->cpus->count], why, sizeof(why)) < 0)
		_exit(WORKERS_EXIT_FATAL);   /* cpus_check passed first; the supervisor reports the status */
	status = spec->worker_main(index, (char *)w->slots + (size_t)index * w->stride, spec->arg);
	fflush(NULL);
	/* _exit: the supervisor's atexit handlers and stdio buffers are not the worker's to run. */
	_exit(status & 0xff);
}

static int workers_spawn(struct workers_state *w, unsigned index, char *err, size_t errlen)
{
	pid_t pid;

	fflush(NULL); /* or buffered supervisor output would be written twice */
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork worker %u: %s", index, strerror(errno));
		return -1;
	}
	if (pid == 0)
		workers_child_main(w, index);
	w->child[index].pid = pid;
	w->child[index].started_ns = clock_now_ns();
	w->child[index].restart_ns = 0;
	w->alive++;
	if (w->spec->on_start != NULL)
		w->spec->on_start(index, (int)pid, w->spec->arg);
	return 0;
}

static void workers_signal_all(struct workers_state *w, int sig)
{
	unsigned i;

	for (i = 0; i < w->spec->count; i++)
		if (w->child[i].pid > 0)
			kill(w->child[i].pid, sig);
}

static void workers_begin_stop(struct workers_state *w, int sig)
{
	unsigned i;

	if (w->stopping) {
		/* A second SIGINT/SIGTERM means "now". */
		workers_signal_all(w, SIGKILL);
		return;
	}
	w->stopping = true;
	w->stop_sig = sig;
	for (i = 0; i < w->spec->count; i++)
		w->child[i].restart_ns = 0;
	workers_signal_all(w, sig);
	/* Never before the workers' own bound: a drain that is still within its deadline is not hung. */
	w->kill_ns = clock_now_ns() + (uint64_t)(w->spec->stop_grace_ms != 0 ? w->spec->stop_grace_ms :
						 WORKERS_STOP_GRACE_MS) * CLOCK_NS_PER_MS;
}

static unsigned workers_backoff_ms(unsigned quick_deaths)
{
	unsigned ms = WORKERS_BACKOFF_MIN_MS;

	while (quick_deaths-- > 1 && ms < WORKERS_BACKOFF_MAX_MS)
		ms *= 2;
	return ms > WORKERS_BACKOFF_MAX_MS ? WORKERS_BACKOFF_MAX_MS : ms;
}

static void workers_reap(struct workers_state *w)
{
	int wstatus;
	pid_t pid;
	unsigned i;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		struct workers_child *c = NULL;
		uint64_t now = clock_now_ns();

		for (i = 0; i < w->spec->count; i++) {
			if (w->child[i].pid == pid) {
				c = &w->child[i];
				break;
			}
		}
		if (c == NULL)
			continue; /* not ours (the caller's own children are not our business) */
		c->pid = 0;
		w->alive--;
		if (w->spec->on_exit != NULL)
			w->spec->on_exit(i, wstatus, w->spec->arg);
		if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == WORKERS_EXIT_FATAL && !w->stopping) {
			w->fatal = true;
			w->fatal_index = i;
			workers_begin_stop(w, SIGTERM);
			continue;
		}
		if (!w->spec->restart || w->stopping)
			continue;
		if (now - c->started_ns < WORKERS_QUICK_DEATH_NS) {
			c->quick_deaths++;
			c->restart_ns = now + (uint64_t)workers_backoff_ms(c->quick_deaths) * CLOCK_NS_PER_MS;
		} else {
			c->quick_deaths = 0;
			c->restart_ns = now; /* restart at once */
		}
	}
}

/* Starts every worker whose restart is due; a failed fork is retried after the minimum back-off. */
static void workers_restart_due(struct workers_state *w, uint64_t now)
{
	char ignored[128];
	unsigned i;

	for (i = 0; i < w->spec->count; i++) {
		struct workers_child *c = &w->child[i];

		if (c->pid != 0 || c->restart_ns == 0 || c->restart_ns > now)
			continue;
		if (workers_spawn(w, i, ignored, sizeof(ignored)) < 0)
			c->restart_ns = now + (uint64_t)WORKERS_BACKOFF_MIN_MS * CLOCK_NS_PER_MS;
	}
}

static uint64_t workers_min_ns(uint64_t a, uint64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/* Every pending SIGINT/SIGTERM begins (or, the second time, hurries) the stop. SIGCHLD needs nothing here:
 * the loop reaps after every wake-up, whatever woke it. */
static void workers_sigfd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct workers_state *w = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
			workers_begin_stop(w, (int)si.ssi_signo);
}

/* The timer only ends the wait; what was due is found by the loop. */
static void workers_wake_cb(evutil_socket_t fd, short what, void *arg)
{
}

static int workers_loop_open(struct workers_state *w, char *err, size_t errlen)
{
	w->sigfd = signalfd(-1, &w->set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (w->sigfd < 0) {
		snprintf(err, errlen, "workers: signalfd: %s", strerror(errno));
		return -1;
	}
	w->base = w->spec->base;
	if (w->base == NULL)
		w->base = w->own_base = event_base_new();
	if (w->base == NULL) {
		snprintf(err, errlen, "workers: cannot create the supervisor's event loop");
		return -1;
	}
	w->sig_ev = event_new(w->base, w->sigfd, EV_READ | EV_PERSIST, workers_sigfd_cb, w);
	w->wake_ev = evtimer_new(w->base, workers_wake_cb, w);
	if (w->sig_ev == NULL || w->wake_ev == NULL || event_add(w->sig_ev, NULL) < 0) {
		snprintf(err, errlen, "workers: cannot add the supervisor's events");
		return -1;
	}
	return 0;
}

static void workers_loop_close(struct workers_state *w)
{
	if (w->sig_ev != NULL)
		event_free(w->sig_ev);
	if (w->wake_ev != NULL)
		event_free(w->wake_ev);
	if (w->own_base != NULL)
		event_base_free(w->own_base);
	if (w->sigfd >= 0)
		close(w->sigfd);
}

/* Waits up to ns nanoseconds for a signal, the timer or one of the caller's events. Should the loop itself
 * fail (epoll_wait erroring), supervision goes on by waiting for the signals directly; only the caller's
 * events starve. */
static void workers_wait(struct workers_state *w, uint64_t ns)
{
	struct timeval tv;
	struct timespec ts;
	siginfo_t info;
	int sig;

	tv = clock_timeval_ns(ns);
	if (evtimer_add(w->wake_ev, &tv) == 0 && event_base_loop(w->base, EVLOOP_ONCE) >= 0)
		return;
	ts.tv_sec = (time_t)(ns / CLOCK_NS_PER_S);
	ts.tv_nsec = (long)(ns % CLOCK_NS_PER_S);
	sig = sigtimedwait(&w->set, &info, &ts);
	if (sig == SIGINT || sig == SIGTERM)
		workers_begin_stop(w, sig);
}

/* Everything workers_run() needs before the first fork: the slots (unless the caller owns them), the child
 * table, the blocked signals and the loop. What it made is recorded in *w for workers_teardown(). */
static int workers_setup(struct workers_state *w, char *err, size_t errlen)
{
	const struct workers_spec *spec = w->spec;

	w->stride = workers_stride(spec->slot_size);
	w->self = getpid();
	w->slots = spec->slots;
	if (w->slots == NULL) {
		size_t size = workers_slots_size(spec->count, spec->slot_size);

		w->slots = workers_shm_alloc(size, err, errlen);
		if (w->slots == NULL)
			return -1;
		w->own_slots_size = size;
	}
	w->child = calloc(spec->count, sizeof(*w->child));
	if (w->child == NULL) {
		snprintf(err, errlen, "workers: out of memory for %u workers", spec->count);
		return -1;
	}
	sigemptyset(&w->set);
	sigaddset(&w->set, SIGINT);
	sigaddset(&w->set, SIGTERM);
	sigaddset(&w->set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &w->set, &w->oldmask);
	w->masked = true;
	return workers_loop_open(w, err, errlen);
}

/* Undoes workers_setup() in the reverse order; safe on a partly set-up state. */
static void workers_teardown(struct workers_state *w)
{
	workers_loop_close(w);
	if (w->masked)
		sigprocmask(SIG_SETMASK, &w->oldmask, NULL);
	free(w->child);
	if (w->own_slots_size != 0)
		workers_shm_free(w->slots, w->own_slots_size);
}

/* Nothing useful runs with a partial set at start: a failed fork stops the ones already forked. */
static int workers_start_all(struct workers_state *w, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < w->spec->count; i++) {
		if (workers_spawn(w, i, err, errlen) < 0) {
			workers_begin_stop(w, SIGTERM);
			return -1;
		}
	}
	return 0;
}

/* When the loop must wake next: the earliest restart, tick or SIGKILL due, or in a second. */
static uint64_t workers_next_due(const struct workers_state *w, uint64_t next_tick, uint64_t now)
{
	uint64_t due = 0;
	unsigned i;

	for (i = 0; i < w->spec->count; i++)
		due = workers_min_ns(due, w->child[i].restart_ns);
	due = workers_min_ns(due, next_tick);
	due = workers_min_ns(due, w->kill_ns);
	if (due == 0)
		due = now + 1000 * CLOCK_NS_PER_MS;
	return due < now ? now : due;
}

/* No worker runs, and none will: a stop is under way, or a client run's workers are all done, or no restart
 * is pending. */
static bool workers_finished(const struct workers_state *w)
{
	bool pending = false;
	unsigned i;

	if (w->alive != 0)
		return false;
	for (i = 0; i < w->spec->count; i++)
		pending = pending || w->child[i].restart_ns != 0;
	return w->stopping || !w->spec->restart || !pending;
}

/* The supervisor's loop: wait, reap, restart, tick and kill until workers_finished(). */
static void workers_supervise(struct workers_state *w)
{
	const struct workers_spec *spec = w->spec;
	uint64_t interval_ns = (uint64_t)spec->interval_ms * CLOCK_NS_PER_MS, next_tick = 0;

	if (spec->tick != NULL && interval_ns != 0)
		next_tick = clock_now_ns() + interval_ns;
	do {
		uint64_t now = clock_now_ns();

		workers_wait(w, workers_next_due(w, next_tick, now) - now);
		workers_reap(w); /* after every wake-up: SIGCHLD can coalesce */

		now = clock_now_ns();
		if (!w->stopping)
			workers_restart_due(w, now);
		if (next_tick != 0 && now >= next_tick) {
			spec->tick(w->slots, spec->count, spec->arg);
			next_tick += interval_ns;
			if (next_tick <= now) /* a slow tick: do not fire a burst to catch up */
				next_tick = now + interval_ns;
		}
		if (w->kill_ns != 0 && now >= w->kill_ns) {
			workers_signal_all(w, SIGKILL);
			w->kill_ns = 0;
		}
	} while (!workers_finished(w));
}

int workers_run(const struct workers_spec *spec, char *err, size_t errlen)
{
	struct workers_state w;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	w.spec = spec;
	w.sigfd = -1;
	if (spec->count == 0 || spec->count > WORKERS_MAX || spec->worker_main == NULL || spec->slot_size == 0) {
		snprintf(err, errlen, "workers: need 1..%u workers, a worker_main and a slot size (got %u)",
			 (unsigned)WORKERS_MAX, spec->count);
		goto out;
	}
	if (workers_setup(&w, err, errlen) < 0)
		goto out;
	rc = workers_start_all(&w, err, errlen);
	workers_supervise(&w);
	if (spec->done != NULL)
		spec->done(w.slots, spec->count, spec->arg);
	if (w.fatal) {
		snprintf(err, errlen, "worker %u exited with status %d (configuration error); stopped the others",
			 w.fatal_index, WORKERS_EXIT_FATAL);
		rc = -1;
	}
out:
	workers_teardown(&w);
	return rc;
}
