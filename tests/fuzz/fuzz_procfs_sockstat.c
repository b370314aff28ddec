/* libFuzzer target: /proc/net/sockstat lines (procfs_sockstat_get), with every TCP key c1m reads and a
 * protocol that is a prefix of another ("TCP" in "TCP6", "UDP" in "UDPLITE"). */
#include "fuzz_util.h"

#include "common/sys/procfs.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const q[][2] = {
		{ "TCP", "inuse" }, { "TCP", "orphan" }, { "TCP", "tw" }, { "TCP", "alloc" }, { "TCP", "mem" },
		{ "sockets", "used" }, { "UDP", "inuse" }, { "TCP6", "inuse" },
	};
	char *s = fuzz_text(data, size);
	char err[FUZZ_ERR_LEN];
	bool nl = memchr(data, '\n', size) != NULL;
	uint64_t v;
	unsigned i;

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		err[0] = '\0';
		if (procfs_sockstat_get(s, q[i][0], q[i][1], &v, err, sizeof(err)) < 0)
			fuzz_check_err("procfs_sockstat_get", err, sizeof(err), nl);
	}
	free(s);
	return 0;
}
