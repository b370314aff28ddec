/* IPv4 and IPv6 addresses and address ranges given on the command line (--sources FIRST-LAST, a HOST,
 * --backends ADDR:PORT), and destination port ranges (--port BASE --ports COUNT). Pure parsers: strings in,
 * addresses out, errors as one line of text; no name is ever resolved here (that is net_resolve's, in
 * main). A range is FIRST or FIRST-LAST, both ends inclusive and of one family: 127.0.0.2-127.0.0.9,
 * 2001:2::1-2001:2::ff. It is capped at ADDR_MAX_COUNT addresses (a whole IPv4 /8, a /104 of IPv6), more
 * than any test of this project needs, so a count always fits 32 bits even where the IPv6 space does not. */
#ifndef C1M_ADDR_H
#define C1M_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_MAX_COUNT (1u << 24) /* largest accepted range, addresses */
#define ADDR_STRLEN    46         /* INET6_ADDRSTRLEN: "ffff:...:255.255.255.255" + NUL */
#define ADDR_RANGE_STRLEN (2 * ADDR_STRLEN) /* "FIRST-LAST" + NUL */

/* One address of either family. A zeroed struct is "no address" (family 0). */
struct addr_ip {
	int family;                  /* AF_INET or AF_INET6; 0 = none */
	unsigned char b[16];         /* network byte order; IPv4 fills b[0..3], the rest is 0 */
};

struct addr_range {
	struct addr_ip first;        /* first address */
	uint32_t count;              /* number of consecutive addresses, 1..ADDR_MAX_COUNT (0 = no range) */
};

/* A numeric address: a dotted quad A.B.C.D, or IPv6 text as inet_pton(3) takes it (::1, 2001:2::1,
 * ::ffff:127.0.0.1); no brackets, no zone (%eth0), no name. */
int addr_parse_ip(const char *s, struct addr_ip *out, char *err, size_t errlen);
/* One dotted quad, host byte order (IPv4 only). */
int addr_parse_ipv4(const char *s, uint32_t *out, char *err, size_t errlen);
/* "FIRST" or "FIRST-LAST" (inclusive, LAST >= FIRST, one family). */
int addr_parse_range(const char *s, struct addr_range *r, char *err, size_t errlen);
/* The IPv4 address a (host byte order). */
struct addr_ip addr_ipv4(uint32_t a);
/* a + k, wrapping inside the family's space (k below 2^64; IPv6 adds with a carry over all 128 bits). */
struct addr_ip addr_add(const struct addr_ip *a, uint64_t k);
/* i-th address of the range (i is taken modulo count, so round-robin callers may pass a running counter). */
struct addr_ip addr_nth(const struct addr_range *r, uint64_t i);
/* The count addresses of r from its lo-th on (lo + count <= r->count). */
struct addr_range addr_range_slice(const struct addr_range *r, uint32_t lo, uint32_t count);
/* Same family and bytes. */
bool addr_equal(const struct addr_ip *a, const struct addr_ip *b);
/* 127.0.0.0/8 or ::1: an address every host has on lo. */
bool addr_is_loopback(const struct addr_ip *a);
/* "IPv4" or "IPv6" ("no address" for family 0). */
const char *addr_family_name(int family);
/* sockaddr_in or sockaddr_in6 for a:port in *ss; returns its length (0 for family 0). */
socklen_t addr_sockaddr(const struct addr_ip *a, uint16_t port, struct sockaddr_storage *ss);
/* Ports base .. base+count-1 must all be in 1..65535 and count >= 1. */
int addr_parse_port_range(long base, long count, char *err, size_t errlen);
/* The address as text (dotted quad, or IPv6 in inet_ntop's shortest form) into buf (at least ADDR_STRLEN
 * bytes). Returns buf. */
char *addr_format(const struct addr_ip *a, char *buf, size_t len);
/* "FIRST" or "FIRST-LAST" for a range (buf at least ADDR_RANGE_STRLEN bytes). Returns buf. */
char *addr_format_range(const struct addr_range *r, char *buf, size_t len);

#endif
