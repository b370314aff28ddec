/* JSON, the one writer and the one reader of the tree. The writer keeps the nesting and the commas over a
 * bounded string builder (sbuf.h), which also escapes the strings; the client's report, the doctor's table
 * and --explain all write through it. The reader is a small validating pull parser over a byte range (no
 * NUL needed): the caller walks objects and arrays with callbacks and reads the values it wants, everything
 * else is skipped and still validated. It never recurses on input and refuses nesting deeper than
 * JSON_MAX_DEPTH, so garbage ends in an error message, never a crash; both are pure and fuzzed. */
#ifndef C1M_UTIL_JSON_H
#define C1M_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util/sbuf.h"

#define JSON_MAX_DEPTH 32   /* nesting levels the writer and the reader accept */
#define JSON_KEY_MAX   64   /* longest object key the reader hands to a member callback, bytes with NUL */

/* ---- writer ---- */

/* Keys are given for members of objects, NULL inside arrays and at the top. Non-finite doubles become null.
 * Overflow and misuse (unbalanced nesting, a second top-level value) are remembered and reported by
 * json_w_finish. */
struct json_w {
	struct sbuf sb;                      /* output, always NUL-terminated */
	unsigned depth;                      /* open objects and arrays */
	bool need_comma[JSON_MAX_DEPTH];     /* a member was already written at this depth */
	bool bad;                            /* misuse seen */
};

void json_w_init(struct json_w *w, char *buf, size_t len);
void json_w_object_begin(struct json_w *w, const char *key);
void json_w_object_end(struct json_w *w);
void json_w_array_begin(struct json_w *w, const char *key);
void json_w_array_end(struct json_w *w);
void json_w_string(struct json_w *w, const char *key, const char *value);  /* NULL value writes "" */
void json_w_u64(struct json_w *w, const char *key, uint64_t v);
void json_w_i64(struct json_w *w, const char *key, int64_t v);
void json_w_double(struct json_w *w, const char *key, double v, int decimals);
void json_w_bool(struct json_w *w, const char *key, bool v);
void json_w_null(struct json_w *w, const char *key);
/* v, or null when v == none (a "not known" or "no limit" sentinel such as UINT64_MAX). */
void json_w_u64_or_null(struct json_w *w, const char *key, uint64_t v, uint64_t none);
/* value, or null when it is NULL or empty. */
void json_w_string_or_null(struct json_w *w, const char *key, const char *value);
/* Length written, or -1 if the buffer overflowed or the nesting is not closed. */
int json_w_finish(struct json_w *w);

/* ---- reader ---- */

struct json_r {
	const char *start, *p, *end;         /* the text, the cursor */
	const char *what;                    /* what is read, first word of every error: "client report" */
	char *err;                           /* caller's error buffer */
	size_t errlen;
};

/* A callback for one member of an object (json_r_object) or one element of an array (json_r_array; key is
 * then NULL). It must consume the value: read it, or json_r_skip it. Returns 0, or -1 after json_r_fail. */
typedef int (*json_r_fn)(struct json_r *j, const char *key, void *arg);

void json_r_init(struct json_r *j, const char *text, size_t len, const char *what, char *err, size_t errlen);
/* Fills err with "<what>: <msg> at byte N" and returns -1. */
int json_r_fail(struct json_r *j, const char *msg);
void json_r_ws(struct json_r *j);
bool json_r_peek(struct json_r *j, char c);          /* the next byte is c (no whitespace skipped) */
bool json_r_at_number(struct json_r *j);             /* a number starts here */
/* A string, decoded into out (may be NULL) and cut to outlen - 1 bytes; *full (may be NULL) is the decoded
 * length, so a cut can be told. \u escapes outside printable ASCII become '?'. */
int json_r_string(struct json_r *j, char *out, size_t outlen, size_t *full);
/* A number by JSON's grammar; *whole says it is a non-negative integer that fits 64 bits, then *v is it. */
int json_r_number(struct json_r *j, uint64_t *v, bool *whole);
/* A number as a double (any JSON number). */
int json_r_double(struct json_r *j, double *v);
/* true or false. */
int json_r_bool(struct json_r *j, bool *v);
/* One value of any type, validated and skipped. */
int json_r_skip(struct json_r *j);
/* An object: fn once per member, with keys longer than JSON_KEY_MAX - 1 passed as "" (they match nothing). */
int json_r_object(struct json_r *j, json_r_fn fn, void *arg);
/* An array: fn once per element. */
int json_r_array(struct json_r *j, json_r_fn fn, void *arg);
/* A whole number into *out; any other value is skipped and *out left alone. */
int json_r_opt_u64(struct json_r *j, uint64_t *out);
/* Only whitespace is left. */
int json_r_end(struct json_r *j);

#endif
