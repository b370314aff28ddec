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

static enum proto_status feed(void *st, const char *data, size_t len, size_t *used, struct proto_event *ev)
{
	return resp_feed(st, data, len, used, ev);
}

static void run(const char *data, size_t len, unsigned seed, struct fuzz_trace *t)
{
	struct resp_rx rx;

	resp_rx_init(&rx);
	fuzz_split_feed("resp_feed", feed, &rx, data, len, seed, t);
}

static void command(const char *data, size_t len)
{
	char cmd[512], out[2048];
	struct fuzz_trace t;
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
	if (t.last != PROTO_PARTIAL || t.n != 1 || t.end[0] != n)
		fuzz_fail("resp_build_command", "a command that does not read back as one RESP array");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_trace whole, split;
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
	fuzz_trace_compare("resp_feed", &whole, &split);
	command(copy, size - 1);
	free(copy);
	return 0;
}
