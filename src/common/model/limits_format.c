/* The doctor's two renderings of a limits report: a table for people (checks, then the notes of the checks
 * that need attention first, then the ceiling and the processes each side runs) and JSON for tuning/apply
 * and other programs, written through the tree's one JSON writer; and the renderings of numbers the checks'
 * texts quote (1,000,000; 12.9 GiB). Pure. */
#include "common/model/limits.h"
#include "common/util/json.h"
#include "common/util/sbuf.h"
#include "common/util/version.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* 1234567 -> "1,234,567" so that a million is readable at a glance. */
const char *limits_commas(uint64_t v, char *buf, size_t len)
{
	char digits[32];
	size_t n, i, o = 0;

	snprintf(digits, sizeof(digits), "%" PRIu64, v);
	n = strlen(digits);
	for (i = 0; i < n && o + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

const char *limits_bytes(uint64_t v, char *buf, size_t len)
{
	if (v >= (UINT64_C(1) << 30))
		snprintf(buf, len, "%.1f GiB", (double)v / (double)(UINT64_C(1) << 30));
	else if (v >= (UINT64_C(1) << 20))
		snprintf(buf, len, "%.1f MiB", (double)v / (double)(UINT64_C(1) << 20));
	else
		snprintf(buf, len, "%" PRIu64 " KiB", v >> 10);
	return buf;
}

const char *limits_verdict_name(enum limits_verdict v)
{
	switch (v) {
	case LIMITS_OK:   return "ok";
	case LIMITS_WARN: return "warn";
	case LIMITS_FAIL: return "FAIL";
	}
	return "?";
}

const char *limits_role_name(enum limits_role r)
{
	switch (r) {
	case LIMITS_ROLE_SERVER: return "server";
	case LIMITS_ROLE_CLIENT: return "client";
	case LIMITS_ROLE_BOTH:   return "both";
	case LIMITS_ROLE_BALANCER: return "balancer";
	}
	return "?";
}

int limits_format_table(const struct limits_report *r, char *buf, size_t len)
{
	static const char *hdr[4] = { "check", "current", "needed", "verdict" };
	size_t w[4], l;
	struct sbuf sb;
	unsigned i;
	char a[32], b[32];

	sbuf_init(&sb, buf, len);
	for (i = 0; i < 4; i++)
		w[i] = strlen(hdr[i]);
	for (i = 0; i < r->n_checks; i++) {
		const struct limits_check *c = &r->checks[i];

		if ((l = strlen(c->name)) > w[0])
			w[0] = l;
		if ((l = strlen(c->current)) > w[1])
			w[1] = l;
		if ((l = strlen(c->needed)) > w[2])
			w[2] = l;
	}
	sbuf_printf(&sb, "%-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], hdr[0], (int)w[1], hdr[1],
		  (int)w[2], hdr[2], (int)w[3], hdr[3], "fix");
	for (i = 0; i < r->n_checks; i++) {
		const struct limits_check *c = &r->checks[i];

		sbuf_printf(&sb, "%-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], c->name, (int)w[1], c->current,
			  (int)w[2], c->needed, (int)w[3], limits_verdict_name(c->verdict), c->fix);
	}
	/* Notes go below the table so the columns stay readable. */
	for (i = 0; i < r->n_checks; i++) {
		const struct limits_check *c = &r->checks[i];

		if (c->note[0] != '\0' && c->verdict != LIMITS_OK)
			sbuf_printf(&sb, "  %s: %s\n", c->name, c->note);
	}
	for (i = 0; i < r->n_checks; i++) {
		const struct limits_check *c = &r->checks[i];

		if (c->note[0] != '\0' && c->verdict == LIMITS_OK)
			sbuf_printf(&sb, "  %s: %s\n", c->name, c->note);
	}
	if (r->ceiling == LIMITS_UNLIMITED)
		sbuf_printf(&sb, "ceiling: none of these limits caps the connection count\n");
	else
		sbuf_printf(&sb, "ceiling: %s (binding: %s%s)%s\n", limits_commas(r->ceiling, a, sizeof(a)), r->binding,
			  /* the one check whose capacity counts traffic, not idle connections */
			  strcmp(r->binding, "tcp_mem") == 0 ? ", connections whose sockets can hold data at once" : "",
			  r->ceiling >= r->target ? "" : " < target");
	if (r->role == LIMITS_ROLE_BALANCER) {
		sbuf_printf(&sb, "balancer sources needed: %u (a server line per backend and source address, so no"
			  " source/backend pair runs out of ports)\n", r->sources_needed);
		return sbuf_done(&sb);
	}
	if (r->workers_server && r->workers_client)
		sbuf_printf(&sb, "workers needed: %u server + %u client processes for %s connections\n",
			  r->workers_server, r->workers_client, limits_commas(r->target, b, sizeof(b)));
	else
		sbuf_printf(&sb, "workers needed: %u %s process%s for %s connections\n", r->workers_needed,
			  r->workers_server ? "server" : "client", r->workers_needed == 1 ? "" : "es",
			  limits_commas(r->target, b, sizeof(b)));
	if (r->workers_client)
		sbuf_printf(&sb, "client sources needed: %u (so no source/destination pair runs out of ports)\n",
			  r->sources_needed);
	return sbuf_done(&sb);
}

/* The verdict in JSON is lower case, "fail" too: a key's value, not a shout in a table. */
static const char *json_verdict(enum limits_verdict v)
{
	return v == LIMITS_OK ? "ok" : v == LIMITS_WARN ? "warn" : "fail";
}

int limits_format_json(const struct limits_report *r, char *buf, size_t len)
{
	struct json_w w;
	unsigned i;
	int n;

	json_w_init(&w, buf, len);
	json_w_object_begin(&w, NULL);
	json_w_string(&w, "version", version_project());
	json_w_u64(&w, "target", r->target);
	json_w_string(&w, "role", limits_role_name(r->role));
	json_w_u64_or_null(&w, "ceiling", r->ceiling, LIMITS_UNLIMITED);
	json_w_string_or_null(&w, "binding", r->binding);
	json_w_u64(&w, "workers_needed", r->workers_needed);
	json_w_u64(&w, "workers_server", r->workers_server);
	json_w_u64(&w, "workers_client", r->workers_client);
	json_w_u64(&w, "sources_needed", r->sources_needed);
	json_w_u64(&w, "fail", r->n_fail);
	json_w_u64(&w, "warn", r->n_warn);
	json_w_array_begin(&w, "checks");
	for (i = 0; i < r->n_checks; i++) {
		const struct limits_check *c = &r->checks[i];

		json_w_object_begin(&w, NULL);
		json_w_string(&w, "name", c->name);
		json_w_string(&w, "current", c->current);
		json_w_string(&w, "needed", c->needed);
		json_w_string(&w, "verdict", json_verdict(c->verdict));
		json_w_u64_or_null(&w, "capacity", c->capacity, LIMITS_UNLIMITED);
		json_w_string(&w, "fix", c->fix);
		json_w_string(&w, "note", c->note);
		json_w_u64_or_null(&w, "needed_value", c->needed_value, LIMITS_NO_VALUE);
		json_w_string_or_null(&w, "sysctl", c->sysctl);
		json_w_string_or_null(&w, "recommended", c->recommended);
		json_w_object_end(&w);
	}
	json_w_array_end(&w);
	json_w_object_end(&w);
	n = json_w_finish(&w);
	if (n < 0 || (size_t)n + 2 > len)
		return -1;
	buf[n] = '\n';
	buf[n + 1] = '\0';
	return n + 1;
}
