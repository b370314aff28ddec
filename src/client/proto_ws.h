/* WebSocket (RFC 6455) for c1m-client (--proto ws): the upgrade request, the streaming parser of the
 * handshake response and of the server's frames, and the client's masked frames.
 *
 * A connection is established after a "101 Switching Protocols" response with "Upgrade: websocket",
 * "Connection: Upgrade" and the Sec-WebSocket-Accept that belongs to the key the client sent: base64 of
 * SHA-1(key + the RFC's GUID). The key is 16 bytes, base64, made from the run's random seed (read once at
 * start) and the connection id, so it is unique per connection and unknown to the server beforehand. The
 * parser keeps no copy of the response, so it cannot compare the Accept text: it keeps a 64-bit FNV-1a
 * digest of the expected value (computed from the seed and the connection id when the connection starts,
 * ws_rx_bind) and hashes the received value as it streams past.
 *
 * After the handshake the parser frames the server's stream: text, binary and continuation frames make a
 * message; ping, pong and close are control frames (FIN set, at most 125 bytes). Lengths of 7 bits, 16 bits
 * (126) and 64 bits (127), split at any byte. A masked server frame, a reserved bit (no extension is
 * offered) or a reserved opcode is malformed. A ping is answered while the bytes stream in: the pong's
 * header as soon as the ping's is complete, then each payload byte masked, so no payload is buffered.
 *
 * The whole per-connection state is struct ws_rx, 32 bytes (PROTO_STATE_MAX). Text payloads are not
 * checked for valid UTF-8 (the echo's length is). Everything here is pure (SHA-1 is libcrypto's): it is
 * fuzzed (fuzz.proto_ws). */
#ifndef C1M_PROTO_WS_H
#define C1M_PROTO_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/proto.h"

#define WS_KEY_LEN        24     /* base64 of 16 bytes */
#define WS_ACCEPT_LEN     28     /* base64 of a 20-byte SHA-1 */
#define WS_RESPONSE_MAX   16384  /* bytes of a handshake response at most */
#define WS_CONTROL_MAX    125    /* payload bytes of a control frame at most */
#define WS_PONG_MAX       (6 + WS_CONTROL_MAX)  /* a masked pong: header, key, payload */
#define WS_PAYLOAD_LEN    (MATCH_FRAME_LEN - 1) /* a message's payload: c1m's frame without its newline */

/* Opcodes (RFC 6455 5.2). */
enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* Receive state of one connection (32 bytes). The handshake and the frames reuse fields. */
struct ws_rx {
	uint64_t left;     /* frames: payload bytes of the frame still to come, or its extended length so far;
			      handshake: FNV-1a-64 of the Sec-WebSocket-Accept value so far */
	uint64_t accept;   /* FNV-1a-64 of the Sec-WebSocket-Accept this connection's key expects */
	uint32_t count;    /* frames: payload bytes of the current message so far (saturating);
			      handshake: bytes of the response so far */
	uint32_t mask;     /* frames: masking key of the pong being answered; handshake: the status code */
	uint16_t pos;      /* frames: payload length of the control frame, or extended-length bytes to come;
			      handshake: bytes of the current line */
	uint16_t code;     /* frames: the status code of a close frame */
	uint8_t phase;     /* where in the stream (proto_ws.c: enum ws_phase) */
	uint8_t b0;        /* frames: the frame's first byte (FIN, RSV, opcode); handshake: the header being
			      read, or the names it may still be */
	uint8_t tok;       /* handshake: bytes of the current value token matched (0xff: no match) */
	uint8_t flags;     /* proto_ws.c: WS_F_* (open, inside a fragmented message, handshake checks) */
};

/* What one complete frame-level event was (ws_frames_feed). */
struct ws_event {
	enum ws_opcode op;  /* TEXT or BINARY: a whole message (the first frame's type); or a control frame */
	uint32_t bytes;     /* payload bytes of the message (saturating) or of the control frame */
	unsigned close_code; /* CLOSE: the status code it carried, 0 = none */
};

/* Where pongs go while the connection is idle: answers are appended to buf (len bytes so far). key is the
 * masking key of a pong that begins in this call. */
struct ws_answer {
	char *buf;
	size_t max, len;
	uint32_t key;
};

/* The key of connection id under the run's seed: base64 of 16 bytes from SHA-1(seed, id). out gets
 * WS_KEY_LEN characters and a NUL. */
void ws_key(const unsigned char seed[16], uint64_t id, char out[WS_KEY_LEN + 1]);

/* Sec-WebSocket-Accept for a key (WS_KEY_LEN characters): base64(SHA-1(key +
 * "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")). out gets WS_ACCEPT_LEN characters and a NUL. */
void ws_accept(const char key[WS_KEY_LEN], char out[WS_ACCEPT_LEN + 1]);

/* FNV-1a-64 of data: the digest the parser keeps of the expected accept. */
uint64_t ws_digest(const char *data, size_t len);

/* A new connection: the handshake comes next; accept is ws_digest of the expected Sec-WebSocket-Accept. */
void ws_rx_bind(struct ws_rx *rx, uint64_t accept);

/* Before the handshake (not bound yet) or before a phase: a connection whose handshake is done keeps its
 * framing, so a frame that straddles the start of the phase still parses. rx is zeroed or was bound. */
void ws_rx_init(struct ws_rx *rx);

/* The handshake response, incrementally. PROTO_DONE after the blank line that ends a verified 101 (*used
 * bytes; the frames follow). PROTO_REFUSED as soon as the status line says another status (ev->code, and
 * ev->note "HTTP 503: 'first bytes'"). PROTO_ERROR at a malformed byte or a failed check (ev->note). */
enum proto_status ws_hello_feed(struct ws_rx *rx, const char *data, size_t len, size_t *used,
				struct proto_event *ev);

/* The server's frames, incrementally. PROTO_DONE after one whole message or control frame (*used bytes,
 * *out says which); PROTO_PARTIAL when every byte was consumed; PROTO_ERROR at a malformed byte (ev->note;
 * rx then stays failed). With ans, pings are answered into ans->buf as described above (ans->max - ans->len
 * must leave WS_PONG_MAX bytes); without, they are only framed. */
enum proto_status ws_frames_feed(struct ws_rx *rx, const char *data, size_t len, size_t *used,
				 struct ws_answer *ans, struct ws_event *out, struct proto_event *ev);

/* A masked client frame: FIN, opcode, key, payload (at most 65535 bytes). Returns its length, 0 if it does
 * not fit outlen. */
size_t ws_build_frame(enum ws_opcode op, uint32_t key, const char *payload, size_t len, char *out,
		      size_t outlen);

/* The upgrade request of connection id: GET cfg->path, Host cfg->host:port, the key from cfg->ws_seed.
 * Returns its length, 0 if it does not fit outlen. */
size_t ws_build_request(const struct proto_cfg *cfg, uint64_t id, char *out, size_t outlen);

/* The options of --proto ws: --path (as HTTP's) and the request within PROTO_MSG_MAX. 0, or -1 with err. */
int ws_check(const struct proto_cfg *cfg, char *err, size_t errlen);

#endif
