/* RESP2 replies framed incrementally, and commands built as RESP arrays (proto_resp.h). Pure: no I/O, no
 * allocation; the only state is the caller's struct resp_rx. */
#include "client/proto_resp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum resp_phase {
	RESP_TYPE,                   /* the type byte of the next value */
	RESP_LINE,                   /* + or -: the text up to CR */
	RESP_NUM,                    /* : $ *: the number up to CR */
	RESP_LF,                     /* the LF after a line's or a number's CR */
	RESP_BULK,                   /* the bulk's bytes */
	RESP_BULK_CR,                /* the CR after them */
	RESP_BULK_LF,                /* the LF after that */
	RESP_FAIL,                   /* malformed: every later byte is refused */
};

enum {
	RESP_F_NEG = 1,              /* the number began with '-' */
	RESP_F_DIGIT = 2,            /* the number has a digit */
	RESP_F_ERR = 4,              /* the reply holds an -error */
};

void resp_rx_init(struct resp_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

static enum proto_status fail(struct resp_rx *rx, const char *data, size_t len, size_t at, size_t *used,
			      struct proto_event *ev, const char *what)
{
	char quoted[64];            /* the note keeps room for the what */

	proto_escape(data + at, len - at, PROTO_FIRST_BYTES, quoted, sizeof(quoted));
	snprintf(ev->note, sizeof(ev->note), "RESP: %s at \"%s\"", what, quoted);
	rx->phase = RESP_FAIL;
	*used = at;
	return PROTO_ERROR;
}

/* One value complete: true when it was the reply's last. */
static int value_done(struct resp_rx *rx)
{
	rx->pending--;
	rx->phase = RESP_TYPE;
	return rx->pending == 0;
}

enum proto_status resp_feed(struct resp_rx *rx, const char *data, size_t len, size_t *used,
			    struct proto_event *ev)
{
	size_t i = 0, err_from = 0, n;
	int err_here = 0;
	unsigned char c;

	ev->code = 0;
	ev->closing = false;
	ev->note[0] = '\0';
	if (rx->phase == RESP_FAIL)
		return fail(rx, data, len, 0, used, ev, "input after an error");
	if (rx->phase == RESP_LINE && rx->type == '-') {
		err_here = 1;
		err_from = 0;
	}
	while (i < len) {
		c = (unsigned char)data[i];
		switch (rx->phase) {
		case RESP_TYPE:
			if (c != '+' && c != '-' && c != ':' && c != '$' && c != '*')
				return fail(rx, data, len, i, used, ev, "not a RESP2 type byte");
			if (rx->pending == 0)
				rx->pending = 1;
			rx->type = c;
			rx->num = 0;
			rx->line = 0;
			rx->flags &= RESP_F_ERR;
			if (c == '-') {
				rx->flags |= RESP_F_ERR;
				err_here = 1;
				err_from = i + 1;
			}
			rx->phase = (c == '+' || c == '-') ? RESP_LINE : RESP_NUM;
			i++;
			break;
		case RESP_LINE:
			if (c == '\r') {
				rx->phase = RESP_LF;
				if (rx->type == '-' && err_here && !ev->note[0])
					proto_escape(data + err_from, i - err_from, PROTO_NOTE_LEN - 8, ev->note,
						     sizeof(ev->note));
			} else if (c == '\n') {
				return fail(rx, data, len, i, used, ev, "LF without CR in a line");
			} else if (++rx->line > RESP_LINE_MAX) {
				return fail(rx, data, len, i, used, ev, "line longer than 65536 bytes");
			}
			i++;
			break;
		case RESP_NUM:
			if (c == '-' && !(rx->flags & (RESP_F_NEG | RESP_F_DIGIT))) {
				rx->flags |= RESP_F_NEG;
			} else if (c >= '0' && c <= '9') {
				if (rx->num > (UINT64_MAX / 2 - 9) / 10)
					return fail(rx, data, len, i, used, ev, "number out of range");
				rx->num = rx->num * 10 + (uint64_t)(c - '0');
				rx->flags |= RESP_F_DIGIT;
			} else if (c == '\r' && (rx->flags & RESP_F_DIGIT)) {
				if (rx->type != ':' && (rx->flags & RESP_F_NEG) && rx->num != 1)
					return fail(rx, data, len, i, used, ev, "negative length other than -1");
				if (rx->type == '$' && !(rx->flags & RESP_F_NEG) && rx->num > RESP_BULK_MAX)
					return fail(rx, data, len, i, used, ev, "bulk longer than 512 MiB");
				if (rx->type == '*' && !(rx->flags & RESP_F_NEG) && rx->num > RESP_ARRAY_MAX)
					return fail(rx, data, len, i, used, ev, "array of more than 2^24 elements");
				rx->phase = RESP_LF;
			} else {
				return fail(rx, data, len, i, used, ev, "not a number");
			}
			i++;
			break;
		case RESP_LF:
			if (c != '\n')
				return fail(rx, data, len, i, used, ev, "CR without LF");
			i++;
			if (rx->type == '$' && !(rx->flags & RESP_F_NEG)) {
				rx->phase = rx->num ? RESP_BULK : RESP_BULK_CR;
				break;
			}
			if (rx->type == '*' && !(rx->flags & RESP_F_NEG)) {
				/* the array is one value owed; its elements are owed instead */
				rx->pending += rx->num;
			}
			if (value_done(rx))
				goto done;
			break;
		case RESP_BULK:
			n = len - i;
			if (n > rx->num)
				n = (size_t)rx->num;
			rx->num -= n;
			i += n;
			if (rx->num == 0)
				rx->phase = RESP_BULK_CR;
			break;
		case RESP_BULK_CR:
			if (c != '\r')
				return fail(rx, data, len, i, used, ev, "bulk longer than its length");
			rx->phase = RESP_BULK_LF;
			i++;
			break;
		case RESP_BULK_LF:
			if (c != '\n')
				return fail(rx, data, len, i, used, ev, "CR without LF after a bulk");
			i++;
			if (value_done(rx))
				goto done;
			break;
		default:
			return fail(rx, data, len, i, used, ev, "input after an error");
		}
	}
	*used = i;
	ev->note[0] = '\0';
	return PROTO_PARTIAL;
done:
	*used = i;
	if (rx->flags & RESP_F_ERR)
		ev->code = RESP_ERR_CODE;
	else
		ev->note[0] = '\0';
	resp_rx_init(rx);
	return PROTO_DONE;
}

size_t resp_build_command(const char *cmd, char *out, size_t outlen)
{
	const char *p, *w;
	size_t words = 0, pos, wl;
	int k;

	for (p = cmd; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != ' ' && *p != '\t')
			return 0;
	for (p = cmd; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		words++;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (words == 0)
		return 0;
	k = snprintf(out, outlen, "*%zu\r\n", words);
	if (k < 0 || (size_t)k >= outlen)
		return 0;
	pos = (size_t)k;
	for (p = cmd; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		w = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		wl = (size_t)(p - w);
		k = snprintf(out + pos, outlen - pos, "$%zu\r\n", wl);
		if (k < 0 || (size_t)k >= outlen - pos || outlen - pos - (size_t)k < wl + 3)
			return 0;
		pos += (size_t)k;
		memcpy(out + pos, w, wl);
		pos += wl;
		memcpy(out + pos, "\r\n", 3);
		pos += 2;
	}
	return pos;
}

int resp_check(const struct proto_cfg *cfg, char *err, size_t errlen)
{
	char out[PROTO_MSG_MAX];
	const char *v[2] = { cfg->command, cfg->hello }, *flag[2] = { "--command", "--hello" };
	unsigned i;

	for (i = 0; i < 2; i++)
		if (v[i] && resp_build_command(v[i], out, sizeof(out)) == 0) {
			snprintf(err, errlen, "%s '%s': needs a word, no control byte, and at most %d bytes as RESP",
				 flag[i], v[i], PROTO_MSG_MAX - 1);
			return -1;
		}
	return 0;
}

/* ---- the protocol table ---- */

static size_t redis_hello(const struct proto_cfg *cfg, uint64_t id, char *out, size_t outlen)
{
	(void)id;
	return resp_build_command(cfg->hello ? cfg->hello : "PING", out, outlen);
}

static void redis_rx_init(const struct proto_cfg *cfg, uint64_t id, void *st)
{
	(void)cfg;
	(void)id;
	resp_rx_init(st);
}

/* The reply a PING handshake must get, checked byte by byte across calls in rx->pad (which resp_feed
 * leaves alone until the reply ends): the bytes matched so far, or PONG_BAD once one differed. */
static const char pong[] = "+PONG\r\n";
#define PONG_LEN (sizeof(pong) - 1)
#define PONG_BAD 0xffu

static bool hello_is_ping(const struct proto_cfg *cfg)
{
	return cfg->hello == NULL || strcasecmp(cfg->hello, "PING") == 0;
}

/* The handshake's reply: an -error (Redis's "ERR max number of clients reached", a wrong AUTH) refuses the
 * connection with its text; otherwise PING must get exactly +PONG, and --hello any other value. */
static enum proto_status redis_hello_feed(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					  size_t *used, struct proto_event *ev)
{
	struct resp_rx *rx = st;
	unsigned seen = rx->pad;
	enum proto_status s = resp_feed(rx, data, len, used, ev);
	size_t i, n, bad = 0;
	char quoted[64];

	if (s == PROTO_DONE && ev->code) {
		if (!ev->note[0])
			snprintf(ev->note, sizeof(ev->note), "an -error reply");
		return PROTO_REFUSED;
	}
	if (s == PROTO_ERROR || !hello_is_ping(cfg))
		return s;
	n = s == PROTO_PARTIAL ? len : *used;
	for (i = 0; i < n && seen != PONG_BAD; i++) {
		seen = seen < PONG_LEN && data[i] == pong[seen] ? seen + 1 : PONG_BAD;
		bad = i;
	}
	if (s == PROTO_PARTIAL) {
		rx->pad = (uint8_t)seen;
		return s;
	}
	if (seen == PONG_LEN)
		return s;
	proto_escape(data, n, PROTO_FIRST_BYTES, quoted, sizeof(quoted));
	snprintf(ev->note, sizeof(ev->note), "PING answered with \"%s\", not +PONG", quoted);
	*used = bad;
	return PROTO_ERROR;
}

static size_t redis_msg(const struct proto_cfg *cfg, const struct match_frame *f, char *out, size_t outlen)
{
	(void)f;
	return resp_build_command(cfg->command ? cfg->command : "PING", out, outlen);
}

static enum proto_status redis_reply_feed(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					  size_t *used, struct proto_event *ev)
{
	(void)cfg;
	return resp_feed(st, data, len, used, ev);
}

const struct proto_ops proto_redis_ops = {
	.name = "redis",
	.state_size = sizeof(struct resp_rx),
	.pipeline = false,
	.hello = redis_hello,
	.rx_init = redis_rx_init,
	.hello_feed = redis_hello_feed,
	.msg = redis_msg,
	.reply_feed = redis_reply_feed,
	.idle_feed = NULL,   /* RESP2 without SUBSCRIBE: the server never speaks unasked */
	.keepalive = NULL,
};
