/* Unit tests for the supervisor/worker machinery with real fork()ed workers that touch no sockets: client
 * mode (every exit is final), server mode (a dying worker is restarted, SIGTERM stops everything), a fatal
 * exit status stopping the run, the caller's signal mask given back on every way out, and the plain-words
 * wait status. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>

#include "common/sys/workers.h"

struct tslot {
	_Atomic uint32_t runs;   /* times a worker ran in this slot */
	_Atomic uint32_t value;  /* written by the worker */
};

#define TMAX 8

struct tctx {
	unsigned exits;          /* on_exit calls */
	unsigned exit_index[16];
	int exit_status[16];
	unsigned starts;         /* on_start calls */
	unsigned ticks;
	bool done_called;
	uint32_t done_values[TMAX];
	bool stop_sent;
};

static void rec_exit(unsigned index, int wstatus, void *arg)
{
	struct tctx *c = arg;

	if (c->exits < 16) {
		c->exit_index[c->exits] = index;
		c->exit_status[c->exits] = wstatus;
	}
	c->exits++;
}

static void rec_start(unsigned index, int pid, void *arg)
{
	struct tctx *c = arg;

	assert_true(pid > 0);
	c->starts++;
}

static void rec_done(void *slots, unsigned count, void *arg)
{
	struct tctx *c = arg;
	unsigned i;

	c->done_called = true;
	for (i = 0; i < count && i < TMAX; i++)
		c->done_values[i] = ((struct tslot *)workers_slot(slots, sizeof(struct tslot), i))->value;
}

/* workers_run() blocks SIGINT, SIGTERM and SIGCHLD while it runs and must give the caller its mask back on
 * every way out. */
static void assert_mask_restored(void)
{
	sigset_t now;

	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &now), 0);
	assert_false(sigismember(&now, SIGCHLD));
	assert_false(sigismember(&now, SIGTERM));
	assert_false(sigismember(&now, SIGINT));
}

/* Client mode: each worker records a value and exits with its index as status. */
static int w_client(unsigned index, void *slot, void *arg)
{
	struct tslot *s = slot;

	s->value = 100 + index;
	return (int)index;
}

static void test_client_mode(void **state)
{
	struct tctx c;
	struct workers_spec spec;
	char err[256] = "";
	unsigned i, seen = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&spec, 0, sizeof(spec));
	spec.count = 3;
	spec.slot_size = sizeof(struct tslot);
	spec.restart = false;
	spec.worker_main = w_client;
	spec.on_exit = rec_exit;
	spec.on_start = rec_start;
	spec.done = rec_done;
	spec.arg = &c;
	assert_int_equal(workers_run(&spec, err, sizeof(err)), 0);
	assert_int_equal(c.exits, 3);
	assert_int_equal(c.starts, 3);
	for (i = 0; i < 3; i++) {
		assert_true(WIFEXITED(c.exit_status[i]));
		assert_int_equal(WEXITSTATUS(c.exit_status[i]), (int)c.exit_index[i]);
		seen |= 1u << c.exit_index[i];
	}
	assert_int_equal(seen, 7);
	assert_true(c.done_called);
	assert_int_equal(c.done_values[0], 100);
	assert_int_equal(c.done_values[2], 102);
	assert_mask_restored();
}

/* The OOM killer's choice: each worker's oom_score_adj is its supervisor's plus 100. */
static long read_adj(void)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "r");
	long v = -2000;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -2000;
		fclose(f);
	}
	return v;
}

static int w_adj(unsigned index, void *slot, void *arg)
{
	struct tslot *s = slot;

	(void)index;
	(void)arg;
	s->value = (uint32_t)(read_adj() + 2000);   /* unsigned in the slot: -1000..1000 shifted */
	return 0;
}

static void test_oom_score(void **state)
{
	struct tctx c;
	struct workers_spec spec;
	char err[256] = "";
	long mine = read_adj(), want;

	(void)state;
	assert_true(mine >= -1000 && mine <= 1000);
	want = mine + 100 > 1000 ? 1000 : mine + 100;
	memset(&c, 0, sizeof(c));
	memset(&spec, 0, sizeof(spec));
	spec.count = 2;
	spec.slot_size = sizeof(struct tslot);
	spec.worker_main = w_adj;
	spec.on_exit = rec_exit;
	spec.done = rec_done;
	spec.arg = &c;
	assert_int_equal(workers_run(&spec, err, sizeof(err)), 0);
	assert_int_equal((long)c.done_values[0] - 2000, want);
	assert_int_equal((long)c.done_values[1] - 2000, want);
	assert_int_equal(read_adj(), mine);                 /* the supervisor's own is untouched */
}

/* Server mode: worker 0 dies on its first run and must be restarted; the others wait for SIGTERM. */
static int w_server(unsigned index, void *slot, void *arg)
{
	struct tslot *s = slot;
	uint32_t run = atomic_fetch_add(&s->runs, 1) + 1;

	if (index == 0 && run == 1)
		return 3;
	for (;;)
		pause(); /* SIGTERM has its default action again in the worker */
	return 0;
}

static void server_tick(void *slots, unsigned count, void *arg)
{
	struct tctx *c = arg;
	struct tslot *s0 = workers_slot(slots, sizeof(struct tslot), 0);
	struct tslot *s1 = workers_slot(slots, sizeof(struct tslot), 1);

	c->ticks++;
	if (!c->stop_sent && s0->runs >= 2 && s1->runs >= 1) {
		c->stop_sent = true;
		kill(getpid(), SIGTERM); /* as if the operator pressed ^C */
	}
}

static void test_server_restart(void **state)
{
	struct tctx c;
	struct workers_spec spec;
	char err[256] = "";
	void *slots;
	unsigned i, died3 = 0, terms = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&spec, 0, sizeof(spec));
	slots = workers_shm_alloc(workers_slots_size(2, sizeof(struct tslot)), err, sizeof(err));
	assert_non_null(slots);
	spec.count = 2;
	spec.slot_size = sizeof(struct tslot);
	spec.restart = true;
	spec.interval_ms = 20;
	spec.worker_main = w_server;
	spec.tick = server_tick;
	spec.on_exit = rec_exit;
	spec.on_start = rec_start;
	spec.arg = &c;
	spec.slots = slots;
	assert_int_equal(workers_run(&spec, err, sizeof(err)), 0);
	assert_true(c.stop_sent);
	assert_true(c.ticks >= 1);
	assert_int_equal(c.starts, 3);  /* 2 + one restart */
	assert_int_equal(c.exits, 3);
	for (i = 0; i < c.exits; i++) {
		if (WIFEXITED(c.exit_status[i]) && WEXITSTATUS(c.exit_status[i]) == 3)
			died3++;
		if (WIFSIGNALED(c.exit_status[i]) && WTERMSIG(c.exit_status[i]) == SIGTERM)
			terms++;
	}
	assert_int_equal(died3, 1);
	assert_int_equal(terms, 2);
	/* Caller-owned slots survive workers_run. */
	assert_int_equal(((struct tslot *)workers_slot(slots, sizeof(struct tslot), 0))->runs, 2);
	workers_shm_free(slots, workers_slots_size(2, sizeof(struct tslot)));
}

/* A worker that cannot work (exit WORKERS_EXIT_FATAL) stops the run and the others. */
static int w_fatal(unsigned index, void *slot, void *arg)
{
	if (index == 1)
		return WORKERS_EXIT_FATAL;
	for (;;)
		pause();
	return 0;
}

static void test_fatal(void **state)
{
	struct tctx c;
	struct workers_spec spec;
	char err[256] = "";

	(void)state;
	memset(&c, 0, sizeof(c));
	memset(&spec, 0, sizeof(spec));
	spec.count = 3;
	spec.slot_size = sizeof(struct tslot);
	spec.restart = true;
	spec.worker_main = w_fatal;
	spec.on_exit = rec_exit;
	spec.arg = &c;
	assert_int_equal(workers_run(&spec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "worker 1"));
	assert_int_equal(c.exits, 3);
	assert_mask_restored();
}

static void test_bad_spec(void **state)
{
	struct workers_spec spec;
	char err[256] = "";

	(void)state;
	memset(&spec, 0, sizeof(spec));
	spec.slot_size = 8;
	spec.worker_main = w_client;
	assert_int_equal(workers_run(&spec, err, sizeof(err)), -1); /* count 0 */
	assert_non_null(strstr(err, "workers"));
	assert_mask_restored();
}

static void test_describe_and_layout(void **state)
{
	char buf[128];
	char base[256];

	(void)state;
	workers_describe_status(3 << 8, buf, sizeof(buf)); /* exit(3) */
	assert_string_equal(buf, "exited with status 3");
	workers_describe_status(SIGKILL, buf, sizeof(buf));
	assert_non_null(strstr(buf, "killed by signal 9"));
	/* Slots are cache-line strided so two workers never write the same line. */
	assert_ptr_equal(workers_slot(base, 8, 1), base + 64);
	assert_ptr_equal(workers_slot(base, 65, 2), base + 256);
	assert_int_equal(workers_slots_size(3, 100), 3 * 128);
}

/* A caller-owned base: its events run while workers_run() waits, and the workers inherit none of the
 * supervisor's close-on-exec descriptors (the loop's own included) but keep the others. */
struct fdslot {
	_Atomic int32_t kept_ok;     /* the plain descriptor is still open in the worker */
	_Atomic int32_t cloexec_gone; /* the close-on-exec one is closed */
	_Atomic int32_t cloexec_left; /* close-on-exec descriptors still open (the loop's would show here) */
};

/* What the fd test shares with its workers; the event lives here too so that it stays reachable in the
 * forked workers, which end without returning to the test (valgrind checks their leaks as well). */
struct fdctx {
	int fds[2];         /* a plain descriptor, a close-on-exec one */
	struct event *ev;   /* the caller's timer on the caller's base */
};

static int w_fds(unsigned index, void *slot, void *arg)
{
	struct fdslot *s = slot;
	const int *fds = ((const struct fdctx *)arg)->fds;
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	struct dirent *de;
	struct rlimit rl;
	int n = 0;
	DIR *d;

	/* valgrind keeps descriptors of its own above the limit it shows the program. */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		rl.rlim_cur = RLIM_INFINITY;
	s->kept_ok = fcntl(fds[0], F_GETFD) >= 0;
	s->cloexec_gone = fcntl(fds[1], F_GETFD) < 0;
	d = opendir("/proc/self/fd");
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			int fd = atoi(de->d_name);

			if (de->d_name[0] != '.' && fd >= 3 && fd != dirfd(d) && (rlim_t)fd < rl.rlim_cur &&
			    (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0)
				n++;
		}
		closedir(d);
	}
	s->cloexec_left = d != NULL ? n : -1;
	nanosleep(&ts, NULL); /* long enough for the caller's 20 ms timer to fire in the supervisor */
	return 0;
}

static void caller_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

static void test_caller_base(void **state)
{
	struct workers_spec spec;
	struct event_base *base = event_base_new();
	struct fdctx ctx;
	struct timeval tv = { 0, 20 * 1000 };
	char err[256] = "";
	void *slots;
	bool fired = false;
	int p1[2], p2[2];
	unsigned i;

	(void)state;
	assert_non_null(base);
	ctx.ev = evtimer_new(base, caller_timer_cb, &fired);
	assert_non_null(ctx.ev);
	assert_int_equal(evtimer_add(ctx.ev, &tv), 0);
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe2(p2, O_CLOEXEC), 0);
	ctx.fds[0] = p1[0];
	ctx.fds[1] = p2[0];
	slots = workers_shm_alloc(workers_slots_size(2, sizeof(struct fdslot)), err, sizeof(err));
	assert_non_null(slots);
	memset(&spec, 0, sizeof(spec));
	spec.count = 2;
	spec.slot_size = sizeof(struct fdslot);
	spec.worker_main = w_fds;
	spec.arg = &ctx;
	spec.slots = slots;
	spec.base = base;
	assert_int_equal(workers_run(&spec, err, sizeof(err)), 0);
	assert_true(fired);
	for (i = 0; i < 2; i++) {
		struct fdslot *s = workers_slot(slots, sizeof(struct fdslot), i);

		assert_int_equal(s->kept_ok, 1);
		assert_int_equal(s->cloexec_gone, 1);
		/* libevent's epoll instance and pipe and the signalfd are close-on-exec: all gone. */
		assert_int_equal(s->cloexec_left, 0);
	}
	/* The caller's descriptors are untouched in the supervisor. */
	assert_true(fcntl(p2[0], F_GETFD) >= 0);
	workers_shm_free(slots, workers_slots_size(2, sizeof(struct fdslot)));
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	event_free(ctx.ev);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_mode),
		cmocka_unit_test(test_oom_score),
		cmocka_unit_test(test_server_restart),
		cmocka_unit_test(test_fatal),
		cmocka_unit_test(test_bad_spec),
		cmocka_unit_test(test_caller_base),
		cmocka_unit_test(test_describe_and_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
