/* libFuzzer target: the socket rows of /proc/net/tcp and /proc/net/tcp6 (procfs_tcp_parse_line). The
 * parser takes line[0..len) without a NUL, so every line is handed over in a buffer of exactly its
 * length: a read one byte too far is an ASan report. The whole input is also tried as one "line". */
#include "fuzz_util.h"

#include "common/sys/procfs.h"

#include <stdlib.h>
#include <string.h>

static void parse_exact(const uint8_t *p, size_t len)
{
	char *line = malloc(len > 0 ? len : 1);
	struct procfs_tcp_sock s;

	if (line == NULL)
		abort();
	if (len > 0)
		memcpy(line, p, len);
	if (procfs_tcp_parse_line(line, len, &s) == 0) {
		if (s.family != 4 && s.family != 6)
			fuzz_fail("procfs_tcp_parse_line", "family is neither 4 nor 6");
		if (s.local_port > 65535 || s.remote_port > 65535)
			fuzz_fail("procfs_tcp_parse_line", "port above 65535");
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl;

	parse_exact(data, size);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		parse_exact(p, nl != NULL ? (size_t)(nl - p + 1) : (size_t)(end - p));
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}
