/* libFuzzer target: counting /proc/net/tcp{,6} rows per (source, destination, port) tuple
 * (explain_tuples_scan) into the caller's fixed open-addressing table. The table is tried tiny (so it
 * fills and rows are dropped) and roomy; the text is given whole and in the buffer of its exact length.
 * The counts must add up: every parsed row is either counted into a tuple or dropped or skipped. */
#include "fuzz_util.h"

#include "common/model/explain.h"

#include <stdlib.h>
#include <string.h>

static void scan(const char *text, size_t len, unsigned cap, unsigned lo, unsigned hi)
{
	struct explain_tuple *slots = calloc(cap, sizeof(*slots));
	struct explain_tuples t;
	uint64_t sum = 0;
	unsigned i;

	if (slots == NULL)
		abort();
	explain_tuples_init(&t, slots, cap, lo, hi);
	explain_tuples_scan(&t, text, len);
	if (t.used > t.cap)
		fuzz_fail("explain_tuples_scan", "more tuples than slots");
	if (t.sockets + t.dropped > t.rows)
		fuzz_fail("explain_tuples_scan", "counted or dropped more rows than were parsed");
	for (i = 0; i < cap; i++) {
		if (slots[i].family != 0 && slots[i].time_wait > slots[i].sockets)
			fuzz_fail("explain_tuples_scan", "a tuple has more TIME_WAIT sockets than sockets");
		sum += slots[i].sockets;
	}
	if (sum != t.sockets)
		fuzz_fail("explain_tuples_scan", "per-tuple counts do not add up to the total");
	free(slots);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size > 0 ? size : 1);

	if (text == NULL)
		abort();
	if (size > 0)
		memcpy(text, data, size);
	scan(text, size, 2, 32768, 60999);
	scan(text, size, 256, 1, 65535);
	free(text);
	return 0;
}
