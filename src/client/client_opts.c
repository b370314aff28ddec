/* Parser for c1m-client's command line. Hand-written instead of getopt_long because getopt keeps global
 * state, permutes argv and prints its own messages; here every error is one line that names the flag and
 * the offending value, and the function can be called any number of times from the tests. */
#include "client/client_opts.h"

#include "common/model/capacity.h"
#include "common/util/num.h"

#include "client/findmax.h"
#include "client/proto_mqtt.h"
#include "client/sched.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: c1m-client HOST -n N [options]\n"
	"  HOST                    the server: an IPv4 or IPv6 address, or a name resolved once at start\n"
	"                          (the address it resolved to is printed)\n"
	"  -n, --connections N     connections to establish and hold\n"
	"  --port BASE             first server port (default 8081)\n"
	"  --ports COUNT           number of server ports, used round-robin (default 100)\n"
	"  --sources FIRST[-LAST]  source addresses to bind, round-robin: 127.0.0.2-127.0.0.9 or\n"
	"                          2001:2::1-2001:2::ff, of HOST's family (default: enough 127.0.0.x for\n"
	"                          an IPv4 loopback HOST, else the kernel's)\n"
	"  -4, -6                  resolve a HOST name to IPv4 only, IPv6 only (default: either, the\n"
	"                          resolver's first answer; --sources also picks the family)\n"
	"  --rate CONN_PER_S       new connections per second, all workers together (default unlimited)\n"
	"  --concurrency MAX       connections between connect() and verified echo, all workers together\n"
	"                          (default 1024, so listen queues are not flooded)\n"
	"  --hold SECONDS          keep the connections open this long after the ramp (default 0 = until\n"
	"                          SIGINT/SIGTERM)\n"
	"  --json FILE|-           also write the report as JSON to FILE or stdout\n"
	"  --connect-timeout SEC   connect deadline (default 10)\n"
	"  --echo-timeout SEC      echo deadline (default 10)\n"
	"  --workers N|auto        processes; auto = as many as the fd limit needs (default auto)\n"
	"  --cpus LIST             pin worker i to the i-th CPU of LIST (0-3,6; round-robin when there\n"
	"                          are more workers; default: the kernel places them)\n"
	"  --progress-interval SEC progress line period on stderr (default 1, 0 = none)\n"
	"protocol (default echo: c1m's own line and 64-byte frames, echoed byte for byte):\n"
	"  --proto echo|http|redis|mqtt\n"
	"                          http: HTTP/1.1 keep-alive; established after one 2xx/3xx response, a\n"
	"                          message is one request (a status outside 2xx/3xx is a failed message);\n"
	"                          redis: RESP2, established after the --hello reply, a message is one\n"
	"                          --command (an error reply is a failed message); mqtt: MQTT 3.1.1,\n"
	"                          established after CONNACK and SUBACK of the connection's own topic\n"
	"                          c1m/ID, a message is a QoS 0 PUBLISH to it and its reply the broker's\n"
	"  --path PATH             request path (default /)\n"
	"  --method METHOD         request method (default GET)\n"
	"  --header 'NAME: VALUE'  one more request header (repeatable; Host is HOST:port)\n"
	"  --body TEXT             request body (sent with its Content-Length)\n"
	"  --pipeline              send a connection's requests without waiting for the previous response\n"
	"  --command 'CMD ARGS'    redis: the command of a message (default PING)\n"
	"  --hello 'CMD ARGS'      redis: the handshake command, e.g. 'AUTH pw' or 'HELLO 2' (default PING)\n"
	"  --keepalive SECONDS     mqtt: the CONNECT's keepalive, 1..65535; a PINGREQ goes out this often on\n"
	"                          every held connection (default 60)\n"
	"  --proto ws              WebSocket (RFC 6455): established after the upgrade to --path (101 with the\n"
	"                          right Sec-WebSocket-Accept); pings from the server are answered\n"
	"  --ws-mode echo|ping     ws: a message is a text frame echoed back, or a ping answered by a pong\n"
	"                          (default echo)\n"
	"latency phase (after the ramp; the run ends after it unless --hold is given):\n"
	"  --msg-rate MSG_PER_S    send fixed-size messages over all held connections at this total rate,\n"
	"                          open loop, RTT measured from each message's scheduled send time\n"
	"  --msg-rate R1,R2,...    rate sweep: one phase per rate (increasing) over all -n connections; report\n"
	"                          the highest rate that met the SLO (stops at the first that misses it)\n"
	"  --duration SECONDS      length of the phase (default 10)\n"
	"  --timeout MS            a reply later than this is lost; also the wait for stragglers at the end\n"
	"                          (default 1000, at least twice --slo)\n"
	"  --slo MS                the verdict needs p99 within this (default 200)\n"
	"  --send-window MS        each process's send timer waits at least this long between wake-ups and\n"
	"                          then writes every message due (default 1, below --slo): fewer wake-ups\n"
	"                          and less CPU per message, but a message waits up to MS before it is\n"
	"                          written, and its RTT (from the scheduled time) includes that wait\n"
	"  --find-max              ramp in steps with a phase at each; report the most connections that met\n"
	"                          the SLO (stops at the first step that misses it or loses connections)\n"
	"  --step N                connections added per step (default 20% of -n)\n"
	"fleet (several client hosts, one report):\n"
	"  --shard K/M             be shard K of M: open the K-th share of -n (the first -n mod M shards one\n"
	"                          more), from the K-th slice of --sources, continuing the others' port rotation\n"
	"  --barrier               before the latency phase (or the hold), print 'c1m-shard: ready STEP' on\n"
	"                          stderr and wait for 'go STEP UNIX_TIME_NS' on stdin, so all shards start it\n"
	"                          at one wall-clock time (c1m fleet sends it)\n"
	"                          with --find-max or a sweep, after each step print 'c1m-shard: done STEP\n"
	"                          JSON' and wait for 'next STEP RATE CONNS' or 'end REASON' (the fleet's)\n"
	"  --merge FILE...         print one report for the shards' --json reports (exit status: its verdict)\n"
	"  --fleet-step FILE       with the fleet's options: read the shards' done lines of one step, print the\n"
	"                          fleet's next line for them (next ... or end ...), run nothing (c1m fleet's)\n"
	"tls (any --proto):\n"
	"  --tls                   speak TLS on every connection; established after the TLS handshake and\n"
	"                          the protocol's\n"
	"  --sni NAME              server name sent (default: HOST when it is a name, none for an address);\n"
	"                          the certificate must name it (else HOST's address)\n"
	"  --ca FILE               verify the server's certificate against the CAs in FILE (PEM; default:\n"
	"                          the system's)\n"
	"  --insecure              do not verify the server's certificate (the report says so)\n"
	"  -q, --quiet             no progress lines\n"
	"  -h, --help              this text\n"
	"  --version               print the version of c1m-client and of libevent, and exit\n"
	"SEC and SECONDS are seconds with up to 3 decimals (0.5, 2.125); --timeout, --slo and --send-window are whole ms\n"
	"exit status: 0 all N established and echoed (and, with --msg-rate, p99 within --slo and no message\n"
	"lost; with --find-max, at every step up to -n; with a sweep, at every rate), 1 otherwise, 2 bad usage\n";

const char *client_opts_usage(void)
{
	return usage;
}

/* A whole number in lo..hi; the message names the flag, then util/num's phrase with the value. */
static int parse_u64(const char *flag, const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
		     size_t errlen)
{
	char why[160];

	if (num_parse_u64(s, lo, hi, out, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", flag, why);
		return -1;
	}
	return 0;
}

static void set_defaults(struct client_options *o)
{
	memset(o, 0, sizeof(*o));
	o->port_base = CLIENT_DEFAULT_PORT;
	o->ports = CLIENT_DEFAULT_PORTS;
	o->concurrency = CLIENT_DEFAULT_CONCURRENCY;
	o->connect_timeout_ms = CLIENT_DEFAULT_TIMEOUT_MS;
	o->echo_timeout_ms = CLIENT_DEFAULT_TIMEOUT_MS;
	o->workers = CLIENT_WORKERS_AUTO;
	o->progress_ms = CLIENT_DEFAULT_PROGRESS_MS;
	o->duration_ms = CLIENT_DEFAULT_DURATION_MS;
	o->slo_ms = CLIENT_DEFAULT_SLO_MS;
	o->reply_timeout_ms = CLIENT_DEFAULT_REPLY_TIMEOUT_MS;
	o->send_window_ms = CLIENT_DEFAULT_SEND_WINDOW_MS;
	proto_cfg_init(&o->proto);
}

/* Flags that take a value. */
enum opt_id {
	OPT_N, OPT_PORT, OPT_PORTS, OPT_SOURCES, OPT_RATE, OPT_CONC, OPT_HOLD, OPT_JSON, OPT_CTIMEOUT,
	OPT_ETIMEOUT, OPT_WORKERS, OPT_PROGRESS, OPT_QUIET, OPT_HELP, OPT_MSG_RATE, OPT_DURATION, OPT_RTIMEOUT,
	OPT_SLO, OPT_FIND_MAX, OPT_STEP, OPT_SHARD, OPT_BARRIER, OPT_MERGE, OPT_VERSION, OPT_PROTO, OPT_PATH,
	OPT_METHOD, OPT_HEADER, OPT_BODY, OPT_PIPELINE, OPT_COMMAND, OPT_HELLO, OPT_KEEPALIVE, OPT_INET4, OPT_INET6,
	OPT_CPUS, OPT_FLEET_STEP, OPT_WS_MODE, OPT_TLS, OPT_SNI, OPT_CA, OPT_INSECURE, OPT_SEND_WINDOW, OPT_NONE
};

static const struct {
	const char *name;
	enum opt_id id;
	bool value;
} opt_table[] = {
	{ "-n", OPT_N, true },
	{ "--connections", OPT_N, true },
	{ "--port", OPT_PORT, true },
	{ "--ports", OPT_PORTS, true },
	{ "--sources", OPT_SOURCES, true },
	{ "--rate", OPT_RATE, true },
	{ "--concurrency", OPT_CONC, true },
	{ "--hold", OPT_HOLD, true },
	{ "--json", OPT_JSON, true },
	{ "--connect-timeout", OPT_CTIMEOUT, true },
	{ "--echo-timeout", OPT_ETIMEOUT, true },
	{ "--workers", OPT_WORKERS, true },
	{ "--progress-interval", OPT_PROGRESS, true },
	{ "-q", OPT_QUIET, false },
	{ "--quiet", OPT_QUIET, false },
	{ "--msg-rate", OPT_MSG_RATE, true },
	{ "--duration", OPT_DURATION, true },
	{ "--timeout", OPT_RTIMEOUT, true },
	{ "--slo", OPT_SLO, true },
	{ "--send-window", OPT_SEND_WINDOW, true },
	{ "--find-max", OPT_FIND_MAX, false },
	{ "--step", OPT_STEP, true },
	{ "--shard", OPT_SHARD, true },
	{ "--barrier", OPT_BARRIER, false },
	{ "--merge", OPT_MERGE, false },
	{ "--fleet-step", OPT_FLEET_STEP, true },
	{ "-h", OPT_HELP, false },
	{ "--help", OPT_HELP, false },
	{ "--version", OPT_VERSION, false },
	{ "--proto", OPT_PROTO, true },
	{ "--path", OPT_PATH, true },
	{ "--method", OPT_METHOD, true },
	{ "--header", OPT_HEADER, true },
	{ "--body", OPT_BODY, true },
	{ "--pipeline", OPT_PIPELINE, false },
	{ "--command", OPT_COMMAND, true },
	{ "--hello", OPT_HELLO, true },
	{ "--keepalive", OPT_KEEPALIVE, true },
	{ "-4", OPT_INET4, false },
	{ "-6", OPT_INET6, false },
	{ "--cpus", OPT_CPUS, true },
	{ "--ws-mode", OPT_WS_MODE, true },
	{ "--tls", OPT_TLS, false },
	{ "--sni", OPT_SNI, true },
	{ "--ca", OPT_CA, true },
	{ "--insecure", OPT_INSECURE, false },
};

/* --proto and the options of a protocol; checked together in check_run (proto_cfg_check). */
static int apply_proto(struct client_options *o, enum opt_id id, const char *flag, const char *v, char *err,
		       size_t errlen)
{
	struct proto_cfg *p = &o->proto;
	char why[160];
	uint64_t s;

	switch (id) {
	case OPT_PROTO:
		if (proto_from_name(v, &p->id) < 0) {
			snprintf(err, errlen, "%s: '%s' is not a protocol (echo, http, redis, mqtt or ws)", flag, v ? v : "");
			return -1;
		}
		return 0;
	case OPT_PATH:
		p->path = v;
		return 0;
	case OPT_METHOD:
		p->method = v;
		return 0;
	case OPT_HEADER:
		if (p->n_headers == PROTO_HEADERS_MAX) {
			snprintf(err, errlen, "%s: more than %d headers", flag, PROTO_HEADERS_MAX);
			return -1;
		}
		p->headers[p->n_headers++] = v;
		return 0;
	case OPT_BODY:
		p->body = v;
		return 0;
	case OPT_PIPELINE:
		p->pipeline = true;
		return 0;
	case OPT_COMMAND:
		p->command = v;
		return 0;
	case OPT_HELLO:
		p->hello = v;
		return 0;
	case OPT_KEEPALIVE:
		if (num_parse_u64(v, 1, MQTT_KEEPALIVE_MAX_S, &s, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s (seconds, the CONNECT's 16-bit keepalive field)", flag, why);
			return -1;
		}
		p->keepalive_ms = (unsigned)s * 1000u;
		return 0;
	case OPT_WS_MODE:
		if (!v || (strcmp(v, "echo") != 0 && strcmp(v, "ping") != 0)) {
			snprintf(err, errlen, "%s: '%s' is not a WebSocket mode (echo or ping)", flag, v ? v : "");
			return -1;
		}
		p->ws_mode = v;
		return 0;
	default:
		return 1;
	}
}

/* --tls and its options; checked together in check_tls. */
static int apply_tls(struct client_options *o, enum opt_id id, const char *v)
{
	switch (id) {
	case OPT_TLS:
		o->tls.on = true;
		return 0;
	case OPT_SNI:
		o->tls.sni = v;
		return 0;
	case OPT_CA:
		o->tls.ca = v;
		return 0;
	case OPT_INSECURE:
		o->tls.insecure = true;
		return 0;
	default:
		return 1;
	}
}

/* --msg-rate R or R1,R2,...: whole rates, strictly increasing, at most FINDMAX_MAX_STEPS of them. */
static int parse_rates(const char *flag, const char *v, struct client_options *o, char *err, size_t errlen)
{
	char tok[32];
	const char *p = v, *comma;
	size_t len;
	unsigned n = 0;
	uint64_t r;

	if (p == NULL) { /* the option table gives --msg-rate a value; the analyzer cannot see that */
		snprintf(err, errlen, "%s needs a value", flag);
		return -1;
	}
	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof(tok)) {
			snprintf(err, errlen, "%s: '%s' is not a rate or a comma-separated list of rates (%s)", flag, v,
				 len == 0 ? "empty entry" : "entry too long");
			return -1;
		}
		if (n == FINDMAX_MAX_STEPS) {
			snprintf(err, errlen, "%s: more than %d rates in '%s'", flag, FINDMAX_MAX_STEPS, v);
			return -1;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (parse_u64(flag, tok, 1, SCHED_MAX_RATE, &r, err, errlen) < 0)
			return -1;
		if (n > 0 && r <= o->msg_rates[n - 1]) {
			snprintf(err, errlen, "%s: rates must increase, but %llu follows %llu in '%s'", flag,
				 (unsigned long long)r, (unsigned long long)o->msg_rates[n - 1], v);
			return -1;
		}
		o->msg_rates[n++] = r;
		if (!comma)
			break;
		p = comma + 1;
	}
	o->n_rates = n;
	o->msg_rate = o->msg_rates[0];
	return 0;
}

/* --shard K/M: whole numbers, 1 <= K <= M <= CLIENT_MAX_SHARDS. */
static int parse_shard(const char *flag, const char *v, struct client_options *o, char *err, size_t errlen)
{
	const char *slash = v != NULL ? strchr(v, '/') : NULL;
	char k[16], why[160];
	uint64_t kv, mv;
	size_t len;

	len = slash != NULL ? (size_t)(slash - v) : 0;
	if (len == 0 || len >= sizeof(k)) {
		snprintf(err, errlen, "%s: '%s' is not K/M (this shard's number and the number of shards, e.g. 2/3)",
			 flag, v != NULL ? v : "");
		return -1;
	}
	memcpy(k, v, len);
	k[len] = '\0';
	if (num_parse_u64(slash + 1, 1, CLIENT_MAX_SHARDS, &mv, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s %s: M: %s", flag, v, why);
		return -1;
	}
	if (num_parse_u64(k, 1, mv, &kv, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s %s: K: %s", flag, v, why);
		return -1;
	}
	o->shard_k = (unsigned)kv;
	o->shard_m = (unsigned)mv;
	return 0;
}

/* The flags that take one number: whole, or seconds with up to three decimals kept in milliseconds. */
static const struct opt_num {
	enum opt_id id;
	bool seconds;                /* seconds (num_parse_ms), else a whole number */
	uint64_t lo, hi;             /* range; milliseconds for seconds */
} opt_nums[] = {
	{ OPT_N, false, 1, CLIENT_MAX_TARGET },
	{ OPT_PORT, false, 1, 65535 },
	{ OPT_PORTS, false, 1, 65535 },
	{ OPT_RATE, false, 0, 100000000 },
	{ OPT_CONC, false, 1, 10000000 },
	{ OPT_HOLD, true, 0, UINT64_C(365) * 86400000 },
	{ OPT_CTIMEOUT, true, 1, 3600000 },
	{ OPT_ETIMEOUT, true, 1, 3600000 },
	{ OPT_PROGRESS, true, 0, 3600000 },
	{ OPT_DURATION, true, 1, SCHED_MAX_DURATION_MS },
	{ OPT_RTIMEOUT, false, 1, 3600000 },   /* milliseconds, whole */
	{ OPT_SLO, false, 1, 3600000 },        /* milliseconds, whole */
	{ OPT_SEND_WINDOW, false, 1, CLIENT_MAX_SEND_WINDOW_MS }, /* milliseconds, whole */
	{ OPT_STEP, false, 1, CLIENT_MAX_TARGET },
};

static void store(struct client_options *o, enum opt_id id, uint64_t v)
{
	switch (id) {
	case OPT_N: o->target = v; break;
	case OPT_PORT: o->port_base = (unsigned)v; break;
	case OPT_PORTS: o->ports = (unsigned)v; break;
	case OPT_RATE: o->rate = v; break;
	case OPT_CONC: o->concurrency = (unsigned)v; o->concurrency_set = true; break;
	case OPT_HOLD: o->hold_ms = v; break;
	case OPT_CTIMEOUT: o->connect_timeout_ms = (unsigned)v; break;
	case OPT_ETIMEOUT: o->echo_timeout_ms = (unsigned)v; break;
	case OPT_PROGRESS: o->progress_ms = (unsigned)v; break;
	case OPT_DURATION: o->duration_ms = v; o->duration_set = true; break;
	case OPT_RTIMEOUT: o->reply_timeout_ms = (unsigned)v; o->reply_timeout_set = true; break;
	case OPT_SLO: o->slo_ms = (unsigned)v; o->slo_set = true; break;
	case OPT_SEND_WINDOW: o->send_window_ms = (unsigned)v; o->send_window_set = true; break;
	case OPT_STEP: o->step = v; o->step_set = true; break;
	default: break;
	}
}

/* 0 and the value stored, 1 when id is not a numeric flag, -1 with err. */
static int apply_num(struct client_options *o, enum opt_id id, const char *flag, const char *v, char *err,
		     size_t errlen)
{
	const struct opt_num *n = NULL;
	char why[160];
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < sizeof(opt_nums) / sizeof(opt_nums[0]); i++)
		if (opt_nums[i].id == id)
			n = &opt_nums[i];
	if (n == NULL)
		return 1;
	if (!n->seconds) {
		if (parse_u64(flag, v, n->lo, n->hi, &x, err, errlen) < 0)
			return -1;
		store(o, id, x);
		return 0;
	}
	if (num_parse_ms(v, n->hi, &x, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", flag, why);
		return -1;
	}
	if (x < n->lo) {
		snprintf(err, errlen, "%s: %s is too short (at least 0.001 seconds)", flag, v);
		return -1;
	}
	store(o, id, x);
	return 0;
}

static int apply(struct client_options *o, enum opt_id id, const char *flag, const char *v, char *err,
		 size_t errlen)
{
	uint64_t u;
	char why[160];
	int rc = apply_num(o, id, flag, v, err, errlen);

	if (rc <= 0)
		return rc;
	rc = apply_proto(o, id, flag, v, err, errlen);
	if (rc <= 0)
		return rc;
	if (apply_tls(o, id, v) == 0)
		return 0;
	switch (id) {
	case OPT_SOURCES:
		if (addr_parse_range(v, &o->sources, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", flag, why);
			return -1;
		}
		o->sources_set = true;
		return 0;
	case OPT_JSON:
		if (*v == '\0') {
			snprintf(err, errlen, "%s: empty file name (use - for stdout)", flag);
			return -1;
		}
		o->json_path = v;
		return 0;
	case OPT_WORKERS:
		o->workers_set = true;
		if (strcmp(v, "auto") == 0) {
			o->workers = CLIENT_WORKERS_AUTO;
			return 0;
		}
		if (num_parse_u64(v, 1, WORKERS_MAX, &u, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: '%s' is neither a number of processes 1..%u nor 'auto'", flag, v,
				 (unsigned)WORKERS_MAX);
			return -1;
		}
		o->workers = (unsigned)u;
		return 0;
	case OPT_CPUS:
		if (cpulist_parse(v, &o->cpus, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s '%s': %s", flag, v, why);
			return -1;
		}
		return 0;
	case OPT_QUIET:
		o->quiet = true;
		return 0;
	case OPT_HELP:
		o->help = true;
		return 0;
	case OPT_VERSION:
		o->version = true;
		return 0;
	case OPT_MSG_RATE:
		return parse_rates(flag, v, o, err, errlen);
	case OPT_FIND_MAX:
		o->find_max = true;
		return 0;
	case OPT_SHARD:
		return parse_shard(flag, v, o, err, errlen);
	case OPT_BARRIER:
		o->barrier = true;
		return 0;
	case OPT_MERGE:
		o->merge = true;
		return 0;
	case OPT_FLEET_STEP:
		o->fleet_step_path = v;
		return 0;
	case OPT_INET4:
	case OPT_INET6:
		o->family = id == OPT_INET4 ? AF_INET : AF_INET6;
		return 0;
	default:
		break;
	}
	snprintf(err, errlen, "internal error: unhandled option %s", flag);
	return -1;
}

/* A host name as RFC 1123 spells one: letters, digits, '-' and '.', with a letter somewhere (so a bad
 * dotted quad is reported as an address, not looked up). */
static bool looks_like_name(const char *s)
{
	bool letter = false;
	size_t n = 0;

	for (; *s; s++, n++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			letter = true;
		else if (!(*s >= '0' && *s <= '9') && *s != '-' && *s != '.')
			return false;
	}
	return letter && n > 0 && n < 254;
}

/* HOST: a numeric address is taken as is; a name is kept for main to resolve (this parser stays pure). */
static int parse_host(const char *s, struct client_options *o, char *err, size_t errlen)
{
	char why[160];

	/* as written: the HTTP Host header, an IPv6 literal in brackets (RFC 3986 host) */
	snprintf(o->proto.host, sizeof(o->proto.host), strchr(s, ':') ? "[%s]" : "%s", s);
	if (addr_parse_ip(s, &o->dst, why, sizeof(why)) == 0) {
		addr_format(&o->dst, o->host, sizeof(o->host));
		return 0;
	}
	if (!looks_like_name(s)) {
		snprintf(err, errlen, "HOST: %s", why);
		return -1;
	}
	memset(&o->dst, 0, sizeof(o->dst));
	snprintf(o->host_name, sizeof(o->host_name), "%s", s);
	return 0;
}

/* What HOST was given as, for messages. */
static const char *host_given(const struct client_options *o)
{
	return o->host_name[0] ? o->host_name : o->host;
}

/* Flags of the latency phase that only make sense together, and the numbers they imply. */
static int check_latency(struct client_options *o, char *err, size_t errlen)
{
	const char *orphan = o->duration_set ? "--duration" : o->reply_timeout_set ? "--timeout" :
			     o->slo_set ? "--slo" : o->send_window_set ? "--send-window" : o->find_max ? "--find-max" :
			     o->step_set ? "--step" : NULL;
	uint64_t total, smallest, steps;

	if (o->msg_rate == 0) {
		if (orphan) {
			snprintf(err, errlen, "%s needs --msg-rate (the latency phase it configures)", orphan);
			return -1;
		}
		return 0;
	}
	if (o->step_set && !o->find_max) {
		snprintf(err, errlen, "--step %llu needs --find-max", (unsigned long long)o->step);
		return -1;
	}
	if (o->find_max && o->n_rates > 1) {
		snprintf(err, errlen, "--find-max steps the connections at one --msg-rate, and a list of rates sweeps "
			 "the rate at -n connections: give one or the other");
		return -1;
	}
	if (!o->reply_timeout_set && o->reply_timeout_ms < 2ULL * o->slo_ms)
		o->reply_timeout_ms = 2 * o->slo_ms;
	if (o->send_window_set && o->send_window_ms >= o->slo_ms) {
		snprintf(err, errlen, "--send-window %u: must be below --slo %u (a message may wait that long before "
			 "it is written)", o->send_window_ms, o->slo_ms);
		return -1;
	}
	total = sched_total(o->msg_rate, o->duration_ms);
	if (total == 0) {
		snprintf(err, errlen, "--msg-rate %llu --duration %.3f: less than one message in the phase",
			 (unsigned long long)o->msg_rate, (double)o->duration_ms / 1000.0);
		return -1;
	}
	if (o->find_max) {
		if (!o->step_set)
			o->step = findmax_default_step(o->target);
		steps = findmax_steps(o->target, o->step);
		if (steps > FINDMAX_MAX_STEPS) {
			snprintf(err, errlen, "--step %llu: -n %llu would take %llu steps, more than %d; use --step %llu "
				 "or more", (unsigned long long)o->step, (unsigned long long)o->target,
				 (unsigned long long)steps, FINDMAX_MAX_STEPS,
				 (unsigned long long)((o->target + FINDMAX_MAX_STEPS - 1) / FINDMAX_MAX_STEPS));
			return -1;
		}
	}
	/* per-connection sequence numbers are 32 bits (the frame's and the connection's); the sweep's
	 * highest rate has the most messages */
	total = sched_total(o->msg_rates[o->n_rates ? o->n_rates - 1 : 0], o->duration_ms);
	smallest = o->find_max ? findmax_first(o->target, o->step) : o->target;
	if ((total + smallest - 1) / smallest > UINT32_MAX) {
		snprintf(err, errlen, "--msg-rate %llu --duration %.3f: more than 2^32 messages per connection over %llu "
			 "connections", (unsigned long long)o->msg_rates[o->n_rates ? o->n_rates - 1 : 0], (double)o->duration_ms / 1000.0,
			 (unsigned long long)smallest);
		return -1;
	}
	return 0;
}

/* --merge reads reports and runs nothing: it takes files, and of the run's options only --json and -q. A HOST
 * before --merge would have been taken as HOST, so say what happened. */
static int check_merge(const struct client_options *o, bool have_host, const char *run_flag, char *err,
		       size_t errlen)
{
	if (have_host) {
		snprintf(err, errlen, "--merge must come before the report files ('%s' was read as HOST)",
			 host_given(o));
		return -1;
	}
	if (run_flag != NULL) {
		snprintf(err, errlen, "--merge prints the shards' reports and runs nothing: %s does not apply", run_flag);
		return -1;
	}
	if (o->n_merge == 0) {
		snprintf(err, errlen, "--merge needs the shards' JSON reports (c1m-client --merge A.json B.json ...)");
		return -1;
	}
	return 0;
}

/* A shard must have connections to open; the barrier needs something to start together; a sweep or
 * --find-max decides each step from the whole run's results, which one shard does not see: the fleet's
 * driver decides, through the barrier. */
static int check_shard(const struct client_options *o, char *err, size_t errlen)
{
	unsigned m = o->shard_m ? o->shard_m : 1;

	if (m > 1 && o->target < m) {
		snprintf(err, errlen, "--shard %u/%u: -n %llu gives shard %u no connection (M at most -n)", o->shard_k,
			 m, (unsigned long long)o->target, o->shard_k);
		return -1;
	}
	if (m > 1 && (o->find_max || o->n_rates > 1) && !o->barrier) {
		snprintf(err, errlen, "--shard: %s decides each step from the whole fleet's results, which one shard "
			 "does not see: add --barrier, and let the fleet's driver (c1m fleet) decide each step",
			 o->find_max ? "--find-max" : "a rate sweep");
		return -1;
	}
	if (m > 1 && o->find_max && findmax_first(o->target, o->step) < m) {
		snprintf(err, errlen, "--shard %u/%u: --step %llu gives a shard no connection in the first step (at "
			 "least M)", o->shard_k, m, (unsigned long long)o->step);
		return -1;
	}
	if (o->fleet_step_path && (m > 1 || o->barrier || !(o->find_max || o->n_rates > 1))) {
		snprintf(err, errlen, "--fleet-step decides a step of the fleet's --find-max or sweep: give the fleet's "
			 "options (with --find-max or --msg-rate R1,R2,...; without --shard and --barrier)");
		return -1;
	}
	if (m > 1 && o->msg_rate > 0 && o->msg_rate < m) {
		snprintf(err, errlen, "--shard %u/%u: --msg-rate %llu leaves a shard without messages (at least M)",
			 o->shard_k, m, (unsigned long long)o->msg_rate);
		return -1;
	}
	if (o->barrier && o->msg_rate == 0 && o->hold_ms == 0) {
		snprintf(err, errlen, "--barrier starts the latency phase or the hold together: give --msg-rate or --hold");
		return -1;
	}
	return 0;
}

/* --sni, --ca and --insecure configure --tls; verifying and not verifying exclude each other; a server name
 * is a DNS name (RFC 6066: no address, at most 255 bytes). The defaults: SNI a HOST name, and the
 * certificate must name the SNI, else HOST's address. Whether --ca can be read is checked at start. */
static int check_tls(struct client_options *o, char *err, size_t errlen)
{
	struct tls_opts *t = &o->tls;
	const char *orphan = t->sni ? "--sni" : t->ca ? "--ca" : t->insecure ? "--insecure" : NULL;
	struct addr_ip ip;
	char why[160];
	size_t i, len;

	if (!t->on) {
		if (orphan) {
			snprintf(err, errlen, "%s needs --tls (the TLS it configures)", orphan);
			return -1;
		}
		return 0;
	}
	if (t->insecure && t->ca) {
		snprintf(err, errlen, "--insecure skips the certificate check that --ca %s configures: give one or "
			 "the other", t->ca);
		return -1;
	}
	if (t->ca && t->ca[0] == '\0') {
		snprintf(err, errlen, "--ca: empty file name");
		return -1;
	}
	if (t->sni) {
		len = strlen(t->sni);
		if (len == 0 || len > TLS_SNI_MAX) {
			snprintf(err, errlen, "--sni: a server name is 1 to %d bytes, not %zu", TLS_SNI_MAX, len);
			return -1;
		}
		for (i = 0; i < len; i++)
			if (!((t->sni[i] >= 'a' && t->sni[i] <= 'z') || (t->sni[i] >= 'A' && t->sni[i] <= 'Z') ||
			      (t->sni[i] >= '0' && t->sni[i] <= '9') || t->sni[i] == '-' || t->sni[i] == '.' ||
			      t->sni[i] == '_')) {
				snprintf(err, errlen, "--sni %.64s: not a host name (letters, digits, '-', '.', '_')",
					 t->sni);
				return -1;
			}
		if (addr_parse_ip(t->sni, &ip, why, sizeof(why)) == 0) {
			snprintf(err, errlen, "--sni %s: an address, and SNI carries only host names (RFC 6066); "
				 "without --sni the certificate is checked for HOST's address", t->sni);
			return -1;
		}
	} else if (o->host_name[0]) {
		t->sni = o->host_name;
	}
	t->verify_host = t->sni;
	t->verify_ip = t->sni ? NULL : o->host;
	return 0;
}

/* A run needs HOST and -n, ports that exist, and flags that go together. */
static int check_run(struct client_options *o, bool have_host, bool have_n, char *err, size_t errlen)
{
	char why[128];

	if (!have_host) {
		snprintf(err, errlen, "missing HOST (the server's address or name), e.g. c1m-client 127.0.0.1 -n 1000");
		return -1;
	}
	if (!have_n) {
		snprintf(err, errlen, "missing -n N (how many connections to establish)");
		return -1;
	}
	if (addr_parse_port_range(o->port_base, o->ports, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--port %u --ports %u: %s", o->port_base, o->ports, why);
		return -1;
	}
	if (client_opts_check_family(o, err, errlen) < 0)
		return -1;
	if (o->quiet)
		o->progress_ms = 0;
	o->proto.port_base = o->port_base;
	o->proto.ports = o->ports;
	if (o->proto.id == PROTO_MQTT && o->proto.keepalive_ms == 0)
		o->proto.keepalive_ms = MQTT_KEEPALIVE_DEFAULT_S * 1000u;
	if (proto_cfg_check(&o->proto, err, errlen) < 0)
		return -1;
	if (check_latency(o, err, errlen) < 0)
		return -1;
	if (check_tls(o, err, errlen) < 0)
		return -1;
	return check_shard(o, err, errlen);
}

int client_opts_parse(int argc, char *const argv[], struct client_options *o, char *err, size_t errlen)
{
	bool have_host = false, have_n = false, only_positional = false;
	const char *first_run_flag = NULL;
	int i;
	size_t k, namelen;
	const char *arg, *eq, *value;
	char flag[32];

	set_defaults(o);
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if ((only_positional || arg[0] != '-' || arg[1] == '\0') && o->merge) {
			if (o->n_merge == CLIENT_MAX_MERGE) {
				snprintf(err, errlen, "--merge: more than %d reports", CLIENT_MAX_MERGE);
				return -1;
			}
			o->merge_files[o->n_merge++] = arg;
			continue;
		}
		if (only_positional || arg[0] != '-' || arg[1] == '\0') {
			if (have_host) {
				snprintf(err, errlen, "unexpected argument '%s' (HOST was already given as %s)", arg,
					 host_given(o));
				return -1;
			}
			if (parse_host(arg, o, err, errlen) < 0)
				return -1;
			have_host = true;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_positional = true;
			continue;
		}
		eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
		namelen = eq ? (size_t)(eq - arg) : strlen(arg);
		for (k = 0; k < sizeof(opt_table) / sizeof(opt_table[0]); k++)
			if (strlen(opt_table[k].name) == namelen && strncmp(opt_table[k].name, arg, namelen) == 0)
				break;
		if (k == sizeof(opt_table) / sizeof(opt_table[0])) {
			snprintf(err, errlen, "unknown option '%s' (try --help)", arg);
			return -1;
		}
		snprintf(flag, sizeof(flag), "%s", opt_table[k].name);
		value = NULL;
		if (opt_table[k].value) {
			if (eq) {
				value = eq + 1;
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				snprintf(err, errlen, "%s needs a value", flag);
				return -1;
			}
		} else if (eq) {
			snprintf(err, errlen, "%s takes no value", flag);
			return -1;
		}
		if (apply(o, opt_table[k].id, flag, value, err, errlen) < 0)
			return -1;
		if (opt_table[k].id == OPT_N)
			have_n = true;
		if (opt_table[k].id != OPT_MERGE && opt_table[k].id != OPT_JSON && opt_table[k].id != OPT_QUIET &&
		    opt_table[k].id != OPT_HELP && opt_table[k].id != OPT_VERSION && first_run_flag == NULL)
			first_run_flag = opt_table[k].name;
	}
	if (o->help || o->version)
		return 0;
	if (o->merge)
		return check_merge(o, have_host, first_run_flag, err, errlen);
	return check_run(o, have_host, have_n, err, errlen);
}

uint64_t client_opts_shard_target(const struct client_options *o)
{
	return sched_share(o->target, o->shard_m ? o->shard_m : 1, o->shard_k ? o->shard_k - 1 : 0);
}

int client_opts_plan(const struct client_options *o, uint64_t nofile, unsigned sources_needed,
		     struct client_plan *p, char *err, size_t errlen)
{
	struct capacity c;
	char why[256];
	uint64_t needed, room;

	memset(p, 0, sizeof(*p));
	if (client_opts_check_family(o, err, errlen) < 0)
		return -1;
	p->sources_needed = sources_needed ? sources_needed : 1;
	p->concurrency = o->concurrency;
	if (capacity_plan(CAPACITY_CLIENT, nofile, 0, o->target, &c, why, sizeof(why)) < 0) {
		if (c.budget == 0)
			snprintf(err, errlen, "no file descriptors left for sockets: raise the open-file limit (ulimit -n)");
		else
			snprintf(err, errlen, "-n %llu: %s", (unsigned long long)o->target, why);
		return -1;
	}
	p->per_process = c.budget;
	needed = c.workers;
	p->workers_needed = (unsigned)needed;
	if (o->workers_set && o->workers != CLIENT_WORKERS_AUTO) {
		if (o->workers < needed) {
			snprintf(err, errlen, "--workers %u: -n %llu needs at least %llu processes, because one process "
				 "can hold only %u sockets under its open-file limit; use --workers %llu or --workers auto",
				 o->workers, (unsigned long long)o->target, (unsigned long long)needed, p->per_process,
				 (unsigned long long)needed);
			return -1;
		}
		p->workers = o->workers;
		if (p->workers > o->target) {
			p->workers = (unsigned)o->target;
			snprintf(p->note, sizeof(p->note), "--workers %u is more than -n %llu: using %u", o->workers,
				 (unsigned long long)o->target, p->workers);
		}
	} else {
		p->workers = (unsigned)needed;
	}
	if (p->concurrency < p->workers)
		p->concurrency = p->workers;  /* every process needs at least one connection in flight */
	if (o->sources_set) {
		p->sources = o->sources;
		if (o->sources.count < p->sources_needed)
			snprintf(p->note, sizeof(p->note), "--sources has %u address%s but %u are needed to keep every "
				 "(source, port) pair under half the local port range; expect EADDRNOTAVAIL",
				 o->sources.count, o->sources.count == 1 ? "" : "es", p->sources_needed);
	} else if (o->dst.family == AF_INET && addr_is_loopback(&o->dst)) {
		/* loopback: any 127.0.0.0/8 address is local, so spread the 4-tuples over enough of them */
		room = 0x7fffffffu - 0x7f000001u + 1;
		p->sources.first = addr_ipv4(0x7f000001u);
		p->sources.count = p->sources_needed > room ? (uint32_t)room : p->sources_needed;
		p->sources_default = true;
	} else if (addr_is_loopback(&o->dst) && p->sources_needed > 1) {
		/* ::1 is the only IPv6 loopback address: more sources must be added to an interface first */
		snprintf(p->note, sizeof(p->note), "-n %llu to ::1 needs %u source addresses to keep every (source, "
			 "port) pair under half the local port range, and lo has only ::1: add IPv6 addresses and give "
			 "them with --sources, or expect EADDRNOTAVAIL", (unsigned long long)o->target, p->sources_needed);
	}
	return 0;
}

int client_opts_family(const struct client_options *o)
{
	if (o->family)
		return o->family;
	return o->sources_set ? o->sources.first.family : AF_UNSPEC;
}

int client_opts_check_family(const struct client_options *o, char *err, size_t errlen)
{
	if (o->family && o->dst.family && o->dst.family != o->family) {
		snprintf(err, errlen, "%s: HOST %s is an %s address", o->family == AF_INET ? "-4" : "-6", o->host,
			 addr_family_name(o->dst.family));
		return -1;
	}
	if (o->sources_set && o->dst.family && o->sources.first.family != o->dst.family) {
		snprintf(err, errlen, "--sources are %s addresses but HOST %s is %s: give sources of HOST's family",
			 addr_family_name(o->sources.first.family), o->host, addr_family_name(o->dst.family));
		return -1;
	}
	return 0;
}
