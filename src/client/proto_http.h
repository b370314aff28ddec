/* HTTP/1.1 for c1m-client (--proto http): the request builder and the streaming response framer the
 * protocol table (proto.h) uses.
 *
 * Responses are framed by Debian's http-parser (libhttp-parser-dev, the parser Node.js used for years, proven
 * on outside input): status line, headers, then Content-Length, chunked encoding, or no body (HEAD, 1xx, 204,
 * 304). It is a streaming parser whose whole state is one 32-byte struct http_parser that keeps no copy of
 * the bytes, so each connection parses its replies incrementally, split or coalesced in any way, from 32
 * bytes of state and no buffer: the same shape as the echo matcher. http1_feed stops after each response
 * (http_parser_pause in on_message_complete), so the loadgen times each reply and the next one is parsed
 * from the byte after it (pipelined replies). Everything here is pure: it is fuzzed (fuzz.proto_http). */
#ifndef C1M_PROTO_HTTP_H
#define C1M_PROTO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

#include "client/proto.h"

/* Receive state of one connection: the parser, and whether the request is a HEAD (no body follows). */
struct http1_rx {
	http_parser p;               /* its data pointer marks HEAD; nothing else is kept */
};

/* Resets rx for the next response; head: the requests are HEAD (their responses have no body). */
void http1_rx_init(struct http1_rx *rx, bool head);

/* Consumes data[0..len) of the response stream. PROTO_DONE: one response ended after *used bytes, ev->code
 * is its status when outside 2xx/3xx (0 for a success), ev->closing says the server will close (Connection:
 * close, or HTTP/1.0 without keep-alive); rx is ready for the next response. PROTO_PARTIAL: all consumed.
 * PROTO_ERROR: malformed at data[*used] (ev->note names the error and quotes the first bytes); rx then stays
 * failed. */
enum proto_status http1_feed(struct http1_rx *rx, const char *data, size_t len, size_t *used,
			     struct proto_event *ev);

/* The request of connection port: "METHOD PATH HTTP/1.1\r\nHost: HOST:PORT\r\n", the headers, a
 * Content-Length and the body when cfg->body is set, then the blank line. Returns its length, 0 if it does
 * not fit outlen. Pure. */
size_t http1_build_request(const struct proto_cfg *cfg, unsigned port, char *out, size_t outlen);

/* The options of --proto http, checked together: a method token, a path from '/' with no blank or control
 * byte, headers "Name: value" without CR or LF, the request within PROTO_MSG_MAX. 0, or -1 with err. */
int http1_check(const struct proto_cfg *cfg, char *err, size_t errlen);

/* A request path: starts with '/', no blank or control byte (--path, also WebSocket's). 0, or -1 with err. */
int http1_check_path(const char *path, char *err, size_t errlen);

#endif
