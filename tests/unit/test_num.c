/* Unit tests for command-line numbers: strict whole numbers (signs, blanks, exponents, trailing text and
 * overflow refused, ranges inclusive), byte counts with k/M suffixes, and seconds with up to three decimals
 * into milliseconds; and the phrases the binaries put after a flag's name. Also the single-writer counters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/util/counter.h"
#include "common/util/num.h"

static char err[128];

static void test_u64(void **state)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1e3", "0x10", "12a", "18446744073709551616" };
	uint64_t v;
	size_t i;

	(void)state;
	assert_int_equal(num_parse_u64("0", 0, 10, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(num_parse_u64("18446744073709551615", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(num_parse_u64("65535", 1, 65535, &v, err, sizeof(err)), 0);
	assert_int_equal(num_parse_u64("65536", 1, 65535, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "65536 is out of range 1..65535");
	assert_int_equal(num_parse_u64("0", 1, 65535, &v, err, sizeof(err)), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 77;
		assert_int_equal(num_parse_u64(bad[i], 0, UINT64_MAX, &v, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "is not a whole number"));
		assert_int_equal(v, 77);   /* untouched */
	}
	assert_int_equal(num_parse_u64(NULL, 0, 1, &v, err, sizeof(err)), -1);
}

static void test_bytes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(num_parse_bytes("64k", 1, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(num_parse_bytes("2M", 1, UINT64_MAX, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 2097152);
	assert_int_equal(num_parse_bytes("1024", 1024, 1024, &v, err, sizeof(err)), 0);
	assert_int_equal(num_parse_bytes("1025M", 1, UINT64_C(1) << 30, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "1025M is out of range 1..1073741824");
	assert_int_equal(num_parse_bytes("k", 1, 100, &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a byte count"));
	assert_int_equal(num_parse_bytes("1G", 1, UINT64_MAX, &v, err, sizeof(err)), -1);
	assert_int_equal(num_parse_bytes("99999999999999999999k", 1, UINT64_MAX, &v, err, sizeof(err)), -1);
	assert_int_equal(num_parse_bytes("18014398509481984k", 1, UINT64_MAX, &v, err, sizeof(err)), -1); /* 2^54 k */
}

static void test_seconds(void **state)
{
	static const char *const bad[] = { "", ".5", "1.", "1.2345", "-1", "1e3", "1s", "0x1", " 1" };
	uint64_t ms;
	size_t i;

	(void)state;
	assert_int_equal(num_parse_ms("10", 86400000, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(num_parse_ms("0.5", 86400000, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(num_parse_ms("2.125", 86400000, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 2125);
	assert_int_equal(num_parse_ms("0.001", 86400000, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(num_parse_ms("3600", 3600000, &ms, err, sizeof(err)), 0);
	assert_int_equal(num_parse_ms("3600.001", 3600000, &ms, err, sizeof(err)), -1);
	assert_string_equal(err, "3600.001 seconds is more than 3600.000");
	assert_int_equal(num_parse_ms("99999999999999999", 3600000, &ms, err, sizeof(err)), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(num_parse_ms(bad[i], 86400000, &ms, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "is not a number of seconds"));
	}
}

static void test_counters(void **state)
{
	_Atomic uint64_t c = 0;
	_Atomic uint32_t s = 0;
	_Atomic int32_t i = 0;

	(void)state;
	counter_add(&c, 5);
	counter_sub(&c, 2);
	assert_int_equal(counter_get(&c), 3);
	counter_max(&c, 2);
	assert_int_equal(counter_get(&c), 3);
	counter_max(&c, 9);
	assert_int_equal(counter_get(&c), 9);
	counter_publish(&c, 11);
	assert_int_equal(counter_acquire(&c), 11);
	counter_set(&c, 0);
	assert_int_equal(counter_get(&c), 0);
	counter_set32(&s, 4);
	assert_int_equal(counter_get32(&s), 4);
	counter_publish32(&s, 5);
	assert_int_equal(counter_acquire32(&s), 5);
	counter_set_i32(&i, -7);
	assert_int_equal(counter_get_i32(&i), -7);
}

static void test_put_fixed(void **state)
{
	char b[24];

	(void)state;
	memset(b, 'x', sizeof(b));
	assert_int_equal(num_put_fixed(b, 5, 42), 0);
	assert_memory_equal(b, "00042x", 6);
	assert_int_equal(num_put_fixed(b, 1, 0), 0);
	assert_int_equal(b[0], '0');
	assert_int_equal(num_put_fixed(b, 20, UINT64_MAX), 0);
	assert_memory_equal(b, "18446744073709551615", 20);
	memset(b, 'x', sizeof(b));
	assert_int_equal(num_put_fixed(b, 2, 100), -1);        /* too many digits: nothing written */
	assert_int_equal(b[0], 'x');
	assert_int_equal(num_put_fixed(b, 0, 0), -1);
	assert_int_equal(num_put_fixed(b, 21, 1), -1);
}

/* Every width against printf, at each power of ten, one below it and a mixed-digit value of each length:
 * where v fits the width, the same digits; where it does not, -1 and nothing written. */
static void test_put_fixed_agrees(void **state)
{
	char b[24], want[32];
	uint64_t p = 1, vals[64];
	unsigned n = 0, i, w, len;

	(void)state;
	vals[n++] = 0;
	vals[n++] = UINT64_MAX;
	for (i = 0; i < 20; i++) {
		vals[n++] = p;
		vals[n++] = p - 1 + (p > 1 ? p / 2 : 0);    /* 1, 14, 149, ...: mixed digits */
		if (i < 19)
			vals[n++] = p * 10 - 1;                  /* 9, 99, ...: all nines */
		p = p * 10;
	}
	for (i = 0; i < n; i++)
		for (w = 1; w <= 20; w++) {
			len = (unsigned)snprintf(want, sizeof(want), "%0*llu", (int)w, (unsigned long long)vals[i]);
			memset(b, 'x', sizeof(b));
			if (len > w) {
				assert_int_equal(num_put_fixed(b, w, vals[i]), -1);
				assert_int_equal(b[0], 'x');
			} else {
				assert_int_equal(num_put_fixed(b, w, vals[i]), 0);
				assert_memory_equal(b, want, w);
				assert_int_equal(b[w], 'x');
			}
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_put_fixed),
		cmocka_unit_test(test_put_fixed_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
