/* Option parsing for c1m-server and c1m-epoll. srvopt_parse() only turns strings into numbers (through
 * util/num, the tree's one strict parser; a table gives each numeric flag its range) and rejects what cannot
 * be meant (port ranges past 65535, zero ports, unknown flags); srvopt_resolve() then applies the
 * machine-dependent defaults from a fabricated or real struct srvopt_env. Both are pure so the unit tests
 * can drive every branch without touching /proc or the fd limit. */
#include "server/core/srvopt.h"

#include "common/model/capacity.h"
#include "common/util/addr.h"
#include "common/util/num.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

void srvopt_defaults(struct server_options *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->bind_addr, sizeof(o->bind_addr), "%s", SRVOPT_DEFAULT_BIND);
	o->port_base = SRVOPT_DEFAULT_PORT;
	o->ports = SRVOPT_DEFAULT_PORTS;
	o->high_watermark = SRVOPT_DEFAULT_HIGH_WATERMARK;
	o->drain_timeout_ms = SRVOPT_DEFAULT_DRAIN_MS;
}

enum srvopt_id {
	OPT_BIND, OPT_PORT, OPT_PORTS, OPT_BACKLOG, OPT_MAXCONN, OPT_WORKERS, OPT_STATS, OPT_CHECK, OPT_IDLE,
	OPT_HIGHWM, OPT_METRICS, OPT_DRAIN, OPT_CPUS, OPT_HELP, OPT_VERSION
};

struct srvopt_flag {
	const char *name;
	enum srvopt_id id;
	bool has_arg;
};

static const struct srvopt_flag srvopt_flags[] = {
	{ "--bind", OPT_BIND, true },
	{ "--port", OPT_PORT, true },
	{ "--ports", OPT_PORTS, true },
	{ "--backlog", OPT_BACKLOG, true },
	{ "--max-connections", OPT_MAXCONN, true },
	{ "--workers", OPT_WORKERS, true },
	{ "--stats-interval", OPT_STATS, true },
	{ "--check", OPT_CHECK, false },
	{ "--idle-timeout", OPT_IDLE, true },
	{ "--high-watermark", OPT_HIGHWM, true },
	{ "--metrics", OPT_METRICS, true },
	{ "--drain-timeout", OPT_DRAIN, true },
	{ "--cpus", OPT_CPUS, true },
	{ "--help", OPT_HELP, false },
	{ "-h", OPT_HELP, false },
	{ "--version", OPT_VERSION, false },
};

/* Matches "--flag" or "--flag=value"; *inline_val points after '=' or is NULL. */
static const struct srvopt_flag *srvopt_lookup(const char *arg, const char **inline_val)
{
	size_t i;

	*inline_val = NULL;
	for (i = 0; i < sizeof(srvopt_flags) / sizeof(srvopt_flags[0]); i++) {
		size_t n = strlen(srvopt_flags[i].name);

		if (strncmp(arg, srvopt_flags[i].name, n) != 0)
			continue;
		if (arg[n] == '\0')
			return &srvopt_flags[i];
		if (arg[n] == '=') {
			*inline_val = arg + n + 1;
			return &srvopt_flags[i];
		}
	}
	return NULL;
}

/* ADDR:PORT with a numeric address; IPv6 in brackets ([::1]:9100), as in a URL. */
static int srvopt_parse_hostport(const char *s, char *addr, size_t addrlen, uint16_t *port)
{
	char why[128];
	unsigned char ab[16];
	const char *colon;
	size_t n;
	uint64_t v;
	int af = AF_INET;

	if (s == NULL)
		return -1;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		n = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
		af = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= addrlen)
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(af, addr, ab) != 1 || num_parse_u64(colon + 1, 0, 65535, &v, why, sizeof(why)) < 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* The flags that take one number: how it is written, the range, and what the message says was expected. */
enum srvopt_num_kind { NUM_WHOLE, NUM_BYTES, NUM_SECONDS };

static const struct srvopt_num {
	enum srvopt_id id;
	enum srvopt_num_kind kind;
	uint64_t lo, hi;             /* accepted range; milliseconds for NUM_SECONDS */
	const char *expect;          /* the message's "expected ..." */
} srvopt_nums[] = {
	{ OPT_PORT, NUM_WHOLE, 1, 65535, "a port number 1..65535" },
	{ OPT_PORTS, NUM_WHOLE, 1, 65535, "a count 1..65535" },
	/* the kernel caps the backlog at net.core.somaxconn (an int), so larger values are typos */
	{ OPT_BACKLOG, NUM_WHOLE, 1, INT_MAX, "a positive integer" },
	{ OPT_MAXCONN, NUM_WHOLE, 1, UINT64_C(100000000), "an integer 1..100000000" },
	{ OPT_STATS, NUM_SECONDS, 100, 86400000, "seconds between 0.1 and 86400" },
	{ OPT_IDLE, NUM_WHOLE, 0, 86400 * 365, "whole seconds (0 = never)" },
	{ OPT_HIGHWM, NUM_BYTES, SRVOPT_MIN_HIGH_WATERMARK, UINT64_C(1) << 30,
	  "bytes 1024..1024M (suffix k or M allowed)" },
	{ OPT_DRAIN, NUM_SECONDS, 0, SRVOPT_MAX_DRAIN_MS, "seconds 0..3600, up to 3 decimals (0 = close at once)" },
};

static void srvopt_store(struct server_options *o, enum srvopt_id id, uint64_t v)
{
	switch (id) {
	case OPT_PORT: o->port_base = (uint16_t)v; break;
	case OPT_PORTS: o->ports = (unsigned)v; break;
	case OPT_BACKLOG: o->backlog = (int)v; break;
	case OPT_MAXCONN: o->max_connections = v; o->max_conn_given = true; break;
	case OPT_STATS: o->stats_interval_ms = (unsigned)v; break;
	case OPT_IDLE: o->idle_timeout_s = (unsigned)v; break;
	case OPT_HIGHWM: o->high_watermark = (size_t)v; o->high_watermark_given = true; break;
	case OPT_DRAIN: o->drain_timeout_ms = (unsigned)v; break;
	default: break;
	}
}

/* 0 and the value stored, 1 when f is not a numeric flag, -1 with err. */
static int srvopt_apply_num(struct server_options *o, const struct srvopt_flag *f, const char *val, char *err,
			    size_t errlen)
{
	const struct srvopt_num *n = NULL;
	char why[128];
	uint64_t v = 0;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(srvopt_nums) / sizeof(srvopt_nums[0]); i++)
		if (srvopt_nums[i].id == f->id)
			n = &srvopt_nums[i];
	if (n == NULL)
		return 1;
	if (n->kind == NUM_WHOLE)
		rc = num_parse_u64(val, n->lo, n->hi, &v, why, sizeof(why));
	else if (n->kind == NUM_BYTES)
		rc = num_parse_bytes(val, n->lo, n->hi, &v, why, sizeof(why));
	else
		rc = num_parse_ms(val, n->hi, &v, why, sizeof(why));
	if (rc < 0 || v < n->lo) {
		snprintf(err, errlen, "%s '%s': expected %s", f->name, val, n->expect);
		return -1;
	}
	srvopt_store(o, f->id, v);
	return 0;
}

static int srvopt_apply(struct server_options *o, const struct srvopt_flag *f, const char *val, char *err,
			size_t errlen)
{
	uint64_t v;
	struct addr_ip bind;
	char why[128];
	int rc = srvopt_apply_num(o, f, val, err, errlen);

	if (rc <= 0)
		return rc;
	switch (f->id) {
	case OPT_BIND:
		if (strlen(val) >= sizeof(o->bind_addr) || addr_parse_ip(val, &bind, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--bind '%s': not a numeric IPv4 or IPv6 address (the server resolves no "
				 "names; :: serves both families)", val);
			return -1;
		}
		snprintf(o->bind_addr, sizeof(o->bind_addr), "%s", val);
		return 0;
	case OPT_WORKERS:
		o->workers_auto = strcmp(val, "auto") == 0;
		o->workers = 0;
		if (o->workers_auto)
			return 0;
		if (num_parse_u64(val, 1, WORKERS_MAX, &v, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--workers '%s': expected 'auto' or an integer 1..%u", val,
				 (unsigned)WORKERS_MAX);
			return -1;
		}
		o->workers = (unsigned)v;
		return 0;
	case OPT_CPUS:
		if (cpulist_parse(val, &o->cpus, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--cpus '%s': %s", val, why);
			return -1;
		}
		return 0;
	case OPT_METRICS:
		if (srvopt_parse_hostport(val, o->metrics_addr, sizeof(o->metrics_addr), &o->metrics_port) < 0) {
			snprintf(err, errlen, "--metrics '%s': expected ADDR:PORT with a numeric address, e.g. "
				 "127.0.0.1:9100 or [::1]:9100", val);
			return -1;
		}
		o->metrics = true;
		return 0;
	case OPT_CHECK:
		o->check = true;
		return 0;
	case OPT_HELP:
		o->help = true;
		return 0;
	case OPT_VERSION:
		o->version = true;
		return 0;
	default:
		break;
	}
	snprintf(err, errlen, "internal: unhandled option %s", f->name);
	return -1;
}

int srvopt_parse(int argc, char **argv, struct server_options *o, char *err, size_t errlen)
{
	int i;

	srvopt_defaults(o);
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val;
		const struct srvopt_flag *f = srvopt_lookup(arg, &val);

		if (f == NULL) {
			if (arg[0] == '-')
				snprintf(err, errlen, "unknown option '%s' (see --help)", arg);
			else
				snprintf(err, errlen, "unexpected argument '%s' (see --help)", arg);
			return -1;
		}
		if (!f->has_arg && val != NULL) {
			snprintf(err, errlen, "%s takes no value (got '%s')", f->name, val);
			return -1;
		}
		if (f->has_arg && val == NULL) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "%s: missing value", f->name);
				return -1;
			}
			val = argv[++i];
		}
		if (srvopt_apply(o, f, val, err, errlen) < 0)
			return -1;
	}
	if ((unsigned long)o->port_base + o->ports - 1 > 65535) {
		snprintf(err, errlen, "--port %u --ports %u: last port %lu is past 65535", (unsigned)o->port_base,
			 o->ports, (unsigned long)o->port_base + o->ports - 1);
		return -1;
	}
	/* The supervisor binds the metrics port before the workers bind theirs with SO_REUSEPORT, so an overlap
	 * would surface as a worker failing to listen; say what is wrong instead. */
	if (o->metrics && o->metrics_port >= o->port_base && o->metrics_port != 0 &&
	    (unsigned long)o->metrics_port <= (unsigned long)o->port_base + o->ports - 1) {
		snprintf(err, errlen, "--metrics port %u is one of the echo ports %u..%lu (--port %u --ports %u)",
			 (unsigned)o->metrics_port, (unsigned)o->port_base, (unsigned long)o->port_base + o->ports - 1,
			 (unsigned)o->port_base, o->ports);
		return -1;
	}
	return 0;
}

int srvopt_resolve(struct server_options *o, const struct srvopt_env *env, char *err, size_t errlen)
{
	struct capacity c;
	char why[256];
	int rc;

	if (o->backlog == 0) {
		if (env->somaxconn <= 0) {
			snprintf(err, errlen, "net.core.somaxconn could not be read; pass --backlog N");
			return -1;
		}
		o->backlog = env->somaxconn;
	}
	/* Without --workers auto only the budget matters: plan zero connections. */
	rc = capacity_plan(CAPACITY_SERVER, env->nofile, o->ports, o->workers_auto && o->max_conn_given ?
			   o->max_connections : 0, &c, why, sizeof(why));
	if (c.budget == 0) {
		snprintf(err, errlen, "open-file limit %" PRIu64 " leaves no descriptors for connections after %u "
			 "listening sockets and %u reserved; raise 'ulimit -n' above %u or use fewer --ports",
			 env->nofile, o->ports, CAPACITY_FD_RESERVE, o->ports + CAPACITY_FD_RESERVE);
		return -1;
	}
	o->fds_per_worker = c.budget;
	if (o->workers_auto) {
		if (rc < 0) {
			snprintf(err, errlen, "--workers auto: %s", why);
			return -1;
		}
		o->workers = c.workers;
	} else if (o->workers == 0) {
		o->workers = 1;
	}
	if (!o->max_conn_given)
		o->max_connections = (uint64_t)o->workers * c.budget;
	/* An explicit --max-connections beyond the fd limit is honoured: the limits check reports it and the
	 * workers fall back to the EMFILE pause instead of a clean cap.
	 * With --workers auto, --max-connections sized the workers with CAPACITY_SERVER_FILL_PCT to spare, and
	 * each worker may use its whole fd budget: SO_REUSEPORT hashing gives some workers more than their
	 * share, and a cap at exactly N / workers would make every worker close its listeners near the end of
	 * each ramp, turning the migration path (rare by design) into the normal one. */
	if (o->workers_auto && o->max_conn_given)
		o->per_worker_max = c.budget;
	else
		o->per_worker_max = o->max_connections / o->workers + (o->max_connections % o->workers != 0);
	if (o->stats_interval_ms == 0)
		o->stats_interval_ms = env->stderr_tty ? 1000 : 10000;
	return 0;
}

int srvopt_usage(const char *prog, size_t fixed_buffer, char *buf, size_t len)
{
	char hwm[160];

	if (fixed_buffer != 0)
		snprintf(hwm, sizeof(hwm), "  --high-watermark       not accepted: the echo buffer is the fixed %zu-byte "
			 "slot\n", fixed_buffer);
	else
		snprintf(hwm, sizeof(hwm), "  --high-watermark BYTES unsent echo per connection before reading pauses "
			 "(default %u; k, M)\n", SRVOPT_DEFAULT_HIGH_WATERMARK);
	return snprintf(buf, len,
		"usage: %s [options]\n"
		"  --bind ADDR            numeric IPv4 or IPv6 address to listen on (default %s; :: serves IPv4\n"
		"                         and IPv6 clients on one socket per port)\n"
		"  --port N               first port (default %u)\n"
		"  --ports N              number of consecutive ports (default %u)\n"
		"  --backlog N            listen backlog per port (default: net.core.somaxconn)\n"
		"  --max-connections N    connections for the whole server (default: what the fd limit allows,\n"
		"                         hard RLIMIT_NOFILE minus listeners minus %u, times the workers)\n"
		"  --workers N|auto       worker processes, at most %u (default 1; auto = enough for\n"
		"                         --max-connections at %u%% of the per-process fd budget, each then\n"
		"                         free to use all of it; 1 without --max-connections)\n"
		"  --stats-interval SEC   status line period (default 1 on a terminal, else 10)\n"
		"  --idle-timeout SEC     close connections idle this long (default 0 = never)\n"
		"%s"
		"  --drain-timeout SEC    graceful stop bound (default %.0f; 0 = close every connection at once).\n"
		"                         On the first SIGTERM/SIGINT each worker closes its listeners (new\n"
		"                         connections are refused at once), stops reading, sends every connection\n"
		"                         the echo it still owes and closes it once nothing is left (at once when\n"
		"                         nothing is owed); after SEC seconds it closes the rest. The summary says\n"
		"                         how long the drain took and how many were closed at the deadline. Exit\n"
		"                         status 0 either way: a drain cut short by the deadline is the bounded,\n"
		"                         expected outcome. A second SIGTERM/SIGINT kills the workers at once;\n"
		"                         the supervisor also kills any worker still running %u s after the\n"
		"                         deadline. SIGPIPE is ignored: a peer that resets costs one connection.\n"
		"  --metrics ADDR:PORT    serve Prometheus metrics at http://ADDR:PORT/metrics from the supervisor\n"
		"                         (numeric address, [::1]:PORT for IPv6; port 0 = any free port; the\n"
		"                         workers never touch it: connections, accepts, closes, errors by kind,\n"
		"                         bytes, accept pauses, memory and descriptors per worker)\n"
		"  --cpus LIST            pin worker i to the i-th CPU of LIST (0-3,6; round-robin when there are\n"
		"                         more workers than CPUs; default: the kernel places them)\n"
		"  --check                print the limits table for this configuration and exit (0 = all ok)\n"
		"  -h, --help             this text\n"
		"  --version              print the version of this program and of libevent, and exit\n",
		prog, SRVOPT_DEFAULT_BIND, (unsigned)SRVOPT_DEFAULT_PORT, (unsigned)SRVOPT_DEFAULT_PORTS,
		CAPACITY_FD_RESERVE, (unsigned)WORKERS_MAX, CAPACITY_SERVER_FILL_PCT, hwm, SRVOPT_DEFAULT_DRAIN_MS / 1000.0, SRVOPT_DRAIN_MARGIN_MS / 1000u);
}
