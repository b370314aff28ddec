/* Unit tests for the one JSON writer and reader: the writer's escaping, values, nesting, overflow and misuse;
 * the reader's strings and escapes, numbers (whole, fractional, too large, malformed), literals, skipping of
 * nested values, the depth limit, object and array walks with callbacks, and error positions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/util/json.h"

static void test_json_escaping(void **state)
{
	struct json_w w;
	char buf[256];

	(void)state;
	json_w_init(&w, buf, sizeof(buf));
	json_w_object_begin(&w, NULL);
	json_w_string(&w, "s", "a\"b\\c\nd\te\x01\x1f" "\xc3\xa9/");
	json_w_string(&w, "k\"ey", "");
	json_w_object_end(&w);
	assert_int_equal(json_w_finish(&w), (int)strlen(buf));
	assert_string_equal(buf, "{\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f\xc3\xa9/\",\"k\\\"ey\":\"\"}");
}

static void test_json_values_and_nesting(void **state)
{
	struct json_w w;
	char buf[256];

	(void)state;
	json_w_init(&w, buf, sizeof(buf));
	json_w_object_begin(&w, NULL);
	json_w_u64(&w, "u", UINT64_MAX);
	json_w_i64(&w, "i", -42);
	json_w_double(&w, "d", 1.23456, 2);
	json_w_double(&w, "nan", 0.0 / 0.0, 2);
	json_w_bool(&w, "t", true);
	json_w_bool(&w, "f", false);
	json_w_object_begin(&w, "o");
	json_w_object_end(&w);
	json_w_array_begin(&w, "a");
	json_w_u64(&w, NULL, 1);
	json_w_string(&w, NULL, "x");
	json_w_object_begin(&w, NULL);
	json_w_u64(&w, "y", 2);
	json_w_object_end(&w);
	json_w_array_end(&w);
	json_w_object_end(&w);
	assert_true(json_w_finish(&w) > 0);
	assert_string_equal(buf, "{\"u\":18446744073709551615,\"i\":-42,\"d\":1.23,\"nan\":null,\"t\":true,"
				 "\"f\":false,\"o\":{},\"a\":[1,\"x\",{\"y\":2}]}");
}

static void test_json_overflow_and_misuse(void **state)
{
	struct json_w w;
	char small[10], buf[64];
	int i;

	(void)state;
	json_w_init(&w, small, sizeof(small));
	json_w_object_begin(&w, NULL);
	json_w_string(&w, "key", "a long value that does not fit");
	json_w_object_end(&w);
	assert_int_equal(json_w_finish(&w), -1);
	assert_true(strlen(small) < sizeof(small));  /* still NUL-terminated */

	json_w_init(&w, buf, sizeof(buf));      /* unclosed */
	json_w_object_begin(&w, NULL);
	assert_int_equal(json_w_finish(&w), -1);

	json_w_init(&w, buf, sizeof(buf));      /* closed too often */
	json_w_object_begin(&w, NULL);
	json_w_object_end(&w);
	json_w_object_end(&w);
	assert_int_equal(json_w_finish(&w), -1);

	json_w_init(&w, buf, sizeof(buf));      /* two top-level values */
	json_w_u64(&w, NULL, 1);
	json_w_u64(&w, NULL, 2);
	assert_int_equal(json_w_finish(&w), -1);

	json_w_init(&w, buf, sizeof(buf));      /* too deep */
	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		json_w_array_begin(&w, NULL);
	assert_int_equal(json_w_finish(&w), -1);
}

static void test_json_null_helpers(void **state)
{
	struct json_w w;
	char buf[128];

	(void)state;
	json_w_init(&w, buf, sizeof(buf));
	json_w_object_begin(&w, NULL);
	json_w_u64_or_null(&w, "a", UINT64_MAX, UINT64_MAX);
	json_w_u64_or_null(&w, "b", 7, UINT64_MAX);
	json_w_string_or_null(&w, "c", "");
	json_w_string_or_null(&w, "d", NULL);
	json_w_string_or_null(&w, "e", "x");
	json_w_null(&w, "f");
	json_w_object_end(&w);
	assert_true(json_w_finish(&w) > 0);
	assert_string_equal(buf, "{\"a\":null,\"b\":7,\"c\":null,\"d\":null,\"e\":\"x\",\"f\":null}");
}

static char err[256];

static void reader(struct json_r *j, const char *text)
{
	err[0] = '\0';
	json_r_init(j, text, strlen(text), "test", err, sizeof(err));
}

static void test_read_strings(void **state)
{
	struct json_r j;
	char out[16];
	size_t full;

	(void)state;
	reader(&j, "\"a\\\"b\\\\c\\/\\n\\t\\u0041\\u00e9\"");
	assert_int_equal(json_r_string(&j, out, sizeof(out), &full), 0);
	assert_string_equal(out, "a\"b\\c/\n\tA?");
	assert_int_equal(full, 10);
	/* cut to the buffer, the full length still told */
	reader(&j, "\"0123456789abcdefXYZ\"");
	assert_int_equal(json_r_string(&j, out, sizeof(out), &full), 0);
	assert_string_equal(out, "0123456789abcde");
	assert_int_equal(full, 19);
	reader(&j, "\"abc");
	assert_int_equal(json_r_string(&j, out, sizeof(out), NULL), -1);
	assert_non_null(strstr(err, "test: unterminated string at byte"));
	reader(&j, "\"a\nb\"");
	assert_int_equal(json_r_string(&j, NULL, 0, NULL), -1);
	assert_non_null(strstr(err, "control character"));
	reader(&j, "\"\\x\"");
	assert_int_equal(json_r_string(&j, NULL, 0, NULL), -1);
	reader(&j, "\"\\u12\"");
	assert_int_equal(json_r_string(&j, NULL, 0, NULL), -1);
	reader(&j, "\"\\u12G4\"");
	assert_int_equal(json_r_string(&j, NULL, 0, NULL), -1);
	reader(&j, "5");
	assert_int_equal(json_r_string(&j, NULL, 0, NULL), -1);
	assert_string_equal(err, "test: expected a string at byte 0");
}

static void test_read_numbers(void **state)
{
	struct json_r j;
	uint64_t v;
	bool whole;
	double d;

	(void)state;
	reader(&j, "18446744073709551615");
	assert_int_equal(json_r_number(&j, &v, &whole), 0);
	assert_true(whole);
	assert_true(v == UINT64_MAX);
	reader(&j, "18446744073709551616");   /* valid JSON, but not a u64 */
	assert_int_equal(json_r_number(&j, &v, &whole), 0);
	assert_false(whole);
	reader(&j, "-3");
	assert_int_equal(json_r_number(&j, &v, &whole), 0);
	assert_false(whole);
	reader(&j, "2.5e3");
	assert_int_equal(json_r_double(&j, &d), 0);
	assert_true(d == 2500.0);
	reader(&j, "-0.125");
	assert_int_equal(json_r_double(&j, &d), 0);
	assert_true(d == -0.125);
	reader(&j, "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000.5");
	assert_int_equal(json_r_double(&j, &d), 0);   /* longer than any stack copy: still a number */
	assert_true(d > 9.9e89 && d < 1.1e90);
	assert_int_equal(json_r_end(&j), 0);
	reader(&j, "01");
	assert_int_equal(json_r_number(&j, &v, &whole), -1);
	assert_non_null(strstr(err, "leading zero"));
	reader(&j, "1.");
	assert_int_equal(json_r_number(&j, &v, &whole), -1);
	reader(&j, "1e+");
	assert_int_equal(json_r_number(&j, &v, &whole), -1);
	reader(&j, "-");
	assert_int_equal(json_r_number(&j, &v, &whole), -1);
}

static void test_read_literals_and_skip(void **state)
{
	struct json_r j;
	bool b;

	(void)state;
	reader(&j, "true");
	assert_int_equal(json_r_bool(&j, &b), 0);
	assert_true(b);
	reader(&j, "false");
	assert_int_equal(json_r_bool(&j, &b), 0);
	assert_false(b);
	reader(&j, "nul");
	assert_int_equal(json_r_bool(&j, &b), -1);
	reader(&j, " {\"a\": [1, {\"b\": null}, [], {}, \"x\", -2.5e1, true], \"c\": {}} ");
	assert_int_equal(json_r_skip(&j), 0);
	assert_int_equal(json_r_end(&j), 0);
	reader(&j, "{\"a\":1} x");
	assert_int_equal(json_r_skip(&j), 0);
	assert_int_equal(json_r_end(&j), -1);
	assert_non_null(strstr(err, "text after the end at byte 8"));
	reader(&j, "[1,]");
	assert_int_equal(json_r_skip(&j), -1);
	reader(&j, "{\"a\" 1}");
	assert_int_equal(json_r_skip(&j), -1);
	assert_non_null(strstr(err, "expected ':'"));
	reader(&j, "[1 2]");
	assert_int_equal(json_r_skip(&j), -1);
	reader(&j, "[");
	assert_int_equal(json_r_skip(&j), -1);
}

static void test_read_depth(void **state)
{
	struct json_r j;
	char deep[2 * JSON_MAX_DEPTH + 8];
	int i;

	(void)state;
	for (i = 0; i < JSON_MAX_DEPTH; i++) {
		deep[i] = '[';
		deep[JSON_MAX_DEPTH + i] = ']';
	}
	deep[2 * JSON_MAX_DEPTH] = '\0';
	reader(&j, deep);
	assert_int_equal(json_r_skip(&j), 0);
	memmove(deep + 1, deep, strlen(deep) + 1);
	deep[0] = '[';
	strcat(deep, "]");
	reader(&j, deep);
	assert_int_equal(json_r_skip(&j), -1);
	assert_non_null(strstr(err, "nested too deep"));
}

struct walk {
	uint64_t n;
	uint64_t sum;
	char keys[64];
};

static int element(struct json_r *j, const char *key, void *arg)
{
	struct walk *w = arg;
	uint64_t v = 0;

	assert_null(key);
	w->n++;
	if (json_r_opt_u64(j, &v) < 0)
		return -1;
	w->sum += v;
	return 0;
}

static int member(struct json_r *j, const char *key, void *arg)
{
	struct walk *w = arg;

	strcat(w->keys, key[0] ? key : "<long>");
	strcat(w->keys, ",");
	if (strcmp(key, "list") == 0)
		return json_r_array(j, element, w);
	return json_r_skip(j);
}

static void test_read_walk(void **state)
{
	struct json_r j;
	struct walk w;

	(void)state;
	memset(&w, 0, sizeof(w));
	reader(&j, "{\"a\": {\"x\": 1}, \"list\": [1, 2, \"skip\", 3.5, 4], "
		   "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": 0}");
	assert_int_equal(json_r_object(&j, member, &w), 0);
	assert_int_equal(json_r_end(&j), 0);
	assert_string_equal(w.keys, "a,list,<long>,");
	assert_int_equal(w.n, 5);
	assert_int_equal(w.sum, 7);
	memset(&w, 0, sizeof(w));
	reader(&j, "[]");
	assert_int_equal(json_r_object(&j, member, &w), -1);
	assert_non_null(strstr(err, "expected an object"));
	reader(&j, "{\"list\": [1 2]}");
	assert_int_equal(json_r_object(&j, member, &w), -1);
	assert_non_null(strstr(err, "expected ',' or ']'"));
	reader(&j, "{\"a\": 1 \"b\": 2}");
	assert_int_equal(json_r_object(&j, member, &w), -1);
	assert_non_null(strstr(err, "expected ',' or '}'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_json_values_and_nesting),
		cmocka_unit_test(test_json_overflow_and_misuse),
		cmocka_unit_test(test_json_null_helpers),
		cmocka_unit_test(test_read_strings),
		cmocka_unit_test(test_read_numbers),
		cmocka_unit_test(test_read_literals_and_skip),
		cmocka_unit_test(test_read_depth),
		cmocka_unit_test(test_read_walk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
