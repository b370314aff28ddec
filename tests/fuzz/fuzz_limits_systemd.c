/* libFuzzer target: DefaultLimitNOFILE= in systemd's system.conf (limits_parse_systemd_nofile), whose
 * value may be "N", "soft:hard" or "infinity". */
#include "fuzz_util.h"

#include "common/sys/limits_read.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_text(data, size);
	char err[FUZZ_ERR_LEN] = "";
	bool nl = memchr(data, '\n', size) != NULL, set = true;
	uint64_t soft, hard;

	if (limits_parse_systemd_nofile(s, &set, &soft, &hard, err, sizeof(err)) < 0)
		fuzz_check_err("limits_parse_systemd_nofile", err, sizeof(err), nl);
	free(s);
	return 0;
}
