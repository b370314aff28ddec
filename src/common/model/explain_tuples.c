/* The sockets that hold local ports, counted per (source, destination, destination port) from
 * /proc/net/tcp and tcp6 text: the evidence for EADDRNOTAVAIL, which leaves nothing in the kernel log. A
 * fixed open-addressing table the caller owns, so a scan of a million rows allocates nothing. */
#include "common/model/explain.h"
#include "common/sys/procfs.h"

#include <stdint.h>
#include <string.h>

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
