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

/* A /proc/meminfo line "MemAvailable:   24431252 kB"; the value is returned in bytes. */
int procfs_meminfo_get(const char *text, const char *key, uint64_t *bytes, char *err, size_t errlen);

/* /proc/net/netstat and /proc/net/snmp: a "TcpExt: Name1 Name2 ..." header line followed by a
 * "TcpExt: 1 2 ..." value line; returns the value under key in section. */
int procfs_netstat_get(const char *text, const char *section, const char *key, uint64_t *out,
		       char *err, size_t errlen);

/* /proc/net/sockstat: "TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 298"; proto is "TCP", key "mem". */
int procfs_sockstat_get(const char *text, const char *proto, const char *key, uint64_t *out,
			char *err, size_t errlen);

/* Reads a whole small file into buf (NUL-terminated, at most len - 1 bytes). On failure returns -1,
 * fills err and leaves errno set, so a caller can treat ENOENT as "feature absent". A file that does
 * not fit is an error (E2BIG), never silently truncated. */
int procfs_read_file(const char *path, char *buf, size_t len, char *err, size_t errlen);

/* procfs_read_file + procfs_parse_u64 in one call, for /proc/sys/... single-value files. */
int procfs_read_u64(const char *path, uint64_t *out, char *err, size_t errlen);

#endif
