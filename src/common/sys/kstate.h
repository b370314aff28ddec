/* The kernel's numbers that move during a run, read in one call at the moment something fails: connection
 * tracking fill, descriptors in use, TCP sockets and their buffer pages, available memory, this process's
 * open-file limits and the TcpExt drop counters. The static limits (port range, sysctls, cgroups) are read
 * once at start by limits_read; a snapshot is small (about 150 bytes) so a client worker can keep one per
 * failure kind in its shared slot, and diag_context_init (model/diag.h) lays it over the static limits
 * when the report explains the failure. kstate_parse_tcpext is the pure parser of the counters. */
#ifndef C1M_SYS_KSTATE_H
#define C1M_SYS_KSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TcpExt counters of /proc/net/netstat, cumulative since boot. */
struct kstate_tcpext {
	bool present;                 /* read successfully */
	uint64_t listen_overflows;    /* ListenOverflows: accept queue full, SYN/ACK dropped */
	uint64_t listen_drops;        /* ListenDrops: all drops at a listener */
	uint64_t memory_pressures;    /* TCPMemoryPressures: entries into tcp_mem pressure */
	uint64_t abort_on_memory;     /* TCPAbortOnMemory: connections reset for lack of memory */
};

struct kstate {
	bool valid;                   /* kstate_read ran (each part below has its own flag) */
	bool nofile_present;          /* getrlimit worked */
	uint64_t nofile_soft;         /* RLIMIT_NOFILE soft, fds (UINT64_MAX = unlimited) */
	uint64_t nofile_hard;         /* RLIMIT_NOFILE hard, fds (UINT64_MAX = unlimited) */
	bool file_nr_present;         /* fs.file-nr and fs.file-max were readable */
	uint64_t file_nr_used;        /* fds allocated system-wide */
	uint64_t file_max;            /* fs.file-max */
	bool conntrack_present;       /* nf_conntrack loaded */
	uint64_t conntrack_count;     /* entries */
	uint64_t conntrack_max;       /* nf_conntrack_max */
	bool sockstat_present;        /* /proc/net/sockstat was readable */
	uint64_t tcp_inuse;           /* TCP sockets in use */
	uint64_t tcp_mem_used;        /* pages charged to tcp_mem */
	bool meminfo_present;         /* /proc/meminfo was readable */
	uint64_t mem_available;       /* MemAvailable, bytes */
	struct kstate_tcpext tcpext;
};

/* Pure: the TcpExt counters from /proc/net/netstat text. ListenOverflows and ListenDrops are required; the two
 * memory counters read as 0 where an old kernel lacks them. */
int kstate_parse_tcpext(const char *netstat_text, struct kstate_tcpext *t, char *err, size_t errlen);

/* Reads what it can, needing one free descriptor at a time; never fails (what is unreadable stays not
 * present). */
void kstate_read(struct kstate *k);

#endif
