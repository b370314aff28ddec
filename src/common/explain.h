/* After a failed run: which known cause happened? explain_analyze is the pure decision logic behind
 * `c1m-doctor --explain`. It takes the kernel log text and counters the doctor collected (or a test
 * fabricated) and returns one finding per cause the evidence shows: conntrack table full, listen queue
 * overflow, TCP out of socket memory, TCP memory pressure, the OOM killer, fs.file-max reached. Counters
 * in /proc/net/netstat are cumulative since boot, so a baseline saved before the run (explain_format_
 * baseline / explain_parse_baseline) turns them into per-run deltas; without one the findings say
 * "since boot". */
#ifndef C1M_EXPLAIN_H
#define C1M_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPLAIN_CONNTRACK_NEAR_FULL_PCT 90 /* count >= this % of max counts as full: drops start early */

enum explain_cause {
	EXPLAIN_CONNTRACK_FULL,    /* nf_conntrack table full: new SYNs dropped, connect() times out */
	EXPLAIN_LISTEN_OVERFLOW,   /* accept or SYN queue full: SYNs dropped or cookies sent */
	EXPLAIN_TCP_OOM,           /* "TCP: out of memory": tcp_mem hard limit hit, sockets aborted */
	EXPLAIN_TCP_MEM_PRESSURE,  /* tcp_mem pressure entered: buffers shrunk, latency rises */
	EXPLAIN_OOM_KILL,          /* the OOM killer ended a process */
	EXPLAIN_FILE_MAX,          /* "VFS: file-max limit reached": ENFILE */
	EXPLAIN_CAUSE_COUNT
};

/* TcpExt counters from /proc/net/netstat, cumulative since boot. */
struct explain_counters {
	bool present;                 /* read successfully */
	uint64_t listen_overflows;    /* ListenOverflows */
	uint64_t listen_drops;        /* ListenDrops */
	uint64_t memory_pressures;    /* TCPMemoryPressures */
	uint64_t abort_on_memory;     /* TCPAbortOnMemory */
};

struct explain_input {
	const char *kmsg;             /* kernel log, lines like "[  12.345678] text"; NULL if unreadable */
	double uptime_s;              /* seconds since boot now, to apply since_s */
	double since_s;               /* only log lines from the last since_s seconds; 0 = all */
	struct explain_counters now;  /* counters now */
	struct explain_counters base; /* counters saved before the run */
	bool has_base;                /* base is valid: report deltas, not since-boot totals */
	bool conntrack_present;       /* nf_conntrack loaded */
	uint64_t conntrack_count;     /* entries now */
	uint64_t conntrack_max;       /* nf_conntrack_max */
	bool sockstat_present;        /* /proc/net/sockstat readable */
	uint64_t tcp_mem_used;        /* sockstat TCP mem, pages */
	uint64_t tcp_mem[3];          /* net.ipv4.tcp_mem, pages */
};

struct explain_finding {
	enum explain_cause cause;
	char evidence[320];           /* the numbers or log line that show it */
	char fix[200];                /* the line that fixes it */
};

struct explain_result {
	struct explain_finding findings[EXPLAIN_CAUSE_COUNT];
	unsigned n;                   /* findings, at most one per cause */
	unsigned kmsg_lines;          /* kernel log lines examined (after since_s) */
	bool kmsg_checked;            /* a kernel log was available */
};

/* Pure. Never fails: with no evidence it returns n = 0 and the formatter says it cannot tell. */
void explain_analyze(const struct explain_input *in, struct explain_result *out);

const char *explain_cause_name(enum explain_cause c);  /* stable key, e.g. "conntrack_full" */

/* Human text (one paragraph per finding, or a plain "cannot tell" with what was checked). Returns the
 * length written, or -1 if buf was too small. */
int explain_format(const struct explain_result *r, const struct explain_input *in, char *buf, size_t len);
int explain_format_json(const struct explain_result *r, char *buf, size_t len);

/* Baseline file: "ListenOverflows 12\n..." lines. */
int explain_format_baseline(const struct explain_counters *c, char *buf, size_t len);
int explain_parse_baseline(const char *text, struct explain_counters *c, char *err, size_t errlen);

/* Pure: the TcpExt counters above from a /proc/net/netstat text. The two memory counters may be absent
 * on old kernels and then read as 0. */
int explain_counters_parse(const char *netstat_text, struct explain_counters *c, char *err, size_t errlen);

#endif
