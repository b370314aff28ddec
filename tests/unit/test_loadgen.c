/* Socket tests for the load generator, in one process over loopback: a small libevent server on an
 * ephemeral port of 127.0.0.1 answers the way each test needs (echo, echo plus extra bytes, echo then close,
 * silence, wrong bytes), and the loadgen's counters must classify each behaviour. The refused case checks
 * that an asynchronous connect error reaches the bufferevent event callback with its errno: every failure
 * must be ECONNREFUSED and none may be an immediate one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/util/clock.h"
#include "common/util/counter.h"
#include "client/coord.h"
#include "client/loadgen.h"
#include "client/sched.h"

/* CORRUPT_FRAMES and SILENT_FRAMES echo the Hello line but corrupt or drop the phase's frames. */
enum mode { ECHO, ECHO_EXTRA, ECHO_CLOSE, SILENT, WRONG, CORRUPT_FRAMES, SILENT_FRAMES };

#define MAX_PEERS 64

struct server {
	enum mode mode;
	struct evconnlistener *l;
	struct bufferevent *peers[MAX_PEERS];
	unsigned npeers;
	uint32_t src_seen[MAX_PEERS];   /* client source addresses, host order */
};

static void srv_write_cb(struct bufferevent *bev, void *arg)
{
	struct server *s = arg;
	unsigned i;

	if (s->mode != ECHO_CLOSE || evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	for (i = 0; i < s->npeers; i++)
		if (s->peers[i] == bev)
			s->peers[i] = NULL;
	bufferevent_free(bev);
}

static void srv_read_cb(struct bufferevent *bev, void *arg)
{
	struct server *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);
	char buf[128];

	if (n > sizeof(buf))
		n = sizeof(buf);
	evbuffer_remove(in, buf, n);
	switch (s->mode) {
	case ECHO:
		bufferevent_write(bev, buf, n);
		break;
	case ECHO_CLOSE:
		/* close once the echo has left; the write callback is set only now because libevent 2.1 also
		 * calls it on the first writable event of a fresh socket */
		bufferevent_setcb(bev, srv_read_cb, srv_write_cb, NULL, s);
		bufferevent_write(bev, buf, n);
		break;
	case ECHO_EXTRA:
		bufferevent_write(bev, buf, n);
		bufferevent_write(bev, "x", 1);
		break;
	case WRONG:
		buf[0] ^= 1;
		bufferevent_write(bev, buf, n);
		break;
	case SILENT:
		break;
	case CORRUPT_FRAMES:
		if (buf[0] != 'H' && n >= 2)
			buf[n - 2] ^= 1;
		bufferevent_write(bev, buf, n);
		break;
	case SILENT_FRAMES:
		if (buf[0] == 'H')
			bufferevent_write(bev, buf, n);
		break;
	}
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct server *s = arg;
	struct bufferevent *bev;
	struct sockaddr_in sin;

	if (s->npeers >= MAX_PEERS) {
		close(fd);
		return;
	}
	memcpy(&sin, sa, sizeof(sin));   /* libevent passes an IPv4 peer here; copied, as sa's alignment is 2 */
	s->src_seen[s->npeers] = ntohl(sin.sin_addr.s_addr);
	bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(bev);
	bufferevent_setcb(bev, srv_read_cb, NULL, NULL, s);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	s->peers[s->npeers++] = bev;
}

/* Binds 127.0.0.1:0 and returns the port; listens only if s is given (else the port is closed). */
static unsigned server_start(struct event_base *base, struct server *s, int *fd_out)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	if (s) {
		s->l = evconnlistener_new(base, accept_cb, s, LEV_OPT_CLOSE_ON_FREE, 64, fd);
		assert_non_null(s->l);
	} else {
		*fd_out = fd;  /* bound, never listening: connects to it are refused */
	}
	return ntohs(sa.sin_port);
}

static void server_stop(struct server *s)
{
	unsigned i;

	for (i = 0; i < s->npeers; i++)
		if (s->peers[i])
			bufferevent_free(s->peers[i]);
	evconnlistener_free(s->l);
}

static void cfg_init(struct loadgen_config *cfg, unsigned port, uint64_t n)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dst = addr_ipv4(INADDR_LOOPBACK);
	cfg->port_base = port;
	cfg->ports = 1;
	cfg->target = n;
	cfg->concurrency = 4;
	cfg->connect_timeout_ms = 2000;
	cfg->echo_timeout_ms = 2000;
	cfg->hold_ms = 100;
}

/* Runs one loadgen against a server in mode m; returns its stats (caller frees). */
static struct loadgen_stats *run(enum mode m, struct loadgen_config *cfg_in, struct server *s_out)
{
	struct event_base *base = event_base_new();
	struct server s;
	struct loadgen_config cfg;
	struct loadgen_stats *st = malloc(sizeof(*st));
	struct loadgen *lg;
	char err[256];

	assert_non_null(base);
	assert_non_null(st);
	memset(&s, 0, sizeof(s));
	s.mode = m;
	cfg = *cfg_in;
	cfg.port_base = server_start(base, &s, NULL);
	loadgen_stats_init(st, cfg.target);
	lg = loadgen_new(base, &cfg, st, err, sizeof(err));
	assert_non_null(lg);
	loadgen_start(lg);
	event_base_dispatch(base);
	loadgen_free(&lg);
	if (s_out)
		*s_out = s;
	server_stop(&s);
	event_base_free(base);
	return st;
}

static void test_echo_ok(void **state)
{
	struct loadgen_config cfg;
	struct loadgen_stats *st;

	(void)state;
	cfg_init(&cfg, 0, 20);
	st = run(ECHO, &cfg, NULL);
	assert_int_equal(st->started, 20);
	assert_int_equal(st->established, 20);
	assert_int_equal(st->echoed, 20);
	assert_int_equal(st->failed, 0);
	assert_int_equal(hist_count(&st->connect_us), 20);
	assert_int_equal(hist_count(&st->rtt_us), 20);
	assert_int_equal(st->open, 0);          /* everything closed at the end */
	assert_int_equal(st->connecting, 0);
	assert_int_equal(st->echoing, 0);
	assert_int_equal(st->phase, LOADGEN_DONE);
	assert_true(st->ramp_end_ns >= st->start_ns);
	assert_true(st->end_ns - st->ramp_end_ns >= 100 * 1000000ULL);  /* held 100 ms */
	assert_true(loadgen_success(st));
	free(st);
}

static void test_sources_bound_round_robin(void **state)
{
	struct loadgen_config cfg;
	struct loadgen_stats *st;
	struct server s;
	unsigned i, two = 0, three = 0;

	(void)state;
	cfg_init(&cfg, 0, 10);
	cfg.sources.first = addr_ipv4(0x7f000002);
	cfg.sources.count = 2;
	st = run(ECHO, &cfg, &s);
	assert_true(loadgen_success(st));
	assert_int_equal(s.npeers, 10);
	for (i = 0; i < s.npeers; i++) {
		two += s.src_seen[i] == 0x7f000002;
		three += s.src_seen[i] == 0x7f000003;
	}
	assert_int_equal(two, 5);
	assert_int_equal(three, 5);
	free(st);
}

static void test_refused_async_errno(void **state)
{
	struct event_base *base = event_base_new();
	struct loadgen_config cfg;
	struct loadgen_stats *st = malloc(sizeof(*st));
	struct loadgen *lg;
	char err[256];
	int fd;

	(void)state;
	cfg_init(&cfg, server_start(base, NULL, &fd), 12);
	loadgen_stats_init(st, cfg.target);
	lg = loadgen_new(base, &cfg, st, err, sizeof(err));
	assert_non_null(lg);
	loadgen_start(lg);
	event_base_dispatch(base);
	loadgen_free(&lg);
	close(fd);
	event_base_free(base);
	assert_int_equal(st->failed, 12);
	assert_int_equal(st->failures[DIAG_ECONNREFUSED], 12);
	assert_int_equal(st->failed_immediate, 0);   /* all came through the event callback */
	assert_int_equal(st->established, 0);
	assert_true(st->first_fail_ns[DIAG_ECONNREFUSED] != 0);
	assert_false(loadgen_success(st));
	free(st);
}

/* At EMFILE the diagnosis context must still be read (the loadgen gives up its reserve fd for that), and
 * it must show the limit in force at that moment. */
static void test_emfile_context(void **state)
{
	struct event_base *base = event_base_new();
	struct loadgen_config cfg;
	struct loadgen_stats *st = malloc(sizeof(*st));
	struct loadgen *lg;
	struct rlimit old, low;
	char err[256];
	int fd, probe;

	(void)state;
	cfg_init(&cfg, server_start(base, NULL, &fd), 100);
	cfg.concurrency = 100;
	loadgen_stats_init(st, cfg.target);
	lg = loadgen_new(base, &cfg, st, err, sizeof(err));
	assert_non_null(lg);
	probe = dup(0);  /* lowest free fd: about the number in use */
	assert_true(probe >= 0);
	close(probe);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)probe + 8;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	loadgen_start(lg);
	event_base_dispatch(base);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	loadgen_free(&lg);
	close(fd);
	event_base_free(base);
	assert_int_equal(st->failed, 100);
	assert_true(st->failures[DIAG_EMFILE] >= 80);
	assert_int_equal(st->failures[DIAG_EMFILE] + st->failures[DIAG_ECONNREFUSED], 100);
	assert_int_equal(st->failed_immediate, st->failures[DIAG_EMFILE]);
	assert_int_equal(st->snap_valid[DIAG_EMFILE], 1);
	assert_true(st->snap[DIAG_EMFILE].valid);
	assert_int_equal(st->snap[DIAG_EMFILE].nofile_soft, low.rlim_cur);
	assert_true(st->snap[DIAG_EMFILE].file_nr_present);   /* read with the one reserved descriptor */
	assert_int_equal(st->snap_valid[DIAG_ECONNREFUSED], 1);
	assert_int_equal(st->snap[DIAG_ECONNREFUSED].nofile_soft, low.rlim_cur);
	free(st);
}

static void test_immediate_bind_failure(void **state)
{
	struct loadgen_config cfg;
	struct loadgen_stats *st;

	(void)state;
	cfg_init(&cfg, 0, 5);
	/* 198.18.0.0/15 is reserved for benchmarks and not configured on this host: bind() fails at once,
	 * nothing is sent */
	cfg.sources.first = addr_ipv4(0xc612fffe);
	cfg.sources.count = 1;
	st = run(ECHO, &cfg, NULL);
	assert_int_equal(st->failed, 5);
	assert_int_equal(st->failed_immediate, 5);
	assert_int_equal(st->failures[DIAG_EADDRNOTAVAIL], 5);
	free(st);
}

static void test_extra_bytes_mismatch(void **state)
{
	struct loadgen_config cfg;
	struct loadgen_stats *st;

	(void)state;
	cfg_init(&cfg, 0, 8);
	st = run(ECHO_EXTRA, &cfg, NULL);
	assert_int_equal(st->failures[DIAG_ECHO_MISMATCH], 8);
	assert_int_equal(st->failed, 8);
	free(st);
}

static void test_wrong_bytes_mismatch(void **state)
{
	struct loadgen_config cfg;
	struct loadgen_stats *st;

	(void)state;
	cfg_init(&cfg, 0, 8);
	st = run(WRONG, &cfg, NULL);
	assert_int_equal(st->failures[DIAG_ECHO_MISMATCH], 8);
	assert_int_equal(st->echoed, 0);
	free(st);
}

static void test_peer_closed_during_hold(void **state)
{
	struct loadgen_config cfg;
	struct loadgen_stats *st;

	(void)state;
	cfg_init(&cfg, 0, 8);
	cfg.hold_ms = 2000;  /* ends early: nothing left to hold once the server closed all */
	st = run(ECHO_CLOSE, &cfg, NULL);
	assert_int_equal(st->echoed, 8);
	assert_int_equal(st->failures[DIAG_PEER_CLOSED], 8);
	assert_true(st->end_ns - st->start_ns < 1500 * 1000000ULL);
	assert_false(loadgen_success(st));
	free(st);
}

static void test_echo_timeout(void **state)
{
	struct loadgen_config cfg;
	struct loadgen_stats *st;

	(void)state;
	cfg_init(&cfg, 0, 4);
	cfg.echo_timeout_ms = 150;
	st = run(SILENT, &cfg, NULL);
	assert_int_equal(st->established, 4);
	assert_int_equal(st->failures[DIAG_ECHO_TIMEOUT], 4);
	free(st);
}

/* A listener that never accepts, with a backlog of 1: once its accept queue is full the kernel drops SYNs,
 * so the remaining connects hang until our deadline. */
static void test_connect_timeout(void **state)
{
	struct event_base *base = event_base_new();
	struct loadgen_config cfg;
	struct loadgen_stats *st = malloc(sizeof(*st));
	struct loadgen *lg;
	char err[256];
	int fd;

	(void)state;
	cfg_init(&cfg, server_start(base, NULL, &fd), 10);
	assert_int_equal(listen(fd, 1), 0);
	cfg.concurrency = 10;
	cfg.connect_timeout_ms = 300;
	cfg.echo_timeout_ms = 300;
	loadgen_stats_init(st, cfg.target);
	lg = loadgen_new(base, &cfg, st, err, sizeof(err));
	assert_non_null(lg);
	loadgen_start(lg);
	event_base_dispatch(base);
	loadgen_free(&lg);
	close(fd);
	event_base_free(base);
	assert_int_equal(st->failed, 10);
	assert_true(st->failures[DIAG_CONNECT_TIMEOUT] >= 5);
	assert_int_equal(st->failures[DIAG_CONNECT_TIMEOUT] + st->failures[DIAG_ECHO_TIMEOUT], 10);
	assert_int_equal(st->established, st->failures[DIAG_ECHO_TIMEOUT]);
	free(st);
}

static void test_rate_paces(void **state)
{
	struct loadgen_config cfg;
	struct loadgen_stats *st;
	double ramp_s;

	(void)state;
	cfg_init(&cfg, 0, 30);
	cfg.rate = 100;      /* burst 3, then 27 more at 100/s: about 0.27 s */
	cfg.hold_ms = 1;
	st = run(ECHO, &cfg, NULL);
	assert_true(loadgen_success(st));
	ramp_s = (double)(st->ramp_end_ns - st->start_ns) / 1e9;
	if (ramp_s < 0.25 || ramp_s > 1.0)
		fail_msg("ramp of 30 at 100/s took %.3f s", ramp_s);
	free(st);
}

/* ---- latency phase ---- */

/* The real coordinator (client/coord.h) on this process's one stats slot, as the single-process run drives it. */
struct coord_timer {
	struct coord co;
	struct loadgen_stats *st;
	bool dead;                 /* the one worker never ends early */
	struct event *ev;
};

static void coord_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct coord_timer *m = arg;

	(void)fd;
	(void)what;
	coord_tick(&m->co, m->st, 1, &m->dead, clock_now_ns());
}

/* Runs a phase of rate msg/s for ms milliseconds over n connections against a server in mode md, with a
 * send window of window_ms. */
static struct loadgen_stats *run_phase_window(enum mode md, uint64_t n, uint64_t rate, uint64_t ms, unsigned timeout_ms,
					      unsigned window_ms)
{
	struct event_base *base = loadgen_base_new();
	struct server s;
	struct loadgen_config cfg;
	struct loadgen_stats *st = malloc(sizeof(*st));
	struct loadgen *lg;
	struct client_options o;
	struct loadgen_ctl ctl;
	_Atomic uint64_t hold_until = 0;
	struct coord_timer m;
	struct timeval tv = { 0, 5000 };
	char err[256];

	assert_non_null(base);
	assert_non_null(st);
	memset(&s, 0, sizeof(s));
	s.mode = md;
	cfg_init(&cfg, 0, n);
	cfg.port_base = server_start(base, &s, NULL);
	cfg.hold_ms = 0;
	memset(&o, 0, sizeof(o));
	o.target = n;
	o.msg_rate = rate;
	o.msg_rates[0] = rate;
	o.n_rates = 1;
	o.duration_ms = ms;
	o.reply_timeout_ms = timeout_ms;
	o.slo_ms = 200;
	memset(&m, 0, sizeof(m));
	m.st = st;
	assert_int_equal(coord_init(&m.co, &o, o.target, o.msg_rate, &ctl, &hold_until, err, sizeof(err)), 0);
	cfg.ctl = &ctl;
	cfg.hold_until_ns = &hold_until;
	cfg.msg_rate = rate;
	cfg.duration_ms = ms;
	cfg.reply_timeout_ms = timeout_ms;
	cfg.send_window_ms = window_ms;
	cfg.workers = 1;
	loadgen_stats_init(st, cfg.target);
	m.ev = event_new(base, -1, EV_PERSIST, coord_timer_cb, &m);
	assert_non_null(m.ev);
	assert_int_equal(event_add(m.ev, &tv), 0);
	lg = loadgen_new(base, &cfg, st, err, sizeof(err));
	assert_non_null(lg);
	loadgen_start(lg);
	event_base_dispatch(base);
	loadgen_free(&lg);
	event_free(m.ev);
	server_stop(&s);
	event_base_free(base);
	/* one step, judged and ended by the coordinator, started at the time it published */
	assert_true(m.co.ended);
	assert_int_equal(m.co.n_rows, 1);
	assert_int_equal(m.co.stop, FINDMAX_STOP_TARGET);
	assert_int_equal(m.co.rows[0].answered, st->lat.answered);
	assert_int_equal(st->lat.state, LOADGEN_STEP_DONE);
	assert_int_equal(st->lat.start_ns, ctl.start_ns);
	coord_free(&m.co);
	/* every message is accounted for, whatever the server did */
	assert_int_equal(st->lat.sent, sched_total(rate, ms));
	assert_int_equal(st->lat.sent, st->lat.answered + st->lat.late + st->lat.lost);
	assert_int_equal(loadgen_lat_in_flight(&st->lat), 0);
	assert_int_equal(hist_count(&st->lat.rtt_us), st->lat.answered);
	return st;
}

static struct loadgen_stats *run_phase(enum mode md, uint64_t n, uint64_t rate, uint64_t ms, unsigned timeout_ms)
{
	return run_phase_window(md, n, rate, ms, timeout_ms, 1);
}

static void test_phase_echo(void **state)
{
	struct loadgen_stats *st;

	(void)state;
	st = run_phase(ECHO, 10, 400, 500, 1000);
	assert_int_equal(st->lat.sent, 200);
	assert_int_equal(st->lat.written, 200);
	assert_int_equal(st->lat.answered, 200);
	assert_int_equal(st->lat.lost, 0);
	assert_int_equal(st->lat.mismatched, 0);
	assert_int_equal(st->lat.conns, 10);
	assert_int_equal(st->lat.held, 10);
	assert_int_equal(st->failed, 0);
	assert_true(loadgen_success(st));
	/* the phase lasted the schedule (last message at 497.5 ms), not much longer */
	assert_true(st->lat.end_ns - st->lat.start_ns >= 497 * CLOCK_NS_PER_MS);
	assert_true(st->lat.end_ns - st->lat.start_ns < 900 * CLOCK_NS_PER_MS);
	assert_true(hist_max(&st->lat.rtt_us) < 200000);
	assert_true(st->lat.rss_bytes > 0);
	free(st);
}

/* A 50 ms send window: one message every 2.5 ms, written in bursts at most every 50 ms, so the first of
 * each burst waited about 47.5 ms after its scheduled time, and that wait is in its RTT; nothing is lost. */
static void test_phase_send_window(void **state)
{
	struct loadgen_stats *st;

	(void)state;
	st = run_phase_window(ECHO, 10, 400, 500, 1000, 50);
	assert_int_equal(st->lat.sent, 200);
	assert_int_equal(st->lat.written, 200);
	assert_int_equal(st->lat.answered, 200);
	assert_int_equal(st->lat.lost, 0);
	assert_true(st->lat.send_lag_max_us >= 40000);
	assert_true(hist_max(&st->lat.rtt_us) >= 40000);
	assert_true(hist_max(&st->lat.rtt_us) >= st->lat.send_lag_max_us);
	assert_true(hist_max(&st->lat.rtt_us) < 250000);
	free(st);
}

static void test_phase_mismatch(void **state)
{
	struct loadgen_stats *st;

	(void)state;
	st = run_phase(CORRUPT_FRAMES, 6, 300, 200, 1000);
	assert_int_equal(st->echoed, 6);                     /* the Hello echoes were fine */
	assert_int_equal(st->lat.mismatched, 6);             /* the first corrupt reply closes each connection */
	assert_int_equal(st->failures[DIAG_ECHO_MISMATCH], 6);
	assert_int_equal(st->lat.answered, 0);
	assert_int_equal(st->lat.lost, 60);
	assert_non_null(strstr(st->lat.mismatch_note, "reply byte 62 is '/', expected '.'"));
	free(st);
}

/* No replies at all: after the schedule and the reply timeout, every message is lost and each connection
 * is closed as an echo timeout. */
static void test_phase_silent(void **state)
{
	struct loadgen_stats *st;

	(void)state;
	st = run_phase(SILENT_FRAMES, 5, 100, 300, 150);
	assert_int_equal(st->lat.sent, 30);
	assert_int_equal(st->lat.written, 30);
	assert_int_equal(st->lat.lost, 30);
	assert_int_equal(st->lat.answered, 0);
	assert_int_equal(st->failures[DIAG_ECHO_TIMEOUT], 5);
	assert_true(st->lat.end_ns - st->lat.start_ns >= 450 * CLOCK_NS_PER_MS);   /* duration + timeout */
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_ok),
		cmocka_unit_test(test_sources_bound_round_robin),
		cmocka_unit_test(test_refused_async_errno),
		cmocka_unit_test(test_emfile_context),
		cmocka_unit_test(test_immediate_bind_failure),
		cmocka_unit_test(test_extra_bytes_mismatch),
		cmocka_unit_test(test_wrong_bytes_mismatch),
		cmocka_unit_test(test_peer_closed_during_hold),
		cmocka_unit_test(test_echo_timeout),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_rate_paces),
		cmocka_unit_test(test_phase_echo),
		cmocka_unit_test(test_phase_send_window),
		cmocka_unit_test(test_phase_mismatch),
		cmocka_unit_test(test_phase_silent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
