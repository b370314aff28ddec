/* IPv4 address ranges and destination port ranges given on the command line (--sources A.B.C.D-E.F.G.H,
 * --port BASE --ports COUNT). Pure parsers: strings in, host-order numbers out, errors as one line of text.
 * A range is capped at ADDR_MAX_COUNT addresses (a whole /8), more than any test of this project needs. */
#ifndef C1M_ADDR_H
#define C1M_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_MAX_COUNT (1u << 24) /* largest accepted range, addresses */
#define ADDR_STRLEN    16         /* "255.255.255.255" + NUL */

struct addr_range {
	uint32_t first; /* first address, host byte order */
	uint32_t count; /* number of consecutive addresses, 1..ADDR_MAX_COUNT */
};

/* "A.B.C.D" or "A.B.C.D-E.F.G.H" (inclusive, E.F.G.H >= A.B.C.D). IPv4 dotted quads only. */
int addr_parse_range(const char *s, struct addr_range *r, char *err, size_t errlen);
/* One dotted quad, host byte order. */
int addr_parse_ipv4(const char *s, uint32_t *out, char *err, size_t errlen);
/* i-th address of the range (i is taken modulo count, so round-robin callers may pass a running counter). */
struct in_addr addr_nth(const struct addr_range *r, uint64_t i);
/* Ports base .. base+count-1 must all be in 1..65535 and count >= 1. */
int addr_parse_port_range(long base, long count, char *err, size_t errlen);
/* Dotted quad of a host-order address into buf (at least ADDR_STRLEN bytes). Returns buf. */
char *addr_format(uint32_t a, char *buf, size_t len);
/* "A.B.C.D" or "A.B.C.D-E.F.G.H" for a range. Returns buf. */
char *addr_format_range(const struct addr_range *r, char *buf, size_t len);

#endif
