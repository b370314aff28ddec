/* libFuzzer target: the HTTP response framer of --proto http (proto_http.h), which sees whatever bytes a
 * server sends back. The first input byte chooses HEAD or not and a chunking seed; the rest is the response
 * stream. It is fed twice: whole (as one read) and in chunks of 1..64 bytes (as TCP may split it). The
 * oracle: both feeds see the same responses end at the same stream offsets with the same code and close
 * flag, and fail (or not) at the same byte; *used never exceeds what was given, a PARTIAL consumes every
 * byte, and a note is a NUL-terminated string. The handshake table entry gets the stream too. */
#include "fuzz_util.h"

#include "client/proto.h"
#include "client/proto_http.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 64

struct trace {
	size_t end[MAX_EVENTS];      /* stream offset after each response */
	unsigned code[MAX_EVENTS];
	bool closing[MAX_EVENTS];
	unsigned n;
	bool failed;
	size_t fail_at;              /* stream offset of the offending byte */
};

static void note_ok(const struct proto_event *ev)
{
	if (memchr(ev->note, '\0', sizeof(ev->note)) == NULL)
		fuzz_fail("http1_feed", "note not NUL-terminated");
}

/* Feeds data in chunks (chunk 0 = all at once); stops at the first error. */
static void run(const char *data, size_t len, bool head, unsigned seed, struct trace *t)
{
	struct http1_rx rx;
	struct proto_event ev;
	size_t pos = 0, n, off, used;
	enum proto_status st;

	memset(t, 0, sizeof(*t));
	http1_rx_init(&rx, head);
	while (pos < len) {
		n = len - pos;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 64;
			if (n > len - pos)
				n = len - pos;
		}
		for (off = 0; off < n;) {
			st = http1_feed(&rx, data + pos + off, n - off, &used, &ev);
			note_ok(&ev);
			if (used > n - off)
				fuzz_fail("http1_feed", "*used beyond the bytes given");
			if (st == PROTO_ERROR) {
				t->failed = true;
				t->fail_at = pos + off + used;
				return;
			}
			if (st == PROTO_PARTIAL) {
				if (used != n - off)
					fuzz_fail("http1_feed", "PARTIAL without consuming every byte");
				off = n;
				continue;
			}
			if (st != PROTO_DONE || used == 0)
				fuzz_fail("http1_feed", "a response completed without consuming a byte");
			off += used;
			if (t->n < MAX_EVENTS) {
				t->end[t->n] = pos + off;
				t->code[t->n] = ev.code;
				t->closing[t->n] = ev.closing;
			}
			t->n++;
		}
		pos += n;
	}
}

static void compare(const struct trace *a, const struct trace *b)
{
	unsigned i, n = a->n < MAX_EVENTS ? a->n : MAX_EVENTS;

	if (a->n != b->n || a->failed != b->failed || (a->failed && a->fail_at != b->fail_at))
		fuzz_fail("http1_feed", "the same stream framed differently when split differently");
	for (i = 0; i < n; i++)
		if (a->end[i] != b->end[i] || a->code[i] != b->code[i] || a->closing[i] != b->closing[i])
			fuzz_fail("http1_feed", "a response ended elsewhere, or with another status, when split");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace whole, split;
	struct proto_cfg cfg;
	unsigned char st[PROTO_STATE_MAX];
	struct proto_event ev;
	char *copy;
	size_t used;

	if (size < 1)
		return 0;
	/* an exact-size copy so reads past the stream end are caught */
	copy = malloc(size - 1 + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data + 1, size - 1);
	run(copy, size - 1, data[0] & 1, 0, &whole);
	run(copy, size - 1, data[0] & 1, (unsigned)data[0] | 1u, &split);
	compare(&whole, &split);
	proto_cfg_init(&cfg);
	cfg.id = PROTO_HTTP;
	proto_http_ops.rx_init(&cfg, 1, st);
	if (size > 1) {
		(void)proto_http_ops.hello_feed(&cfg, st, copy, size - 1, &used, &ev);
		if (used > size - 1)
			fuzz_fail("hello_feed", "*used beyond the bytes given");
		note_ok(&ev);
	}
	free(copy);
	return 0;
}
