/* Models the limits that cap concurrent TCP connections against a plan. The model is deliberately
 * simple and shows its arithmetic: each check turns one limit into a capacity (how many connections it
 * allows), the lowest capacity is the ceiling, and the check that owns it is the binding limit. Checks
 * that cap nothing directly (backlogs, systemd defaults, listener migration) only warn. Every fix is one
 * line a person can paste: a sysctl, a limits.conf line, a systemd directive or a c1m flag. A value the
 * reader found absent (common/sys/limits_read.c) yields a check that says so and caps nothing. A
 * conntrack table with no entries reads as idle (see limits_read.c), so its note says what to set when
 * it starts tracking. */
#include "common/model/limits.h"
#include "common/model/limits_int.h"
#include "common/model/balancer.h"
#include "common/model/capacity.h"
#include "common/util/sbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define BUCKET_CHAIN_WARN 8  /* average conntrack hash chain length worth a warning */

/* ---------- small helpers ---------- */

uint64_t limits_div_ceil(uint64_t a, uint64_t b)
{
	return b == 0 ? UINT64_MAX : a / b + (a % b != 0);
}

uint64_t limits_sat_mul(uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

uint64_t limits_sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---------- pure model ---------- */

unsigned limits_fds_per_process(const struct limits_values *v)
{
	struct capacity c;
	char err[LIMITS_ERR_LEN];

	(void)capacity_plan(CAPACITY_CLIENT, v->nofile_hard, 0, 0, &c, err, sizeof(err));
	return c.budget;
}

uint64_t limits_port_range_width(const struct limits_values *v)
{
	return v->port_hi >= v->port_lo ? (uint64_t)v->port_hi - v->port_lo + 1 : 0;
}

unsigned limits_sources_needed(uint64_t target, unsigned dst_addrs, unsigned ports,
			       const struct limits_values *v)
{
	uint64_t per_source = limits_sat_mul(limits_sat_mul(dst_addrs ? dst_addrs : 1, ports ? ports : 1),
				      limits_port_range_width(v));
	uint64_t s;

	if (per_source == 0)
		return UINT32_MAX;
	s = limits_div_ceil(target, per_source);
	if (s == 0)
		s = 1;
	return s > UINT32_MAX ? UINT32_MAX : (unsigned)s;
}

/* Appends a check and returns it for the caller to fill; the last slot is reused rather than
 * overflowing (LIMITS_MAX_CHECKS leaves room for every check this file makes). */
struct limits_check *limits_add_check(struct limits_report *r, const char *name)
{
	struct limits_check *c;

	if (r->n_checks < LIMITS_MAX_CHECKS)
		r->n_checks++;
	c = &r->checks[r->n_checks - 1];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->verdict = LIMITS_OK;
	c->capacity = LIMITS_UNLIMITED;
	c->needed_value = LIMITS_NO_VALUE;
	return c;
}

void limits_set_sysctl(struct limits_check *c, const char *key)
{
	snprintf(c->sysctl, sizeof(c->sysctl), "%s", key);
}

void limits_recommend_u64(struct limits_check *c, uint64_t v)
{
	snprintf(c->recommended, sizeof(c->recommended), "%" PRIu64, v);
}

/* The fix writes what the check recommends, so the table, the JSON and tuning/apply say one value;
 * multi-value keys are quoted for the shell. */
void limits_fix_recommended(struct limits_check *c)
{
	const char *q = strchr(c->recommended, ' ') != NULL ? "\"" : "";

	snprintf(c->fix, sizeof(c->fix), "sysctl -w %s=%s%s%s", c->sysctl, q, c->recommended, q);
}

/* The worker counts come from capacity_plan, the one function --workers auto in the servers and the client
 * call too, under the hard limit (c1m raises its soft limit to it at start): a server side is planned at
 * CAPACITY_SERVER_FILL_PCT of its budget, a client side at all of it. A fixed --workers runs that many. */
static void model_init(struct limits_model *m, const struct limits_plan *p, const struct limits_values *v,
		       struct limits_report *r)
{
	memset(m, 0, sizeof(*m));
	m->server = p->role != LIMITS_ROLE_CLIENT;
	m->client = p->role != LIMITS_ROLE_SERVER;
	m->n = p->target;
	m->ports = p->ports ? p->ports : 1;
	m->sides = (unsigned)m->server + (unsigned)m->client;
	m->sockets_per_conn = m->sides;
	m->user_bytes = p->user_bytes_per_conn ? p->user_bytes_per_conn : LIMITS_USER_CONN_BYTES;
	m->tls_bytes = m->client && p->client_tls ? LIMITS_CLIENT_TLS_BYTES : 0;
	if (m->server) {
		m->srv_ok = capacity_plan(CAPACITY_SERVER, v->nofile_hard, m->ports, m->n, &m->srv, m->srv_err,
					  sizeof(m->srv_err)) == 0;
		r->workers_server = m->srv.workers;
		m->w_srv = p->workers ? p->workers : r->workers_server;
		m->pp_need = limits_div_ceil(m->n, m->w_srv) + m->ports + CAPACITY_FD_RESERVE;
	}
	if (m->client) {
		uint64_t need;

		m->cli_ok = capacity_plan(CAPACITY_CLIENT, v->nofile_hard, m->ports, m->n, &m->cli, m->cli_err,
					  sizeof(m->cli_err)) == 0;
		r->workers_client = m->cli.workers;
		m->w_cli = p->workers ? p->workers : r->workers_client;
		need = limits_div_ceil(m->n, m->w_cli) + CAPACITY_FD_RESERVE;
		if (need > m->pp_need)
			m->pp_need = need;
	}
	r->workers_needed = r->workers_server > r->workers_client ? r->workers_server : r->workers_client;
}

static void check_nofile_soft(const struct limits_values *v, const struct limits_model *m, struct limits_report *r)
{
	struct limits_check *c = limits_add_check(r, "nofile.soft");
	char a[32], b[32];

	c->needed_value = m->pp_need;
	snprintf(c->current, sizeof(c->current), "%s", limits_commas(v->nofile_soft, a, sizeof(a)));
	snprintf(c->needed, sizeof(c->needed), "%s per process", limits_commas(m->pp_need, a, sizeof(a)));
	if (v->nofile_soft < m->pp_need) {
		uint64_t to = v->nofile_hard < m->pp_need ? v->nofile_hard : m->pp_need;

		c->verdict = LIMITS_WARN;
		snprintf(c->fix, sizeof(c->fix), "ulimit -n %" PRIu64, to);
		snprintf(c->note, sizeof(c->note),
		         "c1m raises the soft limit to the hard limit (%s) at start; other programs need ulimit -n",
		         limits_commas(v->nofile_hard, b, sizeof(b)));
	}
}

/* capacity_plan refused a side: the hard limit leaves no socket per process, or N needs more than
 * WORKERS_MAX processes. The fix asks for the hard limit that runs the plan: one process for all N when no
 * socket is left (as HAProxy asks for maxconn plus its reserve), else the smallest that fits N into
 * WORKERS_MAX processes. */
static void check_nofile_refused(const struct limits_model *m, struct limits_check *c)
{
	uint64_t per = limits_div_ceil(m->n, WORKERS_MAX), want = 0, cap = LIMITS_UNLIMITED;
	bool none = false;

	if (m->server && !m->srv_ok) {
		none = m->srv.budget == 0;
		want = (none ? m->n : limits_div_ceil(per * 100, CAPACITY_SERVER_FILL_PCT)) + m->ports;
		cap = limits_sat_mul(WORKERS_MAX, m->srv.fill);
	}
	if (m->client && !m->cli_ok) {
		uint64_t w = m->cli.budget == 0 ? m->n : per;

		none = none || m->cli.budget == 0;
		if (w > want)
			want = w;
		if (limits_sat_mul(WORKERS_MAX, m->cli.fill) < cap)
			cap = limits_sat_mul(WORKERS_MAX, m->cli.fill);
	}
	want += CAPACITY_FD_RESERVE;
	c->verdict = LIMITS_FAIL;
	c->capacity = none ? 0 : cap;
	c->needed_value = want;
	if (none)
		snprintf(c->needed, sizeof(c->needed), "> %u fds per process",
		         (m->server ? m->ports : 0) + CAPACITY_FD_RESERVE);
	else
		snprintf(c->needed, sizeof(c->needed), "%" PRIu64 " fds x %u workers", want, (unsigned)WORKERS_MAX);
	snprintf(c->fix, sizeof(c->fix), "* hard nofile %" PRIu64, capacity_round_pow2(want));
	snprintf(c->note, sizeof(c->note), "%s", m->server && !m->srv_ok ? m->srv_err : m->cli_err);
}

/* --workers auto: the plan runs as many processes as the limit demands, so the limit costs processes, not
 * connections. */
static void check_nofile_auto(const struct limits_values *v, const struct limits_model *m, struct limits_report *r,
			      struct limits_check *c)
{
	unsigned w = r->workers_needed;
	struct sbuf sb;
	char a[32], b[32];

	if (m->server && m->client)
		snprintf(c->needed, sizeof(c->needed), "%u+%u workers x %s fds", r->workers_server,
		         r->workers_client, limits_commas(m->pp_need, a, sizeof(a)));
	else
		snprintf(c->needed, sizeof(c->needed), "%u worker%s x %s fds", w, w == 1 ? "" : "s",
		         limits_commas(m->pp_need, a, sizeof(a)));
	if (w <= 1)
		return;
	c->verdict = LIMITS_WARN;
	snprintf(c->fix, sizeof(c->fix), "--workers %u", w);
	sbuf_init(&sb, c->note, sizeof(c->note));
	sbuf_printf(&sb, "one %s process holds at most %s connections (hard limit %s%s)", m->server ? "server" : "client",
		    limits_commas(m->server ? m->srv.budget : m->cli.budget, a, sizeof(a)),
		    limits_commas(v->nofile_hard, b, sizeof(b)), v->nofile_hard_raisable ? "" : ", cannot be raised here");
	if (m->server)
		sbuf_printf(&sb, ", auto plans %s (%u%%)", limits_commas(m->srv.fill, a, sizeof(a)),
			    CAPACITY_SERVER_FILL_PCT);
	if (m->server && m->client)
		sbuf_printf(&sb, "; N needs %u server + %u client processes", r->workers_server, r->workers_client);
	else
		sbuf_printf(&sb, "; N needs %u processes", w);
}

/* A fixed worker count: the limit caps connections at workers x budget per process. */
static void check_nofile_fixed(const struct limits_plan *p, const struct limits_values *v, const struct limits_model *m,
			       struct limits_report *r, struct limits_check *c)
{
	uint64_t cap = LIMITS_UNLIMITED, pow = capacity_round_pow2(m->pp_need);
	char a[32], b[32];

	if (m->server)
		cap = limits_sat_mul(m->w_srv, m->srv.budget);
	if (m->client && limits_sat_mul(m->w_cli, m->cli.budget) < cap)
		cap = limits_sat_mul(m->w_cli, m->cli.budget);
	c->capacity = cap;
	snprintf(c->needed, sizeof(c->needed), "%s per process (%u worker%s)",
	         limits_commas(m->pp_need, a, sizeof(a)), p->workers, p->workers == 1 ? "" : "s");
	if (m->pp_need <= v->nofile_hard)
		return;
	c->verdict = LIMITS_FAIL;
	snprintf(c->fix, sizeof(c->fix), "--workers %u", r->workers_needed);
	if (v->nofile_hard_raisable)
		snprintf(c->note, sizeof(c->note),
		         "or raise it: '* hard nofile %" PRIu64 "' in /etc/security/limits.conf (LimitNOFILE=%" PRIu64
		         " under systemd)", pow, pow);
	else
		snprintf(c->note, sizeof(c->note),
		         "the hard limit %s cannot be raised here (no CAP_SYS_RESOURCE): use %u workers per side",
		         limits_commas(v->nofile_hard, b, sizeof(b)), r->workers_needed);
}

static void check_nofile(const struct limits_plan *p, const struct limits_values *v,
			 const struct limits_model *m, struct limits_report *r)
{
	struct limits_check *c;
	char a[32];

	check_nofile_soft(v, m, r);
	c = limits_add_check(r, "nofile.hard");
	c->needed_value = m->pp_need;
	snprintf(c->current, sizeof(c->current), "%s%s", limits_commas(v->nofile_hard, a, sizeof(a)),
	         v->nofile_hard_raisable ? "" : " (fixed)");
	/* A fixed count may still fit where auto (at its fill) needs too many processes; no socket left fits
	 * nothing. */
	if ((m->server && m->srv.budget == 0) || (m->client && m->cli.budget == 0) ||
	    (p->workers == 0 && ((m->server && !m->srv_ok) || (m->client && !m->cli_ok))))
		check_nofile_refused(m, c);
	else if (p->workers == 0)
		check_nofile_auto(v, m, r, c);
	else
		check_nofile_fixed(p, v, m, r, c);
}

static void check_nr_open(const struct limits_values *v, const struct limits_model *m, struct limits_report *r)
{
	struct limits_check *c = limits_add_check(r, "fs.nr_open");
	char a[32];

	limits_set_sysctl(c, "fs.nr_open");
	c->needed_value = m->pp_need;
	snprintf(c->current, sizeof(c->current), "%s", limits_commas(v->nr_open, a, sizeof(a)));
	snprintf(c->needed, sizeof(c->needed), "%s per process", limits_commas(m->pp_need, a, sizeof(a)));
	limits_recommend_u64(c, capacity_round_pow2(m->pp_need));
	if (v->nr_open < m->pp_need) {
		c->verdict = LIMITS_FAIL;
		c->capacity = 0;
		if (v->nr_open > m->ports + CAPACITY_FD_RESERVE) {
			uint64_t per = v->nr_open - CAPACITY_FD_RESERVE - (m->server ? m->ports : 0);
			uint64_t w = m->server ? m->w_srv : m->w_cli;

			c->capacity = limits_sat_mul(per, w);
		}
		limits_fix_recommended(c);
		snprintf(c->note, sizeof(c->note), "no process can have a hard limit above fs.nr_open");
	}
}

static void check_file_max(const struct limits_values *v, const struct limits_model *m, struct limits_report *r)
{
	struct limits_check *c = limits_add_check(r, "fs.file-max");
	uint64_t listeners = m->server ? (uint64_t)m->ports * m->w_srv : 0;
	uint64_t sockets = limits_sat_add(limits_sat_mul(m->n, m->sockets_per_conn), listeners);
	uint64_t need = limits_sat_add(v->file_nr_used, sockets);
	uint64_t used = limits_sat_add(v->file_nr_used, listeners);
	char a[32], b[32];

	limits_set_sysctl(c, "fs.file-max");
	c->needed_value = need;
	snprintf(c->current, sizeof(c->current), "%s (%s in use)", limits_commas(v->file_max, a, sizeof(a)),
	         limits_commas(v->file_nr_used, b, sizeof(b)));
	snprintf(c->needed, sizeof(c->needed), "%s", limits_commas(need, a, sizeof(a)));
	c->capacity = v->file_max > used ? (v->file_max - used) / m->sockets_per_conn : 0;
	limits_recommend_u64(c, capacity_round_pow2(need));
	if (need > v->file_max) {
		c->verdict = LIMITS_FAIL;
		limits_fix_recommended(c);
		snprintf(c->note, sizeof(c->note), "system-wide fd limit; connect/accept fail with ENFILE");
	}
}

static void check_ports(const struct limits_plan *p, const struct limits_values *v,
			const struct limits_model *m, struct limits_report *r)
{
	struct limits_check *c;
	unsigned src = p->sources ? p->sources : 1, dst = p->dst_addrs ? p->dst_addrs : 1;
	uint64_t width = limits_port_range_width(v);
	uint64_t cap = limits_sat_mul(limits_sat_mul(limits_sat_mul(src, dst), m->ports), width);
	char a[32], b[32];

	r->sources_needed = limits_sources_needed(m->n, dst, m->ports, v);
	if (!m->client)
		return;
	c = limits_add_check(r, "ports.4tuple");
	limits_set_sysctl(c, "net.ipv4.ip_local_port_range");
	/* In the range's own unit: local ports each (source, destination address, port) must offer. The
	 * same for IPv6, whose connects take their ports from this net.ipv4 key too. */
	c->needed_value = limits_div_ceil(m->n, limits_sat_mul(limits_sat_mul(src, dst), m->ports));
	snprintf(c->current, sizeof(c->current), "%s (%ux%ux%ux%s)", limits_commas(cap, a, sizeof(a)), src, dst,
	         m->ports, limits_commas(width, b, sizeof(b)));
	snprintf(c->needed, sizeof(c->needed), "%s", limits_commas(m->n, a, sizeof(a)));
	c->capacity = cap;
	/* The range stays when it offers each tuple enough ports (or is already the widest); otherwise the
	 * whole unprivileged range. Past that only more sources or ports help: the fix. */
	if (width >= c->needed_value || (v->port_lo <= 1024 && v->port_hi == 65535))
		snprintf(c->recommended, sizeof(c->recommended), "%u %u", v->port_lo, v->port_hi);
	else
		snprintf(c->recommended, sizeof(c->recommended), "1024 65535");
	if (cap < m->n) {
		c->verdict = LIMITS_FAIL;
		snprintf(c->fix, sizeof(c->fix), "--sources %u", r->sources_needed);
		snprintf(c->note, sizeof(c->note),
		         "sources x dst addrs x ports x ip_local_port_range %u-%u; or more server ports, or"
		         " sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"", v->port_lo, v->port_hi);
	}
}

/* The fix leaves room for as many entries again lingering from the previous run (capacity_conntrack_max). */
void limits_check_conntrack_max(struct limits_report *r, const struct limits_values *v, uint64_t n, unsigned flows,
				const char *full_note)
{
	struct limits_check *c = limits_add_check(r, "nf_conntrack_max");
	uint64_t need = limits_sat_mul(n, flows ? flows : 1);
	char a[32], b[32];

	limits_set_sysctl(c, "net.netfilter.nf_conntrack_max");
	c->needed_value = need;
	if (flows > 1)
		snprintf(c->needed, sizeof(c->needed), "%s (%u flows per connection)", limits_commas(need, a, sizeof(a)),
		         flows);
	else
		snprintf(c->needed, sizeof(c->needed), "%s", limits_commas(need, a, sizeof(a)));
	if (!v->conntrack_present) {
		snprintf(c->current, sizeof(c->current), "not loaded");
		snprintf(c->note, sizeof(c->note), "nf_conntrack is not loaded: no connection tracking");
		return;
	}
	snprintf(c->current, sizeof(c->current), "%s (count %s)", limits_commas(v->conntrack_max, a, sizeof(a)),
	         limits_commas(v->conntrack_count, b, sizeof(b)));
	limits_recommend_u64(c, capacity_conntrack_max(need));
	if (!v->conntrack_in_use) {
		snprintf(c->note, sizeof(c->note), "idle (no rule uses it); if one starts tracking: sysctl -w %s=%s",
		         c->sysctl, c->recommended);
		return;
	}
	c->capacity = v->conntrack_max / (flows ? flows : 1);
	if (v->conntrack_max < need) {
		c->verdict = LIMITS_FAIL;
		limits_fix_recommended(c);
		snprintf(c->note, sizeof(c->note), "%s", full_note);
	}
}

static void check_conntrack(const struct limits_values *v, const struct limits_model *m, struct limits_report *r)
{
	struct limits_check *c;
	char a[32];

	/* One entry per connection, also when both ends are on this host over loopback. */
	limits_check_conntrack_max(r, v, m->n, 1,
				   "a full table drops new SYNs: connect() times out (dmesg: nf_conntrack: table full)");
	if (!v->conntrack_present)
		return;
	c = limits_add_check(r, "nf_conntrack_buckets");
	limits_set_sysctl(c, "net.netfilter.nf_conntrack_buckets");
	c->needed_value = limits_div_ceil(m->n, BUCKET_CHAIN_WARN);
	snprintf(c->current, sizeof(c->current), "%s", limits_commas(v->conntrack_buckets, a, sizeof(a)));
	snprintf(c->needed, sizeof(c->needed), ">= %s", limits_commas(limits_div_ceil(m->n, BUCKET_CHAIN_WARN), a, sizeof(a)));
	limits_recommend_u64(c, capacity_conntrack_buckets(m->n));
	if (!v->conntrack_in_use) {
		snprintf(c->note, sizeof(c->note), "idle (no rule uses it)");
	} else if (v->conntrack_buckets == 0 || m->n / v->conntrack_buckets > BUCKET_CHAIN_WARN) {
		c->verdict = LIMITS_WARN;
		limits_fix_recommended(c);
		snprintf(c->note, sizeof(c->note), "long hash chains make every packet's lookup slower");
	}
}

/* One listen queue limit against need connects per listener (0 = the rate is unknown). */
static void check_queue(struct limits_report *r, const char *name, const char *key, bool present, uint64_t now,
			uint64_t need, const char *unknown_note, const char *short_note)
{
	struct limits_check *c = limits_add_check(r, name);
	char a[32];

	limits_set_sysctl(c, key);
	snprintf(c->current, sizeof(c->current), "%s", present ? limits_commas(now, a, sizeof(a)) : "not readable here");
	if (need == 0) {
		snprintf(c->needed, sizeof(c->needed), "rate unknown");
		if (unknown_note != NULL)
			snprintf(c->note, sizeof(c->note), "%s", unknown_note);
		return;
	}
	c->needed_value = need;
	snprintf(c->needed, sizeof(c->needed), "%s per listener", limits_commas(need, a, sizeof(a)));
	if (!present) {
		snprintf(c->note, sizeof(c->note), "%s is hidden in this namespace or container: not checked", key);
		return;
	}
	limits_recommend_u64(c, capacity_round_pow2(need));
	if (now < need) {
		c->verdict = LIMITS_WARN;
		limits_fix_recommended(c);
		snprintf(c->note, sizeof(c->note), "%s", short_note);
	}
}

static void check_backlog(const struct limits_plan *p, const struct limits_values *v,
			  const struct limits_model *m, struct limits_report *r)
{
	uint64_t listeners, need = 0;

	if (!m->server)
		return;
	/* SO_REUSEPORT spreads SYNs over every worker's listener for a port, so each queue sees
	 * rate / (ports x workers); it should absorb LIMITS_BACKLOG_WINDOW_MS of that. */
	listeners = (uint64_t)m->ports * (m->w_srv ? m->w_srv : 1);
	if (p->connect_rate > 0)
		need = limits_div_ceil(limits_div_ceil(limits_sat_mul(p->connect_rate, LIMITS_BACKLOG_WINDOW_MS), 1000), listeners);
	check_queue(r, "somaxconn", "net.core.somaxconn", v->somaxconn_present, v->somaxconn, need,
		    "give --rate to check the accept queue against the connect rate",
		    "accept queue overflows drop SYNs (ListenOverflows): connects stall 1 s, 3 s, ...");
	check_queue(r, "tcp_max_syn_backlog", "net.ipv4.tcp_max_syn_backlog", v->syn_backlog_present,
		    v->syn_backlog, need, NULL, "a full SYN queue falls back to syncookies or drops SYNs");
}

static void check_systemd(const struct limits_values *v, const struct limits_model *m, struct limits_report *r)
{
	struct limits_check *c = limits_add_check(r, "systemd.nofile");
	/* systemd >= 240 defaults services to 1024:524288 when DefaultLimitNOFILE is unset. */
	uint64_t hard = v->systemd_nofile_set ? v->systemd_nofile_hard : 524288;
	char a[32];

	snprintf(c->needed, sizeof(c->needed), "%s per process", limits_commas(m->pp_need, a, sizeof(a)));
	c->needed_value = m->pp_need;
	if (!v->systemd_running) {
		snprintf(c->current, sizeof(c->current), "not running");
		snprintf(c->note, sizeof(c->note), "PID 1 is not systemd: services get no DefaultLimitNOFILE");
		return;
	}
	if (hard == LIMITS_UNLIMITED)
		snprintf(c->current, sizeof(c->current), "infinity");
	else
		snprintf(c->current, sizeof(c->current), "%s%s", limits_commas(hard, a, sizeof(a)),
		         v->systemd_nofile_set ? "" : " (default)");
	if (hard < m->pp_need) {
		c->verdict = LIMITS_WARN;
		snprintf(c->fix, sizeof(c->fix), "LimitNOFILE=%" PRIu64, capacity_round_pow2(m->pp_need));
		snprintf(c->note, sizeof(c->note),
		         "only for c1m started as a systemd service: put it in the unit's [Service]");
	}
}

static void check_migrate(const struct limits_values *v, const struct limits_model *m, struct limits_report *r)
{
	struct limits_check *c;

	if (!m->server)
		return;
	c = limits_add_check(r, "tcp_migrate_req");
	limits_set_sysctl(c, "net.ipv4.tcp_migrate_req");
	if (m->w_srv > 1)
		c->needed_value = 1;
	snprintf(c->needed, sizeof(c->needed), "%s", m->w_srv > 1 ? "1 (workers > 1)" : "any (1 worker)");
	if (!v->tcp_migrate_req_present) {
		snprintf(c->current, sizeof(c->current), "absent");
		snprintf(c->note, sizeof(c->note), "kernel before 5.14: a closed listener's queue is reset");
		if (m->w_srv > 1)
			c->verdict = LIMITS_WARN;
		return;
	}
	snprintf(c->current, sizeof(c->current), "%u", v->tcp_migrate_req);
	if (m->w_srv > 1)
		limits_recommend_u64(c, 1);
	if (m->w_srv > 1 && v->tcp_migrate_req == 0) {
		c->verdict = LIMITS_WARN;
		limits_fix_recommended(c);
		snprintf(c->note, sizeof(c->note),
		         "when a full worker closes its listeners, their queued connections are reset, not migrated");
	}
}

/* A sysctl fix that cannot be written here (machine-wide key seen from a child network namespace, a
 * container's read-only /proc/sys) must be run elsewhere; say so first, the note's reason follows. */
static void note_readonly(const struct limits_values *v, struct limits_report *r)
{
	struct sbuf sb;
	unsigned i;

	for (i = 0; i < r->n_checks; i++) {
		struct limits_check *c = &r->checks[i];
		char old[sizeof(c->note)];

		if (c->sysctl[0] == '\0' || strncmp(c->fix, "sysctl -w ", 10) != 0 ||
		    (v->sysctl_readonly & limits_readonly_bit(c->sysctl)) == 0)
			continue;
		memcpy(old, c->note, sizeof(old));
		/* the reason is cut at the end rather than the instruction at the start */
		sbuf_init(&sb, c->note, sizeof(c->note));
		sbuf_printf(&sb, "read-only here: run the fix in the root namespace or on the host%s%s",
			    old[0] ? "; " : "", old);
	}
}

void limits_finish(const struct limits_values *v, struct limits_report *r)
{
	unsigned i;

	note_readonly(v, r);
	r->ceiling = LIMITS_UNLIMITED;
	for (i = 0; i < r->n_checks; i++) {
		const struct limits_check *c = &r->checks[i];

		if (c->verdict == LIMITS_FAIL)
			r->n_fail++;
		else if (c->verdict == LIMITS_WARN)
			r->n_warn++;
		/* Strictly lower: on a tie the earlier (more fundamental) check binds. */
		if (c->capacity < r->ceiling) {
			r->ceiling = c->capacity;
			snprintf(r->binding, sizeof(r->binding), "%s", c->name);
		}
	}
}

void limits_evaluate(const struct limits_plan *p, const struct limits_values *v, struct limits_report *r)
{
	struct limits_model m;

	if (p->role == LIMITS_ROLE_BALANCER) {
		balancer_evaluate(p, v, r);
		return;
	}
	memset(r, 0, sizeof(*r));
	r->target = p->target;
	r->role = p->role;
	model_init(&m, p, v, r);

	check_nofile(p, v, &m, r);
	check_nr_open(v, &m, r);
	check_file_max(v, &m, r);
	check_ports(p, v, &m, r);
	check_conntrack(v, &m, r);
	check_backlog(p, v, &m, r);
	limits_check_tcp_mem(p, v, &m, r);
	limits_check_memory_model(v, &m, r);
	limits_check_cgroup(v, &m, r);
	check_systemd(v, &m, r);
	check_migrate(v, &m, r);
	limits_finish(v, r);
}
