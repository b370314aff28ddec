/* libFuzzer target: the RESP2 reply framer of the Redis protocol (proto_resp.h), which sees whatever bytes a
 * server sends back, and the command builder (from --command). The first input byte is a chunking seed; the
 * rest is the reply stream. It is fed twice: whole (as one read) and in chunks of 1..64 bytes (as TCP may
 * split it). The oracle: both feeds see the same replies end at the same stream offsets with the same code,
 * and fail (or not) at the same byte; *used never exceeds what was given, a PARTIAL consumes every byte, a
 * DONE consumes at least one, and a note is a NUL-terminated string. The stream, as a command, either is
 * refused or builds an array that the framer reads back as exactly one reply. */
#include "fuzz_util.h"

#include "client/proto_resp.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 64

struct trace {
	size_t end[MAX_EVENTS];
	unsigned code[MAX_EVENTS];
	unsigned n;
	bool failed;
	size_t fail_at;
};

static void note_ok(const struct proto_event *ev)
{
	if (memchr(ev->note, '\0', sizeof(ev->note)) == NULL)
		fuzz_fail("resp_feed", "note not NUL-terminated");
}

static void run(const char *data, size_t len, unsigned seed, struct trace *t)
{
	struct resp_rx rx;
	struct proto_event ev;
	size_t pos = 0, n, off, used;
	enum proto_status st;

	memset(t, 0, sizeof(*t));
	resp_rx_init(&rx);
	while (pos < len) {
		n = len - pos;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 64;
			if (n > len - pos)
				n = len - pos;
		}
		for (off = 0; off < n;) {
			st = resp_feed(&rx, data + pos + off, n - off, &used, &ev);
			note_ok(&ev);
			if (used > n - off)
				fuzz_fail("resp_feed", "*used beyond the bytes given");
			if (st == PROTO_ERROR) {
				t->failed = true;
				t->fail_at = pos + off + used;
				return;
			}
			if (st == PROTO_PARTIAL) {
				if (used != n - off)
					fuzz_fail("resp_feed", "PARTIAL without consuming every byte");
				off = n;
				continue;
			}
			if (st != PROTO_DONE || used == 0)
				fuzz_fail("resp_feed", "a reply completed without consuming a byte");
			off += used;
			if (t->n < MAX_EVENTS) {
				t->end[t->n] = pos + off;
				t->code[t->n] = ev.code;
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
		fuzz_fail("resp_feed", "the same stream framed differently when split differently");
	for (i = 0; i < n; i++)
		if (a->end[i] != b->end[i] || a->code[i] != b->code[i])
			fuzz_fail("resp_feed", "a reply ended elsewhere, or with another code, when split");
}

static void command(const char *data, size_t len)
{
	char cmd[512], out[2048];
	struct trace t;
	size_t n;

	if (len >= sizeof(cmd))
		len = sizeof(cmd) - 1;
	memcpy(cmd, data, len);
	cmd[len] = '\0';
	n = resp_build_command(cmd, out, sizeof(out));
	if (n == 0)
		return;
	if (n >= sizeof(out))
		fuzz_fail("resp_build_command", "length beyond the buffer");
	run(out, n, 0, &t);
	if (t.failed || t.n != 1 || t.end[0] != n)
		fuzz_fail("resp_build_command", "a command that does not read back as one RESP array");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace whole, split;
	char *copy;

	if (size < 1)
		return 0;
	/* an exact-size copy so reads past the stream end are caught */
	copy = malloc(size - 1 + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data + 1, size - 1);
	run(copy, size - 1, 0, &whole);
	run(copy, size - 1, (unsigned)data[0] | 1u, &split);
	compare(&whole, &split);
	command(copy, size - 1);
	free(copy);
	return 0;
}
