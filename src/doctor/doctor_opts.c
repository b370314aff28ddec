/* Parser of c1m-doctor's command line (see doctor_opts.h). Hand-written rather than getopt_long, which keeps
 * global state, permutes argv and prints its own messages. The messages are the ones the doctor has always
 * given ("-n '0': must be between 1 and 1000000000"); a stray argument is reported only after every flag was
 * read, as getopt's permutation did. Flags are matched whole: no abbreviations. */
#include "doctor/doctor_opts.h"

#include "common/model/balancer.h"
#include "common/sys/workers.h"
#include "common/util/addr.h"
#include "common/util/num.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum doctor_opt_id {
	DOCTOR_OPT_ROLE, DOCTOR_OPT_N, DOCTOR_OPT_PORTS, DOCTOR_OPT_SOURCES, DOCTOR_OPT_DST, DOCTOR_OPT_WORKERS,
	DOCTOR_OPT_RATE, DOCTOR_OPT_USER, DOCTOR_OPT_ACTIVE, DOCTOR_OPT_ACTIVE_BYTES, DOCTOR_OPT_JSON,
	DOCTOR_OPT_EXPLAIN, DOCTOR_OPT_SINCE, DOCTOR_OPT_BASELINE, DOCTOR_OPT_SAVE, DOCTOR_OPT_FROM, DOCTOR_OPT_HELP,
	DOCTOR_OPT_VERSION, DOCTOR_OPT_BACKENDS, DOCTOR_OPT_MAXCONN, DOCTOR_OPT_FD_LIMIT, DOCTOR_OPT_TLS
};

static const struct {
	const char *name;
	enum doctor_opt_id id;
	bool value;            /* takes a value */
} doctor_opt_table[] = {
	{ "--role", DOCTOR_OPT_ROLE, true },
	{ "-n", DOCTOR_OPT_N, true },
	{ "--ports", DOCTOR_OPT_PORTS, true },
	{ "--sources", DOCTOR_OPT_SOURCES, true },
	{ "--dst-addrs", DOCTOR_OPT_DST, true },
	{ "--workers", DOCTOR_OPT_WORKERS, true },
	{ "--rate", DOCTOR_OPT_RATE, true },
	{ "--user-bytes", DOCTOR_OPT_USER, true },
	{ "--active", DOCTOR_OPT_ACTIVE, true },
	{ "--bytes-per-active", DOCTOR_OPT_ACTIVE_BYTES, true },
	{ "--json", DOCTOR_OPT_JSON, false },
	{ "--explain", DOCTOR_OPT_EXPLAIN, false },
	{ "--since", DOCTOR_OPT_SINCE, true },
	{ "--baseline", DOCTOR_OPT_BASELINE, true },
	{ "--save-baseline", DOCTOR_OPT_SAVE, true },
	{ "--from", DOCTOR_OPT_FROM, true },
	{ "--help", DOCTOR_OPT_HELP, false },
	{ "-h", DOCTOR_OPT_HELP, false },
	{ "--version", DOCTOR_OPT_VERSION, false },
	{ "--backends", DOCTOR_OPT_BACKENDS, true },
	{ "--maxconn", DOCTOR_OPT_MAXCONN, true },
	{ "--fd-limit", DOCTOR_OPT_FD_LIMIT, true },
	{ "--tls", DOCTOR_OPT_TLS, false },
};

#define DOCTOR_OPT_COUNT (sizeof(doctor_opt_table) / sizeof(doctor_opt_table[0]))

static int doctor_opts_bad(const char *flag, const char *value, const char *why, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s '%s': %s", flag, value, why);
	return -1;
}

/* A whole number in lo..hi; num_parse_u64 decides what a number is, the message keeps the doctor's words. */
static int doctor_opts_u64(const char *flag, const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
			   size_t errlen)
{
	char why[96];
	uint64_t v;

	if (num_parse_u64(s, 0, UINT64_MAX, &v, why, sizeof(why)) < 0)
		return doctor_opts_bad(flag, s, "not a whole number", err, errlen);
	if (v < lo || v > hi) {
		snprintf(why, sizeof(why), "must be between %" PRIu64 " and %" PRIu64, lo, hi);
		return doctor_opts_bad(flag, s, why, err, errlen);
	}
	*out = v;
	return 0;
}

static int doctor_opts_unsigned(const char *flag, const char *s, unsigned hi, unsigned *out, char *err,
				size_t errlen)
{
	uint64_t v;

	if (doctor_opts_u64(flag, s, 1, hi, &v, err, errlen) < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int doctor_opts_role(const char *s, enum limits_role *out, char *err, size_t errlen)
{
	if (strcmp(s, "server") == 0)
		*out = LIMITS_ROLE_SERVER;
	else if (strcmp(s, "client") == 0)
		*out = LIMITS_ROLE_CLIENT;
	else if (strcmp(s, "both") == 0)
		*out = LIMITS_ROLE_BOTH;
	else if (strcmp(s, "balancer") == 0)
		*out = LIMITS_ROLE_BALANCER;
	else
		return doctor_opts_bad("--role", s, "must be server, client, both or balancer", err, errlen);
	return 0;
}

/* A range of source addresses (127.0.0.2-127.0.0.9, 2001:2::1-2001:2::ff) or a count of them. c1m-client's
 * IPv4 sources on one host are loopback ones; a balancer's are on its interface toward the backends, so an
 * IPv4 range outside 127.0.0.0/8 is kept in *wide and judged once the role is known. IPv6 has one loopback
 * address, so several IPv6 sources are always addresses added to an interface: any range is taken. */
static int doctor_opts_sources(const char *s, unsigned *out, const char **wide, char *err, size_t errlen)
{
	struct addr_range r;
	char why[128];

	if (strchr(s, '.') == NULL && strchr(s, ':') == NULL)
		return doctor_opts_unsigned("--sources", s, ADDR_MAX_COUNT, out, err, errlen);
	if (addr_parse_range(s, &r, why, sizeof(why)) < 0)
		return doctor_opts_bad("--sources", s, why, err, errlen);
	*wide = r.first.family == AF_INET && !addr_is_loopback(&r.first) ? s : NULL;
	*out = r.count;
	return 0;
}

/* One backend: A.B.C.D:PORT or [IPv6]:PORT, as in a URL. */
static int doctor_opts_backend(char *item, struct doctor_backend *be)
{
	char why[96], *colon, *addr = item;
	uint64_t port;

	if (item[0] == '[') {
		colon = strchr(item, ']');
		if (colon == NULL || colon[1] != ':')
			return -1;
		*colon++ = '\0';
		addr = item + 1;
	} else {
		colon = strchr(item, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL)
			return -1;   /* IPv6 without brackets: where would its port start? */
	}
	*colon = '\0';
	if (addr_parse_ip(addr, &be->addr, why, sizeof(why)) < 0 || num_parse_u64(colon + 1, 1, 65535, &port, why,
										     sizeof(why)) < 0)
		return -1;
	be->port = (unsigned)port;
	return 0;
}

/* --backends: a count of backend addresses (with --ports each), or a list ADDR:PORT,... of distinct
 * address:port pairs, each a destination of its own ([IPv6]:PORT for IPv6). */
static int doctor_opts_backends(const char *s, struct doctor_options *o, char *err, size_t errlen)
{
	struct doctor_backend seen[DOCTOR_MAX_BACKEND_LIST];
	unsigned n = 0, i;
	const char *p = s;

	o->backends = s;
	if (strchr(s, ':') == NULL)
		return doctor_opts_unsigned("--backends", s, ADDR_MAX_COUNT, &o->plan.dst_addrs, err, errlen);
	for (;;) {
		char item[ADDR_STRLEN + 16], why[96];
		size_t len = strcspn(p, ",");

		if (len == 0 || len >= sizeof(item))
			return doctor_opts_bad("--backends", s, "want a count or ADDR:PORT,ADDR:PORT,...", err, errlen);
		if (n == DOCTOR_MAX_BACKEND_LIST) {
			snprintf(why, sizeof(why), "more than %u backends: give their count", DOCTOR_MAX_BACKEND_LIST);
			return doctor_opts_bad("--backends", s, why, err, errlen);
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (doctor_opts_backend(item, &seen[n]) < 0)
			return doctor_opts_bad("--backends", s, "each backend is ADDR:PORT ([IPv6]:PORT), PORT "
					       "1..65535", err, errlen);
		for (i = 0; i < n; i++)
			if (seen[i].port == seen[n].port && addr_equal(&seen[i].addr, &seen[n].addr))
				return doctor_opts_bad("--backends", s, "a backend is listed twice", err, errlen);
		n++;
		p += len;
		if (*p == '\0')
			break;
		p++;
	}
	o->backends_list = true;
	o->plan.dst_addrs = n;
	o->plan.ports = 1;
	return 0;
}

static int doctor_opts_workers(const char *s, unsigned *out, char *err, size_t errlen)
{
	char why[96];
	uint64_t v;

	if (strcmp(s, "auto") == 0) {
		*out = 0;
		return 0;
	}
	if (num_parse_u64(s, 1, WORKERS_MAX, &v, why, sizeof(why)) < 0) {
		snprintf(why, sizeof(why), "must be auto or a number from 1 to %u", (unsigned)WORKERS_MAX);
		return doctor_opts_bad("--workers", s, why, err, errlen);
	}
	*out = (unsigned)v;
	return 0;
}

static int doctor_opts_since(const char *s, struct doctor_options *o, char *err, size_t errlen)
{
	uint64_t v;

	if (doctor_opts_u64("--since", s, 1, DOCTOR_MAX_SINCE_S, &v, err, errlen) < 0)
		return -1;
	o->since_s = (double)v;
	o->since_set = true;
	return 0;
}

/* One flag and its value ("" for a flag without one). */
static int doctor_opts_apply(struct doctor_options *o, enum doctor_opt_id id, const char *v, char *err,
			     size_t errlen)
{
	struct limits_plan *p = &o->plan;

	switch (id) {
	case DOCTOR_OPT_ROLE:
		o->role_set = true;
		return doctor_opts_role(v, &p->role, err, errlen);
	case DOCTOR_OPT_N:
		o->target_set = true;
		return doctor_opts_u64("-n", v, 1, DOCTOR_MAX_TARGET, &p->target, err, errlen);
	case DOCTOR_OPT_PORTS:
		o->ports_set = true;
		return doctor_opts_unsigned("--ports", v, 65535, &p->ports, err, errlen);
	case DOCTOR_OPT_SOURCES:
		return doctor_opts_sources(v, &p->sources, &o->sources_wide, err, errlen);
	case DOCTOR_OPT_DST:
		o->dst_set = true;
		return doctor_opts_unsigned("--dst-addrs", v, ADDR_MAX_COUNT, &p->dst_addrs, err, errlen);
	case DOCTOR_OPT_WORKERS:
		return doctor_opts_workers(v, &p->workers, err, errlen);
	case DOCTOR_OPT_RATE:
		return doctor_opts_u64("--rate", v, 1, UINT64_C(100000000), &p->connect_rate, err, errlen);
	case DOCTOR_OPT_USER:
		return doctor_opts_u64("--user-bytes", v, 1, UINT64_C(1) << 30, &p->user_bytes_per_conn, err, errlen);
	case DOCTOR_OPT_ACTIVE: /* both ends of every connection: 2N sockets at most */
		return doctor_opts_u64("--active", v, 1, 2 * DOCTOR_MAX_TARGET, &p->active_sockets, err, errlen);
	case DOCTOR_OPT_ACTIVE_BYTES:
		return doctor_opts_u64("--bytes-per-active", v, 1, UINT64_C(1) << 30, &p->bytes_per_active_socket,
				       err, errlen);
	case DOCTOR_OPT_JSON:
		o->json = true;
		return 0;
	case DOCTOR_OPT_EXPLAIN:
		o->mode = DOCTOR_MODE_EXPLAIN;
		return 0;
	case DOCTOR_OPT_SINCE:
		return doctor_opts_since(v, o, err, errlen);
	case DOCTOR_OPT_BASELINE:
		o->baseline = v;
		return 0;
	case DOCTOR_OPT_SAVE:
		o->save_baseline = v;
		return 0;
	case DOCTOR_OPT_FROM:
		o->from = v;
		return 0;
	case DOCTOR_OPT_HELP:
		o->help = true;
		return 0;
	case DOCTOR_OPT_VERSION:
		o->version = true;
		return 0;
	case DOCTOR_OPT_BACKENDS:
		return doctor_opts_backends(v, o, err, errlen);
	case DOCTOR_OPT_MAXCONN:
		return doctor_opts_u64("--maxconn", v, 1, DOCTOR_MAX_TARGET, &p->maxconn, err, errlen);
	case DOCTOR_OPT_FD_LIMIT:
		return doctor_opts_u64("--fd-limit", v, 1, DOCTOR_MAX_FD_LIMIT, &p->fd_limit, err, errlen);
	case DOCTOR_OPT_TLS:
		p->client_tls = true;
		return 0;
	}
	snprintf(err, errlen, "internal error: unhandled option %d", (int)id);
	return -1;
}

/* Which modes and flags go together, once every flag is read. */
static int doctor_opts_check(const struct doctor_options *o, char *err, size_t errlen)
{
	if (o->save_baseline != NULL) {
		if (o->mode == DOCTOR_MODE_EXPLAIN || o->role_set || o->target_set || o->from != NULL ||
		    o->plan.client_tls) {
			snprintf(err, errlen, "--save-baseline '%s' takes no other mode", o->save_baseline);
			return -1;
		}
		return 0;
	}
	if (o->mode == DOCTOR_MODE_EXPLAIN) {
		if (o->plan.client_tls) {
			snprintf(err, errlen, "--tls describes a plan's client (--role client or both), not --explain");
			return -1;
		}
		if (o->role_set || o->target_set) {
			snprintf(err, errlen, "--explain takes no --role or -n");
			return -1;
		}
		return 0;
	}
	if (o->since_set || o->baseline != NULL || o->from != NULL) {
		snprintf(err, errlen, "%s only goes with --explain",
			 o->since_set ? "--since" : o->baseline != NULL ? "--baseline" : "--from");
		return -1;
	}
	if (!o->role_set) {
		snprintf(err, errlen, "--role is required (server, client, both or balancer; see --help)");
		return -1;
	}
	if (!o->target_set) {
		snprintf(err, errlen, "-n is required (connections wanted; see --help)");
		return -1;
	}
	return 0;
}

/* The balancer's flags and the others', once the role is known (before the modes are checked, so a source
 * range outside 127.0.0.0/8 is refused as early as it always was); a balancer's backend ports default to 1. */
static int doctor_opts_check_role(struct doctor_options *o, char *err, size_t errlen)
{
	const struct limits_plan *p = &o->plan;
	const char *flag = NULL;

	if (p->role != LIMITS_ROLE_BALANCER) {
		if (o->sources_wide != NULL)
			return doctor_opts_bad("--sources", o->sources_wide, "source addresses must be in 127.0.0.0/8"
					       " (other addresses only with --role balancer)", err, errlen);
		flag = o->backends != NULL ? "--backends" : p->maxconn ? "--maxconn" : p->fd_limit ? "--fd-limit" : NULL;
		if (flag != NULL) {
			snprintf(err, errlen, "%s only goes with --role balancer", flag);
			return -1;
		}
		if (p->client_tls && p->role == LIMITS_ROLE_SERVER && o->role_set) {
			snprintf(err, errlen, "--tls adds c1m-client's TLS memory: it needs --role client or both (a TLS "
				 "server's own is its --user-bytes)");
			return -1;
		}
		return 0;
	}
	if (o->save_baseline != NULL || o->mode == DOCTOR_MODE_EXPLAIN)
		return 0;   /* doctor_opts_check refuses --role there */
	if (o->backends == NULL) {
		snprintf(err, errlen, "--role balancer needs --backends (a count, or ADDR:PORT,...; see --help)");
		return -1;
	}
	flag = o->dst_set ? "--dst-addrs" : p->workers ? "--workers" : p->connect_rate ? "--rate" :
	       p->active_sockets ? "--active" : p->bytes_per_active_socket ? "--bytes-per-active" :
	       p->client_tls ? "--tls" :
	       o->backends_list && o->ports_set ? "--ports" : NULL;
	if (flag != NULL) {
		snprintf(err, errlen, "%s does not go with --role balancer%s", flag,
			 strcmp(flag, "--ports") == 0 ? " and a --backends list (its entries carry the ports)" : "");
		return -1;
	}
	if (!o->ports_set && !o->backends_list)
		o->plan.ports = 1;
	return 0;
}

/* The table entry for argv[*i] and its value, taking the next argument when the value is not attached
 * ("--role=server", "-n1000"). Returns the entry's index, or -1 with err. */
static int doctor_opts_flag(int argc, char *const argv[], int *i, const char **value, char *err, size_t errlen)
{
	const char *arg = argv[*i], *attached = NULL;
	size_t namelen = strlen(arg), k;

	if (arg[1] != '-') {
		namelen = 2; /* a short flag: -n, -h; anything after it is -n's value */
		attached = arg[2] != '\0' ? arg + 2 : NULL;
	} else if (strchr(arg, '=') != NULL) {
		namelen = (size_t)(strchr(arg, '=') - arg);
		attached = arg + namelen + 1;
	}
	for (k = 0; k < DOCTOR_OPT_COUNT; k++)
		if (strlen(doctor_opt_table[k].name) == namelen && strncmp(doctor_opt_table[k].name, arg, namelen) == 0)
			break;
	if (k == DOCTOR_OPT_COUNT) {
		if (arg[1] != '-')
			snprintf(err, errlen, "unknown option '-%c' (see --help)", arg[1]);
		else
			snprintf(err, errlen, "unknown option '%s' (see --help)", arg);
		return -1;
	}
	*value = ""; /* never NULL: a flag without a value ignores it */
	if (doctor_opt_table[k].value) {
		if (attached == NULL && *i + 1 >= argc) {
			snprintf(err, errlen, "%s needs a value", doctor_opt_table[k].name);
			return -1;
		}
		*value = attached != NULL ? attached : argv[++*i];
	} else if (attached != NULL && arg[1] == '-') {
		snprintf(err, errlen, "%s takes no value ('%s')", doctor_opt_table[k].name, arg);
		return -1;
	}
	return (int)k;
}

static void doctor_opts_defaults(struct doctor_options *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = DOCTOR_MODE_CHECK;
	o->plan.ports = DOCTOR_DEFAULT_PORTS;
	o->plan.dst_addrs = 1;
	o->plan.sources = 1;
}

int doctor_opts_parse(int argc, char *const argv[], struct doctor_options *o, char *err, size_t errlen)
{
	const char *stray = NULL, *value;
	bool only_positional = false;
	int i, k;

	doctor_opts_defaults(o);
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (only_positional || arg[0] != '-' || arg[1] == '\0') {
			if (stray == NULL)
				stray = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_positional = true;
			continue;
		}
		k = doctor_opts_flag(argc, argv, &i, &value, err, errlen);
		if (k < 0 || doctor_opts_apply(o, doctor_opt_table[k].id, value, err, errlen) < 0)
			return -1;
		if (o->help || o->version)
			return 0;
	}
	if (stray != NULL) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", stray);
		return -1;
	}
	if (doctor_opts_check_role(o, err, errlen) < 0)
		return -1;
	return doctor_opts_check(o, err, errlen);
}

int doctor_opts_usage(char *buf, size_t len)
{
	return snprintf(buf, len,
		"usage: c1m-doctor --role server|client|both -n N [--ports P] [--sources RANGE|COUNT]\n"
		"                  [--dst-addrs D] [--workers W|auto] [--rate CONN_PER_S]\n"
		"                  [--user-bytes B] [--active S] [--bytes-per-active B] [--tls] [--json]\n"
		"       c1m-doctor --role balancer -n N --backends COUNT|ADDR:PORT,... [--ports P]\n"
		"                  [--sources RANGE|COUNT] [--maxconn M] [--fd-limit F] [--user-bytes B] [--json]\n"
		"       c1m-doctor --explain [--since SECONDS] [--baseline FILE] [--from CLIENT_JSON] [--json]\n"
		"       c1m-doctor --save-baseline FILE\n"
		"       c1m-doctor -h | --help | --version\n"
		"\n"
		"Checks every limit that caps concurrent TCP connections on this machine against a plan:\n"
		"  --role        server: accept N; client: open N; both: server and client here over loopback\n"
		"  -n            N, concurrent connections wanted\n"
		"  --ports       server listening ports (default %d)\n"
		"  --sources     client source addresses: a range 127.0.0.2-127.0.0.9 (IPv4 in 127.0.0.0/8),\n"
		"                2001:2::1-2001:2::ff (IPv6, any), or a count (default 1)\n"
		"  --dst-addrs   server addresses the client connects to (default 1)\n"
		"  --workers     processes per side, or auto: as many as the fd limit needs (default auto)\n"
		"  --rate        new connections per second, to check the listen backlogs (default unknown)\n"
		"  --user-bytes  user-space bytes per connection per side (default %d)\n"
		"  --active      sockets holding buffer data at the same moment, for the tcp_mem check. Idle\n"
		"                connections hold none; the default is the client's in-flight cap (%d, all\n"
		"                processes together) times the sockets per connection on this host (2 for both).\n"
		"                For the latency phase give the connections with a message queued (x2 for both)\n"
		"  --bytes-per-active  bytes each of those sockets holds (default %d, charged in whole pages);\n"
		"                e.g. 16384 for echoes stuck behind peers that stop reading (c1m-server's\n"
		"                default high watermark)\n"
		"  --tls         the client runs c1m-client --tls: %u more bytes per client connection\n"
		"                (measured: its SSL, with OpenSSL's buffers released while idle)\n"
		"  --json        machine-readable output\n"
		"An L4 balancer (HAProxy, tuning/haproxy/) holds 2 fds per connection in one process and is a\n"
		"client of its backends; run --role balancer on its host (N: client connections through it):\n"
		"  --backends    backend addresses (each with --ports ports, default 1) or their ADDR:PORT list\n"
		"                (A.B.C.D:PORT, [IPv6]:PORT)\n"
		"  --sources     the balancer's source addresses toward them (range or count, default 1)\n"
		"  --maxconn     HAProxy's maxconn (default: not set, derived from its fd limit)\n"
		"  --fd-limit    HAProxy's fd limit, ulimit-n or fd-hard-limit (default: the most it can raise\n"
		"                its own limit to here)\n"
		"  --user-bytes  HAProxy's bytes per connection (default %u)\n"
		"Exit status: 0 all ok (warnings allowed), 1 a check fails, 2 bad usage.\n"
		"\n"
		"After a failed run, --explain names the known cause from the kernel log (conntrack full, TCP out\n"
		"of memory, OOM killer, file-max), TcpExt counters (ListenOverflows, TCPMemoryPressures,\n"
		"TCPAbortOnMemory), conntrack fill, TCP socket memory, processes at their open-file limit (EMFILE)\n"
		"and local ports used up per source/destination in /proc/net/tcp (EADDRNOTAVAIL). Run it in the\n"
		"network namespace of the program that failed, soon after the failure:\n"
		"  --since         only kernel log lines from the last SECONDS\n"
		"  --from          FILE  c1m-client --json report: explain each failure kind it counted\n"
		"  --save-baseline FILE  save the cumulative counters before a run\n"
		"  --baseline      FILE  compare with them, so counters show only the run's share\n"
		"Exit status: 0 no known cause found, 1 a cause found, 2 bad usage.\n",
		DOCTOR_DEFAULT_PORTS, LIMITS_USER_CONN_BYTES, LIMITS_CLIENT_INFLIGHT, LIMITS_ACTIVE_SOCKET_BYTES,
		(unsigned)LIMITS_CLIENT_TLS_BYTES, BALANCER_USER_CONN_BYTES);
}
