/* Diagnosis of connection failures. The client and server count failures by kind (errno mapped to a
 * small enum with stable JSON names); diag_explain turns one kind plus the system's numbers (limits,
 * listen-queue overflow counters, conntrack fill) into one paragraph in plain words that names the
 * cause the numbers point at and the exact line that fixes it. diag_context_init assembles the numbers
 * (limits read at start plus a snapshot of the moment); diag_explain is pure so the wording can be tested with fabricated numbers. */
#ifndef C1M_DIAG_H
#define C1M_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/model/limits.h"
#include "common/sys/kstate.h"

#define DIAG_EXPLAIN_LEN 2048   /* a buffer this size always holds one explanation */
#define DIAG_CODES       8      /* failing reply statuses quoted by code */

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
	DIAG_HANDSHAKE_CLOSED,   /* --proto other than echo: closed or reset before any byte of the handshake reply */
	DIAG_HANDSHAKE_REFUSED,  /* a well-formed refusal of the handshake (HTTP status outside 2xx/3xx) */
	DIAG_BAD_REPLY,          /* a reply that is not valid for the protocol (or bytes nobody asked for) */
	DIAG_SERVER_CLOSE,       /* the server announced it closes the connection (HTTP Connection: close) */
	DIAG_TLS,             /* --tls: the TLS handshake or a TLS record failed (OpenSSL's words in the note) */
	DIAG_OTHER,           /* any other errno */
	DIAG_KIND_COUNT
};

/* What diag_explain needs to know about the system. */
struct diag_context {
	struct limits_values lim;     /* the limits, with the moving values of the moment laid over them */
	bool lim_valid;               /* the limits were read */
	struct kstate_tcpext tcpext;  /* TcpExt drop counters (since boot); .present = readable */
	unsigned ports;               /* server ports in the run */
	unsigned sources;             /* client source addresses in the run */
	unsigned dst_addrs;           /* server addresses in the run (1 if unknown) */
	uint64_t target;              /* connections of the run, 0 = unknown */
	bool ipv6;                    /* the run's addresses are IPv6 (the fix then names IPv6 sources) */
	/* what c1m saw of someone else's server (--proto other than echo); zero = nothing seen */
	const char *proto;            /* protocol name ("http"); NULL = c1m's own echo */
	const char *first_bad;        /* the first bad or refused reply in words, its bytes escaped; NULL = none */
	unsigned codes[DIAG_CODES];   /* failing reply statuses seen (HTTP 503), 0 = free slot */
	uint64_t code_counts[DIAG_CODES]; /* replies of each */
	uint64_t codes_other;         /* replies of further codes */
	uint64_t verified;            /* connections whose handshake reply was verified (held) */
	uint64_t count;               /* failures of the kind explained; 0 = unknown */
};

enum diag_kind diag_from_errno(int e);
const char *diag_kind_name(enum diag_kind k);   /* stable JSON key, e.g. "EMFILE", "echo_mismatch" */
/* Parses a name written by diag_kind_name back; returns DIAG_KIND_COUNT if unknown. */
enum diag_kind diag_kind_from_name(const char *name);

/* Pure: the context for a run on ports server ports from sources source addresses (and one destination
 * address): the limits read at start (NULL = not read), with the snapshot taken when the failure happened laid
 * over them (NULL or !valid = none): descriptors, conntrack, socket memory and the drop counters of that moment. */
void diag_context_init(struct diag_context *c, const struct limits_values *lim, const struct kstate *now,
		       unsigned ports, unsigned sources);

/* Pure: one paragraph in plain words with the diagnosis and fix. Returns 0, or -1 if k is not a kind
 * or buf is too small (buf then holds a truncated, NUL-terminated paragraph). */
int diag_explain(enum diag_kind k, const struct diag_context *c, char *buf, size_t len);

#endif
