/* Unit tests for --cpus lists: single CPUs and ranges in the order written, the errors (empty entries,
 * reversed ranges, duplicates, numbers out of range, blanks and other text), and the folded text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/util/cpulist.h"

static struct cpulist l;
static char err[256], text[256];

static void test_parse(void **state)
{
	(void)state;
	assert_int_equal(cpulist_parse("0", &l, err, sizeof(err)), 0);
	assert_int_equal(l.count, 1);
	assert_int_equal(l.cpu[0], 0);
	assert_int_equal(cpulist_parse("3,0-2,7", &l, err, sizeof(err)), 0);
	assert_int_equal(l.count, 5);
	assert_int_equal(l.cpu[0], 3);
	assert_int_equal(l.cpu[1], 0);
	assert_int_equal(l.cpu[3], 2);
	assert_int_equal(l.cpu[4], 7);
	assert_int_equal(cpulist_parse("0-1023", &l, err, sizeof(err)), 0);
	assert_int_equal(l.count, 1024);
	assert_int_equal(l.cpu[1023], 1023);
	assert_int_equal(cpulist_parse("5-5", &l, err, sizeof(err)), 0);
	assert_int_equal(l.count, 1);
}

static void test_errors(void **state)
{
	static const struct { const char *in, *err; } bad[] = {
		{ "", "an empty list (want e.g. 0-3,6)" },
		{ "1,", "an empty entry (two commas, or one at an end)" },
		{ ",1", "an empty entry (two commas, or one at an end)" },
		{ "1,,2", "an empty entry (two commas, or one at an end)" },
		{ "3-1", "'3-1' is a reversed range" },
		{ "0-2,1", "CPU 1 is listed twice" },
		{ "1024", "'1024' is not a CPU number 0..1023 or a range A-B of them" },
		{ "0,1x,2", "'1x' is not a CPU number 0..1023 or a range A-B of them" },
		{ " 1", "' 1' is not a CPU number 0..1023 or a range A-B of them" },
		{ "-1", "'-1' is not a CPU number 0..1023 or a range A-B of them" },
		{ "1-", "'1-' is not a CPU number 0..1023 or a range A-B of them" },
		{ "all", "'all' is not a CPU number 0..1023 or a range A-B of them" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		l.count = 9;
		assert_int_equal(cpulist_parse(bad[i].in, &l, err, sizeof(err)), -1);
		assert_string_equal(err, bad[i].err);
		assert_int_equal(l.count, 0);
	}
	assert_int_equal(cpulist_parse(NULL, &l, err, sizeof(err)), -1);
}

static void test_format(void **state)
{
	(void)state;
	assert_int_equal(cpulist_parse("0,1,2,3,6,8-9", &l, err, sizeof(err)), 0);
	assert_int_equal(cpulist_format(&l, text, sizeof(text)), 9);
	assert_string_equal(text, "0-3,6,8-9");
	assert_int_equal(cpulist_parse("1,0", &l, err, sizeof(err)), 0);
	assert_int_equal(cpulist_format(&l, text, sizeof(text)), 3);
	assert_string_equal(text, "1,0");   /* the order is kept: worker 0 on CPU 1 */
	assert_int_equal(cpulist_parse("0-1023", &l, err, sizeof(err)), 0);
	assert_int_equal(cpulist_format(&l, text, 4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
