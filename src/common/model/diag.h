/* Diagnosis of connection failures. The client and server count failures by kind (errno mapped to a
 * small enum with stable JSON names); diag_explain turns one kind plus the system's numbers (limits,
 * listen-queue overflow counters, conntrack fill) into one paragraph in plain words that names the
 * cause the numbers point at and the exact line that fixes it. diag_context_read is the thin impure
 * reader; diag_explain is pure so the wording can be tested with fabricated numbers. */
#ifndef C1M_DIAG_H
#define C1M_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/model/limits.h"

#define DIAG_EXPLAIN_LEN 2048   /* a buffer this size always holds one explanation */

enum diag_kind {
	DIAG_EMFILE,          /* per-process fd limit */
	DIAG_ENFILE,          /* system-wide fd limit */
	DIAG_EADDRNOTAVAIL,   /* no free local port for this (source, destination) */
	DIAG_ETIMEDOUT,       /* established connection timed out, or connect() timed out in the kernel */
	DIAG_ECONNREFUSED,    /* RST to our SYN: nothing listening */
	DIAG_ECONNRESET,      /* peer reset an established connection */
	DIAG_EPIPE,           /* wrote to a connection the peer had closed */
	DIAG_ENOMEM,          /* kernel could not allocate socket memory */
	DIAG_ENOBUFS,         /* kernel socket buffer space exhausted */
	DIAG_PEER_CLOSED,     /* orderly EOF from the peer when we did not expect it */
	DIAG_ECHO_MISMATCH,   /* echoed bytes differ from what was sent */
	DIAG_ECHO_TIMEOUT,    /* no echo within the deadline */
	DIAG_CONNECT_TIMEOUT, /* our own connect deadline expired: SYN never answered */
	DIAG_OTHER,           /* any other errno */
	DIAG_KIND_COUNT
};

/* What diag_explain needs to know about the system. */
struct diag_context {
	struct limits_values lim;     /* everything limits_read found */
	bool lim_valid;               /* limits_read succeeded */
	bool netstat_present;         /* /proc/net/netstat was readable */
	uint64_t listen_overflows;    /* TcpExt ListenOverflows: accept queue full, SYN/ACK dropped (since boot) */
	uint64_t listen_drops;        /* TcpExt ListenDrops: all drops at a listener (since boot) */
	uint64_t memory_pressures;    /* TcpExt TCPMemoryPressures: entries into tcp_mem pressure (since boot) */
	uint64_t abort_on_memory;     /* TcpExt TCPAbortOnMemory: connections reset for lack of memory */
	unsigned ports;               /* server ports in the run */
	unsigned sources;             /* client source addresses in the run */
	unsigned dst_addrs;           /* server addresses in the run (1 if unknown) */
};

enum diag_kind diag_from_errno(int e);
const char *diag_kind_name(enum diag_kind k);   /* stable JSON key, e.g. "EMFILE", "echo_mismatch" */
/* Parses a name written by diag_kind_name back; returns DIAG_KIND_COUNT if unknown. */
enum diag_kind diag_kind_from_name(const char *name);

/* Reads limits and /proc/net/netstat. A missing netstat is not an error (netstat_present = false). */
int diag_context_read(struct diag_context *c, unsigned ports, unsigned sources, char *err, size_t errlen);

/* Pure: one paragraph in plain words with the diagnosis and fix. Returns 0, or -1 if k is not a kind
 * or buf is too small (buf then holds a truncated, NUL-terminated paragraph). */
int diag_explain(enum diag_kind k, const struct diag_context *c, char *buf, size_t len);

#endif
