/* The protocol registry (proto.h): names, tables, the options checked together, and the echo protocol's
 * table. Echo has no feed functions: the loadgen matches its replies in place (match.h), as it always did. */
#include "client/proto.h"

#include <stdio.h>
#include <string.h>

#include "client/loadgen.h"
#include "client/proto_http.h"
#include "client/proto_mqtt.h"
#include "client/proto_resp.h"

static const char *const proto_names[PROTO_COUNT] = {
	[PROTO_ECHO] = "echo",
	[PROTO_HTTP] = "http",
	[PROTO_REDIS] = "redis",
	[PROTO_MQTT] = "mqtt",
};

static size_t echo_hello(const struct proto_cfg *cfg, uint64_t id, char *out, size_t outlen)
{
	return loadgen_format_line(id, out, outlen);
}

static size_t echo_msg(const struct proto_cfg *cfg, const struct match_frame *f, char *out, size_t outlen)
{
	if (outlen < MATCH_FRAME_LEN || match_format(f, out) < 0)
		return 0;
	return MATCH_FRAME_LEN;
}

const struct proto_ops proto_echo_ops = {
	.name = "echo",
	.state_size = 0,
	.pipeline = true,
	.hello = echo_hello,
	.msg = echo_msg,
	/* hello_feed, reply_feed NULL: the echo is matched byte for byte against what was sent (match.h) */
};

const struct proto_ops *proto_get(enum proto_id id)
{
	switch (id) {
	case PROTO_HTTP:
		return &proto_http_ops;
	case PROTO_REDIS:
		return &proto_redis_ops;
	case PROTO_MQTT:
		return &proto_mqtt_ops;
	default:
		return &proto_echo_ops;
	}
}

const char *proto_name(enum proto_id id)
{
	return (unsigned)id < PROTO_COUNT ? proto_names[id] : "?";
}

int proto_from_name(const char *name, enum proto_id *id)
{
	unsigned i;

	for (i = 0; name && i < PROTO_COUNT; i++)
		if (strcmp(name, proto_names[i]) == 0) {
			*id = (enum proto_id)i;
			return 0;
		}
	return -1;
}

size_t proto_side_size(const struct proto_ops *ops)
{
	if (ops->hello_feed == NULL)
		return 0;
	return (sizeof(struct proto_side) + ops->state_size + 7) / 8 * 8;
}

size_t proto_msg_bytes(const struct proto_cfg *cfg)
{
	char msg[PROTO_MSG_MAX];
	struct match_frame f = { 0, 0, 0 };

	return proto_get(cfg->id)->msg(cfg, &f, msg, sizeof(msg));
}

void proto_cfg_init(struct proto_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->id = PROTO_ECHO;
	cfg->method = "GET";
	cfg->path = "/";
}

int proto_cfg_check(const struct proto_cfg *cfg, char *err, size_t errlen)
{
	if (cfg->id != PROTO_MQTT && cfg->keepalive_ms) {
		snprintf(err, errlen, "--keepalive is for --proto mqtt");
		return -1;
	}
	if (cfg->id != PROTO_REDIS && (cfg->command || cfg->hello)) {
		snprintf(err, errlen, "%s is for --proto redis", cfg->command ? "--command" : "--hello");
		return -1;
	}
	if (cfg->id != PROTO_HTTP) {
		const char *http_only = cfg->n_headers ? "--header" : cfg->body ? "--body" :
					strcmp(cfg->method, "GET") != 0 ? "--method" : strcmp(cfg->path, "/") != 0 ? "--path" :
					cfg->pipeline ? "--pipeline" : NULL;

		if (http_only) {
			snprintf(err, errlen, "%s is for --proto http", http_only);
			return -1;
		}
		return cfg->id == PROTO_REDIS ? resp_check(cfg, err, errlen) :
		       cfg->id == PROTO_MQTT ? mqtt_check(cfg, err, errlen) : 0;
	}
	return http1_check(cfg, err, errlen);
}

size_t proto_escape(const char *data, size_t len, size_t max, char *out, size_t outlen)
{
	size_t i, pos = 0, n = len < max ? len : max;
	unsigned char c;
	char tmp[8];

	if (outlen == 0)
		return 0;
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		c = (unsigned char)data[i];
		if (c == '\\')
			snprintf(tmp, sizeof(tmp), "\\\\");
		else if (c == '\r')
			snprintf(tmp, sizeof(tmp), "\\r");
		else if (c == '\n')
			snprintf(tmp, sizeof(tmp), "\\n");
		else if (c == '\t')
			snprintf(tmp, sizeof(tmp), "\\t");
		else if (c >= 0x20 && c < 0x7f)
			snprintf(tmp, sizeof(tmp), "%c", c);
		else
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		if (pos + strlen(tmp) + 1 > outlen)
			return pos;
		memcpy(out + pos, tmp, strlen(tmp) + 1);
		pos += strlen(tmp);
	}
	if (len > max && pos + 4 <= outlen) {
		memcpy(out + pos, "...", 4);
		pos += 3;
	}
	return pos;
}
