/* RESP2 for c1m-client (the future --proto redis): the command builder and the streaming reply framer.
 *
 * A reply is one RESP2 value: +simple, -error, :integer, $bulk (and the null $-1), *array (nested, and the
 * null *-1). The framer needs no stack for nesting: it counts the values still owed by the reply (one at
 * the start; an array of n adds n), so the reply ends when that count reaches zero, whatever its depth.
 * Its whole state is struct resp_rx, 24 bytes, and it keeps no copy of the bytes, so each connection frames
 * its replies incrementally, split or coalesced in any way. Everything here is pure: it is fuzzed
 * (fuzz.proto_resp). */
#ifndef C1M_PROTO_RESP_H
#define C1M_PROTO_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "client/proto.h"

#define RESP_LINE_MAX   65536              /* bytes of a simple string or error line at most */
#define RESP_BULK_MAX   (512ull << 20)     /* bytes of one bulk string at most (Redis proto-max-bulk-len) */
#define RESP_ARRAY_MAX  (1ull << 24)       /* elements of one array at most */
#define RESP_ERR_CODE   1u                 /* ev->code of a reply that holds an -error */

/* Receive state of one connection (24 bytes). */
struct resp_rx {
	uint64_t pending;            /* values the reply still owes (0 before its first byte = 1) */
	uint64_t num;                /* the number being read; in a bulk: its bytes still to come */
	uint32_t line;               /* bytes of the current simple line so far */
	uint8_t phase;               /* where in a value (proto_resp.c: enum resp_phase) */
	uint8_t type;                /* the current value's type byte: + - : $ * */
	uint8_t flags;               /* a '-' seen in the number, digits seen, an error in this reply */
	uint8_t pad;                 /* the handshake's check of +PONG (proto_resp.c) */
};

/* Resets rx for the next reply. */
void resp_rx_init(struct resp_rx *rx);

/* Consumes data[0..len) of the reply stream. PROTO_DONE: one reply ended after *used bytes; ev->code is
 * RESP_ERR_CODE if it held an -error (ev->note: the error's text as far as it arrived in this call), 0
 * otherwise; rx is ready for the next reply. PROTO_PARTIAL: all consumed. PROTO_ERROR: malformed at
 * data[*used] (ev->note says what and quotes the first bytes); rx then stays failed. */
enum proto_status resp_feed(struct resp_rx *rx, const char *data, size_t len, size_t *used,
			    struct proto_event *ev);

/* The command "SET k v" (words split at blanks) as a RESP array of bulk strings. Returns its length, 0 if
 * cmd has no word or a control byte, or the array does not fit outlen. Pure. */
size_t resp_build_command(const char *cmd, char *out, size_t outlen);

/* The options of --proto redis: --command and --hello each build a RESP array within PROTO_MSG_MAX. 0, or
 * -1 with err. */
int resp_check(const struct proto_cfg *cfg, char *err, size_t errlen);

#endif
