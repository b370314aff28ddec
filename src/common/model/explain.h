/* After a failed run: which known cause happened? explain_analyze is the pure decision logic behind
 * `c1m-doctor --explain`. It takes the kernel log text and counters the doctor collected (or a test
 * fabricated) and returns one finding per cause the evidence shows: conntrack table full, listen queue
 * overflow, TCP out of socket memory, TCP memory pressure, the OOM killer, fs.file-max reached, a
 * process at its open-file limit (EMFILE), a (source, destination) pair out of local ports
 * (EADDRNOTAVAIL). Counters in /proc/net/netstat are cumulative since boot, so a baseline saved before
 * the run (explain_format_baseline / explain_parse_baseline) turns them into per-run deltas; without
 * one the findings say "since boot". Given c1m-client's JSON report (explain_client_parse, a small
 * parser for just the keys needed), it also explains each failure kind the client counted with
 * diag_explain's text and this machine's numbers, and names the findings that back it up. */
#ifndef C1M_EXPLAIN_H
#define C1M_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/model/diag.h"
#include "common/sys/kstate.h"

#define EXPLAIN_CONNTRACK_NEAR_FULL_PCT 90 /* count >= this % of max counts as full: drops start early */
#define EXPLAIN_NEAR_LIMIT_PCT  95   /* fds of a process, sockets of a port tuple: this % of the limit is "at it" */
#define EXPLAIN_COMM_LEN        32   /* process name as in /proc/PID/comm (16 in the kernel) */
#define EXPLAIN_QUOTE_MAX       3    /* processes or port tuples quoted per finding */

enum explain_cause {
	EXPLAIN_CONNTRACK_FULL,    /* nf_conntrack table full: new SYNs dropped, connect() times out */
	EXPLAIN_LISTEN_OVERFLOW,   /* accept or SYN queue full: SYNs dropped or cookies sent */
	EXPLAIN_TCP_OOM,           /* "TCP: out of memory": tcp_mem hard limit hit, sockets aborted */
	EXPLAIN_TCP_MEM_PRESSURE,  /* tcp_mem pressure entered: buffers shrunk, latency rises */
	EXPLAIN_OOM_KILL,          /* the OOM killer ended a process */
	EXPLAIN_FILE_MAX,          /* "VFS: file-max limit reached": ENFILE */
	EXPLAIN_FD_LIMIT,          /* a process holds >= 95% of its open-file soft limit: EMFILE */
	EXPLAIN_LOCAL_PORTS,       /* sockets of one (source, destination, port) fill the local port range */
	EXPLAIN_CAUSE_COUNT
};

/* One process's open files, from /proc/PID/limits and /proc/PID/fd. */
struct explain_proc {
	int pid;
	char comm[EXPLAIN_COMM_LEN];  /* process name */
	uint64_t fds;                 /* descriptors open now */
	uint64_t soft;                /* RLIMIT_NOFILE soft, fds; UINT64_MAX = unlimited */
	uint64_t hard;                /* RLIMIT_NOFILE hard, fds; UINT64_MAX = unlimited */
};

/* Sockets that hold a local port for one (source address, destination address, destination port). */
struct explain_tuple {
	unsigned family;              /* 4 or 6; 0 = free slot */
	unsigned char src[16];        /* network byte order */
	unsigned char dst[16];        /* network byte order */
	unsigned dport;               /* destination port */
	uint64_t sockets;             /* sockets of this tuple with a local port in the range, any state */
	uint64_t time_wait;           /* of which in TIME_WAIT (they keep the port for 60 s after close) */
};

/* Counts of /proc/net/tcp and tcp6 rows by tuple, in a fixed open-addressing table the caller owns. */
struct explain_tuples {
	struct explain_tuple *slots;  /* cap entries */
	unsigned cap;
	unsigned used;                /* distinct tuples */
	unsigned port_lo, port_hi;    /* ip_local_port_range: only local ports inside it are counted */
	uint64_t rows;                /* socket rows parsed */
	uint64_t sockets;             /* rows counted into a tuple */
	uint64_t dropped;             /* rows not counted because the table was full */
};

/* c1m-client's JSON report, the keys the doctor uses. */
struct explain_client {
	uint64_t failures[DIAG_KIND_COUNT]; /* "failures": {kind: count} */
	uint64_t failures_other;      /* counts under kind names this doctor does not know */
	enum diag_kind first_cause;   /* "first_cause"; DIAG_KIND_COUNT when empty or unknown */
	uint64_t target;              /* "target": connections asked for (0 if absent) */
	uint64_t established;         /* "established" */
	uint64_t echoed;              /* "echoed" */
	uint64_t failed;              /* "failed" */
	unsigned ports;               /* "ports": server ports used (0 if absent) */
	unsigned sources;             /* "sources": {"count"}: client source addresses (0 = kernel's choice) */
	char host[64];                /* "host": the server address */
	char proto[16];               /* "proto": "echo", "http"; "" if absent */
	char proto_note[128];         /* "proto_note": the first bad or refused reply, "" if none */
	unsigned codes[DIAG_CODES];   /* "status_codes": {"503": n}: failing statuses, in the report's order */
	uint64_t code_counts[DIAG_CODES];
	uint64_t codes_other;         /* "other", and codes beyond DIAG_CODES */
};

/* The explanation of one failure kind the client counted. */
struct explain_kind {
	enum diag_kind kind;
	uint64_t count;               /* failures of this kind in the client's report */
	bool first;                   /* the client's first_cause */
	char text[DIAG_EXPLAIN_LEN];  /* diag_explain with this machine's numbers */
	enum explain_cause backed[3]; /* findings of this result that show a cause of this kind now */
	unsigned n_backed;
};

struct explain_input {
	const char *kmsg;             /* kernel log, lines like "[  12.345678] text"; NULL if unreadable */
	double uptime_s;              /* seconds since boot now, to apply since_s */
	double since_s;               /* only log lines from the last since_s seconds; 0 = all */
	struct kstate_tcpext now;  /* counters now */
	struct kstate_tcpext base; /* counters saved before the run */
	bool has_base;                /* base is valid: report deltas, not since-boot totals */
	bool conntrack_present;       /* nf_conntrack loaded */
	uint64_t conntrack_count;     /* entries now */
	uint64_t conntrack_max;       /* nf_conntrack_max */
	bool sockstat_present;        /* /proc/net/sockstat readable */
	uint64_t tcp_mem_used;        /* sockstat TCP mem, pages */
	bool tcp_mem_present;         /* net.ipv4.tcp_mem readable (machine-wide: not in child namespaces) */
	uint64_t tcp_mem[3];          /* net.ipv4.tcp_mem, pages */
	const struct explain_proc *procs; /* every process whose open files could be read; may be NULL */
	unsigned n_procs;
	bool procs_checked;           /* /proc/PID/ was scanned */
	const struct explain_tuples *tuples; /* /proc/net/tcp{,6} counted; NULL if unreadable */
	const struct explain_client *client; /* --from: the client's report; NULL without */
	const struct diag_context *ctx;      /* numbers for diag_explain; required with client */
};

struct explain_finding {
	enum explain_cause cause;
	char evidence[512];           /* the numbers or log lines that show it */
	char fix[200];                /* the line that fixes it */
};

struct explain_result {
	struct explain_finding findings[EXPLAIN_CAUSE_COUNT];
	unsigned n;                   /* findings, at most one per cause */
	struct explain_kind kinds[DIAG_KIND_COUNT]; /* with a client report: its failure kinds, first cause
						     * first, then by count */
	unsigned n_kinds;
	unsigned kmsg_lines;          /* kernel log lines examined (after since_s) */
	bool kmsg_checked;            /* a kernel log was available */
};

/* Pure. Never fails: with no evidence it returns n = 0 and the formatter says it cannot tell. The
 * result is large (one paragraph per failure kind): keep it off small stacks. */
void explain_analyze(const struct explain_input *in, struct explain_result *out);

const char *explain_cause_name(enum explain_cause c);  /* stable key, e.g. "conntrack_full" */

/* Human text (one paragraph per finding, or a plain "cannot tell" with what was checked). Returns the
 * length written, or -1 if buf was too small. */
int explain_format(const struct explain_result *r, const struct explain_input *in, char *buf, size_t len);
int explain_format_json(const struct explain_result *r, char *buf, size_t len);

/* Pure: empties t and gives it slots[cap] (zeroed here) and the port range to count. */
void explain_tuples_init(struct explain_tuples *t, struct explain_tuple *slots, unsigned cap,
			 unsigned port_lo, unsigned port_hi);
/* Pure: counts the socket rows of /proc/net/tcp or tcp6 text in text[0..len): a whole file or one line
 * at a time. Listening sockets, rows without a peer and local ports outside the range are skipped;
 * the header and malformed lines are ignored. */
void explain_tuples_scan(struct explain_tuples *t, const char *text, size_t len);

/* Pure: c1m-client's JSON report in text[0..len) (need not be NUL-terminated). Only the keys in struct
 * explain_client are read, everything else is skipped; it must be one JSON object with a "failures"
 * object of whole-number counts. Nesting deeper than 32 is refused. */
int explain_client_parse(const char *text, size_t len, struct explain_client *c, char *err, size_t errlen);

/* Pure: what the client's report says of someone else's server (proto, proto_note, status_codes, echoed) into
 * ctx for diag_explain; nothing for an echo run. ctx->first_bad points into c. */
void explain_client_context(const struct explain_client *c, struct diag_context *ctx);

/* Baseline file: "ListenOverflows 12\n..." lines. */
int explain_format_baseline(const struct kstate_tcpext *c, char *buf, size_t len);
int explain_parse_baseline(const char *text, struct kstate_tcpext *c, char *err, size_t errlen);

#endif
