/* sbuf: appends that fit, the truncation flag, nothing written past the buffer, and the length the whole
 * text needs counted past the end as snprintf does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/util/sbuf.h"

static void test_appends(void **state)
{
	char buf[16];
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, buf, sizeof(buf));
	assert_string_equal(buf, "");
	sbuf_printf(&sb, "%s=%d", "a", 1);
	sbuf_printf(&sb, ", %s", "bc");
	assert_string_equal(buf, "a=1, bc");
	assert_int_equal(sbuf_done(&sb), 7);
}

static void test_truncation(void **state)
{
	char buf[8 + 4];
	struct sbuf sb;

	(void)state;
	memset(buf, 'X', sizeof(buf));
	sbuf_init(&sb, buf, 8);
	sbuf_printf(&sb, "1234");
	sbuf_printf(&sb, "5678");    /* does not fit: 8 bytes hold 7 characters and the NUL */
	sbuf_printf(&sb, "9");       /* ignored after the first truncation */
	assert_int_equal(sbuf_done(&sb), -1);
	assert_int_equal(strlen(buf), 7);
	assert_memory_equal(buf + 8, "XXXX", 4);
	sbuf_init(&sb, buf, 0);
	assert_int_equal(sbuf_done(&sb), -1);
}

/* sbuf_needed: what fits and what did not, the same count with any buffer, enough to hold the whole text. */
static void test_needed(void **state)
{
	char small[6], big[64];
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, big, sizeof(big));
	sbuf_printf(&sb, "%s=%d", "abc", 42);
	assert_int_equal(sbuf_needed(&sb), 6);
	assert_int_equal(sbuf_needed(&sb), (size_t)sbuf_done(&sb));

	sbuf_init(&sb, small, sizeof(small));
	sbuf_printf(&sb, "abc");
	sbuf_printf(&sb, "defgh");          /* cut: "abcde" and the NUL */
	sbuf_printf(&sb, "%d", 12345);      /* measured only */
	sbuf_json_string(&sb, "a\"b");      /* a"b quoted and escaped: 6 bytes */
	assert_int_equal(sbuf_done(&sb), -1);
	assert_string_equal(small, "abcde");
	assert_int_equal(sbuf_needed(&sb), 3 + 5 + 5 + 6);

	sbuf_init(&sb, NULL, 0);            /* measuring only */
	sbuf_printf(&sb, "abcdefgh%d", 12345);
	assert_int_equal(sbuf_needed(&sb), 13);

	/* A buffer of needed + 1 holds the text that did not fit. */
	sbuf_init(&sb, big, 13 + 1);
	sbuf_printf(&sb, "abcdefgh%d", 12345);
	assert_int_equal(sbuf_done(&sb), 13);
	assert_string_equal(big, "abcdefgh12345");
}

/* A field filled in several passes: each pass continues the text, and a full field stays full. */
static void test_resume(void **state)
{
	char buf[12] = "ab";
	struct sbuf sb;

	(void)state;
	sbuf_resume(&sb, buf, sizeof(buf));
	assert_int_equal(sb.used, 2);
	sbuf_printf(&sb, "; %d", 42);
	assert_string_equal(buf, "ab; 42");
	sbuf_resume(&sb, buf, sizeof(buf));
	sbuf_printf(&sb, "; %s", "toolong");
	assert_true(sb.overflow);
	assert_string_equal(buf, "ab; 42; too");
	assert_int_equal(sbuf_needed(&sb), strlen("ab; 42; toolong"));
	memset(buf, 'x', sizeof(buf));    /* no NUL at all: counts as full, and is terminated */
	sbuf_resume(&sb, buf, sizeof(buf));
	assert_true(sb.overflow);
	assert_int_equal(sbuf_done(&sb), -1);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
}

static void test_json_string(void **state)
{
	char buf[64];
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb, buf, sizeof(buf));
	sbuf_json_string(&sb, "a\"b\\c\nd\x01\te\rf\x1f");
	assert_string_equal(buf, "\"a\\\"b\\\\c\\nd\\u0001\\te\\rf\\u001f\"");
	assert_true(sbuf_done(&sb) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_needed),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_json_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
