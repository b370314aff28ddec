/* Command-line numbers: see num.h. Hand-written rather than strtoull/strtod, which accept signs, blanks,
 * exponents and hexadecimal that no c1m flag means. */
#include "common/util/num.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Digits s[0..n) as a number; false when empty, not all digits, or past UINT64_MAX. */
static bool num_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int num_range(const char *s, uint64_t v, uint64_t lo, uint64_t hi, char *err, size_t errlen)
{
	if (v < lo || v > hi) {
		snprintf(err, errlen, "%s is out of range %" PRIu64 "..%" PRIu64, s, lo, hi);
		return -1;
	}
	return 0;
}

int num_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *err, size_t errlen)
{
	uint64_t v;

	if (s == NULL || !num_digits(s, strlen(s), &v)) {
		snprintf(err, errlen, "'%s' is not a whole number", s ? s : "");
		return -1;
	}
	if (num_range(s, v, lo, hi, err, errlen) < 0)
		return -1;
	*out = v;
	return 0;
}

int num_parse_bytes(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *err, size_t errlen)
{
	size_t n = s ? strlen(s) : 0;
	uint64_t mult = 1, v;

	if (n > 0 && (s[n - 1] == 'k' || s[n - 1] == 'K'))
		mult = 1024;
	else if (n > 0 && (s[n - 1] == 'm' || s[n - 1] == 'M'))
		mult = 1024 * 1024;
	if (!num_digits(s ? s : "", mult == 1 ? n : n - 1, &v) || v > UINT64_MAX / mult) {
		snprintf(err, errlen, "'%s' is not a byte count (a whole number, optionally with k or M)", s ? s : "");
		return -1;
	}
	if (num_range(s, v * mult, lo, hi, err, errlen) < 0)
		return -1;
	*out = v * mult;
	return 0;
}

int num_parse_ms(const char *s, uint64_t max_ms, uint64_t *out_ms, char *err, size_t errlen)
{
	const char *dot = s ? strchr(s, '.') : NULL;
	size_t n = s ? (dot ? (size_t)(dot - s) : strlen(s)) : 0;
	uint64_t whole, frac = 0, scale = 100;
	const char *p;

	if (s == NULL || !num_digits(s, n, &whole) || (dot != NULL && dot[1] == '\0'))
		goto bad;
	for (p = dot ? dot + 1 : ""; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || scale == 0)
			goto bad;
		frac += (uint64_t)(*p - '0') * scale;
		scale /= 10;
	}
	if (whole > max_ms / 1000 || whole * 1000 + frac > max_ms) {
		snprintf(err, errlen, "%s seconds is more than %" PRIu64 ".%03" PRIu64, s, max_ms / 1000, max_ms % 1000);
		return -1;
	}
	*out_ms = whole * 1000 + frac;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not a number of seconds (up to 3 decimals)", s ? s : "");
	return -1;
}

/* Two digits per step from a 200-byte table, and the leading zeros by memset once v runs out: the latency
 * phase formats 40 digits per frame twice per message (to send it and to match its reply), and most of the
 * connection and sequence fields are leading zeros. Callgrind counted ~234 instructions a call before. */
static const char num_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

int num_put_fixed(char *out, unsigned width, uint64_t v)
{
	char tmp[20];
	unsigned i = width, d;

	if (width == 0 || width > sizeof(tmp))  /* a uint64_t has at most 20 digits */
		return -1;
	while (v >= 10 && i >= 2) {
		d = (unsigned)(v % 100) * 2;
		v /= 100;
		tmp[--i] = num_pairs[d + 1];
		tmp[--i] = num_pairs[d];
	}
	if (i > 0 && v < 10) {
		tmp[--i] = (char)('0' + v);
		v = 0;
	}
	if (v != 0)
		return -1;
	memset(tmp, '0', i);
	memcpy(out, tmp, width);
	return 0;
}
