/* The limits reader: everything about this machine that decides how many concurrent TCP connections it can
 * hold, read once into struct limits_values (impure, thin), plus raising the soft fd limit to the hard one.
 * The pure model that judges the values against a plan is common/model/limits.h; the parsers of systemd's
 * and the cgroup's text are pure and fuzzed. */
#ifndef C1M_SYS_LIMITS_READ_H
#define C1M_SYS_LIMITS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIMITS_UNLIMITED        UINT64_MAX  /* a limit that is not set ("infinity", "max") */
#define LIMITS_CGROUP_UNLIMITED (UINT64_C(1) << 62) /* memory limits above this mean "no limit" */

/* Sysctls a fix may write, as bits of limits_values.sysctl_readonly. */
#define LIMITS_RO_FILE_MAX      (1u << 0)   /* fs.file-max */
#define LIMITS_RO_NR_OPEN       (1u << 1)   /* fs.nr_open */
#define LIMITS_RO_PORT_RANGE    (1u << 2)   /* net.ipv4.ip_local_port_range */
#define LIMITS_RO_CT_MAX        (1u << 3)   /* net.netfilter.nf_conntrack_max */
#define LIMITS_RO_CT_BUCKETS    (1u << 4)   /* net.netfilter.nf_conntrack_buckets */
#define LIMITS_RO_SOMAXCONN     (1u << 5)   /* net.core.somaxconn */
#define LIMITS_RO_SYN_BACKLOG   (1u << 6)   /* net.ipv4.tcp_max_syn_backlog */
#define LIMITS_RO_TCP_MEM       (1u << 7)   /* net.ipv4.tcp_mem */
#define LIMITS_RO_MIGRATE_REQ   (1u << 8)   /* net.ipv4.tcp_migrate_req */

/* Everything read from the system. Absent files leave the matching *_present flag false: inside a
 * network namespace other than the machine's first one, machine-wide keys such as net.ipv4.tcp_mem do
 * not exist, and a container may hide or deny any of the net.* keys. Only the fd limits, fs.*,
 * ip_local_port_range and MemAvailable are required. */
struct limits_values {
	uint64_t nofile_soft;        /* RLIMIT_NOFILE soft, fds */
	uint64_t nofile_hard;        /* RLIMIT_NOFILE hard, fds */
	bool nofile_hard_raisable;   /* a probe setrlimit(hard + 1) succeeded (CAP_SYS_RESOURCE) */
	uint64_t file_max;           /* fs.file-max, fds system-wide */
	uint64_t nr_open;            /* fs.nr_open, ceiling for any process's hard limit */
	uint64_t file_nr_used;       /* fs.file-nr first field: fds allocated system-wide now */
	unsigned port_lo;            /* net.ipv4.ip_local_port_range low end */
	unsigned port_hi;            /* net.ipv4.ip_local_port_range high end (inclusive) */
	bool conntrack_present;      /* nf_conntrack module loaded (sysctls exist) */
	bool conntrack_in_use;       /* conntrack_count > 0: some hook is tracking flows (see limits_read.c) */
	uint64_t conntrack_max;      /* net.netfilter.nf_conntrack_max, entries */
	uint64_t conntrack_count;    /* net.netfilter.nf_conntrack_count, entries now */
	uint64_t conntrack_buckets;  /* net.netfilter.nf_conntrack_buckets, hash buckets */
	bool somaxconn_present;      /* net.core.somaxconn was readable */
	uint64_t somaxconn;          /* net.core.somaxconn, accept queue cap per listener */
	bool syn_backlog_present;    /* net.ipv4.tcp_max_syn_backlog was readable */
	uint64_t syn_backlog;        /* net.ipv4.tcp_max_syn_backlog, SYN queue per listener */
	bool tcp_mem_present;        /* net.ipv4.tcp_mem was readable: machine-wide, so it exists only in
				      * the machine's initial network namespace */
	uint64_t tcp_mem[3];         /* net.ipv4.tcp_mem: low, pressure, high; pages (0 when absent) */
	bool tcp_rmem_present;       /* net.ipv4.tcp_rmem was readable */
	uint64_t tcp_rmem[3];        /* net.ipv4.tcp_rmem: min, default, max; bytes */
	bool tcp_wmem_present;       /* net.ipv4.tcp_wmem was readable */
	uint64_t tcp_wmem[3];        /* net.ipv4.tcp_wmem: min, default, max; bytes */
	unsigned sysctl_readonly;    /* LIMITS_RO_* bits: the key exists but this process cannot write it
				      * (machine-wide key in a child network namespace, read-only /proc/sys) */
	uint64_t mem_available;      /* MemAvailable, bytes */
	uint64_t page_size;          /* bytes */
	bool tcp_migrate_req_present;/* kernel >= 5.14 has the sysctl */
	unsigned tcp_migrate_req;    /* net.ipv4.tcp_migrate_req: 1 = migrate a closed listener's queue */
	bool tcp_abort_on_overflow_present;
	unsigned tcp_abort_on_overflow; /* net.ipv4.tcp_abort_on_overflow: 1 = RST when accept queue full */
	bool sockstat_present;       /* /proc/net/sockstat was readable */
	uint64_t tcp_inuse;          /* sockstat TCP inuse, sockets */
	uint64_t tcp_orphan;         /* sockstat TCP orphan, sockets */
	uint64_t tcp_tw;             /* sockstat TCP tw, sockets in TIME_WAIT */
	uint64_t tcp_alloc;          /* sockstat TCP alloc, sockets */
	uint64_t tcp_mem_used;       /* sockstat TCP mem, pages charged to tcp_mem now */
	bool systemd_running;        /* /run/systemd/system exists: PID 1 is systemd */
	bool systemd_conf_present;   /* /etc/systemd/system.conf exists */
	bool systemd_nofile_set;     /* DefaultLimitNOFILE= set (uncommented) in system.conf */
	uint64_t systemd_nofile_soft;/* its soft value, fds (LIMITS_UNLIMITED for "infinity") */
	uint64_t systemd_nofile_hard;/* its hard value, fds */
	bool cgroup_mem_present;     /* this process's memory cgroup was found */
	unsigned cgroup_version;     /* 1 or 2 */
	uint64_t cgroup_mem_limit;   /* memory.limit_in_bytes or memory.max, bytes; LIMITS_UNLIMITED if none */
	uint64_t cgroup_mem_usage;   /* memory.usage_in_bytes or memory.current, bytes */
	char cgroup_path[256];       /* path of the limit file read, for the report */
};

int limits_read(struct limits_values *v, char *err, size_t errlen);
/* soft := hard; v (may be NULL) gets the limits as they are afterwards. */
int limits_raise_nofile(struct limits_values *v, char *err, size_t errlen);

/* Pure: the LIMITS_RO_* bit of a sysctl a fix may write ("net.ipv4.tcp_mem"), 0 for any other key. */
unsigned limits_readonly_bit(const char *key);

/* Pure parsers used by limits_read. systemd: DefaultLimitNOFILE= in system.conf text ("1024:524288",
 * "65536", "infinity"); *set is false when the line is absent or commented out. */
int limits_parse_systemd_nofile(const char *text, bool *set, uint64_t *soft, uint64_t *hard,
				char *err, size_t errlen);
/* /proc/self/cgroup text: the memory cgroup path of this process ("4:memory:/a/b" for v1, "0::/a/b"
 * for v2; v1 wins when both appear). Sets *version to 1 or 2. */
int limits_parse_proc_cgroup(const char *text, unsigned *version, char *path, size_t pathlen,
			     char *err, size_t errlen);

#endif
