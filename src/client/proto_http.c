/* HTTP/1.1 keep-alive for c1m-client: the request builder, the response framer over http-parser (see
 * proto_http.h) and the protocol table proto_http_ops. A connection is established after one response to
 * its first request with a status in 2xx/3xx; a message of the latency phase is one more request, and its
 * reply one response. Pipelining is off unless --pipeline: message k+1 is written when response k came. */
#include "client/proto_http.h"
#include "common/util/sbuf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* http_parser's data pointer, when it points here, marks a connection whose requests are HEAD. */
static const char head_tag = 'H';

/* 1 = no body follows: the response to a HEAD, or a 101 that switches protocols. For a 101 with a
 * Content-Length the parser would otherwise read a "body" first, and where http1_feed noticed the switch
 * would depend on how the stream was split; skipping it ends the response at its headers, always. */
static int on_headers_complete(http_parser *p)
{
	return p->data == &head_tag || p->upgrade ? 1 : 0;
}

/* Stops the parser after each response, so the caller sees where it ended. */
static int on_message_complete(http_parser *p)
{
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

void http1_rx_init(struct http1_rx *rx, bool head)
{
	http_parser_init(&rx->p, HTTP_RESPONSE);
	rx->p.data = head ? (void *)&head_tag : NULL;
}

static void note_error(struct proto_event *ev, const char *what, const char *data, size_t len, size_t at)
{
	char quoted[4 * PROTO_FIRST_BYTES + 8];
	struct sbuf sb;

	proto_escape(data + at, len - at, PROTO_FIRST_BYTES, quoted, sizeof(quoted));
	sbuf_init(&sb, ev->note, sizeof(ev->note));
	sbuf_printf(&sb, "%s at '%s'", what, quoted);
}

enum proto_status http1_feed(struct http1_rx *rx, const char *data, size_t len, size_t *used,
			     struct proto_event *ev)
{
	size_t n;
	enum http_errno e;
	unsigned code;

	memset(ev, 0, sizeof(*ev));
	*used = 0;
	if (len == 0)
		return PROTO_PARTIAL;
	if (HTTP_PARSER_ERRNO(&rx->p) != HPE_OK) {  /* failed before: it stays failed */
		snprintf(ev->note, sizeof(ev->note), "response stream already failed (%s)",
			 http_errno_name(HTTP_PARSER_ERRNO(&rx->p)));
		return PROTO_ERROR;
	}
	n = http_parser_execute(&rx->p, &settings, data, len);
	e = HTTP_PARSER_ERRNO(&rx->p);
	if (e == HPE_PAUSED && rx->p.upgrade) {  /* 101 Switching Protocols: no longer HTTP */
		*used = n > 0 ? n - 1 : 0;           /* the byte that ended its headers */
		snprintf(ev->note, sizeof(ev->note), "the server switched protocols (status %u)", rx->p.status_code);
		return PROTO_ERROR;
	}
	if (e == HPE_PAUSED) {
		http_parser_pause(&rx->p, 0);
		*used = n;
		code = rx->p.status_code;
		ev->code = code >= 200 && code < 400 ? 0 : code;
		ev->closing = !http_should_keep_alive(&rx->p);
		return PROTO_DONE;
	}
	if (e != HPE_OK) {
		*used = n < len ? n : len - 1;   /* the parser stops at the offending byte */
		note_error(ev, http_errno_description(e), data, len, *used);
		return PROTO_ERROR;
	}
	if (rx->p.upgrade || n != len) {  /* 101 Switching Protocols: no longer HTTP */
		*used = n < len ? n : len - 1;
		snprintf(ev->note, sizeof(ev->note), "the server switched protocols (status %u)", rx->p.status_code);
		return PROTO_ERROR;
	}
	*used = len;
	return PROTO_PARTIAL;
}

/* Appends s (len bytes) to out at *pos; false when it does not fit (with room for a NUL). */
static bool put(char *out, size_t outlen, size_t *pos, const char *s, size_t len)
{
	if (len >= outlen - *pos)
		return false;
	memcpy(out + *pos, s, len);
	*pos += len;
	return true;
}

size_t http1_build_request(const struct proto_cfg *cfg, unsigned port, char *out, size_t outlen)
{
	char line[160];
	const char *body = cfg->body;  /* a local: out may alias *cfg as far as the compiler knows */
	size_t pos = 0, blen = body ? strlen(body) : 0;
	unsigned i;
	int n;

	if (outlen == 0)
		return 0;
	if (!put(out, outlen, &pos, cfg->method, strlen(cfg->method)) || !put(out, outlen, &pos, " ", 1) ||
	    !put(out, outlen, &pos, cfg->path, strlen(cfg->path)))
		return 0;
	n = snprintf(line, sizeof(line), " HTTP/1.1\r\nHost: %s:%u\r\n", cfg->host, port);
	if (n < 0 || (size_t)n >= sizeof(line) || !put(out, outlen, &pos, line, (size_t)n))
		return 0;
	for (i = 0; i < cfg->n_headers; i++)
		if (!put(out, outlen, &pos, cfg->headers[i], strlen(cfg->headers[i])) || !put(out, outlen, &pos, "\r\n", 2))
			return 0;
	if (body) {
		n = snprintf(line, sizeof(line), "Content-Length: %zu\r\n", blen);
		if (n < 0 || !put(out, outlen, &pos, line, (size_t)n))
			return 0;
	}
	if (!put(out, outlen, &pos, "\r\n", 2) || (body && !put(out, outlen, &pos, body, blen)))
		return 0;
	out[pos] = '\0';
	return pos;
}

/* RFC 9110 tchar: the bytes a method or a header name may have. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool token(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

static int check_header(const char *h, char *err, size_t errlen)
{
	const char *colon = strchr(h, ':');
	size_t i;

	if (!colon || !token(h, (size_t)(colon - h))) {
		snprintf(err, errlen, "--header '%s' is not 'Name: value' (a name of letters, digits or !#$%%&'*+-.^_`|~, "
			 "then a colon)", h);
		return -1;
	}
	for (i = 0; h[i]; i++)
		if (h[i] == '\r' || h[i] == '\n') {
			snprintf(err, errlen, "--header: a CR or LF inside a header would end it");
			return -1;
		}
	if (strncasecmp(h, "Host:", 5) == 0 || strncasecmp(h, "Content-Length:", 15) == 0) {
		snprintf(err, errlen, "--header '%s': c1m sets Host (from HOST and the port) and Content-Length (from "
			 "--body) itself", h);
		return -1;
	}
	return 0;
}

int http1_check(const struct proto_cfg *cfg, char *err, size_t errlen)
{
	char req[PROTO_MSG_MAX];
	size_t i;

	if (!token(cfg->method, strlen(cfg->method))) {
		snprintf(err, errlen, "--method '%s' is not an HTTP method (a token such as GET, HEAD, POST)", cfg->method);
		return -1;
	}
	if (cfg->path[0] != '/') {
		snprintf(err, errlen, "--path '%s' must start with '/'", cfg->path);
		return -1;
	}
	for (i = 0; cfg->path[i]; i++)
		if ((unsigned char)cfg->path[i] <= 0x20 || (unsigned char)cfg->path[i] == 0x7f) {
			snprintf(err, errlen, "--path: a blank or control byte at %zu (percent-encode it, e.g. %%20)", i);
			return -1;
		}
	for (i = 0; i < cfg->n_headers; i++)
		if (check_header(cfg->headers[i], err, errlen) < 0)
			return -1;
	if (http1_build_request(cfg, 65535, req, sizeof(req)) == 0) {
		snprintf(err, errlen, "the HTTP request (method, path, headers and body) is longer than %d bytes",
			 PROTO_MSG_MAX - 1);
		return -1;
	}
	return 0;
}

/* ---- the protocol table ---- */

static unsigned port_of(const struct proto_cfg *cfg, uint64_t id)
{
	return cfg->port_base + (unsigned)(id % (cfg->ports ? cfg->ports : 1));
}

static size_t http_hello(const struct proto_cfg *cfg, uint64_t id, char *out, size_t outlen)
{
	return http1_build_request(cfg, port_of(cfg, id), out, outlen);
}

static void http_rx_init(const struct proto_cfg *cfg, uint64_t id, void *st)
{
	(void)id;
	http1_rx_init(st, strcmp(cfg->method, "HEAD") == 0);
}

/* The first response: a success establishes the connection, any other status refuses it. */
static enum proto_status http_hello_feed(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					 size_t *used, struct proto_event *ev)
{
	enum proto_status s = http1_feed(st, data, len, used, ev);
	char quoted[4 * PROTO_FIRST_BYTES + 8];
	struct sbuf sb;

	if (s == PROTO_DONE && ev->code) {
		proto_escape(data, len, PROTO_FIRST_BYTES, quoted, sizeof(quoted));
		sbuf_init(&sb, ev->note, sizeof(ev->note));
		sbuf_printf(&sb, "HTTP %u: '%s'", ev->code, quoted);
		return PROTO_REFUSED;
	}
	return s;
}

static size_t http_msg(const struct proto_cfg *cfg, const struct match_frame *f, char *out, size_t outlen)
{
	return http1_build_request(cfg, port_of(cfg, f->conn), out, outlen);
}

static enum proto_status http_reply_feed(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					 size_t *used, struct proto_event *ev)
{
	return http1_feed(st, data, len, used, ev);
}

const struct proto_ops proto_http_ops = {
	.name = "http",
	.state_size = sizeof(struct http1_rx),
	.pipeline = false,
	.hello = http_hello,
	.rx_init = http_rx_init,
	.hello_feed = http_hello_feed,
	.msg = http_msg,
	.reply_feed = http_reply_feed,
	.idle_feed = NULL,   /* a server has nothing to say to an idle keep-alive connection */
	.keepalive = NULL,
};
