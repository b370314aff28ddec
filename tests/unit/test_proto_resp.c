/* RESP2 for the Redis protocol: replies of every type framed when split at every byte and coalesced in one
 * read, nested and null arrays, -errors with their text, malformed input refused at the offending byte and
 * the state staying failed, the bounds, and the command builder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "client/proto_resp.h"

/* One of each kind, as a Redis server sends them. */
static const char replies[] =
	"+PONG\r\n"
	"-ERR max number of clients reached\r\n"
	":-42\r\n"
	"$5\r\nhello\r\n"
	"$0\r\n\r\n"
	"$-1\r\n"
	"*-1\r\n"
	"*0\r\n"
	"*3\r\n:1\r\n*2\r\n$3\r\nfoo\r\n*1\r\n+x\r\n$-1\r\n"
	"*2\r\n-WRONGTYPE no\r\n:7\r\n";
#define N_REPLIES 10
static const unsigned codes_want[N_REPLIES] = {0, RESP_ERR_CODE, 0, 0, 0, 0, 0, 0, 0, RESP_ERR_CODE};

/* Feeds s in pieces of step bytes; returns the replies completed (codes and end offsets recorded). */
static unsigned feed_all(const char *s, size_t len, size_t step, unsigned *codes, size_t *ends)
{
	struct resp_rx rx;
	struct proto_event ev;
	size_t pos = 0, n, off, used;
	unsigned done = 0;
	enum proto_status st;

	resp_rx_init(&rx);
	while (pos < len) {
		n = len - pos < step ? len - pos : step;
		for (off = 0; off < n;) {
			st = resp_feed(&rx, s + pos + off, n - off, &used, &ev);
			assert_true(st == PROTO_PARTIAL || st == PROTO_DONE);
			assert_true(used <= n - off);
			off += used;
			if (st == PROTO_DONE) {
				codes[done] = ev.code;
				ends[done] = pos + off;
				done++;
			} else {
				assert_int_equal(off, n);
			}
		}
		pos += n;
	}
	return done;
}

static void test_every_split(void **state)
{
	unsigned codes[32], codes1[32];
	size_t ends[32], ends1[32], step;
	unsigned n, i;

	(void)state;
	n = feed_all(replies, sizeof(replies) - 1, sizeof(replies), codes1, ends1);
	assert_int_equal(n, N_REPLIES);
	for (i = 0; i < N_REPLIES; i++)
		assert_int_equal(codes1[i], codes_want[i]);
	assert_int_equal(ends1[N_REPLIES - 1], sizeof(replies) - 1);
	for (step = 1; step < sizeof(replies); step++) {
		assert_int_equal(feed_all(replies, sizeof(replies) - 1, step, codes, ends), N_REPLIES);
		assert_memory_equal(codes, codes1, sizeof(unsigned) * N_REPLIES);
		assert_memory_equal(ends, ends1, sizeof(size_t) * N_REPLIES);
	}
}

static void test_error_note(void **state)
{
	static const char s[] = "-ERR max number of clients reached\r\n";
	struct resp_rx rx;
	struct proto_event ev;
	size_t used;

	(void)state;
	assert_true(sizeof(struct resp_rx) <= 24);
	resp_rx_init(&rx);
	assert_int_equal(resp_feed(&rx, s, sizeof(s) - 1, &used, &ev), PROTO_DONE);
	assert_int_equal(used, sizeof(s) - 1);
	assert_int_equal(ev.code, RESP_ERR_CODE);
	assert_string_equal(ev.note, "ERR max number of clients reached");
	/* a success has no note */
	assert_int_equal(resp_feed(&rx, "+OK\r\n", 5, &used, &ev), PROTO_DONE);
	assert_int_equal(ev.code, 0);
	assert_string_equal(ev.note, "");
}

/* Malformed: PROTO_ERROR at the offending byte, a note, and the state stays failed. */
static void bad(const char *s, size_t at, const char *what)
{
	struct resp_rx rx;
	struct proto_event ev;
	size_t used;

	resp_rx_init(&rx);
	assert_int_equal(resp_feed(&rx, s, strlen(s), &used, &ev), PROTO_ERROR);
	assert_int_equal(used, at);
	assert_non_null(strstr(ev.note, what));
	assert_int_equal(resp_feed(&rx, "+OK\r\n", 5, &used, &ev), PROTO_ERROR);
	assert_int_equal(used, 0);
}

static void test_malformed(void **state)
{
	(void)state;
	bad("HTTP/1.1 200 OK\r\n", 0, "not a RESP2 type byte at \"HTTP");
	bad("+OK\n", 3, "LF without CR");
	bad("+OK\rx", 4, "CR without LF");
	bad(":12a\r\n", 3, "not a number");
	bad(":\r\n", 1, "not a number");
	bad(":--1\r\n", 2, "not a number");
	bad("$-2\r\n", 3, "negative length");
	bad("*-0\r\n", 3, "negative length");
	bad("$3\r\nabcd\r\n", 7, "bulk longer than its length");
	bad("$3\r\nabc\rx", 8, "CR without LF after a bulk");
	bad("$536870913\r\n", 10, "bulk longer than 512 MiB");
	bad("*16777217\r\n", 9, "array of more than");
	bad(":99999999999999999999999\r\n", 19, "out of range");
	bad("*2\r\n:1\r\n?\r\n", 8, "not a RESP2 type byte");
}

static void test_long_line(void **state)
{
	static char s[RESP_LINE_MAX + 8];
	struct resp_rx rx;
	struct proto_event ev;
	size_t used;

	(void)state;
	s[0] = '+';
	memset(s + 1, 'a', RESP_LINE_MAX + 1);
	resp_rx_init(&rx);
	assert_int_equal(resp_feed(&rx, s, RESP_LINE_MAX + 2, &used, &ev), PROTO_ERROR);
	assert_int_equal(used, RESP_LINE_MAX + 1);
}

static void test_command(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(resp_build_command("PING", out, sizeof(out)), 14);
	assert_memory_equal(out, "*1\r\n$4\r\nPING\r\n", 14);
	assert_int_equal(resp_build_command("  SET k\tvalue ", out, sizeof(out)), 31);
	assert_memory_equal(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n", 31);
	assert_int_equal(resp_build_command("", out, sizeof(out)), 0);
	assert_int_equal(resp_build_command("   ", out, sizeof(out)), 0);
	assert_int_equal(resp_build_command("GET a\r\nb", out, sizeof(out)), 0);
	assert_int_equal(resp_build_command("PING", out, 14), 0);   /* one byte short of its NUL */
	assert_int_equal(resp_build_command("PING", out, 15), 14);
	assert_int_equal(resp_build_command("PING", out, 5), 0);
}

/* The table of --proto redis: the handshake and message bytes, an -error refusing the handshake with its
 * text, an -error reply failing a message, and the options checked. */
static void test_redis_ops(void **state)
{
	const struct proto_ops *ops = proto_get(PROTO_REDIS);
	static const char full[] = "-ERR max number of clients reached\r\n";
	unsigned char st[PROTO_STATE_MAX];
	struct proto_cfg c;
	struct proto_event ev;
	struct match_frame f = { 1, 2, 3 };
	char out[PROTO_MSG_MAX], err[256];
	size_t used;

	(void)state;
	proto_cfg_init(&c);
	c.id = PROTO_REDIS;
	assert_ptr_equal(ops, &proto_redis_ops);
	assert_true(ops->state_size <= PROTO_STATE_MAX);
	assert_int_equal(ops->hello(&c, 7, out, sizeof(out)), 14);
	assert_memory_equal(out, "*1\r\n$4\r\nPING\r\n", 14);
	c.hello = "AUTH pw";
	c.command = "GET k";
	assert_int_equal(ops->hello(&c, 7, out, sizeof(out)), 22);
	assert_memory_equal(out, "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n", 22);
	assert_int_equal(ops->msg(&c, &f, out, sizeof(out)), 20);
	assert_int_equal(proto_msg_bytes(&c), 20);
	ops->rx_init(&c, 7, st);
	assert_int_equal(ops->hello_feed(&c, st, "+OK\r\n", 5, &used, &ev), PROTO_DONE);
	/* PING (the default, or asked for) must get exactly +PONG, split anywhere */
	c.hello = NULL;
	for (size_t cut = 0; cut <= 7; cut++) {
		ops->rx_init(&c, 7, st);
		if (cut > 0)
			assert_int_equal(ops->hello_feed(&c, st, "+PONG\r\n", cut, &used, &ev),
					 cut == 7 ? PROTO_DONE : PROTO_PARTIAL);
		if (cut < 7)
			assert_int_equal(ops->hello_feed(&c, st, &"+PONG\r\n"[cut], 7 - cut, &used, &ev),
					 PROTO_DONE);
	}
	ops->rx_init(&c, 7, st);
	assert_int_equal(ops->hello_feed(&c, st, "+PONX\r\n", 7, &used, &ev), PROTO_ERROR);
	assert_string_equal(ev.note, "PING answered with \"+PONX\\r\\n\", not +PONG");
	c.hello = "ping";
	ops->rx_init(&c, 7, st);
	assert_int_equal(ops->hello_feed(&c, st, "$4\r\nPONG\r\n", 10, &used, &ev), PROTO_ERROR);
	ops->rx_init(&c, 7, st);
	assert_int_equal(ops->hello_feed(&c, st, "+PONG", 5, &used, &ev), PROTO_PARTIAL);
	assert_int_equal(ops->hello_feed(&c, st, "X\r\n", 3, &used, &ev), PROTO_ERROR);
	c.hello = "AUTH pw";
	ops->rx_init(&c, 7, st);
	assert_int_equal(ops->hello_feed(&c, st, full, sizeof(full) - 1, &used, &ev), PROTO_REFUSED);
	assert_string_equal(ev.note, "ERR max number of clients reached");
	ops->rx_init(&c, 7, st);
	assert_int_equal(ops->reply_feed(&c, st, "-WRONGTYPE x\r\n", 15, &used, &ev), PROTO_DONE);
	assert_int_equal(ev.code, RESP_ERR_CODE);
	assert_int_equal(proto_cfg_check(&c, err, sizeof(err)), 0);
	c.command = " ";
	assert_int_equal(proto_cfg_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--command ' '"));
	c.command = NULL;
	c.id = PROTO_HTTP;
	assert_int_equal(proto_cfg_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "--hello is for --proto redis");
	assert_int_equal(proto_from_name("redis", &c.id), 0);
	assert_int_equal(c.id, PROTO_REDIS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_error_note),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_redis_ops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
