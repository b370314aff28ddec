/* Request frames of the latency phase and the matcher that checks their echoes. A frame is exactly
 * MATCH_FRAME_LEN bytes of text: "c1m <conn:10> <seq:10> <sched_ns:20> ................\n" (fields
 * zero-padded, then dots to the fixed length), so a server sees an ordinary line protocol and a human can
 * read a capture. conn is the connection's id, seq its per-connection message number, sched_ns the
 * clock_now_ns() time the message was scheduled for (not when it was written: see sched.h).
 *
 * The matcher keeps no copy of received bytes. An echo server answers a connection's frames in the order
 * they were sent, so the next reply can only be the connection's oldest unanswered frame, whose content the
 * caller can rebuild from (conn, seq) and the schedule; match_feed compares incoming bytes against it at
 * the current offset. Per connection that is 5 bytes of state (struct match_rx) instead of a reassembly
 * buffer, whatever way the stream is split or coalesced. Everything here is pure and bounds-checked: it
 * is meant to be fuzzed with arbitrary byte streams. */
#ifndef C1M_MATCH_H
#define C1M_MATCH_H

#include <stddef.h>
#include <stdint.h>

#define MATCH_FRAME_LEN   64
#define MATCH_CONN_MAX    9999999999ULL  /* largest conn id that fits its 10 digits */
#define MATCH_NOTE_LEN    128            /* room for match_explain's text */

struct match_frame {
	uint64_t conn;                 /* connection id, <= MATCH_CONN_MAX */
	uint32_t seq;                  /* message number on that connection, from 0 */
	uint64_t sched_ns;             /* scheduled send time, clock_now_ns() nanoseconds */
};

/* Receive state of one connection: frames fully matched, and bytes of the next one matched so far. */
struct match_rx {
	uint32_t seq;                  /* frames matched = number of the frame being received */
	uint8_t off;                   /* bytes of it matched, < MATCH_FRAME_LEN */
};

enum match_status {
	MATCH_PARTIAL,                 /* every byte given matched; the frame is not complete yet */
	MATCH_FRAME,                   /* the expected frame completed after *used bytes */
	MATCH_MISMATCH,                /* data[*used] differs from the frame that was sent */
	MATCH_EXTRA,                   /* data[*used] is beyond every byte sent on this connection */
};

/* Writes the frame (exactly MATCH_FRAME_LEN bytes, no NUL). Returns -1 if conn > MATCH_CONN_MAX. */
int match_format(const struct match_frame *f, char out[MATCH_FRAME_LEN]);

/* Parses one frame of exactly MATCH_FRAME_LEN bytes, strictly (prefix, digits, separators, padding,
 * newline, no overflow). Returns 0, or -1 with the reason in err. */
int match_parse(const char *buf, size_t len, struct match_frame *f, char *err, size_t errlen);

/* Consumes data[0..len) against `expect`, the frame numbered rx->seq that was sent on this connection,
 * from offset rx->off; sent_bytes is every byte written on the connection so far (frames before it
 * included), so bytes no one sent are caught. Stops at the end of that frame so the caller can record it
 * and build the next expected frame. On MATCH_PARTIAL and MATCH_FRAME rx is advanced; on MATCH_MISMATCH
 * and MATCH_EXTRA rx is unchanged and *used is the index of the offending byte. expect->seq must equal
 * rx->seq (otherwise MATCH_MISMATCH at 0). */
enum match_status match_feed(struct match_rx *rx, const struct match_frame *expect, uint64_t sent_bytes,
			     const char *data, size_t len, size_t *used);

/* One line on a mismatch: which frame, which byte, what was expected and what came. Pure. */
int match_explain(const struct match_frame *expect, unsigned offset, unsigned char got, char *buf, size_t len);

const char *match_status_name(enum match_status s);

#endif
