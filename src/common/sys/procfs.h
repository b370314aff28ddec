/* Parsers for the /proc and /sys text formats c1m reads: a single integer (/proc/sys/...), a row of
 * integers (tcp_mem, ip_local_port_range), /proc/meminfo keys, the header/value line pairs of
 * /proc/net/netstat and the "TCP: inuse 1 orphan 0 ..." lines of /proc/net/sockstat. The parsers are
 * pure (NUL-terminated string in, numbers out) so they can be unit-tested and fuzzed; procfs_read_file
 * is the one thin function that touches the filesystem. */
#ifndef C1M_PROCFS_H
#define C1M_PROCFS_H

#include <stddef.h>
#include <stdint.h>

#define PROCFS_ERR_LEN  256   /* enough for every message these functions write */
#define PROCFS_FILE_MAX 65536 /* largest /proc file c1m reads (netstat is ~5 KB) */

/* One integer, optional leading/trailing blanks and newline: "1048576\n". */
int procfs_parse_u64(const char *text, uint64_t *out, char *err, size_t errlen);

/* Exactly n integers separated by blanks or tabs: "32768\t60999\n", "287901 383869 575802". */
int procfs_parse_u64_vec(const char *text, uint64_t *out, size_t n, char *err, size_t errlen);

/* /proc/<pid>/statm: the resident set (second field), in pages. Pure; -1 on garbage or overflow. */
int procfs_parse_statm_resident(const char *text, uint64_t *pages);

/* A /proc/meminfo line "MemAvailable:   24431252 kB"; the value is returned in bytes. */
int procfs_meminfo_get(const char *text, const char *key, uint64_t *bytes, char *err, size_t errlen);

/* /proc/net/netstat and /proc/net/snmp: a "TcpExt: Name1 Name2 ..." header line followed by a
 * "TcpExt: 1 2 ..." value line; returns the value under key in section. */
int procfs_netstat_get(const char *text, const char *section, const char *key, uint64_t *out,
		       char *err, size_t errlen);

/* /proc/net/sockstat: "TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 298"; proto is "TCP", key "mem". */
int procfs_sockstat_get(const char *text, const char *proto, const char *key, uint64_t *out,
			char *err, size_t errlen);

/* /proc/stat's first line, "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (at least
 * the first four): the clock ticks all CPUs spent busy (all but idle and iowait) and in all since boot.
 * guest time is already inside user and nice, so it is not added again. */
int procfs_parse_stat_cpu(const char *text, uint64_t *busy, uint64_t *total, char *err, size_t errlen);

/* /proc/PID/limits: the "Max open files" row, soft and hard; "unlimited" reads as UINT64_MAX. */
int procfs_limits_nofile(const char *text, uint64_t *soft, uint64_t *hard, char *err, size_t errlen);

#define PROCFS_TCP_LISTEN 10  /* st column of a listening socket (TCP_LISTEN) */
#define PROCFS_TCP_TIME_WAIT 6 /* st column of a TIME_WAIT socket */

/* One socket row of /proc/net/tcp or /proc/net/tcp6. */
struct procfs_tcp_sock {
	unsigned family;             /* 4 or 6 */
	unsigned char local[16];     /* local address, network byte order; IPv4 fills the first 4 bytes */
	unsigned local_port;         /* host order */
	unsigned char remote[16];    /* remote address, network byte order */
	unsigned remote_port;        /* host order */
	unsigned state;              /* kernel TCP state: 1 ESTABLISHED ... 6 TIME_WAIT ... 10 LISTEN */
};

/* Parses one row, "  12: 0100007F:1F91 0100007F:9C40 01 ...", from line[0..len) (no NUL needed, a
 * trailing newline is fine). The addresses are the kernel's raw 32-bit words in hex, so the bytes come
 * out in network order on any host. Returns -1 for the header line and anything malformed. */
int procfs_tcp_parse_line(const char *line, size_t len, struct procfs_tcp_sock *s);

/* Reads a whole small file into buf (NUL-terminated, at most len - 1 bytes). On failure returns -1,
 * fills err and leaves errno set, so a caller can treat ENOENT as "feature absent". A file that does
 * not fit is an error (E2BIG), never silently truncated. */
int procfs_read_file(const char *path, char *buf, size_t len, char *err, size_t errlen);

/* procfs_read_file + procfs_parse_u64 in one call, for /proc/sys/... single-value files. */
int procfs_read_u64(const char *path, uint64_t *out, char *err, size_t errlen);

/* The resident set size of this process: the one RSS reader of the tree. /proc/self/statm is opened once,
 * at start, and re-read with pread, so the reading goes on when the process is at its open-file limit. */
struct procfs_rss {
	int fd;                      /* /proc/self/statm, -1 = not open */
	uint64_t page_size;          /* bytes */
};

/* The machine's CPU ticks now, busy and in all (procfs_parse_stat_cpu on the first line of /proc/stat). */
int procfs_read_stat_cpu(uint64_t *busy, uint64_t *total, char *err, size_t errlen);

/* Opens /proc/self/statm (close-on-exec). Returns 0, or -1 with err (r->fd is then -1). */
int procfs_rss_open(struct procfs_rss *r, char *err, size_t errlen);
/* Resident bytes now; 0 when not open or unreadable. */
uint64_t procfs_rss_bytes(const struct procfs_rss *r);
void procfs_rss_close(struct procfs_rss *r);

#endif
