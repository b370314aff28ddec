/* The keys of c1m-client's JSON report that `c1m-doctor --explain --from` uses, read with the tree's one
 * JSON reader (common/util/json.h), which validates as it goes: garbage ends in an error, not a crash. */
#include "common/model/explain.h"
#include "common/util/json.h"
#include "common/util/num.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* "status_codes": {"503": 12, "other": 3}: a key is a status of 1-999 or "other". */
static int codes_member(struct json_r *j, const char *key, void *arg)
{
	struct explain_client *c = arg;
	uint64_t v, code;
	char nerr[64];
	unsigned i;
	bool whole;

	if (!json_r_at_number(j))
		return json_r_fail(j, "a status count is not a number");
	if (json_r_number(j, &v, &whole) < 0)
		return -1;
	if (!whole)
		return json_r_fail(j, "a status count is not a whole number");
	if (strcmp(key, "other") == 0) {
		c->codes_other = c->codes_other > UINT64_MAX - v ? UINT64_MAX : c->codes_other + v;
		return 0;
	}
	if (num_parse_u64(key, 1, 999, &code, nerr, sizeof(nerr)) < 0)
		return json_r_fail(j, "a status code is not a number of 1 to 999");
	for (i = 0; i < DIAG_CODES && c->codes[i] && c->codes[i] != code; i++)
		;
	if (i == DIAG_CODES) {
		c->codes_other = c->codes_other > UINT64_MAX - v ? UINT64_MAX : c->codes_other + v;
		return 0;
	}
	c->codes[i] = (unsigned)code;
	c->code_counts[i] = c->code_counts[i] > UINT64_MAX - v ? UINT64_MAX : c->code_counts[i] + v;
	return 0;
}

/* A string member into out (cut to its size), or skipped if it is not a string. */
static int string_member(struct json_r *j, char *out, size_t outlen)
{
	if (!json_r_peek(j, '"'))
		return json_r_skip(j);
	return json_r_string(j, out, outlen, NULL);
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
	if (strcmp(key, "proto") == 0)
		return string_member(j, c->proto, sizeof(c->proto));
	if (strcmp(key, "proto_note") == 0)
		return string_member(j, c->proto_note, sizeof(c->proto_note));
	if (strcmp(key, "status_codes") == 0)
		return json_r_peek(j, '{') ? json_r_object(j, codes_member, c) : json_r_skip(j);
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

void explain_client_context(const struct explain_client *c, struct diag_context *ctx)
{
	if (c->proto[0] == '\0' || strcmp(c->proto, "echo") == 0) {
		ctx->first_bad = c->proto_note;   /* echo notes only TLS failures (--tls) */
		return;
	}
	ctx->proto = c->proto;
	ctx->first_bad = c->proto_note;
	ctx->verified = c->echoed;
	memcpy(ctx->codes, c->codes, sizeof(ctx->codes));
	memcpy(ctx->code_counts, c->code_counts, sizeof(ctx->code_counts));
	ctx->codes_other = c->codes_other;
}
