/* Command-line options shared by c1m-server and the c1m-epoll baseline. Parsing is pure (argv in, struct out,
 * error text naming the flag and value); values that depend on the machine (backlog from net.core.somaxconn,
 * connection caps from the fd limit, the stats interval from whether stderr is a terminal) are left unresolved
 * by the parser and filled in by srvopt_resolve() from a struct srvopt_env that main() reads, so both steps
 * can be tested with fabricated input. */
#ifndef C1M_SRVOPT_H
#define C1M_SRVOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util/cpulist.h"

#define SRVOPT_DEFAULT_BIND           "0.0.0.0"
#define SRVOPT_DEFAULT_PORT           8081
#define SRVOPT_DEFAULT_PORTS          100
#define SRVOPT_DEFAULT_HIGH_WATERMARK 16384u /* bytes of unsent echo per connection before reading stops */
#define SRVOPT_MIN_HIGH_WATERMARK     1024u
#define SRVOPT_ADDR_LEN               64
#define SRVOPT_DEFAULT_DRAIN_MS       5000u  /* --drain-timeout default, milliseconds */
#define SRVOPT_MAX_DRAIN_MS           3600000u /* an hour: a longer graceful stop is a typo */
#define SRVOPT_DRAIN_MARGIN_MS        2000u  /* the supervisor SIGKILLs a worker still alive this long after
                                                 the drain deadline (closing what is left takes well under
                                                 a second, even 20,000 connections) */

struct server_options {
	char     bind_addr[SRVOPT_ADDR_LEN]; /* numeric IPv4 or IPv6 address to listen on */
	uint16_t port_base;         /* first listening port */
	unsigned ports;             /* number of consecutive ports, port_base .. port_base+ports-1 */
	int      backlog;           /* listen(2) backlog per socket; 0 = unset, resolved to net.core.somaxconn */
	uint64_t max_connections;   /* whole server; 0 = unset, resolved from the fd limit */
	bool     max_conn_given;    /* --max-connections was on the command line (honoured even beyond the fd limit) */
	unsigned workers;           /* worker processes; 0 = unset (resolves to 1) */
	bool     workers_auto;      /* --workers auto: enough processes for max_connections under the fd limit */
	unsigned stats_interval_ms; /* status line period, milliseconds; 0 = unset (1 s on a tty, else 10 s) */
	bool     check;             /* --check: print the limits table and exit */
	unsigned idle_timeout_s;    /* close a connection idle this many seconds; 0 = never */
	size_t   high_watermark;    /* bytes; reading stops while this much echo is unsent, resumes at half */
	bool     high_watermark_given; /* --high-watermark was on the command line */
	bool     help;              /* --help was given */
	bool     version;           /* --version was given */
	unsigned drain_timeout_ms;  /* after SIGINT/SIGTERM, milliseconds to flush unsent echo before closing
	                               the rest; 0 = close every connection at once */
	bool     metrics;           /* --metrics was given: the supervisor serves GET /metrics */
	char     metrics_addr[SRVOPT_ADDR_LEN]; /* numeric IPv4 or IPv6 address of the metrics endpoint */
	uint16_t metrics_port;      /* its port; 0 = any free port (the startup line names it) */
	struct cpulist cpus;        /* --cpus: worker i on cpus.cpu[i % cpus.count]; count 0 = not pinned */
	/* Filled by srvopt_resolve(): */
	uint64_t per_worker_max;    /* connections one worker accepts before it stops accepting */
	unsigned fds_per_worker;    /* usable connection fds per process: capacity_plan's budget,
	                               nofile - ports - CAPACITY_FD_RESERVE */
};

/* What srvopt_resolve() needs to know about the machine; main() fills it from limits_read() and isatty(). */
struct srvopt_env {
	uint64_t nofile;     /* RLIMIT_NOFILE soft limit after raising it to the hard limit */
	int      somaxconn;  /* net.core.somaxconn */
	bool     stderr_tty; /* stderr is a terminal */
};

void srvopt_defaults(struct server_options *o);

/* Pure: parses argv[1..argc-1] into *o (srvopt_defaults() is applied first). Returns 0, or -1 with a
 * one-line message naming the flag and the value in err. --help sets o->help, --version o->version. */
int srvopt_parse(int argc, char **argv, struct server_options *o, char *err, size_t errlen);

/* Pure: fills every unset field from env and computes per_worker_max / fds_per_worker. --workers auto takes
 * its count from capacity_plan (common/model/capacity.h), the function the doctor's model calls too.
 * Returns -1 with a message when the combination cannot work at all (e.g. fewer fds than listening
 * sockets, or more than WORKERS_MAX processes). */
int srvopt_resolve(struct server_options *o, const struct srvopt_env *env, char *err, size_t errlen);

/* Writes the usage text for program name prog into buf; returns the length snprintf would have written.
 * fixed_buffer = 0: the program takes --high-watermark; otherwise its per-connection buffer is fixed at that
 * many bytes and the text says the flag is not accepted. */
int srvopt_usage(const char *prog, size_t fixed_buffer, char *buf, size_t len);

#endif
