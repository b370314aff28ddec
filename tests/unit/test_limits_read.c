/* Unit tests for the limits reader: the pure parsers of systemd's DefaultLimitNOFILE= and of
 * /proc/self/cgroup, the sysctl-to-bit table behind limits_values.sysctl_readonly, and limits_read on this
 * machine (which must at least succeed and be self-consistent). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/sys/limits_read.h"

static char err[256];

static void test_parse_systemd(void **state)
{
	bool set;
	uint64_t s, h;

	(void)state;
	assert_int_equal(limits_parse_systemd_nofile("[Manager]\n#DefaultLimitNOFILE=1024:524288\n", &set, &s, &h,
						     err, sizeof(err)), 0);
	assert_false(set);
	assert_int_equal(limits_parse_systemd_nofile("[Manager]\nDefaultLimitNOFILE=1024:524288\n", &set, &s, &h,
						     err, sizeof(err)), 0);
	assert_true(set);
	assert_int_equal(s, 1024);
	assert_int_equal(h, 524288);
	assert_int_equal(limits_parse_systemd_nofile("DefaultLimitNOFILE=65536\nDefaultLimitNOFILE=infinity",
						     &set, &s, &h, err, sizeof(err)), 0);
	assert_true(s == LIMITS_UNLIMITED && h == LIMITS_UNLIMITED);
	assert_int_equal(limits_parse_systemd_nofile("DefaultLimitNOFILE=lots\n", &set, &s, &h, err,
						     sizeof(err)), -1);
	assert_int_equal(limits_parse_systemd_nofile("DefaultLimitNOFILE=\n", &set, &s, &h, err, sizeof(err)), -1);
	assert_int_equal(limits_parse_systemd_nofile("DefaultLimitNOFILE=1:\n", &set, &s, &h, err, sizeof(err)), -1);
}

static void test_parse_cgroup(void **state)
{
	char path[256];
	unsigned ver = 0;

	(void)state;
	assert_int_equal(limits_parse_proc_cgroup("9:name=systemd:/\n4:memory:/process_api/e266\n0::/\n", &ver,
						  path, sizeof(path), err, sizeof(err)), 0);
	assert_int_equal(ver, 1);
	assert_string_equal(path, "/process_api/e266");
	assert_int_equal(limits_parse_proc_cgroup("5:cpu,memory:/a\n", &ver, path, sizeof(path), err,
						  sizeof(err)), 0);
	assert_string_equal(path, "/a");
	assert_int_equal(limits_parse_proc_cgroup("0::/user.slice/x.scope\n", &ver, path, sizeof(path), err,
						  sizeof(err)), 0);
	assert_int_equal(ver, 2);
	assert_string_equal(path, "/user.slice/x.scope");
	assert_int_equal(limits_parse_proc_cgroup("3:memoryx:/a\n", &ver, path, sizeof(path), err,
						  sizeof(err)), -1);
	assert_int_equal(limits_parse_proc_cgroup("garbage", &ver, path, sizeof(path), err, sizeof(err)), -1);
	assert_int_equal(limits_parse_proc_cgroup("4:memory:\n", &ver, path, sizeof(path), err, sizeof(err)), -1);
	assert_int_equal(limits_parse_proc_cgroup("", &ver, path, sizeof(path), err, sizeof(err)), -1);
}

static void test_readonly_bit(void **state)
{
	(void)state;
	assert_int_equal(limits_readonly_bit("net.ipv4.tcp_mem"), LIMITS_RO_TCP_MEM);
	assert_int_equal(limits_readonly_bit("net.netfilter.nf_conntrack_buckets"), LIMITS_RO_CT_BUCKETS);
	assert_int_equal(limits_readonly_bit("fs.file-max"), LIMITS_RO_FILE_MAX);
	assert_int_equal(limits_readonly_bit("net.ipv4.tcp_rmem"), 0);   /* no fix writes it */
	assert_int_equal(limits_readonly_bit(""), 0);
}

/* On this machine: the reader must succeed and the numbers must make sense together. */
static void test_read_here(void **state)
{
	struct limits_values v;

	(void)state;
	assert_int_equal(limits_read(&v, err, sizeof(err)), 0);
	assert_true(v.nofile_soft <= v.nofile_hard);
	assert_true(v.nofile_hard <= v.nr_open || v.nofile_hard == LIMITS_UNLIMITED);
	assert_true(v.port_lo <= v.port_hi);
	if (v.tcp_mem_present)
		assert_true(v.tcp_mem[0] <= v.tcp_mem[1] && v.tcp_mem[1] <= v.tcp_mem[2]);
	else
		assert_true(v.tcp_mem[0] == 0 && v.tcp_mem[2] == 0);
	assert_true(v.mem_available > 0);
	assert_true(v.page_size >= 4096);
	if (v.conntrack_present)
		assert_true(v.conntrack_in_use == (v.conntrack_count > 0));
	assert_int_equal(limits_raise_nofile(&v, err, sizeof(err)), 0);
	assert_true(v.nofile_soft == v.nofile_hard);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_systemd),
		cmocka_unit_test(test_parse_cgroup),
		cmocka_unit_test(test_readonly_bit),
		cmocka_unit_test(test_read_here),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
