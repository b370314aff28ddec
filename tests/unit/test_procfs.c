/* Unit tests for the /proc text parsers: well-formed input from this kernel's formats, and the garbage a
 * fuzzer will feed them (overflow, truncated lines, wrong separators, missing values) which must be
 * rejected with a message rather than half-parsed. Also /proc/PID/limits' open-file row and the socket
 * rows of /proc/net/tcp and tcp6, whose addresses must come out in network byte order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/sys/procfs.h"

static char err[PROCFS_ERR_LEN];

static void test_u64(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(procfs_parse_u64("1048576\n", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(procfs_parse_u64("  0  \n", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(procfs_parse_u64("18446744073709551615", &v, err, sizeof(err)), 0);
	assert_true(v == UINT64_MAX);
}

static void test_u64_garbage(void **state)
{
	static const char *bad[] = {
		"", "\n", "abc", "-1", "+5", "12ab", "1 2", "18446744073709551616", "99999999999999999999999",
		"0x10", "1.5", "\t\n", "1,000",
	};
	uint64_t v = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (procfs_parse_u64(bad[i], &v, err, sizeof(err)) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(v, 42); /* untouched on failure */
	assert_int_equal(procfs_parse_u64(NULL, &v, err, sizeof(err)), -1);
}

/* /proc/stat's cpu line: busy = all but idle and iowait; guest (inside user) is not added twice. */
static void test_stat_cpu(void **state)
{
	uint64_t busy, total;

	(void)state;
	assert_int_equal(procfs_parse_stat_cpu("cpu  100 2 30 800 50 4 6 8 7 0\ncpu0 50 1 15 400 25 2 3 4 7 0\n",
					       &busy, &total, err, sizeof(err)), 0);
	assert_int_equal(total, 1000);
	assert_int_equal(busy, 150);
	assert_int_equal(procfs_parse_stat_cpu("cpu 1 2 3 4", &busy, &total, err, sizeof(err)), 0);  /* old kernels */
	assert_int_equal(total, 10);
	assert_int_equal(busy, 6);
	assert_int_equal(procfs_parse_stat_cpu("cpu 1 2 3\n", &busy, &total, err, sizeof(err)), -1);
	assert_string_equal(err, "/proc/stat: the cpu line has 3 tick counts before '\n', want at least 4");
	assert_int_equal(procfs_parse_stat_cpu("cpu0 1 2 3 4\n", &busy, &total, err, sizeof(err)), -1);
	assert_int_equal(procfs_parse_stat_cpu("cpu 1 2 3 4x\n", &busy, &total, err, sizeof(err)), -1);
	assert_int_equal(procfs_parse_stat_cpu("cpu 18446744073709551615 1 0 0\n", &busy, &total, err,
					       sizeof(err)), -1);
	assert_int_equal(procfs_parse_stat_cpu(NULL, &busy, &total, err, sizeof(err)), -1);
	assert_int_equal(procfs_read_stat_cpu(&busy, &total, err, sizeof(err)), 0);   /* this machine's */
	assert_true(total > 0 && busy <= total);
}

static void test_statm_resident(void **state)
{
	uint64_t pages = 7;

	(void)state;
	assert_int_equal(procfs_parse_statm_resident("2695 1834 1076 253 0 459 0\n", &pages), 0);
	assert_int_equal(pages, 1834);
	assert_int_equal(procfs_parse_statm_resident("1 18446744073709551615 0", &pages), 0);
	assert_int_equal(pages, UINT64_MAX);
	pages = 7;
	assert_int_equal(procfs_parse_statm_resident("1 18446744073709551616 0", &pages), -1);
	assert_int_equal(procfs_parse_statm_resident("2695", &pages), -1);
	assert_int_equal(procfs_parse_statm_resident("2695 -1", &pages), -1);
	assert_int_equal(procfs_parse_statm_resident("", &pages), -1);
	assert_int_equal(procfs_parse_statm_resident(NULL, &pages), -1);
	assert_int_equal(pages, 7);
}

static void test_vec(void **state)
{
	uint64_t v[3];

	(void)state;
	assert_int_equal(procfs_parse_u64_vec("32768\t60999\n", v, 2, err, sizeof(err)), 0);
	assert_int_equal(v[0], 32768);
	assert_int_equal(v[1], 60999);
	assert_int_equal(procfs_parse_u64_vec("287901\t383869\t575802\n", v, 3, err, sizeof(err)), 0);
	assert_int_equal(v[2], 575802);
	assert_int_equal(procfs_parse_u64_vec("4096 131072 33554432", v, 3, err, sizeof(err)), 0);
	assert_int_equal(v[1], 131072);
	/* too few, too many, junk between */
	assert_int_equal(procfs_parse_u64_vec("1 2", v, 3, err, sizeof(err)), -1);
	assert_int_equal(procfs_parse_u64_vec("1 2 3 4", v, 3, err, sizeof(err)), -1);
	assert_int_equal(procfs_parse_u64_vec("1 x 3", v, 3, err, sizeof(err)), -1);
	assert_int_equal(procfs_parse_u64_vec("1\n2\n3", v, 3, err, sizeof(err)), -1);
	assert_int_equal(procfs_parse_u64_vec("1 2 3", v, 0, err, sizeof(err)), -1);
}

static const char meminfo[] =
	"MemTotal:       24568320 kB\n"
	"MemFree:        24000000 kB\n"
	"MemAvailable:   24431252 kB\n"
	"Slab:              81880 kB\n"
	"HugePages_Total:       0\n"
	"Hugepagesize:       2048 kB\n";

static void test_meminfo(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(procfs_meminfo_get(meminfo, "MemAvailable", &v, err, sizeof(err)), 0);
	assert_true(v == UINT64_C(24431252) * 1024);
	assert_int_equal(procfs_meminfo_get(meminfo, "Slab", &v, err, sizeof(err)), 0);
	assert_true(v == UINT64_C(81880) * 1024);
	assert_int_equal(procfs_meminfo_get(meminfo, "HugePages_Total", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	/* "Mem" must not match "MemTotal", absent keys fail */
	assert_int_equal(procfs_meminfo_get(meminfo, "Mem", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_meminfo_get(meminfo, "SwapTotal", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_meminfo_get("MemAvailable: kB\n", "MemAvailable", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_meminfo_get("MemAvailable: 5 MB\n", "MemAvailable", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_meminfo_get("MemAvailable: 99999999999999999999 kB\n", "MemAvailable", &v,
					    err, sizeof(err)), -1);
	assert_int_equal(procfs_meminfo_get("MemAvailable: 18446744073709551 kB\n", "MemAvailable", &v,
					    err, sizeof(err)), -1);
	assert_int_equal(procfs_meminfo_get("MemAvailable:", "MemAvailable", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_meminfo_get("", "MemAvailable", &v, err, sizeof(err)), -1);
}

static const char netstat[] =
	"TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPMemoryPressures TCPAbortOnMemory\n"
	"TcpExt: 1 2 31 33 4 5\n"
	"IpExt: InNoRoutes ListenOverflows\n"
	"IpExt: 9 77\n";

static void test_netstat(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(procfs_netstat_get(netstat, "TcpExt", "ListenOverflows", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 31);
	assert_int_equal(procfs_netstat_get(netstat, "TcpExt", "ListenDrops", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 33);
	assert_int_equal(procfs_netstat_get(netstat, "TcpExt", "TCPAbortOnMemory", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 5);
	assert_int_equal(procfs_netstat_get(netstat, "TcpExt", "SyncookiesSent", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1);
	/* the same key in another section is a different counter */
	assert_int_equal(procfs_netstat_get(netstat, "IpExt", "ListenOverflows", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 77);
	assert_int_equal(procfs_netstat_get(netstat, "TcpExt", "Listen", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_netstat_get(netstat, "Tcp", "ListenDrops", &v, err, sizeof(err)), -1);
}

static void test_netstat_garbage(void **state)
{
	uint64_t v;

	(void)state;
	/* header without values, fewer values than names, non-numeric value, overflow */
	assert_int_equal(procfs_netstat_get("TcpExt: A B\n", "TcpExt", "B", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_netstat_get("TcpExt: A B\nTcpExt: 1\n", "TcpExt", "B", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_netstat_get("TcpExt: A B\nTcpExt: 1 x\n", "TcpExt", "B", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_netstat_get("TcpExt: A B\nTcpExt: 1 2x\n", "TcpExt", "B", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_netstat_get("TcpExt: A\nTcpExt: 99999999999999999999\n", "TcpExt", "A", &v,
					    err, sizeof(err)), -1);
	assert_int_equal(procfs_netstat_get("TcpExt: A B\nIpExt: 1 2\n", "TcpExt", "A", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_netstat_get("TcpExt", "TcpExt", "A", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_netstat_get("", "TcpExt", "A", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_netstat_get("TcpExt: A\nTcpExt: 5", "TcpExt", "A", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 5);
}

static const char sockstat[] =
	"sockets: used 11\n"
	"TCP: inuse 1 orphan 0 tw 3 alloc 1 mem 298\n"
	"UDP: inuse 0 mem 0\n"
	"TCP6: inuse 7 orphan 0 tw 0 alloc 7 mem 99\n";

static void test_sockstat(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(procfs_sockstat_get(sockstat, "TCP", "mem", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 298);
	assert_int_equal(procfs_sockstat_get(sockstat, "TCP", "tw", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 3);
	assert_int_equal(procfs_sockstat_get(sockstat, "TCP", "inuse", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1);
	assert_int_equal(procfs_sockstat_get(sockstat, "UDP", "mem", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(procfs_sockstat_get(sockstat, "TCP6", "inuse", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 7);
	/* a value is never taken as a name: "0" is not a key */
	assert_int_equal(procfs_sockstat_get(sockstat, "TCP", "0", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_sockstat_get(sockstat, "TCP", "memory", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_sockstat_get("TCP: inuse\n", "TCP", "inuse", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_sockstat_get("TCP: inuse x\n", "TCP", "inuse", &v, err, sizeof(err)), -1);
	assert_int_equal(procfs_sockstat_get("RAW: inuse 0\n", "TCP", "inuse", &v, err, sizeof(err)), -1);
}

/* Every prefix of valid texts, and every single-byte corruption, must return without crashing (run
 * under ASan this also proves no out-of-bounds read). */
static void test_truncations(void **state)
{
	const char *texts[] = { meminfo, netstat, sockstat };
	char buf[512];
	uint64_t v;
	size_t t, n, i;

	(void)state;
	for (t = 0; t < 3; t++) {
		size_t len = strlen(texts[t]);

		assert_true(len < sizeof(buf));
		for (n = 0; n <= len; n++) {
			memcpy(buf, texts[t], n);
			buf[n] = '\0';
			(void)procfs_meminfo_get(buf, "MemAvailable", &v, err, sizeof(err));
			(void)procfs_netstat_get(buf, "TcpExt", "TCPAbortOnMemory", &v, err, sizeof(err));
			(void)procfs_sockstat_get(buf, "TCP", "mem", &v, err, sizeof(err));
			(void)procfs_parse_u64_vec(buf, &v, 1, err, sizeof(err));
		}
		for (i = 0; i < len; i++) {
			memcpy(buf, texts[t], len + 1);
			buf[i] = (char)(buf[i] == ':' ? ' ' : ':');
			(void)procfs_meminfo_get(buf, "MemAvailable", &v, err, sizeof(err));
			(void)procfs_netstat_get(buf, "TcpExt", "TCPAbortOnMemory", &v, err, sizeof(err));
			(void)procfs_sockstat_get(buf, "TCP", "mem", &v, err, sizeof(err));
		}
	}
	/* the truncated netstat must not yield the full-file value of the last column */
	memcpy(buf, netstat, strlen(netstat) + 1);
	buf[strlen(netstat) - strlen("IpExt: InNoRoutes ListenOverflows\nIpExt: 9 77\n") - 3] = '\0';
	assert_int_equal(procfs_netstat_get(buf, "TcpExt", "TCPAbortOnMemory", &v, err, sizeof(err)), -1);
}

static const char limits_text[] =
	"Limit                     Soft Limit           Hard Limit           Units     \n"
	"Max cpu time              unlimited            unlimited            seconds   \n"
	"Max processes             96365                96365                processes \n"
	"Max open files            1024                 20000                files     \n"
	"Max locked memory         8388608              8388608              bytes     \n";

static void test_limits_nofile(void **state)
{
	uint64_t soft = 0, hard = 0;

	(void)state;
	assert_int_equal(procfs_limits_nofile(limits_text, &soft, &hard, err, sizeof(err)), 0);
	assert_int_equal(soft, 1024);
	assert_int_equal(hard, 20000);
	assert_int_equal(procfs_limits_nofile("Max open files            unlimited            unlimited            files\n",
					      &soft, &hard, err, sizeof(err)), 0);
	assert_true(soft == UINT64_MAX && hard == UINT64_MAX);
	/* no trailing newline, no units */
	assert_int_equal(procfs_limits_nofile("Max open files 5 6", &soft, &hard, err, sizeof(err)), 0);
	assert_int_equal(soft, 5);
	assert_int_equal(hard, 6);
	/* garbage */
	assert_int_equal(procfs_limits_nofile("Max cpu time unlimited unlimited\n", &soft, &hard, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no Max open files"));
	assert_int_equal(procfs_limits_nofile("Max open files  12x 5 files\n", &soft, &hard, err, sizeof(err)), -1);
	assert_int_equal(procfs_limits_nofile("Max open files  1024\n", &soft, &hard, err, sizeof(err)), -1);
	assert_int_equal(procfs_limits_nofile("Max open files\n", &soft, &hard, err, sizeof(err)), -1);
	assert_int_equal(procfs_limits_nofile("Max open filesX 1 2\n", &soft, &hard, err, sizeof(err)), -1);
	assert_int_equal(procfs_limits_nofile("Max open files 99999999999999999999 1\n", &soft, &hard, err,
					      sizeof(err)), -1);
	assert_int_equal(procfs_limits_nofile("", &soft, &hard, err, sizeof(err)), -1);
	assert_int_equal(procfs_limits_nofile(NULL, &soft, &hard, err, sizeof(err)), -1);
}

static int tcp_line(const char *line, struct procfs_tcp_sock *s)
{
	return procfs_tcp_parse_line(line, strlen(line), s);
}

static void test_tcp_line(void **state)
{
	static const unsigned char lo4[4] = { 127, 0, 0, 1 };
	static const unsigned char cl1[4] = { 198, 18, 0, 2 }, srv[4] = { 198, 18, 0, 1 };
	static const unsigned char lo6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct procfs_tcp_sock s;

	(void)state;
	/* as this kernel prints them: the raw 32-bit words, so 127.0.0.1 reads 0100007F on x86 */
	assert_int_equal(tcp_line("   1: 0100007F:E7A0 0100007F:A9CB 06 00000000:00000000 03:00000000 "
				  "00000000     0        0 0 3 00000000abfc8714\n", &s), 0);
	assert_int_equal(s.family, 4);
	if (*(const unsigned char *)&(const uint32_t){ 1 } == 1) {   /* little-endian host */
		assert_memory_equal(s.local, lo4, 4);
		assert_memory_equal(s.remote, lo4, 4);
	}
	assert_int_equal(s.local_port, 0xE7A0);
	assert_int_equal(s.remote_port, 0xA9CB);
	assert_int_equal(s.state, PROCFS_TCP_TIME_WAIT);
	assert_int_equal(tcp_line("  12: 020012C6:9C40 010012C6:1F91 01 00000000:00000000 00:00000000 00000000 0 0 77 1",
				  &s), 0);
	if (*(const unsigned char *)&(const uint32_t){ 1 } == 1) {
		assert_memory_equal(s.local, cl1, 4);
		assert_memory_equal(s.remote, srv, 4);
	}
	assert_int_equal(s.local_port, 40000);
	assert_int_equal(s.remote_port, 8081);
	assert_int_equal(s.state, 1);
	assert_int_equal(tcp_line("   0: 00000000000000000000000001000000:1F91 00000000000000000000000001000000:C000 0A "
				  "00000000:00000000 00:00000000 00000000     0        0 1 1\n", &s), 0);
	assert_int_equal(s.family, 6);
	if (*(const unsigned char *)&(const uint32_t){ 1 } == 1)
		assert_memory_equal(s.local, lo6, 16);
	assert_int_equal(s.state, PROCFS_TCP_LISTEN);
	/* only len bytes are read: the row cut after the state still parses, cut inside it does not */
	{
		const char *row = "   1: 0100007F:E7A0 0100007F:A9CB 06 00000000:00000000";
		size_t cut = strlen("   1: 0100007F:E7A0 0100007F:A9CB 06");

		assert_int_equal(procfs_tcp_parse_line(row, cut, &s), 0);
		assert_int_equal(procfs_tcp_parse_line(row, cut - 1, &s), -1);
		assert_int_equal(procfs_tcp_parse_line(row, 10, &s), -1);
		assert_int_equal(procfs_tcp_parse_line(row, 0, &s), -1);
	}
	/* the header and garbage */
	assert_int_equal(tcp_line("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n",
				  &s), -1);
	assert_int_equal(tcp_line("", &s), -1);
	assert_int_equal(tcp_line("1: 0100007F:E7A0 0100007F:A9CB\n", &s), -1);           /* no state */
	assert_int_equal(tcp_line("1: 0100007G:E7A0 0100007F:A9CB 06\n", &s), -1);        /* not hex */
	assert_int_equal(tcp_line("1: 0100007F:E7A 0100007F:A9CB 06\n", &s), -1);         /* short port */
	assert_int_equal(tcp_line("1: 0100007F:E7A0 00000000000000000000000001000000:A9CB 06\n", &s), -1); /* mixed */
	assert_int_equal(tcp_line("1: 0100007F E7A0 0100007F:A9CB 06\n", &s), -1);
	assert_int_equal(tcp_line("1: 0100007F:E7A0 0100007F:A9CB 06X\n", &s), -1);
	assert_int_equal(tcp_line(": 0100007F:E7A0 0100007F:A9CB 06\n", &s), -1);
	assert_int_equal(procfs_tcp_parse_line(NULL, 5, &s), -1);
}

static void test_read_file(void **state)
{
	char path[] = "/tmp/c1m_test_procfs_XXXXXX";
	char buf[16];
	uint64_t v;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "12345\n", 6), 6);
	close(fd);
	assert_int_equal(procfs_read_file(path, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "12345\n");
	assert_int_equal(procfs_read_u64(path, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 12345);
	/* a file that does not fit is an error, not a silent truncation */
	assert_int_equal(procfs_read_file(path, buf, 6, err, sizeof(err)), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(procfs_read_file(path, buf, 7, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(procfs_read_file(path, buf, sizeof(buf), err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, path));
	/* a real /proc file read in several pieces */
	assert_int_equal(procfs_read_u64("/proc/sys/fs/nr_open", &v, err, sizeof(err)), 0);
	assert_true(v >= 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_u64_garbage),
		cmocka_unit_test(test_statm_resident),
		cmocka_unit_test(test_stat_cpu),
		cmocka_unit_test(test_vec),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_netstat),
		cmocka_unit_test(test_netstat_garbage),
		cmocka_unit_test(test_sockstat),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_limits_nofile),
		cmocka_unit_test(test_tcp_line),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
