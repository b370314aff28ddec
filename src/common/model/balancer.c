/* The balancer tier's checks (see balancer.h). Each limit becomes a capacity in proxied connections and the
 * lowest binds, as in limits.c; the fixes are lines of HAProxy's configuration (maxconn, ulimit-n, one
 * server line per backend and source address) or sysctls. HAProxy 2.6 refuses to start when its maxconn
 * needs more fds than it can get ("Cannot raise FD limit to 2000116, limit is 20000"), so a maxconn that
 * is too large for the fd limit caps everything at 0, not at what the limit would hold. */
#include "common/model/balancer.h"
#include "common/model/capacity.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static uint64_t balancer_mul(uint64_t a, uint64_t b)
{
	return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

uint64_t balancer_fd_limit(const struct limits_plan *p, const struct limits_values *v)
{
	if (p->fd_limit != 0)
		return p->fd_limit;
	return v->nofile_hard_raisable && v->nr_open > v->nofile_hard ? v->nr_open : v->nofile_hard;
}

uint64_t balancer_fd_capacity(uint64_t fds)
{
	return fds > BALANCER_FD_RESERVE ? (fds - BALANCER_FD_RESERVE) / BALANCER_FDS_PER_CONN : 0;
}

/* fds the one HAProxy process asks for: it sizes itself from maxconn when given, else N must fit. */
static uint64_t balancer_fd_need(const struct limits_plan *p)
{
	uint64_t conns = p->maxconn != 0 ? p->maxconn : p->target;

	return balancer_mul(conns, BALANCER_FDS_PER_CONN) + BALANCER_FD_RESERVE;
}

static void balancer_check_fd(const struct limits_plan *p, const struct limits_values *v, struct limits_report *r)
{
	struct limits_check *c = limits_add_check(r, "haproxy.fd");
	uint64_t fds = balancer_fd_limit(p, v), need = balancer_fd_need(p);
	uint64_t for_n = balancer_mul(p->target, BALANCER_FDS_PER_CONN) + BALANCER_FD_RESERVE;
	char a[32], b[32];

	c->needed_value = need;
	c->capacity = balancer_fd_capacity(fds);
	snprintf(c->current, sizeof(c->current), "%s (%s)", limits_commas(fds, a, sizeof(a)),
		 p->fd_limit != 0 ? "given" : fds == v->nofile_hard ? "hard limit" : "fs.nr_open");
	snprintf(c->needed, sizeof(c->needed), "%s (2 x %s + %u)", limits_commas(need, a, sizeof(a)),
		 limits_commas(p->maxconn != 0 ? p->maxconn : p->target, b, sizeof(b)), BALANCER_FD_RESERVE);
	if (fds >= need)
		return;
	c->verdict = LIMITS_FAIL;
	if (p->maxconn != 0) {
		c->capacity = 0;
		/* N itself fits: only maxconn asks too much */
		if (fds >= for_n)
			snprintf(c->fix, sizeof(c->fix), "maxconn %" PRIu64, balancer_fd_capacity(fds));
		else
			snprintf(c->fix, sizeof(c->fix), "ulimit-n %" PRIu64, need);
		snprintf(c->note, sizeof(c->note),
			 "HAProxy sizes itself from maxconn (2 fds each, one process) and exits at start when it"
			 " cannot get them: \"Cannot raise FD limit to ~%" PRIu64 ", limit is %" PRIu64 "\"", need, fds);
	} else {
		snprintf(c->fix, sizeof(c->fix), "ulimit-n %" PRIu64, need);
		snprintf(c->note, sizeof(c->note),
			 "2 fds per connection in one process: the limit holds %s connections",
			 limits_commas(c->capacity, a, sizeof(a)));
	}
}

static void balancer_check_nr_open(const struct limits_plan *p, const struct limits_values *v,
				   struct limits_report *r)
{
	struct limits_check *c = limits_add_check(r, "fs.nr_open");
	uint64_t need = balancer_fd_need(p);
	char a[32];

	snprintf(c->sysctl, sizeof(c->sysctl), "fs.nr_open");
	c->needed_value = need;
	snprintf(c->current, sizeof(c->current), "%s", limits_commas(v->nr_open, a, sizeof(a)));
	snprintf(c->needed, sizeof(c->needed), "%s in one process", limits_commas(need, a, sizeof(a)));
	snprintf(c->recommended, sizeof(c->recommended), "%" PRIu64, capacity_round_pow2(need));
	if (v->nr_open >= need)
		return;
	c->verdict = LIMITS_FAIL;
	c->capacity = p->maxconn != 0 ? 0 : balancer_fd_capacity(v->nr_open);
	snprintf(c->fix, sizeof(c->fix), "sysctl -w fs.nr_open=%s", c->recommended);
	snprintf(c->note, sizeof(c->note), "HAProxy is one process and none can raise its limit above fs.nr_open");
}

static void balancer_check_file_max(const struct limits_plan *p, const struct limits_values *v,
				    struct limits_report *r)
{
	struct limits_check *c = limits_add_check(r, "fs.file-max");
	uint64_t need = v->file_nr_used + balancer_mul(p->target, BALANCER_FDS_PER_CONN) + BALANCER_FD_RESERVE;
	char a[32], b[32];

	snprintf(c->sysctl, sizeof(c->sysctl), "fs.file-max");
	c->needed_value = need;
	snprintf(c->current, sizeof(c->current), "%s (%s in use)", limits_commas(v->file_max, a, sizeof(a)),
		 limits_commas(v->file_nr_used, b, sizeof(b)));
	snprintf(c->needed, sizeof(c->needed), "%s", limits_commas(need, a, sizeof(a)));
	snprintf(c->recommended, sizeof(c->recommended), "%" PRIu64, capacity_round_pow2(need));
	c->capacity = v->file_max > v->file_nr_used ? balancer_fd_capacity(v->file_max - v->file_nr_used) : 0;
	if (need > v->file_max) {
		c->verdict = LIMITS_FAIL;
		snprintf(c->fix, sizeof(c->fix), "sysctl -w fs.file-max=%s", c->recommended);
		snprintf(c->note, sizeof(c->note), "system-wide fd limit; accept and connect fail with ENFILE");
	}
}

static void balancer_check_maxconn(const struct limits_plan *p, const struct limits_values *v,
				   struct limits_report *r)
{
	struct limits_check *c = limits_add_check(r, "haproxy.maxconn");
	char a[32];

	c->needed_value = p->target;
	snprintf(c->needed, sizeof(c->needed), "%s", limits_commas(p->target, a, sizeof(a)));
	if (p->maxconn == 0) {
		snprintf(c->current, sizeof(c->current), "not given");
		snprintf(c->note, sizeof(c->note),
			 "HAProxy derives maxconn from its fd limit (about %s here); set it in global and frontend",
			 limits_commas(balancer_fd_capacity(balancer_fd_limit(p, v)), a, sizeof(a)));
		return;
	}
	snprintf(c->current, sizeof(c->current), "%s", limits_commas(p->maxconn, a, sizeof(a)));
	c->capacity = p->maxconn;
	if (p->maxconn < p->target) {
		c->verdict = LIMITS_FAIL;
		snprintf(c->fix, sizeof(c->fix), "maxconn %" PRIu64, p->target);
		snprintf(c->note, sizeof(c->note),
			 "at maxconn HAProxy stops accepting: the rest wait in the listen queue and time out;"
			 " set it in global and in the frontend");
	}
}

/* Toward the backends the balancer is a client: with `source ADDR` HAProxy binds with IP_BIND_ADDRESS_NO_PORT,
 * so the kernel gives each (source, backend address, backend port) the whole ip_local_port_range. */
static void balancer_check_ports(const struct limits_plan *p, const struct limits_values *v,
				 struct limits_report *r)
{
	struct limits_check *c = limits_add_check(r, "ports.4tuple");
	unsigned src = p->sources ? p->sources : 1, dst = p->dst_addrs ? p->dst_addrs : 1, ports = p->ports ? p->ports : 1;
	uint64_t width = limits_port_range_width(v), tuples = balancer_mul(balancer_mul(src, dst), ports);
	uint64_t cap = balancer_mul(tuples, width);
	char a[32], b[32];

	snprintf(c->sysctl, sizeof(c->sysctl), "net.ipv4.ip_local_port_range");
	c->needed_value = tuples != 0 ? p->target / tuples + (p->target % tuples != 0) : LIMITS_NO_VALUE;
	snprintf(c->current, sizeof(c->current), "%s (%ux%ux%ux%s)", limits_commas(cap, a, sizeof(a)), src, dst, ports,
		 limits_commas(width, b, sizeof(b)));
	snprintf(c->needed, sizeof(c->needed), "%s", limits_commas(p->target, a, sizeof(a)));
	c->capacity = cap;
	if (width >= c->needed_value || (v->port_lo <= 1024 && v->port_hi == 65535))
		snprintf(c->recommended, sizeof(c->recommended), "%u %u", v->port_lo, v->port_hi);
	else
		snprintf(c->recommended, sizeof(c->recommended), "1024 65535");
	if (cap >= p->target)
		return;
	c->verdict = LIMITS_FAIL;
	snprintf(c->fix, sizeof(c->fix), "%u source addresses: a 'server ... source ADDR' line per backend and source",
		 r->sources_needed);
	snprintf(c->note, sizeof(c->note),
		 "HAProxy's connects to the backends fail (\"Connect() failed for backend: no free ports\"):"
		 " sources x backends x ports x ip_local_port_range %u-%u; or a wider range here", v->port_lo, v->port_hi);
}

static void balancer_check_memory(const struct limits_plan *p, const struct limits_values *v,
				  struct limits_report *r)
{
	uint64_t user = p->user_bytes_per_conn ? p->user_bytes_per_conn : BALANCER_USER_CONN_BYTES;
	char note[sizeof(((struct limits_check *)0)->note)];

	snprintf(note, sizeof(note), "kernel %u B per socket x 2 + HAProxy %" PRIu64 " B per connection; the OOM"
		 " killer ends HAProxy", (unsigned)LIMITS_KERNEL_SOCK_BYTES, user);
	limits_check_memory(r, v, p->target, BALANCER_FDS_PER_CONN * LIMITS_KERNEL_SOCK_BYTES + user, note);
}

void balancer_evaluate(const struct limits_plan *p, const struct limits_values *v, struct limits_report *r)
{
	memset(r, 0, sizeof(*r));
	r->target = p->target;
	r->role = LIMITS_ROLE_BALANCER;
	r->sources_needed = limits_sources_needed(p->target, p->dst_addrs, p->ports, v);
	balancer_check_fd(p, v, r);
	balancer_check_nr_open(p, v, r);
	balancer_check_file_max(p, v, r);
	balancer_check_maxconn(p, v, r);
	balancer_check_ports(p, v, r);
	limits_check_conntrack_max(r, v, p->target, BALANCER_FLOWS_PER_CONN,
				   "a full table drops new SYNs on either side: clients and HAProxy's backend connects time out");
	balancer_check_memory(p, v, r);
	limits_finish(v, r);
}
