/* Decision logic for `c1m-doctor --explain`. Each known cause has two kinds of evidence: a kernel log
 * line (the kernel says "nf_conntrack: table full, dropping packet" exactly when it drops) and a number
 * (a counter that grew, a table that is full now). A finding is reported when either shows; its text
 * quotes what was seen so the reader can judge. Counters without a baseline are labelled "since boot"
 * because they may predate the run; the function never claims more than the evidence says. */
#include "explain.h"
#include "procfs.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
};

static const char *const cause_fixes[EXPLAIN_CAUSE_COUNT] = {
	[EXPLAIN_CONNTRACK_FULL] = "sysctl -w net.netfilter.nf_conntrack_max=2097152",
	[EXPLAIN_LISTEN_OVERFLOW] = "sysctl -w net.core.somaxconn=65535 (and more server workers or a lower --rate)",
	[EXPLAIN_TCP_OOM] = "sysctl -w net.ipv4.tcp_mem=\"<low> <pressure> <high>\" in pages; c1m-doctor --role ... prints the values",
	[EXPLAIN_TCP_MEM_PRESSURE] = "raise net.ipv4.tcp_mem[1] above the run's use, or shrink tcp_rmem/tcp_wmem",
	[EXPLAIN_OOM_KILL] = "fewer connections per machine, smaller socket buffers (tcp_rmem/tcp_wmem), or more memory",
	[EXPLAIN_FILE_MAX] = "sysctl -w fs.file-max=2097152",
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
}

struct sbuf {
	char *buf;
	size_t len, used;
	bool overflow;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->used, sb->len - sb->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sb->len - sb->used) {
		sb->overflow = true;
		return;
	}
	sb->used += (size_t)n;
}

static void sb_init(struct sbuf *sb, char *buf, size_t len)
{
	sb->buf = buf;
	sb->len = len;
	sb->used = 0;
	sb->overflow = len == 0;
	if (len > 0)
		buf[0] = '\0';
}

static const char *const cause_titles[EXPLAIN_CAUSE_COUNT] = {
	[EXPLAIN_CONNTRACK_FULL] = "conntrack table full: new SYNs were dropped, so connects timed out",
	[EXPLAIN_LISTEN_OVERFLOW] = "listen queue overflow: the server accepted slower than clients connected, "
				    "SYNs were dropped",
	[EXPLAIN_TCP_OOM] = "TCP ran out of socket memory (tcp_mem hard limit): sockets were aborted",
	[EXPLAIN_TCP_MEM_PRESSURE] = "TCP memory pressure: the stack shrank buffers, which adds latency",
	[EXPLAIN_OOM_KILL] = "the OOM killer ended a process: the machine ran out of memory",
	[EXPLAIN_FILE_MAX] = "fs.file-max reached: the whole system ran out of file descriptors (ENFILE)",
};

int explain_format(const struct explain_result *r, const struct explain_input *in, char *buf, size_t len)
{
	struct sbuf sb;
	unsigned i;

	sb_init(&sb, buf, len);
	for (i = 0; i < r->n; i++) {
		const struct explain_finding *f = &r->findings[i];

		sb_printf(&sb, "%u. %s.\n   evidence: %s\n   fix: %s\n", i + 1, cause_titles[f->cause],
			  f->evidence, f->fix);
	}
	if (r->n == 0) {
		sb_printf(&sb, "Cannot tell: none of the known causes shows in the evidence.\n");
		sb_printf(&sb, "Checked: %s; %s; %s; %s.\n",
			  r->kmsg_checked ? "kernel log" : "kernel log NOT readable",
			  in->now.present ? "TcpExt counters" : "TcpExt counters NOT readable",
			  in->conntrack_present ? "nf_conntrack fill" : "nf_conntrack not loaded",
			  in->sockstat_present ? "TCP socket memory" : "sockstat NOT readable");
		sb_printf(&sb, "Look at the failing program's own errors (c1m-client reports each kind with an "
			       "explanation) and the server's worker exits.\n");
	}
	if (!in->has_base && in->now.present)
		sb_printf(&sb, "Note: counters are totals since boot; save a baseline before the run "
			       "(--save-baseline FILE, then --baseline FILE) to see only the run's share.\n");
	if (r->kmsg_checked && in->since_s > 0)
		sb_printf(&sb, "Kernel log: %u lines from the last %.0f s examined.\n", r->kmsg_lines, in->since_s);
	return sb.overflow ? -1 : (int)sb.used;
}

static void json_str(struct sbuf *sb, const char *s)
{
	sb_printf(sb, "\"");
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			sb_printf(sb, "\\%c", ch);
		else if (ch < 0x20)
			sb_printf(sb, "\\u%04x", ch);
		else
			sb_printf(sb, "%c", ch);
	}
	sb_printf(sb, "\"");
}

int explain_format_json(const struct explain_result *r, char *buf, size_t len)
{
	struct sbuf sb;
	unsigned i;

	sb_init(&sb, buf, len);
	sb_printf(&sb, "{\"kmsg_checked\":%s,\"kmsg_lines\":%u,\"findings\":[",
		  r->kmsg_checked ? "true" : "false", r->kmsg_lines);
	for (i = 0; i < r->n; i++) {
		const struct explain_finding *f = &r->findings[i];

		sb_printf(&sb, "%s{\"cause\":\"%s\",\"evidence\":", i ? "," : "", cause_names[f->cause]);
		json_str(&sb, f->evidence);
		sb_printf(&sb, ",\"fix\":");
		json_str(&sb, f->fix);
		sb_printf(&sb, "}");
	}
	sb_printf(&sb, "]}\n");
	return sb.overflow ? -1 : (int)sb.used;
}

static const char *const counter_keys[4] = {
	"ListenOverflows", "ListenDrops", "TCPMemoryPressures", "TCPAbortOnMemory"
};

static uint64_t *counter_field(struct explain_counters *c, unsigned i)
{
	switch (i) {
	case 0: return &c->listen_overflows;
	case 1: return &c->listen_drops;
	case 2: return &c->memory_pressures;
	default: return &c->abort_on_memory;
	}
}

int explain_format_baseline(const struct explain_counters *c, char *buf, size_t len)
{
	struct sbuf sb;
	struct explain_counters copy = *c;
	unsigned i;

	sb_init(&sb, buf, len);
	for (i = 0; i < 4; i++)
		sb_printf(&sb, "%s %" PRIu64 "\n", counter_keys[i], *counter_field(&copy, i));
	return sb.overflow ? -1 : (int)sb.used;
}

int explain_parse_baseline(const char *text, struct explain_counters *c, char *err, size_t errlen)
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
		size_t klen = strlen(counter_keys[i]);
		bool found = false;

		while (line != NULL && *line != '\0') {
			const char *nl = strchr(line, '\n');

			if (strncmp(line, counter_keys[i], klen) == 0 && line[klen] == ' ') {
				char val[32];
				size_t vlen = nl != NULL ? (size_t)(nl - line) - klen - 1 : strlen(line + klen + 1);

				if (vlen == 0 || vlen >= sizeof(val)) {
					snprintf(err, errlen, "baseline: bad value for %s", counter_keys[i]);
					return -1;
				}
				memcpy(val, line + klen + 1, vlen);
				val[vlen] = '\0';
				if (procfs_parse_u64(val, counter_field(c, i), perr, sizeof(perr)) < 0) {
					snprintf(err, errlen, "baseline %s: %s", counter_keys[i], perr);
					return -1;
				}
				found = true;
				break;
			}
			line = nl != NULL ? nl + 1 : NULL;
		}
		if (!found) {
			snprintf(err, errlen, "baseline: no %s line", counter_keys[i]);
			return -1;
		}
	}
	c->present = true;
	return 0;
}

int explain_counters_parse(const char *netstat_text, struct explain_counters *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (procfs_netstat_get(netstat_text, "TcpExt", "ListenOverflows", &c->listen_overflows, err, errlen) < 0 ||
	    procfs_netstat_get(netstat_text, "TcpExt", "ListenDrops", &c->listen_drops, err, errlen) < 0)
		return -1;
	if (procfs_netstat_get(netstat_text, "TcpExt", "TCPMemoryPressures", &c->memory_pressures, err, errlen) < 0)
		c->memory_pressures = 0;
	if (procfs_netstat_get(netstat_text, "TcpExt", "TCPAbortOnMemory", &c->abort_on_memory, err, errlen) < 0)
		c->abort_on_memory = 0;
	c->present = true;
	return 0;
}
