/* A report's state, written and read back with the same field tables (see state.h). */
#include "client/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/sched.h"
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
	FLD(report_meta, reply_timeout_ms, F_UNS), FLD(report_meta, slo_ms, F_UNS),
	FLD(report_meta, send_window_ms, F_UNS), { "was_find_max", offsetof(struct report_meta, find_max), F_BOOL },
	{ "was_sweep", offsetof(struct report_meta, sweep), F_BOOL }, FLD(report_meta, cpus, F_UNS), FLD(report_meta, start_late_ns, F_U64),
	FLD(report_meta, cpus_pinned, F_BOOL), FLD(report_meta, step, F_U64), FLD(report_meta, tls, F_BOOL),
	FLD(report_meta, tls_insecure, F_BOOL),
};

/* What a step's row holds beyond its results (the rest of the row is judged again from them). */
static const struct field step_fields[] = {
	FLD(findmax_row, conns, F_U64), FLD(findmax_row, msg_rate, F_U64), FLD(findmax_row, conn_failures, F_U64),
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

/* The fleet's step in a shard's done line. */
static const struct field step_line_fields[] = {
	FLD(state_step, step, F_U32), FLD(state_step, shard_k, F_UNS), FLD(state_step, shard_m, F_UNS),
	FLD(state_step, fleet_conns, F_U64), FLD(state_step, fleet_rate, F_U64), FLD(state_step, duration_ms, F_U64),
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
	/* the protocol, and what it saw of the server: failing statuses by code, the first bad reply */
	json_w_string(w, "proto", proto_name(m->proto));
	json_w_u64(w, "msg_bytes", m->msg_bytes);
	json_w_array_begin(w, "codes");
	for (k = 0; k < LOADGEN_CODES; k++) {
		if (counter_get32(&t->codes.code[k]) == 0)
			continue;
		json_w_array_begin(w, NULL);
		json_w_u64(w, NULL, counter_get32(&t->codes.code[k]));
		json_w_u64(w, NULL, counter_get(&t->codes.count[k]));
		json_w_array_end(w);
	}
	json_w_array_end(w);
	json_w_u64(w, "codes_other", counter_get(&t->codes.other));
	json_w_string(w, "proto_note", counter_acquire32(&t->note_set) ? t->proto_note : "");
	json_w_string(w, "tls_ca", m->tls_ca);
	json_w_string(w, "tls_sni", m->tls_sni);
	json_w_string(w, "tls_name", m->tls_name);
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
	json_w_string(w, "stop", findmax_stop_name(m->stop));
	json_w_array_begin(w, "rates");
	for (k = 0; m->sweep && k < m->n_rates; k++)
		json_w_u64(w, NULL, m->rates[k]);
	json_w_array_end(w);
	if (m->step_lats) {
		json_w_array_begin(w, "steps");   /* each step: its row's inputs and its results */
		for (k = 0; k < m->n_steps; k++) {
			json_w_object_begin(w, NULL);
			write_fields(w, "row", &m->steps[k], step_fields, NFIELDS(step_fields), off);
			write_lat(w, &m->step_lats[k], off);
			json_w_object_end(w);
		}
		json_w_array_end(w);
	}
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

static int string_into(struct json_r *j, char *out, size_t len)
{
	if (!json_r_peek(j, '"'))
		return json_r_fail(j, "expected a string");
	return json_r_string(j, out, len, NULL);
}

/* "lat": {"counts": ..., "rtt_us": ...} into l. */
static int read_lat(struct json_r *j, struct loadgen_lat *l)
{
	struct lat_rd lr = { l, 0 };

	if (!json_r_peek(j, '{'))
		return json_r_fail(j, "lat is not an object");
	if (json_r_object(j, lat_member, &lr) < 0)
		return -1;
	return lr.seen == 3 ? 0 : json_r_fail(j, "lat needs counts and rtt_us");
}

struct step_rd {
	struct state_report *r;
	unsigned seen;
};

static int step_member(struct json_r *j, const char *key, void *arg)
{
	struct step_rd *rd = arg;
	unsigned i = rd->r->meta.n_steps;

	if (strcmp(key, "row") == 0) {
		rd->seen |= 1;
		return read_fields(j, &rd->r->rows[i], step_fields, NFIELDS(step_fields));
	}
	if (strcmp(key, "lat") == 0) {
		rd->seen |= 2;
		return read_lat(j, &rd->r->step_lat[i]);
	}
	return json_r_skip(j);
}

static int step(struct json_r *j, const char *key, void *arg)
{
	struct step_rd rd = { arg, 0 };

	(void)key;
	if (rd.r->meta.n_steps == FINDMAX_MAX_STEPS)
		return json_r_fail(j, "more steps than a run has");
	if (!json_r_peek(j, '{'))
		return json_r_fail(j, "a step is an object");
	loadgen_lat_init(&rd.r->step_lat[rd.r->meta.n_steps]);
	if (json_r_object(j, step_member, &rd) < 0)
		return -1;
	if (rd.seen != 3)
		return json_r_fail(j, "a step needs row and lat");
	rd.r->meta.n_steps++;
	return 0;
}

static int rate(struct json_r *j, const char *key, void *arg)
{
	struct state_report *r = arg;

	(void)key;
	if (r->meta.n_rates == FINDMAX_MAX_STEPS)
		return json_r_fail(j, "more rates than a sweep has");
	if (read_u64(j, &r->rates[r->meta.n_rates]) < 0)
		return -1;
	if (r->rates[r->meta.n_rates] == 0 || (r->meta.n_rates && r->rates[r->meta.n_rates] <= r->rates[r->meta.n_rates - 1]))
		return json_r_fail(j, "a sweep's rates are > 0 and increasing");
	r->meta.n_rates++;
	return 0;
}

struct code_rd {
	uint64_t v[2];                   /* code, count */
	unsigned n;
};

/* One [code, count] of the failing statuses. */
static int code_pair(struct json_r *j, const char *key, void *arg)
{
	struct code_rd *rd = arg;

	(void)key;
	if (rd->n == 2)
		return json_r_fail(j, "a status code entry is [code, count]");
	if (read_u64(j, &rd->v[rd->n]) < 0)
		return -1;
	rd->n++;
	return 0;
}

static int code_entry(struct json_r *j, const char *key, void *arg)
{
	struct loadgen_stats *t = arg;
	struct code_rd rd = { { 0, 0 }, 0 };

	(void)key;
	if (!json_r_peek(j, '['))
		return json_r_fail(j, "a status code entry is [code, count]");
	if (json_r_array(j, code_pair, &rd) < 0)
		return -1;
	if (rd.n != 2 || rd.v[0] == 0 || rd.v[0] > UINT32_MAX || rd.v[1] == 0)
		return json_r_fail(j, "a status code entry is [code > 0, count > 0]");
	loadgen_codes_add(&t->codes, (unsigned)rd.v[0], rd.v[1]);
	return 0;
}

static int proto_member(struct json_r *j, struct state_report *r)
{
	char name[16] = "";

	if (string_into(j, name, sizeof(name)) < 0)
		return -1;
	return proto_from_name(name, &r->meta.proto) < 0 ? json_r_fail(j, "a protocol this client does not know") : 0;
}

static int stop_name(struct json_r *j, enum findmax_stop *out)
{
	char name[32] = "";

	if (string_into(j, name, sizeof(name)) < 0)
		return -1;
	return findmax_stop_parse(name, out) == 0 ? 0 : json_r_fail(j, "a stop reason this client does not know");
}

struct state_rd {
	struct state_report *r;
	unsigned seen;                   /* bits: format, meta, counts, failures, connect_us, rtt_us, stop, rates,
	                                    proto */
	bool in_state;
};

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
		return read_lat(j, &r->lat);
	}
	if (strcmp(key, "stop") == 0) {
		rd->seen |= 64;
		return stop_name(j, &r->meta.stop);
	}
	if (strcmp(key, "rates") == 0) {
		rd->seen |= 128;
		return json_r_peek(j, '[') ? json_r_array(j, rate, r) : json_r_fail(j, "rates is not an array");
	}
	if (strcmp(key, "steps") == 0) {
		if (r->meta.step_lats)
			return json_r_fail(j, "steps given twice");
		r->meta.step_lats = r->step_lat;
		return json_r_peek(j, '[') ? json_r_array(j, step, r) : json_r_fail(j, "steps is not an array");
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
	if (strcmp(key, "tls_ca") == 0)
		return string_into(j, r->meta.tls_ca, sizeof(r->meta.tls_ca));
	if (strcmp(key, "tls_sni") == 0)
		return string_into(j, r->meta.tls_sni, sizeof(r->meta.tls_sni));
	if (strcmp(key, "tls_name") == 0)
		return string_into(j, r->meta.tls_name, sizeof(r->meta.tls_name));
	if (strcmp(key, "proto") == 0) {
		rd->seen |= 256;
		return proto_member(j, r);
	}
	if (strcmp(key, "msg_bytes") == 0) {
		uint64_t v = 0;   /* read_u64 sets it when it returns 0; the analyzer cannot see that */

		if (read_u64(j, &v) < 0)
			return -1;
		if (v > PROTO_MSG_MAX)
			return json_r_fail(j, "msg_bytes is larger than a message can be");
		r->meta.msg_bytes = (size_t)v;
		return 0;
	}
	if (strcmp(key, "codes") == 0)
		return json_r_peek(j, '[') ? json_r_array(j, code_entry, &r->stats) : json_r_fail(j, "codes is not an array");
	if (strcmp(key, "codes_other") == 0) {
		uint64_t v = 0;   /* read_u64 sets it when it returns 0; the analyzer cannot see that */

		if (read_u64(j, &v) < 0)
			return -1;
		counter_set(&r->stats.codes.other, v);
		return 0;
	}
	if (strcmp(key, "proto_note") == 0) {
		if (string_into(j, r->stats.proto_note, sizeof(r->stats.proto_note)) < 0)
			return -1;
		counter_set32(&r->stats.note_set, r->stats.proto_note[0] != '\0');
		return 0;
	}
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

/* Each step's row judged again from its results, as the writer's coordinator judged it. */
static void steps_judge(struct state_report *r)
{
	const struct report_meta *m = &r->meta;
	struct findmax_row *row;
	unsigned i;

	for (i = 0; i < m->n_steps; i++) {
		row = &r->rows[i];
		report_step_row(&r->step_lat[i], row->conns, row->msg_rate, sched_total(row->msg_rate, m->duration_ms),
				row->conn_failures, m->slo_ms, row);
	}
	r->meta.steps = r->rows;
	r->meta.rates = r->rates;
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
	if (rd.seen != 0x1ff) {
		snprintf(err, errlen, "report: its state lacks format, meta, counts, failures, a histogram, stop, rates "
			 "or proto");
		return -1;
	}
	if (r->meta.sweep != (r->meta.n_rates > 1)) {
		snprintf(err, errlen, "report: its state has %s", r->meta.sweep ? "a sweep without two rates or more" :
			 "rates without a sweep");
		return -1;
	}
	if ((r->meta.sweep || r->meta.find_max) && !r->meta.step_lats) {
		snprintf(err, errlen, "report: its state has a %s without its steps", r->meta.sweep ? "sweep" : "find-max");
		return -1;
	}
	steps_judge(r);
	if (r->meta.sources.count && r->meta.sources.first.family == 0) {
		snprintf(err, errlen, "report: its state has %u sources but no \"sources_first\"", r->meta.sources.count);
		return -1;
	}
	if (r->has_limits)
		r->meta.limits = &r->limits;
	return 0;
}

/* ---- a shard's done line ---- */

int state_format_step(const struct state_step *s, int64_t wall_offset_ns, char *buf, size_t len)
{
	struct json_w w;
	int r;

	json_w_init(&w, buf, len);
	json_w_object_begin(&w, NULL);
	write_fields(&w, "step", s, step_line_fields, NFIELDS(step_line_fields), wall_offset_ns);
	write_fields(&w, "row", &s->row, step_fields, NFIELDS(step_fields), wall_offset_ns);
	write_lat(&w, &s->lat, wall_offset_ns);
	json_w_object_end(&w);
	r = json_w_finish(&w);
	return r < 0 || (size_t)r >= len ? -1 : r;
}

struct step_line_rd {
	struct state_step *s;
	unsigned seen;
};

static int step_line_member(struct json_r *j, const char *key, void *arg)
{
	struct step_line_rd *rd = arg;

	if (strcmp(key, "step") == 0) {
		rd->seen |= 1;
		return read_fields(j, rd->s, step_line_fields, NFIELDS(step_line_fields));
	}
	if (strcmp(key, "row") == 0) {
		rd->seen |= 2;
		return read_fields(j, &rd->s->row, step_fields, NFIELDS(step_fields));
	}
	if (strcmp(key, "lat") == 0) {
		rd->seen |= 4;
		return read_lat(j, &rd->s->lat);
	}
	return json_r_skip(j);
}

int state_parse_step(const char *text, size_t len, struct state_step *s, char *err, size_t errlen)
{
	struct step_line_rd rd = { s, 0 };
	struct json_r j;

	memset(s, 0, sizeof(*s));
	loadgen_lat_init(&s->lat);
	json_r_init(&j, text, len, "step", err, errlen);
	json_r_ws(&j);
	if (!json_r_peek(&j, '{'))
		return json_r_fail(&j, "not a JSON object (a c1m-shard done line's?)");
	if (json_r_object(&j, step_line_member, &rd) < 0 || json_r_end(&j) < 0)
		return -1;
	if (rd.seen != 7) {
		snprintf(err, errlen, "step: it lacks step, row or lat");
		return -1;
	}
	if (s->step == 0 || s->step > FINDMAX_MAX_STEPS || s->shard_m == 0 || s->shard_k == 0 ||
	    s->shard_k > s->shard_m) {
		snprintf(err, errlen, "step: step %u of shard %u/%u is not a step of a shard", s->step, s->shard_k,
			 s->shard_m);
		return -1;
	}
	return 0;
}
