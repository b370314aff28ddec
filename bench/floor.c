/* c1m-floor: the kernel's floor on this host, run beside c1m so that c1m's figures can be read as ratios
 * (absolute rates on a shared two-core machine move from run to run; a ratio in one run does not).
 *
 * message: K loopback TCP pairs in P processes (a process holds at most what its open-file limit allows,
 * two descriptors a pair). Each process walks its pairs in turn: blocking send() of the message on one end,
 * recv() of it on the other, send() back, recv(). No epoll, no library, nothing between the loop and the
 * system calls, so its round trips per second are the most the kernel's loopback path gives for K pairs
 * held, with both ends on this host. Each process counts for the same --duration from a common start.
 *
 * connect: S listener processes on the same ports with SO_REUSEPORT (a bare epoll loop: accept4, one
 * read, one write back per readable connection, connections kept), and P client processes that open N
 * connections with nonblocking connect(), send one message on each, wait for its echo and keep the socket.
 * The default S and P are capacity_plan's for N, what c1m-server and c1m-client --workers auto use, so
 * the layout is c1m's. Connections per second run from the common start to the last client's last echo.
 *
 * message also measures the idle floor of kernel memory: the machine's slab (/proc/meminfo Slab, the figure
 * bench/lib.sh's sampler reads for c1m) before the processes are forked and again once every pair is made,
 * before the first message, over K. That is what c1m-bench's kernel B/conn measures for one connection (both
 * of its sockets on this host), so the two divide. The difference is machine-wide: other work on the host
 * moves it too.
 *
 * Processes. The parent forks the children, waits until each has written a READY record to one result
 * pipe (pairs made, or listeners open), then closes the write end of a "go" pipe: every child blocked
 * reading it starts at once. Records are smaller than PIPE_BUF, so writes from many children never
 * interleave. Listener processes run until the parent ends them with SIGTERM. Only main() prints. */
#include "bench/floor_opts.h"

#include "common/sys/net.h"
#include "common/sys/procfs.h"
#include "common/util/clock.h"
#include "common/util/json.h"
#include "common/util/version.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define FLOOR_ERR_LEN     256
#define FLOOR_SETUP_MS    120000u  /* longest a child may take to make its pairs or open its listeners */
#define FLOOR_CHECK_EVERY 64u      /* message probe: round trips between two looks at the clock */
#define FLOOR_EVENTS      256

enum floor_rec_kind {
	FLOOR_REC_READY = 1,         /* set up, waiting for the go */
	FLOOR_REC_RESULT,            /* done: count and failed over [t0, t1] */
	FLOOR_REC_ERROR,             /* could not run: msg says why */
};

/* What a child tells the parent; one write each, below PIPE_BUF. */
struct floor_rec {
	uint32_t kind;               /* enum floor_rec_kind */
	uint32_t proc;               /* the child's index */
	uint64_t count;              /* round trips, or connections echoed */
	uint64_t failed;             /* connect: connections that failed */
	uint64_t t0_ns, t1_ns;       /* CLOCK_MONOTONIC: start and end of the measured part */
	char msg[160];               /* ERROR: the reason; RESULT: the first failure's reason, if any */
};

struct floor_run {
	int rec[2];                  /* children write records to rec[1] */
	int go[2];                   /* the parent closes go[1] to start every child */
	pid_t *pids;
	unsigned npids;
};

static void floor_send_rec(int fd, const struct floor_rec *r)
{
	ssize_t n;

	do
		n = write(fd, r, sizeof(*r));
	while (n < 0 && errno == EINTR);
}

static void floor_child_error(const struct floor_run *run, unsigned proc, const char *msg)
{
	struct floor_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = FLOOR_REC_ERROR;
	r.proc = proc;
	snprintf(r.msg, sizeof(r.msg), "%s", msg);
	floor_send_rec(run->rec[1], &r);
}

/* READY, then blocks until the parent closes the go pipe. */
static void floor_child_ready(const struct floor_run *run, unsigned proc)
{
	struct floor_rec r;
	char b;
	ssize_t n;

	memset(&r, 0, sizeof(r));
	r.kind = FLOOR_REC_READY;
	r.proc = proc;
	floor_send_rec(run->rec[1], &r);
	do
		n = read(run->go[0], &b, 1);
	while (n < 0 && errno == EINTR);
}

/* The i-th share of n over procs: the first n % procs take one more. */
static uint64_t floor_share(uint64_t n, unsigned procs, unsigned i)
{
	return n / procs + (i < n % procs);
}

static uint64_t floor_share_start(uint64_t n, unsigned procs, unsigned i)
{
	uint64_t q = n / procs, r = n % procs;

	return (uint64_t)i * q + (i < r ? i : r);
}

/* ---- message probe ------------------------------------------------------------------------------------ */

static int floor_full_send(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int floor_full_recv(int fd, char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = recv(fd, buf + off, len - off, MSG_WAITALL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = 0; /* the peer closed: no errno to report */
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Makes k pairs over a listener on an ephemeral port of 127.0.0.1: a blocking connect() completes on
 * loopback before it returns, so the accept that follows finds the connection queued. */
static int floor_make_pairs(uint64_t k, int *cli, int *srv, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int lfd = -1, one = 1;
	uint64_t i;

	if (net_listen("127.0.0.1", 0, 1024, false, &lfd, err, errlen) < 0)
		return -1;
	if (getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		close(lfd);
		return -1;
	}
	for (i = 0; i < k; i++) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };

		cli[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cli[i] < 0) {
			snprintf(err, errlen, "socket for pair %" PRIu64 ": %s", i, strerror(errno));
			goto fail;
		}
		if (connect(cli[i], (struct sockaddr *)&sa, sl) < 0) {
			snprintf(err, errlen, "connect for pair %" PRIu64 ": %s", i, strerror(errno));
			goto fail;
		}
		if (poll(&p, 1, 5000) != 1) {
			snprintf(err, errlen, "pair %" PRIu64 ": the connection did not reach the listener", i);
			goto fail;
		}
		srv[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC); /* blocking, as the loop wants */
		if (srv[i] < 0) {
			snprintf(err, errlen, "accept for pair %" PRIu64 ": %s", i, strerror(errno));
			goto fail;
		}
		(void)setsockopt(cli[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		(void)setsockopt(srv[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	close(lfd);
	return 0;
fail:
	close(lfd);
	return -1;
}

static int floor_message_child(const struct floor_options *o, const struct floor_run *run, unsigned proc)
{
	uint64_t k = floor_share(o->pairs, o->procs, proc), count = 0, i = 0, deadline;
	int *cli = calloc(k, sizeof(int)), *srv = calloc(k, sizeof(int)), rc = 1;
	char *buf = malloc(o->size), *back = malloc(o->size), err[FLOOR_ERR_LEN];
	struct floor_rec r;

	if (cli == NULL || srv == NULL || buf == NULL || back == NULL) {
		floor_child_error(run, proc, "out of memory");
		goto out;
	}
	memset(buf, 'f', o->size);
	if (floor_make_pairs(k, cli, srv, err, sizeof(err)) < 0) {
		floor_child_error(run, proc, err);
		goto out;
	}
	floor_child_ready(run, proc);
	memset(&r, 0, sizeof(r));
	r.kind = FLOOR_REC_RESULT;
	r.proc = proc;
	r.t0_ns = clock_now_ns();
	deadline = r.t0_ns + o->duration_ms * UINT64_C(1000000);
	for (;;) {
		if (floor_full_send(cli[i], buf, o->size) < 0 || floor_full_recv(srv[i], back, o->size) < 0 ||
		    floor_full_send(srv[i], back, o->size) < 0 || floor_full_recv(cli[i], back, o->size) < 0) {
			snprintf(err, sizeof(err), "round trip on pair %" PRIu64 ": %s", i,
				 errno ? strerror(errno) : "connection closed");
			floor_child_error(run, proc, err);
			goto out;
		}
		count++;
		if (++i == k)
			i = 0;
		if (count % FLOOR_CHECK_EVERY == 0 && clock_now_ns() >= deadline)
			break;
	}
	r.t1_ns = clock_now_ns();
	r.count = count;
	floor_send_rec(run->rec[1], &r);
	rc = 0;
out: /* the exit closes the pairs */
	free(cli);
	free(srv);
	free(buf);
	free(back);
	return rc;
}

/* ---- connect probe: listeners ------------------------------------------------------------------------- */

static int floor_server_child(const struct floor_options *o, const struct floor_run *run, unsigned proc,
			      int backlog)
{
	struct epoll_event ev[FLOOR_EVENTS];
	char err[FLOOR_ERR_LEN], buf[FLOOR_SIZE_MAX];
	int *lfd = calloc(o->ports, sizeof(int)), ep;
	unsigned i;

	if (lfd == NULL) {
		floor_child_error(run, proc, "out of memory");
		return 1;
	}
	if (net_listen_range("127.0.0.1", o->port_base, o->ports, backlog, true, lfd, err, sizeof(err)) < 0) {
		floor_child_error(run, proc, err);
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		floor_child_error(run, proc, "epoll_create1 failed");
		return 1;
	}
	for (i = 0; i < o->ports; i++) {
		/* data.u64: the listener's index, above the range of descriptors */
		struct epoll_event e = { .events = EPOLLIN, .data.u64 = (UINT64_C(1) << 32) | i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd[i], &e) < 0) {
			snprintf(err, sizeof(err), "epoll_ctl listener: %s", strerror(errno));
			floor_child_error(run, proc, err);
			return 1;
		}
	}
	floor_child_ready(run, proc);
	for (;;) {
		int n = epoll_wait(ep, ev, FLOOR_EVENTS, -1), j;

		for (j = 0; j < n; j++) {
			uint64_t d = ev[j].data.u64;

			if (d >> 32) {
				int l = lfd[(uint32_t)d];

				for (;;) {
					int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					struct epoll_event e = { .events = EPOLLIN };

					if (fd < 0) {
						/* EMFILE: out of descriptors, as a c1m worker at its cap; stop
						 * taking this listener's connections (the clients report them) */
						if (errno == EMFILE || errno == ENFILE)
							(void)epoll_ctl(ep, EPOLL_CTL_DEL, l, NULL);
						break;
					}
					(void)net_tune_accepted(fd, err, sizeof(err));
					e.data.u64 = (uint64_t)fd;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
						close(fd);
				}
			} else {
				int fd = (int)d;
				ssize_t r = read(fd, buf, sizeof(buf));

				if (r > 0) {
					if (write(fd, buf, (size_t)r) != r)
						close(fd);
				} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
					close(fd);
				}
			}
		}
	}
	return 0;
}

/* ---- connect probe: clients --------------------------------------------------------------------------- */

enum { FLOOR_C_FREE = 0, FLOOR_C_CONNECTING, FLOOR_C_ECHOING };

struct floor_client {
	const struct floor_options *o;
	int ep;
	unsigned char *state;        /* by descriptor */
	uint16_t *got;               /* by descriptor: echo bytes received */
	unsigned maxfd;
	uint64_t next, end;          /* global connection indexes this process still opens: [next, end) */
	uint64_t ok, failed;
	unsigned inflight, window;
	char *msg;                   /* the message sent on each connection */
	char first_err[160];
};

static void floor_client_fail(struct floor_client *c, int fd, const char *what, int e)
{
	if (c->first_err[0] == '\0')
		snprintf(c->first_err, sizeof(c->first_err), "%s: %s", what, e ? strerror(e) : "connection closed");
	c->failed++;
	if (fd >= 0) {
		(void)epoll_ctl(c->ep, EPOLL_CTL_DEL, fd, NULL);
		if ((unsigned)fd < c->maxfd)
			c->state[fd] = FLOOR_C_FREE;
		close(fd);
	}
}

static void floor_client_send(struct floor_client *c, int fd)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = (uint64_t)fd };
	ssize_t n = send(fd, c->msg, c->o->size, MSG_NOSIGNAL);

	if (n != (ssize_t)c->o->size) {
		c->inflight--;
		floor_client_fail(c, fd, "send", n < 0 ? errno : EAGAIN);
		return;
	}
	c->state[fd] = FLOOR_C_ECHOING;
	c->got[fd] = 0;
	if (epoll_ctl(c->ep, EPOLL_CTL_MOD, fd, &e) < 0) {
		c->inflight--;
		floor_client_fail(c, fd, "epoll_ctl", errno);
	}
}

/* Opens connection number i (global: its port and source are chosen round-robin by it). */
static void floor_client_open(struct floor_client *c, uint64_t i)
{
	const struct floor_options *o = c->o;
	struct sockaddr_storage ss;
	struct addr_ip dst = addr_ipv4(0x7f000001u);
	socklen_t sl = addr_sockaddr(&dst, (uint16_t)(o->port_base + i % o->ports), &ss);
	struct epoll_event e = { .events = EPOLLOUT };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0) {
		floor_client_fail(c, -1, "socket", errno);
		return;
	}
	if ((unsigned)fd >= c->maxfd) {
		close(fd);
		floor_client_fail(c, -1, "socket", EMFILE);
		return;
	}
	if (o->sources.count != 0) {
		struct addr_ip src = addr_nth(&o->sources, i % o->sources.count);
		struct sockaddr_storage sss;
		socklen_t ssl = addr_sockaddr(&src, 0, &sss);

		/* as c1m-client: the kernel picks the port per 4-tuple at connect time */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sss, ssl) < 0) {
			floor_client_fail(c, fd, "bind", errno);
			return;
		}
	}
	c->inflight++;
	e.data.u64 = (uint64_t)fd;
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0) {
		c->state[fd] = FLOOR_C_CONNECTING;
		if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			c->inflight--;
			floor_client_fail(c, fd, "epoll_ctl", errno);
			return;
		}
		floor_client_send(c, fd);
		return;
	}
	if (errno != EINPROGRESS) {
		c->inflight--;
		floor_client_fail(c, fd, "connect", errno);
		return;
	}
	c->state[fd] = FLOOR_C_CONNECTING;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
		c->inflight--;
		floor_client_fail(c, fd, "epoll_ctl", errno);
	}
}

static void floor_client_event(struct floor_client *c, int fd)
{
	char buf[FLOOR_SIZE_MAX];
	ssize_t n;

	if (c->state[fd] == FLOOR_C_CONNECTING) {
		int e = 0;
		socklen_t el = sizeof(e);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		if (e != 0) {
			c->inflight--;
			floor_client_fail(c, fd, "connect", e);
			return;
		}
		floor_client_send(c, fd);
		return;
	}
	if (c->state[fd] != FLOOR_C_ECHOING)
		return;
	n = recv(fd, buf, c->o->size - c->got[fd], 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || memcmp(buf, c->msg + c->got[fd], (size_t)n) != 0) {
		c->inflight--;
		floor_client_fail(c, fd, n > 0 ? "echo" : "recv", n < 0 ? errno : n == 0 ? 0 : EPROTO);
		return;
	}
	c->got[fd] = (uint16_t)(c->got[fd] + n);
	if (c->got[fd] < c->o->size)
		return;
	/* Echoed: held open, out of the loop, as c1m-client holds an established connection. */
	(void)epoll_ctl(c->ep, EPOLL_CTL_DEL, fd, NULL);
	c->state[fd] = FLOOR_C_FREE;
	c->inflight--;
	c->ok++;
}

static int floor_client_child(const struct floor_options *o, const struct floor_run *run, unsigned proc,
			      unsigned maxfd)
{
	struct floor_client c;
	struct epoll_event ev[FLOOR_EVENTS];
	struct floor_rec r;
	uint64_t share = floor_share(o->conns, o->clients, proc), deadline;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.maxfd = maxfd;
	c.state = calloc(maxfd, 1);
	c.got = calloc(maxfd, sizeof(uint16_t));
	c.msg = malloc(o->size);
	c.ep = epoll_create1(EPOLL_CLOEXEC);
	if (c.state == NULL || c.got == NULL || c.msg == NULL || c.ep < 0) {
		floor_child_error(run, proc, "out of memory or epoll_create1 failed");
		rc = 1;
		goto out;
	}
	memset(c.msg, 'c', o->size);
	c.next = floor_share_start(o->conns, o->clients, proc);
	c.end = c.next + share;
	c.window = o->concurrency / o->clients;
	if (c.window == 0)
		c.window = 1;
	floor_child_ready(run, proc);

	memset(&r, 0, sizeof(r));
	r.kind = FLOOR_REC_RESULT;
	r.proc = proc;
	r.t0_ns = clock_now_ns();
	deadline = r.t0_ns + o->timeout_ms * UINT64_C(1000000);
	while (c.ok + c.failed < share) {
		uint64_t now;
		int n, j;

		while (c.inflight < c.window && c.next < c.end)
			floor_client_open(&c, c.next++);
		if (c.ok + c.failed >= share)
			break;
		now = clock_now_ns();
		if (now >= deadline) {
			if (c.first_err[0] == '\0')
				snprintf(c.first_err, sizeof(c.first_err), "%" PRIu64 " connections not echoed within "
					 "--timeout", share - c.ok - c.failed);
			c.failed = share - c.ok;
			break;
		}
		n = epoll_wait(c.ep, ev, FLOOR_EVENTS, 100);
		for (j = 0; j < n; j++)
			floor_client_event(&c, (int)ev[j].data.u64);
	}
	r.t1_ns = clock_now_ns();
	r.count = c.ok;
	r.failed = c.failed;
	snprintf(r.msg, sizeof(r.msg), "%s", c.first_err);
	floor_send_rec(run->rec[1], &r);
out: /* the exit closes the connections */
	free(c.state);
	free(c.got);
	free(c.msg);
	return rc;
}

/* ---- parent ------------------------------------------------------------------------------------------- */

/* A child that ended abnormally (a signal, or a non-zero exit without an ERROR record in the pipe, which
 * the caller reads first) is reaped and named in err. */
static bool floor_child_died(struct floor_run *run, char *err, size_t errlen)
{
	unsigned i;

	for (i = 0; i < run->npids; i++) {
		int st;

		if (run->pids[i] <= 0 || waitpid(run->pids[i], &st, WNOHANG) != run->pids[i])
			continue;
		run->pids[i] = 0;
		if (WIFSIGNALED(st)) {
			snprintf(err, errlen, "a probe process was killed by signal %d", WTERMSIG(st));
			return true;
		}
		if (WEXITSTATUS(st) != 0) {
			snprintf(err, errlen, "a probe process exited with status %d", WEXITSTATUS(st));
			return true;
		}
	}
	return false;
}

/* Reads one record, waiting until deadline_ns. 0, or -1 with err. */
static int floor_read_rec(struct floor_run *run, struct floor_rec *r, uint64_t deadline_ns, char *err,
			  size_t errlen)
{
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	while (off < sizeof(*r)) {
		uint64_t now = clock_now_ns();
		struct pollfd p = { .fd = run->rec[0], .events = POLLIN };
		ssize_t n;
		int ms;

		if (now >= deadline_ns) {
			snprintf(err, errlen, "no word from the probe processes in time");
			return -1;
		}
		ms = (int)((deadline_ns - now) / 1000000 + 1);
		if (poll(&p, 1, ms < 200 ? ms : 200) <= 0) {
			if (floor_child_died(run, err, errlen))
				return -1;
			continue;
		}
		n = read(run->rec[0], (char *)r + off, sizeof(*r) - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "a probe process ended without reporting");
			return -1;
		}
		off += (size_t)n;
	}
	if (r->kind == FLOOR_REC_ERROR) {
		snprintf(err, errlen, "process %u: %s", r->proc, r->msg);
		return -1;
	}
	return 0;
}

typedef int (*floor_child_fn)(const struct floor_options *o, const struct floor_run *run, unsigned proc,
			      int arg);

static int floor_msg_fn(const struct floor_options *o, const struct floor_run *run, unsigned proc, int arg)
{
	return floor_message_child(o, run, proc);
}

static int floor_srv_fn(const struct floor_options *o, const struct floor_run *run, unsigned proc, int arg)
{
	return floor_server_child(o, run, proc, arg);
}

static int floor_cli_fn(const struct floor_options *o, const struct floor_run *run, unsigned proc, int arg)
{
	return floor_client_child(o, run, proc, (unsigned)arg);
}

/* Forks count children running fn, then waits for each READY. */
static int floor_spawn(struct floor_run *run, const struct floor_options *o, unsigned count, floor_child_fn fn,
		       int arg, char *err, size_t errlen)
{
	uint64_t deadline;
	unsigned i;

	for (i = 0; i < count; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			snprintf(err, errlen, "fork: %s", strerror(errno));
			return -1;
		}
		if (pid == 0) {
			close(run->rec[0]);
			close(run->go[1]);
			signal(SIGTERM, SIG_DFL);
			_exit(fn(o, run, i, arg));
		}
		run->pids[run->npids++] = pid;
	}
	deadline = clock_now_ns() + (uint64_t)FLOOR_SETUP_MS * 1000000;
	for (i = 0; i < count; i++) {
		struct floor_rec r;

		if (floor_read_rec(run, &r, deadline, err, errlen) < 0)
			return -1;
		if (r.kind != FLOOR_REC_READY) {
			snprintf(err, errlen, "process %u reported before the start", r.proc);
			return -1;
		}
	}
	return 0;
}

static void floor_reap(struct floor_run *run)
{
	unsigned i;

	for (i = 0; i < run->npids; i++)
		if (run->pids[i] > 0)
			kill(run->pids[i], SIGTERM);
	for (i = 0; i < run->npids; i++)
		while (run->pids[i] > 0 && waitpid(run->pids[i], NULL, 0) < 0 && errno == EINTR)
			;
	run->npids = 0;
}

struct floor_result {
	uint64_t count, failed;
	uint64_t t0_ns, t1_ns;       /* earliest start, latest end */
	double rate_sum;             /* message: the processes' own rates, added */
	char first_err[160];
};

/* Collects n RESULT records after the go. */
static int floor_collect(struct floor_run *run, unsigned n, uint64_t wait_ms, struct floor_result *res, char *err,
			 size_t errlen)
{
	uint64_t deadline = clock_now_ns() + wait_ms * 1000000;
	unsigned i;

	memset(res, 0, sizeof(*res));
	res->t0_ns = UINT64_MAX;
	for (i = 0; i < n; i++) {
		struct floor_rec r;

		if (floor_read_rec(run, &r, deadline, err, errlen) < 0)
			return -1;
		res->count += r.count;
		res->failed += r.failed;
		if (r.t0_ns < res->t0_ns)
			res->t0_ns = r.t0_ns;
		if (r.t1_ns > res->t1_ns)
			res->t1_ns = r.t1_ns;
		if (r.t1_ns > r.t0_ns)
			res->rate_sum += (double)r.count * 1e9 / (double)(r.t1_ns - r.t0_ns);
		if (res->first_err[0] == '\0' && r.msg[0] != '\0')
			snprintf(res->first_err, sizeof(res->first_err), "%s", r.msg);
	}
	return 0;
}

/* The machine's slab now, in bytes: /proc/meminfo's Slab line (kB), as bench/lib.sh's b_slab_kb reads it. */
static int floor_slab_bytes(uint64_t *bytes, char *err, size_t errlen)
{
	char text[PROCFS_FILE_MAX];

	if (procfs_read_file("/proc/meminfo", text, sizeof(text), err, errlen) < 0)
		return -1;
	return procfs_meminfo_get(text, "Slab", bytes, err, errlen);
}

/* message: the slab before the fork and once every pair is made (valid: both reads worked). */
struct floor_idle {
	bool valid;
	uint64_t before, after;      /* bytes */
};

static int floor_print(const struct floor_options *o, const struct floor_result *res, const struct floor_idle *idle)
{
	char out[1024];
	struct json_w w;
	double el = res->t1_ns > res->t0_ns ? (double)(res->t1_ns - res->t0_ns) / 1e9 : 0;

	json_w_init(&w, out, sizeof(out));
	json_w_object_begin(&w, NULL);
	if (o->mode == FLOOR_MESSAGE) {
		json_w_string(&w, "probe", "message");
		json_w_u64(&w, "pairs", o->pairs);
		json_w_u64(&w, "procs", o->procs);
		json_w_u64(&w, "size", o->size);
		json_w_double(&w, "duration_s", (double)o->duration_ms / 1000, 3);
		json_w_u64(&w, "round_trips", res->count);
		json_w_double(&w, "round_trips_per_s", res->rate_sum, 0);
		if (idle->valid) {
			double d = (double)idle->after - (double)idle->before;

			json_w_i64(&w, "idle_slab_bytes", (int64_t)d);
			json_w_double(&w, "idle_slab_bytes_per_pair", d / (double)o->pairs, 1);
		} else {
			json_w_null(&w, "idle_slab_bytes");
			json_w_null(&w, "idle_slab_bytes_per_pair");
		}
	} else {
		json_w_string(&w, "probe", "connect");
		json_w_u64(&w, "connections", o->conns);
		json_w_u64(&w, "established", res->count);
		json_w_u64(&w, "failed", res->failed);
		json_w_u64(&w, "clients", o->clients);
		json_w_u64(&w, "servers", o->servers);
		json_w_u64(&w, "ports", o->ports);
		json_w_u64(&w, "concurrency", o->concurrency);
		json_w_u64(&w, "size", o->size);
		json_w_double(&w, "elapsed_s", el, 3);
		json_w_double(&w, "conn_per_s", el > 0 ? (double)res->count / el : 0, 0);
		json_w_string_or_null(&w, "first_error", res->first_err);
	}
	json_w_object_end(&w);
	if (json_w_finish(&w) < 0)
		return -1;
	printf("%s\n", out);
	return 0;
}

/* net.core.somaxconn, the backlog c1m-server listens with by default; 4096 if it cannot be read. */
static int floor_somaxconn(void)
{
	char err[FLOOR_ERR_LEN];
	uint64_t v = 0;

	if (procfs_read_u64("/proc/sys/net/core/somaxconn", &v, err, sizeof(err)) < 0 || v == 0 || v > INT32_MAX)
		return 4096;
	return (int)v;
}

int main(int argc, char **argv)
{
	struct floor_options o;
	struct floor_run run = { .rec = { -1, -1 }, .go = { -1, -1 } };
	struct floor_result res;
	struct floor_idle idle = { .valid = false };
	struct rlimit rl;
	char err[FLOOR_ERR_LEN];
	unsigned total;
	int rc = 1;

	if (floor_opts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-floor: %s\n", err);
		return 2;
	}
	if (o.help) {
		fputs(floor_opts_usage(), stdout);
		return 0;
	}
	if (o.version) {
		char v[VERSION_TEXT_LEN];

		version_text("c1m-floor", NULL, v, sizeof(v));
		fputs(v, stdout);
		return 0;
	}
	/* as every c1m binary: the soft open-file limit up to the hard one */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		fprintf(stderr, "c1m-floor: getrlimit RLIMIT_NOFILE: %s\n", strerror(errno));
		return 1;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (floor_opts_plan(&o, (uint64_t)rl.rlim_cur, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-floor: %s\n", err);
		return 2;
	}
	if (o.mode == FLOOR_CONNECT && net_ports_free("127.0.0.1", o.port_base, o.ports, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-floor: %s (choose another --port)\n", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	total = o.mode == FLOOR_MESSAGE ? o.procs : o.servers + o.clients;
	run.pids = calloc(total, sizeof(pid_t));
	if (run.pids == NULL || pipe2(run.rec, O_CLOEXEC) < 0 || pipe2(run.go, O_CLOEXEC) < 0) {
		fprintf(stderr, "c1m-floor: cannot set up: %s\n", strerror(errno));
		return 1;
	}
	fflush(stdout);
	if (o.mode == FLOOR_MESSAGE) {
		/* The idle floor: no slab figure is not a failure of the probe, only a null in its line. */
		idle.valid = floor_slab_bytes(&idle.before, err, sizeof(err)) == 0;
		if (floor_spawn(&run, &o, o.procs, floor_msg_fn, 0, err, sizeof(err)) < 0)
			goto out;
		idle.valid = idle.valid && floor_slab_bytes(&idle.after, err, sizeof(err)) == 0;
		close(run.go[1]);
		run.go[1] = -1;
		if (floor_collect(&run, o.procs, o.duration_ms + 60000, &res, err, sizeof(err)) < 0)
			goto out;
	} else {
		unsigned maxfd = rl.rlim_cur > 16u * 1024 * 1024 ? 16u * 1024 * 1024 : (unsigned)rl.rlim_cur;

		if (floor_spawn(&run, &o, o.servers, floor_srv_fn, floor_somaxconn(), err, sizeof(err)) < 0 ||
		    floor_spawn(&run, &o, o.clients, floor_cli_fn, (int)maxfd, err, sizeof(err)) < 0)
			goto out;
		close(run.go[1]);
		run.go[1] = -1;
		if (floor_collect(&run, o.clients, o.timeout_ms + 60000, &res, err, sizeof(err)) < 0)
			goto out;
	}
	if (floor_print(&o, &res, &idle) < 0) {
		snprintf(err, sizeof(err), "the result did not fit its buffer");
		goto out;
	}
	rc = o.mode == FLOOR_CONNECT && (res.failed != 0 || res.count != o.conns) ? 1 : 0;
	err[0] = '\0';
out:
	floor_reap(&run);
	free(run.pids);
	if (rc != 0 && err[0] != '\0')
		fprintf(stderr, "c1m-floor: %s\n", err);
	return rc;
}
