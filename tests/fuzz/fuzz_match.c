/* libFuzzer target: the reply matcher of the latency phase (match.h), which sees whatever bytes a server
 * sends back. match_parse gets the raw input (any length) and, when it has one, its first frame. Then a
 * connection is simulated: an 18-byte header chooses the connection id, schedule and how many frames were
 * sent; the rest of the input is the received stream, fed to match_feed in chunks of varying size. The
 * oracle is the sent byte stream itself: while the received bytes equal it the matcher must never report
 * a mismatch, and once they differ it must report the first differing byte exactly. */
#include "fuzz_util.h"

#include "client/match.h"

#include <stdlib.h>
#include <string.h>

#define HDR_LEN    18
#define MAX_FRAMES 8

static uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void frame_for(uint64_t conn, uint64_t sched0, uint32_t seq, struct match_frame *f)
{
	f->conn = conn;
	f->seq = seq;
	f->sched_ns = sched0 + (uint64_t)seq * 1000000u;
}

static void check_parse(const uint8_t *data, size_t size)
{
	char err[FUZZ_ERR_LEN] = "", again[MATCH_FRAME_LEN];
	struct match_frame f;

	if (match_parse((const char *)data, size, &f, err, sizeof(err)) < 0) {
		fuzz_check_err("match_parse", err, sizeof(err), false);
		return;
	}
	/* Strict parsing means exactly one spelling per frame: it must format back byte for byte. */
	if (match_format(&f, again) < 0 || memcmp(again, data, MATCH_FRAME_LEN) != 0)
		fuzz_fail("match_parse", "accepted a frame that does not format back to the same bytes");
}

static void simulate(const uint8_t *data, size_t size)
{
	char sent[MAX_FRAMES * MATCH_FRAME_LEN], note[MATCH_NOTE_LEN];
	uint64_t conn = load64(data + 1) % (MATCH_CONN_MAX + 1), sched0 = load64(data + 9) >> 8;
	unsigned nframes = data[0] % (MAX_FRAMES + 1), chunk_seed = data[17];
	const char *rx_data = (const char *)data + HDR_LEN;
	size_t rx_len = size - HDR_LEN, pos = 0, used, n, sent_len = (size_t)nframes * MATCH_FRAME_LEN;
	struct match_rx rx = { 0, 0 };
	struct match_frame expect;
	enum match_status st;
	unsigned i;

	for (i = 0; i < nframes; i++) {
		frame_for(conn, sched0, i, &expect);
		if (match_format(&expect, sent + (size_t)i * MATCH_FRAME_LEN) < 0)
			fuzz_fail("match_format", "refused a connection id <= MATCH_CONN_MAX");
	}
	while (pos < rx_len) {
		/* Chunks of 1..64 bytes, the way TCP may split or coalesce the echo. */
		n = fuzz_chunk(&chunk_seed, rx_len - pos);
		frame_for(conn, sched0, rx.seq, &expect);
		st = match_feed(&rx, &expect, sent_len, rx_data + pos, n, &used);
		if (used > n)
			fuzz_fail("match_feed", "*used beyond the bytes given");
		if (rx.off >= MATCH_FRAME_LEN)
			fuzz_fail("match_feed", "rx.off left outside the frame");
		if (st == MATCH_MISMATCH || st == MATCH_EXTRA) {
			size_t at = pos + used;

			if (at > sent_len)
				fuzz_fail("match_feed", "accepted bytes beyond everything that was sent");
			if (at < sent_len && rx_data[at] == sent[at])
				fuzz_fail("match_feed", "reported a mismatch on a byte that was sent exactly so");
			if (st == MATCH_EXTRA && at < sent_len)
				fuzz_fail("match_feed", "reported extra bytes inside what was sent");
			if (st == MATCH_MISMATCH && at >= sent_len)
				fuzz_fail("match_feed", "reported a mismatch where the bytes are extra");
			if (memcmp(rx_data, sent, at) != 0)
				fuzz_fail("match_feed", "accepted bytes that differ from what was sent");
			(void)match_explain(&expect, rx.off + (unsigned)used, (unsigned char)rx_data[at], note,
					    sizeof(note));
			(void)match_status_name(st);
			return;
		}
		pos += used;
		if (used == 0 && n > 0)
			fuzz_fail("match_feed", "made no progress without reporting a mismatch");
	}
	if (memcmp(rx_data, sent, rx_len < sent_len ? rx_len : sent_len) != 0 || rx_len > sent_len)
		fuzz_fail("match_feed", "the whole stream was accepted but differs from what was sent");
	if ((uint64_t)rx.seq * MATCH_FRAME_LEN + rx.off != rx_len)
		fuzz_fail("match_feed", "rx does not account for every byte accepted");
}

/* rx state and expected frame straight from the input, corrupt values included (rx.off >= 64, a seq
 * that does not match): the matcher must refuse them without reading out of bounds. */
static void raw_feed(const uint8_t *data, size_t size)
{
	struct match_rx rx = { .seq = (uint32_t)load64(data + 1), .off = data[0] };
	struct match_frame expect = { .conn = load64(data + 9), .seq = rx.seq ^ (data[17] & 1u),
				      .sched_ns = load64(data + 1) };
	char note[MATCH_NOTE_LEN];
	size_t used = 0;

	(void)match_feed(&rx, &expect, load64(data + 5), (const char *)data + HDR_LEN, size - HDR_LEN, &used);
	if (used > size - HDR_LEN)
		fuzz_fail("match_feed", "*used beyond the bytes given (raw state)");
	(void)match_explain(&expect, data[0], data[17], note, sizeof(note));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	check_parse(data, size);
	if (size >= MATCH_FRAME_LEN)
		check_parse(data, MATCH_FRAME_LEN);
	if (size < HDR_LEN)
		return 0;
	/* An exact-size copy so reads past the stream end are caught even inside libFuzzer's buffer. */
	copy = malloc(size);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	simulate(copy, size);
	raw_feed(copy, size);
	free(copy);
	return 0;
}
