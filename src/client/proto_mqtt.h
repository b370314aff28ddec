/* MQTT 3.1.1 for c1m-client (--proto mqtt): the packets c1m sends and a streaming parser of the broker's.
 *
 * Each connection has its own client id "c1m-<id>" and its own topic "c1m/<id>" (id: the connection id).
 * The handshake is CONNECT (clean session, --keepalive) and SUBSCRIBE to the topic at QoS 0, written as one
 * buffer; it is complete after CONNACK 0 and a SUBACK that grants a QoS. A message of the latency phase is a
 * QoS 0 PUBLISH to the connection's own topic whose payload is its sequence number (10 digits), and its reply
 * is that PUBLISH routed back by the broker, so the broker's own routing is in the RTT. While held, the
 * connection sends PINGREQ every --keepalive and reads PINGRESP.
 *
 * The parser reads the fixed header (type byte and the remaining length, a varint of at most 4 bytes) and the
 * body of each packet byte by byte, split or coalesced in any way, and keeps no copy: every packet it accepts
 * has one exact length and content known in advance (a PUBLISH is compared against the one the connection
 * sent, rebuilt from its id and the count of PUBLISHes received), so its whole state is struct mqtt_rx, 24
 * bytes. Everything here is pure: it is fuzzed (fuzz.proto_mqtt). */
#ifndef C1M_PROTO_MQTT_H
#define C1M_PROTO_MQTT_H

#include <stddef.h>
#include <stdint.h>

#include "client/proto.h"

#define MQTT_KEEPALIVE_DEFAULT_S 60     /* --keepalive without the option, seconds */
#define MQTT_KEEPALIVE_MAX_S     65535u /* the CONNECT's keepalive field is 16 bits */
#define MQTT_PAYLOAD_LEN         10     /* a PUBLISH's payload: its sequence number, zero-padded */
#define MQTT_PACKET_ID           1      /* the SUBSCRIBE's packet identifier */
#define MQTT_SUBACK_FAILURE      0x80   /* SUBACK return code: the subscription was refused (ev->code) */

/* What the connection is doing, so what the broker may send. */
enum mqtt_mode {
	MQTT_HELLO,                  /* CONNACK, then SUBACK */
	MQTT_REPLY,                  /* the latency phase: PUBLISH on the own topic (and PINGRESP) */
	MQTT_IDLE,                   /* held: PINGRESP only */
};

/* Receive state of one connection (24 bytes). */
struct mqtt_rx {
	uint64_t id;                 /* the connection's id: its topic is c1m/<id> */
	uint32_t left;               /* the remaining length being read, then the body's bytes still to come */
	uint32_t seq;                /* PUBLISHes received since mqtt_rx_init: the number the next one carries */
	uint8_t type;                /* the packet's first byte */
	uint8_t phase;               /* where in a packet (proto_mqtt.c: enum mqtt_phase) */
	uint8_t nlen;                /* bytes of the remaining length read so far */
	uint8_t flags;               /* CONNACK 0 seen (proto_mqtt.c) */
	uint8_t pad[4];
};

/* Resets rx for connection id, before the handshake reply and before a phase. */
void mqtt_rx_init(struct mqtt_rx *rx, uint64_t id);

/* Consumes data[0..len) of the broker's stream in mode. PROTO_DONE after *used bytes: MQTT_HELLO: SUBACK
 * (after CONNACK 0) granted the subscription; MQTT_REPLY: the next PUBLISH came back; MQTT_IDLE: one
 * PINGRESP. In MQTT_REPLY a PINGRESP (to a PINGREQ sent before the phase) is consumed without an event.
 * PROTO_REFUSED (MQTT_HELLO): a CONNACK with return code 1..5 or a SUBACK with 0x80, after *used bytes;
 * ev->code is the code, ev->note names it ("CONNACK 3: server unavailable"). PROTO_PARTIAL: all consumed.
 * PROTO_ERROR: malformed or unexpected at data[*used] (ev->note says what and quotes the bytes); rx then
 * stays failed. */
enum proto_status mqtt_feed(struct mqtt_rx *rx, enum mqtt_mode mode, const char *data, size_t len, size_t *used,
			    struct proto_event *ev);

/* The meaning of CONNACK return code 1..5 (MQTT 3.1.1 section 3.2.2.3), NULL for any other code. */
const char *mqtt_connack_text(unsigned code);

/* CONNECT (clean session, client id c1m-<id>, keepalive_s) followed by SUBSCRIBE to c1m/<id> at QoS 0, in
 * out. Returns the length, 0 if it does not fit outlen. */
size_t mqtt_build_hello(uint64_t id, unsigned keepalive_s, char *out, size_t outlen);

/* The QoS 0 PUBLISH of message seq to c1m/<id>. Returns the length, 0 if it does not fit outlen. */
size_t mqtt_build_publish(uint64_t id, uint32_t seq, char *out, size_t outlen);

/* --keepalive with the protocol: whole seconds within the CONNECT's field. 0, or -1 with err. */
int mqtt_check(const struct proto_cfg *cfg, char *err, size_t errlen);

#endif
