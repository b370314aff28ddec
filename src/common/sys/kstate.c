/* The moving kernel numbers at one moment: see kstate.h. */
#include "common/sys/kstate.h"

#include "common/sys/procfs.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

int kstate_parse_tcpext(const char *netstat_text, struct kstate_tcpext *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (procfs_netstat_get(netstat_text, "TcpExt", "ListenOverflows", &t->listen_overflows, err, errlen) < 0 ||
	    procfs_netstat_get(netstat_text, "TcpExt", "ListenDrops", &t->listen_drops, err, errlen) < 0)
		return -1;
	/* Older kernels may lack these two; zero is the honest default. */
	if (procfs_netstat_get(netstat_text, "TcpExt", "TCPMemoryPressures", &t->memory_pressures, err, errlen) < 0)
		t->memory_pressures = 0;
	if (procfs_netstat_get(netstat_text, "TcpExt", "TCPAbortOnMemory", &t->abort_on_memory, err, errlen) < 0)
		t->abort_on_memory = 0;
	t->present = true;
	return 0;
}

static void kstate_read_files(struct kstate *k)
{
	uint64_t nr[3];
	char text[512], err[PROCFS_ERR_LEN];

	if (procfs_read_file("/proc/sys/fs/file-nr", text, sizeof(text), err, sizeof(err)) == 0 &&
	    procfs_parse_u64_vec(text, nr, 3, err, sizeof(err)) == 0 &&
	    procfs_read_u64("/proc/sys/fs/file-max", &k->file_max, err, sizeof(err)) == 0) {
		k->file_nr_used = nr[0];
		k->file_nr_present = true;
	}
	k->conntrack_present =
		procfs_read_u64("/proc/sys/net/netfilter/nf_conntrack_max", &k->conntrack_max, err, sizeof(err)) == 0 &&
		procfs_read_u64("/proc/sys/net/netfilter/nf_conntrack_count", &k->conntrack_count, err, sizeof(err)) == 0;
}

void kstate_read(struct kstate *k)
{
	char text[PROCFS_FILE_MAX];
	char err[PROCFS_ERR_LEN];
	struct rlimit rl;

	memset(k, 0, sizeof(*k));
	k->valid = true;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		k->nofile_present = true;
		k->nofile_soft = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
		k->nofile_hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_max;
	}
	kstate_read_files(k);
	if (procfs_read_file("/proc/net/sockstat", text, sizeof(text), err, sizeof(err)) == 0)
		k->sockstat_present =
			procfs_sockstat_get(text, "TCP", "inuse", &k->tcp_inuse, err, sizeof(err)) == 0 &&
			procfs_sockstat_get(text, "TCP", "mem", &k->tcp_mem_used, err, sizeof(err)) == 0;
	if (procfs_read_file("/proc/meminfo", text, sizeof(text), err, sizeof(err)) == 0)
		k->meminfo_present = procfs_meminfo_get(text, "MemAvailable", &k->mem_available, err, sizeof(err)) == 0;
	if (procfs_read_file("/proc/net/netstat", text, sizeof(text), err, sizeof(err)) == 0)
		(void)kstate_parse_tcpext(text, &k->tcpext, err, sizeof(err));
}
