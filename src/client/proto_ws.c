/* WebSocket (RFC 6455) for c1m-client: keys and accepts, the handshake response and frame parser, the
 * client's masked frames, and the protocol table proto_ws_ops (proto_ws.h). Pure: no I/O, no allocation;
 * the only state is the caller's struct ws_rx. */
#include "client/proto_ws.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "client/proto_http.h"
#include "common/util/sbuf.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

enum ws_phase {
	WS_STATUS,      /* the status line, up to its CR */
	WS_STATUS_LF,   /* the LF after it */
	WS_NAME,        /* a header name, up to ':' (or the CR of the blank line) */
	WS_VALUE,       /* a header value, up to CR */
	WS_LF,          /* the LF after a header line's CR */
	WS_END_LF,      /* the LF of the blank line: the handshake ends */
	WS_B0,          /* frames: FIN, RSV, opcode */
	WS_B1,          /* MASK, 7-bit length */
	WS_EXT,         /* the 16- or 64-bit length */
	WS_PAYLOAD,     /* the payload */
	WS_FAIL,        /* malformed: every later byte is refused */
};

enum {
	WS_F_UPGRADE = 1,     /* handshake: "Upgrade: websocket" seen */
	WS_F_CONNECTION = 2,  /* handshake: "Connection: ... upgrade" seen */
	WS_F_ACCEPT = 4,      /* handshake: a matching Sec-WebSocket-Accept seen */
	WS_F_SEEN = 8,        /* handshake: a Sec-WebSocket-Accept header seen */
	WS_F_BEGUN = 16,      /* handshake: the value has begun (leading blanks skipped) */
	WS_F_ENDED = 32,      /* handshake: a blank after the value */
	WS_F_BINARY = 16,     /* frames: the current message is binary (its first frame's opcode) */
	WS_F_INMSG = 64,      /* frames: inside a fragmented message */
	WS_F_OPEN = 128,      /* the handshake is done: the stream is frames */
};

/* The headers the handshake looks at, lower case; b0 holds a bit per name while a name is read, then the
 * index + 1 of the one it was (0: another header). */
enum { H_OTHER, H_UPGRADE, H_CONNECTION, H_ACCEPT, H_EXTENSIONS, H_PROTOCOL, H_COUNT };
static const char *const hdr_names[H_COUNT] = {
	"", "upgrade", "connection", "sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-protocol",
};
#define H_ALL 0x1fu

#define FNV_BASIS 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

uint64_t ws_digest(const char *data, size_t len)
{
	uint64_t h = FNV_BASIS;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)data[i]) * FNV_PRIME;
	return h;
}

void ws_key(const unsigned char seed[16], uint64_t id, char out[WS_KEY_LEN + 1])
{
	unsigned char in[16 + 8], md[SHA_DIGEST_LENGTH];
	unsigned i;

	memcpy(in, seed, 16);
	for (i = 0; i < 8; i++)
		in[16 + i] = (unsigned char)(id >> (8 * i));
	SHA1(in, sizeof(in), md);
	EVP_EncodeBlock((unsigned char *)out, md, 16);   /* 24 characters and a NUL */
}

void ws_accept(const char key[WS_KEY_LEN], char out[WS_ACCEPT_LEN + 1])
{
	unsigned char in[WS_KEY_LEN + sizeof(ws_guid) - 1], md[SHA_DIGEST_LENGTH];

	memcpy(in, key, WS_KEY_LEN);
	memcpy(in + WS_KEY_LEN, ws_guid, sizeof(ws_guid) - 1);
	SHA1(in, sizeof(in), md);
	EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);  /* 28 characters and a NUL */
}

void ws_rx_bind(struct ws_rx *rx, uint64_t accept)
{
	memset(rx, 0, sizeof(*rx));
	rx->accept = accept;
	rx->phase = WS_STATUS;
}

void ws_rx_init(struct ws_rx *rx)
{
	if (rx->flags & WS_F_OPEN)
		return;
	ws_rx_bind(rx, rx->accept);
}

static enum proto_status fail(struct ws_rx *rx, const char *data, size_t len, size_t at, size_t *used,
			      struct proto_event *ev, const char *what)
{
	char quoted[4 * PROTO_FIRST_BYTES + 8];
	struct sbuf sb;

	sbuf_init(&sb, ev->note, sizeof(ev->note));
	if (at < len) {
		proto_escape(data + at, len - at, PROTO_FIRST_BYTES, quoted, sizeof(quoted));
		sbuf_printf(&sb, "WebSocket: %s at '%s'", what, quoted);
	} else {
		sbuf_printf(&sb, "WebSocket: %s", what);
	}
	rx->phase = WS_FAIL;
	*used = at < len ? at : (len ? len - 1 : 0);
	return PROTO_ERROR;
}

static void ev_clear(struct proto_event *ev)
{
	ev->code = 0;
	ev->closing = false;
	ev->note[0] = '\0';
}

static bool tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* The end of one token of a list header (Upgrade, Connection): a token equal to the one looked for sets
 * the header's flag. */
static void token_end(struct ws_rx *rx)
{
	const char *want = rx->b0 == H_UPGRADE ? "websocket" : "upgrade";

	if (rx->tok != 0xff && rx->tok == strlen(want))
		rx->flags |= rx->b0 == H_UPGRADE ? WS_F_UPGRADE : WS_F_CONNECTION;
	rx->tok = 0;
}

/* One byte of a header value (not CR or LF). 0, or -1 with *what set. */
static int value_byte(struct ws_rx *rx, unsigned char c, const char **what)
{
	bool blank = c == ' ' || c == '\t';
	const char *want;

	if (c < 0x20 && c != '\t') {
		*what = "a control byte in a header value";
		return -1;
	}
	switch (rx->b0) {
	case H_UPGRADE:
	case H_CONNECTION:
		if (blank || c == ',') {
			token_end(rx);
			break;
		}
		want = rx->b0 == H_UPGRADE ? "websocket" : "upgrade";
		if (rx->tok != 0xff)
			rx->tok = rx->tok < strlen(want) && lower(c) == (unsigned char)want[rx->tok] ?
				  (uint8_t)(rx->tok + 1) : 0xff;
		break;
	case H_ACCEPT:
		if (blank) {
			if (rx->flags & WS_F_BEGUN)
				rx->flags |= WS_F_ENDED;
			break;
		}
		if (rx->flags & WS_F_ENDED) {
			*what = "a blank inside Sec-WebSocket-Accept";
			return -1;
		}
		rx->flags |= WS_F_BEGUN;
		rx->left = (rx->left ^ c) * FNV_PRIME;
		break;
	case H_EXTENSIONS:
	case H_PROTOCOL:
		if (!blank) {
			*what = rx->b0 == H_EXTENSIONS ? "Sec-WebSocket-Extensions names an extension the client did not offer" :
				"Sec-WebSocket-Protocol names a subprotocol the client did not offer";
			return -1;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* The status line, byte by byte: "HTTP/d.d ddd" then a reason or the CR. 1 when the status is complete. */
static int status_byte(struct ws_rx *rx, unsigned char c, const char **what)
{
	unsigned p = rx->pos;

	if (p < 5 ? c != (unsigned char)"HTTP/"[p] : (p == 5 || p == 7) ? !(c >= '0' && c <= '9') :
	    p == 6 ? c != '.' : p == 8 ? c != ' ' : 0) {
		*what = "not an HTTP status line";
		return -1;
	}
	if (p >= 9 && p <= 11) {
		if (!(c >= '0' && c <= '9')) {
			*what = "not a 3-digit HTTP status";
			return -1;
		}
		rx->mask = rx->mask * 10 + (uint32_t)(c - '0');
	}
	if (p == 12 && c != ' ' && c != '\r') {
		*what = "not an HTTP status line";
		return -1;
	}
	if (p > 12 && c < 0x20 && c != '\t' && c != '\r') {
		*what = "a control byte in the status line";
		return -1;
	}
	return p == 11 ? 1 : 0;
}

enum proto_status ws_hello_feed(struct ws_rx *rx, const char *data, size_t len, size_t *used,
				struct proto_event *ev)
{
	size_t i, vstart = SIZE_MAX, start = rx->count == 0 ? 0 : SIZE_MAX;
	char quoted[4 * PROTO_FIRST_BYTES + 8];
	const char *what = NULL;
	unsigned char c;
	struct sbuf sb;
	unsigned k;
	int r;

	ev_clear(ev);
	*used = 0;
	if (rx->phase > WS_END_LF)
		return fail(rx, data, len, 0, used, ev, rx->phase == WS_FAIL ? "response already failed" :
			    "handshake response after the handshake");
	for (i = 0; i < len; i++) {
		c = (unsigned char)data[i];
		if (++rx->count > WS_RESPONSE_MAX)
			return fail(rx, data, len, i, used, ev, "handshake response longer than 16384 bytes");
		switch (rx->phase) {
		case WS_STATUS:
			if (c == '\r' && rx->pos >= 12) {
				rx->phase = WS_STATUS_LF;
				break;
			}
			if (c == '\n')
				return fail(rx, data, len, i, used, ev, "LF without CR in the handshake response");
			r = status_byte(rx, c, &what);
			if (r < 0)
				return fail(rx, data, len, i, used, ev, what);
			rx->pos++;
			if (r == 1 && rx->mask != 101) {
				/* a well-formed refusal: the rest of the response does not change it */
				ev->code = rx->mask;
				proto_escape(data + (start == 0 ? 0 : i), len - (start == 0 ? 0 : i), PROTO_FIRST_BYTES,
					     quoted, sizeof(quoted));
				sbuf_init(&sb, ev->note, sizeof(ev->note));
				sbuf_printf(&sb, "HTTP %u, not 101 Switching Protocols: '%s'", ev->code, quoted);
				rx->phase = WS_FAIL;
				*used = i + 1;
				return PROTO_REFUSED;
			}
			break;
		case WS_STATUS_LF:
		case WS_LF:
			if (c != '\n')
				return fail(rx, data, len, i, used, ev, "CR without LF in the handshake response");
			rx->phase = WS_NAME;
			rx->pos = 0;
			rx->b0 = H_ALL;
			break;
		case WS_NAME:
			if (rx->pos == 0 && c == '\r') {
				rx->phase = WS_END_LF;
				break;
			}
			if (c == ':' && rx->pos > 0) {
				unsigned h = H_OTHER;

				for (k = 1; k < H_COUNT; k++)
					if ((rx->b0 & (1u << (k - 1))) && strlen(hdr_names[k]) == rx->pos)
						h = k;
				rx->b0 = (uint8_t)h;
				rx->tok = 0;
				rx->flags &= (uint8_t)~(WS_F_BEGUN | WS_F_ENDED);
				if (h == H_ACCEPT) {
					if (rx->flags & WS_F_SEEN)
						return fail(rx, data, len, i, used, ev, "two Sec-WebSocket-Accept headers");
					rx->flags |= WS_F_SEEN;
					rx->left = FNV_BASIS;
				}
				rx->phase = WS_VALUE;
				rx->pos++;
				break;
			}
			if (!tchar(c))
				return fail(rx, data, len, i, used, ev, rx->pos == 0 && (c == ' ' || c == '\t') ?
					    "a folded header line" : "not a header name");
			for (k = 1; k < H_COUNT; k++)
				if (rx->pos >= strlen(hdr_names[k]) || lower(c) != (unsigned char)hdr_names[k][rx->pos])
					rx->b0 &= (uint8_t)~(1u << (k - 1));
			rx->pos++;
			break;
		case WS_VALUE:
			if (c == '\n')
				return fail(rx, data, len, i, used, ev, "LF without CR in the handshake response");
			if (c != '\r') {
				if (rx->b0 == H_ACCEPT && vstart == SIZE_MAX && c != ' ' && c != '\t')
					vstart = i;
				if (value_byte(rx, c, &what) < 0)
					return fail(rx, data, len, i, used, ev, what);
				rx->pos++;
				break;
			}
			if (rx->b0 == H_UPGRADE || rx->b0 == H_CONNECTION)
				token_end(rx);
			if (rx->b0 == H_ACCEPT) {
				if (rx->left != rx->accept) {
					sbuf_init(&sb, ev->note, sizeof(ev->note));
					if (vstart != SIZE_MAX) {
						proto_escape(data + vstart, i - vstart, WS_ACCEPT_LEN + 4, quoted, sizeof(quoted));
						sbuf_printf(&sb, "WebSocket: Sec-WebSocket-Accept '%s' is not the one for the key sent",
							    quoted);
					} else {
						sbuf_printf(&sb, "WebSocket: Sec-WebSocket-Accept is not the one for the key sent");
					}
					rx->phase = WS_FAIL;
					*used = i;
					return PROTO_ERROR;
				}
				rx->flags |= WS_F_ACCEPT;
			}
			rx->phase = WS_LF;
			break;
		case WS_END_LF:
			if (c != '\n')
				return fail(rx, data, len, i, used, ev, "CR without LF in the handshake response");
			/* a header missing: the note names it; *used is the LF that ended the headers */
			if (!(rx->flags & WS_F_UPGRADE))
				return fail(rx, data, i + 1, i + 1, used, ev, "101 response without 'Upgrade: websocket'");
			if (!(rx->flags & WS_F_CONNECTION))
				return fail(rx, data, i + 1, i + 1, used, ev, "101 response without 'Connection: Upgrade'");
			if (!(rx->flags & WS_F_ACCEPT))
				return fail(rx, data, i + 1, i + 1, used, ev, "101 response without Sec-WebSocket-Accept");
			rx->phase = WS_B0;
			rx->flags = WS_F_OPEN;
			rx->left = 0;
			rx->count = 0;
			rx->mask = 0;
			rx->pos = 0;
			*used = i + 1;
			return PROTO_DONE;
		default:
			return fail(rx, data, len, i, used, ev, "response already failed");
		}
	}
	*used = len;
	return PROTO_PARTIAL;
}

/* A frame's header is complete (rx->left its payload length): a pong begins for a ping when answering. */
static void frame_begin(struct ws_rx *rx, struct ws_answer *ans)
{
	unsigned op = rx->b0 & 0x0f, k;

	rx->phase = WS_PAYLOAD;
	if (op & 0x8) {
		rx->pos = (uint16_t)rx->left;
		rx->code = 0;
	}
	if (op == WS_OP_PING && ans) {
		rx->mask = ans->key;
		ans->buf[ans->len++] = (char)(0x80 | WS_OP_PONG);
		ans->buf[ans->len++] = (char)(0x80 | rx->left);
		for (k = 0; k < 4; k++)
			ans->buf[ans->len++] = (char)(rx->mask >> (24 - 8 * k));
	}
}

/* A frame's payload is complete: 1 when it ends a message or is a control frame (*out filled). */
static int frame_end(struct ws_rx *rx, struct ws_event *out)
{
	unsigned op = rx->b0 & 0x0f;

	rx->phase = WS_B0;
	if (op & 0x8) {
		out->op = (enum ws_opcode)op;
		out->bytes = rx->pos;
		out->close_code = rx->code;
		return 1;
	}
	if (!(rx->b0 & 0x80)) {
		rx->flags |= WS_F_INMSG;
		return 0;
	}
	out->op = (rx->flags & WS_F_BINARY) ? WS_OP_BINARY : WS_OP_TEXT;
	out->bytes = rx->count;
	out->close_code = 0;
	rx->flags &= (uint8_t)~(WS_F_INMSG | WS_F_BINARY);
	rx->count = 0;
	return 1;
}

enum proto_status ws_frames_feed(struct ws_rx *rx, const char *data, size_t len, size_t *used,
				 struct ws_answer *ans, struct ws_event *out, struct proto_event *ev)
{
	size_t i = 0, n, k, j;
	unsigned char c;
	unsigned op;

	ev_clear(ev);
	memset(out, 0, sizeof(*out));
	*used = 0;
	if (!(rx->flags & WS_F_OPEN) || rx->phase < WS_B0)
		return fail(rx, data, len, 0, used, ev, "a frame before the handshake completed");
	if (ans && ans->max - ans->len < WS_PONG_MAX)
		return fail(rx, data, len, 0, used, ev, "no room to answer a ping");
	while (i < len) {
		c = (unsigned char)data[i];
		switch (rx->phase) {
		case WS_B0:
			op = c & 0x0f;
			if (c & 0x70)
				return fail(rx, data, len, i, used, ev, "reserved bits set (no extension was negotiated)");
			if ((op > WS_OP_BINARY && op < WS_OP_CLOSE) || op > WS_OP_PONG)
				return fail(rx, data, len, i, used, ev, "a reserved opcode");
			if ((op & 0x8) && !(c & 0x80))
				return fail(rx, data, len, i, used, ev, "a fragmented control frame");
			if (op == WS_OP_CONT && !(rx->flags & WS_F_INMSG))
				return fail(rx, data, len, i, used, ev, "a continuation frame outside a message");
			if ((op == WS_OP_TEXT || op == WS_OP_BINARY) && (rx->flags & WS_F_INMSG))
				return fail(rx, data, len, i, used, ev, "a new message inside a fragmented one");
			if (op == WS_OP_BINARY)
				rx->flags |= WS_F_BINARY;
			rx->b0 = c;
			rx->phase = WS_B1;
			i++;
			break;
		case WS_B1:
			if (c & 0x80)
				return fail(rx, data, len, i, used, ev, "a masked frame from the server (RFC 6455 5.1: "
					    "a server must not mask)");
			if ((rx->b0 & 0x8) && (c & 0x7f) > WS_CONTROL_MAX)
				return fail(rx, data, len, i, used, ev, "a control frame longer than 125 bytes");
			i++;
			rx->left = c & 0x7f;
			if (rx->left >= 126) {
				rx->pos = rx->left == 126 ? 2 : 8;
				rx->code = rx->pos;
				rx->left = 0;
				rx->phase = WS_EXT;
				break;
			}
			frame_begin(rx, ans);
			if (rx->left == 0 && frame_end(rx, out))
				goto done;
			break;
		case WS_EXT:
			rx->left = rx->left << 8 | c;
			if (--rx->pos == 0) {
				/* rx->code holds the form (2 or 8 bytes): each must be the shortest that fits */
				if (rx->code == 8 && rx->left >> 63)
					return fail(rx, data, len, i, used, ev, "a 64-bit length with its top bit set");
				if (rx->left < 126 || (rx->code == 8 && rx->left <= 0xffff))
					return fail(rx, data, len, i, used, ev, "a length not in its shortest form");
				rx->code = 0;
				frame_begin(rx, ans);
			}
			i++;
			break;
		case WS_PAYLOAD:
			n = len - i;
			if (n > rx->left)
				n = (size_t)rx->left;
			op = rx->b0 & 0x0f;
			for (k = 0; (op == WS_OP_CLOSE || (op == WS_OP_PING && ans)) && k < n; k++) {
				j = rx->pos - (size_t)rx->left + k;   /* the byte's index in the control payload */
				c = (unsigned char)data[i + k];
				if (op == WS_OP_CLOSE && j < 2)
					rx->code = (uint16_t)(j == 0 ? c << 8 : (rx->code | c));
				if (op == WS_OP_PING)
					ans->buf[ans->len++] = (char)(c ^ (unsigned char)(rx->mask >> (24 - 8 * (j % 4))));
			}
			if (!(op & 0x8))
				rx->count = rx->count > UINT32_MAX - n ? UINT32_MAX : rx->count + (uint32_t)n;
			rx->left -= n;
			i += n;
			if (rx->left == 0) {
				if (op == WS_OP_CLOSE && rx->pos == 1)
					return fail(rx, data, len, i - 1, used, ev, "a close frame with a 1-byte payload");
				if (frame_end(rx, out))
					goto done;
			}
			break;
		default:
			return fail(rx, data, len, i, used, ev, "input after an error");
		}
	}
	*used = i;
	return PROTO_PARTIAL;
done:
	*used = i;
	return PROTO_DONE;
}

size_t ws_build_frame(enum ws_opcode op, uint32_t key, const char *payload, size_t len, char *out,
		      size_t outlen)
{
	size_t h = len < 126 ? 2 : 4, i;

	if (len > 0xffff || outlen < h + 4 + len)
		return 0;
	out[0] = (char)(0x80 | op);
	if (len < 126) {
		out[1] = (char)(0x80 | len);
	} else {
		out[1] = (char)(0x80 | 126);
		out[2] = (char)(len >> 8);
		out[3] = (char)len;
	}
	for (i = 0; i < 4; i++)
		out[h + i] = (char)(key >> (24 - 8 * i));
	for (i = 0; i < len; i++)
		out[h + 4 + i] = (char)((unsigned char)payload[i] ^ (unsigned char)(key >> (24 - 8 * (i % 4))));
	return h + 4 + len;
}

static unsigned port_of(const struct proto_cfg *cfg, uint64_t id)
{
	return cfg->port_base + (unsigned)(id % (cfg->ports ? cfg->ports : 1));
}

size_t ws_build_request(const struct proto_cfg *cfg, uint64_t id, char *out, size_t outlen)
{
	char key[WS_KEY_LEN + 1];
	int n;

	ws_key(cfg->ws_seed, id, key);
	n = snprintf(out, outlen, "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", cfg->path, cfg->host,
		     port_of(cfg, id), key);
	return n < 0 || (size_t)n >= outlen ? 0 : (size_t)n;
}

int ws_check(const struct proto_cfg *cfg, char *err, size_t errlen)
{
	char req[PROTO_MSG_MAX];

	if (cfg->ws_mode && strcmp(cfg->ws_mode, "echo") != 0 && strcmp(cfg->ws_mode, "ping") != 0) {
		snprintf(err, errlen, "--ws-mode '%s' is neither echo nor ping", cfg->ws_mode);
		return -1;
	}
	if (http1_check_path(cfg->path, err, errlen) < 0)
		return -1;
	if (ws_build_request(cfg, 0, req, sizeof(req)) == 0) {
		snprintf(err, errlen, "the WebSocket upgrade request (with --path) is longer than %d bytes",
			 PROTO_MSG_MAX - 1);
		return -1;
	}
	return 0;
}

/* ---- the protocol table ---- */

static bool ping_mode(const struct proto_cfg *cfg)
{
	return cfg->ws_mode && strcmp(cfg->ws_mode, "ping") == 0;
}

/* A masking key from the run's seed and two numbers (splitmix64's finaliser). Masks only have to be
 * unknown to the server in advance (RFC 6455 10.3), which the secret seed gives; they need not be costly. */
static uint32_t mask_key(const struct proto_cfg *cfg, uint64_t a, uint64_t b)
{
	uint64_t s0 = 0, s1 = 0, z;
	unsigned i;

	for (i = 0; i < 8; i++) {
		s0 |= (uint64_t)cfg->ws_seed[i] << (8 * i);
		s1 |= (uint64_t)cfg->ws_seed[8 + i] << (8 * i);
	}
	z = s0 ^ (a * 0x9e3779b97f4a7c15ull) ^ ((b + s1) * 0xbf58476d1ce4e5b9ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)(z ^ (z >> 31));
}

static size_t ws_ops_hello(const struct proto_cfg *cfg, uint64_t id, char *out, size_t outlen)
{
	return ws_build_request(cfg, id, out, outlen);
}

/* Before the handshake (a new connection's state is zeroed): bind it to the digest of the Accept that
 * connection id's key expects, computed again from the seed and the id. Before a phase (the connection is
 * open): the framing stays, as ws_rx_init keeps it. */
static void ws_ops_rx_init(const struct proto_cfg *cfg, uint64_t id, void *st)
{
	struct ws_rx *rx = st;
	char key[WS_KEY_LEN + 1], acc[WS_ACCEPT_LEN + 1];

	if (rx->flags & WS_F_OPEN) {
		ws_rx_init(rx);
		return;
	}
	ws_key(cfg->ws_seed, id, key);
	ws_accept(key, acc);
	ws_rx_bind(rx, ws_digest(acc, WS_ACCEPT_LEN));
}

static enum proto_status ws_ops_hello_feed(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					   size_t *used, struct proto_event *ev)
{
	(void)cfg;
	return ws_hello_feed(st, data, len, used, ev);
}

/* A message: c1m's frame (without its newline, so a line-based echo such as websocketd's sees one line) as a
 * masked text frame, or as the payload of a ping. */
static size_t ws_ops_msg(const struct proto_cfg *cfg, const struct match_frame *f, char *out, size_t outlen)
{
	char payload[MATCH_FRAME_LEN];

	if (match_format(f, payload) < 0)
		return 0;
	return ws_build_frame(ping_mode(cfg) ? WS_OP_PING : WS_OP_TEXT, mask_key(cfg, f->conn, f->seq), payload,
			      WS_PAYLOAD_LEN, out, outlen);
}

/* A frame that is well-formed but wrong where it came: the stream stops there. */
static enum proto_status refuse(struct ws_rx *rx, size_t at, size_t *used, struct proto_event *ev,
				const struct ws_event *we, const char *where)
{
	struct sbuf sb;

	sbuf_init(&sb, ev->note, sizeof(ev->note));
	if (we->op == WS_OP_CLOSE && we->close_code)
		sbuf_printf(&sb, "WebSocket: the server sent a close frame (status %u)%s", we->close_code, where);
	else if (we->op == WS_OP_CLOSE)
		sbuf_printf(&sb, "WebSocket: the server sent a close frame (no status)%s", where);
	else
		sbuf_printf(&sb, "WebSocket: a %u-byte %s message%s", we->bytes,
			    we->op == WS_OP_BINARY ? "binary" : "text", where);
	if (we->op == WS_OP_CLOSE)
		ev->closing = true;
	rx->phase = WS_FAIL;
	*used = at;
	return PROTO_ERROR;
}

/* The phase: the reply to a message is the next data message (echo) or pong (ping) of the echoed length.
 * A server's ping is framed and skipped: the phase writes only messages, and the pong it wants is allowed
 * to wait (RFC 6455 5.5.2 "as soon as practical"); an unsolicited pong is skipped (5.5.3). */
static enum proto_status ws_ops_reply_feed(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					   size_t *used, struct proto_event *ev)
{
	struct ws_event we;
	enum proto_status s;
	size_t pos = 0, u;
	bool ping = ping_mode(cfg);

	for (;;) {
		s = ws_frames_feed(st, data + pos, len - pos, &u, NULL, &we, ev);
		pos += u;
		if (s != PROTO_DONE) {
			*used = pos;
			return s;
		}
		if (we.op == WS_OP_PING || (we.op == WS_OP_PONG && !ping))
			continue;
		if (we.op == WS_OP_CLOSE)
			return refuse(st, pos - 1, used, ev, &we, " instead of a reply");
		if (we.op != WS_OP_PONG && ping)
			return refuse(st, pos - 1, used, ev, &we, " where a pong was expected");
		if (we.bytes != WS_PAYLOAD_LEN) {
			snprintf(ev->note, sizeof(ev->note), "WebSocket: a %u-byte %s where the %u-byte %s was expected",
				 we.bytes, we.op == WS_OP_PONG ? "pong" : we.op == WS_OP_BINARY ? "binary message" :
				 "text message", (unsigned)WS_PAYLOAD_LEN, ping ? "pong" : "echo");
			((struct ws_rx *)st)->phase = WS_FAIL;
			*used = pos - 1;
			return PROTO_ERROR;
		}
		*used = pos;
		return PROTO_DONE;
	}
}

/* Holding: a ping is answered with its pong (streamed into answer), a pong is fine; a message or a close is
 * not what an idle connection expects. One frame per call, so answer never holds more than one pong. */
static enum proto_status ws_ops_idle_feed(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					  size_t *used, char *answer, size_t answer_max, size_t *answer_len,
					  struct proto_event *ev)
{
	struct ws_rx *rx = st;
	struct ws_answer a = { answer, answer_max, 0, mask_key(cfg, rx->accept, rx->mask) };
	struct ws_event we;
	enum proto_status s = ws_frames_feed(rx, data, len, used, &a, &we, ev);

	*answer_len = s == PROTO_ERROR ? 0 : a.len;
	if (s != PROTO_DONE || we.op == WS_OP_PING || we.op == WS_OP_PONG)
		return s;
	return refuse(rx, *used - 1, used, ev, &we, " while the connection was idle");
}

const struct proto_ops proto_ws_ops = {
	.name = "ws",
	.state_size = sizeof(struct ws_rx),
	.pipeline = false,   /* a server may answer only the latest of several pings (RFC 6455 5.5.3) */
	.hello = ws_ops_hello,
	.rx_init = ws_ops_rx_init,
	.hello_feed = ws_ops_hello_feed,
	.msg = ws_ops_msg,
	.reply_feed = ws_ops_reply_feed,
	.idle_feed = ws_ops_idle_feed,
	.keepalive = NULL,   /* the server pings if it wants to; the client answers */
};
