/* Bounded string builder: see sbuf.h. After the first truncation every further append is only measured:
 * the text stays as it was cut, and needed goes on counting. */
#include "common/util/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sbuf_init(struct sbuf *sb, char *buf, size_t len)
{
	sb->buf = buf;
	sb->len = len;
	sb->used = 0;
	sb->overflow = len == 0;
	sb->needed = 0;
	if (len > 0)
		buf[0] = '\0';
}

void sbuf_resume(struct sbuf *sb, char *buf, size_t len)
{
	const char *nul = len > 0 ? memchr(buf, '\0', len) : NULL;

	sbuf_init(sb, buf, 0);
	sb->len = len;
	if (nul == NULL) {
		if (len > 0)
			buf[len - 1] = '\0';
		sb->used = len > 0 ? len - 1 : 0;
		sb->overflow = true;
	} else {
		sb->used = (size_t)(nul - buf);
		sb->overflow = false;
	}
	sb->needed = sb->used;
}

void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (sb->overflow)
		n = vsnprintf(NULL, 0, fmt, ap);
	else
		n = vsnprintf(sb->buf + sb->used, sb->len - sb->used, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->overflow = true;
		return;
	}
	sb->needed += (size_t)n;
	if (sb->overflow)
		return;
	if ((size_t)n < sb->len - sb->used)
		sb->used += (size_t)n;
	else
		sb->overflow = true; /* vsnprintf wrote what fit, NUL-terminated */
}

void sbuf_json_string(struct sbuf *sb, const char *s)
{
	sbuf_printf(sb, "\"");
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			sbuf_printf(sb, "\\%c", ch);
		else if (ch == '\n')
			sbuf_printf(sb, "\\n");
		else if (ch == '\t')
			sbuf_printf(sb, "\\t");
		else if (ch == '\r')
			sbuf_printf(sb, "\\r");
		else if (ch < 0x20)
			sbuf_printf(sb, "\\u%04x", ch);
		else
			sbuf_printf(sb, "%c", ch);
	}
	sbuf_printf(sb, "\"");
}

int sbuf_done(const struct sbuf *sb)
{
	return sb->overflow ? -1 : (int)sb->used;
}

size_t sbuf_needed(const struct sbuf *sb)
{
	return sb->needed;
}
