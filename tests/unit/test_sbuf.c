/* sbuf: appends that fit, the truncation flag, and nothing written past the buffer. */
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
		cmocka_unit_test(test_json_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
