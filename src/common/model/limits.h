/* The capacity model: every operating-system limit that decides how many concurrent TCP connections this
 * box can hold (per-process and system-wide file descriptors, the 4-tuple space of local ports, the
 * conntrack table, listen backlogs, TCP buffer memory, available and cgroup memory). limits_read
 * (common/sys/limits_read.h) collects the values; limits_evaluate is pure: it compares them with a plan
 * (role, connections, ports, sources, workers, connect rate) and says which limit binds first and what
 * exact line fixes it. The formatters render a report as a human table or JSON for c1m-doctor. */
#ifndef C1M_LIMITS_H
#define C1M_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sys/limits_read.h" /* struct limits_values, what the model judges */

#define LIMITS_ERR_LEN          256
#define LIMITS_MAX_CHECKS       24
#define LIMITS_KERNEL_SOCK_BYTES 4900       /* kernel memory per idle TCP socket, measured on this machine */
#define LIMITS_USER_CONN_BYTES  2048        /* default user-space bytes per connection per side (conn + buffers) */
#define LIMITS_BACKLOG_WINDOW_MS 100        /* a listen queue should absorb this much of the connect rate */
#define LIMITS_CLIENT_INFLIGHT  1024        /* connects + echoes in flight in c1m-client, all its processes
					     * together (its --concurrency default) */
#define LIMITS_ACTIVE_SOCKET_BYTES 4096     /* default buffer bytes one socket holding data charges: an
					     * echo line costs one page (measured: 3,000 sockets x 64 B
					     * queued raised sockstat TCP mem by 3,072 pages) */
#define LIMITS_NO_VALUE         UINT64_MAX  /* limits_check.needed_value when the need is not one number */
#define LIMITS_CLIENT_TLS_BYTES 22400       /* what --tls adds to a c1m-client connection, measured:
					     * resident memory grew 22,087-22,352 B per held HTTPS connection
					     * at 5,000 to nginx, 396-433 B without TLS (OpenSSL 3.0's heap
					     * alone: 19,294 B per idle SSL with SSL_MODE_RELEASE_BUFFERS,
					     * 52,622 B without) */

enum limits_role {
	LIMITS_ROLE_SERVER,          /* this host accepts N connections from elsewhere */
	LIMITS_ROLE_CLIENT,          /* this host opens N connections to elsewhere */
	LIMITS_ROLE_BOTH,            /* server and client on this host over loopback: 2N sockets */
	LIMITS_ROLE_BALANCER,        /* an L4 balancer (HAProxy) here: N accepted, N opened to the backends
				      * by one process; judged by balancer_evaluate (common/model/balancer.h) */
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
	bool client_tls;             /* the client side runs c1m-client --tls: LIMITS_CLIENT_TLS_BYTES more
				      * per client connection */
	/* balancer only: sources are its source addresses toward the backends, dst_addrs x ports the
	 * backends' distinct address:port pairs */
	uint64_t maxconn;            /* HAProxy's maxconn; 0 = not given (it derives one from its fd limit) */
	uint64_t fd_limit;           /* HAProxy's open-file limit (ulimit-n, fd-hard-limit), fds; 0 = the
				      * most a process can reach here */
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
	char recommended[64];        /* the value of that sysctl the plan needs with the model's headroom, in
				      * sysctl syntax ("2097152", "1024 65535", "low pressure high"),
				      * whether or not the check fails; a sysctl fix writes exactly this.
				      * "" when the key is absent here or the need is not known */
};

struct limits_report {
	struct limits_check checks[LIMITS_MAX_CHECKS];
	unsigned n_checks;
	uint64_t target;             /* the plan's N, copied for the formatters */
	enum limits_role role;       /* the plan's role, copied for the formatters */
	uint64_t ceiling;            /* min capacity over checks: connections this box can hold */
	char binding[32];            /* name of the check with the lowest capacity, "" if none caps */
	unsigned workers_needed;     /* max of the two below */
	unsigned workers_server;     /* server processes the fd limit needs (0 if role has no server) */
	unsigned workers_client;     /* client processes the fd limit needs (0 if role has no client) */
	unsigned sources_needed;     /* client source addresses so no (source, destination) runs out */
	unsigned n_fail;             /* checks with LIMITS_FAIL */
	unsigned n_warn;             /* checks with LIMITS_WARN */
};

/* Pure: compares the plan with the values; never fails (missing values yield checks that say so). */
void limits_evaluate(const struct limits_plan *p, const struct limits_values *v, struct limits_report *r);

/* For the evaluators of other tiers (balancer.c): appends a check named name, verdict ok, capacity
 * unlimited, and returns it to fill; then limits_finish counts the verdicts, marks the sysctl fixes this
 * namespace cannot write and finds the ceiling and the binding check. Pure. */
struct limits_check *limits_add_check(struct limits_report *r, const char *name);
void limits_finish(const struct limits_values *v, struct limits_report *r);
/* The checks every tier shares, for n connections: "nf_conntrack_max" with flows tracked entries per
 * connection, and "memory" at per bytes each; the notes say what a full table or an exhausted memory does
 * there. Pure. */
void limits_check_conntrack_max(struct limits_report *r, const struct limits_values *v, uint64_t n, unsigned flows,
				const char *full_note);
void limits_check_memory(struct limits_report *r, const struct limits_values *v, uint64_t n, uint64_t per,
			 const char *fail_note);

/* Sockets one process can hold under the hard limit: capacity_plan's budget of a client process. Pure. */
unsigned limits_fds_per_process(const struct limits_values *v);
/* Local-port capacity of one (source, destination address, destination port) triple. Pure. */
uint64_t limits_port_range_width(const struct limits_values *v);
/* Source addresses needed so that target connections fit the 4-tuple space (at least 1). Pure. */
unsigned limits_sources_needed(uint64_t target, unsigned dst_addrs, unsigned ports,
			       const struct limits_values *v);

/* 1234567 -> "1,234,567" in buf, which it returns: a million must be readable at a glance. */
const char *limits_commas(uint64_t v, char *buf, size_t len);
/* 3.5 GiB, 12.0 MiB, 512 KiB: memory sizes as people read them, in buf, which it returns. */
const char *limits_bytes(uint64_t v, char *buf, size_t len);
const char *limits_verdict_name(enum limits_verdict v);   /* "ok", "warn", "FAIL" */
const char *limits_role_name(enum limits_role r);         /* "server", "client", "both" */

/* Render the report. Return the length written (like snprintf) or -1 if buf was too small. */
int limits_format_table(const struct limits_report *r, char *buf, size_t len);
/* JSON: per check also "needed_value" (number or null), "sysctl" (key or null) and "recommended" (the
 * sysctl's value as a string, or null): what tuning/apply sets. */
int limits_format_json(const struct limits_report *r, char *buf, size_t len);

#endif
