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

static enum proto_status feed(void *st, const char *data, size_t len, size_t *used, struct proto_event *ev)
{
	return http1_feed(st, data, len, used, ev);
}

/* Feeds data in chunks (seed 0 = all at once); stops at the first error. */
static void run(const char *data, size_t len, bool head, unsigned seed, struct fuzz_trace *t)
{
	struct http1_rx rx;

	http1_rx_init(&rx, head);
	fuzz_split_feed("http1_feed", feed, &rx, data, len, seed, t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_trace whole, split;
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
	fuzz_trace_compare("http1_feed", &whole, &split);
	proto_cfg_init(&cfg);
	cfg.id = PROTO_HTTP;
	proto_http_ops.rx_init(&cfg, 1, st);
	if (size > 1) {
		(void)proto_http_ops.hello_feed(&cfg, st, copy, size - 1, &used, &ev);
		if (used > size - 1)
			fuzz_fail("hello_feed", "*used beyond the bytes given");
		if (memchr(ev.note, '\0', sizeof(ev.note)) == NULL)
			fuzz_fail("hello_feed", "note not NUL-terminated");
	}
	free(copy);
	return 0;
}
