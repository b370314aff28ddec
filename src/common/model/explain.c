/* Decision logic for `c1m-doctor --explain`. Each known cause has two kinds of evidence: a kernel log
 * line (the kernel says "nf_conntrack: table full, dropping packet" exactly when it drops) and a number
 * (a counter that grew, a table that is full now, a process at its open-file limit, a port tuple whose
 * sockets fill the local port range). A finding is reported when either shows; its text quotes what
 * was seen so the reader can judge. Counters without a baseline are labelled "since boot" because they
 * may predate the run; the function never claims more than the evidence says. EMFILE and EADDRNOTAVAIL
 * leave no trace in the kernel log or counters, so their evidence is the state right after the run:
 * the process still holding its descriptors, the sockets still holding their ports (TIME_WAIT keeps
 * them 60 s). The readers of its text inputs are explain_tuples.c and explain_client.c; the renderings are
 * explain_format.c. */
#include "common/model/capacity.h"
#include "common/model/explain.h"
#include "common/util/sbuf.h"

#include <arpa/inet.h>
#include <inttypes.h>
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
	[EXPLAIN_CONNTRACK_FULL] = NULL,  /* sized for the run: analyze_conntrack */
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

/* The evidence of finding f, to add to: "; " between the passes that each add a piece. */
static void evidence_open(struct explain_finding *f, struct sbuf *sb)
{
	sbuf_resume(sb, f->evidence, sizeof(f->evidence));
	if (sb->used > 0)
		sbuf_printf(sb, "; ");
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
	snprintf(f->fix, sizeof(f->fix), "%s", cause_fixes[c] != NULL ? cause_fixes[c] : "");
	return f;
}

static void add_log_evidence(struct explain_result *out, const struct tally *t, enum explain_cause c)
{
	struct sbuf sb;

	if (t[c].log_hits == 0)
		return;
	evidence_open(add(out, c), &sb);
	sbuf_printf(&sb, "kernel log, %u line%s, last: \"%s\"", t[c].log_hits, t[c].log_hits == 1 ? "" : "s",
		    t[c].last_line);
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
	struct sbuf sb;
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
	evidence_open(f, &sb);
	for (i = 0; i < nq; i++) {
		const struct explain_proc *pr = &in->procs[idx[i]];

		sbuf_printf(&sb, "%spid %d (%s) holds %" PRIu64 " of its %" PRIu64 " open files (hard limit %s)",
			    i ? "; " : "", pr->pid, pr->comm, pr->fds, pr->soft, limit_str(pr->hard, a, sizeof(a)));
	}
	if (total > nq)
		sbuf_printf(&sb, "; %u more process%s", total - nq, total - nq == 1 ? "" : "es");
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
	struct sbuf sb;
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
	evidence_open(f, &sb);
	for (i = 0; i < nq; i++) {
		const struct explain_tuple *e = &t->slots[idx[i]];
		bool v6 = e->family == 6;

		socks += e->sockets;
		tw += e->time_wait;
		sbuf_printf(&sb, "%s%s -> %s%s%s:%u has %" PRIu64 " sockets (%" PRIu64 " in TIME_WAIT)", i ? "; " : "",
			    addr_str(e->family, e->src, s1, sizeof(s1)), v6 ? "[" : "",
			    addr_str(e->family, e->dst, s2, sizeof(s2)), v6 ? "]" : "", e->dport, e->sockets,
			    e->time_wait);
	}
	sbuf_printf(&sb, "%s of the %" PRIu64 " local ports in ip_local_port_range %u-%u", nq == 1 ? "" : " each",
		    width, t->port_lo, t->port_hi);
	if (total > nq)
		sbuf_printf(&sb, "; %u more pair%s", total - nq, total - nq == 1 ? "" : "s");
	if (t->dropped > 0)
		sbuf_printf(&sb, "; %" PRIu64 " sockets not counted (over %u destinations)", t->dropped, t->cap);
	if (tw * 2 >= socks) {
		sbuf_resume(&sb, f->fix, sizeof(f->fix));
		sbuf_printf(&sb, "; TIME_WAIT keeps ports 60 s: sysctl -w net.ipv4.tcp_tw_reuse=1");
	}
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
	struct diag_context kctx;   /* ctx with the count of the kind explained */
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
			kctx = *ctx;
			kctx.count = k->count;
			/* -1 only when the text did not fit: it is still a cut, NUL-terminated paragraph */
			(void)diag_explain(k->kind, &kctx, k->text, sizeof(k->text));
			for (j = 0; j < nc; j++)
				for (b = 0; b < out->n; b++)
					if (out->findings[b].cause == c[j] && k->n_backed < 3)
						k->backed[k->n_backed++] = c[j];
		}
	}
}

/* conntrack: a log line proves drops; a near-full table now is strong evidence too. The fix is the doctor's
 * own value (capacity_conntrack_max) for the run's target when the client's report gives it, else for
 * the default target, as everywhere in the tree. */
static void analyze_conntrack(const struct explain_input *in, const struct tally *t, struct explain_result *out)
{
	uint64_t target = in->ctx != NULL ? in->ctx->target : 0;
	struct explain_finding *f;
	struct sbuf sb;

	add_log_evidence(out, t, EXPLAIN_CONNTRACK_FULL);
	if (in->conntrack_present && in->conntrack_max > 0 &&
	    in->conntrack_count >= in->conntrack_max / 100 * EXPLAIN_CONNTRACK_NEAR_FULL_PCT) {
		evidence_open(add(out, EXPLAIN_CONNTRACK_FULL), &sb);
		sbuf_printf(&sb, "nf_conntrack_count %" PRIu64 " of max %" PRIu64 " now", in->conntrack_count,
			    in->conntrack_max);
	}
	for (f = out->findings; f < out->findings + out->n && f->cause != EXPLAIN_CONNTRACK_FULL; f++)
		;
	if (f == out->findings + out->n)
		return;
	if (target > 0)
		snprintf(f->fix, sizeof(f->fix), "sysctl -w net.netfilter.nf_conntrack_max=%" PRIu64 " (for %" PRIu64
			 " connections)", capacity_conntrack_max(target), target);
	else
		snprintf(f->fix, sizeof(f->fix), "sysctl -w net.netfilter.nf_conntrack_max=%" PRIu64,
			 capacity_conntrack_max(0));
}

/* The listen queues and TCP's socket memory, from the TcpExt counters and sockstat. */
static void analyze_counters(const struct explain_input *in, const struct tally *t, struct explain_result *out)
{
	const char *span = in->has_base && in->base.present ? "during the run" : "since boot";
	struct sbuf sb;
	uint64_t d;

	add_log_evidence(out, t, EXPLAIN_LISTEN_OVERFLOW);
	d = in->now.present ? delta(in, in->now.listen_overflows, in->base.listen_overflows) : 0;
	if (d > 0) {
		evidence_open(add(out, EXPLAIN_LISTEN_OVERFLOW), &sb);
		sbuf_printf(&sb, "ListenOverflows +%" PRIu64 ", ListenDrops +%" PRIu64 " %s", d,
			    delta(in, in->now.listen_drops, in->base.listen_drops), span);
	}
	add_log_evidence(out, t, EXPLAIN_TCP_OOM);
	d = in->now.present ? delta(in, in->now.abort_on_memory, in->base.abort_on_memory) : 0;
	if (d > 0) {
		evidence_open(add(out, EXPLAIN_TCP_OOM), &sb);
		sbuf_printf(&sb, "TCPAbortOnMemory +%" PRIu64 " %s", d, span);
	}
	if (in->sockstat_present && in->tcp_mem[2] > 0 && in->tcp_mem_used >= in->tcp_mem[2]) {
		evidence_open(add(out, EXPLAIN_TCP_OOM), &sb);
		sbuf_printf(&sb, "TCP uses %" PRIu64 " pages now, tcp_mem hard limit %" PRIu64, in->tcp_mem_used,
			    in->tcp_mem[2]);
	}
	d = in->now.present ? delta(in, in->now.memory_pressures, in->base.memory_pressures) : 0;
	if (d > 0) {
		evidence_open(add(out, EXPLAIN_TCP_MEM_PRESSURE), &sb);
		sbuf_printf(&sb, "TCPMemoryPressures +%" PRIu64 " %s", d, span);
	}
	if (in->sockstat_present && in->tcp_mem[1] > 0 && in->tcp_mem_used >= in->tcp_mem[1] &&
	    in->tcp_mem_used < in->tcp_mem[2]) {
		evidence_open(add(out, EXPLAIN_TCP_MEM_PRESSURE), &sb);
		sbuf_printf(&sb, "TCP uses %" PRIu64 " pages now, above tcp_mem[1] %" PRIu64, in->tcp_mem_used,
			    in->tcp_mem[1]);
	}
}

void explain_analyze(const struct explain_input *in, struct explain_result *out)
{
	struct tally t[EXPLAIN_CAUSE_COUNT];

	memset(out, 0, sizeof(*out));
	memset(t, 0, sizeof(t));
	if (in->kmsg != NULL) {
		out->kmsg_checked = true;
		scan_log(in, t, out);
	}
	analyze_conntrack(in, t, out);
	analyze_counters(in, t, out);
	add_log_evidence(out, t, EXPLAIN_OOM_KILL);
	add_log_evidence(out, t, EXPLAIN_FILE_MAX);
	analyze_fd_limit(in, out);
	analyze_local_ports(in, out);
	if (in->client != NULL)
		analyze_client(in, out);
}
