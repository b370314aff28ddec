/* Decision logic for `c1m-doctor --explain`. Each known cause has two kinds of evidence: a kernel log
 * line (the kernel says "nf_conntrack: table full, dropping packet" exactly when it drops) and a number
 * (a counter that grew, a table that is full now, a process at its open-file limit, a port tuple whose
 * sockets fill the local port range). A finding is reported when either shows; its text quotes what
 * was seen so the reader can judge. Counters without a baseline are labelled "since boot" because they
 * may predate the run; the function never claims more than the evidence says. EMFILE and EADDRNOTAVAIL
 * leave no trace in the kernel log or counters, so their evidence is the state right after the run:
 * the process still holding its descriptors, the sockets still holding their ports (TIME_WAIT keeps
 * them 60 s). The client's JSON report is read with the tree's JSON reader (common/util/json.h), which
 * validates as it goes, so garbage input ends in an error, not a crash. */
#include "common/model/explain.h"
#include "common/sys/procfs.h"
#include "common/util/json.h"
#include "common/util/sbuf.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define LOG_QUOTE_MAX 160  /* longest kernel log line quoted as evidence */

struct pattern {
	enum explain_cause cause;
	const char *needle;          /* case-sensitive substring of the kernel message */
};

/* The first pattern a line matches decides its cause. The OOM killer prints several of these lines per
 * kill ("oom-kill:", "Out of memory: Killed process"); they all count towards the same finding. */
static const struct pattern patterns[] = {
	{ EXPLAIN_CONNTRACK_FULL, "nf_conntrack: table full, dropping packet" },
	{ EXPLAIN_TCP_OOM, "TCP: out of memory -- consider tuning tcp_mem" },
	{ EXPLAIN_OOM_KILL, "Out of memory: Kill" },
	{ EXPLAIN_OOM_KILL, "Memory cgroup out of memory" },
	{ EXPLAIN_OOM_KILL, "oom-kill:" },
	{ EXPLAIN_OOM_KILL, "Killed process" },
	{ EXPLAIN_FILE_MAX, "VFS: file-max limit" },
	{ EXPLAIN_LISTEN_OVERFLOW, "Possible SYN flooding on port" },
};

static const char *const cause_names[EXPLAIN_CAUSE_COUNT] = {
	[EXPLAIN_CONNTRACK_FULL] = "conntrack_full",
	[EXPLAIN_LISTEN_OVERFLOW] = "listen_overflow",
	[EXPLAIN_TCP_OOM] = "tcp_out_of_memory",
	[EXPLAIN_TCP_MEM_PRESSURE] = "tcp_memory_pressure",
	[EXPLAIN_OOM_KILL] = "oom_kill",
	[EXPLAIN_FILE_MAX] = "file_max",
	[EXPLAIN_FD_LIMIT] = "fd_limit",
	[EXPLAIN_LOCAL_PORTS] = "local_ports",
};

static const char *const cause_fixes[EXPLAIN_CAUSE_COUNT] = {
	[EXPLAIN_CONNTRACK_FULL] = "sysctl -w net.netfilter.nf_conntrack_max=2097152",
	[EXPLAIN_LISTEN_OVERFLOW] = "sysctl -w net.core.somaxconn=65535 (and more server workers or a lower --rate)",
	[EXPLAIN_TCP_OOM] = "sysctl -w net.ipv4.tcp_mem=\"<low> <pressure> <high>\" in pages; c1m-doctor --role ... prints the values",
	[EXPLAIN_TCP_MEM_PRESSURE] = "raise net.ipv4.tcp_mem[1] above the run's use, or shrink tcp_rmem/tcp_wmem",
	[EXPLAIN_OOM_KILL] = "fewer connections per machine, smaller socket buffers (tcp_rmem/tcp_wmem), or more memory",
	[EXPLAIN_FILE_MAX] = "sysctl -w fs.file-max=2097152",
	[EXPLAIN_FD_LIMIT] = "raise the process's open-file limit, or spread the connections over more processes (--workers)",
	[EXPLAIN_LOCAL_PORTS] = "sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\", more server ports (--ports) or "
				"client source addresses (--sources)",
};

const char *explain_cause_name(enum explain_cause c)
{
	return (unsigned)c < EXPLAIN_CAUSE_COUNT ? cause_names[c] : "invalid";
}

/* Per-cause evidence gathered before findings are written. */
struct tally {
	unsigned log_hits;
	char last_line[LOG_QUOTE_MAX + 1];
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void append(char *dst, size_t len, const char *fmt, ...)
{
	size_t used = strlen(dst);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(dst + used, len - used, fmt, ap);
	va_end(ap);
}

/* Parses "[  12.345678] " at the start of a line. Returns the message start and sets *ts, or returns
 * the line itself with *has_ts false when there is no timestamp. */
static const char *split_timestamp(const char *line, size_t llen, double *ts, bool *has_ts)
{
	size_t i = 0;
	double v = 0, scale = 0;

	*has_ts = false;
	if (llen == 0 || line[0] != '[')
		return line;
	i = 1;
	while (i < llen && line[i] == ' ')
		i++;
	if (i >= llen || line[i] < '0' || line[i] > '9')
		return line;
	while (i < llen && line[i] >= '0' && line[i] <= '9') {
		v = v * 10 + (line[i] - '0');
		i++;
	}
	if (i < llen && line[i] == '.') {
		i++;
		scale = 0.1;
		while (i < llen && line[i] >= '0' && line[i] <= '9') {
			v += scale * (line[i] - '0');
			scale /= 10;
			i++;
		}
	}
	if (i >= llen || line[i] != ']')
		return line;
	i++;
	while (i < llen && line[i] == ' ')
		i++;
	*ts = v;
	*has_ts = true;
	return line + i;
}

static bool contains(const char *hay, size_t hlen, const char *needle)
{
	size_t nlen = strlen(needle), i;

	if (nlen == 0 || nlen > hlen)
		return false;
	for (i = 0; i + nlen <= hlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return true;
	return false;
}

static void scan_log(const struct explain_input *in, struct tally *t, struct explain_result *out)
{
	const char *line = in->kmsg;
	double cutoff = in->since_s > 0 && in->uptime_s > in->since_s ? in->uptime_s - in->since_s : 0;

	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t llen = nl != NULL ? (size_t)(nl - line) : strlen(line);
		double ts = 0;
		bool has_ts;
		const char *msg = split_timestamp(line, llen, &ts, &has_ts);
		size_t mlen = llen - (size_t)(msg - line);
		size_t i;

		/* Lines without a timestamp cannot be placed in time; keep them rather than hide evidence. */
		if (cutoff > 0 && has_ts && ts < cutoff)
			goto next;
		out->kmsg_lines++;
		for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
			if (contains(msg, mlen, patterns[i].needle)) {
				struct tally *c = &t[patterns[i].cause];
				size_t q = llen < LOG_QUOTE_MAX ? llen : LOG_QUOTE_MAX;

				c->log_hits++;
				memcpy(c->last_line, line, q);
				c->last_line[q] = '\0';
				/* Control characters in a quoted line would garble the report. */
				for (size_t k = 0; k < q; k++)
					if ((unsigned char)c->last_line[k] < 0x20)
						c->last_line[k] = ' ';
				break;
			}
		}
next:
		line = nl != NULL ? nl + 1 : NULL;
	}
}

/* Counter growth during the run, or the since-boot total when there is no baseline. A counter that
 * went down (reboot between baseline and now) is treated as a fresh total. */
static uint64_t delta(const struct explain_input *in, uint64_t now, uint64_t base)
{
	if (!in->has_base || !in->base.present || now < base)
		return now;
	return now - base;
}

static struct explain_finding *add(struct explain_result *out, enum explain_cause c)
{
	struct explain_finding *f;
	unsigned i;

	for (i = 0; i < out->n; i++)
		if (out->findings[i].cause == c)
			return &out->findings[i];
	f = &out->findings[out->n++];
	memset(f, 0, sizeof(*f));
	f->cause = c;
	snprintf(f->fix, sizeof(f->fix), "%s", cause_fixes[c]);
	return f;
}

static void add_log_evidence(struct explain_result *out, const struct tally *t, enum explain_cause c)
{
	struct explain_finding *f;

	if (t[c].log_hits == 0)
		return;
	f = add(out, c);
	append(f->evidence, sizeof(f->evidence), "%skernel log, %u line%s, last: \"%s\"",
	       f->evidence[0] ? "; " : "", t[c].log_hits, t[c].log_hits == 1 ? "" : "s", t[c].last_line);
}


/* ---------- open files and local ports: the state right after the run ---------- */

/* At or above EXPLAIN_NEAR_LIMIT_PCT of limit, without overflowing for huge limits. */
static bool near_limit(uint64_t used, uint64_t limit)
{
	if (limit == 0 || limit == UINT64_MAX)
		return false;
	return used >= limit - limit / 100 * (100 - EXPLAIN_NEAR_LIMIT_PCT) -
		       (limit % 100) * (100 - EXPLAIN_NEAR_LIMIT_PCT) / 100;
}

/* Keeps the indexes of the EXPLAIN_QUOTE_MAX largest keys, largest first. */
static void top_insert(unsigned *idx, double *key, unsigned *n, unsigned i, double k)
{
	unsigned pos = *n < EXPLAIN_QUOTE_MAX ? *n : EXPLAIN_QUOTE_MAX;

	if (pos == EXPLAIN_QUOTE_MAX && k <= key[EXPLAIN_QUOTE_MAX - 1])
		return;
	if (pos == EXPLAIN_QUOTE_MAX)
		pos--;
	while (pos > 0 && key[pos - 1] < k) {
		idx[pos] = idx[pos - 1];
		key[pos] = key[pos - 1];
		pos--;
	}
	idx[pos] = i;
	key[pos] = k;
	if (*n < EXPLAIN_QUOTE_MAX)
		(*n)++;
}

static const char *limit_str(uint64_t v, char *buf, size_t len)
{
	if (v == UINT64_MAX)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

/* EMFILE leaves nothing in the kernel log; the process that hit it usually still holds what it had
 * (a server that paused accepting, a client waiting on its echoes), so a process at 95% of its soft
 * limit now is the evidence. The fix depends on which limit it is: a soft limit below the hard one
 * is raised by the process itself, a hard limit by whoever starts it. */
static void analyze_fd_limit(const struct explain_input *in, struct explain_result *out)
{
	unsigned idx[EXPLAIN_QUOTE_MAX], nq = 0, total = 0, i;
	double key[EXPLAIN_QUOTE_MAX];
	struct explain_finding *f;
	const struct explain_proc *top;
	char a[24];

	if (in->procs == NULL)
		return;
	for (i = 0; i < in->n_procs; i++) {
		const struct explain_proc *pr = &in->procs[i];

		if (!near_limit(pr->fds, pr->soft))
			continue;
		total++;
		top_insert(idx, key, &nq, i, (double)pr->fds / (double)pr->soft);
	}
	if (total == 0)
		return;
	f = add(out, EXPLAIN_FD_LIMIT);
	for (i = 0; i < nq; i++) {
		const struct explain_proc *pr = &in->procs[idx[i]];

		append(f->evidence, sizeof(f->evidence), "%spid %d (%s) holds %" PRIu64 " of its %" PRIu64
		       " open files (hard limit %s)", i ? "; " : "", pr->pid, pr->comm, pr->fds, pr->soft,
		       limit_str(pr->hard, a, sizeof(a)));
	}
	if (total > nq)
		append(f->evidence, sizeof(f->evidence), "; %u more process%s", total - nq,
		       total - nq == 1 ? "" : "es");
	top = &in->procs[idx[0]];
	if (top->hard > top->soft)
		snprintf(f->fix, sizeof(f->fix), "start %s with its soft limit at the hard limit (ulimit -n %s; c1m programs "
			 "do it themselves), or more processes (--workers)", top->comm, limit_str(top->hard, a, sizeof(a)));
	else
		snprintf(f->fix, sizeof(f->fix), "raise the hard limit: '* hard nofile 1048576' in /etc/security/"
			 "limits.conf or LimitNOFILE=1048576; where it is fixed, more processes (--workers)");
}

static const char *addr_str(unsigned family, const unsigned char *a, char *buf, size_t len)
{
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/* EADDRNOTAVAIL: connect() found no free local port for its (source, destination, port). Every socket
 * of that tuple with a port from ip_local_port_range holds one, whatever its state, so a tuple whose
 * count is at 95% of the range's width is the evidence. Ports taken by bind() to a fixed port also
 * block every tuple; that rare case is not modelled. */
static void analyze_local_ports(const struct explain_input *in, struct explain_result *out)
{
	const struct explain_tuples *t = in->tuples;
	unsigned idx[EXPLAIN_QUOTE_MAX], nq = 0, total = 0, i;
	double key[EXPLAIN_QUOTE_MAX];
	uint64_t width, tw = 0, socks = 0;
	struct explain_finding *f;
	char s1[INET6_ADDRSTRLEN], s2[INET6_ADDRSTRLEN];

	if (t == NULL || t->slots == NULL || t->port_hi < t->port_lo)
		return;
	width = (uint64_t)t->port_hi - t->port_lo + 1;
	for (i = 0; i < t->cap; i++) {
		const struct explain_tuple *e = &t->slots[i];

		if (e->family == 0 || !near_limit(e->sockets, width))
			continue;
		total++;
		top_insert(idx, key, &nq, i, (double)e->sockets);
	}
	if (total == 0)
		return;
	f = add(out, EXPLAIN_LOCAL_PORTS);
	for (i = 0; i < nq; i++) {
		const struct explain_tuple *e = &t->slots[idx[i]];
		bool v6 = e->family == 6;

		socks += e->sockets;
		tw += e->time_wait;
		append(f->evidence, sizeof(f->evidence), "%s%s -> %s%s%s:%u has %" PRIu64 " sockets (%" PRIu64
		       " in TIME_WAIT)", i ? "; " : "", addr_str(e->family, e->src, s1, sizeof(s1)), v6 ? "[" : "",
		       addr_str(e->family, e->dst, s2, sizeof(s2)), v6 ? "]" : "", e->dport, e->sockets, e->time_wait);
	}
	append(f->evidence, sizeof(f->evidence), "%s of the %" PRIu64 " local ports in ip_local_port_range %u-%u",
	       nq == 1 ? "" : " each", width, t->port_lo, t->port_hi);
	if (total > nq)
		append(f->evidence, sizeof(f->evidence), "; %u more pair%s", total - nq, total - nq == 1 ? "" : "s");
	if (t->dropped > 0)
		append(f->evidence, sizeof(f->evidence), "; %" PRIu64 " sockets not counted (over %u destinations)",
		       t->dropped, t->cap);
	if (tw * 2 >= socks)
		append(f->fix, sizeof(f->fix), "; TIME_WAIT keeps ports 60 s: sysctl -w net.ipv4.tcp_tw_reuse=1");
}

/* ---------- the client's report ---------- */

/* Causes whose findings would show a failure kind's reason on this machine. */
static unsigned backing_causes(enum diag_kind k, enum explain_cause *c)
{
	switch (k) {
	case DIAG_EMFILE:
		c[0] = EXPLAIN_FD_LIMIT;
		return 1;
	case DIAG_ENFILE:
		c[0] = EXPLAIN_FILE_MAX;
		return 1;
	case DIAG_EADDRNOTAVAIL:
		c[0] = EXPLAIN_LOCAL_PORTS;
		return 1;
	case DIAG_ETIMEDOUT:
	case DIAG_CONNECT_TIMEOUT:
		c[0] = EXPLAIN_CONNTRACK_FULL;
		c[1] = EXPLAIN_LISTEN_OVERFLOW;
		return 2;
	case DIAG_ENOMEM:
	case DIAG_ENOBUFS:
		c[0] = EXPLAIN_TCP_OOM;
		c[1] = EXPLAIN_TCP_MEM_PRESSURE;
		c[2] = EXPLAIN_OOM_KILL;
		return 3;
	case DIAG_ECONNRESET:
		c[0] = EXPLAIN_TCP_OOM;
		c[1] = EXPLAIN_LISTEN_OVERFLOW;
		return 2;
	case DIAG_PEER_CLOSED:
	case DIAG_EPIPE:
		c[0] = EXPLAIN_OOM_KILL;     /* a server worker killed mid-run closes its connections */
		return 1;
	case DIAG_ECHO_TIMEOUT:
		/* a server at its fd limit completes handshakes in the kernel but never accepts them */
		c[0] = EXPLAIN_FD_LIMIT;
		c[1] = EXPLAIN_LISTEN_OVERFLOW;
		c[2] = EXPLAIN_TCP_MEM_PRESSURE;
		return 3;
	default:
		return 0;
	}
}

static void analyze_client(const struct explain_input *in, struct explain_result *out)
{
	static const struct diag_context none;   /* diag_explain then leaves out the numbers */
	const struct explain_client *cl = in->client;
	const struct diag_context *ctx = in->ctx != NULL ? in->ctx : &none;
	bool used[DIAG_KIND_COUNT] = { false };
	unsigned n, i, j, b;

	for (n = 0; n < DIAG_KIND_COUNT; n++) {
		int best = -1;

		/* the client's first cause, then by count; ties in enum order */
		for (i = 0; i < DIAG_KIND_COUNT; i++) {
			if (used[i] || cl->failures[i] == 0)
				continue;
			if (best < 0 || (i == (unsigned)cl->first_cause && (unsigned)best != (unsigned)cl->first_cause) ||
			    ((unsigned)best != (unsigned)cl->first_cause && cl->failures[i] > cl->failures[best]))
				best = (int)i;
		}
		if (best < 0)
			break;
		used[best] = true;
		{
			struct explain_kind *k = &out->kinds[out->n_kinds++];
			enum explain_cause c[3];
			unsigned nc = backing_causes((enum diag_kind)best, c);

			memset(k, 0, sizeof(*k));
			k->kind = (enum diag_kind)best;
			k->count = cl->failures[best];
			k->first = best == (int)cl->first_cause;
			/* -1 only when the text did not fit: it is still a cut, NUL-terminated paragraph */
			(void)diag_explain(k->kind, ctx, k->text, sizeof(k->text));
			for (j = 0; j < nc; j++)
				for (b = 0; b < out->n; b++)
					if (out->findings[b].cause == c[j] && k->n_backed < 3)
						k->backed[k->n_backed++] = c[j];
		}
	}
}

/* ---------- /proc/net/tcp tuples ---------- */

void explain_tuples_init(struct explain_tuples *t, struct explain_tuple *slots, unsigned cap,
			 unsigned port_lo, unsigned port_hi)
{
	memset(t, 0, sizeof(*t));
	t->slots = slots;
	t->cap = slots != NULL ? cap : 0;
	t->port_lo = port_lo;
	t->port_hi = port_hi;
	if (t->cap > 0)
		memset(slots, 0, (size_t)cap * sizeof(*slots));
}

static uint64_t tuple_hash(const struct procfs_tcp_sock *s)
{
	uint64_t h = UINT64_C(1469598103934665603);
	unsigned i;

	for (i = 0; i < 16; i++)
		h = (h ^ s->local[i]) * UINT64_C(1099511628211);
	for (i = 0; i < 16; i++)
		h = (h ^ s->remote[i]) * UINT64_C(1099511628211);
	h = (h ^ s->remote_port) * UINT64_C(1099511628211);
	return h ^ s->family;
}

static void tuple_count(struct explain_tuples *t, const struct procfs_tcp_sock *s)
{
	uint64_t h = tuple_hash(s);
	unsigned i, slot;

	for (i = 0; i < t->cap; i++) {
		struct explain_tuple *e;

		slot = (unsigned)((h + i) % t->cap);
		e = &t->slots[slot];
		if (e->family == 0) {
			/* keep a free slot so every probe ends: the table counts as full one early */
			if (t->used + 1 >= t->cap)
				break;
			e->family = s->family;
			memcpy(e->src, s->local, 16);
			memcpy(e->dst, s->remote, 16);
			e->dport = s->remote_port;
			t->used++;
		} else if (e->family != s->family || e->dport != s->remote_port ||
			   memcmp(e->src, s->local, 16) != 0 || memcmp(e->dst, s->remote, 16) != 0) {
			continue;
		}
		e->sockets++;
		if (s->state == PROCFS_TCP_TIME_WAIT)
			e->time_wait++;
		t->sockets++;
		return;
	}
	t->dropped++;
}

void explain_tuples_scan(struct explain_tuples *t, const char *text, size_t len)
{
	const char *p, *end;

	if (text == NULL)
		return;
	p = text;
	end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t llen = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		struct procfs_tcp_sock s;

		if (procfs_tcp_parse_line(p, llen, &s) == 0) {
			t->rows++;
			if (s.state != PROCFS_TCP_LISTEN && s.remote_port != 0 && s.local_port >= t->port_lo &&
			    s.local_port <= t->port_hi)
				tuple_count(t, &s);
		}
		p = nl != NULL ? nl + 1 : end;
	}
}

/* ---------- the client's JSON report, through the one JSON reader ---------- */

static unsigned clamp_uint(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (unsigned)v;
}

static int failures_member(struct json_r *j, const char *key, void *arg)
{
	struct explain_client *c = arg;
	enum diag_kind k = diag_kind_from_name(key);
	uint64_t v, *dst;
	bool whole;

	if (!json_r_at_number(j))
		return json_r_fail(j, "a failure count is not a number");
	if (json_r_number(j, &v, &whole) < 0)
		return -1;
	if (!whole)
		return json_r_fail(j, "a failure count is not a whole number");
	dst = k < DIAG_KIND_COUNT ? &c->failures[k] : &c->failures_other;
	*dst = *dst > UINT64_MAX - v ? UINT64_MAX : *dst + v;
	return 0;
}

static int sources_member(struct json_r *j, const char *key, void *arg)
{
	struct explain_client *c = arg;
	uint64_t v = 0;

	if (strcmp(key, "count") != 0)
		return json_r_skip(j);
	if (json_r_opt_u64(j, &v) < 0)
		return -1;
	c->sources = clamp_uint(v);
	return 0;
}

struct top_state {
	struct explain_client *c;
	bool has_failures;
};

static int top_member(struct json_r *j, const char *key, void *arg)
{
	struct top_state *st = arg;
	struct explain_client *c = st->c;
	uint64_t v = 0;

	if (strcmp(key, "failures") == 0) {
		st->has_failures = true;
		return json_r_object(j, failures_member, c);
	}
	if (strcmp(key, "first_cause") == 0 || strcmp(key, "host") == 0) {
		char buf[64];
		size_t full;

		if (!json_r_peek(j, '"'))
			return json_r_skip(j);
		if (json_r_string(j, buf, sizeof(buf), &full) < 0)
			return -1;
		if (strcmp(key, "first_cause") == 0)
			c->first_cause = full < sizeof(buf) ? diag_kind_from_name(buf) : DIAG_KIND_COUNT;
		else
			snprintf(c->host, sizeof(c->host), "%s", buf);
		return 0;
	}
	if (strcmp(key, "sources") == 0)
		return json_r_peek(j, '{') ? json_r_object(j, sources_member, c) : json_r_skip(j);
	if (strcmp(key, "target") == 0)
		return json_r_opt_u64(j, &c->target);
	if (strcmp(key, "established") == 0)
		return json_r_opt_u64(j, &c->established);
	if (strcmp(key, "echoed") == 0)
		return json_r_opt_u64(j, &c->echoed);
	if (strcmp(key, "failed") == 0)
		return json_r_opt_u64(j, &c->failed);
	if (strcmp(key, "ports") == 0) {
		if (json_r_opt_u64(j, &v) < 0)
			return -1;
		c->ports = clamp_uint(v);
		return 0;
	}
	return json_r_skip(j);
}

int explain_client_parse(const char *text, size_t len, struct explain_client *c, char *err, size_t errlen)
{
	struct top_state st = { c, false };
	struct json_r j;

	memset(c, 0, sizeof(*c));
	c->first_cause = DIAG_KIND_COUNT;
	if (text == NULL) {
		snprintf(err, errlen, "client report: no text");
		return -1;
	}
	json_r_init(&j, text, len, "client report", err, errlen);
	if (json_r_object(&j, top_member, &st) < 0 || json_r_end(&j) < 0)
		return -1;
	if (!st.has_failures) {
		snprintf(err, errlen, "client report: no \"failures\" object (not a c1m-client --json report?)");
		return -1;
	}
	return 0;
}

void explain_analyze(const struct explain_input *in, struct explain_result *out)
{
	struct tally t[EXPLAIN_CAUSE_COUNT];
	const char *span;
	uint64_t d;

	memset(out, 0, sizeof(*out));
	memset(t, 0, sizeof(t));
	if (in->kmsg != NULL) {
		out->kmsg_checked = true;
		scan_log(in, t, out);
	}
	span = in->has_base && in->base.present ? "during the run" : "since boot";

	/* conntrack: a log line proves drops; a near-full table now is strong evidence too. */
	add_log_evidence(out, t, EXPLAIN_CONNTRACK_FULL);
	if (in->conntrack_present && in->conntrack_max > 0 &&
	    in->conntrack_count >= in->conntrack_max / 100 * EXPLAIN_CONNTRACK_NEAR_FULL_PCT) {
		struct explain_finding *f = add(out, EXPLAIN_CONNTRACK_FULL);

		append(f->evidence, sizeof(f->evidence), "%snf_conntrack_count %" PRIu64 " of max %" PRIu64 " now",
		       f->evidence[0] ? "; " : "", in->conntrack_count, in->conntrack_max);
	}

	add_log_evidence(out, t, EXPLAIN_LISTEN_OVERFLOW);
	if (in->now.present) {
		d = delta(in, in->now.listen_overflows, in->base.listen_overflows);
		if (d > 0) {
			struct explain_finding *f = add(out, EXPLAIN_LISTEN_OVERFLOW);

			append(f->evidence, sizeof(f->evidence), "%sListenOverflows +%" PRIu64 ", ListenDrops +%" PRIu64
			       " %s", f->evidence[0] ? "; " : "", d,
			       delta(in, in->now.listen_drops, in->base.listen_drops), span);
		}
	}

	add_log_evidence(out, t, EXPLAIN_TCP_OOM);
	if (in->now.present) {
		d = delta(in, in->now.abort_on_memory, in->base.abort_on_memory);
		if (d > 0) {
			struct explain_finding *f = add(out, EXPLAIN_TCP_OOM);

			append(f->evidence, sizeof(f->evidence), "%sTCPAbortOnMemory +%" PRIu64 " %s",
			       f->evidence[0] ? "; " : "", d, span);
		}
	}
	if (in->sockstat_present && in->tcp_mem[2] > 0 && in->tcp_mem_used >= in->tcp_mem[2]) {
		struct explain_finding *f = add(out, EXPLAIN_TCP_OOM);

		append(f->evidence, sizeof(f->evidence), "%sTCP uses %" PRIu64 " pages now, tcp_mem hard limit %"
		       PRIu64, f->evidence[0] ? "; " : "", in->tcp_mem_used, in->tcp_mem[2]);
	}

	if (in->now.present) {
		d = delta(in, in->now.memory_pressures, in->base.memory_pressures);
		if (d > 0) {
			struct explain_finding *f = add(out, EXPLAIN_TCP_MEM_PRESSURE);

			append(f->evidence, sizeof(f->evidence), "TCPMemoryPressures +%" PRIu64 " %s", d, span);
		}
	}
	if (in->sockstat_present && in->tcp_mem[1] > 0 && in->tcp_mem_used >= in->tcp_mem[1] &&
	    in->tcp_mem_used < in->tcp_mem[2]) {
		struct explain_finding *f = add(out, EXPLAIN_TCP_MEM_PRESSURE);

		append(f->evidence, sizeof(f->evidence), "%sTCP uses %" PRIu64 " pages now, above tcp_mem[1] %"
		       PRIu64, f->evidence[0] ? "; " : "", in->tcp_mem_used, in->tcp_mem[1]);
	}

	add_log_evidence(out, t, EXPLAIN_OOM_KILL);
	add_log_evidence(out, t, EXPLAIN_FILE_MAX);
	analyze_fd_limit(in, out);
	analyze_local_ports(in, out);
	if (in->client != NULL)
		analyze_client(in, out);
}



static const char *const cause_titles[EXPLAIN_CAUSE_COUNT] = {
	[EXPLAIN_CONNTRACK_FULL] = "conntrack table full: new SYNs were dropped, so connects timed out",
	[EXPLAIN_LISTEN_OVERFLOW] = "listen queue overflow: the server accepted slower than clients connected, "
				    "SYNs were dropped",
	[EXPLAIN_TCP_OOM] = "TCP ran out of socket memory (tcp_mem hard limit): sockets were aborted",
	[EXPLAIN_TCP_MEM_PRESSURE] = "TCP memory pressure: the stack shrank buffers, which adds latency",
	[EXPLAIN_OOM_KILL] = "the OOM killer ended a process: the machine ran out of memory",
	[EXPLAIN_FILE_MAX] = "fs.file-max reached: the whole system ran out of file descriptors (ENFILE)",
	[EXPLAIN_FD_LIMIT] = "a process is at its open-file limit: its accept() and connect() fail with EMFILE "
			     "(Too many open files)",
	[EXPLAIN_LOCAL_PORTS] = "local ports used up for a (source, destination) pair: connect() fails with "
				"EADDRNOTAVAIL (Cannot assign requested address)",
};

static void format_kinds(struct sbuf *sb, const struct explain_result *r, const struct explain_client *cl)
{
	unsigned i, j;

	sbuf_printf(sb, "%sThe client's report: %" PRIu64 " of %" PRIu64 " connections failed", r->n ? "\n" : "",
		  cl->failed, cl->target);
	if (cl->host[0] != '\0')
		sbuf_printf(sb, " (server %s)", cl->host);
	if (r->n_kinds == 0)
		sbuf_printf(sb, "; it counted no failures.\n");
	else
		sbuf_printf(sb, ". By kind, with this machine's numbers now:\n");
	for (i = 0; i < r->n_kinds; i++) {
		const struct explain_kind *k = &r->kinds[i];

		sbuf_printf(sb, "- %s x %" PRIu64 "%s: %s\n", diag_kind_name(k->kind), k->count,
			  k->first ? " (first cause)" : "", k->text);
		if (k->n_backed > 0) {
			sbuf_printf(sb, "  shown now by:");
			for (j = 0; j < k->n_backed; j++) {
				unsigned f;

				for (f = 0; f < r->n && r->findings[f].cause != k->backed[j]; f++)
					;
				sbuf_printf(sb, "%s %s (finding %u)", j ? "," : "", cause_names[k->backed[j]], f + 1);
			}
			sbuf_printf(sb, "\n");
		}
	}
	if (cl->failures_other > 0)
		sbuf_printf(sb, "- %" PRIu64 " failure%s under kind names this doctor does not know (a newer client?)\n",
			  cl->failures_other, cl->failures_other == 1 ? "" : "s");
}

int explain_format(const struct explain_result *r, const struct explain_input *in, char *buf, size_t len)
{
	struct sbuf sb;
	unsigned i;

	sbuf_init(&sb, buf, len);
	for (i = 0; i < r->n; i++) {
		const struct explain_finding *f = &r->findings[i];

		sbuf_printf(&sb, "%u. %s.\n   evidence: %s\n   fix: %s\n", i + 1, cause_titles[f->cause],
			  f->evidence, f->fix);
	}
	if (in->client != NULL)
		format_kinds(&sb, r, in->client);
	if (r->n == 0 && r->n_kinds == 0) {
		sbuf_printf(&sb, "Cannot tell: none of the known causes shows in the evidence.\n");
		sbuf_printf(&sb, "Checked: %s; %s; %s; %s; ",
			  r->kmsg_checked ? "kernel log" : "kernel log NOT readable",
			  in->now.present ? "TcpExt counters" : "TcpExt counters NOT readable",
			  in->conntrack_present ? "nf_conntrack fill" : "nf_conntrack not loaded",
			  !in->sockstat_present ? "sockstat NOT readable" :
			  in->tcp_mem_present ? "TCP socket memory" :
			  "TCP socket memory (tcp_mem is machine-wide, not visible in this network namespace)");
		if (in->procs_checked)
			sbuf_printf(&sb, "open files of %u process%s; ", in->n_procs, in->n_procs == 1 ? "" : "es");
		else
			sbuf_printf(&sb, "open files of processes NOT readable; ");
		if (in->tuples != NULL)
			sbuf_printf(&sb, "local ports of %" PRIu64 " TCP socket%s.\n", in->tuples->rows,
				  in->tuples->rows == 1 ? "" : "s");
		else
			sbuf_printf(&sb, "/proc/net/tcp NOT readable.\n");
		sbuf_printf(&sb, "Look at the failing program's own errors (c1m-client reports each kind with an "
			       "explanation; c1m-doctor --explain --from CLIENT_JSON explains them with the numbers "
			       "now) and the server's worker exits.\n");
	}
	if (!in->has_base && in->now.present)
		sbuf_printf(&sb, "Note: counters are totals since boot; save a baseline before the run "
			       "(--save-baseline FILE, then --baseline FILE) to see only the run's share.\n");
	if (r->kmsg_checked && in->since_s > 0)
		sbuf_printf(&sb, "Kernel log: %u lines from the last %.0f s examined.\n", r->kmsg_lines, in->since_s);
	return sb.overflow ? -1 : (int)sb.used;
}

int explain_format_json(const struct explain_result *r, char *buf, size_t len)
{
	struct sbuf sb;
	unsigned i, j;

	sbuf_init(&sb, buf, len);
	sbuf_printf(&sb, "{\"kmsg_checked\":%s,\"kmsg_lines\":%u,\"findings\":[",
		  r->kmsg_checked ? "true" : "false", r->kmsg_lines);
	for (i = 0; i < r->n; i++) {
		const struct explain_finding *f = &r->findings[i];

		sbuf_printf(&sb, "%s{\"cause\":\"%s\",\"evidence\":", i ? "," : "", cause_names[f->cause]);
		sbuf_json_string(&sb, f->evidence);
		sbuf_printf(&sb, ",\"fix\":");
		sbuf_json_string(&sb, f->fix);
		sbuf_printf(&sb, "}");
	}
	sbuf_printf(&sb, "],\"client_kinds\":[");
	for (i = 0; i < r->n_kinds; i++) {
		const struct explain_kind *k = &r->kinds[i];

		sbuf_printf(&sb, "%s{\"kind\":", i ? "," : "");
		sbuf_json_string(&sb, diag_kind_name(k->kind));
		sbuf_printf(&sb, ",\"count\":%" PRIu64 ",\"first\":%s,\"explanation\":", k->count,
			  k->first ? "true" : "false");
		sbuf_json_string(&sb, k->text);
		sbuf_printf(&sb, ",\"shown_by\":[");
		for (j = 0; j < k->n_backed; j++)
			sbuf_printf(&sb, "%s\"%s\"", j ? "," : "", cause_names[k->backed[j]]);
		sbuf_printf(&sb, "]}");
	}
	sbuf_printf(&sb, "]}\n");
	return sb.overflow ? -1 : (int)sb.used;
}

static const char *const baseline_keys[4] = {
	"ListenOverflows", "ListenDrops", "TCPMemoryPressures", "TCPAbortOnMemory"
};

static uint64_t *baseline_field(struct kstate_tcpext *c, unsigned i)
{
	switch (i) {
	case 0: return &c->listen_overflows;
	case 1: return &c->listen_drops;
	case 2: return &c->memory_pressures;
	default: return &c->abort_on_memory;
	}
}

int explain_format_baseline(const struct kstate_tcpext *c, char *buf, size_t len)
{
	struct sbuf sb;
	struct kstate_tcpext copy = *c;
	unsigned i;

	sbuf_init(&sb, buf, len);
	for (i = 0; i < 4; i++)
		sbuf_printf(&sb, "%s %" PRIu64 "\n", baseline_keys[i], *baseline_field(&copy, i));
	return sb.overflow ? -1 : (int)sb.used;
}

int explain_parse_baseline(const char *text, struct kstate_tcpext *c, char *err, size_t errlen)
{
	char perr[PROCFS_ERR_LEN];
	unsigned i;

	memset(c, 0, sizeof(*c));
	if (text == NULL) {
		snprintf(err, errlen, "baseline: no text");
		return -1;
	}
	/* One "Name value" pair per line, in any order; every counter must be present. */
	for (i = 0; i < 4; i++) {
		const char *line = text;
		size_t klen = strlen(baseline_keys[i]);
		bool found = false;

		while (line != NULL && *line != '\0') {
			const char *nl = strchr(line, '\n');

			if (strncmp(line, baseline_keys[i], klen) == 0 && line[klen] == ' ') {
				char val[32];
				size_t vlen = nl != NULL ? (size_t)(nl - line) - klen - 1 : strlen(line + klen + 1);

				if (vlen == 0 || vlen >= sizeof(val)) {
					snprintf(err, errlen, "baseline: bad value for %s", baseline_keys[i]);
					return -1;
				}
				memcpy(val, line + klen + 1, vlen);
				val[vlen] = '\0';
				if (procfs_parse_u64(val, baseline_field(c, i), perr, sizeof(perr)) < 0) {
					snprintf(err, errlen, "baseline %s: %s", baseline_keys[i], perr);
					return -1;
				}
				found = true;
				break;
			}
			line = nl != NULL ? nl + 1 : NULL;
		}
		if (!found) {
			snprintf(err, errlen, "baseline: no %s line", baseline_keys[i]);
			return -1;
		}
	}
	c->present = true;
	return 0;
}
