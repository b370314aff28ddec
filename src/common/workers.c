/* Supervisor/worker process machinery shared by c1m-server (restart = true) and c1m-client (restart = false).
 * The supervisor never runs an event loop: it blocks SIGINT, SIGTERM and SIGCHLD and sleeps in sigtimedwait()
 * until the next tick, a signal or a restart is due, so there is no async signal handler and no race between
 * a child ending and the loop noticing it. Workers get the original signal mask and default dispositions back
 * before worker_main() runs, and install whatever handlers they want (libevent evsignal in the server). */
#include "workers.h"

#include "clock.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
	sigset_t oldmask;      /* mask to give back to children and to restore on return */
	bool     stopping;     /* SIGINT/SIGTERM forwarded or a fatal exit seen: no more restarts */
	int      stop_sig;     /* signal forwarded */
	uint64_t kill_ns;      /* SIGKILL the rest at this time; 0 = not armed */
	bool     fatal;        /* a worker exited with WORKERS_EXIT_FATAL */
	unsigned fatal_index;
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

/* Child side of fork(): never returns. */
static void workers_child_main(struct workers_state *w, unsigned index)
{
	const struct workers_spec *spec = w->spec;
	int status;

	/* Die with the supervisor. The getppid() check closes the window where the supervisor died between
	 * fork() and prctl(), in which case we were already re-parented and would never get the signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != w->self)
		_exit(1);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &w->oldmask, NULL);
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
	w->kill_ns = clock_now_ns() + (uint64_t)WORKERS_STOP_GRACE_MS * CLOCK_NS_PER_MS;
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

int workers_run(const struct workers_spec *spec, char *err, size_t errlen)
{
	struct workers_state w;
	sigset_t set;
	uint64_t next_tick = 0, interval_ns;
	size_t shm_size = 0;
	unsigned i;
	int rc = 0;

	if (spec->count == 0 || spec->count > WORKERS_MAX || spec->worker_main == NULL || spec->slot_size == 0) {
		snprintf(err, errlen, "workers: need 1..%u workers, a worker_main and a slot size (got %u)",
			 WORKERS_MAX, spec->count);
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.spec = spec;
	w.stride = workers_stride(spec->slot_size);
	w.self = getpid();
	w.slots = spec->slots;
	if (w.slots == NULL) {
		shm_size = workers_slots_size(spec->count, spec->slot_size);
		w.slots = workers_shm_alloc(shm_size, err, errlen);
		if (w.slots == NULL)
			return -1;
	}
	w.child = calloc(spec->count, sizeof(*w.child));
	if (w.child == NULL) {
		snprintf(err, errlen, "workers: out of memory for %u workers", spec->count);
		workers_shm_free(shm_size != 0 ? w.slots : NULL, shm_size);
		return -1;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &w.oldmask);

	for (i = 0; i < spec->count; i++) {
		if (workers_spawn(&w, i, err, errlen) < 0) {
			/* Nothing useful runs with a partial set at start: stop the ones already forked. */
			rc = -1;
			workers_begin_stop(&w, SIGTERM);
			break;
		}
	}

	interval_ns = (uint64_t)spec->interval_ms * CLOCK_NS_PER_MS;
	if (spec->tick != NULL && interval_ns != 0)
		next_tick = clock_now_ns() + interval_ns;

	for (;;) {
		uint64_t now = clock_now_ns(), due = 0;
		struct timespec ts;
		siginfo_t info;
		int sig;

		for (i = 0; i < spec->count; i++)
			due = workers_min_ns(due, w.child[i].restart_ns);
		due = workers_min_ns(due, next_tick);
		due = workers_min_ns(due, w.kill_ns);
		if (due == 0)
			due = now + 1000 * CLOCK_NS_PER_MS;
		if (due < now)
			due = now;
		ts.tv_sec = (time_t)((due - now) / CLOCK_NS_PER_S);
		ts.tv_nsec = (long)((due - now) % CLOCK_NS_PER_S);

		sig = sigtimedwait(&set, &info, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			workers_begin_stop(&w, sig);
		workers_reap(&w); /* also after a timeout: SIGCHLD can coalesce */

		now = clock_now_ns();
		if (!w.stopping)
			workers_restart_due(&w, now);
		if (next_tick != 0 && now >= next_tick) {
			spec->tick(w.slots, spec->count, spec->arg);
			next_tick += interval_ns;
			if (next_tick <= now) /* a slow tick: do not fire a burst to catch up */
				next_tick = now + interval_ns;
		}
		if (w.kill_ns != 0 && now >= w.kill_ns) {
			workers_signal_all(&w, SIGKILL);
			w.kill_ns = 0;
		}
		if (w.alive == 0) {
			bool pending = false;

			for (i = 0; i < spec->count; i++)
				pending = pending || w.child[i].restart_ns != 0;
			if (w.stopping || !spec->restart || !pending)
				break;
		}
	}

	if (spec->done != NULL)
		spec->done(w.slots, spec->count, spec->arg);
	if (w.fatal) {
		snprintf(err, errlen, "worker %u exited with status %d (configuration error); stopped the others",
			 w.fatal_index, WORKERS_EXIT_FATAL);
		rc = -1;
	}
	sigprocmask(SIG_SETMASK, &w.oldmask, NULL);
	free(w.child);
	if (shm_size != 0)
		workers_shm_free(w.slots, shm_size);
	return rc;
}
