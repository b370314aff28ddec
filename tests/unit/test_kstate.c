/* Unit tests for the moment's kernel numbers: the TcpExt parser with fabricated /proc/net/netstat text
 * (required and optional counters, garbage), and one real read on this machine, whose files every Linux
 * host with /proc has. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/sys/kstate.h"

static void test_parse_tcpext(void **state)
{
	struct kstate_tcpext t;
	char err[256];

	(void)state;
	assert_int_equal(kstate_parse_tcpext("TcpExt: ListenOverflows ListenDrops TCPMemoryPressures TCPAbortOnMemory\n"
					     "TcpExt: 1 2 3 4\n", &t, err, sizeof(err)), 0);
	assert_true(t.present);
	assert_int_equal(t.listen_overflows, 1);
	assert_int_equal(t.listen_drops, 2);
	assert_int_equal(t.memory_pressures, 3);
	assert_int_equal(t.abort_on_memory, 4);
	/* an old kernel without the memory counters */
	assert_int_equal(kstate_parse_tcpext("TcpExt: ListenOverflows ListenDrops\nTcpExt: 5 6\n", &t, err, sizeof(err)), 0);
	assert_int_equal(t.memory_pressures, 0);
	assert_int_equal(t.listen_drops, 6);
	/* the listen counters are required */
	assert_int_equal(kstate_parse_tcpext("TcpExt: A B\nTcpExt: 1 2\n", &t, err, sizeof(err)), -1);
	assert_false(t.present);
	assert_true(err[0] != '\0');
}

static void test_read_here(void **state)
{
	struct kstate k;

	(void)state;
	kstate_read(&k);
	assert_true(k.valid);
	assert_true(k.nofile_present);
	assert_true(k.nofile_soft <= k.nofile_hard);
	assert_true(k.file_nr_present);
	assert_true(k.file_max > 0);
	assert_true(k.meminfo_present);
	assert_true(k.mem_available > 0);
	assert_true(k.tcpext.present);
	assert_true(k.tcpext.listen_drops >= k.tcpext.listen_overflows);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_tcpext),
		cmocka_unit_test(test_read_here),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
