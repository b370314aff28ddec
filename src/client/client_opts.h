/* Command-line options of c1m-client. client_opts_parse is a pure function (strings in, a filled struct or
 * one line of error out) so every flag and every rejection is unit-tested; main() prints and exits. */
#ifndef C1M_CLIENT_OPTS_H
#define C1M_CLIENT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util/cpulist.h"
#include "common/util/addr.h"
#include "client/findmax.h"
#include "client/proto.h"
#include "client/tls.h"

#define CLIENT_DEFAULT_PORT          8081
#define CLIENT_DEFAULT_PORTS         100
#define CLIENT_DEFAULT_CONCURRENCY   1024   /* in-flight connects, all processes together (see loadgen.h) */
#define CLIENT_DEFAULT_TIMEOUT_MS    10000  /* connect and echo deadlines */
#define CLIENT_DEFAULT_PROGRESS_MS   1000
#define CLIENT_MAX_TARGET            100000000ULL /* -n above this is surely a typo */
#define CLIENT_WORKERS_AUTO          0
#define CLIENT_DEFAULT_DURATION_MS   10000  /* latency phase length */
#define CLIENT_DEFAULT_SLO_MS        200    /* the project's definition: each request answered within 200 ms */
#define CLIENT_DEFAULT_REPLY_TIMEOUT_MS 1000 /* a reply later than this is lost (default at least 2 x SLO) */
#define CLIENT_DEFAULT_SEND_WINDOW_MS 1    /* --send-window: the send timer's shortest wait */
#define CLIENT_MAX_SEND_WINDOW_MS    1000   /* --send-window at most (and below --slo) */
#define CLIENT_MAX_SHARDS            4096   /* --shard K/M: M at most (a fleet of this many hosts) */
#define CLIENT_MAX_MERGE             4096   /* --merge: report files at most */

struct client_options {
	char host[ADDR_STRLEN];      /* destination address as text; "" while host_name is not resolved */
	struct addr_ip dst;          /* destination address; family 0 while host_name is not resolved */
	char host_name[256];         /* HOST when it is a name (main resolves it once, net_resolve), else "" */
	int family;                  /* -4: AF_INET, -6: AF_INET6, else AF_UNSPEC (0): the family of a name */
	unsigned port_base;          /* first destination port */
	unsigned ports;              /* number of destination ports, round-robin */
	uint64_t target;             /* -n: connections to establish */
	bool sources_set;            /* --sources given */
	struct addr_range sources;   /* source addresses to bind, round-robin (valid if sources_set) */
	uint64_t rate;               /* new connections per second, all processes together; 0 = unlimited */
	unsigned concurrency;        /* max connections between connect() and verified echo, all processes */
	bool concurrency_set;        /* --concurrency given */
	uint64_t hold_ms;            /* keep connections open this long after the ramp; 0 = until a signal */
	const char *json_path;       /* --json FILE, "-" = stdout, NULL = none (points into argv) */
	unsigned connect_timeout_ms; /* connect deadline, milliseconds */
	unsigned echo_timeout_ms;    /* deadline for the echo after the line was sent, milliseconds */
	unsigned workers;            /* worker processes; CLIENT_WORKERS_AUTO = choose from the fd limit */
	bool workers_set;            /* --workers given (a number or "auto") */
	struct cpulist cpus;         /* --cpus: worker i on cpus.cpu[i % cpus.count]; count 0 = not pinned */
	unsigned progress_ms;        /* progress line period, milliseconds; 0 = none */
	bool quiet;                  /* no progress lines */
	uint64_t msg_rate;           /* --msg-rate: messages per second, all workers (a sweep's first rate);
	                                0 = no latency phase */
	uint64_t msg_rates[FINDMAX_MAX_STEPS]; /* --msg-rate R1,R2,...: the sweep's rates, increasing */
	unsigned n_rates;            /* entries of msg_rates; > 1 = a rate sweep at -n connections */
	uint64_t duration_ms;        /* --duration: length of the latency phase, milliseconds */
	unsigned reply_timeout_ms;   /* --timeout: reply deadline from the scheduled send, milliseconds */
	unsigned slo_ms;             /* --slo: p99 bound of the verdict, milliseconds */
	unsigned send_window_ms;     /* --send-window: shortest wait between a process's send wake-ups, ms */
	bool find_max;               /* --find-max: ramp in steps with a phase at each */
	uint64_t step;               /* --step: connections added per step (default 20% of -n) */
	bool duration_set, reply_timeout_set, slo_set, step_set, send_window_set; /* given on the command line */
	unsigned shard_k, shard_m;   /* --shard K/M: this process is shard K (1..M) of M; 1/1 = the whole run */
	bool barrier;                /* --barrier: wait for a "go" line on stdin before each latency phase (or
	                                the hold), so the shards of a fleet start it together; with --find-max
	                                or a sweep, a "next" or "end" line after each step */
	bool merge;                  /* --merge FILE...: merge shards' JSON reports, run nothing */
	const char *merge_files[CLIENT_MAX_MERGE]; /* the reports (point into argv) */
	unsigned n_merge;
	const char *fleet_step_path; /* --fleet-step FILE: the shards' done lines of one step; decide the
	                                fleet's next step and run nothing (NULL = not given) */
	struct proto_cfg proto;      /* --proto and its options (--path, --method, --header, --body, --pipeline) */
	bool help;                   /* --help: print usage, exit 0 */
	bool version;                /* --version: print the versions, exit 0 */
	struct tls_opts tls;         /* --tls, --sni, --ca, --insecure; sni defaults to a HOST name, and the
	                                certificate must name sni, else HOST's address */
};

/* How the run is laid out over processes and source addresses, decided from the options and two numbers
 * the caller reads from the system (pure, so it is tested without touching the machine). */
struct client_plan {
	unsigned workers;            /* processes */
	unsigned workers_needed;     /* processes the fd limit requires for -n */
	unsigned per_process;        /* sockets one process may hold: capacity_plan's budget */
	struct addr_range sources;   /* sources to bind; count 0 = let the kernel choose */
	bool sources_default;        /* chosen here, not by --sources */
	unsigned sources_needed;     /* sources so no (source, destination) tuple runs out of local ports */
	unsigned concurrency;        /* in-flight cap, all processes */
	char note[256];              /* something the user should know (a warning), "" if none */
};

/* nofile: the open-file limit the process runs with (the soft limit after raising it to the hard one); the
 * workers come from capacity_plan (common/model/capacity.h), the function c1m-doctor's model calls too.
 * sources_needed: source addresses that keep every (source, destination address, port) tuple at or below
 * half of the local port range. Fails (exit status 2) when the limit leaves no socket, when -n needs more
 * than WORKERS_MAX processes, or when --workers N cannot hold -n. */
int client_opts_plan(const struct client_options *o, uint64_t nofile, unsigned sources_needed,
		     struct client_plan *p, char *err, size_t errlen);

/* Pure: the family to resolve a HOST name in: -4/-6, else that of --sources, else AF_UNSPEC (either). */
int client_opts_family(const struct client_options *o);

/* Pure: -4/-6, --sources and HOST (once it is an address) agree on one family. 0, or -1 with err. */
int client_opts_check_family(const struct client_options *o, char *err, size_t errlen);

/* Pure: the connections shard K of M opens: -n divided as evenly as possible, the first -n mod M shards
 * taking one more (the whole -n when not sharded). */
uint64_t client_opts_shard_target(const struct client_options *o);

/* Fills *o with defaults, then applies argv[1..argc-1]. Returns 0, or -1 with a one-line message that
 * names the flag and the value. Flags take their value as the next argument or after '='. */
int client_opts_parse(int argc, char *const argv[], struct client_options *o, char *err, size_t errlen);

/* Usage text (several lines, ends with a newline). */
const char *client_opts_usage(void);

#endif
