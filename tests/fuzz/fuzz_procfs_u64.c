/* libFuzzer target: the single-integer and integer-row parsers of /proc/sys files (procfs_parse_u64,
 * procfs_parse_u64_vec with the row lengths c1m reads: 1, 2 for ip_local_port_range, 3 for tcp_mem and
 * tcp_rmem/tcp_wmem). The slot after the n-th must stay untouched whatever the text. */
#include "fuzz_util.h"

#include "common/sys/procfs.h"

#include <stdlib.h>
#include <string.h>

#define GUARD 0x5a5a5a5a5a5a5a5aULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_text(data, size);
	char err[FUZZ_ERR_LEN] = "";
	bool nl = memchr(data, '\n', size) != NULL;
	uint64_t v[4];
	size_t n;

	if (procfs_parse_u64(s, v, err, sizeof(err)) < 0)
		fuzz_check_err("procfs_parse_u64", err, sizeof(err), nl);
	for (n = 1; n <= 3; n++) {
		v[n] = GUARD;
		err[0] = '\0';
		if (procfs_parse_u64_vec(s, v, n, err, sizeof(err)) < 0)
			fuzz_check_err("procfs_parse_u64_vec", err, sizeof(err), nl);
		if (v[n] != GUARD)
			fuzz_fail("procfs_parse_u64_vec", "wrote more than n values");
	}
	free(s);
	return 0;
}
