/* c1m-floor's command line: the parse and the process plan (floor_opts.h). Numbers go through num.h and
 * addresses through addr.h, the parsers every c1m binary uses, so the messages read the same. */
#include "bench/floor_opts.h"

#include "common/model/capacity.h"
#include "common/util/num.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char floor_usage[] =
	"usage: c1m-floor message --pairs K [--procs P] [--duration SEC] [--size BYTES]\n"
	"       c1m-floor connect -n N [--clients P] [--servers S] [--ports M] [--port BASE]\n"
	"                 [--sources FIRST[-LAST]] [--concurrency C] [--timeout SEC] [--size BYTES]\n"
	"The kernel's floor on this host, to set c1m's figures against (prints one JSON line on stdout).\n"
	"message: K loopback TCP pairs (127.0.0.1) held by P processes; each process sends a message on one end\n"
	"  of each pair in turn with a blocking send(), receives it with recv() on the other end, sends it back\n"
	"  and receives it: no epoll, no library. Prints the round trips per second of all processes together,\n"
	"  and the idle floor of kernel memory: the machine's slab (/proc/meminfo Slab) once the K pairs are made,\n"
	"  before any message, less the slab before the processes started, per pair (machine-wide).\n"
	"  --pairs K           pairs, all processes\n"
	"  --procs P           processes (default: as few as the open-file limit allows, 2 descriptors a pair)\n"
	"  --duration SEC      how long the round trips run (default 5)\n"
	"connect: P client processes open N connections (nonblocking connect(), one echo each, then held) to S\n"
	"  listener processes sharing the ports with SO_REUSEPORT on a bare epoll loop. Prints connections per\n"
	"  second from the start to the last echo.\n"
	"  -n, --connections N connections, all client processes\n"
	"  --clients P         client processes (default: what c1m-client --workers auto uses for N)\n"
	"  --servers S         listener processes (default: what c1m-server --workers auto uses for N)\n"
	"  --ports M           listening ports on 127.0.0.1, used round-robin (default 100)\n"
	"  --port BASE         first port (default 8081)\n"
	"  --sources RANGE     source addresses to bind, round-robin: 127.0.0.2-127.0.0.9 (default: the kernel's)\n"
	"  --concurrency C     connections between connect() and echo, all clients (default 1024)\n"
	"  --timeout SEC       deadline of the whole ramp (default 120)\n"
	"both:\n"
	"  --size BYTES        bytes of a message each way (default 32)\n"
	"  -h, --help          this text\n"
	"  --version           print the version and exit\n"
	"exit status: 0 the probe ran (connect: every connection echoed), 1 it failed, 2 bad usage\n";

const char *floor_opts_usage(void)
{
	return floor_usage;
}

enum floor_opt {
	OPT_PAIRS, OPT_PROCS, OPT_DURATION, OPT_SIZE, OPT_CONNS, OPT_CLIENTS, OPT_SERVERS, OPT_PORTS, OPT_PORT,
	OPT_SOURCES, OPT_CONCURRENCY, OPT_TIMEOUT,
};

struct floor_optdef {
	const char *name, *alias;
	enum floor_opt id;
	enum floor_mode mode;        /* FLOOR_NONE: both probes */
};

static const struct floor_optdef floor_optdefs[] = {
	{ "--pairs", NULL, OPT_PAIRS, FLOOR_MESSAGE },
	{ "--procs", NULL, OPT_PROCS, FLOOR_MESSAGE },
	{ "--duration", NULL, OPT_DURATION, FLOOR_MESSAGE },
	{ "--size", NULL, OPT_SIZE, FLOOR_NONE },
	{ "--connections", "-n", OPT_CONNS, FLOOR_CONNECT },
	{ "--clients", NULL, OPT_CLIENTS, FLOOR_CONNECT },
	{ "--servers", NULL, OPT_SERVERS, FLOOR_CONNECT },
	{ "--ports", NULL, OPT_PORTS, FLOOR_CONNECT },
	{ "--port", NULL, OPT_PORT, FLOOR_CONNECT },
	{ "--sources", NULL, OPT_SOURCES, FLOOR_CONNECT },
	{ "--concurrency", NULL, OPT_CONCURRENCY, FLOOR_CONNECT },
	{ "--timeout", NULL, OPT_TIMEOUT, FLOOR_CONNECT },
};

static const char *floor_mode_name(enum floor_mode m)
{
	return m == FLOOR_MESSAGE ? "message" : m == FLOOR_CONNECT ? "connect" : "?";
}

static int floor_u64(const char *flag, const char *v, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
		     size_t errlen)
{
	char why[96];

	if (num_parse_u64(v, lo, hi, out, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", flag, why);
		return -1;
	}
	return 0;
}

static int floor_apply(struct floor_options *o, enum floor_opt id, const char *flag, const char *v, char *err,
		       size_t errlen)
{
	char why[96];
	uint64_t u;

	switch (id) {
	case OPT_PAIRS:
		return floor_u64(flag, v, 1, FLOOR_PAIRS_MAX, &o->pairs, err, errlen);
	case OPT_CONNS:
		return floor_u64(flag, v, 1, FLOOR_PAIRS_MAX, &o->conns, err, errlen);
	case OPT_PROCS:
	case OPT_CLIENTS:
	case OPT_SERVERS:
		if (floor_u64(flag, v, 1, WORKERS_MAX, &u, err, errlen) < 0)
			return -1;
		*(id == OPT_PROCS ? &o->procs : id == OPT_CLIENTS ? &o->clients : &o->servers) = (unsigned)u;
		return 0;
	case OPT_SIZE:
		if (num_parse_bytes(v, 1, FLOOR_SIZE_MAX, &u, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", flag, why);
			return -1;
		}
		o->size = (unsigned)u;
		return 0;
	case OPT_DURATION:
	case OPT_TIMEOUT:
		if (num_parse_ms(v, FLOOR_DURATION_MAX_MS, &u, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", flag, why);
			return -1;
		}
		if (u < 100) {
			snprintf(err, errlen, "%s: %s is too short (at least 0.1 seconds)", flag, v);
			return -1;
		}
		*(id == OPT_DURATION ? &o->duration_ms : &o->timeout_ms) = u;
		return 0;
	case OPT_PORTS:
		if (floor_u64(flag, v, 1, 65535, &u, err, errlen) < 0)
			return -1;
		o->ports = (unsigned)u;
		return 0;
	case OPT_PORT:
		if (floor_u64(flag, v, 1, 65535, &u, err, errlen) < 0)
			return -1;
		o->port_base = (uint16_t)u;
		return 0;
	case OPT_CONCURRENCY:
		if (floor_u64(flag, v, 1, 1000000, &u, err, errlen) < 0)
			return -1;
		o->concurrency = (unsigned)u;
		return 0;
	case OPT_SOURCES:
		if (addr_parse_range(v, &o->sources, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", flag, why);
			return -1;
		}
		if (o->sources.first.family != AF_INET) {
			snprintf(err, errlen, "%s: '%s' is not IPv4: the probe connects to 127.0.0.1", flag, v);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "internal error: unhandled option %s", flag);
	return -1;
}

int floor_opts_parse(int argc, char *const argv[], struct floor_options *o, char *err, size_t errlen)
{
	bool seen[sizeof(floor_optdefs) / sizeof(floor_optdefs[0])] = { false };
	int i = 1;

	memset(o, 0, sizeof(*o));
	o->duration_ms = FLOOR_DURATION_DEFAULT_MS;
	o->size = FLOOR_SIZE_DEFAULT;
	o->ports = FLOOR_PORTS_DEFAULT;
	o->port_base = FLOOR_PORT_DEFAULT;
	o->concurrency = FLOOR_CONCURRENCY_DEFAULT;
	o->timeout_ms = FLOOR_TIMEOUT_DEFAULT_MS;

	if (argc >= 2 && strcmp(argv[1], "message") == 0) {
		o->mode = FLOOR_MESSAGE;
		i = 2;
	} else if (argc >= 2 && strcmp(argv[1], "connect") == 0) {
		o->mode = FLOOR_CONNECT;
		i = 2;
	}
	for (; i < argc; i++) {
		const char *a = argv[i];
		size_t k, nd = sizeof(floor_optdefs) / sizeof(floor_optdefs[0]);

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			o->help = true;
			continue;
		}
		if (strcmp(a, "--version") == 0) {
			o->version = true;
			continue;
		}
		for (k = 0; k < nd; k++)
			if (strcmp(a, floor_optdefs[k].name) == 0 ||
			    (floor_optdefs[k].alias != NULL && strcmp(a, floor_optdefs[k].alias) == 0))
				break;
		if (k == nd) {
			if (o->mode == FLOOR_NONE && a[0] != '-')
				snprintf(err, errlen, "'%s' is not a probe (message or connect)", a);
			else
				snprintf(err, errlen, "unknown option '%s' (see --help)", a);
			return -1;
		}
		if (o->mode == FLOOR_NONE) {
			snprintf(err, errlen, "%s needs a probe first: c1m-floor message|connect [options]", a);
			return -1;
		}
		if (floor_optdefs[k].mode != FLOOR_NONE && floor_optdefs[k].mode != o->mode) {
			snprintf(err, errlen, "%s belongs to the %s probe, not %s", a,
				 floor_mode_name(floor_optdefs[k].mode), floor_mode_name(o->mode));
			return -1;
		}
		if (seen[k]) {
			snprintf(err, errlen, "%s given twice", a);
			return -1;
		}
		seen[k] = true;
		if (i + 1 >= argc || argv[i + 1][0] == '\0') {
			snprintf(err, errlen, "%s needs a value", a);
			return -1;
		}
		if (floor_apply(o, floor_optdefs[k].id, a, argv[i + 1], err, errlen) < 0)
			return -1;
		i++;
	}
	if (o->help || o->version)
		return 0;
	if (o->mode == FLOOR_NONE) {
		snprintf(err, errlen, "name a probe: c1m-floor message|connect [options] (see --help)");
		return -1;
	}
	if (o->mode == FLOOR_MESSAGE && o->pairs == 0) {
		snprintf(err, errlen, "the message probe needs --pairs K");
		return -1;
	}
	if (o->mode == FLOOR_CONNECT && o->conns == 0) {
		snprintf(err, errlen, "the connect probe needs -n N");
		return -1;
	}
	if (o->mode == FLOOR_CONNECT && (unsigned)o->port_base + o->ports - 1 > 65535) {
		snprintf(err, errlen, "--port %u with --ports %u goes past port 65535", (unsigned)o->port_base, o->ports);
		return -1;
	}
	return 0;
}

/* A share of n over procs processes: the first n % procs take one more. */
static uint64_t floor_share_max(uint64_t n, unsigned procs)
{
	return n / procs + (n % procs != 0);
}

static int floor_plan_message(struct floor_options *o, uint64_t nofile, char *err, size_t errlen)
{
	struct capacity c;
	char why[160];
	uint64_t per, need;

	/* The client side of capacity_plan: every descriptor but the reserve is a socket; a pair takes two and
	 * the process's listener is in the reserve. */
	if (capacity_plan(CAPACITY_CLIENT, nofile, 0, o->pairs * 2, &c, why, sizeof(why)) < 0 && c.budget == 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	per = c.budget / 2;
	if (per == 0) {
		snprintf(err, errlen, "an open-file limit of %" PRIu64 " leaves no room for a pair", nofile);
		return -1;
	}
	need = o->pairs / per + (o->pairs % per != 0);
	if (o->procs == 0) {
		if (need > WORKERS_MAX) {
			snprintf(err, errlen, "%" PRIu64 " pairs at %" PRIu64 " per process need %" PRIu64
				 " processes, more than the %u supported", o->pairs, per, need, (unsigned)WORKERS_MAX);
			return -1;
		}
		o->procs = (unsigned)need;
		return 0;
	}
	if (o->procs > o->pairs) {
		snprintf(err, errlen, "--procs %u is more than --pairs %" PRIu64 ": a process would hold no pair",
			 o->procs, o->pairs);
		return -1;
	}
	if (floor_share_max(o->pairs, o->procs) > per) {
		snprintf(err, errlen, "--procs %u puts %" PRIu64 " pairs in a process, but the open-file limit %" PRIu64
			 " holds %" PRIu64 " (2 descriptors a pair): use --procs %" PRIu64 " or more", o->procs,
			 floor_share_max(o->pairs, o->procs), nofile, per, need);
		return -1;
	}
	return 0;
}

/* One side of the connect probe: the auto count is capacity_plan's, as --workers auto; a given count must
 * leave each process's share within its budget. */
static int floor_plan_side(enum capacity_side side, const char *flag, unsigned *procs, uint64_t n,
			   unsigned ports, uint64_t nofile, char *err, size_t errlen)
{
	struct capacity c;
	char why[200];
	int rc = capacity_plan(side, nofile, side == CAPACITY_SERVER ? ports : 0, n, &c, why, sizeof(why));

	if (*procs == 0) {
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", flag, why);
			return -1;
		}
		*procs = c.workers;
		return 0;
	}
	if (c.budget == 0) {
		snprintf(err, errlen, "%s: %s", flag, why);
		return -1;
	}
	if (floor_share_max(n, *procs) > c.budget) {
		uint64_t need = n / c.budget + (n % c.budget != 0);

		snprintf(err, errlen, "%s %u puts %" PRIu64 " connections in a process, but the open-file limit %" PRIu64
			 " holds %u there: use %s %" PRIu64 " or more", flag, *procs, floor_share_max(n, *procs), nofile,
			 c.budget, flag, need);
		return -1;
	}
	return 0;
}

int floor_opts_plan(struct floor_options *o, uint64_t nofile, char *err, size_t errlen)
{
	if (o->mode == FLOOR_MESSAGE)
		return floor_plan_message(o, nofile, err, errlen);
	if (o->mode != FLOOR_CONNECT) {
		snprintf(err, errlen, "no probe to plan");
		return -1;
	}
	if (floor_plan_side(CAPACITY_SERVER, "--servers", &o->servers, o->conns, o->ports, nofile, err, errlen) < 0 ||
	    floor_plan_side(CAPACITY_CLIENT, "--clients", &o->clients, o->conns, 0, nofile, err, errlen) < 0)
		return -1;
	if (o->clients > o->conns) {
		snprintf(err, errlen, "--clients %u is more than -n %" PRIu64 ": a process would open nothing",
			 o->clients, o->conns);
		return -1;
	}
	return 0;
}
