/* The memory checks of the limits model: TCP's socket memory (tcp_mem) against the sockets that hold data at
 * once, the available memory against the cost per connection, and a memory cgroup's limit (see limits.c
 * for the model they belong to). */
#include "common/model/limits.h"
#include "common/model/limits_int.h"
#include "common/model/capacity.h"
#include "common/util/sbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Sockets holding buffer data at the same moment. tcp_mem counts pages charged to socket queues, and a
 * connection that has finished its echo has empty queues, so holding a million idle connections costs
 * it nothing. What charges it is traffic: during the ramp the client's in-flight connects and echoes
 * (capped by its --concurrency, all processes together, and at least one per process), in the latency
 * phase the connections with messages queued. On a server host the peers are assumed to be c1m clients
 * with the default cap. Both ends of an in-flight connection hold data when they live here. */
static uint64_t active_sockets(const struct limits_plan *p, const struct limits_model *m)
{
	uint64_t all = limits_sat_mul(m->n, m->sockets_per_conn), inflight;

	if (p->active_sockets != 0)
		return p->active_sockets < all ? p->active_sockets : all;
	inflight = LIMITS_CLIENT_INFLIGHT;
	if (m->client && m->w_cli > inflight)
		inflight = m->w_cli;
	if (inflight > m->n)
		inflight = m->n;
	return limits_sat_mul(inflight, m->sockets_per_conn);
}

/* tcp_mem is machine-wide: the kernel registers it only in the machine's first network namespace, so
 * inside any other (a container, ip netns exec) it cannot be read and caps nothing here. What can be
 * said is whether the need fits the kernel's boot-time default, tcp_mem[1] = free pages / 16, which
 * MemAvailable approximates from below; a warning when it does not, since someone must look at the
 * value from the root namespace. */
static void check_tcp_mem_absent(const struct limits_values *v, struct limits_check *c, uint64_t need,
				 uint64_t active, uint64_t per)
{
	uint64_t page = v->page_size ? v->page_size : 4096;
	uint64_t dflt = v->mem_available / page / 16;
	char a[32], b[32];

	snprintf(c->current, sizeof(c->current), "not visible here");
	snprintf(c->needed, sizeof(c->needed), "%s pages (%s active x %" PRIu64 ")", limits_commas(need, a, sizeof(a)),
	         limits_commas(active, b, sizeof(b)), per);
	if (need > dflt) {
		c->verdict = LIMITS_WARN;
		snprintf(c->note, sizeof(c->note),
		         "machine-wide, not visible in this network namespace; the need passes the"
		         " default for this memory (~%s pages at tcp_mem[1]): check it in the root namespace",
		         limits_commas(dflt, a, sizeof(a)));
	} else {
		snprintf(c->note, sizeof(c->note),
		         "machine-wide, not visible in this network namespace; the need fits the"
		         " default for this memory (~%s pages at tcp_mem[1]) unless it was lowered",
		         limits_commas(dflt, a, sizeof(a)));
	}
}

/* The tcp_mem the need asks for. Raise only what falls short: pressure at the need, the hard limit a third
 * above it, never more than 3/4 of available memory; where that is less than the need, pressure at 3/4 of
 * it (the note then says fewer sockets must hold data at once). False when no value helps: the need passes
 * tcp_mem[2] and there is no memory to raise it. */
static bool tcp_mem_target(const struct limits_values *v, uint64_t need, uint64_t room, uint64_t t[3])
{
	uint64_t mid = need > v->tcp_mem[1] ? need : v->tcp_mem[1];
	uint64_t hi = limits_sat_add(mid, mid / 3);

	if (hi < v->tcp_mem[2])
		hi = v->tcp_mem[2];
	if (hi > room) {
		if (room > v->tcp_mem[2])
			hi = room;
		else if (need <= v->tcp_mem[2])
			hi = v->tcp_mem[2];   /* the need fits under it: raising the pressure mark is enough */
		else
			return false;
	}
	if (need > hi)
		mid = hi / 4 * 3;
	t[0] = v->tcp_mem[0] < mid ? v->tcp_mem[0] : mid;
	t[1] = mid;
	t[2] = hi;
	return true;
}

/* FAIL past tcp_mem[2], where the stack drops packets and aborts sockets ("TCP: out of memory"); WARN
 * past tcp_mem[1], where it shrinks buffers. Only a failure caps connections, and then in connections
 * whose sockets can hold data at once: idle holding is never capped by tcp_mem. */
void limits_check_tcp_mem(const struct limits_plan *p, const struct limits_values *v, const struct limits_model *m,
			  struct limits_report *r)
{
	struct limits_check *c = limits_add_check(r, "tcp_mem");
	uint64_t page = v->page_size ? v->page_size : 4096;
	uint64_t bytes = p->bytes_per_active_socket ? p->bytes_per_active_socket : LIMITS_ACTIVE_SOCKET_BYTES;
	uint64_t per = limits_div_ceil(bytes, page);
	uint64_t active = active_sockets(p, m);
	uint64_t need, fits, room = v->mem_available / 4 * 3 / page, t[3];
	bool have;
	char a[32], b[32], c2[32];

	if (per == 0)
		per = 1;
	need = limits_sat_mul(active, per);
	limits_set_sysctl(c, "net.ipv4.tcp_mem");
	c->needed_value = need;
	if (!v->tcp_mem_present) {
		check_tcp_mem_absent(v, c, need, active, per);
		return;
	}
	fits = v->tcp_mem[2] / per;
	snprintf(c->current, sizeof(c->current), "%s %s %s pages", limits_commas(v->tcp_mem[0], a, sizeof(a)),
	         limits_commas(v->tcp_mem[1], b, sizeof(b)), limits_commas(v->tcp_mem[2], c2, sizeof(c2)));
	snprintf(c->needed, sizeof(c->needed), "%s pages (%s active x %" PRIu64 ")", limits_commas(need, a, sizeof(a)),
	         limits_commas(active, b, sizeof(b)), per);
	have = tcp_mem_target(v, need, room, t);
	if (have)
		snprintf(c->recommended, sizeof(c->recommended), "%" PRIu64 " %" PRIu64 " %" PRIu64, t[0], t[1], t[2]);
	if (need <= v->tcp_mem[1]) {
		snprintf(c->note, sizeof(c->note),
		         "idle connections hold no buffer pages; tcp_mem binds when more than %s"
		         " sockets hold data at once (tcp_mem[2] / %" PRIu64 " page%s per active socket)",
		         limits_commas(fits, a, sizeof(a)), per, per == 1 ? "" : "s");
		return;
	}
	if (need > v->tcp_mem[2]) {
		c->verdict = LIMITS_FAIL;
		c->capacity = fits / m->sockets_per_conn;
		snprintf(c->note, sizeof(c->note),
		         "%s sockets holding data at once need %s pages > tcp_mem[2]: the stack drops packets and"
		         " aborts sockets (TCP: out of memory); at most %s may hold data at once",
		         limits_commas(active, a, sizeof(a)), limits_commas(need, b, sizeof(b)),
		         limits_commas(fits, c2, sizeof(c2)));
	} else {
		c->verdict = LIMITS_WARN;
		snprintf(c->note, sizeof(c->note),
		         "%s sockets holding data at once pass tcp_mem[1]: the stack enters memory pressure and shrinks"
		         " buffers (latency); idle connections hold no pages", limits_commas(active, a, sizeof(a)));
	}
	if (!have) {
		if (p->active_sockets == 0 && fits >= m->sockets_per_conn)
			snprintf(c->fix, sizeof(c->fix), "c1m-client --concurrency %" PRIu64, fits / m->sockets_per_conn);
		snprintf(c->note, sizeof(c->note),
		         "%s sockets x %" PRIu64 " page%s holding data at once exceed tcp_mem[2] and 3/4 of"
		         " available memory: at most %s may hold data at once", limits_commas(active, a, sizeof(a)),
		         per, per == 1 ? "" : "s", limits_commas(fits, b, sizeof(b)));
		return;
	}
	if (need > t[2])
		snprintf(c->note, sizeof(c->note),
		         "%s sockets x %" PRIu64 " page%s holding data at once exceed 3/4 of available memory: the fix"
		         " covers %s, fewer must hold data at once (client --concurrency)",
		         limits_commas(active, a, sizeof(a)), per, per == 1 ? "" : "s",
		         limits_commas(t[2] / per, b, sizeof(b)));
	limits_fix_recommended(c);
}

/* One connection's memory on this host: a kernel socket per end here, the user-space bytes of each side,
 * and the client's TLS state when it runs --tls. */
static uint64_t conn_bytes(const struct limits_model *m)
{
	return (uint64_t)m->sockets_per_conn * LIMITS_KERNEL_SOCK_BYTES + (uint64_t)m->sides * m->user_bytes +
	       m->tls_bytes;
}

void limits_check_memory(struct limits_report *r, const struct limits_values *v, uint64_t n, uint64_t per,
			 const char *fail_note)
{
	struct limits_check *c = limits_add_check(r, "memory");
	uint64_t need = limits_sat_mul(n, per);
	char a[32], b[32];

	c->needed_value = need;
	snprintf(c->current, sizeof(c->current), "%s available", limits_bytes(v->mem_available, a, sizeof(a)));
	snprintf(c->needed, sizeof(c->needed), "%s (%" PRIu64 " B/conn)", limits_bytes(need, b, sizeof(b)), per);
	c->capacity = per ? v->mem_available / per : LIMITS_UNLIMITED;
	if (need > v->mem_available) {
		c->verdict = LIMITS_FAIL;
		snprintf(c->note, sizeof(c->note), "%s", fail_note);
	} else if (need > v->mem_available / 10 * 8) {
		c->verdict = LIMITS_WARN;
		snprintf(c->note, sizeof(c->note), "over 80%% of available memory: page cache and others will suffer");
	}
}

void limits_check_memory_model(const struct limits_values *v, const struct limits_model *m, struct limits_report *r)
{
	char note[sizeof(((struct limits_check *)0)->note)];

	if (m->tls_bytes)
		snprintf(note, sizeof(note), "kernel %u B per socket x %u + user %" PRIu64 " B per side + client TLS %"
		         PRIu64 " B; the OOM killer ends the run", (unsigned)LIMITS_KERNEL_SOCK_BYTES, m->sockets_per_conn,
		         m->user_bytes, m->tls_bytes);
	else
		snprintf(note, sizeof(note), "kernel %u B per socket x %u + user %" PRIu64 " B per side; the OOM killer "
		         "ends the run", (unsigned)LIMITS_KERNEL_SOCK_BYTES, m->sockets_per_conn, m->user_bytes);
	limits_check_memory(r, v, m->n, conn_bytes(m), note);
}

/* A fix line with a cut path would write somewhere else: without room for the whole path it names the file
 * instead. */
static void cgroup_fix(struct limits_check *c, uint64_t bytes, const char *path)
{
	struct sbuf sb;

	sbuf_init(&sb, c->fix, sizeof(c->fix));
	sbuf_printf(&sb, "echo %" PRIu64 " > %s", bytes, path);
	if (sbuf_done(&sb) < 0 || path[0] == '\0')
		snprintf(c->fix, sizeof(c->fix), "set the cgroup's memory limit to %" PRIu64 " bytes", bytes);
}

void limits_check_cgroup(const struct limits_values *v, const struct limits_model *m, struct limits_report *r)
{
	struct limits_check *c = limits_add_check(r, "cgroup.memory");
	uint64_t per = conn_bytes(m);
	uint64_t need = limits_sat_mul(m->n, per);
	uint64_t room;
	char a[32], b[32];

	snprintf(c->needed, sizeof(c->needed), "%s", limits_bytes(need, a, sizeof(a)));
	c->needed_value = need;
	if (!v->cgroup_mem_present) {
		snprintf(c->current, sizeof(c->current), "none");
		snprintf(c->note, sizeof(c->note), "no memory cgroup found for this process");
		return;
	}
	if (v->cgroup_mem_limit == LIMITS_UNLIMITED) {
		snprintf(c->current, sizeof(c->current), "unlimited (v%u)", v->cgroup_version);
		return;
	}
	/* The limit itself must cover what the cgroup already uses plus the connections. */
	c->needed_value = limits_sat_add(v->cgroup_mem_usage, need);
	room = v->cgroup_mem_limit > v->cgroup_mem_usage ? v->cgroup_mem_limit - v->cgroup_mem_usage : 0;
	snprintf(c->current, sizeof(c->current), "%s free of %s", limits_bytes(room, a, sizeof(a)),
	         limits_bytes(v->cgroup_mem_limit, b, sizeof(b)));
	c->capacity = room / per;
	if (need > room) {
		c->verdict = LIMITS_FAIL;
		cgroup_fix(c, limits_sat_add(v->cgroup_mem_usage, need), v->cgroup_path);
		snprintf(c->note, sizeof(c->note),
		         "socket memory is charged to the cgroup; at its limit the cgroup's OOM killer ends the run");
	}
}
