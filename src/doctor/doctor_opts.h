/* Command line of c1m-doctor. doctor_opts_parse() is pure: argv in, a filled struct doctor_options or one
 * line of error naming the flag and the value out, no printing, no exit and no getopt state, so the unit
 * tests drive every flag and every rejection and a fuzz target feeds it any argv. main() prints the error
 * (exit 2) or, for --help, the text of doctor_opts_usage(). */
#ifndef C1M_DOCTOR_OPTS_H
#define C1M_DOCTOR_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/model/limits.h"
#include "common/util/addr.h"

#define DOCTOR_DEFAULT_PORTS 100                  /* c1m-server listens on 8081..8180 */
#define DOCTOR_MAX_TARGET    UINT64_C(1000000000) /* -n above this is surely a typo */
#define DOCTOR_MAX_SINCE_S   (UINT64_C(100) * 365 * 86400) /* --since: a century, seconds */
#define DOCTOR_ERR_LEN       4608                 /* the doctor's err buffers: a PATH_MAX value and the reason */
#define DOCTOR_USAGE_LEN     6144                 /* bytes doctor_opts_usage() needs */
#define DOCTOR_MAX_BACKEND_LIST 256u              /* --backends ADDR:PORT,...; more are given as a count */
#define DOCTOR_MAX_FD_LIMIT  UINT64_C(1073741816) /* --fd-limit: the kernel's ceiling for fs.nr_open */

enum doctor_mode {
	DOCTOR_MODE_CHECK,   /* check the limits against the plan (the default) */
	DOCTOR_MODE_EXPLAIN, /* --explain: name the known cause of a failed run */
};

/* One entry of a --backends ADDR:PORT list. */
struct doctor_backend {
	struct addr_ip addr;        /* the backend's address, IPv4 or IPv6 */
	unsigned port;              /* its port, 1..65535 */
};

struct doctor_options {
	enum doctor_mode mode;
	struct limits_plan plan;    /* the plan to check: role, -n, ports, sources, ... (workers 0 = auto) */
	bool role_set;              /* --role given */
	bool target_set;            /* -n given */
	bool ports_set;             /* --ports given */
	bool dst_set;               /* --dst-addrs given */
	const char *sources_wide;   /* --sources IPv4 range outside 127.0.0.0/8 (points into argv): balancer only */
	const char *backends;       /* --backends as given (points into argv), NULL if not */
	bool backends_list;         /* --backends was an ADDR:PORT list: plan.dst_addrs pairs, plan.ports 1 */
	bool json;                  /* --json: machine-readable output */
	double since_s;             /* --explain: kernel log window, seconds; 0 = whole log */
	bool since_set;             /* --since given */
	const char *baseline;       /* --explain: counters file saved before the run (points into argv) */
	const char *save_baseline;  /* write the current counters to this file and exit (points into argv) */
	const char *from;           /* --explain: c1m-client's JSON report (points into argv) */
	bool help;                  /* --help or -h: print the usage, exit 0 */
	bool version;               /* --version: print the version, exit 0 */
};

/* Parses argv[1..argc-1] into *o (defaults first). Long flags take their value as the next argument or after
 * '=', -n also attached (-n1000). --help (--version) stops the parse and returns 0 with o->help (o->version)
 * set. Returns 0, or -1
 * with a one-line message in err: a bad value, an unknown flag, a stray argument, or modes that do not go
 * together (--save-baseline alone; --explain without --role and -n; --since, --baseline and --from only
 * with --explain; otherwise --role and -n required; --backends, --maxconn, --fd-limit and sources outside
 * 127.0.0.0/8 only with --role balancer, which needs --backends and takes no --dst-addrs, --workers,
 * --rate, --active or --bytes-per-active). */
int doctor_opts_parse(int argc, char *const argv[], struct doctor_options *o, char *err, size_t errlen);

/* Writes the usage text into buf; returns the length snprintf would have written. */
int doctor_opts_usage(char *buf, size_t len);

#endif
