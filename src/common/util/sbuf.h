/* A bounded string builder over a caller's buffer: printf-style appends that never overrun, and one
 * truncation flag checked at the end, so a formatter can append freely and fail once. It also counts the
 * bytes the whole text needs, past the end of the buffer like snprintf, so a caller whose output has no fixed
 * bound (the metrics scrape) can grow its buffer to the size and render again. */
#ifndef C1M_SBUF_H
#define C1M_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char  *buf;      /* caller's buffer, always NUL-terminated once initialised with len > 0 */
	size_t len;      /* its size, bytes */
	size_t used;     /* bytes written, without the NUL */
	bool   overflow; /* an append did not fit: the text is truncated */
	size_t needed;   /* bytes the whole text needs, without the NUL, appends that did not fit included */
};

void sbuf_init(struct sbuf *sb, char *buf, size_t len);
/* Continues the NUL-terminated text already in buf[0..len) (a field filled in several passes). A buf with no
 * NUL in its len bytes counts as full and truncated. */
void sbuf_resume(struct sbuf *sb, char *buf, size_t len);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void sbuf_printf(struct sbuf *sb, const char *fmt, ...);

/* Appends s as a JSON string literal: quote and backslash escaped, \n \t \r as such, other control characters
 * as \u00XX; other bytes pass through, so s must be UTF-8. */
void sbuf_json_string(struct sbuf *sb, const char *s);

/* Bytes written, or -1 when anything was truncated. */
int sbuf_done(const struct sbuf *sb);

/* Bytes the whole text needs, without the NUL, as snprintf returns it: more than fit when truncated, so a
 * buffer of sbuf_needed() + 1 bytes holds it all. */
size_t sbuf_needed(const struct sbuf *sb);

#endif
