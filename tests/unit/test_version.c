/* Unit test of the version module: version_project() is the version meson.build declares (meson passes it
 * as the first argument, so a stale or hard-coded string fails), and version_text() is the --version text,
 * with and without a libevent line, truncated like snprintf. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/util/version.h"

static const char *declared; /* meson.project_version(), from the command line */

static void test_project(void **state)
{
	(void)state;
	assert_non_null(declared);
	assert_string_equal(version_project(), declared);
}

static void test_text(void **state)
{
	char buf[VERSION_TEXT_LEN], want[VERSION_TEXT_LEN], small[8];
	int n;

	(void)state;
	n = version_text("c1m-doctor", NULL, buf, sizeof(buf));
	snprintf(want, sizeof(want), "c1m-doctor %s\n", declared);
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));

	n = version_text("c1m-server", "2.1.12-stable", buf, sizeof(buf));
	snprintf(want, sizeof(want), "c1m-server %s\nlibevent 2.1.12-stable\n", declared);
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));

	/* too small: a NUL-terminated prefix, the return says how much was needed */
	n = version_text("c1m-server", "2.1.12-stable", small, sizeof(small));
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(small, "c1m-ser");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_project),
		cmocka_unit_test(test_text),
	};

	declared = argc > 1 ? argv[1] : NULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
