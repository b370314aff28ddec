/* MQTT 3.1.1 packets built and parsed incrementally (proto_mqtt.h), and the --proto mqtt table. Pure: no I/O,
 * no allocation; the only state is the caller's struct mqtt_rx. */
#include "client/proto_mqtt.h"

#include <stdio.h>
#include <string.h>

#include "common/util/num.h"
#include "common/util/sbuf.h"

enum mqtt_phase {
	MQTT_TYPE,                   /* the first byte of the next packet */
	MQTT_LEN,                    /* the remaining length (a varint) */
	MQTT_BODY,                   /* the packet's body */
	MQTT_FAIL,                   /* malformed: every later byte is refused */
};

enum {
	MQTT_F_CONNACK = 1,          /* CONNACK 0 came: SUBACK is next */
};

/* Packet types: the first byte's high nibble. */
enum {
	MQTT_CONNECT = 1, MQTT_CONNACK = 2, MQTT_PUBLISH = 3, MQTT_SUBSCRIBE = 8, MQTT_SUBACK = 9,
	MQTT_PINGREQ = 12, MQTT_PINGRESP = 13,
};

_Static_assert(sizeof(struct mqtt_rx) == 24, "struct mqtt_rx is the 24 bytes proto_mqtt.h says");
_Static_assert(sizeof(struct mqtt_rx) <= PROTO_STATE_MAX, "struct mqtt_rx fits the loadgen's side array");

#define MQTT_BODY_MAX 64             /* bytes of the longest body c1m accepts (a PUBLISH: 2 + 24 + 10) */
#define MQTT_TOPIC_MAX 32            /* "c1m/" and 20 digits, or "c1m-" and 20 digits */

static const char *const type_names[16] = {
	"reserved type 0", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "reserved type 15",
};

const char *mqtt_connack_text(unsigned code)
{
	static const char *const text[] = {
		NULL, "unacceptable protocol version", "identifier rejected", "server unavailable",
		"bad user name or password", "not authorized",
	};

	return code >= 1 && code <= 5 ? text[code] : NULL;
}

/* prefix and v in decimal into out (at least MQTT_TOPIC_MAX bytes, no NUL); returns the length. */
static size_t name_of(const char *prefix, uint64_t v, char *out)
{
	char digits[20];
	size_t n = 0, p, i;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (p = 0; prefix[p]; p++)   /* a name, not a string: no NUL */
		out[p] = prefix[p];
	for (i = 0; i < n; i++)
		out[p + i] = digits[n - 1 - i];
	return p + n;
}

/* The body of the PUBLISH of message seq on c1m/<id>: topic length, topic, payload. out: MQTT_BODY_MAX. */
static size_t publish_body(uint64_t id, uint32_t seq, char *out)
{
	size_t tl = name_of("c1m/", id, out + 2);

	out[0] = (char)(tl >> 8);
	out[1] = (char)(tl & 0xff);
	(void)num_put_fixed(out + 2 + tl, MQTT_PAYLOAD_LEN, seq);
	return 2 + tl + MQTT_PAYLOAD_LEN;
}

/* The fixed header: type byte and remaining length; returns its length, 0 if it does not fit. */
static size_t put_header(unsigned char type, size_t rl, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen < 1 || rl > 268435455u)
		return 0;
	out[n++] = (char)type;
	do {
		if (n == outlen)
			return 0;
		out[n++] = (char)((rl & 0x7f) | (rl > 0x7f ? 0x80 : 0));
		rl >>= 7;
	} while (rl);
	return n;
}

size_t mqtt_build_hello(uint64_t id, unsigned keepalive_s, char *out, size_t outlen)
{
	static const char connect_vh[] = { 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02 }; /* level 4, clean session */
	char name[MQTT_TOPIC_MAX];
	size_t cl = name_of("c1m-", id, name), tl, h, pos;

	if (keepalive_s > MQTT_KEEPALIVE_MAX_S)
		return 0;
	/* CONNECT: variable header, keepalive, then the client id as the payload */
	h = put_header(MQTT_CONNECT << 4, sizeof(connect_vh) + 2 + 2 + cl, out, outlen);
	if (h == 0 || outlen - h < sizeof(connect_vh) + 4 + cl)
		return 0;
	pos = h;
	memcpy(out + pos, connect_vh, sizeof(connect_vh));
	pos += sizeof(connect_vh);
	out[pos++] = (char)(keepalive_s >> 8);
	out[pos++] = (char)(keepalive_s & 0xff);
	out[pos++] = 0;
	out[pos++] = (char)cl;
	memcpy(out + pos, name, cl);
	pos += cl;
	/* SUBSCRIBE (the reserved flags are 0b0010): packet id, topic filter, requested QoS 0 */
	tl = name_of("c1m/", id, name);
	h = put_header((MQTT_SUBSCRIBE << 4) | 0x02, 2 + 2 + tl + 1, out + pos, outlen - pos);
	if (h == 0 || outlen - pos - h < 2 + 2 + tl + 1)
		return 0;
	pos += h;
	out[pos++] = (char)(MQTT_PACKET_ID >> 8);
	out[pos++] = (char)(MQTT_PACKET_ID & 0xff);
	out[pos++] = 0;
	out[pos++] = (char)tl;
	memcpy(out + pos, name, tl);
	pos += tl;
	out[pos++] = 0;
	return pos;
}

size_t mqtt_build_publish(uint64_t id, uint32_t seq, char *out, size_t outlen)
{
	char body[MQTT_BODY_MAX];
	size_t bl = publish_body(id, seq, body), h = put_header(MQTT_PUBLISH << 4, bl, out, outlen);

	if (h == 0 || outlen - h < bl)
		return 0;
	memcpy(out + h, body, bl);
	return h + bl;
}

void mqtt_rx_init(struct mqtt_rx *rx, uint64_t id)
{
	memset(rx, 0, sizeof(*rx));
	rx->id = id;
}

static enum proto_status fail(struct mqtt_rx *rx, const char *data, size_t len, size_t at, size_t *used,
			      struct proto_event *ev, const char *what)
{
	char quoted[64];
	struct sbuf sb;

	/* the what first: a long one leaves less of the quote, never the other way round */
	proto_escape(data + at, len - at, PROTO_FIRST_BYTES, quoted, sizeof(quoted));
	sbuf_init(&sb, ev->note, sizeof(ev->note));
	sbuf_printf(&sb, "MQTT: %s at \"%s\"", what, quoted);
	rx->phase = MQTT_FAIL;
	*used = at;
	return PROTO_ERROR;
}

/* The packet type a connection in mode waits for next. */
static unsigned expected_type(const struct mqtt_rx *rx, enum mqtt_mode mode)
{
	if (mode == MQTT_HELLO)
		return rx->flags & MQTT_F_CONNACK ? MQTT_SUBACK : MQTT_CONNACK;
	return mode == MQTT_REPLY ? MQTT_PUBLISH : MQTT_PINGRESP;
}

/* The first byte of a packet: its type must be the one expected (or PINGRESP outside the handshake), and
 * its flags the ones MQTT 3.1.1 fixes for it (section 2.2.2) or, for PUBLISH, QoS 0 without DUP or RETAIN.
 * NULL, or what is wrong. */
static const char *check_type(const struct mqtt_rx *rx, enum mqtt_mode mode, unsigned char c, char *what,
			      size_t wlen)
{
	unsigned t = c >> 4, want = expected_type(rx, mode);

	if (t != want && !(t == MQTT_PINGRESP && mode != MQTT_HELLO)) {
		snprintf(what, wlen, "%s (0x%02x) where %s was expected", type_names[t], c, type_names[want]);
		return what;
	}
	if (t == MQTT_PUBLISH && (c & 0x06) != 0) {
		snprintf(what, wlen, "PUBLISH at QoS %u, where c1m subscribed and published at QoS 0", (c >> 1) & 3u);
		return what;
	}
	if (t == MQTT_PUBLISH && (c & 0x09) != 0) {
		snprintf(what, wlen, "PUBLISH with %s set (0x%02x), where a QoS 0 message routed live has none",
			 c & 0x01 ? "RETAIN" : "DUP", c);
		return what;
	}
	if (t != MQTT_PUBLISH && (c & 0x0f) != 0) {
		snprintf(what, wlen, "%s with flags 0x%x, where MQTT 3.1.1 fixes them at 0", type_names[t], c & 0x0fu);
		return what;
	}
	return NULL;
}

/* A packet complete: back to the next packet's first byte. */
static void packet_done(struct mqtt_rx *rx)
{
	rx->phase = MQTT_TYPE;
	rx->left = 0;
	rx->nlen = 0;
}

/* One byte of a CONNACK or SUBACK body at pos (of 2 or 3). PROTO_PARTIAL: go on (a CONNACK 0 complete
 * included), PROTO_DONE: the SUBACK granted the subscription, PROTO_REFUSED: ev filled, PROTO_ERROR: what
 * says why. The packet is complete in rx when the last byte was accepted. */
static enum proto_status ack_byte(struct mqtt_rx *rx, unsigned t, uint32_t pos, unsigned char c,
				  struct proto_event *ev, char *what, size_t wlen)
{
	char topic[MQTT_TOPIC_MAX];
	size_t tl;

	if (t == MQTT_CONNACK && pos == 0) {
		if (c == 0)
			return PROTO_PARTIAL;
		snprintf(what, wlen, "CONNACK flags 0x%02x, where a clean session has 0", c);
		return PROTO_ERROR;
	}
	if (t == MQTT_CONNACK) {
		if (c == 0) {
			rx->flags |= MQTT_F_CONNACK;
			return PROTO_PARTIAL;
		}
		if (!mqtt_connack_text(c)) {
			snprintf(what, wlen, "CONNACK return code %u, beyond MQTT 3.1.1's 0..5", c);
			return PROTO_ERROR;
		}
		ev->code = c;
		snprintf(ev->note, sizeof(ev->note), "CONNACK %u: %s", c, mqtt_connack_text(c));
		return PROTO_REFUSED;
	}
	if (pos < 2) {
		if (c == (pos == 0 ? MQTT_PACKET_ID >> 8 : MQTT_PACKET_ID & 0xff))
			return PROTO_PARTIAL;
		snprintf(what, wlen, "SUBACK for another packet id than the SUBSCRIBE's %d", MQTT_PACKET_ID);
		return PROTO_ERROR;
	}
	if (c <= 2)
		return PROTO_DONE;
	if (c != MQTT_SUBACK_FAILURE) {
		snprintf(what, wlen, "SUBACK return code 0x%02x, not MQTT 3.1.1's 0, 1, 2 or 0x80", c);
		return PROTO_ERROR;
	}
	ev->code = c;
	tl = name_of("c1m/", rx->id, topic);
	snprintf(ev->note, sizeof(ev->note), "SUBACK 0x80: the broker refused the subscription to %.*s", (int)tl,
		 topic);
	return PROTO_REFUSED;
}

enum proto_status mqtt_feed(struct mqtt_rx *rx, enum mqtt_mode mode, const char *data, size_t len, size_t *used,
			    struct proto_event *ev)
{
	char want[MQTT_BODY_MAX], what[PROTO_NOTE_LEN];
	size_t i = 0, wl = 0, tl;
	uint32_t pos, blen;
	enum proto_status s;
	unsigned t;
	unsigned char c;

	ev->code = 0;
	ev->closing = false;
	ev->note[0] = '\0';
	if (rx->phase == MQTT_FAIL)
		return fail(rx, data, len, 0, used, ev, "input after an error");
	while (i < len) {
		c = (unsigned char)data[i];
		t = rx->type >> 4;
		/* the PUBLISH this connection expects next, once per call (rx->seq changes only at the return) */
		if (t == MQTT_PUBLISH && rx->phase != MQTT_TYPE && wl == 0)
			wl = publish_body(rx->id, rx->seq, want);
		switch (rx->phase) {
		case MQTT_TYPE:
			if (check_type(rx, mode, c, what, sizeof(what)))
				return fail(rx, data, len, i, used, ev, what);
			rx->type = c;
			rx->phase = MQTT_LEN;
			rx->left = 0;
			rx->nlen = 0;
			i++;
			break;
		case MQTT_LEN:
			rx->left |= (uint32_t)(c & 0x7f) << (7 * rx->nlen);
			rx->nlen++;
			if (c & 0x80) {
				if (rx->nlen == 4)
					return fail(rx, data, len, i, used, ev, "remaining length longer than 4 bytes");
				i++;
				break;
			}
			blen = t == MQTT_CONNACK ? 2 : t == MQTT_SUBACK ? 3 : t == MQTT_PUBLISH ? (uint32_t)wl : 0;
			if (rx->left != blen) {
				snprintf(what, sizeof(what), "%s of remaining length %u, where this one has %u",
					 type_names[t], rx->left, blen);
				return fail(rx, data, len, i, used, ev, what);
			}
			i++;
			rx->phase = MQTT_BODY;
			if (blen == 0) {    /* PINGRESP: an event only while idle */
				packet_done(rx);
				if (mode == MQTT_IDLE)
					goto done;
			}
			break;
		case MQTT_BODY:
			if (t == MQTT_PUBLISH) {
				pos = (uint32_t)wl - rx->left;
				if (c != (unsigned char)want[pos]) {
					tl = (size_t)((unsigned char)want[0] << 8 | (unsigned char)want[1]);
					if (pos < 2 + tl)
						snprintf(what, sizeof(what), "PUBLISH to another topic than %.*s", (int)tl,
							 want + 2);
					else
						snprintf(what, sizeof(what), "PUBLISH with another payload than message %u's",
							 rx->seq);
					return fail(rx, data, len, i, used, ev, what);
				}
				i++;
				if (--rx->left == 0) {
					rx->seq++;
					packet_done(rx);
					goto done;
				}
				break;
			}
			pos = (t == MQTT_CONNACK ? 2u : 3u) - rx->left;
			s = ack_byte(rx, t, pos, c, ev, what, sizeof(what));
			if (s == PROTO_ERROR)
				return fail(rx, data, len, i, used, ev, what);
			i++;
			if (--rx->left == 0)
				packet_done(rx);
			if (s != PROTO_PARTIAL) {
				*used = i;
				return s;
			}
			break;
		default:
			return fail(rx, data, len, i, used, ev, "input after an error");
		}
	}
	*used = i;
	return PROTO_PARTIAL;
done:
	*used = i;
	return PROTO_DONE;
}

int mqtt_check(const struct proto_cfg *cfg, char *err, size_t errlen)
{
	if (cfg->keepalive_ms > MQTT_KEEPALIVE_MAX_S * 1000u || cfg->keepalive_ms % 1000) {
		snprintf(err, errlen, "--keepalive %u.%03u: MQTT's keepalive is whole seconds 1..%u", cfg->keepalive_ms / 1000,
			 cfg->keepalive_ms % 1000, MQTT_KEEPALIVE_MAX_S);
		return -1;
	}
	return 0;
}

/* ---- the protocol table ---- */

static size_t mqtt_hello(const struct proto_cfg *cfg, uint64_t id, char *out, size_t outlen)
{
	return mqtt_build_hello(id, (cfg->keepalive_ms + 999) / 1000, out, outlen);
}

static void mqtt_ops_rx_init(const struct proto_cfg *cfg, uint64_t id, void *st)
{
	(void)cfg;
	mqtt_rx_init(st, id);
}

static enum proto_status mqtt_hello_feed(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					 size_t *used, struct proto_event *ev)
{
	(void)cfg;
	return mqtt_feed(st, MQTT_HELLO, data, len, used, ev);
}

static size_t mqtt_msg(const struct proto_cfg *cfg, const struct match_frame *f, char *out, size_t outlen)
{
	(void)cfg;
	return mqtt_build_publish(f->conn, f->seq, out, outlen);
}

static enum proto_status mqtt_reply_feed(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					 size_t *used, struct proto_event *ev)
{
	(void)cfg;
	return mqtt_feed(st, MQTT_REPLY, data, len, used, ev);
}

/* While held the broker sends only PINGRESP, and nothing needs an answer. */
static enum proto_status mqtt_idle_feed(const struct proto_cfg *cfg, void *st, const char *data, size_t len,
					size_t *used, char *answer, size_t answer_max, size_t *answer_len,
					struct proto_event *ev)
{
	(void)cfg;
	(void)answer;
	(void)answer_max;
	*answer_len = 0;
	return mqtt_feed(st, MQTT_IDLE, data, len, used, ev);
}

static size_t mqtt_keepalive(const struct proto_cfg *cfg, uint64_t id, char *out, size_t outlen)
{
	(void)cfg;
	(void)id;
	if (outlen < 2)
		return 0;
	out[0] = (char)(MQTT_PINGREQ << 4);
	out[1] = 0;
	return 2;
}

const struct proto_ops proto_mqtt_ops = {
	.name = "mqtt",
	.state_size = sizeof(struct mqtt_rx),
	.pipeline = true,    /* QoS 0 PUBLISHes wait for nothing; the broker keeps their order on one topic */
	.hello = mqtt_hello,
	.rx_init = mqtt_ops_rx_init,
	.hello_feed = mqtt_hello_feed,
	.msg = mqtt_msg,
	.reply_feed = mqtt_reply_feed,
	.idle_feed = mqtt_idle_feed,
	.keepalive = mqtt_keepalive,
};
