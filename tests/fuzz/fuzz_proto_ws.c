/* libFuzzer target: the WebSocket parser of --proto ws (proto_ws.h), which sees whatever bytes a server
 * sends: the handshake response, then frames. Input: a chunking seed byte, a mode byte, then the stream.
 * Mode bit 0 puts a correct 101 response (for the RFC 6455 example key) in front of the stream, so most
 * inputs reach the frames; bit 1 answers pings (as while idle), with a fixed masking key. The stream is fed
 * twice, whole and in chunks of 1..64 bytes; the oracle: the handshake ends (or is refused, or fails) at the
 * same offset, the same messages and control frames end at the same offsets with the same type, length and
 * close status, the stream fails (or not) at the same byte, and the pongs written are the same bytes and
 * unmask to the pings' payloads. *used never exceeds what was given, a PARTIAL consumes everything, notes
 * are NUL-terminated. Finally the stream's first bytes as a client frame (masked) must come back through
 * the unmasking, and the parser must refuse that frame as masked. */
#include "fuzz_util.h"

#include "client/proto_ws.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 64
#define PONG_KEY   0xa1b2c3d4u

static const char good_response[] =
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

struct trace {
	enum proto_status hello;
	size_t hello_end;
	struct ws_event ev[MAX_EVENTS];
	size_t end[MAX_EVENTS];
	unsigned n;
	bool failed;
	size_t fail_at;
	char *pongs;
	size_t pong_len;
};

static void note_ok(const struct proto_event *ev)
{
	if (memchr(ev->note, '\0', sizeof(ev->note)) == NULL)
		fuzz_fail("proto_ws", "note not NUL-terminated");
}

static void run(const char *data, size_t len, unsigned seed, bool answer, struct trace *t)
{
	struct ws_rx rx;
	struct proto_event ev;
	struct ws_event we;
	struct ws_answer a;
	char buf[WS_PONG_MAX];
	size_t pos = 0, n, off, used;
	enum proto_status st;
	bool open = false;

	t->hello = PROTO_PARTIAL;
	t->hello_end = 0;
	t->n = 0;
	t->failed = false;
	t->fail_at = 0;
	t->pong_len = 0;
	ws_rx_bind(&rx, ws_digest("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WS_ACCEPT_LEN));
	while (pos < len) {
		n = seed ? fuzz_chunk(&seed, len - pos) : len - pos;
		for (off = 0; off < n;) {
			if (!open) {
				st = ws_hello_feed(&rx, data + pos + off, n - off, &used, &ev);
			} else {
				a.buf = buf;
				a.max = sizeof(buf);
				a.len = 0;
				a.key = PONG_KEY;
				st = ws_frames_feed(&rx, data + pos + off, n - off, &used, answer ? &a : NULL, &we, &ev);
				if (answer) {
					if (a.len > sizeof(buf))
						fuzz_fail("ws_frames_feed", "answer beyond its buffer");
					memcpy(t->pongs + t->pong_len, buf, a.len);
					t->pong_len += a.len;
				}
			}
			note_ok(&ev);
			if (used > n - off)
				fuzz_fail("proto_ws", "*used beyond the bytes given");
			if (st == PROTO_PARTIAL) {
				if (used != n - off)
					fuzz_fail("proto_ws", "PARTIAL without consuming every byte");
				off = n;
				continue;
			}
			if (st == PROTO_ERROR || st == PROTO_REFUSED) {
				if (!ev.note[0])
					fuzz_fail("proto_ws", "an error or a refusal without a note");
				t->failed = true;
				t->fail_at = pos + off + used;
				if (!open)
					t->hello = st;
				return;
			}
			if (st != PROTO_DONE || used == 0)
				fuzz_fail("proto_ws", "DONE without consuming a byte");
			off += used;
			if (!open) {
				open = true;
				t->hello = PROTO_DONE;
				t->hello_end = pos + off;
				continue;
			}
			if (t->n < MAX_EVENTS) {
				t->ev[t->n] = we;
				t->end[t->n] = pos + off;
			}
			t->n++;
		}
		pos += n;
	}
}

static void compare(const struct trace *a, const struct trace *b)
{
	unsigned i, n = a->n < MAX_EVENTS ? a->n : MAX_EVENTS;

	if (a->hello != b->hello || a->hello_end != b->hello_end)
		fuzz_fail("ws_hello_feed", "the handshake ended elsewhere when split differently");
	if (a->n != b->n || a->failed != b->failed || (a->failed && a->fail_at != b->fail_at))
		fuzz_fail("ws_frames_feed", "the same stream framed differently when split differently");
	for (i = 0; i < n; i++)
		if (a->end[i] != b->end[i] || a->ev[i].op != b->ev[i].op || a->ev[i].bytes != b->ev[i].bytes ||
		    a->ev[i].close_code != b->ev[i].close_code)
			fuzz_fail("ws_frames_feed", "a frame ended elsewhere, or differed, when split");
	if (a->pong_len != b->pong_len || memcmp(a->pongs, b->pongs, a->pong_len) != 0)
		fuzz_fail("ws_frames_feed", "other pongs when split differently");
}

/* The pongs written are masked frames with PONG_KEY, one whole pong per completed ping; a ping the stream
 * ends inside leaves a partial last one. */
static void check_pongs(const struct trace *t)
{
	size_t pos = 0, len;
	unsigned i, pings = 0, whole = 0;

	for (i = 0; i < t->n && i < MAX_EVENTS; i++)
		pings += t->ev[i].op == WS_OP_PING;
	while (t->pong_len - pos >= 2) {
		if ((unsigned char)t->pongs[pos] != 0x8a || !((unsigned char)t->pongs[pos + 1] & 0x80))
			fuzz_fail("ws_frames_feed", "a pong that is not a masked pong frame");
		len = (unsigned char)t->pongs[pos + 1] & 0x7f;
		if (len > WS_CONTROL_MAX)
			fuzz_fail("ws_frames_feed", "a pong longer than a control frame may be");
		if (t->pong_len - pos < 6 + len)
			break;
		if (memcmp(t->pongs + pos + 2, "\xa1\xb2\xc3\xd4", 4) != 0)
			fuzz_fail("ws_frames_feed", "a pong masked with another key than the one given");
		pos += 6 + len;
		whole++;
	}
	if (t->n <= MAX_EVENTS && !t->failed && whole != pings)
		fuzz_fail("ws_frames_feed", "not one whole pong per ping");
}

static void client_frame(const char *data, size_t len)
{
	char out[300], back[300];
	struct ws_rx rx;
	struct proto_event ev;
	struct ws_event we;
	size_t n, i, h, used;

	if (len > 250)
		len = 250;
	n = ws_build_frame(WS_OP_BINARY, 0x5eed1234u, data, len, out, sizeof(out));
	if (n == 0)
		fuzz_fail("ws_build_frame", "a short payload did not fit");
	h = len < 126 ? 2 : 4;
	if (n != h + 4 + len || ((unsigned char)out[1] & 0x80) == 0)
		fuzz_fail("ws_build_frame", "not a masked frame of the payload's length");
	for (i = 0; i < len; i++)
		back[i] = (char)(out[h + 4 + i] ^ out[h + i % 4]);
	if (memcmp(back, data, len) != 0)
		fuzz_fail("ws_build_frame", "the payload does not unmask to itself");
	ws_rx_bind(&rx, 0);
	if (ws_hello_feed(&rx, good_response, sizeof(good_response) - 1, &used, &ev) != PROTO_ERROR)
		fuzz_fail("ws_hello_feed", "an Accept for another digest was taken");
	ws_rx_bind(&rx, ws_digest("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WS_ACCEPT_LEN));
	if (ws_hello_feed(&rx, good_response, sizeof(good_response) - 1, &used, &ev) != PROTO_DONE)
		fuzz_fail("ws_hello_feed", "the RFC's example refused");
	if (ws_frames_feed(&rx, out, n, &used, NULL, &we, &ev) != PROTO_ERROR || used != 1)
		fuzz_fail("ws_frames_feed", "a masked frame was not refused at its mask bit");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace whole, split;
	size_t pre, len;
	char *copy;
	bool answer;

	if (size < 2)
		return 0;
	pre = (data[1] & 1) ? sizeof(good_response) - 1 : 0;
	answer = (data[1] & 2) != 0;
	len = pre + size - 2;
	/* an exact-size copy so reads past the stream end are caught */
	copy = malloc(len ? len : 1);
	whole.pongs = malloc(len * 4 + 16);
	split.pongs = malloc(len * 4 + 16);
	if (copy == NULL || whole.pongs == NULL || split.pongs == NULL)
		abort();
	memcpy(copy, good_response, pre);
	memcpy(copy + pre, data + 2, size - 2);
	run(copy, len, 0, answer, &whole);
	run(copy, len, (unsigned)data[0] | 1u, answer, &split);
	compare(&whole, &split);
	if (answer)
		check_pongs(&whole);
	client_frame((const char *)data + 2, size - 2);
	free(whole.pongs);
	free(split.pongs);
	free(copy);
	return 0;
}
