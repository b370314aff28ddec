/* libFuzzer target: /proc/stat's cpu line (procfs_parse_stat_cpu), the saturation judge's machine figure.
 * Accepted input must give busy <= total; refused input a one-line error. */
#include "fuzz_util.h"

#include "common/sys/procfs.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_text(data, size);
	char err[FUZZ_ERR_LEN] = "";
	uint64_t busy, total;

	if (procfs_parse_stat_cpu(s, &busy, &total, err, sizeof(err)) < 0)
		fuzz_check_err("procfs_parse_stat_cpu", err, sizeof(err), memchr(s, '\n', strlen(s)) != NULL);
	else if (busy > total)
		fuzz_fail("procfs_parse_stat_cpu", "more busy ticks than ticks");
	free(s);
	return 0;
}
