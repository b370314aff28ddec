/* The per-connection client memory of hiredis's async API (with its libevent adapter) against a libevent
 * bufferevent with c1m's RESP framer (src/client/proto_resp.c), both holding N connections to one Redis
 * server after one PING/+PONG each, as c1m-client's handshake leaves them. It prints the RSS delta per
 * connection. Not part of the build (a measurement behind a README figure); build and run:
 *   cc -O2 -Isrc -o /tmp/resp_mem bench/tools/resp_mem.c build/src/client/libc1m_client.a \
 *      build/src/common/model/libc1m_model.a build/src/common/sys/libc1m_sys.a \
 *      build/src/common/util/libc1m_util.a $(pkg-config --cflags --libs hiredis libevent) -lhttp_parser -lm
 *   /tmp/resp_mem hiredis|own|hold PORT N
 * own keeps each connection's bufferevent; hold frees it after +PONG and keeps a bare event, as
 * c1m-client's loadgen does while holding (struct conn, loadgen_int.h). */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "client/proto_resp.h"

static unsigned want, ponged, failed;
static struct event_base *base;

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL || fscanf(f, "%ld %ld", &pages, &rss) != 2)
		exit(2);
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void got(int ok)
{
	if (ok)
		ponged++;
	else
		failed++;
	if (ponged + failed == want)
		event_base_loopbreak(base);
}

static void hi_reply(redisAsyncContext *c, void *r, void *priv)
{
	redisReply *reply = r;

	(void)c, (void)priv;
	got(reply != NULL && reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "PONG") == 0);
}

static int hold;  /* mode "hold": after +PONG, a bare event, as c1m-client's loadgen holds a connection */

struct own_conn {
	struct bufferevent *bev;
	struct event *ev;
	struct resp_rx rx;
};

static void held_read(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	exit(3);   /* the server said something while idle: not expected here */
}

static void own_read(struct bufferevent *bev, void *arg)
{
	struct own_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct proto_event ev;
	size_t len = evbuffer_get_length(in), used = 0;
	const char *p = (const char *)evbuffer_pullup(in, -1);
	enum proto_status st = resp_feed(&c->rx, p, len, &used, &ev);

	evbuffer_drain(in, used);
	if (st == PROTO_DONE && hold) {
		evutil_socket_t fd = bufferevent_getfd(bev);

		bufferevent_free(bev);
		c->bev = NULL;
		c->ev = event_new(base, fd, EV_READ | EV_PERSIST, held_read, c);
		event_add(c->ev, NULL);
	}
	if (st == PROTO_DONE || st == PROTO_ERROR)
		got(st == PROTO_DONE && ev.code == 0);
}

static void own_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev, (void)arg;
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))
		got(0);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	long before, after;
	size_t heap0, heap1;
	unsigned i, port;
	int hiredis;

	if (argc != 4 || (strcmp(argv[1], "hiredis") && strcmp(argv[1], "own") && strcmp(argv[1], "hold"))) {
		fprintf(stderr, "usage: resp_mem hiredis|own|hold PORT N\n");
		return 2;
	}
	hiredis = strcmp(argv[1], "hiredis") == 0;
	hold = strcmp(argv[1], "hold") == 0;
	port = (unsigned)atoi(argv[2]);
	want = (unsigned)atoi(argv[3]);
	base = event_base_new();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	before = rss_kib();
	heap0 = mallinfo2().uordblks;
	for (i = 0; i < want; i++) {
		if (hiredis) {
			redisAsyncContext *c = redisAsyncConnect("127.0.0.1", (int)port);

			if (c == NULL || c->err || redisLibeventAttach(c, base) != REDIS_OK ||
			    redisAsyncCommand(c, hi_reply, NULL, "PING") != REDIS_OK) {
				fprintf(stderr, "hiredis connection %u failed\n", i);
				return 1;
			}
		} else {
			struct own_conn *c = calloc(1, sizeof(*c));

			c->bev = bufferevent_socket_new(base, -1, hold ? 0 : BEV_OPT_CLOSE_ON_FREE);
			resp_rx_init(&c->rx);
			bufferevent_setcb(c->bev, own_read, NULL, own_event, c);
			bufferevent_enable(c->bev, EV_READ);
			if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
				fprintf(stderr, "connection %u failed\n", i);
				return 1;
			}
			bufferevent_write(c->bev, "*1\r\n$4\r\nPING\r\n", 14);
		}
	}
	event_base_dispatch(base);
	after = rss_kib();
	heap1 = mallinfo2().uordblks;
	/* RSS keeps what was freed after the handshake (malloc's arena); the heap in use does not */
	printf("%s: %u connections, %u +PONG, %u failed, RSS %+ld KiB = %.0f B/conn, heap in use %.0f B/conn\n",
	       argv[1], want, ponged, failed, after - before, ponged ? (after - before) * 1024.0 / ponged : 0.0,
	       ponged ? ((double)heap1 - (double)heap0) / ponged : 0.0);
	return failed != 0;
}
