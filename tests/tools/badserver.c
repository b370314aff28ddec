/* c1m-badserver: a deliberately broken echo server for testing c1m-client. It listens on N consecutive
 * ports like c1m-server (so the client's defaults work) and answers each connection correctly for its first
 * --after BYTES or --after-lines LINES, then misbehaves the way --mode says: silent (reads and drops
 * everything, never answers), close (closes at once, or when the first byte past the good prefix arrives),
 * reset (the same with an RST), wrong (echoes every later byte altered), extra (echoes later bytes and
 * appends bytes nobody sent), slow (echoes later bytes correctly but one byte per --byte-interval, so
 * every reply arrives, only too late) or echo (a correct server, the control). The good prefix lets the client's
 * ramp echo ("Hello Server: client --> <n>\n", one line) succeed so the bad behaviour hits the latency
 * phase's frames. One thread, level-triggered epoll, plain sockets on purpose: nothing of the real servers'
 * code is shared, so a bug there cannot hide a bug in the client. SIGTERM or SIGINT ends it with a one-line
 * summary on stdout. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util/clock.h"
#include "common/sys/net.h"

#define BAD_PORTS_MAX   1000
#define BAD_BACKLOG     4096
#define BAD_CHUNK       65536        /* bytes read per readable event */
#define BAD_EVENTS      256          /* epoll events per wait */
#define BAD_PAUSE_MS    100          /* accept pause after EMFILE/ENFILE */
#define BAD_ERR_LEN     256
#define BAD_FDS_MAX     (1u << 24)   /* connection table entries at most (sanity bound on the fd limit) */
#define BAD_BYTE_INTERVAL_MS 500     /* slow mode: default gap between two reply bytes */

static const char bad_extra[] = "EXTRA BYTES NOBODY SENT\n";

enum bad_mode {
	BAD_ECHO,                    /* correct echo (control) */
	BAD_SILENT,                  /* reads and drops, never answers */
	BAD_CLOSE,                   /* closes (FIN) */
	BAD_RESET,                   /* closes with SO_LINGER 0 (RST) */
	BAD_WRONG,                   /* echoes altered bytes */
	BAD_EXTRA,                   /* echoes, then appends bad_extra */
	BAD_SLOW,                    /* echoes correctly, one byte per byte_interval_ms */
};

struct bad_options {
	const char *bind;            /* listen address */
	unsigned port;               /* first port */
	unsigned ports;              /* consecutive ports */
	enum bad_mode mode;
	uint64_t after_bytes;        /* good prefix in bytes (with after_lines 0) */
	uint64_t after_lines;        /* good prefix in newline-terminated lines; 0 = use after_bytes */
	uint64_t byte_interval_ms;   /* slow mode: milliseconds between two reply bytes */
};

/* One accepted connection, indexed by its fd. */
struct bad_conn {
	bool used;                   /* slot holds an open connection */
	bool good;                   /* still inside the good prefix */
	uint64_t in;                 /* bytes received */
	uint64_t lines;              /* newlines received while good */
	char *pend;                  /* bytes not yet written (malloc), NULL = none */
	size_t pend_len;             /* bytes in pend */
	size_t pend_off;             /* bytes of pend already written */
	char *slow;                  /* slow mode: bytes still to trickle out (malloc), NULL = none */
	size_t slow_len;             /* bytes in slow */
	size_t slow_off;             /* bytes of slow already written */
};

struct bad_server {
	struct bad_options o;
	int ep;                      /* epoll fd */
	int lfds[BAD_PORTS_MAX];     /* listeners */
	bool listening;              /* listeners are in the epoll set */
	uint64_t resume_ns;          /* accepting paused until this clock_now_ns(), 0 = not paused */
	uint64_t trickle_ns;         /* slow mode: next clock_now_ns() a byte goes out on each connection */
	struct bad_conn *conns;      /* by fd */
	size_t nconns;               /* size of conns */
	uint64_t accepted, closed, bytes_in, bytes_out, misbehaved; /* summary counters */
};

static volatile sig_atomic_t bad_stop;

static void on_signal(int sig)
{
	bad_stop = sig;
}

static const char *const bad_mode_names[] = { "echo", "silent", "close", "reset", "wrong", "extra", "slow" };

static int parse_u64(const char *flag, const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
		     size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+') {
		snprintf(err, errlen, "%s: '%s' is not a number", flag, s ? s : "");
		return -1;
	}
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		snprintf(err, errlen, "%s: '%s' is not a number in %llu..%llu", flag, s, (unsigned long long)lo,
			 (unsigned long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct bad_options *o, bool *help, char *err, size_t errlen)
{
	uint64_t v;
	int i;
	unsigned m;

	memset(o, 0, sizeof(*o));
	o->bind = "127.0.0.1";
	o->port = 8081;
	o->ports = 100;
	o->mode = BAD_ECHO;
	o->byte_interval_ms = BAD_BYTE_INTERVAL_MS;
	*help = false;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			*help = true;
			return 0;
		}
		if (strcmp(a, "--bind") != 0 && strcmp(a, "--port") != 0 && strcmp(a, "--ports") != 0 &&
		    strcmp(a, "--mode") != 0 && strcmp(a, "--after") != 0 && strcmp(a, "--after-lines") != 0 &&
		    strcmp(a, "--byte-interval") != 0) {
			snprintf(err, errlen, "unknown option '%s'", a);
			return -1;
		}
		if (!val) {
			snprintf(err, errlen, "%s needs a value", a);
			return -1;
		}
		i++;
		if (strcmp(a, "--bind") == 0) {
			struct in6_addr any;

			if (inet_pton(AF_INET, val, &any) != 1 && inet_pton(AF_INET6, val, &any) != 1) {
				snprintf(err, errlen, "--bind: '%s' is not a numeric IPv4 or IPv6 address", val);
				return -1;
			}
			o->bind = val;
		} else if (strcmp(a, "--port") == 0) {
			if (parse_u64(a, val, 1, 65535, &v, err, errlen) < 0)
				return -1;
			o->port = (unsigned)v;
		} else if (strcmp(a, "--ports") == 0) {
			if (parse_u64(a, val, 1, BAD_PORTS_MAX, &v, err, errlen) < 0)
				return -1;
			o->ports = (unsigned)v;
		} else if (strcmp(a, "--mode") == 0) {
			for (m = 0; m < sizeof(bad_mode_names) / sizeof(bad_mode_names[0]); m++)
				if (strcmp(val, bad_mode_names[m]) == 0)
					break;
			if (m == sizeof(bad_mode_names) / sizeof(bad_mode_names[0])) {
				snprintf(err, errlen,
					 "--mode: '%s' is not one of echo, silent, close, reset, wrong, extra, slow", val);
				return -1;
			}
			o->mode = (enum bad_mode)m;
		} else if (strcmp(a, "--after") == 0) {
			if (parse_u64(a, val, 0, UINT64_MAX / 2, &o->after_bytes, err, errlen) < 0)
				return -1;
		} else if (strcmp(a, "--byte-interval") == 0) {
			if (parse_u64(a, val, 1, 60000, &o->byte_interval_ms, err, errlen) < 0)
				return -1;
		} else if (parse_u64(a, val, 0, UINT64_MAX / 2, &o->after_lines, err, errlen) < 0) {
			return -1;
		}
	}
	if (o->port + o->ports - 1 > 65535) {
		snprintf(err, errlen, "--ports: %u ports from %u go past 65535", o->ports, o->port);
		return -1;
	}
	return 0;
}

static const char bad_usage[] =
	"usage: c1m-badserver [--bind ADDR] [--port BASE] [--ports N] [--mode MODE] [--after BYTES | --after-lines L]\n"
	"                     [--byte-interval MS]\n"
	"  --bind ADDR        listen address (default 127.0.0.1)\n"
	"  --port BASE        first port (default 8081)\n"
	"  --ports N          consecutive ports (default 100, at most 1000)\n"
	"  --mode MODE        what to do after the good prefix (default echo):\n"
	"                       echo    correct echo (a control)\n"
	"                       silent  read and drop everything, never answer\n"
	"                       close   close the connection (FIN)\n"
	"                       reset   close with an RST (SO_LINGER 0)\n"
	"                       wrong   echo every byte altered\n"
	"                       extra   echo, then append bytes nobody sent\n"
	"                       slow    echo correctly, but one byte per --byte-interval\n"
	"  --after BYTES      echo the first BYTES of each connection correctly (default 0)\n"
	"  --after-lines L    echo the first L newline-terminated lines correctly (overrides --after)\n"
	"  --byte-interval MS slow mode: milliseconds between two reply bytes (default 500, 1..60000)\n"
	"With a good prefix of 0, close and reset act right after accept, before anything is read.\n"
	"SIGTERM/SIGINT: exit 0 with a summary line on stdout.\n";

/* The soft fd limit goes to the hard one, so a few thousand connections fit. */
static int raise_nofile(char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		snprintf(err, errlen, "getrlimit RLIMIT_NOFILE: %s", strerror(errno));
		return -1;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		snprintf(err, errlen, "setrlimit RLIMIT_NOFILE %llu: %s", (unsigned long long)rl.rlim_max,
			 strerror(errno));
		return -1;
	}
	return 0;
}

static void conn_close(struct bad_server *s, int fd, bool reset)
{
	struct bad_conn *c = &s->conns[fd];
	struct linger lg = { 1, 0 };

	if (reset)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(c->pend);
	free(c->slow);
	memset(c, 0, sizeof(*c));
	s->closed++;
}

/* Writes what is pending; returns 1 if everything went out, 0 if the socket is full (now waiting for
 * EPOLLOUT, reading paused), -1 if the connection was closed. */
static int conn_flush(struct bad_server *s, int fd)
{
	struct bad_conn *c = &s->conns[fd];
	struct epoll_event ev;
	ssize_t n;

	while (c->pend && c->pend_off < c->pend_len) {
		n = send(fd, c->pend + c->pend_off, c->pend_len - c->pend_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev.events = EPOLLOUT;
			ev.data.fd = fd;
			if (epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev) < 0) {
				conn_close(s, fd, false);
				return -1;
			}
			return 0;
		}
		if (n < 0) {
			conn_close(s, fd, false);
			return -1;
		}
		c->pend_off += (size_t)n;
		s->bytes_out += (uint64_t)n;
	}
	free(c->pend);
	c->pend = NULL;
	c->pend_len = c->pend_off = 0;
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev) < 0) {
		conn_close(s, fd, false);
		return -1;
	}
	return 1;
}

/* Queues len bytes for fd (pend is empty whenever reading is on, see conn_flush). */
static int conn_queue(struct bad_server *s, int fd, const char *data, size_t len)
{
	struct bad_conn *c = &s->conns[fd];
	char *p;

	if (len == 0)
		return 0;
	p = realloc(c->pend, c->pend_len + len);
	if (!p)
		return -1;
	memcpy(p + c->pend_len, data, len);
	c->pend = p;
	c->pend_len += len;
	return 0;
}

/* Appends len bytes to c's slow-mode backlog, which trickle() sends one byte per interval. */
static int conn_queue_slow(struct bad_conn *c, const char *data, size_t len)
{
	char *p;

	if (len == 0)
		return 0;
	p = realloc(c->slow, c->slow_len + len);
	if (!p)
		return -1;
	memcpy(p + c->slow_len, data, len);
	c->slow = p;
	c->slow_len += len;
	return 0;
}

/* Slow mode, every byte_interval_ms: one byte of backlog out on each connection whose good prefix has
 * been written (so the stream stays in order); a full socket just skips this round. */
static void trickle(struct bad_server *s)
{
	struct bad_conn *c;
	size_t fd;
	ssize_t n;

	for (fd = 0; fd < s->nconns; fd++) {
		c = &s->conns[fd];
		if (!c->used || !c->slow || c->pend)
			continue;
		n = send((int)fd, c->slow + c->slow_off, 1, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			continue;
		if (n < 0) {
			conn_close(s, (int)fd, false);
			continue;
		}
		s->bytes_out += (uint64_t)n;
		if (++c->slow_off == c->slow_len) {
			free(c->slow);
			c->slow = NULL;
			c->slow_len = c->slow_off = 0;
		}
	}
}

/* Length of the good prefix of data[0..len) for c, advancing its counters over that prefix. */
static size_t good_prefix(const struct bad_options *o, struct bad_conn *c, const char *data, size_t len)
{
	size_t i;

	if (!c->good)
		return 0;
	if (o->after_lines) {
		for (i = 0; i < len && c->lines < o->after_lines; i++)
			if (data[i] == '\n')
				c->lines++;
		if (c->lines >= o->after_lines)
			c->good = false;
		return i;
	}
	i = o->after_bytes - c->in < len ? (size_t)(o->after_bytes - c->in) : len;
	if (c->in + i >= o->after_bytes)
		c->good = false;
	return i;
}

/* One chunk received on fd: the good prefix echoed, the rest handled by the mode. */
static void conn_data(struct bad_server *s, int fd, char *data, size_t len)
{
	struct bad_conn *c = &s->conns[fd];
	size_t good = good_prefix(&s->o, c, data, len), i;
	int rc = 0;

	c->in += len;
	rc = conn_queue(s, fd, data, good);
	if (rc == 0 && good < len) {
		if (s->o.mode != BAD_ECHO)
			s->misbehaved++;
		switch (s->o.mode) {
		case BAD_ECHO:
			rc = conn_queue(s, fd, data + good, len - good);
			break;
		case BAD_SILENT:
			break;
		case BAD_CLOSE:
		case BAD_RESET:
			/* the good prefix still goes out first (best effort: a full socket drops it) */
			if (c->pend && conn_flush(s, fd) < 0)
				return;
			conn_close(s, fd, s->o.mode == BAD_RESET);
			return;
		case BAD_WRONG:
			for (i = good; i < len; i++)
				data[i] = (char)(data[i] ^ 0x20);  /* every byte differs; '\n' becomes '*' */
			rc = conn_queue(s, fd, data + good, len - good);
			break;
		case BAD_EXTRA:
			rc = conn_queue(s, fd, data + good, len - good);
			if (rc == 0)
				rc = conn_queue(s, fd, bad_extra, sizeof(bad_extra) - 1);
			break;
		case BAD_SLOW:
			rc = conn_queue_slow(c, data + good, len - good);
			break;
		}
	}
	if (rc < 0) {
		conn_close(s, fd, false);
		return;
	}
	if (c->pend)
		(void)conn_flush(s, fd);
}

static void conn_readable(struct bad_server *s, int fd)
{
	char buf[BAD_CHUNK];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(s, fd, false);
		return;
	}
	s->bytes_in += (uint64_t)n;
	conn_data(s, fd, buf, (size_t)n);
}

static int listeners_set(struct bad_server *s, bool on)
{
	struct epoll_event ev;
	unsigned i;

	if (s->listening == on)
		return 0;
	for (i = 0; i < s->o.ports; i++) {
		ev.events = EPOLLIN;
		ev.data.fd = s->lfds[i];
		if (epoll_ctl(s->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->lfds[i], &ev) < 0)
			return -1;
	}
	s->listening = on;
	return 0;
}

/* Accepts everything waiting on lfd. At the fd limit it pauses all listeners for BAD_PAUSE_MS instead of
 * spinning on a level-triggered listener it cannot serve. */
static void accept_all(struct bad_server *s, int lfd)
{
	struct epoll_event ev;
	struct bad_conn *c;
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				(void)listeners_set(s, false);
				s->resume_ns = clock_now_ns() + BAD_PAUSE_MS * CLOCK_NS_PER_MS;
			}
			return;
		}
		if ((size_t)fd >= s->nconns) {
			close(fd);
			continue;
		}
		s->accepted++;
		c = &s->conns[fd];
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->good = s->o.after_lines > 0 || s->o.after_bytes > 0;
		if (!c->good && (s->o.mode == BAD_CLOSE || s->o.mode == BAD_RESET)) {
			s->misbehaved++;
			if (s->o.mode == BAD_RESET) {
				struct linger lg = { 1, 0 };

				(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			}
			close(fd);
			memset(c, 0, sizeof(*c));
			s->closed++;
			continue;
		}
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			memset(c, 0, sizeof(*c));
			s->closed++;
		}
	}
}

static bool is_listener(const struct bad_server *s, int fd)
{
	unsigned i;

	for (i = 0; i < s->o.ports; i++)
		if (s->lfds[i] == fd)
			return true;
	return false;
}

static int server_open(struct bad_server *s, char *err, size_t errlen)
{
	struct rlimit rl;
	unsigned i;

	for (i = 0; i < BAD_PORTS_MAX; i++)
		s->lfds[i] = -1;
	s->ep = -1;
	if (raise_nofile(err, errlen) < 0)
		return -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > BAD_FDS_MAX) {
		snprintf(err, errlen, "RLIMIT_NOFILE: cannot size the connection table");
		return -1;
	}
	s->nconns = (size_t)rl.rlim_cur;
	s->conns = calloc(s->nconns, sizeof(*s->conns));
	if (!s->conns) {
		snprintf(err, errlen, "out of memory for %zu connection slots", s->nconns);
		return -1;
	}
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	if (net_listen_range(s->o.bind, (uint16_t)s->o.port, s->o.ports, BAD_BACKLOG, false, s->lfds, err,
			     errlen) < 0)
		return -1;
	if (listeners_set(s, true) < 0) {
		snprintf(err, errlen, "epoll_ctl listener: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void server_close(struct bad_server *s)
{
	size_t fd;

	if (s->conns) {
		for (fd = 0; fd < s->nconns; fd++)
			if (s->conns[fd].used)
				conn_close(s, (int)fd, false);
		free(s->conns);
		s->conns = NULL;
	}
	net_close_range(s->lfds, s->o.ports);
	if (s->ep >= 0)
		close(s->ep);
	s->ep = -1;
}

/* The loop: until a signal, accept, read, answer according to the mode. */
static int server_run(struct bad_server *s, char *err, size_t errlen)
{
	struct epoll_event evs[BAD_EVENTS];
	int n, i, fd, timeout, wait;
	uint64_t now;

	if (s->o.mode == BAD_SLOW)
		s->trickle_ns = clock_now_ns() + s->o.byte_interval_ms * CLOCK_NS_PER_MS;
	while (!bad_stop) {
		timeout = -1;
		now = clock_now_ns();
		if (s->resume_ns) {
			if (now >= s->resume_ns) {
				s->resume_ns = 0;
				if (listeners_set(s, true) < 0) {
					snprintf(err, errlen, "epoll_ctl listener: %s", strerror(errno));
					return -1;
				}
			} else {
				timeout = (int)((s->resume_ns - now) / CLOCK_NS_PER_MS) + 1;
			}
		}
		if (s->trickle_ns) {
			if (now >= s->trickle_ns) {
				trickle(s);
				s->trickle_ns = now + s->o.byte_interval_ms * CLOCK_NS_PER_MS;
			}
			wait = (int)((s->trickle_ns - now) / CLOCK_NS_PER_MS) + 1;
			if (timeout < 0 || wait < timeout)
				timeout = wait;
		}
		n = epoll_wait(s->ep, evs, BAD_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (is_listener(s, fd)) {
				if (s->listening)
					accept_all(s, fd);
				continue;
			}
			if (!s->conns[fd].used)
				continue;  /* closed earlier in this batch */
			if (evs[i].events & EPOLLOUT) {
				(void)conn_flush(s, fd);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				conn_readable(s, fd);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bad_server *s;
	struct sigaction sa;
	char err[BAD_ERR_LEN];
	bool help;
	int rc = 1;

	s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "c1m-badserver: out of memory\n");
		return 1;
	}
	if (parse_options(argc, argv, &s->o, &help, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-badserver: %s\n", err);
		free(s);
		return 2;
	}
	if (help) {
		fputs(bad_usage, stdout);
		free(s);
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;  /* no SA_RESTART: epoll_wait returns EINTR and the loop sees the flag */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (server_open(s, err, sizeof(err)) < 0 || server_run(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-badserver: %s\n", err);
		goto out;
	}
	printf("c1m-badserver: mode %s, accepted %llu, closed %llu, bytes in %llu, out %llu, misbehaved %llu\n",
	       bad_mode_names[s->o.mode], (unsigned long long)s->accepted, (unsigned long long)s->closed,
	       (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
	       (unsigned long long)s->misbehaved);
	fflush(stdout);
	rc = 0;
out:
	server_close(s);
	free(s);
	return rc;
}
