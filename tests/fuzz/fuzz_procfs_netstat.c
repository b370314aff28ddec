/* libFuzzer target: the header/value line pairs of /proc/net/netstat and /proc/net/snmp
 * (procfs_netstat_get) with the sections and counters c1m reads, a key that is a prefix of another
 * ("ListenDrop") and a section that is a prefix of another ("Tcp" vs "TcpExt"). */
#include "fuzz_util.h"

#include "common/sys/procfs.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const q[][2] = {
		{ "TcpExt", "ListenOverflows" }, { "TcpExt", "ListenDrops" }, { "TcpExt", "TCPMemoryPressures" },
		{ "TcpExt", "TCPAbortOnMemory" }, { "TcpExt", "ListenDrop" }, { "Tcp", "CurrEstab" },
		{ "Tcp", "ListenDrops" }, { "IpExt", "InOctets" },
	};
	char *s = fuzz_text(data, size);
	char err[FUZZ_ERR_LEN];
	bool nl = memchr(data, '\n', size) != NULL;
	uint64_t v;
	unsigned i;

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		err[0] = '\0';
		if (procfs_netstat_get(s, q[i][0], q[i][1], &v, err, sizeof(err)) < 0)
			fuzz_check_err("procfs_netstat_get", err, sizeof(err), nl);
	}
	free(s);
	return 0;
}
