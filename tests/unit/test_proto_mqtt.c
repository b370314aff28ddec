/* MQTT 3.1.1 for --proto mqtt: the CONNECT + SUBSCRIBE, PUBLISH and PINGREQ bytes; the broker's packets
 * (CONNACK, SUBACK, PUBLISH, PINGRESP) parsed when split at every byte and coalesced in one read; CONNACK
 * refusals 1..5 with the meaning MQTT 3.1.1 gives them and SUBACK 0x80; malformed input (a remaining length
 * longer than 4 bytes, a wrong packet type or flags, another topic or payload) refused at the offending byte
 * with the state staying failed; and the options (--keepalive) with the table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "client/client_opts.h"
#include "client/proto_mqtt.h"

#define ID 7u

/* The broker's side of the handshake, as mosquitto sends it: CONNACK 0, SUBACK granting QoS 0. */
static const char hello_ok[] = "\x20\x02\x00\x00" "\x90\x03\x00\x01\x00";
/* PUBLISH of message n on c1m/7: fixed header, topic length, topic, 10-digit payload. */
#define PUB(n) "\x30\x11\x00\x05" "c1m/7" "000000000" n
#define PINGRESP "\xd0\x00"

struct outcome {
	unsigned events;             /* DONE or REFUSED */
	enum proto_status last;      /* the last event or error */
	unsigned code;
	size_t end;                  /* stream offset after the last event, or of the offending byte */
	char note[PROTO_NOTE_LEN];
};

/* Feeds s[0..len) in two pieces split at cut, each piece to the end or the first event; on an event of
 * HELLO (the last a stream can have) the rest must be empty. Stops at an error or refusal. */
static void feed_cut(enum mqtt_mode mode, const char *s, size_t len, size_t cut, struct outcome *o)
{
	struct mqtt_rx rx;
	struct proto_event ev;
	size_t bounds[3] = { 0, cut, len }, pos, used;
	enum proto_status st;
	unsigned k;

	memset(o, 0, sizeof(*o));
	o->last = PROTO_PARTIAL;
	mqtt_rx_init(&rx, ID);
	for (k = 0; k < 2; k++) {
		for (pos = bounds[k]; pos < bounds[k + 1];) {
			st = mqtt_feed(&rx, mode, s + pos, bounds[k + 1] - pos, &used, &ev);
			assert_true(used <= bounds[k + 1] - pos);
			assert_non_null(memchr(ev.note, '\0', sizeof(ev.note)));
			pos += used;
			if (st == PROTO_PARTIAL) {
				assert_int_equal(pos, bounds[k + 1]);
				continue;
			}
			o->last = st;
			o->code = ev.code;
			o->end = pos;
			snprintf(o->note, sizeof(o->note), "%s", ev.note);
			if (st == PROTO_ERROR || st == PROTO_REFUSED)
				return;
			assert_true(used > 0);
			o->events++;
		}
	}
}

/* The same outcome for every split of s, and equal to the whole stream's; returns the whole stream's. */
static struct outcome every_split(enum mqtt_mode mode, const char *s, size_t len)
{
	struct outcome whole, o;
	size_t cut;

	feed_cut(mode, s, len, len, &whole);
	for (cut = 0; cut <= len; cut++) {
		feed_cut(mode, s, len, cut, &o);
		assert_int_equal(o.events, whole.events);
		assert_int_equal(o.last, whole.last);
		assert_int_equal(o.code, whole.code);
		assert_int_equal(o.end, whole.end);
		/* an error quotes the bytes from the offending one to the end of its piece: compare the what */
		assert_int_equal(strcspn(o.note, "\""), strcspn(whole.note, "\""));
		assert_memory_equal(o.note, whole.note, strcspn(whole.note, "\""));
	}
	return whole;
}

/* Every single byte given separately, too. */
static unsigned byte_by_byte(enum mqtt_mode mode, const char *s, size_t len)
{
	struct mqtt_rx rx;
	struct proto_event ev;
	size_t i, used;
	unsigned events = 0;
	enum proto_status st;

	mqtt_rx_init(&rx, ID);
	for (i = 0; i < len; i++) {
		st = mqtt_feed(&rx, mode, s + i, 1, &used, &ev);
		assert_int_equal(used, 1);
		assert_true(st == PROTO_PARTIAL || st == PROTO_DONE);
		events += st == PROTO_DONE;
	}
	return events;
}

static void test_build(void **state)
{
	static const char want_hello[] =
		"\x10\x11\x00\x04MQTT\x04\x02\x00\x3c\x00\x05" "c1m-7"      /* CONNECT, keepalive 60 */
		"\x82\x0a\x00\x01\x00\x05" "c1m/7" "\x00";                  /* SUBSCRIBE c1m/7 QoS 0 */
	char out[PROTO_MSG_MAX];
	size_t n;

	(void)state;
	n = mqtt_build_hello(ID, 60, out, sizeof(out));
	assert_int_equal(n, sizeof(want_hello) - 1);
	assert_memory_equal(out, want_hello, n);
	assert_int_equal(mqtt_build_hello(ID, 60, out, n - 1), 0);
	assert_int_equal(mqtt_build_hello(ID, 65536, out, sizeof(out)), 0);
	n = mqtt_build_hello(1234567890123ull, 65535, out, sizeof(out));
	assert_int_equal(n, 2 + 12 + 17 + 2 + 5 + 17);
	assert_memory_equal(out + 10, "\xff\xff\x00\x11" "c1m-1234567890123", 21);
	n = mqtt_build_publish(ID, 3, out, sizeof(out));
	assert_int_equal(n, sizeof(PUB("3")) - 1);
	assert_memory_equal(out, PUB("3"), n);
	assert_int_equal(mqtt_build_publish(ID, 3, out, n - 1), 0);
	n = mqtt_build_publish(0, 4294967295u, out, sizeof(out));
	assert_memory_equal(out, "\x30\x11\x00\x05" "c1m/0" "4294967295", n);
}

static void test_hello_split(void **state)
{
	struct outcome o;

	(void)state;
	o = every_split(MQTT_HELLO, hello_ok, sizeof(hello_ok) - 1);
	assert_int_equal(o.last, PROTO_DONE);
	assert_int_equal(o.events, 1);
	assert_int_equal(o.end, sizeof(hello_ok) - 1);
	assert_int_equal(byte_by_byte(MQTT_HELLO, hello_ok, sizeof(hello_ok) - 1), 1);
	/* QoS 1 or 2 granted: the broker may grant more than asked, and routes QoS 0 messages at QoS 0 */
	o = every_split(MQTT_HELLO, "\x20\x02\x00\x00\x90\x03\x00\x01\x02", 9);
	assert_int_equal(o.last, PROTO_DONE);
}

/* The phase: PUBLISHes in order, PINGRESPs (to PINGREQs sent before) consumed between them. */
static void test_reply_split(void **state)
{
	static const char s[] = PINGRESP PUB("0") PUB("1") PINGRESP PUB("2") PINGRESP;
	struct outcome o;

	(void)state;
	o = every_split(MQTT_REPLY, s, sizeof(s) - 1);
	assert_int_equal(o.events, 3);
	assert_int_equal(o.last, PROTO_DONE);
	assert_int_equal(o.end, sizeof(s) - 1 - 2);
	assert_int_equal(byte_by_byte(MQTT_REPLY, s, sizeof(s) - 1), 3);
}

static void test_idle_split(void **state)
{
	static const char s[] = PINGRESP PINGRESP PINGRESP;
	struct outcome o;

	(void)state;
	o = every_split(MQTT_IDLE, s, sizeof(s) - 1);
	assert_int_equal(o.events, 3);
	assert_int_equal(o.end, 6);
	assert_int_equal(byte_by_byte(MQTT_IDLE, s, sizeof(s) - 1), 3);
}

/* s must fail at byte at in mode, whatever the split, with a note holding what; later input fails too. */
static void bad(enum mqtt_mode mode, const char *s, size_t len, size_t at, const char *what)
{
	struct outcome o = every_split(mode, s, len);
	struct mqtt_rx rx;
	struct proto_event ev;
	size_t used = 99;

	assert_int_equal(o.last, PROTO_ERROR);
	assert_int_equal(o.end, at);
	if (strstr(o.note, what) == NULL)
		fail_msg("note '%s' lacks '%s'", o.note, what);
	assert_true(strncmp(o.note, "MQTT: ", 6) == 0);
	/* the state stays failed */
	mqtt_rx_init(&rx, ID);
	while (mqtt_feed(&rx, mode, s, len, &used, &ev) == PROTO_DONE) {
		s += used;
		len -= used;
		at -= used;
	}
	assert_int_equal(used, at);
	assert_int_equal(mqtt_feed(&rx, mode, PINGRESP, 2, &used, &ev), PROTO_ERROR);
	assert_int_equal(used, 0);
	assert_non_null(strstr(ev.note, "input after an error"));
}

static void test_remaining_length(void **state)
{
	(void)state;
	/* a varint of 5 bytes: the 4th still has its continuation bit */
	bad(MQTT_IDLE, "\xd0\x80\x80\x80\x80\x01", 6, 4, "remaining length longer than 4 bytes");
	bad(MQTT_HELLO, "\x20\xff\xff\xff\xff", 5, 4, "remaining length longer than 4 bytes");
	/* 4 bytes are allowed by the encoding, but no packet c1m accepts is that long */
	bad(MQTT_REPLY, "\x30\xff\xff\xff\x7f", 5, 4, "PUBLISH of remaining length 268435455, where this one has 17");
	bad(MQTT_HELLO, "\x20\x03\x00\x00\x00", 5, 1, "CONNACK of remaining length 3, where this one has 2");
	bad(MQTT_HELLO, "\x20\x02\x00\x00\x90\x00", 6, 5, "SUBACK of remaining length 0, where this one has 3");
	bad(MQTT_IDLE, "\xd0\x01\x00", 3, 1, "PINGRESP of remaining length 1, where this one has 0");
	/* a PUBLISH on a longer topic (c1m/70) is longer than c1m/7's */
	bad(MQTT_REPLY, "\x30\x12\x00\x06" "c1m/70" "0000000000", 20, 1, "remaining length 18, where this one has 17");
}

static void test_wrong_type(void **state)
{
	(void)state;
	bad(MQTT_HELLO, PUB("0"), 19, 0, "PUBLISH (0x30) where CONNACK was expected");
	bad(MQTT_HELLO, "\x90\x03\x00\x01\x00", 5, 0, "SUBACK (0x90) where CONNACK was expected");
	bad(MQTT_HELLO, "\x20\x02\x00\x00\x20\x02\x00\x00", 8, 4, "CONNACK (0x20) where SUBACK was expected");
	bad(MQTT_HELLO, "\xd0\x00", 2, 0, "PINGRESP (0xd0) where CONNACK was expected");
	bad(MQTT_REPLY, "\x20\x02\x00\x00", 4, 0, "CONNACK (0x20) where PUBLISH was expected");
	bad(MQTT_REPLY, PUB("0") "\xe0\x00", 21, 19, "DISCONNECT (0xe0) where PUBLISH was expected");
	bad(MQTT_IDLE, PINGRESP PUB("0"), 21, 2, "PUBLISH (0x30) where PINGRESP was expected");
	bad(MQTT_IDLE, "\x00\x00", 2, 0, "reserved type 0 (0x00) where PINGRESP was expected");
	bad(MQTT_IDLE, "\xf0\x00", 2, 0, "reserved type 15");
	bad(MQTT_IDLE, "HTTP/1.1 400", 12, 0, "PUBACK (0x48) where PINGRESP was expected");   /* 'H' = 0x48: type 4, PUBACK */
	/* the flags MQTT 3.1.1 fixes, and QoS 0 live messages */
	bad(MQTT_HELLO, "\x21\x02\x00\x00", 4, 0, "CONNACK with flags 0x1, where MQTT 3.1.1 fixes them at 0");
	bad(MQTT_IDLE, "\xd2\x00", 2, 0, "PINGRESP with flags 0x2");
	bad(MQTT_REPLY, "\x32\x13\x00\x05" "c1m/7" "\x00\x01" "0000000000", 21, 0, "PUBLISH at QoS 1");
	bad(MQTT_REPLY, "\x31\x11", 2, 0, "PUBLISH with RETAIN set");
	bad(MQTT_REPLY, "\x38\x11", 2, 0, "PUBLISH with DUP set");
}

static void test_publish_content(void **state)
{
	(void)state;
	bad(MQTT_REPLY, "\x30\x11\x00\x05" "c1m/8" "0000000000", 19, 8, "PUBLISH to another topic than c1m/7");
	bad(MQTT_REPLY, "\x30\x11\x01\x05", 4, 2, "PUBLISH to another topic than c1m/7");
	/* message 1 came where message 0 was due */
	bad(MQTT_REPLY, PUB("1"), 19, 18, "PUBLISH with another payload than message 0's");
	bad(MQTT_REPLY, PUB("0") PUB("0"), 38, 37, "another payload than message 1's");
}

/* CONNACK 1..5 refuse with their meaning (MQTT 3.1.1 section 3.2.2.3); beyond 5 is malformed. */
static void test_connack_codes(void **state)
{
	static const char *const meaning[] = { NULL, "CONNACK 1: unacceptable protocol version",
		"CONNACK 2: identifier rejected", "CONNACK 3: server unavailable",
		"CONNACK 4: bad user name or password", "CONNACK 5: not authorized" };
	char s[4] = { 0x20, 0x02, 0x00, 0x00 };
	struct outcome o;
	unsigned c;

	(void)state;
	for (c = 1; c <= 5; c++) {
		s[3] = (char)c;
		o = every_split(MQTT_HELLO, s, 4);
		assert_int_equal(o.last, PROTO_REFUSED);
		assert_int_equal(o.code, c);
		assert_int_equal(o.end, 4);
		assert_string_equal(o.note, meaning[c]);
		assert_string_equal(mqtt_connack_text(c), meaning[c] + strlen("CONNACK 1: "));
	}
	assert_null(mqtt_connack_text(0));
	assert_null(mqtt_connack_text(6));
	bad(MQTT_HELLO, "\x20\x02\x00\x06", 4, 3, "CONNACK return code 6, beyond MQTT 3.1.1's 0..5");
	bad(MQTT_HELLO, "\x20\x02\x01\x00", 4, 2, "CONNACK flags 0x01, where a clean session has 0");
}

static void test_suback(void **state)
{
	static const char refused[] = "\x20\x02\x00\x00" "\x90\x03\x00\x01\x80";
	struct outcome o;

	(void)state;
	o = every_split(MQTT_HELLO, refused, sizeof(refused) - 1);
	assert_int_equal(o.last, PROTO_REFUSED);
	assert_int_equal(o.code, MQTT_SUBACK_FAILURE);
	assert_int_equal(o.end, 9);
	assert_string_equal(o.note, "SUBACK 0x80: the broker refused the subscription to c1m/7");
	bad(MQTT_HELLO, "\x20\x02\x00\x00" "\x90\x03\x00\x01\x03", 9, 8, "SUBACK return code 0x03");
	bad(MQTT_HELLO, "\x20\x02\x00\x00" "\x90\x03\x00\x02\x00", 9, 7, "SUBACK for another packet id");
	bad(MQTT_HELLO, "\x20\x02\x00\x00" "\x90\x03\x01\x01\x00", 9, 6, "SUBACK for another packet id");
}

/* The table: the handshake, a message, the keepalive, each feed in its mode, and the state's size. */
static void test_mqtt_ops(void **state)
{
	const struct proto_ops *ops = proto_get(PROTO_MQTT);
	unsigned char st[PROTO_STATE_MAX];
	struct proto_cfg c;
	struct proto_event ev;
	struct match_frame f = { ID, 2, 3 };
	char out[PROTO_MSG_MAX], answer[16];
	size_t used, alen = 9;

	(void)state;
	proto_cfg_init(&c);
	assert_int_equal(proto_from_name("mqtt", &c.id), 0);
	assert_int_equal(c.id, PROTO_MQTT);
	assert_string_equal(proto_name(PROTO_MQTT), "mqtt");
	assert_ptr_equal(ops, &proto_mqtt_ops);
	assert_int_equal(ops->state_size, 24);
	assert_true(ops->state_size <= PROTO_STATE_MAX);
	assert_true(ops->pipeline);
	c.keepalive_ms = 1500;   /* rounded up to whole seconds */
	assert_int_equal(ops->hello(&c, ID, out, sizeof(out)), 31);
	assert_memory_equal(out + 10, "\x00\x02", 2);
	assert_int_equal(ops->msg(&c, &f, out, sizeof(out)), 19);
	assert_memory_equal(out, PUB("2"), 19);
	assert_int_equal(proto_msg_bytes(&c), 19);   /* connection 0: c1m/0, message 0 */
	assert_int_equal(ops->keepalive(&c, ID, out, sizeof(out)), 2);
	assert_memory_equal(out, "\xc0\x00", 2);
	ops->rx_init(&c, ID, st);
	assert_int_equal(ops->hello_feed(&c, st, hello_ok, 9, &used, &ev), PROTO_DONE);
	assert_int_equal(used, 9);
	assert_int_equal(ops->idle_feed(&c, st, PINGRESP, 2, &used, answer, sizeof(answer), &alen, &ev), PROTO_DONE);
	assert_int_equal(alen, 0);
	ops->rx_init(&c, ID, st);   /* the phase: message numbers from 0 */
	assert_int_equal(ops->reply_feed(&c, st, PUB("0"), 19, &used, &ev), PROTO_DONE);
	assert_int_equal(ev.code, 0);
	assert_int_equal(ops->reply_feed(&c, st, PINGRESP PUB("1"), 21, &used, &ev), PROTO_DONE);
	assert_int_equal(used, 21);
	ops->rx_init(&c, ID + 1, st);   /* another connection: c1m/8 */
	assert_int_equal(ops->reply_feed(&c, st, PUB("0"), 19, &used, &ev), PROTO_ERROR);
}

/* --keepalive: whole seconds 1..65535, only with --proto mqtt, 60 s without it. */
static void test_options(void **state)
{
	struct client_options o;
	char err[256];
	char *ok[] = { "c1m-client", "127.0.0.1", "-n", "1", "--proto", "mqtt", "--keepalive", "5", NULL };
	char *dflt[] = { "c1m-client", "127.0.0.1", "-n", "1", "--proto", "mqtt", NULL };
	char *frac[] = { "c1m-client", "127.0.0.1", "-n", "1", "--proto", "mqtt", "--keepalive", "1.5", NULL };
	char *zero[] = { "c1m-client", "127.0.0.1", "-n", "1", "--proto", "mqtt", "--keepalive=0", NULL };
	char *big[] = { "c1m-client", "127.0.0.1", "-n", "1", "--proto", "mqtt", "--keepalive", "65536", NULL };
	char *http[] = { "c1m-client", "127.0.0.1", "-n", "1", "--proto", "http", "--keepalive", "5", NULL };
	char *echo[] = { "c1m-client", "127.0.0.1", "-n", "1", "--keepalive", "5", NULL };
	char *name[] = { "c1m-client", "127.0.0.1", "-n", "1", "--proto", "mqtt5", NULL };
	char *cmd[] = { "c1m-client", "127.0.0.1", "-n", "1", "--proto", "mqtt", "--command", "PING", NULL };

	(void)state;
	assert_int_equal(client_opts_parse(8, ok, &o, err, sizeof(err)), 0);
	assert_int_equal(o.proto.keepalive_ms, 5000);
	assert_int_equal(client_opts_parse(6, dflt, &o, err, sizeof(err)), 0);
	assert_int_equal(o.proto.keepalive_ms, MQTT_KEEPALIVE_DEFAULT_S * 1000);
	assert_int_equal(client_opts_parse(8, frac, &o, err, sizeof(err)), -1);
	assert_string_equal(err, "--keepalive: '1.5' is not a whole number (seconds, the CONNECT's 16-bit keepalive "
			    "field)");
	assert_int_equal(client_opts_parse(7, zero, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--keepalive: 0 is out of range 1..65535"));
	assert_int_equal(client_opts_parse(8, big, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "65536 is out of range 1..65535"));
	assert_int_equal(client_opts_parse(8, http, &o, err, sizeof(err)), -1);
	assert_string_equal(err, "--keepalive is for --proto mqtt");
	assert_int_equal(client_opts_parse(6, echo, &o, err, sizeof(err)), -1);
	assert_string_equal(err, "--keepalive is for --proto mqtt");
	assert_int_equal(client_opts_parse(6, name, &o, err, sizeof(err)), -1);
	assert_string_equal(err, "--proto: 'mqtt5' is not a protocol (echo, http, redis, mqtt or ws)");
	assert_int_equal(client_opts_parse(8, cmd, &o, err, sizeof(err)), -1);
	assert_string_equal(err, "--command is for --proto redis");
	assert_non_null(strstr(client_opts_usage(), "--keepalive SECONDS"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_hello_split),
		cmocka_unit_test(test_reply_split),
		cmocka_unit_test(test_idle_split),
		cmocka_unit_test(test_remaining_length),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_publish_content),
		cmocka_unit_test(test_connack_codes),
		cmocka_unit_test(test_suback),
		cmocka_unit_test(test_mqtt_ops),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
