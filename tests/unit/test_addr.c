/* Unit tests for the address and port range parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "common/util/addr.h"

static void test_range_ok(void **state)
{
	struct addr_range r;
	char err[128], buf[64];

	(void)state;
	assert_int_equal(addr_parse_range("127.0.0.2-127.0.0.9", &r, err, sizeof(err)), 0);
	assert_int_equal(r.first, 0x7f000002);
	assert_int_equal(r.count, 8);
	assert_string_equal(addr_format_range(&r, buf, sizeof(buf)), "127.0.0.2-127.0.0.9");
	assert_int_equal(addr_parse_range("198.18.0.1", &r, err, sizeof(err)), 0);
	assert_int_equal(r.first, 0xc6120001);
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
	struct addr_range r = { 7, 7 };
	char err[160] = "";

	assert_int_equal(addr_parse_range(s, &r, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error for '%s' is '%s', expected it to mention '%s'", s, err, needle);
	assert_int_equal(r.first, 7);  /* untouched on failure */
}

static void test_range_bad(void **state)
{
	(void)state;
	expect_bad("127.0.0.9-127.0.0.2", "reversed");
	expect_bad("", "IPv4");
	expect_bad("hello", "IPv4");
	expect_bad("127.0.0", "IPv4");
	expect_bad("127.0.0.1.5", "expected");
	expect_bad("127.0.0.256", "out of range");
	expect_bad("127.0.0.1-", "IPv4");
	expect_bad("127.0.0.1-127.0.0.2x", "trailing");
	expect_bad("1270.0.0.1", "IPv4");
	expect_bad("::1", "IPv6");
	expect_bad("fe80::1-fe80::2", "IPv6");
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
	struct addr_range r = { 0x7f000002, 3 };
	char buf[ADDR_STRLEN];

	(void)state;
	assert_int_equal(ntohl(addr_nth(&r, 0).s_addr), 0x7f000002);
	assert_int_equal(ntohl(addr_nth(&r, 2).s_addr), 0x7f000004);
	assert_int_equal(ntohl(addr_nth(&r, 3).s_addr), 0x7f000002);  /* wraps: round-robin */
	assert_int_equal(ntohl(addr_nth(&r, 3000000002ULL).s_addr), 0x7f000004);
	assert_string_equal(addr_format(0xc6120001, buf, sizeof(buf)), "198.18.0.1");
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
		cmocka_unit_test(test_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
