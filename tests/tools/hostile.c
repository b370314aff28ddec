/* c1m-hostile: a client that misbehaves on purpose against c1m-server or c1m-epoll, one kind of misbehaviour
 * per run, so tests/integration/hostile.sh can check that the server survives it and stays fair. Modes:
 * nonreader (sends and never reads: TCP must push back instead of the server buffering everything), slowloris
 * (connections that stay silent or trickle a byte now and then: --idle-timeout must close them on time, while a
 * connection that trickles faster than the timeout stays open), halfclose (send, shutdown(SHUT_WR), expect the
 * whole echo then EOF), rst (send megabytes without reading, then reset mid-echo, many times), vanish (thousands
 * of connections that are reset or closed the moment they are established), binary (every byte value, NUL
 * included, must come back verbatim) and hold (open connections and keep them until SIGTERM, to fill a server
 * that is out of file descriptors). Each run prints one line "hostile mode=... key=value ... verdict=pass|fail";
 * exit status 0 when the server behaved, 1 (with a one-line reason on stderr) when it did not, 2 on bad usage.
 * Plain POSIX sockets and poll(): the tool must do what the real client never does. Traffic goes to 127.0.0.0/8
 * only, which the option parser enforces. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util/addr.h"
#include "common/util/clock.h"
#include "common/util/sbuf.h"

#define HS_ERR_LEN      256
#define HS_RESULT_LEN   1024
#define HS_IO_CHUNK     65536          /* bytes per send/recv call */
#define HS_CONNECT_BATCH 500           /* connects in flight at once */
#define HS_MAX_CONNS    19000          /* below the hard fd limit of this machine (20,000) */
#define HS_BINARY_LEN   65536          /* bytes per binary pattern: 256 blocks of 256 */

enum hs_mode {
	HS_NONREADER, HS_SLOWLORIS, HS_HALFCLOSE, HS_RST, HS_VANISH, HS_BINARY, HS_HOLD, HS_MODE_COUNT
};

static const char *const hs_mode_names[HS_MODE_COUNT] = {
	"nonreader", "slowloris", "halfclose", "rst", "vanish", "binary", "hold"
};

struct hs_opts {
	enum hs_mode mode;
	uint32_t host;            /* destination, host byte order, inside 127.0.0.0/8 */
	unsigned port_base;       /* first destination port */
	unsigned ports;           /* destination ports, used round-robin */
	unsigned conns;           /* connections (slowloris, vanish, hold) or rounds (halfclose, rst) */
	uint64_t bytes;           /* bytes to send per connection (nonreader, halfclose, rst) */
	unsigned keep;            /* slowloris: connections that drip faster than the idle timeout */
	unsigned drip_ms;         /* slowloris: interval of the keep group's bytes, milliseconds */
	unsigned slow_ms;         /* slowloris: interval of the slow group's bytes (> idle), milliseconds */
	unsigned idle_ms;         /* slowloris: the server's --idle-timeout, milliseconds */
	unsigned slack_ms;        /* slowloris: allowed lateness of an idle close, milliseconds */
	unsigned stall_ms;        /* nonreader, rst: no send progress for this long = TCP pushed back, ms */
	unsigned timeout_ms;      /* deadline of one connect or one echo exchange, milliseconds */
	unsigned hold_s;          /* nonreader, hold: keep the connections this long at most, seconds */
	unsigned vanish;          /* vanish: --variant, an index of hs_vanish_names (HS_VANISH_*) */
};

/* What a mode leaves open for main to hold until SIGTERM (nonreader, hold). */
struct hs_held {
	int *fds;                 /* open sockets, -1 = none */
	unsigned n;               /* entries of fds */
};

static volatile sig_atomic_t hs_stop;

static void hs_on_signal(int sig)
{
	(void)sig;
	hs_stop = 1;
}

static uint64_t hs_ms_since(uint64_t t0_ns)
{
	return (clock_now_ns() - t0_ns) / CLOCK_NS_PER_MS;
}

/* ---- sockets --------------------------------------------------------------------------------------------- */

static void hs_close(int *fd, bool reset)
{
	if (*fd < 0)
		return;
	if (reset) {
		struct linger lg = { 1, 0 }; /* close() sends RST and drops whatever is unsent */

		(void)setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(*fd);
	*fd = -1;
}

/* Non-blocking socket with connect() started towards port_base + idx % ports. */
static int hs_connect_start(const struct hs_opts *o, unsigned idx, int *fdp, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(o->host);
	sa.sin_port = htons((uint16_t)(o->port_base + idx % o->ports));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int e = errno;

		snprintf(err, errlen, "connect port %u: %s", o->port_base + idx % o->ports, strerror(e));
		close(fd);
		errno = e; /* hs_connect_many tells our own EMFILE from the server's failures by it */
		return -1;
	}
	*fdp = fd;
	return 0;
}

/* The result of a non-blocking connect once poll() reported the socket: 0 or the errno. */
static int hs_connect_result(int fd)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		return errno;
	return e;
}

/* One connection, established within timeout_ms. */
static int hs_connect(const struct hs_opts *o, unsigned idx, int *fdp, char *err, size_t errlen)
{
	struct pollfd p;
	int fd, e, rc;

	if (hs_connect_start(o, idx, &fd, err, errlen) < 0)
		return -1;
	p.fd = fd;
	p.events = POLLOUT;
	do
		rc = poll(&p, 1, (int)o->timeout_ms);
	while (rc < 0 && errno == EINTR);
	e = rc == 0 ? ETIMEDOUT : rc < 0 ? errno : hs_connect_result(fd);
	if (e != 0) {
		snprintf(err, errlen, "connect port %u: %s", o->port_base + idx % o->ports, strerror(e));
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

enum hs_after_connect { HS_KEEP, HS_CLOSE_FIN, HS_CLOSE_RST, HS_SEND_RST };

/* --variant of vanish, by what each connection gets once established (hs_after_connect less HS_KEEP). */
static const char *const hs_vanish_names[] = { "fin", "rst", "sendrst" };
#define HS_VANISH_RST 1u          /* the default */

struct hs_many {
	unsigned connected;      /* connects that completed */
	unsigned failed;         /* connects that failed or timed out */
	int first_errno;         /* errno of the first failure, 0 = none */
};

/* Opens n connections with at most HS_CONNECT_BATCH connects in flight. With HS_KEEP, fds[i] is the socket
 * (or -1 if its connect failed) and t_ns[i] the clock_now_ns() when its connect started (never later than the
 * server's accept, so a delay measured from it is never shorter than the server's); otherwise each socket
 * is closed (FIN or RST) the moment its connect completes, with HS_SEND_RST after sending one 64-byte line
 * (so the reset races the server's read and echo of it), and fds/t_ns may be NULL. */
static int hs_connect_many(const struct hs_opts *o, unsigned n, enum hs_after_connect after, int *fds,
			   uint64_t *t_ns, struct hs_many *m, char *err, size_t errlen)
{
	struct pollfd p[HS_CONNECT_BATCH];
	unsigned idx[HS_CONNECT_BATCH];
	uint64_t started[HS_CONNECT_BATCH];
	unsigned inflight = 0, next = 0, i;

	memset(m, 0, sizeof(*m));
	while (next < n || inflight > 0) {
		uint64_t now;

		while (next < n && inflight < HS_CONNECT_BATCH) {
			int fd;

			if (hs_connect_start(o, next, &fd, err, errlen) < 0) {
				if (errno == EMFILE || errno == ENFILE) {
					for (i = 0; i < inflight; i++) /* our own limit: a tool problem, not the server's */
						close(p[i].fd);
					return -1;
				}
				m->failed++;
				if (m->first_errno == 0)
					m->first_errno = errno;
				if (fds != NULL)
					fds[next] = -1;
				next++;
				continue;
			}
			p[inflight].fd = fd;
			p[inflight].events = POLLOUT;
			p[inflight].revents = 0;
			idx[inflight] = next++;
			started[inflight] = clock_now_ns();
			inflight++;
		}
		if (inflight == 0)
			break;
		if (poll(p, inflight, 50) < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		now = clock_now_ns();
		for (i = 0; i < inflight;) {
			int e = -1;

			if (p[i].revents != 0)
				e = hs_connect_result(p[i].fd);
			else if (now - started[i] > (uint64_t)o->timeout_ms * CLOCK_NS_PER_MS)
				e = ETIMEDOUT;
			if (e < 0) {
				i++;
				continue;
			}
			if (e == 0) {
				m->connected++;
				if (after == HS_KEEP) {
					fds[idx[i]] = p[i].fd;
					t_ns[idx[i]] = started[i];
				} else {
					if (after == HS_SEND_RST) {
						static const char line[64] = "c1m-hostile: one line, then a reset";

						(void)send(p[i].fd, line, sizeof(line), MSG_NOSIGNAL);
					}
					hs_close(&p[i].fd, after != HS_CLOSE_FIN);
				}
			} else {
				m->failed++;
				if (m->first_errno == 0)
					m->first_errno = e;
				if (fds != NULL)
					fds[idx[i]] = -1;
				close(p[i].fd);
			}
			inflight--;
			p[i] = p[inflight];
			idx[i] = idx[inflight];
			started[i] = started[inflight];
		}
	}
	return 0;
}

/* ---- echo exchange --------------------------------------------------------------------------------------- */

struct hs_exchange {
	uint64_t sent;           /* bytes written */
	uint64_t received;       /* bytes of echo read, all verified */
	bool eof;                /* the server closed after the echo */
	uint64_t elapsed_ms;     /* whole exchange */
};

/* Sends data (in writes cycling through chunks[] sizes) while reading the echo and comparing it byte by byte.
 * defer_read: read nothing until a send would block or everything is sent, so the server meets a peer that
 * does not read (its output fills up) before the reading starts. half_close: shutdown(SHUT_WR) after the last
 * byte, then the exchange ends only at the server's EOF, which must come after exactly len bytes. */
static int hs_exchange(int fd, const unsigned char *data, uint64_t len, const size_t *chunks, unsigned nchunks,
		       bool defer_read, bool half_close, unsigned timeout_ms, struct hs_exchange *x, char *err,
		       size_t errlen)
{
	static unsigned char buf[HS_IO_CHUNK];
	uint64_t t0 = clock_now_ns();
	bool reading = !defer_read, shut = false;
	unsigned ci = 0;

	memset(x, 0, sizeof(*x));
	for (;;) {
		struct pollfd p;
		int rc;

		if (x->sent == len && half_close && !shut) {
			if (shutdown(fd, SHUT_WR) < 0) {
				snprintf(err, errlen, "shutdown(SHUT_WR): %s", strerror(errno));
				return -1;
			}
			shut = true;
		}
		if (half_close ? x->eof : x->received == len)
			break;
		if (hs_ms_since(t0) > timeout_ms) {
			snprintf(err, errlen, "no complete echo within %u ms: sent %" PRIu64 ", echoed %" PRIu64
				 " of %" PRIu64 " bytes%s", timeout_ms, x->sent, x->received, len,
				 half_close ? ", no EOF" : "");
			return -1;
		}
		p.fd = fd;
		p.events = (short)((x->sent < len ? POLLOUT : 0) | (reading ? POLLIN : 0));
		p.revents = 0;
		rc = poll(&p, 1, 50);
		if (rc < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if (rc <= 0)
			continue;
		if (x->sent < len && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
			size_t want = chunks[ci % nchunks];
			ssize_t n;

			if (want > len - x->sent)
				want = (size_t)(len - x->sent);
			n = send(fd, data + x->sent, want, MSG_NOSIGNAL);
			if (n > 0) {
				x->sent += (uint64_t)n;
				ci++;
				if (x->sent == len)
					reading = true;
			} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
				reading = true;
			} else if (errno != EINTR) {
				snprintf(err, errlen, "send after %" PRIu64 " bytes: %s", x->sent, strerror(errno));
				return -1;
			}
		}
		if (reading && (p.revents & (POLLIN | POLLERR | POLLHUP))) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);

			if (n > 0) {
				if (x->received + (uint64_t)n > x->sent || x->received + (uint64_t)n > len) {
					snprintf(err, errlen, "echo longer than what was sent: %" PRIu64 " bytes back, %"
						 PRIu64 " sent", x->received + (uint64_t)n, x->sent);
					return -1;
				}
				for (ssize_t k = 0; k < n; k++) {
					if (buf[k] != data[x->received + (uint64_t)k]) {
						snprintf(err, errlen, "echo differs at byte %" PRIu64 ": sent 0x%02x, got 0x%02x",
							 x->received + (uint64_t)k, data[x->received + (uint64_t)k], buf[k]);
						return -1;
					}
				}
				x->received += (uint64_t)n;
			} else if (n == 0) {
				if (!half_close || x->received < len) {
					snprintf(err, errlen, "server closed after echoing %" PRIu64 " of %" PRIu64
						 " bytes (sent %" PRIu64 ")", x->received, len, x->sent);
					return -1;
				}
				x->eof = true;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				snprintf(err, errlen, "recv after %" PRIu64 " bytes of echo: %s", x->received,
					 strerror(errno));
				return -1;
			}
		}
	}
	x->elapsed_ms = hs_ms_since(t0);
	return 0;
}

/* Sends without ever reading until len bytes are out or no byte went out for stall_ms (TCP pushed back).
 * *sent is what the kernel took; a send error other than EAGAIN fails. */
static int hs_push(int fd, const unsigned char *pattern, size_t plen, uint64_t len, unsigned stall_ms,
		   uint64_t *sent, char *err, size_t errlen)
{
	uint64_t last = clock_now_ns();

	*sent = 0;
	while (*sent < len && !hs_stop) {
		size_t want = plen;
		ssize_t n;

		if (want > len - *sent)
			want = (size_t)(len - *sent);
		n = send(fd, pattern, want, MSG_NOSIGNAL);
		if (n > 0) {
			*sent += (uint64_t)n;
			last = clock_now_ns();
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(err, errlen, "send after %" PRIu64 " bytes: %s", *sent, strerror(errno));
			return -1;
		}
		if (hs_ms_since(last) >= stall_ms)
			break;
		{
			struct pollfd p = { fd, POLLOUT, 0 };
			uint64_t waited = hs_ms_since(last);

			(void)poll(&p, 1, (int)(stall_ms - waited));
		}
	}
	return 0;
}

/* ---- patterns -------------------------------------------------------------------------------------------- */

static uint32_t hs_xorshift(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* Fills len bytes (a multiple of 256) with pattern k; every pattern contains every byte value at least
 * len / 512 times, NUL included: 0 ascending, 1 descending, 2 a fresh random permutation per 256-byte block,
 * 3 each value preceded by NUL, 4 each value followed by CR LF and 0xFF (line and telnet-like control bytes). */
static void hs_fill_pattern(unsigned k, unsigned char *p, size_t len)
{
	uint32_t seed = 0x9e3779b9u;
	size_t i;

	for (i = 0; i < len; i++) {
		switch (k) {
		case 0:
			p[i] = (unsigned char)i;
			break;
		case 1:
			p[i] = (unsigned char)(255 - (i & 255));
			break;
		case 3:
			p[i] = (i & 1) ? (unsigned char)(i >> 1) : 0;
			break;
		default: {
			static const unsigned char tail[3] = { '\r', '\n', 0xff };

			p[i] = (i % 4 == 0) ? (unsigned char)(i / 4) : tail[i % 4 - 1];
			break;
		}
		}
	}
	if (k == 2) {
		for (i = 0; i < len; i += 256) {
			unsigned j;

			for (j = 0; j < 256; j++)
				p[i + j] = (unsigned char)j;
			for (j = 255; j > 0; j--) {
				unsigned r = hs_xorshift(&seed) % (j + 1);
				unsigned char t = p[i + j];

				p[i + j] = p[i + r];
				p[i + r] = t;
			}
		}
	}
}

/* Puts "what n: " in front of the message already in err (truncating the end if needed). */
static void hs_err_prefix(char *err, size_t errlen, const char *what, unsigned n)
{
	char tmp[HS_ERR_LEN + 64];
	size_t len;

	snprintf(tmp, sizeof(tmp), "%s %u: %s", what, n, err);
	len = strlen(tmp);
	if (len >= errlen)
		len = errlen - 1;
	memcpy(err, tmp, len);
	err[len] = '\0';
}

/* ---- modes ----------------------------------------------------------------------------------------------- */

/* Connects, sends up to o->bytes and never reads. Passes if TCP pushed back before everything went out: a
 * server that keeps reading from a peer that does not read its echo buffers all of it. The connection stays
 * open in *held so the caller can measure the server while it is stuck. */
static int hs_mode_nonreader(const struct hs_opts *o, struct sbuf *res, struct hs_held *held, char *err,
			     size_t errlen)
{
	static unsigned char pattern[HS_IO_CHUNK];
	uint64_t sent, t0;
	int fd;

	hs_fill_pattern(0, pattern, sizeof(pattern));
	if (hs_connect(o, 0, &fd, err, errlen) < 0)
		return -1;
	held->fds[0] = fd;
	held->n = 1;
	t0 = clock_now_ns();
	if (hs_push(fd, pattern, sizeof(pattern), o->bytes, o->stall_ms, &sent, err, errlen) < 0)
		return -1;
	sbuf_printf(res, " bytes=%" PRIu64 " accepted=%" PRIu64 " push_ms=%" PRIu64, o->bytes, sent,
		    hs_ms_since(t0) - (sent < o->bytes ? o->stall_ms : 0));
	if (sent >= o->bytes) {
		snprintf(err, errlen, "the server took all %" PRIu64 " bytes from a peer that never reads: no "
			 "backpressure", o->bytes);
		return -1;
	}
	return 0;
}

enum hs_loris_kind { HS_LORIS_SILENT, HS_LORIS_SLOW, HS_LORIS_KEEP };

struct hs_loris {
	int fd;
	enum hs_loris_kind kind;
	uint64_t last_ns;        /* last byte sent, or the connect */
	uint64_t closed_ms;      /* how long after last_ns the server closed; 0 = open */
	uint64_t sent, echoed;   /* keep and slow groups: bytes */
};

static int hs_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Keep group: the last o->keep connections send a byte every drip_ms (< idle) and must stay open and echo it.
 * The rest alternate between silent (never send) and slow (a byte now, then one every slow_ms > idle). Silent
 * and slow ones must be closed by the server between idle_ms and idle_ms + slack_ms after their last byte. */
static int hs_slowloris_run(const struct hs_opts *o, struct hs_loris *c, unsigned n, struct sbuf *res, char *err,
			    size_t errlen)
{
	struct pollfd *p;
	unsigned *map;
	uint64_t t0 = clock_now_ns(), min_run_ms = (uint64_t)o->idle_ms * 2 + 1000;
	unsigned closable = 0, closed = 0, i;
	uint64_t *delays;
	int rc = -1;

	p = calloc(n, sizeof(*p));
	map = calloc(n, sizeof(*map));
	delays = calloc(n, sizeof(*delays));
	if (p == NULL || map == NULL || delays == NULL) {
		snprintf(err, errlen, "out of memory for %u connections", n);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (c[i].kind != HS_LORIS_KEEP)
			closable++;
	for (;;) {
		uint64_t now = clock_now_ns();
		unsigned np = 0;

		for (i = 0; i < n; i++) {
			struct hs_loris *l = &c[i];
			unsigned every = l->kind == HS_LORIS_KEEP ? o->drip_ms : o->slow_ms;

			if (l->fd < 0)
				continue;
			if (l->kind == HS_LORIS_SILENT) {
				if ((now - l->last_ns) / CLOCK_NS_PER_MS > (uint64_t)o->idle_ms + o->slack_ms) {
					snprintf(err, errlen, "a silent connection is still open %" PRIu64 " ms after it "
						 "connected (idle timeout %u ms + slack %u ms)",
						 (uint64_t)((now - l->last_ns) / CLOCK_NS_PER_MS), o->idle_ms, o->slack_ms);
					goto out;
				}
			} else if (l->sent == 0 || (now - l->last_ns) / CLOCK_NS_PER_MS >= every) {
				if (l->kind == HS_LORIS_SLOW && l->sent > 0) {
					snprintf(err, errlen, "a connection silent for %u ms (idle timeout %u ms) was not "
						 "closed", o->slow_ms, o->idle_ms);
					goto out;
				}
				if (send(l->fd, "x", 1, MSG_NOSIGNAL) != 1) {
					snprintf(err, errlen, "send on a %s connection after %" PRIu64 " bytes: %s",
						 l->kind == HS_LORIS_KEEP ? "dripping" : "slow", l->sent, strerror(errno));
					goto out;
				}
				l->sent++;
				l->last_ns = now;
			}
			p[np].fd = l->fd;
			p[np].events = POLLIN;
			p[np].revents = 0;
			map[np++] = i;
		}
		if (closed == closable && hs_ms_since(t0) >= min_run_ms)
			break;
		if (poll(p, np, 20) < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			goto out;
		}
		now = clock_now_ns();
		for (i = 0; i < np; i++) {
			struct hs_loris *l = &c[map[i]];
			char b[64];
			ssize_t r;

			if (p[i].revents == 0)
				continue;
			r = recv(l->fd, b, sizeof(b), 0);
			if (r > 0) {
				l->echoed += (uint64_t)r;
				if (l->echoed > l->sent) {
					snprintf(err, errlen, "%" PRIu64 " bytes echoed on a connection that sent %" PRIu64,
						 l->echoed, l->sent);
					goto out;
				}
				continue;
			}
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				continue;
			/* EOF or reset: the server closed it. */
			if (l->kind == HS_LORIS_KEEP) {
				snprintf(err, errlen, "the server closed a connection that sent a byte every %u ms "
					 "(idle timeout %u ms) after %" PRIu64 " ms", o->drip_ms, o->idle_ms, hs_ms_since(t0));
				goto out;
			}
			l->closed_ms = (now - l->last_ns) / CLOCK_NS_PER_MS;
			if (l->closed_ms + 100 < o->idle_ms) {
				snprintf(err, errlen, "the server closed a %s connection %" PRIu64 " ms after its last "
					 "byte, before the idle timeout of %u ms", l->kind == HS_LORIS_SLOW ? "slow" : "silent",
					 l->closed_ms, o->idle_ms);
				goto out;
			}
			delays[closed++] = l->closed_ms;
			close(l->fd);
			l->fd = -1;
		}
	}
	/* The keep group got every echo back (the last byte may still be on its way: wait briefly). */
	for (i = 0; i < n; i++) {
		uint64_t w0 = clock_now_ns();

		while (c[i].kind == HS_LORIS_KEEP && c[i].echoed < c[i].sent && hs_ms_since(w0) < o->timeout_ms) {
			char b[64];
			struct pollfd q = { c[i].fd, POLLIN, 0 };
			ssize_t r;

			(void)poll(&q, 1, 50);
			r = recv(c[i].fd, b, sizeof(b), 0);
			if (r > 0)
				c[i].echoed += (uint64_t)r;
			else if (r == 0 || (errno != EAGAIN && errno != EINTR))
				break;
		}
		if (c[i].kind == HS_LORIS_KEEP && c[i].echoed != c[i].sent) {
			snprintf(err, errlen, "a dripping connection got %" PRIu64 " of its %" PRIu64 " bytes back",
				 c[i].echoed, c[i].sent);
			goto out;
		}
	}
	qsort(delays, closed, sizeof(*delays), hs_cmp_u64);
	sbuf_printf(res, " idle_closed=%u close_ms_min=%" PRIu64 " close_ms_p50=%" PRIu64 " close_ms_max=%" PRIu64
		    " kept_open=%u run_ms=%" PRIu64, closed, closed ? delays[0] : 0, closed ? delays[closed / 2] : 0,
		    closed ? delays[closed - 1] : 0, n - closable, hs_ms_since(t0));
	rc = 0;
out:
	free(p);
	free(map);
	free(delays);
	return rc;
}

static int hs_mode_slowloris(const struct hs_opts *o, struct sbuf *res, char *err, size_t errlen)
{
	struct hs_loris *c = NULL;
	struct hs_many m;
	int *fds = NULL;
	uint64_t *t = NULL;
	unsigned i, silent = 0, slow = 0;
	int rc = -1;

	c = calloc(o->conns, sizeof(*c));
	fds = calloc(o->conns, sizeof(*fds));
	t = calloc(o->conns, sizeof(*t));
	if (c == NULL || fds == NULL || t == NULL) {
		snprintf(err, errlen, "out of memory for %u connections", o->conns);
		goto out;
	}
	if (hs_connect_many(o, o->conns, HS_KEEP, fds, t, &m, err, errlen) < 0)
		goto out;
	for (i = 0; i < o->conns; i++) {
		c[i].fd = fds[i];
		c[i].last_ns = t[i];
		/* The keep group connects last, so its first byte is not late however long the connects took. */
		if (i >= o->conns - o->keep)
			c[i].kind = HS_LORIS_KEEP;
		else if (i % 2 == 0)
			c[i].kind = HS_LORIS_SILENT;
		else
			c[i].kind = HS_LORIS_SLOW;
		silent += c[i].kind == HS_LORIS_SILENT;
		slow += c[i].kind == HS_LORIS_SLOW;
	}
	sbuf_printf(res, " conns=%u connected=%u silent=%u slow=%u keep=%u idle_ms=%u slack_ms=%u", o->conns,
		    m.connected, silent, slow, o->keep, o->idle_ms, o->slack_ms);
	if (m.failed > 0) {
		snprintf(err, errlen, "%u of %u connects failed (first: %s)", m.failed, o->conns, strerror(m.first_errno));
		goto out;
	}
	rc = hs_slowloris_run(o, c, o->conns, res, err, errlen);
out:
	if (c != NULL)
		for (i = 0; i < o->conns; i++)
			hs_close(&c[i].fd, false);
	free(c);
	free(fds);
	free(t);
	return rc;
}

/* o->conns rounds: send o->bytes, shutdown(SHUT_WR) while the server may still hold echo it could not send
 * (reading starts only once our sends block), then everything must come back, followed by EOF. */
static int hs_mode_halfclose(const struct hs_opts *o, struct sbuf *res, char *err, size_t errlen)
{
	static const size_t chunks[] = { HS_IO_CHUNK };
	unsigned char *data;
	uint64_t max_ms = 0, b;
	unsigned i;
	int rc = -1;

	data = malloc(o->bytes);
	if (data == NULL) {
		snprintf(err, errlen, "out of memory for %" PRIu64 " bytes", o->bytes);
		return -1;
	}
	hs_fill_pattern(2, data, o->bytes & ~(uint64_t)255);
	for (b = o->bytes & ~(uint64_t)255; b < o->bytes; b++)
		data[b] = (unsigned char)b;
	for (i = 0; i < o->conns; i++) {
		struct hs_exchange x;
		int fd;

		if (hs_connect(o, i, &fd, err, errlen) < 0)
			goto out;
		if (hs_exchange(fd, data, o->bytes, chunks, 1, true, true, o->timeout_ms, &x, err, errlen) < 0) {
			hs_err_prefix(err, errlen, "round", i + 1);
			close(fd);
			goto out;
		}
		close(fd);
		if (x.elapsed_ms > max_ms)
			max_ms = x.elapsed_ms;
	}
	sbuf_printf(res, " rounds=%u bytes=%" PRIu64 " echoed_all=1 eof_after_echo=1 max_ms=%" PRIu64, o->conns,
		    o->bytes, max_ms);
	rc = 0;
out:
	free(data);
	return rc;
}

/* o->conns rounds: send up to o->bytes without reading until TCP pushes back, then reset the connection while
 * the server still holds echo for it. Only our own connects can fail here; the script checks the server. */
static int hs_mode_rst(const struct hs_opts *o, struct sbuf *res, char *err, size_t errlen)
{
	static unsigned char pattern[HS_IO_CHUNK];
	uint64_t total = 0, t0 = clock_now_ns(), min_sent = UINT64_MAX;
	unsigned i;

	hs_fill_pattern(0, pattern, sizeof(pattern));
	for (i = 0; i < o->conns && !hs_stop; i++) {
		uint64_t sent;
		int fd;

		if (hs_connect(o, i, &fd, err, errlen) < 0) {
			hs_err_prefix(err, errlen, "round", i + 1);
			return -1;
		}
		if (hs_push(fd, pattern, sizeof(pattern), o->bytes, o->stall_ms, &sent, err, errlen) < 0) {
			hs_close(&fd, true);
			return -1;
		}
		total += sent;
		if (sent < min_sent)
			min_sent = sent;
		hs_close(&fd, true);
	}
	sbuf_printf(res, " rounds=%u bytes=%" PRIu64 " sent_total=%" PRIu64 " sent_min=%" PRIu64 " elapsed_ms=%"
		    PRIu64, i, o->bytes, total, i ? min_sent : 0, hs_ms_since(t0));
	return 0;
}

/* o->conns connections, each closed (FIN) or reset the moment it is established, or reset right after
 * sending one line (sendrst). */
static int hs_mode_vanish(const struct hs_opts *o, struct sbuf *res, char *err, size_t errlen)
{
	struct hs_many m;
	uint64_t t0 = clock_now_ns();

	if (hs_connect_many(o, o->conns, (enum hs_after_connect)(HS_CLOSE_FIN + o->vanish), NULL, NULL, &m, err,
			    errlen) < 0)
		return -1;
	sbuf_printf(res, " variant=%s conns=%u connected=%u failed=%u elapsed_ms=%" PRIu64, hs_vanish_names[o->vanish],
		    o->conns, m.connected, m.failed, hs_ms_since(t0));
	if (m.failed > 0) {
		snprintf(err, errlen, "%u of %u connects failed (first: %s)", m.failed, o->conns,
			 strerror(m.first_errno));
		return -1;
	}
	return 0;
}

/* Five 64 KB patterns that each hold every byte value, each on its own connection, written in odd sizes from
 * 1 byte up so NULs and control bytes land at every position of a read; the echo must be verbatim. */
static int hs_mode_binary(const struct hs_opts *o, struct sbuf *res, char *err, size_t errlen)
{
	static const size_t chunks[] = { 1, 3, 255, 256, 4093, 1, 65536 };
	static unsigned char data[HS_BINARY_LEN];
	uint64_t total = 0;
	unsigned k, rounds = o->conns;

	for (k = 0; k < rounds; k++) {
		struct hs_exchange x;
		int fd;

		hs_fill_pattern(k % 5, data, sizeof(data));
		if (hs_connect(o, k, &fd, err, errlen) < 0)
			return -1;
		if (hs_exchange(fd, data, sizeof(data), chunks, sizeof(chunks) / sizeof(chunks[0]), false, false,
				o->timeout_ms, &x, err, errlen) < 0) {
			hs_err_prefix(err, errlen, "pattern", k % 5);
			close(fd);
			return -1;
		}
		close(fd);
		total += x.received;
	}
	sbuf_printf(res, " patterns=%u bytes_verified=%" PRIu64 " mismatches=0", rounds, total);
	return 0;
}

/* o->conns connections established (the kernel completes the handshake into the accept queue even while the
 * server does not accept) and kept in *held. */
static int hs_mode_hold(const struct hs_opts *o, struct sbuf *res, struct hs_held *held, char *err, size_t errlen)
{
	struct hs_many m;
	uint64_t *t;
	unsigned i;

	t = calloc(o->conns, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errlen, "out of memory for %u connections", o->conns);
		return -1;
	}
	for (i = 0; i < o->conns; i++)
		held->fds[i] = -1;
	held->n = o->conns;
	if (hs_connect_many(o, o->conns, HS_KEEP, held->fds, t, &m, err, errlen) < 0) {
		free(t);
		return -1;
	}
	free(t);
	sbuf_printf(res, " conns=%u connected=%u failed=%u", o->conns, m.connected, m.failed);
	if (m.failed > 0) {
		snprintf(err, errlen, "%u of %u connects failed (first: %s)", m.failed, o->conns, strerror(m.first_errno));
		return -1;
	}
	return 0;
}

/* ---- options --------------------------------------------------------------------------------------------- */

static const char hs_usage[] =
	"usage: c1m-hostile MODE [options]\n"
	"modes: nonreader slowloris halfclose rst vanish binary hold\n"
	"  --host A          destination, 127.0.0.0/8 only (default 127.0.0.1)\n"
	"  --port N          first destination port (default 8081)\n"
	"  --ports N         destination ports, round-robin (default 100)\n"
	"  --conns N         connections (slowloris 3000, vanish 10000, hold 400) or rounds (halfclose 10,\n"
	"                    rst 200, binary 5)\n"
	"  --bytes N[k|m]    bytes per connection (nonreader 100m, halfclose 1m, rst 8m)\n"
	"  --keep N          slowloris: connections that send a byte every --drip-ms (default 20)\n"
	"  --drip-ms N       slowloris: their interval, below the idle timeout (default 500)\n"
	"  --slow-ms N       slowloris: interval of the slow group, above idle + slack (default 5000)\n"
	"  --idle-ms N       slowloris: the server's idle timeout (default 2000)\n"
	"  --slack-ms N      slowloris: allowed lateness of an idle close (default 2000)\n"
	"  --stall-ms N      nonreader, rst: no send progress this long = pushed back (default 1000; rst 50)\n"
	"  --timeout-ms N    deadline of one connect or one echo exchange (default 10000)\n"
	"  --hold-s N        nonreader, hold: keep the connections until SIGTERM or N s (default 60)\n"
	"  --variant rst|fin|sendrst vanish: reset or close each connection, or reset it right after\n"
	"                    sending one 64-byte line (default rst)\n"
	"prints one line 'hostile mode=... verdict=pass|fail'; exit 0 pass, 1 fail, 2 bad usage\n";

static int hs_parse_u64(const char *flag, const char *s, uint64_t lo, uint64_t hi, bool suffix, uint64_t *out,
			char *err, size_t errlen)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (s == NULL) {
		snprintf(err, errlen, "%s: missing value", flag);
		return -1;
	}
	errno = 0;
	v = (*s >= '0' && *s <= '9') ? strtoull(s, &end, 10) : 0;
	if (*s < '0' || *s > '9' || errno != 0)
		goto bad;
	if (suffix && (*end == 'k' || *end == 'K'))
		mult = 1024;
	else if (suffix && (*end == 'm' || *end == 'M'))
		mult = 1024 * 1024;
	if (mult != 1)
		end++;
	if (*end != '\0' || v > hi / mult || v * mult < lo)
		goto bad;
	*out = v * mult;
	return 0;
bad:
	snprintf(err, errlen, "%s '%s': expected an integer %" PRIu64 "..%" PRIu64 "%s", flag, s, lo, hi,
		 suffix ? " (k and m suffixes allowed)" : "");
	return -1;
}

static int hs_parse_uint(const char *flag, const char *s, unsigned lo, unsigned hi, unsigned *out, char *err,
			 size_t errlen)
{
	uint64_t v;

	if (hs_parse_u64(flag, s, lo, hi, false, &v, err, errlen) < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Pure: argv in, options or one line of error out. Values that were not given get the mode's defaults. */
static int hs_parse(int argc, char **argv, struct hs_opts *o, bool *help, char *err, size_t errlen)
{
	bool conns_set = false, bytes_set = false, stall_set = false;
	unsigned m;
	int i;

	memset(o, 0, sizeof(*o));
	*help = false;
	o->host = 0x7f000001u;
	o->port_base = 8081;
	o->ports = 100;
	o->keep = 20;
	o->drip_ms = 500;
	o->slow_ms = 5000;
	o->idle_ms = 2000;
	o->slack_ms = 2000;
	o->stall_ms = 1000;
	o->timeout_ms = 10000;
	o->hold_s = 60;
	o->vanish = HS_VANISH_RST;
	if (argc < 2) {
		snprintf(err, errlen, "missing MODE (nonreader, slowloris, halfclose, rst, vanish, binary or hold)");
		return -1;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		*help = true;
		return 0;
	}
	for (m = 0; m < HS_MODE_COUNT; m++)
		if (strcmp(argv[1], hs_mode_names[m]) == 0)
			break;
	o->mode = (enum hs_mode)m;
	if (m == HS_MODE_COUNT) {
		snprintf(err, errlen, "unknown mode '%s' (nonreader, slowloris, halfclose, rst, vanish, binary or hold)",
			 argv[1]);
		return -1;
	}
	for (i = 2; i < argc; i += 2) {   /* every option takes a value */
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int r;

		if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
			*help = true;
			return 0;
		}
		if (strcmp(f, "--host") == 0) {
			char inner[HS_ERR_LEN];

			if (v == NULL || addr_parse_ipv4(v, &o->host, inner, sizeof(inner)) < 0 || (o->host >> 24) != 127) {
				snprintf(err, errlen, "--host '%s': expected a dotted quad in 127.0.0.0/8 (loopback only)",
					 v != NULL ? v : "");
				return -1;
			}
			r = 0;
		} else if (strcmp(f, "--port") == 0) {
			r = hs_parse_uint(f, v, 1, 65535, &o->port_base, err, errlen);
		} else if (strcmp(f, "--ports") == 0) {
			r = hs_parse_uint(f, v, 1, 65535, &o->ports, err, errlen);
		} else if (strcmp(f, "--conns") == 0) {
			r = hs_parse_uint(f, v, 1, HS_MAX_CONNS, &o->conns, err, errlen);
			conns_set = true;
		} else if (strcmp(f, "--bytes") == 0) {
			r = hs_parse_u64(f, v, 1, 1ULL << 32, true, &o->bytes, err, errlen);
			bytes_set = true;
		} else if (strcmp(f, "--keep") == 0) {
			r = hs_parse_uint(f, v, 0, HS_MAX_CONNS, &o->keep, err, errlen);
		} else if (strcmp(f, "--drip-ms") == 0) {
			r = hs_parse_uint(f, v, 1, 3600000, &o->drip_ms, err, errlen);
		} else if (strcmp(f, "--slow-ms") == 0) {
			r = hs_parse_uint(f, v, 1, 3600000, &o->slow_ms, err, errlen);
		} else if (strcmp(f, "--idle-ms") == 0) {
			r = hs_parse_uint(f, v, 1, 3600000, &o->idle_ms, err, errlen);
		} else if (strcmp(f, "--slack-ms") == 0) {
			r = hs_parse_uint(f, v, 0, 3600000, &o->slack_ms, err, errlen);
		} else if (strcmp(f, "--stall-ms") == 0) {
			r = hs_parse_uint(f, v, 1, 3600000, &o->stall_ms, err, errlen);
			stall_set = true;
		} else if (strcmp(f, "--timeout-ms") == 0) {
			r = hs_parse_uint(f, v, 1, 3600000, &o->timeout_ms, err, errlen);
		} else if (strcmp(f, "--hold-s") == 0) {
			r = hs_parse_uint(f, v, 0, 86400, &o->hold_s, err, errlen);
		} else if (strcmp(f, "--variant") == 0) {
			for (m = 0; v != NULL && m < sizeof(hs_vanish_names) / sizeof(hs_vanish_names[0]); m++)
				if (strcmp(v, hs_vanish_names[m]) == 0)
					break;
			if (v == NULL || m == sizeof(hs_vanish_names) / sizeof(hs_vanish_names[0])) {
				snprintf(err, errlen, "--variant '%s': expected rst, fin or sendrst", v != NULL ? v : "");
				return -1;
			}
			o->vanish = m;
			r = 0;
		} else {
			snprintf(err, errlen, "unknown option '%s'", f);
			return -1;
		}
		if (r < 0)
			return -1;
	}
	if (o->port_base + o->ports - 1 > 65535) {
		snprintf(err, errlen, "--port %u --ports %u: the last port %u is past 65535", o->port_base, o->ports,
			 o->port_base + o->ports - 1);
		return -1;
	}
	if (!conns_set) {
		static const unsigned def[HS_MODE_COUNT] = { 1, 3000, 10, 200, 10000, 5, 400 };

		o->conns = def[o->mode];
	}
	if (!bytes_set)
		o->bytes = o->mode == HS_NONREADER ? 100ULL << 20 : o->mode == HS_RST ? 8ULL << 20 : 1ULL << 20;
	if (!stall_set && o->mode == HS_RST)
		o->stall_ms = 50;
	if (o->mode == HS_SLOWLORIS) {
		if (o->keep > o->conns) {
			snprintf(err, errlen, "--keep %u: more than --conns %u", o->keep, o->conns);
			return -1;
		}
		if (o->drip_ms >= o->idle_ms) {
			snprintf(err, errlen, "--drip-ms %u: must be below --idle-ms %u, or the keep group times out",
				 o->drip_ms, o->idle_ms);
			return -1;
		}
		if (o->slow_ms <= o->idle_ms + o->slack_ms) {
			snprintf(err, errlen, "--slow-ms %u: must be above --idle-ms + --slack-ms (%u), or the slow group "
				 "never idles out", o->slow_ms, o->idle_ms + o->slack_ms);
			return -1;
		}
	}
	return 0;
}

/* ---- main ------------------------------------------------------------------------------------------------ */

static int hs_raise_nofile(unsigned need, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		snprintf(err, errlen, "getrlimit RLIMIT_NOFILE: %s", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			snprintf(err, errlen, "setrlimit RLIMIT_NOFILE: %s", strerror(errno));
			return -1;
		}
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need + 16) {
		snprintf(err, errlen, "open-file limit %llu is too low for %u connections: raise 'ulimit -n' to %u",
			 (unsigned long long)rl.rlim_cur, need, need + 16);
		return -1;
	}
	return 0;
}

/* Keeps the held sockets until SIGTERM/SIGINT or hold_s seconds; reports whether the server reset them. */
static unsigned hs_hold(const struct hs_held *h, unsigned hold_s)
{
	uint64_t t0 = clock_now_ns();
	unsigned reset = 0, i;

	while (!hs_stop && hs_ms_since(t0) < (uint64_t)hold_s * 1000)
		(void)poll(NULL, 0, 50);
	for (i = 0; i < h->n; i++)
		if (h->fds[i] >= 0 && hs_connect_result(h->fds[i]) != 0)
			reset++;
	return reset;
}

int main(int argc, char **argv)
{
	struct hs_opts o;
	struct hs_held held = { NULL, 0 };
	struct sigaction sa;
	struct sbuf res;
	char err[HS_ERR_LEN] = "", rbuf[HS_RESULT_LEN];
	bool help;
	int rc = 0;
	unsigned i;

	if (hs_parse(argc, argv, &o, &help, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-hostile: %s (see c1m-hostile --help)\n", err);
		return 2;
	}
	if (help) {
		fputs(hs_usage, stdout);
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hs_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (hs_raise_nofile(o.conns, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-hostile: %s\n", err);
		return 1;
	}
	held.fds = malloc((size_t)o.conns * sizeof(*held.fds));
	if (held.fds == NULL) {
		fprintf(stderr, "c1m-hostile: out of memory\n");
		return 1;
	}
	sbuf_init(&res, rbuf, sizeof(rbuf));
	sbuf_printf(&res, "hostile mode=%s", hs_mode_names[o.mode]);
	switch (o.mode) {
	case HS_NONREADER:
		rc = hs_mode_nonreader(&o, &res, &held, err, sizeof(err));
		break;
	case HS_SLOWLORIS:
		rc = hs_mode_slowloris(&o, &res, err, sizeof(err));
		break;
	case HS_HALFCLOSE:
		rc = hs_mode_halfclose(&o, &res, err, sizeof(err));
		break;
	case HS_RST:
		rc = hs_mode_rst(&o, &res, err, sizeof(err));
		break;
	case HS_VANISH:
		rc = hs_mode_vanish(&o, &res, err, sizeof(err));
		break;
	case HS_BINARY:
		rc = hs_mode_binary(&o, &res, err, sizeof(err));
		break;
	case HS_HOLD:
		rc = hs_mode_hold(&o, &res, &held, err, sizeof(err));
		break;
	case HS_MODE_COUNT:
		break;
	}
	sbuf_printf(&res, " verdict=%s", rc == 0 ? "pass" : "fail");
	printf("%s\n", rbuf);
	fflush(stdout);
	if (rc < 0)
		fprintf(stderr, "c1m-hostile: %s: %s\n", hs_mode_names[o.mode], err);
	if (rc == 0 && held.n > 0) {
		unsigned reset = hs_hold(&held, o.hold_s);

		if (reset > 0) {
			fprintf(stderr, "c1m-hostile: %s: the server reset %u of the %u held connections\n",
				hs_mode_names[o.mode], reset, held.n);
			rc = -1;
		}
	}
	for (i = 0; i < held.n; i++)
		hs_close(&held.fds[i], false);
	free(held.fds);
	return rc == 0 ? 0 : 1;
}
