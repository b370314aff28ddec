/* The frame format and the echo matcher, driven with fabricated byte streams: frames split at every
 * offset, several coalesced into one read, garbage, a reply for the wrong sequence number, bytes beyond
 * what was sent, and a strict parser that rejects every malformed field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "client/match.h"

static void frame_of(uint64_t conn, uint32_t seq, uint64_t sched, char out[MATCH_FRAME_LEN])
{
	struct match_frame f = { conn, seq, sched };

	assert_int_equal(match_format(&f, out), 0);
}

static void test_format_layout(void **state)
{
	char b[MATCH_FRAME_LEN + 1];
	struct match_frame f = { 12, 3, 123456789012345ULL };

	(void)state;
	assert_int_equal(match_format(&f, b), 0);
	b[MATCH_FRAME_LEN] = '\0';
	assert_string_equal(b, "c1m 0000000012 0000000003 00000123456789012345 ................\n");
	f.conn = MATCH_CONN_MAX + 1;
	assert_int_equal(match_format(&f, b), -1);
	f.conn = MATCH_CONN_MAX;
	f.seq = UINT32_MAX;
	f.sched_ns = UINT64_MAX;
	assert_int_equal(match_format(&f, b), 0);
	assert_memory_equal(b, "c1m 9999999999 4294967295 18446744073709551615 ", 47);
}

static void test_parse_roundtrip_and_rejects(void **state)
{
	char b[MATCH_FRAME_LEN], bad[MATCH_FRAME_LEN], err[128];
	struct match_frame f;
	unsigned i;

	(void)state;
	frame_of(4242, 77, 987654321ULL, b);
	assert_int_equal(match_parse(b, sizeof(b), &f, err, sizeof(err)), 0);
	assert_int_equal(f.conn, 4242);
	assert_int_equal(f.seq, 77);
	assert_int_equal(f.sched_ns, 987654321ULL);
	frame_of(MATCH_CONN_MAX, UINT32_MAX, UINT64_MAX, b);
	assert_int_equal(match_parse(b, sizeof(b), &f, err, sizeof(err)), 0);
	assert_int_equal(f.sched_ns, UINT64_MAX);
	/* wrong length */
	assert_int_equal(match_parse(b, sizeof(b) - 1, &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "63 bytes"));
	/* every single-byte corruption is rejected, except a digit replaced by another digit */
	frame_of(1, 2, 3, b);
	for (i = 0; i < MATCH_FRAME_LEN; i++) {
		memcpy(bad, b, sizeof(b));
		bad[i] = (b[i] >= '0' && b[i] <= '9') ? 'x' : '7';
		assert_int_equal(match_parse(bad, sizeof(bad), &f, err, sizeof(err)), -1);
	}
	/* seq above 2^32 - 1 and sched above 2^64 - 1 overflow */
	frame_of(1, 2, 3, b);
	memcpy(b + 15, "4294967296", 10);
	assert_int_equal(match_parse(b, sizeof(b), &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "sequence"));
	frame_of(1, 2, 3, b);
	memcpy(b + 26, "18446744073709551616", 20);
	assert_int_equal(match_parse(b, sizeof(b), &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "scheduled"));
	frame_of(1, 2, 3, b);
	memcpy(b + 26, "99999999999999999999", 20);
	assert_int_equal(match_parse(b, sizeof(b), &f, err, sizeof(err)), -1);
}

/* A connection's byte stream: frames 0..n-1 of conn 9, frame i scheduled at 1000 * (i + 1). */
#define NF 5
static void stream(char out[NF * MATCH_FRAME_LEN])
{
	unsigned i;

	for (i = 0; i < NF; i++)
		frame_of(9, i, 1000ULL * (i + 1), out + i * MATCH_FRAME_LEN);
}

/* Feeds buf in chunks of `chunk` bytes, matching frame after frame; returns the frames completed. */
static unsigned feed_all(const char *buf, size_t len, size_t chunk, uint64_t sent, enum match_status *last)
{
	struct match_rx rx = { 0, 0 };
	struct match_frame f;
	size_t pos = 0, end, used;
	unsigned frames = 0;
	enum match_status st = MATCH_PARTIAL;

	while (pos < len) {
		end = pos + chunk < len ? pos + chunk : len;
		while (pos < end) {
			f.conn = 9;
			f.seq = rx.seq;
			f.sched_ns = 1000ULL * (rx.seq + 1);
			st = match_feed(&rx, &f, sent, buf + pos, end - pos, &used);
			if (st == MATCH_MISMATCH || st == MATCH_EXTRA) {
				*last = st;
				return frames;
			}
			assert_true(used > 0);
			assert_true(used <= end - pos);
			pos += used;
			if (st == MATCH_FRAME) {
				frames++;
				assert_int_equal(rx.seq, frames);
				assert_int_equal(rx.off, 0);
			}
		}
	}
	*last = st;
	return frames;
}

static void test_split_and_coalesced(void **state)
{
	char s[NF * MATCH_FRAME_LEN];
	enum match_status st;
	size_t chunk;

	(void)state;
	stream(s);
	/* every chunk size from 1 byte (fully split) to all frames in one read (coalesced) */
	for (chunk = 1; chunk <= sizeof(s); chunk++) {
		assert_int_equal(feed_all(s, sizeof(s), chunk, sizeof(s), &st), NF);
		assert_int_equal(st, MATCH_FRAME);
	}
	/* a partial last frame: PARTIAL with the offset kept */
	assert_int_equal(feed_all(s, sizeof(s) - 10, 100, sizeof(s), &st), NF - 1);
	assert_int_equal(st, MATCH_PARTIAL);
}

static void test_garbage_and_wrong_frame(void **state)
{
	char s[NF * MATCH_FRAME_LEN], g[NF * MATCH_FRAME_LEN];
	struct match_rx rx = { 0, 0 };
	struct match_frame f = { 9, 0, 1000 };
	enum match_status st;
	size_t used, i;

	(void)state;
	stream(s);
	/* corrupting any byte anywhere stops the match exactly there, whatever the chunking */
	for (i = 0; i < sizeof(s); i += 13) {
		memcpy(g, s, sizeof(s));
		g[i] ^= 0x20;
		assert_int_equal(feed_all(g, sizeof(g), 7, sizeof(g), &st), i / MATCH_FRAME_LEN);
		assert_int_equal(st, MATCH_MISMATCH);
	}
	/* the reply to frame 1 when frame 0 is expected (a reordering or a duplicate) */
	st = match_feed(&rx, &f, sizeof(s), s + MATCH_FRAME_LEN, MATCH_FRAME_LEN, &used);
	assert_int_equal(st, MATCH_MISMATCH);
	assert_int_equal(used, 24);               /* the last digit of the seq field */
	assert_int_equal(rx.seq, 0);              /* unchanged on error */
	assert_int_equal(rx.off, 0);
	/* the caller's expected frame must be the next one */
	f.seq = 1;
	assert_int_equal(match_feed(&rx, &f, sizeof(s), s, 10, &used), MATCH_MISMATCH);
	/* a corrupt offset is not trusted */
	rx.off = MATCH_FRAME_LEN;
	f.seq = 0;
	assert_int_equal(match_feed(&rx, &f, sizeof(s), s, 10, &used), MATCH_MISMATCH);
	/* random binary garbage */
	for (i = 0; i < sizeof(g); i++)
		g[i] = (char)(i * 131 + 7);
	assert_int_equal(feed_all(g, sizeof(g), 64, sizeof(g), &st), 0);
	assert_int_equal(st, MATCH_MISMATCH);
}

/* Bytes beyond everything sent: after the frames, in the middle of a partly written frame, or any byte
 * before anything was sent. */
static void test_extra_bytes(void **state)
{
	char s[NF * MATCH_FRAME_LEN + 4];
	struct match_rx rx = { 0, 0 };
	struct match_frame f = { 9, 0, 1000 };
	enum match_status st;
	size_t used;

	(void)state;
	stream(s);
	memcpy(s + NF * MATCH_FRAME_LEN, "c1m ", 4);  /* looks like the start of a frame: still extra */
	assert_int_equal(feed_all(s, sizeof(s), 1000, NF * MATCH_FRAME_LEN, &st), NF);
	assert_int_equal(st, MATCH_EXTRA);
	/* frame 0 written up to byte 20 only: an echo of 21 bytes has one too many */
	assert_int_equal(match_feed(&rx, &f, 20, s, 21, &used), MATCH_EXTRA);
	assert_int_equal(used, 20);
	assert_int_equal(rx.off, 0);
	assert_int_equal(match_feed(&rx, &f, 20, s, 20, &used), MATCH_PARTIAL);
	assert_int_equal(rx.off, 20);
	assert_int_equal(match_feed(&rx, &f, 64, s + 20, 44, &used), MATCH_FRAME);
	assert_int_equal(used, 44);
	assert_int_equal(rx.seq, 1);
	/* nothing sent at all */
	rx.seq = 0;
	rx.off = 0;
	assert_int_equal(match_feed(&rx, &f, 0, s, 1, &used), MATCH_EXTRA);
	assert_int_equal(used, 0);
	/* an empty read is a no-op */
	assert_int_equal(match_feed(&rx, &f, 64, s, 0, &used), MATCH_PARTIAL);
	assert_int_equal(used, 0);
	assert_int_equal(rx.off, 0);
}

static void test_explain(void **state)
{
	struct match_frame f = { 12, 3, 5 };
	char b[MATCH_NOTE_LEN];

	(void)state;
	match_explain(&f, 24, 'x', b, sizeof(b));
	assert_string_equal(b, "connection 12 message 3: reply byte 24 is 'x', expected '3'");
	match_explain(&f, 63, 0, b, sizeof(b));
	assert_string_equal(b, "connection 12 message 3: reply byte 63 is 0x00, expected 0x0a");
	match_explain(&f, 64, 0, b, sizeof(b));
	assert_non_null(strstr(b, "did not match message 3"));
	assert_string_equal(match_status_name(MATCH_EXTRA), "extra");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_layout),
		cmocka_unit_test(test_parse_roundtrip_and_rejects),
		cmocka_unit_test(test_split_and_coalesced),
		cmocka_unit_test(test_garbage_and_wrong_frame),
		cmocka_unit_test(test_extra_bytes),
		cmocka_unit_test(test_explain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
