/* Frame format, strict parser and the streaming echo matcher of the latency phase (see match.h). The
 * matcher never indexes data beyond len nor the frame beyond MATCH_FRAME_LEN, whatever rx holds: a corrupt
 * rx->off is treated as a mismatch instead of trusted. */
#include "client/match.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/util/num.h"

#define PAD_START 47   /* "c1m " 4 + conn 10 + ' ' + seq 10 + ' ' + sched 20 + ' ' */

int match_format(const struct match_frame *f, char out[MATCH_FRAME_LEN])
{
	char tmp[MATCH_FRAME_LEN];

	/* Called twice per message (to send it, and to rebuild it for its reply), so no printf here. */
	if (f->conn > MATCH_CONN_MAX || num_put_fixed(tmp + 4, 10, f->conn) < 0 ||
	    num_put_fixed(tmp + 15, 10, f->seq) < 0 || num_put_fixed(tmp + 26, 20, f->sched_ns) < 0)
		return -1;
	memcpy(tmp, "c1m ", 4);
	tmp[14] = tmp[25] = tmp[46] = ' ';
	memset(tmp + PAD_START, '.', MATCH_FRAME_LEN - 1 - PAD_START);
	tmp[MATCH_FRAME_LEN - 1] = '\n';
	memcpy(out, tmp, MATCH_FRAME_LEN);
	return 0;
}

/* Exactly `digits` decimal digits at p into *out; -1 on a non-digit or a value above max. */
static int digits_u64(const char *p, unsigned digits, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned i, d;

	for (i = 0; i < digits; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		d = (unsigned)(p[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int match_parse(const char *buf, size_t len, struct match_frame *f, char *err, size_t errlen)
{
	uint64_t conn, seq, sched;
	unsigned i;

	if (len != MATCH_FRAME_LEN) {
		snprintf(err, errlen, "frame is %zu bytes, not %d", len, MATCH_FRAME_LEN);
		return -1;
	}
	if (memcmp(buf, "c1m ", 4) != 0) {
		snprintf(err, errlen, "frame does not start with 'c1m '");
		return -1;
	}
	if (digits_u64(buf + 4, 10, MATCH_CONN_MAX, &conn) < 0 || buf[14] != ' ') {
		snprintf(err, errlen, "bad connection field");
		return -1;
	}
	if (digits_u64(buf + 15, 10, UINT32_MAX, &seq) < 0 || buf[25] != ' ') {
		snprintf(err, errlen, "bad sequence field");
		return -1;
	}
	if (digits_u64(buf + 26, 20, UINT64_MAX, &sched) < 0 || buf[46] != ' ') {
		snprintf(err, errlen, "bad scheduled-time field");
		return -1;
	}
	for (i = PAD_START; i < MATCH_FRAME_LEN - 1; i++)
		if (buf[i] != '.') {
			snprintf(err, errlen, "bad padding at byte %u", i);
			return -1;
		}
	if (buf[MATCH_FRAME_LEN - 1] != '\n') {
		snprintf(err, errlen, "frame does not end with a newline");
		return -1;
	}
	f->conn = conn;
	f->seq = (uint32_t)seq;
	f->sched_ns = sched;
	return 0;
}

enum match_status match_feed(struct match_rx *rx, const struct match_frame *expect, uint64_t sent_bytes,
			     const char *data, size_t len, size_t *used)
{
	char frame[MATCH_FRAME_LEN];
	uint64_t received, allowed;
	size_t n, i, room;

	*used = 0;
	if (rx->off >= MATCH_FRAME_LEN || expect->seq != rx->seq || match_format(expect, frame) < 0)
		return MATCH_MISMATCH;
	received = (uint64_t)rx->seq * MATCH_FRAME_LEN + rx->off;
	allowed = sent_bytes > received ? sent_bytes - received : 0;
	room = MATCH_FRAME_LEN - rx->off;
	n = len < room ? len : room;
	if (n > allowed)
		n = (size_t)allowed;
	for (i = 0; i < n; i++)
		if (data[i] != frame[rx->off + i]) {
			*used = i;
			return MATCH_MISMATCH;
		}
	if (n == room) {
		rx->seq++;
		rx->off = 0;
		*used = n;
		return MATCH_FRAME;
	}
	if (n < len) {  /* stopped by `allowed`: the next byte was never sent */
		*used = n;
		return MATCH_EXTRA;
	}
	rx->off = (uint8_t)(rx->off + n);
	*used = n;
	return MATCH_PARTIAL;
}

/* A byte as 'c' when printable, else as 0xNN. */
static void show_byte(unsigned char c, char out[8])
{
	if (c >= 0x20 && c < 0x7f && c != '\'')
		snprintf(out, 8, "'%c'", c);
	else
		snprintf(out, 8, "0x%02x", c);
}

int match_explain(const struct match_frame *expect, unsigned offset, unsigned char got, char *buf, size_t len)
{
	char frame[MATCH_FRAME_LEN], g[8], w[8];

	if (offset >= MATCH_FRAME_LEN || match_format(expect, frame) < 0)
		return snprintf(buf, len, "reply did not match message %" PRIu32 " of connection %" PRIu64,
				expect->seq, expect->conn);
	show_byte(got, g);
	show_byte((unsigned char)frame[offset], w);
	return snprintf(buf, len, "connection %" PRIu64 " message %" PRIu32 ": reply byte %u is %s, expected %s",
			expect->conn, expect->seq, offset, g, w);
}

const char *match_status_name(enum match_status s)
{
	switch (s) {
	case MATCH_PARTIAL:  return "partial";
	case MATCH_FRAME:    return "frame";
	case MATCH_MISMATCH: return "mismatch";
	case MATCH_EXTRA:    return "extra";
	}
	return "?";
}
