/* WebSocket (RFC 6455) for --proto ws: the RFC's own key and accept, keys per connection, the handshake
 * response verified or refused when split at every byte, the server's frames (7-bit, 126 and 127 lengths,
 * fragments, control frames between them) framed alike at every split, pings answered with their pong
 * while idle and skipped in the phase, and every malformed frame refused with a note: masked, reserved
 * bits and opcodes, long or fragmented control frames, lengths not in their shortest form. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/proto_ws.h"

#define RFC_KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static const char good_response[] =
	"HTTP/1.1 101 Switching Protocols\r\n"
	"Upgrade: websocket\r\n"
	"Connection: Upgrade\r\n"
	"Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
	"Server: test\r\n"
	"\r\n";

/* A new connection id on st: its state zeroed, as the loadgen's side array is, then rx_init. */
static void fresh(const struct proto_ops *ops, const struct proto_cfg *c, uint64_t id, unsigned char *st)
{
	memset(st, 0, PROTO_STATE_MAX);
	ops->rx_init(c, id, st);
}

static void bind_rfc(struct ws_rx *rx)
{
	ws_rx_bind(rx, ws_digest(RFC_ACCEPT, WS_ACCEPT_LEN));
}

static void test_rfc_example(void **state)
{
	char acc[WS_ACCEPT_LEN + 1];

	(void)state;
	ws_accept(RFC_KEY, acc);
	assert_string_equal(acc, RFC_ACCEPT);
	assert_int_equal(sizeof(struct ws_rx), 32);
	assert_true(sizeof(struct ws_rx) <= PROTO_STATE_MAX);
}

static void test_keys(void **state)
{
	unsigned char seed[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }, other[16] = { 0 };
	char a[WS_KEY_LEN + 1], b[WS_KEY_LEN + 1], c[WS_KEY_LEN + 1];

	(void)state;
	ws_key(seed, 1, a);
	ws_key(seed, 2, b);
	ws_key(other, 1, c);
	assert_int_equal(strlen(a), WS_KEY_LEN);
	assert_memory_equal(a + 22, "==", 2);            /* 16 bytes: two padding characters */
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	ws_key(seed, 1, b);
	assert_string_equal(a, b);                       /* recomputed from the seed and the id */
}

/* Feeds s split in two at `cut`; returns the status of the call that consumed the last byte. */
static enum proto_status hello_split(const char *s, size_t len, size_t cut, size_t *end, struct proto_event *ev)
{
	struct ws_rx rx;
	enum proto_status st;
	size_t used;

	bind_rfc(&rx);
	st = ws_hello_feed(&rx, s, cut, &used, ev);
	if (st != PROTO_PARTIAL) {
		*end = used;
		return st;
	}
	assert_int_equal(used, cut);
	st = ws_hello_feed(&rx, s + cut, len - cut, &used, ev);
	*end = cut + used;
	return st;
}

static void test_handshake_every_split(void **state)
{
	const char *ok[] = {
		good_response,
		"HTTP/1.1 101 x\r\nupgrade:WebSocket\r\nCONNECTION: keep-alive, upgrade \r\n"
		"sec-websocket-accept:  " RFC_ACCEPT "  \r\n\r\n",
		"HTTP/1.1 101\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\nConnection: Upgrade\r\n"
		"Upgrade: websocket\r\nSec-WebSocket-Extensions:\r\n\r\n",
	};
	struct proto_event ev;
	struct ws_rx rx;
	size_t cut, end, used, len, i, k;

	(void)state;
	for (k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
		len = strlen(ok[k]);
		for (cut = 0; cut <= len; cut++) {
			assert_int_equal(hello_split(ok[k], len, cut, &end, &ev), PROTO_DONE);
			assert_int_equal(end, len);
		}
		/* a byte at a time */
		bind_rfc(&rx);
		for (i = 0; i + 1 < len; i++) {
			assert_int_equal(ws_hello_feed(&rx, ok[k] + i, 1, &used, &ev), PROTO_PARTIAL);
			assert_int_equal(used, 1);
		}
		assert_int_equal(ws_hello_feed(&rx, ok[k] + i, 1, &used, &ev), PROTO_DONE);
		assert_int_equal(used, 1);
	}
	/* frames may follow in the same read: the handshake stops at its blank line */
	{
		char both[256];

		len = strlen(good_response);
		memcpy(both, good_response, len);
		memcpy(both + len, "\x81\x02hi", 4);
		bind_rfc(&rx);
		assert_int_equal(ws_hello_feed(&rx, both, len + 4, &used, &ev), PROTO_DONE);
		assert_int_equal(used, len);
	}
}

static void test_handshake_refused(void **state)
{
	static const char r503[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
	struct proto_event ev;
	size_t cut, end;

	(void)state;
	for (cut = 0; cut <= strlen(r503); cut++) {
		assert_int_equal(hello_split(r503, strlen(r503), cut, &end, &ev), PROTO_REFUSED);
		assert_int_equal(ev.code, 503);
		assert_int_equal(end, 12);   /* "HTTP/1.1 503": the status says it all */
		assert_non_null(strstr(ev.note, "HTTP 503"));
		if ((cut == 0 || cut >= 24) && strstr(ev.note, "'HTTP/1.1 503 Service Una") == NULL)
			fail_msg("cut %zu: %s", cut, ev.note);
	}
	assert_int_equal(hello_split("HTTP/1.1 200 OK\r\n\r\n", 19, 19, &end, &ev), PROTO_REFUSED);
	assert_int_equal(ev.code, 200);
}

/* A response that must fail with a note containing want. */
static void bad_hello(const char *s, const char *want)
{
	struct proto_event ev;
	size_t cut, end, len = strlen(s);

	for (cut = 0; cut <= len; cut++) {
		assert_int_equal(hello_split(s, len, cut, &end, &ev), PROTO_ERROR);
		assert_true(end <= len);
		if (strstr(ev.note, want) == NULL)
			fail_msg("'%s' at cut %zu: note '%s' lacks '%s'", s, cut, ev.note, want);
	}
}

static void test_handshake_bad(void **state)
{
	(void)state;
	bad_hello("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo0\r\n\r\n", "is not the one for the key sent");
	bad_hello("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: " RFC_ACCEPT "x\r\n\r\n", "is not the one for the key sent");
	bad_hello("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n", "is not the one for the key sent");
	bad_hello("HTTP/1.1 101 S\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
		  "without 'Upgrade: websocket'");
	bad_hello("HTTP/1.1 101 S\r\nUpgrade: websockets\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
		  RFC_ACCEPT "\r\n\r\n", "without 'Upgrade: websocket'");
	bad_hello("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: close\r\nSec-WebSocket-Accept: "
		  RFC_ACCEPT "\r\n\r\n", "without 'Connection: Upgrade'");
	bad_hello("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		  "without Sec-WebSocket-Accept");
	bad_hello("HTTP/1.1 101 S\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\nSec-WebSocket-Accept: " RFC_ACCEPT
		  "\r\n\r\n", "two Sec-WebSocket-Accept headers");
	bad_hello("HTTP/1.1 101 S\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
		  "extension the client did not offer");
	bad_hello("HTTP/1.1 101 S\r\nSec-WebSocket-Protocol: chat\r\n\r\n", "subprotocol the client did not offer");
	bad_hello("HTTP/1.1 101 S\nUpgrade: websocket\r\n\r\n", "LF without CR");
	bad_hello("HTTP/1.1 101 S\r\nUpgrade: websocket\rX\r\n", "CR without LF");
	bad_hello("HTTP/1.1 101 S\r\nUpgrade: websocket\n\r\n", "LF without CR");
	bad_hello("HTTP/1.1 101 S\r\n folded\r\n\r\n", "a folded header line");
	bad_hello("HTTP/1.1 101 S\r\nBad Name: x\r\n\r\n", "not a header name");
	bad_hello("SSH-2.0-OpenSSH_9.2\r\n", "not an HTTP status line");
	bad_hello("HTTP/1.1 1x1 S\r\n\r\n", "not a 3-digit HTTP status");
	bad_hello("+PONG\r\n", "not an HTTP status line");
}

static void test_handshake_too_long(void **state)
{
	struct proto_event ev;
	struct ws_rx rx;
	char line[1024];
	size_t used, total = 0;
	enum proto_status st;

	(void)state;
	bind_rfc(&rx);
	assert_int_equal(ws_hello_feed(&rx, "HTTP/1.1 101 S\r\n", 16, &used, &ev), PROTO_PARTIAL);
	memset(line, 'a', sizeof(line));
	memcpy(line, "X-Pad: ", 7);
	memcpy(line + sizeof(line) - 2, "\r\n", 2);
	do {
		st = ws_hello_feed(&rx, line, sizeof(line), &used, &ev);
		total += sizeof(line);
	} while (st == PROTO_PARTIAL && total < 10 * WS_RESPONSE_MAX);
	assert_int_equal(st, PROTO_ERROR);
	assert_non_null(strstr(ev.note, "longer than 16384 bytes"));
}

/* ---- frames ---- */

#define BIG1 200     /* a 126 length */
#define BIG2 70000   /* a 127 length */

struct stream {
	char *buf;
	size_t len;
};

static void put(struct stream *s, const void *p, size_t n)
{
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

/* An unmasked server frame. */
static void frame(struct stream *s, unsigned b0, size_t len, char fill)
{
	unsigned char h[10];
	size_t i, hl;

	h[0] = (unsigned char)b0;
	if (len < 126) {
		h[1] = (unsigned char)len;
		hl = 2;
	} else if (len <= 0xffff) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		hl = 4;
	} else {
		h[1] = 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		hl = 10;
	}
	put(s, h, hl);
	for (i = 0; i < len; i++)
		s->buf[s->len++] = (char)(fill + (char)(i % 7));
}

/* The server's stream: every kind of frame, fragments with a ping between them, then a close. */
static struct stream server_stream(void)
{
	struct stream s = { malloc(BIG2 + 1024), 0 };

	assert_non_null(s.buf);
	frame(&s, 0x81, 5, 'a');           /* text, 7-bit length */
	frame(&s, 0x82, BIG1, 'b');        /* binary, 126 */
	frame(&s, 0x81, BIG2, 'c');        /* text, 127 */
	frame(&s, 0x89, 4, 'p');           /* ping */
	frame(&s, 0x8a, 0, 0);             /* pong, empty */
	frame(&s, 0x01, 3, 'f');           /* a fragmented text message: first */
	frame(&s, 0x89, 2, 'q');           /* a ping between its fragments */
	frame(&s, 0x00, 0, 0);             /* an empty continuation */
	frame(&s, 0x80, 130, 'g');         /* the last one, 126 */
	put(&s, "\x88\x05\x03\xe9" "bye", 7); /* close 1001 "bye" */
	return s;
}

static const struct ws_event want_events[] = {
	{ WS_OP_TEXT, 5, 0 }, { WS_OP_BINARY, BIG1, 0 }, { WS_OP_TEXT, BIG2, 0 }, { WS_OP_PING, 4, 0 },
	{ WS_OP_PONG, 0, 0 }, { WS_OP_PING, 2, 0 }, { WS_OP_TEXT, 3 + 130, 0 }, { WS_OP_CLOSE, 5, 1001 },
};
#define N_EVENTS (sizeof(want_events) / sizeof(want_events[0]))

static void open_rx(struct ws_rx *rx)
{
	struct proto_event ev;
	size_t used;

	bind_rfc(rx);
	assert_int_equal(ws_hello_feed(rx, good_response, strlen(good_response), &used, &ev), PROTO_DONE);
}

/* Feeds s in pieces: cut (two pieces) or, when step, pieces of step bytes. Pings are answered into
 * pongs (the answers of every call concatenated). Returns the events. */
static unsigned feed_frames(const struct stream *s, size_t cut, size_t step, struct ws_event *got,
			    size_t *ends, char *pongs, size_t *pong_len)
{
	struct ws_rx rx;
	struct proto_event ev;
	struct ws_event we;
	char answer[PROTO_MSG_MAX];
	struct ws_answer a;
	size_t pos = 0, n, off, used;
	unsigned done = 0, calls = 0;
	enum proto_status st;

	open_rx(&rx);
	*pong_len = 0;
	while (pos < s->len) {
		n = step ? step : (pos < cut ? cut - pos : s->len - pos);
		if (n > s->len - pos)
			n = s->len - pos;
		for (off = 0; off < n;) {
			a.buf = answer;
			a.max = sizeof(answer);
			a.len = 0;
			a.key = 0x01020304u + calls++;
			st = ws_frames_feed(&rx, s->buf + pos + off, n - off, &used, &a, &we, &ev);
			assert_true(used <= n - off);
			memcpy(pongs + *pong_len, answer, a.len);
			*pong_len += a.len;
			if (st == PROTO_ERROR)
				fail_msg("error at %zu (cut %zu step %zu): %s", pos + off + used, cut, step, ev.note);
			off += used;
			if (st == PROTO_DONE) {
				assert_true(done < N_EVENTS);
				got[done] = we;
				ends[done] = pos + off;
				done++;
			} else {
				assert_int_equal(off, n);
			}
		}
		pos += n;
	}
	return done;
}

/* The pongs are well-formed masked frames carrying the pings' payloads ("pppp" shifted, "qq" shifted). */
static void check_pongs(const char *p, size_t len)
{
	static const char payload1[] = { 'p', 'q', 'r', 's' }, payload2[] = { 'q', 'r' };
	const char *want[2] = { payload1, payload2 };
	size_t wl[2] = { 4, 2 }, pos = 0, i;
	unsigned k;
	unsigned char key[4];

	for (k = 0; k < 2; k++) {
		assert_true(pos + 6 + wl[k] <= len);
		assert_int_equal((unsigned char)p[pos], 0x8a);
		assert_int_equal((unsigned char)p[pos + 1], 0x80 | wl[k]);
		memcpy(key, p + pos + 2, 4);
		for (i = 0; i < wl[k]; i++)
			assert_int_equal((char)(p[pos + 6 + i] ^ (char)key[i % 4]), want[k][i]);
		pos += 6 + wl[k];
	}
	assert_int_equal(pos, len);
}

static void test_frames_every_split(void **state)
{
	struct stream s = server_stream();
	struct ws_event got[N_EVENTS], ref[N_EVENTS];
	size_t ends[N_EVENTS], ref_ends[N_EVENTS], cut, pong_len, steps[] = { 1, 2, 3, 7, 64, 1000 }, i;
	char *pongs = malloc(4096);
	unsigned n, k;

	(void)state;
	assert_non_null(pongs);
	n = feed_frames(&s, s.len, 0, ref, ref_ends, pongs, &pong_len);
	assert_int_equal(n, N_EVENTS);
	for (k = 0; k < N_EVENTS; k++) {
		assert_int_equal(ref[k].op, want_events[k].op);
		assert_int_equal(ref[k].bytes, want_events[k].bytes);
		assert_int_equal(ref[k].close_code, want_events[k].close_code);
	}
	assert_int_equal(ref_ends[N_EVENTS - 1], s.len);
	check_pongs(pongs, pong_len);
	/* every frame split at every byte: the stream in two pieces, cut anywhere */
	for (cut = 0; cut <= s.len; cut++) {
		n = feed_frames(&s, cut, 0, got, ends, pongs, &pong_len);
		assert_int_equal(n, N_EVENTS);
		assert_memory_equal(ends, ref_ends, sizeof(ends));
		for (k = 0; k < N_EVENTS; k++)
			assert_int_equal(got[k].bytes, ref[k].bytes);
		if (cut < 64 || cut + 64 > s.len || cut % 997 == 0)
			check_pongs(pongs, pong_len);
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		n = feed_frames(&s, 0, steps[i], got, ends, pongs, &pong_len);
		assert_int_equal(n, N_EVENTS);
		assert_memory_equal(ends, ref_ends, sizeof(ends));
		check_pongs(pongs, pong_len);
	}
	free(pongs);
	free(s.buf);
}

/* A stream (after the handshake) that must fail at byte at with a note containing want. */
static void bad_frames(const char *s, size_t len, size_t at, const char *want)
{
	struct ws_rx rx;
	struct proto_event ev;
	struct ws_event we;
	size_t used, pos = 0;
	enum proto_status st;

	open_rx(&rx);
	do {
		st = ws_frames_feed(&rx, s + pos, len - pos, &used, NULL, &we, &ev);
		pos += used;
	} while (st == PROTO_DONE);
	assert_int_equal(st, PROTO_ERROR);
	assert_int_equal(pos, at);
	if (strstr(ev.note, want) == NULL)
		fail_msg("note '%s' lacks '%s'", ev.note, want);
	/* and it stays failed */
	assert_int_equal(ws_frames_feed(&rx, "\x81\x00", 2, &used, NULL, &we, &ev), PROTO_ERROR);
}

static void test_frames_bad(void **state)
{
	(void)state;
	bad_frames("\x81\x85\x01\x02\x03\x04hello", 11, 1, "a masked frame from the server");
	bad_frames("\x81\x00\xc1\x00", 4, 2, "reserved bits set");
	bad_frames("\xa1\x00", 2, 0, "reserved bits set");
	bad_frames("\x83\x00", 2, 0, "a reserved opcode");
	bad_frames("\x8b\x00", 2, 0, "a reserved opcode");
	bad_frames("\x09\x00", 2, 0, "a fragmented control frame");
	bad_frames("\x89\x7e\x00\x80", 4, 1, "a control frame longer than 125 bytes");
	bad_frames("\x80\x00", 2, 0, "a continuation frame outside a message");
	bad_frames("\x01\x01x\x81\x00", 5, 3, "a new message inside a fragmented one");
	bad_frames("\x81\x7e\x00\x05hello", 9, 3, "not in its shortest form");
	bad_frames("\x81\x7f\x00\x00\x00\x00\x00\x00\xff\xff", 10, 9, "not in its shortest form");
	bad_frames("\x81\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10, 9, "top bit set");
	bad_frames("\x88\x01\x03", 3, 2, "a close frame with a 1-byte payload");
}

/* ---- the protocol table ---- */

static void cfg_ws(struct proto_cfg *c)
{
	unsigned i;

	proto_cfg_init(c);
	c->id = PROTO_WS;
	snprintf(c->host, sizeof(c->host), "127.0.0.1");
	c->port_base = 9000;
	c->ports = 4;
	c->path = "/echo";
	for (i = 0; i < 16; i++)
		c->ws_seed[i] = (unsigned char)(i * 37 + 1);
}

/* The response a correct server gives to req (its Sec-WebSocket-Key answered). */
static size_t response_for(const char *req, char *out, size_t outlen)
{
	const char *k = strstr(req, "Sec-WebSocket-Key: ");
	char acc[WS_ACCEPT_LEN + 1];

	assert_non_null(k);
	ws_accept(k + 19, acc);
	return (size_t)snprintf(out, outlen, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
}

/* Unmasks a client frame of 7-bit length: checks the mask bit, returns the payload's length. */
static size_t unmask(const char *f, size_t len, char *payload)
{
	size_t n = (unsigned char)f[1] & 0x7f, i;

	assert_true((unsigned char)f[1] & 0x80);
	assert_int_equal(len, 6 + n);
	for (i = 0; i < n; i++)
		payload[i] = (char)(f[6 + i] ^ f[2 + i % 4]);
	return n;
}

static void test_ws_ops(void **state)
{
	const struct proto_ops *ops = proto_get(PROTO_WS);
	unsigned char st[PROTO_STATE_MAX] __attribute__((aligned(8))) = { 0 };   /* the loadgen's calloc */
	struct match_frame f = { 7, 3, 123456789 };
	char req[PROTO_MSG_MAX], resp[512], out[PROTO_MSG_MAX], payload[128], frame_text[MATCH_FRAME_LEN];
	char reply[256], other[WS_KEY_LEN + 1];
	struct proto_event ev;
	struct proto_cfg c;
	size_t n, used, rl;

	(void)state;
	cfg_ws(&c);
	assert_ptr_equal(ops, &proto_ws_ops);
	assert_string_equal(proto_name(PROTO_WS), "ws");
	assert_true(ops->state_size <= PROTO_STATE_MAX);
	n = ops->hello(&c, 7, req, sizeof(req));
	assert_true(n > 0);
	req[n] = '\0';
	assert_non_null(strstr(req, "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:9003\r\n"));
	assert_non_null(strstr(req, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"));
	assert_non_null(strstr(req, "\r\nSec-WebSocket-Version: 13\r\n\r\n"));
	ws_key(c.ws_seed, 8, other);
	assert_null(strstr(req, other));                 /* another connection, another key */

	/* the connection's own accept establishes it; connection 8's does not */
	rl = response_for(req, resp, sizeof(resp));
	fresh(ops, &c, 8, st);
	assert_int_equal(ops->hello_feed(&c, st, resp, rl, &used, &ev), PROTO_ERROR);
	assert_non_null(strstr(ev.note, "is not the one for the key sent"));
	fresh(ops, &c, 7, st);
	assert_int_equal(ops->hello_feed(&c, st, resp, rl, &used, &ev), PROTO_DONE);
	assert_int_equal(used, rl);
	ops->rx_init(&c, 7, st);                            /* the phase: the framing stays */

	/* echo mode: a masked text frame of c1m's frame without its newline */
	n = ops->msg(&c, &f, out, sizeof(out));
	assert_int_equal(n, 6 + WS_PAYLOAD_LEN);
	assert_int_equal(proto_msg_bytes(&c), n);
	assert_int_equal((unsigned char)out[0], 0x81);
	assert_int_equal(unmask(out, n, payload), WS_PAYLOAD_LEN);
	assert_int_equal(match_format(&f, frame_text), 0);
	assert_memory_equal(payload, frame_text, WS_PAYLOAD_LEN);
	/* its echo, after a ping and an unsolicited pong, is one reply */
	memcpy(reply, "\x89\x01z\x8a\x00\x81\x3f", 7);
	memcpy(reply + 7, frame_text, WS_PAYLOAD_LEN);
	assert_int_equal(ops->reply_feed(&c, st, reply, 7 + WS_PAYLOAD_LEN, &used, &ev), PROTO_DONE);
	assert_int_equal(used, 7 + WS_PAYLOAD_LEN);
	/* split at every byte */
	for (n = 1; n < 7 + WS_PAYLOAD_LEN; n++) {
		assert_int_equal(ops->reply_feed(&c, st, reply, n, &used, &ev), PROTO_PARTIAL);
		assert_int_equal(used, n);
		assert_int_equal(ops->reply_feed(&c, st, reply + n, 7 + WS_PAYLOAD_LEN - n, &used, &ev), PROTO_DONE);
		assert_int_equal(used, 7 + WS_PAYLOAD_LEN - n);
	}
	/* an echo of another length */
	assert_int_equal(ops->reply_feed(&c, st, "\x81\x02hi", 4, &used, &ev), PROTO_ERROR);
	assert_non_null(strstr(ev.note, "a 2-byte text message where the 63-byte echo was expected"));

	/* a close frame in the phase */
	fresh(ops, &c, 7, st);
	assert_int_equal(ops->hello_feed(&c, st, resp, rl, &used, &ev), PROTO_DONE);
	assert_int_equal(ops->reply_feed(&c, st, "\x88\x02\x03\xe9", 4, &used, &ev), PROTO_ERROR);
	assert_non_null(strstr(ev.note, "close frame (status 1001) instead of a reply"));
	assert_true(ev.closing);

	/* ping mode: the payload in a ping, its reply a pong of the same length */
	c.ws_mode = "ping";
	fresh(ops, &c, 7, st);
	assert_int_equal(ops->hello_feed(&c, st, resp, rl, &used, &ev), PROTO_DONE);
	n = ops->msg(&c, &f, out, sizeof(out));
	assert_int_equal((unsigned char)out[0], 0x89);
	assert_int_equal(unmask(out, n, payload), WS_PAYLOAD_LEN);
	assert_memory_equal(payload, frame_text, WS_PAYLOAD_LEN);
	reply[0] = '\x8a';
	reply[1] = '\x3f';
	memcpy(reply + 2, frame_text, WS_PAYLOAD_LEN);
	assert_int_equal(ops->reply_feed(&c, st, reply, 2 + WS_PAYLOAD_LEN, &used, &ev), PROTO_DONE);
	reply[0] = '\x81';
	assert_int_equal(ops->reply_feed(&c, st, reply, 2 + WS_PAYLOAD_LEN, &used, &ev), PROTO_ERROR);
	assert_non_null(strstr(ev.note, "a 63-byte text message where a pong was expected"));
}

static void test_idle(void **state)
{
	const struct proto_ops *ops = proto_get(PROTO_WS);
	unsigned char st[PROTO_STATE_MAX] __attribute__((aligned(8))) = { 0 };   /* the loadgen's calloc */
	static const char ping[] = "\x89\x05hello";
	char req[PROTO_MSG_MAX], resp[512], answer[PROTO_MSG_MAX], pong[64], payload[8];
	struct proto_event ev;
	struct proto_cfg c;
	size_t rl, used, alen, plen, cut;

	(void)state;
	cfg_ws(&c);
	(void)ops->hello(&c, 3, req, sizeof(req));
	rl = response_for(req, resp, sizeof(resp));
	for (cut = 1; cut <= 7; cut++) {
		fresh(ops, &c, 3, st);
		assert_int_equal(ops->hello_feed(&c, st, resp, rl, &used, &ev), PROTO_DONE);
		plen = 0;
		assert_int_equal(ops->idle_feed(&c, st, ping, cut, &used, answer, sizeof(answer), &alen, &ev),
				 cut == 7 ? PROTO_DONE : PROTO_PARTIAL);
		memcpy(pong + plen, answer, alen);
		plen += alen;
		if (cut < 7) {
			assert_int_equal(ops->idle_feed(&c, st, ping + cut, 7 - cut, &used, answer, sizeof(answer), &alen,
							&ev), PROTO_DONE);
			memcpy(pong + plen, answer, alen);
			plen += alen;
		}
		assert_int_equal((unsigned char)pong[0], 0x8a);
		assert_int_equal(unmask(pong, plen, payload), 5);
		assert_memory_equal(payload, "hello", 5);
	}
	/* a pong is fine while idle; a message or a close is not */
	assert_int_equal(ops->idle_feed(&c, st, "\x8a\x00", 2, &used, answer, sizeof(answer), &alen, &ev), PROTO_DONE);
	assert_int_equal(alen, 0);
	assert_int_equal(ops->idle_feed(&c, st, "\x81\x01x", 3, &used, answer, sizeof(answer), &alen, &ev),
			 PROTO_ERROR);
	assert_non_null(strstr(ev.note, "a 1-byte text message while the connection was idle"));
	fresh(ops, &c, 3, st);
	assert_int_equal(ops->hello_feed(&c, st, resp, rl, &used, &ev), PROTO_DONE);
	assert_int_equal(ops->idle_feed(&c, st, "\x88\x00", 2, &used, answer, sizeof(answer), &alen, &ev),
			 PROTO_ERROR);
	assert_non_null(strstr(ev.note, "close frame (no status) while the connection was idle"));
}

static void test_cfg(void **state)
{
	struct proto_cfg c;
	char err[256];
	enum proto_id id;

	(void)state;
	cfg_ws(&c);
	assert_int_equal(proto_cfg_check(&c, err, sizeof(err)), 0);
	c.ws_mode = "ping";
	assert_int_equal(proto_cfg_check(&c, err, sizeof(err)), 0);
	c.ws_mode = "pong";
	assert_int_equal(proto_cfg_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "--ws-mode 'pong' is neither echo nor ping");
	c.ws_mode = NULL;
	c.path = "echo";
	assert_int_equal(proto_cfg_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "--path 'echo' must start with '/'");
	c.path = "/";
	c.id = PROTO_REDIS;
	c.ws_mode = "echo";
	assert_int_equal(proto_cfg_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "--ws-mode is for --proto ws");
	c.ws_mode = NULL;
	c.path = "/x";
	assert_int_equal(proto_cfg_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "--path is for --proto http or ws");
	assert_int_equal(proto_from_name("ws", &id), 0);
	assert_int_equal(id, PROTO_WS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_handshake_every_split),
		cmocka_unit_test(test_handshake_refused),
		cmocka_unit_test(test_handshake_bad),
		cmocka_unit_test(test_handshake_too_long),
		cmocka_unit_test(test_frames_every_split),
		cmocka_unit_test(test_frames_bad),
		cmocka_unit_test(test_ws_ops),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_cfg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
