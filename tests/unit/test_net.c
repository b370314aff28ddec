/* The listener and resolver helpers against real loopback sockets (integration.net): "::" takes IPv4 and
 * IPv6 connections on one socket (IPV6_V6ONLY off), "::1" only IPv6, a name resolves in the family asked
 * for, and a name that does not resolve fails with a message that names it. Skipped without ::1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "common/sys/net.h"
#include "common/util/addr.h"

/* A blocking connect from text addr to port: 0 when the listener's backlog took it, else errno. */
static int connect_to(const char *text, uint16_t port)
{
	struct sockaddr_storage ss;
	struct addr_ip a;
	char err[128];
	socklen_t sl;
	int fd, rc;

	assert_int_equal(addr_parse_ip(text, &a, err, sizeof(err)), 0);
	sl = addr_sockaddr(&a, port, &ss);
	fd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	rc = connect(fd, (struct sockaddr *)&ss, sl) == 0 ? 0 : errno;
	close(fd);
	return rc;
}

static int have_ipv6_loopback(void)
{
	int fd;
	char err[128];

	if (net_listen("::1", 0, 4, false, &fd, err, sizeof(err)) < 0)
		return 0;
	close(fd);
	return 1;
}

static void test_dual_stack(void **state)
{
	char err[256];
	uint16_t port;
	int fd;

	(void)state;
	if (!have_ipv6_loopback())
		skip();
	assert_int_equal(net_listen("::", 0, 16, false, &fd, err, sizeof(err)), 0);
	assert_int_equal(net_local_port(fd, &port, err, sizeof(err)), 0);
	assert_int_equal(connect_to("127.0.0.1", port), 0);   /* IPv4 through the IPv6 socket */
	assert_int_equal(connect_to("::1", port), 0);
	close(fd);
	assert_int_equal(net_listen("::1", 0, 16, false, &fd, err, sizeof(err)), 0);
	assert_int_equal(net_local_port(fd, &port, err, sizeof(err)), 0);
	assert_int_equal(connect_to("::1", port), 0);
	assert_int_equal(connect_to("127.0.0.1", port), ECONNREFUSED);   /* ::1 is IPv6 only */
	close(fd);
	assert_int_equal(net_listen("localhost", 0, 16, false, &fd, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a numeric"));
}

static void test_resolve(void **state)
{
	struct addr_ip a;
	char err[256], buf[ADDR_STRLEN];

	(void)state;
	assert_int_equal(net_resolve("localhost", AF_INET, &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, AF_INET);
	assert_true(addr_is_loopback(&a));
	assert_int_equal(net_resolve("::1", AF_UNSPEC, &a, err, sizeof(err)), 0);   /* numeric text resolves too */
	assert_string_equal(addr_format(&a, buf, sizeof(buf)), "::1");
	assert_int_equal(net_resolve("127.0.0.1", AF_INET6, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "to an IPv6"));
	err[0] = '\0';
	assert_int_equal(net_resolve("nosuch-host.invalid", AF_UNSPEC, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot resolve 'nosuch-host.invalid'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
