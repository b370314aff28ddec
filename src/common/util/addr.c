/* Parsing of IPv4 and IPv6 addresses, ranges of them, and port ranges. The quads are parsed by hand rather
 * than with inet_pton because inet_pton only says "invalid", while the user deserves to hear that
 * "10.0.0.300" has an octet out of range; IPv6 text goes to inet_pton (its grammar, with :: and an embedded
 * quad, is not worth a second implementation), with the common mistakes (brackets, a zone) named first.
 * IPv6 arithmetic is done on the 16 bytes with a carry, so no 128-bit integer type is needed. */
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
	snprintf(err, errlen, "not an address (expected IPv4 A.B.C.D, or IPv6 such as 2001:2::1)");
	return -1;
}

/* IPv6 text: what inet_pton takes, with the mistakes it would only call "invalid" named. */
static int parse_ipv6(const char *s, unsigned char b[16], char *err, size_t errlen)
{
	if (s[0] == '[') {
		snprintf(err, errlen, "write the IPv6 address without brackets");
		return -1;
	}
	if (strchr(s, '%')) {
		snprintf(err, errlen, "zone ids (%%eth0) are not supported: use a global or loopback address");
		return -1;
	}
	if (strlen(s) >= ADDR_STRLEN || inet_pton(AF_INET6, s, b) != 1) {
		snprintf(err, errlen, "not an IPv6 address (expected e.g. ::1 or 2001:2::1)");
		return -1;
	}
	return 0;
}

/* One whole address of either family at s; why gets the reason without the address. */
static int parse_one(const char *s, struct addr_ip *out, char *why, size_t whylen)
{
	const char *end = s;
	uint32_t a;

	memset(out, 0, sizeof(*out));
	if (strchr(s, ':')) {
		if (parse_ipv6(s, out->b, why, whylen) < 0)
			return -1;
		out->family = AF_INET6;
		return 0;
	}
	if (parse_quad(s, &end, &a, why, whylen) < 0)
		return -1;
	if (*end != '\0') {
		snprintf(why, whylen, "trailing characters");
		return -1;
	}
	*out = addr_ipv4(a);
	return 0;
}

int addr_parse_ip(const char *s, struct addr_ip *out, char *err, size_t errlen)
{
	char why[96];

	if (parse_one(s, out, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "bad address '%s': %s", s, why);
		return -1;
	}
	return 0;
}

int addr_parse_ipv4(const char *s, uint32_t *out, char *err, size_t errlen)
{
	struct addr_ip a;
	char why[96];

	if (strchr(s, ':')) {
		snprintf(err, errlen, "bad IPv4 address '%s': it looks like IPv6, and only IPv4 is taken here", s);
		return -1;
	}
	if (parse_one(s, &a, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "bad IPv4 address '%s': %s", s, why);
		return -1;
	}
	*out = (uint32_t)a.b[0] << 24 | (uint32_t)a.b[1] << 16 | (uint32_t)a.b[2] << 8 | a.b[3];
	return 0;
}

/* last - first as 16 bytes with a borrow: -1 if last < first (or the families differ), 1 if the
 * difference does not fit 64 bits, else 0 with it in *d. */
static int addr_diff(const struct addr_ip *last, const struct addr_ip *first, uint64_t *d)
{
	unsigned char r[16];
	int i, borrow = 0, v, low = first->family == AF_INET ? 3 : 15;
	uint64_t x = 0;

	memset(r, 0, sizeof(r));
	for (i = low; i >= 0; i--) {
		v = (int)last->b[i] - (int)first->b[i] - borrow;
		borrow = v < 0;
		r[i] = (unsigned char)(v + (borrow ? 256 : 0));
	}
	if (borrow)
		return -1;
	if (low == 3) {   /* IPv4 fills the first 4 bytes */
		*d = (uint64_t)r[0] << 24 | (uint64_t)r[1] << 16 | (uint64_t)r[2] << 8 | r[3];
		return 0;
	}
	for (i = 0; i < 8; i++)
		if (r[i] != 0)
			return 1;
	for (i = 8; i < 16; i++)
		x = x << 8 | r[i];
	*d = x;
	return 0;
}

/* The reason a FIRST-LAST pair is not a range, "" if it is one (count in *count). */
static void range_check(const struct addr_ip *first, const struct addr_ip *last, uint64_t *count, char *why,
			size_t whylen)
{
	uint64_t d = 0;
	int rc;

	why[0] = '\0';
	if (first->family != last->family) {
		snprintf(why, whylen, "the two ends are of different families (%s and %s)",
			 addr_family_name(first->family), addr_family_name(last->family));
		return;
	}
	rc = addr_diff(last, first, &d);
	if (rc < 0)
		snprintf(why, whylen, "the range is reversed (last address before first)");
	else if (rc > 0 || d == UINT64_MAX)
		snprintf(why, whylen, "2^64 or more addresses, at most %u allowed", ADDR_MAX_COUNT);
	else if (d >= ADDR_MAX_COUNT)
		snprintf(why, whylen, "%llu addresses, at most %u allowed", (unsigned long long)d + 1, ADDR_MAX_COUNT);
	*count = d + 1;
}

int addr_parse_range(const char *s, struct addr_range *r, char *err, size_t errlen)
{
	const char *dash = strchr(s, '-');
	char a[ADDR_STRLEN], why[128];
	struct addr_ip first, last;
	size_t len = dash ? (size_t)(dash - s) : strlen(s);
	uint64_t count = 1;

	if (len >= sizeof(a)) {
		snprintf(why, sizeof(why), "the first address is too long");
		goto bad;
	}
	memcpy(a, s, len);
	a[len] = '\0';
	if (parse_one(a, &first, why, sizeof(why)) < 0)
		goto bad;
	last = first;
	if (dash) {
		if (strchr(dash + 1, '-')) {
			snprintf(why, sizeof(why), "more than one '-' (expected FIRST or FIRST-LAST)");
			goto bad;
		}
		if (parse_one(dash + 1, &last, why, sizeof(why)) < 0)
			goto bad;
		range_check(&first, &last, &count, why, sizeof(why));
		if (why[0] != '\0')
			goto bad;
	}
	r->first = first;
	r->count = (uint32_t)count;
	return 0;
bad:
	snprintf(err, errlen, "bad address range '%s': %s", s, why);
	return -1;
}

struct addr_ip addr_ipv4(uint32_t a)
{
	struct addr_ip ip;

	memset(&ip, 0, sizeof(ip));
	ip.family = AF_INET;
	ip.b[0] = (unsigned char)(a >> 24);
	ip.b[1] = (unsigned char)(a >> 16);
	ip.b[2] = (unsigned char)(a >> 8);
	ip.b[3] = (unsigned char)a;
	return ip;
}

struct addr_ip addr_add(const struct addr_ip *a, uint64_t k)
{
	struct addr_ip r = *a;
	unsigned carry = 0, v;
	int i, low = a->family == AF_INET ? 3 : 15;

	if (a->family == AF_INET)
		k &= UINT32_MAX;    /* wraps inside the IPv4 space */
	for (i = low; i >= 0; i--) {
		v = (unsigned)r.b[i] + (unsigned)(k & 0xff) + carry;
		r.b[i] = (unsigned char)v;
		carry = v >> 8;
		k >>= 8;
	}
	return r;
}

struct addr_ip addr_nth(const struct addr_range *r, uint64_t i)
{
	return r->count ? addr_add(&r->first, i % r->count) : r->first;
}

struct addr_range addr_range_slice(const struct addr_range *r, uint32_t lo, uint32_t count)
{
	struct addr_range s;

	s.first = addr_add(&r->first, lo);
	s.count = count;
	return s;
}

bool addr_equal(const struct addr_ip *a, const struct addr_ip *b)
{
	return a->family == b->family && memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

bool addr_is_loopback(const struct addr_ip *a)
{
	static const unsigned char one[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return a->b[0] == 127;
	return a->family == AF_INET6 && memcmp(a->b, one, sizeof(one)) == 0;
}

const char *addr_family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "no address";
}

socklen_t addr_sockaddr(const struct addr_ip *a, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->b, 4);
		return sizeof(*sin);
	}
	if (a->family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->b, 16);
		return sizeof(*sin6);
	}
	return 0;
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

char *addr_format(const struct addr_ip *a, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (a->family == 0 || inet_ntop(a->family, a->b, buf, (socklen_t)len) == NULL)
		buf[0] = '\0';
	return buf;
}

char *addr_format_range(const struct addr_range *r, char *buf, size_t len)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	struct addr_ip last = addr_add(&r->first, r->count ? r->count - 1 : 0);

	addr_format(&r->first, a, sizeof(a));
	if (r->count <= 1)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s-%s", a, addr_format(&last, b, sizeof(b)));
	return buf;
}
