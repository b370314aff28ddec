/* Parsing of IPv4 ranges and port ranges. The quads are parsed by hand rather than with inet_pton because
 * inet_pton only says "invalid", while the user deserves to hear that "::1" is IPv6 or that "10.0.0.300" has
 * an octet out of range, and because a range needs to know where the first address ends. */
#include "common/util/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Parses a dotted quad at s, stopping at the first character that is not part of it; *end points there. */
static int parse_quad(const char *s, const char **end, uint32_t *out, char *err, size_t errlen)
{
	uint32_t a = 0;
	unsigned octet, digits;
	int i;

	for (i = 0; i < 4; i++) {
		if (i > 0) {
			if (*s != '.')
				goto bad;
			s++;
		}
		octet = 0;
		digits = 0;
		while (*s >= '0' && *s <= '9') {
			octet = octet * 10 + (unsigned)(*s - '0');
			s++;
			if (++digits > 3)
				goto bad;
		}
		if (digits == 0)
			goto bad;
		if (octet > 255) {
			snprintf(err, errlen, "octet %u is out of range 0..255", octet);
			return -1;
		}
		a = (a << 8) | octet;
	}
	*end = s;
	*out = a;
	return 0;
bad:
	snprintf(err, errlen, "not an IPv4 address (expected A.B.C.D)");
	return -1;
}

static int reject_ipv6(const char *s, char *err, size_t errlen)
{
	if (strchr(s, ':')) {
		snprintf(err, errlen, "'%s' looks like IPv6; only IPv4 addresses are supported", s);
		return -1;
	}
	return 0;
}

int addr_parse_ipv4(const char *s, uint32_t *out, char *err, size_t errlen)
{
	const char *end = s;
	char why[96];

	if (reject_ipv6(s, err, errlen) < 0)
		return -1;
	if (parse_quad(s, &end, out, why, sizeof(why)) < 0)
		goto bad;
	if (*end != '\0') {
		snprintf(why, sizeof(why), "trailing characters");
		goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad IPv4 address '%s': %s", s, why);
	return -1;
}

int addr_parse_range(const char *s, struct addr_range *r, char *err, size_t errlen)
{
	const char *end = s;
	uint32_t first, last;
	uint64_t count;
	char why[96];

	if (reject_ipv6(s, err, errlen) < 0)
		return -1;
	if (parse_quad(s, &end, &first, why, sizeof(why)) < 0)
		goto bad;
	if (*end == '\0') {
		last = first;
	} else if (*end == '-') {
		if (parse_quad(end + 1, &end, &last, why, sizeof(why)) < 0)
			goto bad;
		if (*end != '\0') {
			snprintf(why, sizeof(why), "trailing characters after the range");
			goto bad;
		}
	} else {
		snprintf(why, sizeof(why), "expected A.B.C.D or A.B.C.D-E.F.G.H");
		goto bad;
	}
	if (last < first) {
		snprintf(why, sizeof(why), "the range is reversed (last address before first)");
		goto bad;
	}
	count = (uint64_t)last - first + 1;
	if (count > ADDR_MAX_COUNT) {
		snprintf(why, sizeof(why), "%llu addresses, at most %u allowed",
			 (unsigned long long)count, ADDR_MAX_COUNT);
		goto bad;
	}
	r->first = first;
	r->count = (uint32_t)count;
	return 0;
bad:
	snprintf(err, errlen, "bad address range '%s': %s", s, why);
	return -1;
}

struct in_addr addr_nth(const struct addr_range *r, uint64_t i)
{
	struct in_addr a;

	a.s_addr = htonl(r->first + (uint32_t)(i % r->count));
	return a;
}

int addr_parse_port_range(long base, long count, char *err, size_t errlen)
{
	if (base < 1 || base > 65535) {
		snprintf(err, errlen, "port %ld is out of range 1..65535", base);
		return -1;
	}
	if (count < 1) {
		snprintf(err, errlen, "port count %ld must be at least 1", count);
		return -1;
	}
	if (count > 65535 || base + count - 1 > 65535) {
		snprintf(err, errlen, "ports %ld..%ld go past 65535", base, base + count - 1);
		return -1;
	}
	return 0;
}

char *addr_format(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

char *addr_format_range(const struct addr_range *r, char *buf, size_t len)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	addr_format(r->first, a, sizeof(a));
	if (r->count == 1)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s-%s", a, addr_format(r->first + r->count - 1, b, sizeof(b)));
	return buf;
}
