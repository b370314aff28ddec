/* Helpers shared by the fuzz targets (see fuzz_util.h). Nothing here is fuzzed itself; it only shapes the
 * input and turns a broken contract into an abort libFuzzer reports with the input that caused it. */
#include "fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

int fuzz_argv(const uint8_t *data, size_t size, const char *prog, char *argv[FUZZ_MAX_ARGS + 2], char **block)
{
	char *s = fuzz_text(data, size);
	size_t i, start = 0;
	int argc = 0;

	argv[argc++] = (char *)prog;
	/* Every NUL (and the end) closes one argument, so "" arguments are possible, as on a real command
	 * line ('c1m-client ""'). An input without any byte is a bare program name. */
	for (i = 0; size > 0 && i <= size && argc <= FUZZ_MAX_ARGS; i++) {
		if (i == size || s[i] == '\0') {
			argv[argc++] = s + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	*block = s;
	return argc;
}

void fuzz_check_err(const char *what, const char *err, size_t errlen, bool input_has_newline)
{
	size_t n = strnlen(err, errlen);

	if (n == errlen)
		fuzz_fail(what, "error message is not NUL-terminated within errlen");
	if (n == 0)
		fuzz_fail(what, "failed without an error message");
	if (!input_has_newline && memchr(err, '\n', n) != NULL)
		fuzz_fail(what, "error message spans several lines");
}

void fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz invariant broken in %s: %s\n", what, detail);
	abort();
}
