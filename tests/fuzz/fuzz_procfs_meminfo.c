/* libFuzzer target: /proc/meminfo lookups (procfs_meminfo_get) with the keys c1m asks for, plus a key
 * that is a prefix of others ("Mem") so partial-name matching is exercised. */
#include "fuzz_util.h"

#include "common/sys/procfs.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "MemAvailable", "MemTotal", "Mem", "Cached", "Slab" };
	char *s = fuzz_text(data, size);
	char err[FUZZ_ERR_LEN];
	bool nl = memchr(data, '\n', size) != NULL;
	uint64_t bytes;
	unsigned i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		err[0] = '\0';
		if (procfs_meminfo_get(s, keys[i], &bytes, err, sizeof(err)) < 0)
			fuzz_check_err("procfs_meminfo_get", err, sizeof(err), nl);
	}
	free(s);
	return 0;
}
