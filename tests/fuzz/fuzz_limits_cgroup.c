/* libFuzzer target: /proc/self/cgroup (limits_parse_proc_cgroup), v1 and v2 lines. The path is copied
 * into a caller buffer, so it is tried with a tiny buffer as well as a normal one; whatever is returned
 * must be a NUL-terminated absolute path that fits. */
#include "fuzz_util.h"

#include "common/sys/limits_read.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t lens[] = { 1, 2, 8, 256, 4096 };
	char *s = fuzz_text(data, size), *path;
	char err[FUZZ_ERR_LEN];
	bool nl = memchr(data, '\n', size) != NULL;
	unsigned version, i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		path = malloc(lens[i]);  /* exact size: ASan flags a write past pathlen */
		if (path == NULL)
			abort();
		err[0] = '\0';
		version = 0;
		if (limits_parse_proc_cgroup(s, &version, path, lens[i], err, sizeof(err)) < 0) {
			fuzz_check_err("limits_parse_proc_cgroup", err, sizeof(err), nl);
		} else {
			if (version != 1 && version != 2)
				fuzz_fail("limits_parse_proc_cgroup", "version is neither 1 nor 2");
			if (memchr(path, '\0', lens[i]) == NULL || path[0] != '/')
				fuzz_fail("limits_parse_proc_cgroup", "path is not a terminated absolute path");
		}
		free(path);
	}
	free(s);
	return 0;
}
