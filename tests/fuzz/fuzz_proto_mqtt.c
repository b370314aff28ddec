/* libFuzzer target: the MQTT 3.1.1 packet parser of --proto mqtt (proto_mqtt.h), which sees whatever bytes a
 * broker sends back. The first input byte chooses the mode (handshake, phase, idle) and a chunking seed, the
 * second the connection id (so topics of 1 to 3 digits); the rest is the broker's stream. It is fed twice:
 * whole (as one read) and in chunks of 1..64 bytes (as TCP may split it). The oracle: both feeds see the same
 * packets end at the same stream offsets and stop (or not) at the same byte with the same code; *used never
 * exceeds what was given, a PARTIAL consumes every byte, a DONE at least one; an error or a refusal has a
 * note, and a refusal only a CONNACK code 1..5 or SUBACK 0x80. The PUBLISH c1m builds for the connection
 * reads back as exactly one reply. */
#include "fuzz_util.h"

#include "client/proto_mqtt.h"

#include <stdlib.h>
#include <string.h>

struct bound {
	struct mqtt_rx rx;
	enum mqtt_mode mode;
};

static enum proto_status feed(void *st, const char *data, size_t len, size_t *used, struct proto_event *ev)
{
	struct bound *b = st;

	return mqtt_feed(&b->rx, b->mode, data, len, used, ev);
}

static void run(const char *data, size_t len, enum mqtt_mode mode, uint64_t id, unsigned seed,
		struct fuzz_trace *t)
{
	struct bound b;

	mqtt_rx_init(&b.rx, id);
	b.mode = mode;
	fuzz_split_feed("mqtt_feed", feed, &b, data, len, seed, t);
	if (t->last != PROTO_PARTIAL && t->stop_note[0] == '\0')
		fuzz_fail("mqtt_feed", "an error or a refusal without a note");
	if (t->last == PROTO_REFUSED &&
	    (mode != MQTT_HELLO || (mqtt_connack_text(t->stop_code) == NULL && t->stop_code != MQTT_SUBACK_FAILURE)))
		fuzz_fail("mqtt_feed", "a refusal that is neither CONNACK 1..5 nor SUBACK 0x80");
}

/* The message c1m sends is the reply it expects. */
static void roundtrip(uint64_t id)
{
	char out[PROTO_MSG_MAX];
	struct fuzz_trace t;
	size_t n = mqtt_build_publish(id, 0, out, sizeof(out));

	if (n == 0)
		fuzz_fail("mqtt_build_publish", "no PUBLISH built");
	run(out, n, MQTT_REPLY, id, 0, &t);
	if (t.last != PROTO_PARTIAL || t.n != 1 || t.end[0] != n)
		fuzz_fail("mqtt_build_publish", "the PUBLISH c1m sends does not read back as its reply");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_trace whole, split;
	enum mqtt_mode mode;
	uint64_t id;
	char *copy;

	if (size < 2)
		return 0;
	mode = (enum mqtt_mode)(data[0] % 3);
	id = data[1];
	/* an exact-size copy so reads past the stream end are caught */
	copy = malloc(size - 2 + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data + 2, size - 2);
	run(copy, size - 2, mode, id, 0, &whole);
	run(copy, size - 2, mode, id, (unsigned)data[0] | 1u, &split);
	fuzz_trace_compare("mqtt_feed", &whole, &split);
	roundtrip(id);
	free(copy);
	return 0;
}
