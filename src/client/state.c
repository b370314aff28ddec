/* A report's state, written and read back with the same field tables (see state.h). */
#include "client/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util/counter.h"

enum field_type {
	F_U64,      /* uint64_t */
	F_U32,      /* uint32_t */
	F_UNS,      /* unsigned */
	F_INT,      /* int, written as a whole number >= 0 */
	F_BOOL,     /* bool */
	F_AU64,     /* _Atomic uint64_t */
	F_ATIME,    /* _Atomic uint64_t clock_now_ns() time, 0 = not yet: written on the wall clock */
	F_AU32,     /* _Atomic uint32_t */
	F_AI32,     /* _Atomic int32_t, >= 0 */
};

struct field {
	const char *key;
	size_t off;
	enum field_type type;
};

#define FLD(s, m, t) { #m, offsetof(struct s, m), t }
#define FLDN(s, m, i, t) { #m "_" #i, offsetof(struct s, m) + (i) * sizeof(((struct s *)0)->m[0]), t }
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))
#define STATE_MAX_FIELDS 64   /* a table's fields are tracked in one 64-bit mask */

static const struct field meta_fields[] = {
	FLD(report_meta, target, F_U64), FLD(report_meta, fleet_target, F_U64), FLD(report_meta, shard_k, F_UNS),
	FLD(report_meta, shard_m, F_UNS), FLD(report_meta, port_base, F_UNS), FLD(report_meta, ports, F_UNS),
	{ "sources_count", offsetof(struct report_meta, sources.count), F_U32 },
	FLD(report_meta, sources_default, F_BOOL), FLD(report_meta, workers, F_UNS), FLD(report_meta, rate, F_U64),
	FLD(report_meta, concurrency, F_UNS), FLD(report_meta, hold_ms, F_U64), FLD(report_meta, stop_signal, F_INT),
	FLD(report_meta, latency, F_BOOL), FLD(report_meta, msg_rate, F_U64), FLD(report_meta, duration_ms, F_U64),
	FLD(report_meta, reply_timeout_ms, F_UNS), FLD(report_meta, slo_ms, F_UNS), { "was_find_max", offsetof(struct report_meta, find_max), F_BOOL },
	{ "was_sweep", offsetof(struct report_meta, sweep), F_BOOL }, FLD(report_meta, cpus, F_UNS), FLD(report_meta, start_late_ns, F_U64),
	FLD(report_meta, cpus_pinned, F_BOOL),
};

static const struct field stats_fields[] = {
	FLD(loadgen_stats, target, F_AU64), FLD(loadgen_stats, started, F_AU64),
	FLD(loadgen_stats, connecting, F_AU64), FLD(loadgen_stats, echoing, F_AU64), FLD(loadgen_stats, open, F_AU64),
	FLD(loadgen_stats, established, F_AU64), FLD(loadgen_stats, echoed, F_AU64), FLD(loadgen_stats, failed, F_AU64),
	FLD(loadgen_stats, failed_immediate, F_AU64), FLD(loadgen_stats, other_errno, F_AI32),
	FLD(loadgen_stats, stop_signal, F_AI32), FLD(loadgen_stats, phase, F_AU32), FLD(loadgen_stats, workers, F_AU32),
	FLD(loadgen_stats, start_ns, F_ATIME), FLD(loadgen_stats, ramp_end_ns, F_ATIME),
	FLD(loadgen_stats, end_ns, F_ATIME),
};

static const struct field lat_fields[] = {
	FLD(loadgen_lat, step, F_AU32), FLD(loadgen_lat, state, F_AU32), FLD(loadgen_lat, workers, F_AU32),
	FLD(loadgen_lat, conns, F_AU64), FLD(loadgen_lat, held, F_AU64), FLD(loadgen_lat, sent, F_AU64),
	FLD(loadgen_lat, written, F_AU64), FLD(loadgen_lat, answered, F_AU64), FLD(loadgen_lat, late, F_AU64),
	FLD(loadgen_lat, lost, F_AU64), FLD(loadgen_lat, mismatched, F_AU64), FLD(loadgen_lat, start_ns, F_ATIME),
	FLD(loadgen_lat, end_ns, F_ATIME), FLD(loadgen_lat, send_lag_max_us, F_AU64),
	FLD(loadgen_lat, rss_base_bytes, F_AU64), FLD(loadgen_lat, rss_bytes, F_AU64),
	FLD(loadgen_lat, failed_status, F_AU64), FLD(loadgen_lat, cpu_us, F_AU64),
	FLD(loadgen_lat, cpu_permille_max, F_AU64), FLD(loadgen_lat, wakeups, F_AU64),
	FLD(loadgen_lat, machine_permille, F_AU64),
};

static const struct field kstate_fields[] = {
	FLD(kstate, valid, F_BOOL), FLD(kstate, nofile_present, F_BOOL), FLD(kstate, nofile_soft, F_U64),
	FLD(kstate, nofile_hard, F_U64), FLD(kstate, file_nr_present, F_BOOL), FLD(kstate, file_nr_used, F_U64),
	FLD(kstate, file_max, F_U64), FLD(kstate, conntrack_present, F_BOOL), FLD(kstate, conntrack_count, F_U64),
	FLD(kstate, conntrack_max, F_U64), FLD(kstate, sockstat_present, F_BOOL), FLD(kstate, tcp_inuse, F_U64),
	FLD(kstate, tcp_mem_used, F_U64), FLD(kstate, meminfo_present, F_BOOL), FLD(kstate, mem_available, F_U64),
	{ "tcpext_present", offsetof(struct kstate, tcpext.present), F_BOOL },
	{ "listen_overflows", offsetof(struct kstate, tcpext.listen_overflows), F_U64 },
	{ "listen_drops", offsetof(struct kstate, tcpext.listen_drops), F_U64 },
	{ "memory_pressures", offsetof(struct kstate, tcpext.memory_pressures), F_U64 },
	{ "abort_on_memory", offsetof(struct kstate, tcpext.abort_on_memory), F_U64 },
};

/* What the report's text, JSON and explanations read of the limits (diag_context, environment). */
static const struct field limits_fields[] = {
	FLD(limits_values, nofile_soft, F_U64), FLD(limits_values, nofile_hard, F_U64),
	FLD(limits_values, nofile_hard_raisable, F_BOOL), FLD(limits_values, file_max, F_U64),
	FLD(limits_values, nr_open, F_U64), FLD(limits_values, file_nr_used, F_U64), FLD(limits_values, port_lo, F_UNS),
	FLD(limits_values, port_hi, F_UNS), FLD(limits_values, conntrack_present, F_BOOL),
	FLD(limits_values, conntrack_in_use, F_BOOL), FLD(limits_values, conntrack_max, F_U64),
	FLD(limits_values, conntrack_count, F_U64), FLD(limits_values, somaxconn_present, F_BOOL),
	FLD(limits_values, somaxconn, F_U64), FLD(limits_values, syn_backlog_present, F_BOOL),
	FLD(limits_values, syn_backlog, F_U64), FLD(limits_values, tcp_mem_present, F_BOOL),
	FLDN(limits_values, tcp_mem, 0, F_U64), FLDN(limits_values, tcp_mem, 1, F_U64),
	FLDN(limits_values, tcp_mem, 2, F_U64), FLD(limits_values, tcp_rmem_present, F_BOOL),
	FLDN(limits_values, tcp_rmem, 0, F_U64), FLDN(limits_values, tcp_rmem, 1, F_U64),
	FLDN(limits_values, tcp_rmem, 2, F_U64), FLD(limits_values, tcp_wmem_present, F_BOOL),
	FLDN(limits_values, tcp_wmem, 0, F_U64), FLDN(limits_values, tcp_wmem, 1, F_U64),
	FLDN(limits_values, tcp_wmem, 2, F_U64), FLD(limits_values, mem_available, F_U64),
	FLD(limits_values, page_size, F_U64), FLD(limits_values, tcp_abort_on_overflow_present, F_BOOL),
	FLD(limits_values, tcp_abort_on_overflow, F_UNS), FLD(limits_values, sockstat_present, F_BOOL),
	FLD(limits_values, tcp_inuse, F_U64), FLD(limits_values, tcp_mem_used, F_U64),
};

/* ---- writer ---- */

static void write_fields(struct json_w *w, const char *key, const void *base, const struct field *f, size_t n,
			 int64_t wall_offset)
{
	const char *b = base;
	uint64_t t;
	size_t i;

	json_w_object_begin(w, key);
	for (i = 0; i < n; i++) {
		const void *p = b + f[i].off;

		switch (f[i].type) {
		case F_U64: json_w_u64(w, f[i].key, *(const uint64_t *)p); break;
		case F_U32: json_w_u64(w, f[i].key, *(const uint32_t *)p); break;
		case F_UNS: json_w_u64(w, f[i].key, *(const unsigned *)p); break;
		case F_INT: json_w_i64(w, f[i].key, *(const int *)p); break;
		case F_BOOL: json_w_bool(w, f[i].key, *(const bool *)p); break;
		case F_AU64: json_w_u64(w, f[i].key, counter_get(p)); break;
		case F_AU32: json_w_u64(w, f[i].key, counter_get32(p)); break;
		case F_AI32: json_w_i64(w, f[i].key, counter_get_i32(p)); break;
		case F_ATIME:
			t = counter_get(p);
			json_w_u64(w, f[i].key, t ? (uint64_t)((int64_t)t + wall_offset) : 0);
			break;
		}
	}
	json_w_object_end(w);
}

static void write_hist(struct json_w *w, const char *key, const struct hist *h)
{
	unsigned i;
	uint64_t c;

	json_w_object_begin(w, key);
	json_w_u64(w, "total", counter_get(&h->total));
	json_w_u64(w, "overflow", counter_get(&h->overflow));
	json_w_u64(w, "sum_us", counter_get(&h->sum_us));
	json_w_u64(w, "min_us", counter_get(&h->min_us));
	json_w_u64(w, "max_us", counter_get(&h->max_us));
	json_w_array_begin(w, "buckets");   /* [index, count] of every non-empty bucket */
	for (i = 0; i < HIST_BUCKETS; i++) {
		c = counter_get(&h->counts[i]);
		if (c == 0)
			continue;
		json_w_array_begin(w, NULL);
		json_w_u64(w, NULL, i);
		json_w_u64(w, NULL, c);
		json_w_array_end(w);
	}
	json_w_array_end(w);
	json_w_object_end(w);
}

static void write_lat(struct json_w *w, const struct loadgen_lat *l, int64_t off)
{
	json_w_object_begin(w, "lat");
	write_fields(w, "counts", l, lat_fields, NFIELDS(lat_fields), off);
	json_w_string(w, "mismatch_note", l->mismatch_note);
	write_hist(w, "rtt_us", &l->rtt_us);
	json_w_object_end(w);
}

void state_write(struct json_w *w, const struct report_meta *m, const struct loadgen_stats *t)
{
	int64_t off = m->wall_offset_ns;
	unsigned k;
	uint64_t first;
	char a[ADDR_STRLEN];

	json_w_object_begin(w, "state");
	json_w_u64(w, "format", STATE_FORMAT);
	write_fields(w, "meta", m, meta_fields, NFIELDS(meta_fields), off);
	json_w_string(w, "host", m->host);
	/* as text, IPv4 or IPv6 ("" when the kernel chose the sources) */
	json_w_string(w, "sources_first", m->sources.count ? addr_format(&m->sources.first, a, sizeof(a)) : "");
	json_w_string(w, "host_name", m->host_name);
	json_w_string(w, "hostname", m->hostname);
	json_w_string(w, "kernel", m->kernel);
	json_w_string(w, "problems", m->problems);
	if (m->limits)
		write_fields(w, "limits", m->limits, limits_fields, NFIELDS(limits_fields), off);
	write_fields(w, "counts", t, stats_fields, NFIELDS(stats_fields), off);
	json_w_array_begin(w, "failures");   /* every kind that failed: count, first time, the kernel then */
	for (k = 0; k < DIAG_KIND_COUNT; k++) {
		if (counter_get(&t->failures[k]) == 0)
			continue;
		first = counter_get(&t->first_fail_ns[k]);
		json_w_object_begin(w, NULL);
		json_w_string(w, "kind", diag_kind_name((enum diag_kind)k));
		json_w_u64(w, "count", counter_get(&t->failures[k]));
		json_w_u64(w, "first_ns", first ? (uint64_t)((int64_t)first + off) : 0);
		if (counter_get32(&t->snap_valid[k]))
			write_fields(w, "kernel", &t->snap[k], kstate_fields, NFIELDS(kstate_fields), off);
		json_w_object_end(w);
	}
	json_w_array_end(w);
	write_hist(w, "connect_us", &t->connect_us);
	write_hist(w, "rtt_us", &t->rtt_us);
	if (m->lat)
		write_lat(w, m->lat, off);
	json_w_object_end(w);
}

/* ---- reader ---- */

struct fields_rd {
	void *base;
	const struct field *f;
	size_t n;
	uint64_t seen;                   /* bit i: f[i] was read */
};

static int read_u64(struct json_r *j, uint64_t *v)
{
	bool whole = false;

	if (!json_r_at_number(j))
		return json_r_fail(j, "expected a whole number");
	if (json_r_number(j, v, &whole) < 0)
		return -1;
	return whole ? 0 : json_r_fail(j, "expected a whole number >= 0");
}

static int read_field(struct json_r *j, const struct field *f, void *p)
{
	uint64_t v = 0;
	bool b;

	if (f->type == F_BOOL) {
		if (json_r_bool(j, &b) < 0)
			return -1;
		*(bool *)p = b;
		return 0;
	}
	if (read_u64(j, &v) < 0)
		return -1;
	switch (f->type) {
	case F_U64: *(uint64_t *)p = v; return 0;
	case F_AU64: case F_ATIME: counter_set((_Atomic uint64_t *)p, v); return 0;
	default: break;
	}
	if (v > (f->type == F_INT || f->type == F_AI32 ? (uint64_t)INT32_MAX : UINT32_MAX))
		return json_r_fail(j, "number out of range");
	switch (f->type) {
	case F_U32: *(uint32_t *)p = (uint32_t)v; break;
	case F_UNS: *(unsigned *)p = (unsigned)v; break;
	case F_INT: *(int *)p = (int)v; break;
	case F_AU32: counter_set32((_Atomic uint32_t *)p, (uint32_t)v); break;
	default: counter_set_i32((_Atomic int32_t *)p, (int32_t)v); break;
	}
	return 0;
}

static int fields_member(struct json_r *j, const char *key, void *arg)
{
	struct fields_rd *rd = arg;
	size_t i;

	for (i = 0; i < rd->n; i++)
		if (strcmp(rd->f[i].key, key) == 0)
			break;
	if (i == rd->n)
		return json_r_skip(j);   /* a newer writer's field */
	rd->seen |= UINT64_C(1) << i;
	return read_field(j, &rd->f[i], (void *)((char *)rd->base + rd->f[i].off));
}

static int read_fields(struct json_r *j, void *base, const struct field *f, size_t n)
{
	struct fields_rd rd = { base, f, n, 0 };
	char msg[96];
	size_t i;

	if (json_r_object(j, fields_member, &rd) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (!(rd.seen & (UINT64_C(1) << i))) {
			snprintf(msg, sizeof(msg), "no \"%s\" in the state", f[i].key);
			return json_r_fail(j, msg);
		}
	return 0;
}

struct hist_rd {
	struct hist *h;
	uint64_t pair[2];
	unsigned n_pair;
	uint64_t counted;
	unsigned seen;
};

static int bucket_number(struct json_r *j, const char *key, void *arg)
{
	struct hist_rd *rd = arg;

	(void)key;
	if (rd->n_pair == 2)
		return json_r_fail(j, "a bucket is [index, count]");
	return read_u64(j, &rd->pair[rd->n_pair++]);
}

static int bucket(struct json_r *j, const char *key, void *arg)
{
	struct hist_rd *rd = arg;

	(void)key;
	rd->n_pair = 0;
	if (!json_r_peek(j, '['))
		return json_r_fail(j, "a bucket is [index, count]");
	if (json_r_array(j, bucket_number, rd) < 0)
		return -1;
	if (rd->n_pair != 2 || rd->pair[0] >= HIST_BUCKETS || rd->pair[1] == 0)
		return json_r_fail(j, "a bucket is [index below the bucket count, count > 0]");
	if (counter_get(&rd->h->counts[rd->pair[0]]) != 0)
		return json_r_fail(j, "a bucket index given twice");
	counter_set(&rd->h->counts[rd->pair[0]], rd->pair[1]);
	rd->counted += rd->pair[1];
	return 0;
}

static int hist_member(struct json_r *j, const char *key, void *arg)
{
	static const char *const keys[] = { "total", "overflow", "sum_us", "min_us", "max_us" };
	struct hist_rd *rd = arg;
	_Atomic uint64_t *dst[] = { &rd->h->total, &rd->h->overflow, &rd->h->sum_us, &rd->h->min_us, &rd->h->max_us };
	uint64_t v = 0;
	unsigned i;

	if (strcmp(key, "buckets") == 0) {
		rd->seen |= 1u << 5;
		return json_r_peek(j, '[') ? json_r_array(j, bucket, rd) : json_r_fail(j, "buckets is not an array");
	}
	for (i = 0; i < 5; i++)
		if (strcmp(key, keys[i]) == 0)
			break;
	if (i == 5)
		return json_r_skip(j);
	if (read_u64(j, &v) < 0)
		return -1;
	counter_set(dst[i], v);
	rd->seen |= 1u << i;
	return 0;
}

static int read_hist(struct json_r *j, struct hist *h)
{
	struct hist_rd rd;

	memset(&rd, 0, sizeof(rd));
	rd.h = h;
	hist_init(h);
	if (!json_r_peek(j, '{'))
		return json_r_fail(j, "a histogram is an object");
	if (json_r_object(j, hist_member, &rd) < 0)
		return -1;
	if (rd.seen != 0x3f)
		return json_r_fail(j, "a histogram needs total, overflow, sum_us, min_us, max_us and buckets");
	if (rd.counted != counter_get(&h->total))
		return json_r_fail(j, "a histogram's buckets do not add up to its total");
	return 0;
}

struct lat_rd {
	struct loadgen_lat *l;
	unsigned seen;
};

static int lat_member(struct json_r *j, const char *key, void *arg)
{
	struct lat_rd *rd = arg;

	if (strcmp(key, "counts") == 0) {
		rd->seen |= 1;
		return read_fields(j, rd->l, lat_fields, NFIELDS(lat_fields));
	}
	if (strcmp(key, "rtt_us") == 0) {
		rd->seen |= 2;
		return read_hist(j, &rd->l->rtt_us);
	}
	if (strcmp(key, "mismatch_note") == 0)
		return json_r_string(j, rd->l->mismatch_note, sizeof(rd->l->mismatch_note), NULL);
	return json_r_skip(j);
}

struct failure_rd {
	struct loadgen_stats *t;
	char kind[32];
	uint64_t count, first;
	struct kstate snap;
	bool have_snap;
	unsigned seen;
};

static int failure_member(struct json_r *j, const char *key, void *arg)
{
	struct failure_rd *rd = arg;

	if (strcmp(key, "kind") == 0) {
		rd->seen |= 1;
		return json_r_string(j, rd->kind, sizeof(rd->kind), NULL);
	}
	if (strcmp(key, "count") == 0) {
		rd->seen |= 2;
		return read_u64(j, &rd->count);
	}
	if (strcmp(key, "first_ns") == 0) {
		rd->seen |= 4;
		return read_u64(j, &rd->first);
	}
	if (strcmp(key, "kernel") == 0) {
		rd->have_snap = true;
		return read_fields(j, &rd->snap, kstate_fields, NFIELDS(kstate_fields));
	}
	return json_r_skip(j);
}

static int failure(struct json_r *j, const char *key, void *arg)
{
	struct failure_rd rd;
	enum diag_kind k;

	(void)key;
	memset(&rd, 0, sizeof(rd));
	rd.t = arg;
	if (!json_r_peek(j, '{'))
		return json_r_fail(j, "a failure is an object");
	if (json_r_object(j, failure_member, &rd) < 0)
		return -1;
	if (rd.seen != 7)
		return json_r_fail(j, "a failure needs kind, count and first_ns");
	k = diag_kind_from_name(rd.kind);
	if (k >= DIAG_KIND_COUNT)
		return json_r_fail(j, "a failure kind this client does not know (a newer writer?)");
	if (counter_get(&rd.t->failures[k]) != 0)
		return json_r_fail(j, "a failure kind given twice");
	counter_set(&rd.t->failures[k], rd.count);
	counter_set(&rd.t->first_fail_ns[k], rd.first);
	if (rd.have_snap) {
		rd.t->snap[k] = rd.snap;
		counter_set32(&rd.t->snap_valid[k], 1);
	}
	return 0;
}

struct state_rd {
	struct state_report *r;
	unsigned seen;                   /* bits: format, meta, counts, failures, connect_us, rtt_us */
	bool in_state;
};

static int string_into(struct json_r *j, char *out, size_t len)
{
	if (!json_r_peek(j, '"'))
		return json_r_fail(j, "expected a string");
	return json_r_string(j, out, len, NULL);
}

/* "sources_first": an address of either family, or "" for none. */
static int sources_first(struct json_r *j, struct addr_ip *out)
{
	char text[ADDR_STRLEN] = "", why[128];   /* "" for the analyzer: json_r_string fills it */

	if (string_into(j, text, sizeof(text)) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	if (text[0] != '\0' && addr_parse_ip(text, out, why, sizeof(why)) < 0)
		return json_r_fail(j, why);
	return 0;
}

static int state_member(struct json_r *j, const char *key, void *arg)
{
	struct state_rd *rd = arg;
	struct state_report *r = rd->r;
	struct lat_rd lr = { &r->lat, 0 };
	uint64_t format = 0;

	if (strcmp(key, "format") == 0) {
		rd->seen |= 1;
		if (read_u64(j, &format) < 0)
			return -1;
		return format == STATE_FORMAT ? 0 : json_r_fail(j, "a state format this client does not read");
	}
	if (strcmp(key, "meta") == 0) {
		rd->seen |= 2;
		return read_fields(j, &r->meta, meta_fields, NFIELDS(meta_fields));
	}
	if (strcmp(key, "counts") == 0) {
		rd->seen |= 4;
		return read_fields(j, &r->stats, stats_fields, NFIELDS(stats_fields));
	}
	if (strcmp(key, "failures") == 0) {
		rd->seen |= 8;
		return json_r_peek(j, '[') ? json_r_array(j, failure, &r->stats) : json_r_fail(j, "failures is not an array");
	}
	if (strcmp(key, "connect_us") == 0) {
		rd->seen |= 16;
		return read_hist(j, &r->stats.connect_us);
	}
	if (strcmp(key, "rtt_us") == 0) {
		rd->seen |= 32;
		return read_hist(j, &r->stats.rtt_us);
	}
	if (strcmp(key, "limits") == 0) {
		r->has_limits = true;
		return read_fields(j, &r->limits, limits_fields, NFIELDS(limits_fields));
	}
	if (strcmp(key, "lat") == 0) {
		r->meta.lat = &r->lat;
		if (!json_r_peek(j, '{') || json_r_object(j, lat_member, &lr) < 0)
			return json_r_peek(j, '{') ? -1 : json_r_fail(j, "lat is not an object");
		return lr.seen == 3 ? 0 : json_r_fail(j, "lat needs counts and rtt_us");
	}
	if (strcmp(key, "host") == 0)
		return string_into(j, r->meta.host, sizeof(r->meta.host));
	if (strcmp(key, "sources_first") == 0)
		return sources_first(j, &r->meta.sources.first);
	if (strcmp(key, "host_name") == 0)
		return string_into(j, r->meta.host_name, sizeof(r->meta.host_name));
	if (strcmp(key, "hostname") == 0)
		return string_into(j, r->meta.hostname, sizeof(r->meta.hostname));
	if (strcmp(key, "kernel") == 0)
		return string_into(j, r->meta.kernel, sizeof(r->meta.kernel));
	if (strcmp(key, "problems") == 0)
		return string_into(j, r->meta.problems, sizeof(r->meta.problems));
	return json_r_skip(j);
}

static int top_member(struct json_r *j, const char *key, void *arg)
{
	struct state_rd *rd = arg;

	if (strcmp(key, "state") != 0)
		return json_r_skip(j);
	if (!json_r_peek(j, '{'))
		return json_r_fail(j, "state is not an object");
	rd->in_state = true;
	return json_r_object(j, state_member, rd);
}

int state_parse(const char *text, size_t len, struct state_report *r, char *err, size_t errlen)
{
	struct state_rd rd = { r, 0, false };
	struct json_r j;

	memset(r, 0, sizeof(*r));
	loadgen_stats_init_sum(&r->stats);
	loadgen_lat_init(&r->lat);
	json_r_init(&j, text, len, "report", err, errlen);
	json_r_ws(&j);
	if (!json_r_peek(&j, '{'))
		return json_r_fail(&j, "not a JSON object (a c1m-client --json report?)");
	if (json_r_object(&j, top_member, &rd) < 0 || json_r_end(&j) < 0)
		return -1;
	if (!rd.in_state) {
		snprintf(err, errlen, "report: no \"state\" (written by a c1m-client without --merge support?)");
		return -1;
	}
	if (rd.seen != 0x3f) {
		snprintf(err, errlen, "report: its state lacks format, meta, counts, failures or a histogram");
		return -1;
	}
	if (r->meta.sources.count && r->meta.sources.first.family == 0) {
		snprintf(err, errlen, "report: its state has %u sources but no \"sources_first\"", r->meta.sources.count);
		return -1;
	}
	if (r->has_limits)
		r->meta.limits = &r->limits;
	return 0;
}
