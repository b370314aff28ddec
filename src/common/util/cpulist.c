/* CPU lists (cpulist.h). */
#include "common/util/cpulist.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/util/sbuf.h"

/* A CPU number at *p: decimal digits, no sign, below CPULIST_MAX; *p moves past it. */
static int cpu_number(const char **p, unsigned *out)
{
	unsigned v = 0, digits = 0;

	while (**p >= '0' && **p <= '9') {
		v = v * 10 + (unsigned)(**p - '0');
		if (v >= CPULIST_MAX)
			return -1;
		(*p)++;
		digits++;
	}
	*out = v;
	return digits ? 0 : -1;
}

int cpulist_parse(const char *s, struct cpulist *l, char *err, size_t errlen)
{
	bool seen[CPULIST_MAX] = { false };
	const char *p = s, *item;
	unsigned a, b, c;

	l->count = 0;
	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "an empty list (want e.g. 0-3,6)");
		return -1;
	}
	if (strlen(s) > CPULIST_TEXT_MAX) {
		snprintf(err, errlen, "longer than %d bytes", CPULIST_TEXT_MAX);
		return -1;
	}
	for (;;) {
		item = p;
		if (cpu_number(&p, &a) < 0)
			goto bad;
		b = a;
		if (*p == '-') {
			p++;
			if (cpu_number(&p, &b) < 0)
				goto bad;
			if (b < a) {
				snprintf(err, errlen, "'%.*s' is a reversed range", (int)(p - item), item);
				l->count = 0;
				return -1;
			}
		}
		if (*p != ',' && *p != '\0')
			goto bad;
		for (c = a; c <= b; c++) {
			if (seen[c]) {
				snprintf(err, errlen, "CPU %u is listed twice", c);
				l->count = 0;
				return -1;
			}
			seen[c] = true;
			l->cpu[l->count++] = (uint16_t)c;
		}
		if (*p == '\0')
			return 0;
		p++;
	}
bad:
	if (p == item && (*p == ',' || *p == '\0')) {
		snprintf(err, errlen, "an empty entry (two commas, or one at an end)");
		l->count = 0;
		return -1;
	}
	while (*p && *p != ',')
		p++;
	snprintf(err, errlen, "'%.*s' is not a CPU number 0..%d or a range A-B of them", (int)(p - item), item,
		 CPULIST_MAX - 1);
	l->count = 0;
	return -1;
}

int cpulist_format(const struct cpulist *l, char *buf, size_t len)
{
	struct sbuf o;
	unsigned i = 0, j;

	if (buf == NULL || len == 0)
		return -1;
	sbuf_init(&o, buf, len);
	while (i < l->count) {
		for (j = i; j + 1 < l->count && l->cpu[j + 1] == l->cpu[j] + 1; j++)
			;
		sbuf_printf(&o, "%s%u", i ? "," : "", (unsigned)l->cpu[i]);
		if (j > i)
			sbuf_printf(&o, "-%u", (unsigned)l->cpu[j]);
		i = j + 1;
	}
	return sbuf_done(&o) < 0 ? -1 : (int)strlen(buf);
}
