/* JSON writer and reader: see json.h. The reader's skip walks nested values with an explicit stack, so the
 * depth of the input costs no C stack; only the caller's own callbacks nest, as deep as the caller's code. */
#include "common/util/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ---- */

/* Comma and key before a value; a second top-level value is misuse. */
static void json_w_member(struct json_w *w, const char *key)
{
	if (w->depth > 0) {
		if (w->need_comma[w->depth - 1])
			sbuf_printf(&w->sb, ",");
		w->need_comma[w->depth - 1] = true;
	} else if (w->sb.used > 0) {
		w->bad = true;
	}
	if (key) {
		sbuf_json_string(&w->sb, key);
		sbuf_printf(&w->sb, ":");
	}
}

void json_w_init(struct json_w *w, char *buf, size_t len)
{
	memset(w, 0, sizeof(*w));
	sbuf_init(&w->sb, buf, len);
}

static void json_w_open(struct json_w *w, const char *key, char bracket)
{
	json_w_member(w, key);
	sbuf_printf(&w->sb, "%c", bracket);
	if (w->depth >= JSON_MAX_DEPTH) {
		w->bad = true;
		return;
	}
	w->need_comma[w->depth++] = false;
}

static void json_w_close(struct json_w *w, char bracket)
{
	if (w->depth == 0) {
		w->bad = true;
		return;
	}
	w->depth--;
	sbuf_printf(&w->sb, "%c", bracket);
}

void json_w_object_begin(struct json_w *w, const char *key)
{
	json_w_open(w, key, '{');
}

void json_w_object_end(struct json_w *w)
{
	json_w_close(w, '}');
}

void json_w_array_begin(struct json_w *w, const char *key)
{
	json_w_open(w, key, '[');
}

void json_w_array_end(struct json_w *w)
{
	json_w_close(w, ']');
}

void json_w_string(struct json_w *w, const char *key, const char *value)
{
	json_w_member(w, key);
	sbuf_json_string(&w->sb, value ? value : "");
}

void json_w_u64(struct json_w *w, const char *key, uint64_t v)
{
	json_w_member(w, key);
	sbuf_printf(&w->sb, "%" PRIu64, v);
}

void json_w_i64(struct json_w *w, const char *key, int64_t v)
{
	json_w_member(w, key);
	sbuf_printf(&w->sb, "%" PRId64, v);
}

void json_w_double(struct json_w *w, const char *key, double v, int decimals)
{
	json_w_member(w, key);
	if (!isfinite(v)) {
		sbuf_printf(&w->sb, "null");
		return;
	}
	if (decimals < 0 || decimals > 9)
		decimals = 3;
	sbuf_printf(&w->sb, "%.*f", decimals, v);
}

void json_w_bool(struct json_w *w, const char *key, bool v)
{
	json_w_member(w, key);
	sbuf_printf(&w->sb, "%s", v ? "true" : "false");
}

void json_w_null(struct json_w *w, const char *key)
{
	json_w_member(w, key);
	sbuf_printf(&w->sb, "null");
}

void json_w_u64_or_null(struct json_w *w, const char *key, uint64_t v, uint64_t none)
{
	if (v == none)
		json_w_null(w, key);
	else
		json_w_u64(w, key, v);
}

void json_w_string_or_null(struct json_w *w, const char *key, const char *value)
{
	if (value == NULL || value[0] == '\0')
		json_w_null(w, key);
	else
		json_w_string(w, key, value);
}

int json_w_finish(struct json_w *w)
{
	if (w->bad || w->depth != 0)
		return -1;
	return sbuf_done(&w->sb);
}

/* ---- reader ---- */

void json_r_init(struct json_r *j, const char *text, size_t len, const char *what, char *err, size_t errlen)
{
	j->start = j->p = text;
	j->end = text != NULL ? text + len : NULL;
	j->what = what != NULL ? what : "JSON";
	j->err = err;
	j->errlen = errlen;
}

int json_r_fail(struct json_r *j, const char *msg)
{
	snprintf(j->err, j->errlen, "%s: %s at byte %zu", j->what, msg, (size_t)(j->p - j->start));
	return -1;
}

void json_r_ws(struct json_r *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

bool json_r_peek(struct json_r *j, char c)
{
	return j->p < j->end && *j->p == c;
}

bool json_r_at_number(struct json_r *j)
{
	return j->p < j->end && (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'));
}

static int json_r_hex4(struct json_r *j, unsigned *v)
{
	unsigned i;

	*v = 0;
	if (j->end - j->p < 4)
		return json_r_fail(j, "short \\u escape");
	for (i = 0; i < 4; i++) {
		char h = j->p[i];
		unsigned d = h >= '0' && h <= '9' ? (unsigned)(h - '0') :
			     h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10) :
			     h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10) : 16;

		if (d == 16)
			return json_r_fail(j, "bad \\u escape");
		*v = *v << 4 | d;
	}
	j->p += 4;
	return 0;
}

/* The byte an escape after the backslash stands for. */
static int json_r_escape(struct json_r *j, unsigned char *c)
{
	unsigned v;

	if (j->p >= j->end)
		return json_r_fail(j, "unterminated string");
	*c = (unsigned char)*j->p++;
	switch (*c) {
	case '"': case '\\': case '/': return 0;
	case 'b': *c = '\b'; return 0;
	case 'f': *c = '\f'; return 0;
	case 'n': *c = '\n'; return 0;
	case 'r': *c = '\r'; return 0;
	case 't': *c = '\t'; return 0;
	case 'u':
		if (json_r_hex4(j, &v) < 0)
			return -1;
		*c = v >= 0x20 && v < 0x80 ? (unsigned char)v : '?';
		return 0;
	default:
		return json_r_fail(j, "bad escape in a string");
	}
}

int json_r_string(struct json_r *j, char *out, size_t outlen, size_t *full)
{
	size_t n = 0;

	if (!json_r_peek(j, '"'))
		return json_r_fail(j, "expected a string");
	j->p++;
	for (;;) {
		unsigned char c;

		if (j->p >= j->end)
			return json_r_fail(j, "unterminated string");
		c = (unsigned char)*j->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return json_r_fail(j, "control character in a string");
		if (c == '\\' && json_r_escape(j, &c) < 0)
			return -1;
		if (out != NULL && n + 1 < outlen)
			out[n] = (char)c;
		n++;
	}
	if (out != NULL && outlen > 0)
		out[n < outlen ? n : outlen - 1] = '\0';
	if (full != NULL)
		*full = n;
	return 0;
}

static bool json_r_digit(struct json_r *j)
{
	return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

/* One or more digits. */
static int json_r_digits(struct json_r *j)
{
	if (!json_r_digit(j))
		return json_r_fail(j, "bad number");
	while (json_r_digit(j))
		j->p++;
	return 0;
}

int json_r_number(struct json_r *j, uint64_t *v, bool *whole)
{
	bool neg = false, frac = false, fits = true;
	uint64_t x = 0;

	if (json_r_peek(j, '-')) {
		neg = true;
		j->p++;
	}
	if (!json_r_digit(j))
		return json_r_fail(j, "bad number");
	if (*j->p == '0' && j->end - j->p > 1 && j->p[1] >= '0' && j->p[1] <= '9')
		return json_r_fail(j, "number with a leading zero");
	while (json_r_digit(j)) {
		unsigned d = (unsigned)(*j->p - '0');

		if (x > (UINT64_MAX - d) / 10)
			fits = false;
		else
			x = x * 10 + d;
		j->p++;
	}
	if (json_r_peek(j, '.')) {
		frac = true;
		j->p++;
		if (json_r_digits(j) < 0)
			return -1;
	}
	if (json_r_peek(j, 'e') || json_r_peek(j, 'E')) {
		frac = true;
		j->p++;
		if (json_r_peek(j, '+') || json_r_peek(j, '-'))
			j->p++;
		if (json_r_digits(j) < 0)
			return -1;
	}
	*whole = !neg && !frac && fits;
	*v = *whole ? x : 0;
	return 0;
}

int json_r_double(struct json_r *j, double *v)
{
	const char *from = j->p;
	char tmp[64], *s = tmp;
	uint64_t u;
	bool whole;
	size_t n;

	if (json_r_number(j, &u, &whole) < 0)
		return -1;
	/* JSON puts no bound on a number's length, and strtod needs a NUL: copy it, to the heap if long. */
	n = (size_t)(j->p - from);
	if (n >= sizeof(tmp) && (s = malloc(n + 1)) == NULL) {
		j->p = from;
		return json_r_fail(j, "out of memory for a long number");
	}
	memcpy(s, from, n);
	s[n] = '\0';
	*v = strtod(s, NULL);   /* the grammar was checked above; strtod only converts */
	if (s != tmp)
		free(s);
	return 0;
}

static int json_r_word(struct json_r *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) >= n && memcmp(j->p, w, n) == 0) {
		j->p += n;
		return 0;
	}
	return -1;
}

int json_r_bool(struct json_r *j, bool *v)
{
	if (json_r_word(j, "true") == 0)
		*v = true;
	else if (json_r_word(j, "false") == 0)
		*v = false;
	else
		return json_r_fail(j, "expected true or false");
	return 0;
}

static int json_r_literal(struct json_r *j)
{
	if (json_r_word(j, "true") == 0 || json_r_word(j, "false") == 0 || json_r_word(j, "null") == 0)
		return 0;
	return json_r_fail(j, "unexpected character");
}

/* After "," or "{" inside an object: the next key and its colon. */
static int json_r_skip_key(struct json_r *j)
{
	json_r_ws(j);
	if (json_r_string(j, NULL, 0, NULL) < 0)
		return -1;
	json_r_ws(j);
	if (!json_r_peek(j, ':'))
		return json_r_fail(j, "expected ':'");
	j->p++;
	return 0;
}

/* A scalar, or the opening of a container (pushed on the stack, or closed at once when empty). */
static int json_r_skip_value(struct json_r *j, char *stack, unsigned *depth)
{
	uint64_t v;
	bool whole;
	char close;

	json_r_ws(j);
	if (j->p >= j->end)
		return json_r_fail(j, "unexpected end");
	if (*j->p == '"')
		return json_r_string(j, NULL, 0, NULL);
	if (json_r_at_number(j))
		return json_r_number(j, &v, &whole);
	if (*j->p != '{' && *j->p != '[')
		return json_r_literal(j);
	close = *j->p == '{' ? '}' : ']';
	if (*depth == JSON_MAX_DEPTH)
		return json_r_fail(j, "nested too deep");
	j->p++;
	json_r_ws(j);
	if (json_r_peek(j, close)) {
		j->p++;
		return 0;
	}
	stack[(*depth)++] = close;
	return close == '}' ? json_r_skip_key(j) : 0;
}

int json_r_skip(struct json_r *j)
{
	char stack[JSON_MAX_DEPTH];
	unsigned depth = 0;

	for (;;) {
		unsigned before = depth;

		if (json_r_skip_value(j, stack, &depth) < 0)
			return -1;
		if (depth > before)
			continue;   /* a container opened: its first value follows */
		/* after a value: close containers, or a comma and the next member */
		for (;;) {
			if (depth == 0)
				return 0;
			json_r_ws(j);
			if (json_r_peek(j, stack[depth - 1])) {
				j->p++;
				depth--;
				continue;
			}
			if (!json_r_peek(j, ','))
				return json_r_fail(j, "expected ',' or a closing bracket");
			j->p++;
			if (stack[depth - 1] == '}' && json_r_skip_key(j) < 0)
				return -1;
			break;
		}
	}
}

/* The members or elements of a container whose opening bracket is at the cursor. */
static int json_r_walk(struct json_r *j, char open, json_r_fn fn, void *arg)
{
	char close = open == '{' ? '}' : ']', key[JSON_KEY_MAX];
	size_t full;

	json_r_ws(j);
	if (!json_r_peek(j, open))
		return json_r_fail(j, open == '{' ? "expected an object" : "expected an array");
	j->p++;
	json_r_ws(j);
	if (json_r_peek(j, close)) {
		j->p++;
		return 0;
	}
	for (;;) {
		json_r_ws(j);
		if (open == '{') {
			if (json_r_string(j, key, sizeof(key), &full) < 0)
				return -1;
			if (full >= sizeof(key))
				key[0] = '\0';
			json_r_ws(j);
			if (!json_r_peek(j, ':'))
				return json_r_fail(j, "expected ':'");
			j->p++;
			json_r_ws(j);
		}
		if (fn(j, open == '{' ? key : NULL, arg) < 0)
			return -1;
		json_r_ws(j);
		if (json_r_peek(j, ',')) {
			j->p++;
			continue;
		}
		if (json_r_peek(j, close)) {
			j->p++;
			return 0;
		}
		return json_r_fail(j, open == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

int json_r_object(struct json_r *j, json_r_fn fn, void *arg)
{
	return json_r_walk(j, '{', fn, arg);
}

int json_r_array(struct json_r *j, json_r_fn fn, void *arg)
{
	return json_r_walk(j, '[', fn, arg);
}

int json_r_opt_u64(struct json_r *j, uint64_t *out)
{
	uint64_t v;
	bool whole;

	if (!json_r_at_number(j))
		return json_r_skip(j);
	if (json_r_number(j, &v, &whole) < 0)
		return -1;
	if (whole)
		*out = v;
	return 0;
}

int json_r_end(struct json_r *j)
{
	json_r_ws(j);
	if (j->p != j->end)
		return json_r_fail(j, "text after the end");
	return 0;
}
