/* Every operating-system limit that decides how many concurrent TCP connections this box can hold:
 * per-process and system-wide file descriptors, the 4-tuple space of local ports, the conntrack table,
 * listen backlogs, TCP buffer memory, available and cgroup memory. limits_read collects the values
 * (impure, thin); limits_evaluate is a pure model that compares them with a plan (role, connections,
 * ports, sources, workers, connect rate) and says which limit binds first and what exact line fixes
 * it. The formatters render a report as a human table or JSON for c1m-doctor. */
#ifndef C1M_LIMITS_H
#define C1M_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIMITS_ERR_LEN          256
#define LIMITS_MAX_CHECKS       24
#define LIMITS_UNLIMITED        UINT64_MAX  /* capacity of a check that does not cap connections */
#define LIMITS_FD_RESERVE       20          /* fds a process needs besides sockets: stdio, epoll, pipes, logs */
#define LIMITS_KERNEL_SOCK_BYTES 4900       /* kernel memory per idle TCP socket, measured on this machine */
#define LIMITS_USER_CONN_BYTES  2048        /* default user-space bytes per connection per side (conn + buffers) */
#define LIMITS_BACKLOG_WINDOW_MS 100        /* a listen queue should absorb this much of the connect rate */
#define LIMITS_CLIENT_INFLIGHT  1024        /* connects + echoes in flight in c1m-client, all its processes
					     * together (its --concurrency default) */
#define LIMITS_ACTIVE_SOCKET_BYTES 4096     /* default buffer bytes one socket holding data charges: an
					     * echo line costs one page (measured: 3,000 sockets x 64 B
					     * queued raised sockstat TCP mem by 3,072 pages) */
#define LIMITS_CGROUP_UNLIMITED (UINT64_C(1) << 62) /* memory limits above this mean "no limit" */
#define LIMITS_NO_VALUE         UINT64_MAX  /* limits_check.needed_value when the need is not one number */

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
	bool conntrack_in_use;       /* conntrack_count > 0: some hook is tracking flows (see limits.c) */
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

enum limits_role {
	LIMITS_ROLE_SERVER,          /* this host accepts N connections from elsewhere */
	LIMITS_ROLE_CLIENT,          /* this host opens N connections to elsewhere */
	LIMITS_ROLE_BOTH,            /* server and client on this host over loopback: 2N sockets */
};

struct limits_plan {
	enum limits_role role;
	uint64_t target;             /* N concurrent connections wanted */
	unsigned ports;              /* server listening ports (one listener per port per worker) */
	unsigned dst_addrs;          /* distinct server addresses the client connects to */
	unsigned sources;            /* distinct client source addresses */
	unsigned workers;            /* processes per side; 0 = auto (as many as the fd limit needs) */
	uint64_t connect_rate;       /* new connections per second; 0 = unknown */
	uint64_t user_bytes_per_conn;/* user-space bytes per connection per side; 0 = LIMITS_USER_CONN_BYTES */
	uint64_t active_sockets;     /* sockets holding buffer data at the same moment (idle ones charge
				      * tcp_mem nothing); 0 = the client's in-flight connections,
				      * min(N, LIMITS_CLIENT_INFLIGHT), times sockets per connection here */
	uint64_t bytes_per_active_socket; /* buffer bytes each of them holds; 0 = LIMITS_ACTIVE_SOCKET_BYTES;
				      * charged in whole pages, at least one */
};

enum limits_verdict { LIMITS_OK, LIMITS_WARN, LIMITS_FAIL };

struct limits_check {
	char name[32];               /* stable key, e.g. "nofile.hard", "nf_conntrack_max" */
	char current[64];            /* the value now, human-readable */
	char needed[64];             /* what the plan needs */
	enum limits_verdict verdict;
	uint64_t capacity;           /* connections this limit allows, LIMITS_UNLIMITED if it caps none */
	char fix[160];               /* exact line that fixes it, empty when nothing to do */
	char note[256];              /* one sentence of why, may be empty */
	uint64_t needed_value;       /* the need as one number in the unit of the limit itself: fds per
				      * process, entries, pages (tcp_mem[1] must reach it), bytes, ports in
				      * ip_local_port_range per (source, destination); LIMITS_NO_VALUE if none */
	char sysctl[48];             /* the sysctl this check is about ("net.ipv4.tcp_mem"), "" if none */
};

struct limits_report {
	struct limits_check checks[LIMITS_MAX_CHECKS];
	unsigned n_checks;
	uint64_t target;             /* the plan's N, copied for the formatters */
	uint64_t ceiling;            /* min capacity over checks: connections this box can hold */
	char binding[32];            /* name of the check with the lowest capacity, "" if none caps */
	unsigned workers_needed;     /* max of the two below */
	unsigned workers_server;     /* server processes the fd limit needs (0 if role has no server) */
	unsigned workers_client;     /* client processes the fd limit needs (0 if role has no client) */
	unsigned sources_needed;     /* client source addresses so no (source, destination) runs out */
	unsigned n_fail;             /* checks with LIMITS_FAIL */
	unsigned n_warn;             /* checks with LIMITS_WARN */
};

int limits_read(struct limits_values *v, char *err, size_t errlen);
int limits_raise_nofile(struct limits_values *v, char *err, size_t errlen); /* soft := hard */

/* Pure: compares the plan with the values; never fails (missing values yield checks that say so). */
void limits_evaluate(const struct limits_plan *p, const struct limits_values *v, struct limits_report *r);

/* Sockets one process can hold: hard limit minus LIMITS_FD_RESERVE (listeners are subtracted by the
 * server-side helpers below). Pure. */
unsigned limits_fds_per_process(const struct limits_values *v);
/* Connections one server process can hold: hard - listeners - reserve. Pure. */
unsigned limits_fds_per_server_process(const struct limits_values *v, unsigned listeners);
/* Processes needed to hold conns connections with per_process each (at least 1). Pure. */
unsigned limits_workers_needed(uint64_t conns, unsigned per_process);
/* Local-port capacity of one (source, destination address, destination port) triple. Pure. */
uint64_t limits_port_range_width(const struct limits_values *v);
/* Source addresses needed so that target connections fit the 4-tuple space (at least 1). Pure. */
unsigned limits_sources_needed(uint64_t target, unsigned dst_addrs, unsigned ports,
			       const struct limits_values *v);

/* Pure parsers used by limits_read. systemd: DefaultLimitNOFILE= in system.conf text ("1024:524288",
 * "65536", "infinity"); *set is false when the line is absent or commented out. */
int limits_parse_systemd_nofile(const char *text, bool *set, uint64_t *soft, uint64_t *hard,
				char *err, size_t errlen);
/* /proc/self/cgroup text: the memory cgroup path of this process ("4:memory:/a/b" for v1, "0::/a/b"
 * for v2; v1 wins when both appear). Sets *version to 1 or 2. */
int limits_parse_proc_cgroup(const char *text, unsigned *version, char *path, size_t pathlen,
			     char *err, size_t errlen);

const char *limits_verdict_name(enum limits_verdict v);   /* "ok", "warn", "FAIL" */
const char *limits_role_name(enum limits_role r);         /* "server", "client", "both" */

/* Render the report. Return the length written (like snprintf) or -1 if buf was too small. */
int limits_format_table(const struct limits_report *r, char *buf, size_t len);
/* JSON: per check also "needed_value" (number or null) and "sysctl" (key or null). */
int limits_format_json(const struct limits_report *r, char *buf, size_t len);

#endif
