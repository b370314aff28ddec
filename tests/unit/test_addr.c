/* Unit tests for the address and port range parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "common/util/addr.h"

#define V4(a, b, c, d) ((struct addr_ip){ AF_INET, { a, b, c, d } })

static void test_range_ok(void **state)
{
	struct addr_range r;
	char err[128], buf[64];

	(void)state;
	assert_int_equal(addr_parse_range("127.0.0.2-127.0.0.9", &r, err, sizeof(err)), 0);
	assert_true(addr_equal(&r.first, &V4(127, 0, 0, 2)));
	assert_int_equal(r.count, 8);
	assert_string_equal(addr_format_range(&r, buf, sizeof(buf)), "127.0.0.2-127.0.0.9");
	assert_int_equal(addr_parse_range("198.18.0.1", &r, err, sizeof(err)), 0);
	assert_true(addr_equal(&r.first, &V4(198, 18, 0, 1)));
	assert_int_equal(r.count, 1);
	assert_string_equal(addr_format_range(&r, buf, sizeof(buf)), "198.18.0.1");
	assert_int_equal(addr_parse_range("198.18.0.0-198.19.255.255", &r, err, sizeof(err)), 0);
	assert_int_equal(r.count, 131072);
	assert_int_equal(addr_parse_range("127.0.0.0-127.255.255.255", &r, err, sizeof(err)), 0);
	assert_int_equal(r.count, ADDR_MAX_COUNT);
	assert_int_equal(addr_parse_range("127.0.0.5-127.0.0.5", &r, err, sizeof(err)), 0);
	assert_int_equal(r.count, 1);
}

static void expect_bad(const char *s, const char *needle)
{
	struct addr_range r = { V4(7, 7, 7, 7), 7 };
	char err[160] = "";

	assert_int_equal(addr_parse_range(s, &r, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error for '%s' is '%s', expected it to mention '%s'", s, err, needle);
	assert_true(addr_equal(&r.first, &V4(7, 7, 7, 7)));  /* untouched on failure */
	assert_int_equal(r.count, 7);
}

static void test_range_bad(void **state)
{
	(void)state;
	expect_bad("127.0.0.9-127.0.0.2", "reversed");
	expect_bad("", "IPv4");
	expect_bad("hello", "IPv4");
	expect_bad("127.0.0", "IPv4");
	expect_bad("127.0.0.1.5", "trailing");
	expect_bad("127.0.0.256", "out of range");
	expect_bad("127.0.0.1-", "IPv4");
	expect_bad("127.0.0.1-127.0.0.2x", "trailing");
	expect_bad("1270.0.0.1", "IPv4");
	expect_bad("::1::2", "IPv6");
	expect_bad("[::1]", "brackets");
	expect_bad("fe80::1%lo", "zone");
	expect_bad("::2-::1", "reversed");
	expect_bad("::1-127.0.0.1", "different families");
	expect_bad("127.0.0.1-::1", "different families");
	expect_bad("::1-::2-::3", "more than one");
	expect_bad("2001:2::-2001:2::100:0", "16777217 addresses");
	expect_bad("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2^64 or more");
	expect_bad("2001:2::1:2:3:4:5:6:7:8", "IPv6");
	expect_bad("10.0.0.0-12.0.0.0", "at most");
	expect_bad(" 127.0.0.1", "IPv4");
	expect_bad("-127.0.0.1", "IPv4");
}

static void test_single_ipv4(void **state)
{
	uint32_t a = 0;
	char err[128];

	(void)state;
	assert_int_equal(addr_parse_ipv4("127.0.0.1", &a, err, sizeof(err)), 0);
	assert_int_equal(a, 0x7f000001);
	assert_int_equal(addr_parse_ipv4("127.0.0.1-127.0.0.2", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "trailing"));
	assert_int_equal(addr_parse_ipv4("localhost", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "localhost"));
	assert_int_equal(addr_parse_ipv4("::1", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "IPv6"));
}

static void test_nth(void **state)
{
	struct addr_range r = { V4(127, 0, 0, 2), 3 };
	struct addr_ip a;
	char buf[ADDR_STRLEN];

	(void)state;
	a = addr_nth(&r, 0);
	assert_true(addr_equal(&a, &V4(127, 0, 0, 2)));
	a = addr_nth(&r, 2);
	assert_true(addr_equal(&a, &V4(127, 0, 0, 4)));
	a = addr_nth(&r, 3);
	assert_true(addr_equal(&a, &V4(127, 0, 0, 2)));  /* wraps: round-robin */
	a = addr_nth(&r, 3000000002ULL);
	assert_true(addr_equal(&a, &V4(127, 0, 0, 4)));
	assert_string_equal(addr_format(&V4(198, 18, 0, 1), buf, sizeof(buf)), "198.18.0.1");
	/* IPv4 carries from octet to octet and wraps inside its 32 bits */
	a = addr_ipv4(0x7f0000ff);
	a = addr_add(&a, 1);
	assert_true(addr_equal(&a, &V4(127, 0, 1, 0)));
	a = addr_ipv4(0xffffffff);
	a = addr_add(&a, 2);
	assert_true(addr_equal(&a, &V4(0, 0, 0, 1)));
}

/* IPv6: text both ways, ranges, nth with a carry across bytes and 64-bit words, slices. */
static void test_ipv6(void **state)
{
	struct addr_range r, s;
	struct addr_ip a;
	char err[160], buf[ADDR_RANGE_STRLEN];

	(void)state;
	assert_int_equal(addr_parse_ip("::1", &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_true(addr_is_loopback(&a));
	assert_string_equal(addr_format(&a, buf, sizeof(buf)), "::1");
	assert_int_equal(addr_parse_ip("2001:2:0:0:0:0:0:1", &a, err, sizeof(err)), 0);
	assert_false(addr_is_loopback(&a));
	assert_string_equal(addr_format(&a, buf, sizeof(buf)), "2001:2::1");   /* shortest form */
	assert_int_equal(addr_parse_ip("::ffff:127.0.0.1", &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_false(addr_is_loopback(&a));
	assert_int_equal(addr_parse_ip("localhost", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "localhost"));

	assert_int_equal(addr_parse_range("2001:2::1-2001:2::ff", &r, err, sizeof(err)), 0);
	assert_int_equal(r.count, 255);
	assert_string_equal(addr_format_range(&r, buf, sizeof(buf)), "2001:2::1-2001:2::ff");
	a = addr_nth(&r, 254);
	assert_string_equal(addr_format(&a, buf, sizeof(buf)), "2001:2::ff");
	a = addr_nth(&r, 255);
	assert_string_equal(addr_format(&a, buf, sizeof(buf)), "2001:2::1");   /* round-robin */
	/* a range across a byte and a 64-bit word boundary */
	assert_int_equal(addr_parse_range("2001:2:0:0:ffff:ffff:ffff:fffe-2001:2:0:1::1", &r, err, sizeof(err)), 0);
	assert_int_equal(r.count, 4);
	a = addr_nth(&r, 2);
	assert_string_equal(addr_format(&a, buf, sizeof(buf)), "2001:2:0:1::");
	s = addr_range_slice(&r, 1, 3);
	assert_string_equal(addr_format_range(&s, buf, sizeof(buf)), "2001:2::ffff:ffff:ffff:ffff-2001:2:0:1::1");
	/* the largest range, at the top of the space */
	assert_int_equal(addr_parse_range("ffff:ffff:ffff:ffff:ffff:ffff:ff00:0-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
					  &r, err, sizeof(err)), 0);
	assert_int_equal(r.count, ADDR_MAX_COUNT);
	a = addr_nth(&r, ADDR_MAX_COUNT - 1);
	assert_string_equal(addr_format(&a, buf, sizeof(buf)), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(addr_parse_range("::1-::1", &r, err, sizeof(err)), 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(addr_format_range(&r, buf, sizeof(buf)), "::1");
	assert_string_equal(addr_family_name(AF_INET6), "IPv6");
}

static void test_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct addr_ip a = V4(127, 0, 0, 1), none;
	char err[128];

	(void)state;
	assert_int_equal(addr_sockaddr(&a, 8081, &ss), sizeof(struct sockaddr_in));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 8081);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(addr_parse_ip("::1", &a, err, sizeof(err)), 0);
	assert_int_equal(addr_sockaddr(&a, 9, &ss), sizeof(struct sockaddr_in6));
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 9);
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	memset(&none, 0, sizeof(none));
	assert_int_equal(addr_sockaddr(&none, 9, &ss), 0);
}

static void test_ports(void **state)
{
	char err[128];

	(void)state;
	assert_int_equal(addr_parse_port_range(8081, 100, err, sizeof(err)), 0);
	assert_int_equal(addr_parse_port_range(65535, 1, err, sizeof(err)), 0);
	assert_int_equal(addr_parse_port_range(1, 65535, err, sizeof(err)), 0);
	assert_int_equal(addr_parse_port_range(65500, 100, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "65535"));
	assert_int_equal(addr_parse_port_range(8081, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at least 1"));
	assert_int_equal(addr_parse_port_range(0, 1, err, sizeof(err)), -1);
	assert_int_equal(addr_parse_port_range(70000, 1, err, sizeof(err)), -1);
	assert_int_equal(addr_parse_port_range(8081, -5, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_ok),
		cmocka_unit_test(test_range_bad),
		cmocka_unit_test(test_single_ipv4),
		cmocka_unit_test(test_nth),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
