/* The protocols c1m-client speaks (--proto): each is one small table of functions, struct proto_ops, and the
 * load generator knows only the table (libevent's bufferevent_ops, nginx's mail modules).
 *
 * How a protocol plugs in (say X, with a pure streaming parser in proto_X.{c,h}):
 *  1. Add PROTO_X to enum proto_id and its name to proto_names (proto.c), and its options to struct
 *     proto_cfg (filled by client_opts.c; validate them in proto_cfg_check).
 *  2. Write proto_X_ops.c (or add to proto_X.c) with one `const struct proto_ops proto_X_ops`, and return it
 *     from proto_get (proto.c):
 *     - state_size: bytes of per-connection receive state (the parser's struct X_rx, at most
 *       PROTO_STATE_MAX). The loadgen keeps them in one side array, allocated only when the protocol is not
 *       echo, with a small header of its own (struct proto_side) in front of each.
 *     - hello(): the handshake bytes sent right after connect (HTTP: the first request; Redis: PING or
 *       HELLO/AUTH; MQTT: CONNECT with a client id made from the connection id; WS: the upgrade request).
 *     - rx_init(): reset the receive state of connection id before the handshake reply and before the
 *       phase (MQTT checks that a PUBLISH came back on the connection's own topic).
 *     - hello_feed(): the handshake reply, incrementally (bytes as they come, any split). PROTO_DONE when
 *       the reply is complete and verified, PROTO_REFUSED when it is a well-formed refusal (HTTP 503, MQTT
 *       CONNACK code, Redis -ERR: fill ev->code and ev->note), PROTO_ERROR when it is malformed (ev->note
 *       says what; *used is the offending byte). The connection is "established" only after PROTO_DONE.
 *     - msg(): the bytes of message (conn id, seq) of the latency phase (struct match_frame gives conn, seq
 *       and the scheduled time; use what you need). At most PROTO_MSG_MAX bytes.
 *     - reply_feed(): recognises replies, incrementally, in order: PROTO_DONE after one reply (ev->code
 *       its status: 0 = a success; anything else counts as a failed message, by code), PROTO_PARTIAL when
 *       every byte was consumed, PROTO_ERROR when malformed. The loadgen times reply k from message k's
 *       scheduled send time (replies come in order per connection).
 *     - idle_feed(): bytes that arrive while the connection is held idle (WS: a ping to answer, MQTT:
 *       PINGRESP). NULL = any byte while idle is a failure (echo, HTTP). It may fill `answer` with bytes
 *       to send back (a pong) and set *answer_len.
 *     - keepalive(): bytes to send every cfg->keepalive_ms while holding (MQTT PINGREQ). NULL = none.
 *     - pipeline: true if several messages may be outstanding on a connection (echo); false = message
 *       k+1 waits until reply k came (HTTP without --pipeline): it still counts from its scheduled time.
 *  3. Register the parser's unit test and fuzz target (tests/unit, tests/fuzz) as proto_http does.
 * Echo is the table with no feed functions (hello_feed == NULL): the loadgen then matches the reply byte
 * for byte against what it sent (match.h), with its state in struct conn itself, exactly as before the
 * framework existed: no side array, no indirect call per byte. */
#ifndef C1M_PROTO_H
#define C1M_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/match.h"

#define PROTO_STATE_MAX   32    /* bytes of per-connection receive state at most (http_parser: 32) */
#define PROTO_MSG_MAX     4096  /* bytes of one message or handshake at most */
#define PROTO_NOTE_LEN    128   /* a reply's description: status text, first bytes (escaped) */
#define PROTO_HEADERS_MAX 16    /* --header at most this often */
#define PROTO_FIRST_BYTES 24    /* bytes of a bad reply quoted in a note */

enum proto_id {
	PROTO_ECHO,                 /* c1m's own line and 64-byte frames, echoed byte for byte (default) */
	PROTO_HTTP,                 /* HTTP/1.1 keep-alive (proto_http.h) */
	PROTO_REDIS,                /* RESP2 commands and replies (proto_resp.h) */
	PROTO_MQTT,                 /* MQTT 3.1.1 to a broker: PUBLISH to the connection's own topic (proto_mqtt.h) */
	PROTO_COUNT
};

enum proto_status {
	PROTO_PARTIAL,              /* every byte given consumed; the reply is not complete yet */
	PROTO_DONE,                 /* one reply complete after *used bytes */
	PROTO_REFUSED,              /* handshake: a well-formed refusal after *used bytes (ev->code, ev->note) */
	PROTO_ERROR,                /* data[*used] is not valid for the protocol (ev->note) */
};

/* What a feed function says about the reply it recognised. */
struct proto_event {
	unsigned code;              /* reply status: 0 = success; HTTP: the status outside 2xx/3xx */
	bool closing;               /* the server announced it closes the connection (HTTP Connection: close) */
	char note[PROTO_NOTE_LEN];  /* on PROTO_ERROR or PROTO_REFUSED: what was wrong, "" otherwise */
};

/* The protocol's configuration, from the command line (pointers into argv, or into main's memory). */
struct proto_cfg {
	enum proto_id id;
	char host[64];              /* the target as the user wrote it (HTTP Host header) */
	unsigned port_base, ports;  /* the target's ports (HTTP Host: host:port of each connection) */
	const char *method;         /* --method (default GET) */
	const char *path;           /* --path (default /) */
	const char *headers[PROTO_HEADERS_MAX]; /* --header "K: V" */
	unsigned n_headers;
	const char *body;           /* --body, NULL = none */
	bool pipeline;              /* --pipeline: send without waiting for the previous reply */
	const char *command;        /* --command: Redis's message (default PING) */
	const char *hello;          /* --hello: Redis's handshake (default PING), e.g. "AUTH pw" */
	unsigned keepalive_ms;      /* --keepalive: period while holding, ms (MQTT: default 60 s); 0 = none */
};

struct proto_ops {
	const char *name;
	size_t state_size;          /* per-connection receive state, bytes (0 = none: echo) */
	bool pipeline;              /* see above; the loadgen also honours cfg->pipeline */
	size_t (*hello)(const struct proto_cfg *cfg, uint64_t id, char *out, size_t outlen);
	void (*rx_init)(const struct proto_cfg *cfg, uint64_t id, void *st);
	enum proto_status (*hello_feed)(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					size_t *used, struct proto_event *ev);
	size_t (*msg)(const struct proto_cfg *cfg, const struct match_frame *f, char *out, size_t outlen);
	enum proto_status (*reply_feed)(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					size_t *used, struct proto_event *ev);
	enum proto_status (*idle_feed)(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
				       size_t *used, char *answer, size_t answer_max, size_t *answer_len,
				       struct proto_event *ev);
	size_t (*keepalive)(const struct proto_cfg *cfg, uint64_t id, char *out, size_t outlen);
};

/* Per connection in the side array: the framework's own fields, then the protocol's state. */
struct proto_side {
	uint32_t wr_off;            /* bytes of the message being written (it may exceed struct conn's byte) */
	uint32_t pad;
	unsigned char st[];         /* state_size bytes, 8-byte aligned */
};

/* Bytes of one message of the latency phase (for the report): MATCH_FRAME_LEN for echo, the request at the
 * first port for HTTP. */
size_t proto_msg_bytes(const struct proto_cfg *cfg);

/* The stride of the side array for ops (0 for echo: no side array). */
size_t proto_side_size(const struct proto_ops *ops);

/* The table of a protocol (never NULL for a valid id). */
const struct proto_ops *proto_get(enum proto_id id);
const char *proto_name(enum proto_id id);
/* "echo", "http" -> id; -1 if unknown. */
int proto_from_name(const char *name, enum proto_id *id);
/* Defaults for id (method GET, path /). */
void proto_cfg_init(struct proto_cfg *cfg);
/* Checks the options together (HTTP: method, path, headers, the request fits PROTO_MSG_MAX). 0 or -1. */
int proto_cfg_check(const struct proto_cfg *cfg, char *err, size_t errlen);

/* Pure: the first bytes of data as printable text: bytes 0x20..0x7e as such (and backslash as \\), \r \n \t,
 * others \xNN; "..." appended when len > max. Returns the length written (out is NUL-terminated). */
size_t proto_escape(const char *data, size_t len, size_t max, char *out, size_t outlen);

extern const struct proto_ops proto_echo_ops;
extern const struct proto_ops proto_http_ops;
extern const struct proto_ops proto_redis_ops;
extern const struct proto_ops proto_mqtt_ops;

#endif
