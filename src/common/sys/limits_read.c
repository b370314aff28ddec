/* Reads the operating-system limits that cap concurrent TCP connections into one struct limits_values,
 * for the pure model in common/model/limits.h to judge: the fd limits (and whether the hard one can be
 * raised), fs.*, the local port range, conntrack, the listen backlogs, TCP memory, sockstat, systemd's
 * default and the memory cgroup. Absent optional files (conntrack not loaded, no cgroup, no systemd,
 * machine-wide sysctls hidden in a child network namespace or a container) are valid states, never errors;
 * the matching *_present flag says so. Only the fd limits, fs.*, ip_local_port_range and MemAvailable are
 * required.
 *
 * Whether conntrack is in use is judged by its entry count alone. Since 4.15 its hooks register in a
 * namespace only when a rule needs them, but no /proc file says whether they are registered, and
 * telling from the nftables or iptables ruleset would mean netlink or running nft; the per-namespace
 * counters in /proc/net/stat/nf_conntrack keep counting after a rule is gone. A ruleset that tracks
 * connections but has seen no flow yet therefore reads as idle. */
#include "common/sys/limits_read.h"
#include "common/sys/procfs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define SYS "/proc/sys/"

static int read_vec(const char *path, uint64_t *out, size_t n, char *err, size_t errlen)
{
	char buf[256];
	char perr[PROCFS_ERR_LEN];

	if (procfs_read_file(path, buf, sizeof(buf), err, errlen) < 0)
		return -1;
	if (procfs_parse_u64_vec(buf, out, n, perr, sizeof(perr)) < 0) {
		snprintf(err, errlen, "%s: %s", path, perr);
		errno = EINVAL;   /* a present but malformed file must not look absent */
		return -1;
	}
	return 0;
}

/* A key that is missing (machine-wide key in a child network namespace, module not loaded) or that a
 * container denies reading is absent, not an error. */
static bool absent_errno(int e)
{
	return e == ENOENT || e == EACCES || e == EPERM;
}

/* Optional single value: absent file -> *present = false and success. */
static int read_optional(const char *path, uint64_t *out, bool *present, char *err, size_t errlen)
{
	if (procfs_read_u64(path, out, err, errlen) < 0) {
		if (absent_errno(errno)) {
			*present = false;
			*out = 0;
			return 0;
		}
		return -1;
	}
	*present = true;
	return 0;
}

/* Optional row of n values, same rules. A file that exists but does not parse is an error. */
static int read_vec_optional(const char *path, uint64_t *out, size_t n, bool *present, char *err,
			     size_t errlen)
{
	if (read_vec(path, out, n, err, errlen) < 0) {
		if (absent_errno(errno)) {
			*present = false;
			memset(out, 0, n * sizeof(*out));
			return 0;
		}
		return -1;
	}
	*present = true;
	return 0;
}

/* The sysctls a fix may write and their bit in sysctl_readonly. */
static const struct {
	const char *key;             /* dotted name, as in a fix line */
	unsigned bit;
} writable_keys[] = {
	{ "fs.file-max", LIMITS_RO_FILE_MAX },
	{ "fs.nr_open", LIMITS_RO_NR_OPEN },
	{ "net.ipv4.ip_local_port_range", LIMITS_RO_PORT_RANGE },
	{ "net.netfilter.nf_conntrack_max", LIMITS_RO_CT_MAX },
	{ "net.netfilter.nf_conntrack_buckets", LIMITS_RO_CT_BUCKETS },
	{ "net.core.somaxconn", LIMITS_RO_SOMAXCONN },
	{ "net.ipv4.tcp_max_syn_backlog", LIMITS_RO_SYN_BACKLOG },
	{ "net.ipv4.tcp_mem", LIMITS_RO_TCP_MEM },
	{ "net.ipv4.tcp_migrate_req", LIMITS_RO_MIGRATE_REQ },
};

unsigned limits_readonly_bit(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(writable_keys) / sizeof(writable_keys[0]); i++)
		if (strcmp(writable_keys[i].key, key) == 0)
			return writable_keys[i].bit;
	return 0;
}

/* access(W_OK) asks the sysctl's own permission hook, so it is right for root too: a machine-wide key
 * seen from a child network namespace is mode 0444 there, and a read-only /proc/sys gives EROFS. */
static unsigned read_readonly_keys(void)
{
	char path[128];
	unsigned ro = 0;
	size_t i, k;

	for (i = 0; i < sizeof(writable_keys) / sizeof(writable_keys[0]); i++) {
		snprintf(path, sizeof(path), SYS "%s", writable_keys[i].key);
		for (k = strlen(SYS); path[k] != '\0'; k++)
			if (path[k] == '.')
				path[k] = '/';
		if (access(path, F_OK) == 0 && access(path, W_OK) < 0)
			ro |= writable_keys[i].bit;
	}
	return ro;
}

static int parse_nofile_value(const char *s, size_t n, uint64_t *out)
{
	char tmp[32];
	char perr[PROCFS_ERR_LEN];

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (strcmp(tmp, "infinity") == 0) {
		*out = LIMITS_UNLIMITED;
		return 0;
	}
	return procfs_parse_u64(tmp, out, perr, sizeof(perr));
}

int limits_parse_systemd_nofile(const char *text, bool *set, uint64_t *soft, uint64_t *hard,
				char *err, size_t errlen)
{
	static const char key[] = "DefaultLimitNOFILE=";
	const char *line = text;

	*set = false;
	if (text == NULL) {
		snprintf(err, errlen, "system.conf: no text");
		return -1;
	}
	/* systemd applies the last assignment, so keep scanning after a match. */
	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t llen = nl != NULL ? (size_t)(nl - line) : strlen(line);
		const char *p = line, *end = line + llen;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) >= sizeof(key) - 1 && memcmp(p, key, sizeof(key) - 1) == 0) {
			const char *v = p + sizeof(key) - 1, *colon, *vend = end;
			uint64_t s, h;

			while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t' || vend[-1] == '\r'))
				vend--;
			colon = memchr(v, ':', (size_t)(vend - v));
			if (colon != NULL) {
				if (parse_nofile_value(v, (size_t)(colon - v), &s) < 0 ||
				    parse_nofile_value(colon + 1, (size_t)(vend - colon - 1), &h) < 0) {
					snprintf(err, errlen, "system.conf: bad DefaultLimitNOFILE value");
					return -1;
				}
			} else {
				if (parse_nofile_value(v, (size_t)(vend - v), &s) < 0) {
					snprintf(err, errlen, "system.conf: bad DefaultLimitNOFILE value");
					return -1;
				}
				h = s;
			}
			*set = true;
			*soft = s;
			*hard = h;
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	return 0;
}

int limits_parse_proc_cgroup(const char *text, unsigned *version, char *path, size_t pathlen,
			     char *err, size_t errlen)
{
	const char *line = text;
	bool have_v2 = false;
	char v2path[256] = "";

	if (text == NULL || pathlen == 0) {
		snprintf(err, errlen, "cgroup: no text");
		return -1;
	}
	/* Lines are "id:controllers:path"; v1 memory looks like "4:memory:/x", v2 like "0::/x". */
	while (line != NULL && *line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t llen = nl != NULL ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', llen);
		const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', llen - (size_t)(c1 + 1 - line)) : NULL;

		if (c2 != NULL) {
			const char *ctl = c1 + 1;
			size_t ctllen = (size_t)(c2 - ctl);
			const char *p = c2 + 1;
			size_t plen = llen - (size_t)(p - line);
			bool memory = false;

			/* The controller list is comma-separated ("cpu,cpuacct"). */
			while (ctllen > 0) {
				const char *comma = memchr(ctl, ',', ctllen);
				size_t tl = comma != NULL ? (size_t)(comma - ctl) : ctllen;

				if (tl == 6 && memcmp(ctl, "memory", 6) == 0)
					memory = true;
				if (comma == NULL)
					break;
				ctllen -= tl + 1;
				ctl = comma + 1;
			}
			if (plen == 0 || p[0] != '/' || plen >= pathlen || plen >= sizeof(v2path)) {
				/* malformed or too long: ignore this line */
			} else if (memory) {
				memcpy(path, p, plen);
				path[plen] = '\0';
				*version = 1;
				return 0;
			} else if (c2 == c1 + 1 && line[0] == '0' && c1 == line + 1) {
				memcpy(v2path, p, plen);
				v2path[plen] = '\0';
				have_v2 = true;
			}
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	if (have_v2) {
		snprintf(path, pathlen, "%s", v2path);
		*version = 2;
		return 0;
	}
	snprintf(err, errlen, "cgroup: no memory controller line");
	return -1;
}

/* Reads one memory limit file: a number, or "max" (v2) meaning no limit. */
static int read_mem_limit(const char *file, uint64_t *out)
{
	char buf[64];
	char perr[PROCFS_ERR_LEN];

	if (procfs_read_file(file, buf, sizeof(buf), perr, sizeof(perr)) < 0)
		return -1;
	if (strncmp(buf, "max", 3) == 0) {
		*out = LIMITS_UNLIMITED;
		return 0;
	}
	if (procfs_parse_u64(buf, out, perr, sizeof(perr)) < 0)
		return -1;
	/* v1 reports "no limit" as PAGE_COUNTER_MAX * page size, just under 2^63. */
	if (*out >= LIMITS_CGROUP_UNLIMITED)
		*out = LIMITS_UNLIMITED;
	return 0;
}

/* A child cgroup can be limited by any ancestor, so walk up to the root and keep the smallest limit.
 * Absent files are fine: the cgroup may live in another namespace's view. */
static void read_cgroup(struct limits_values *v)
{
	char text[4096], rel[256], dir[512], file[600];
	char perr[PROCFS_ERR_LEN];
	const char *base, *limit_name, *usage_name;
	unsigned version = 0;
	size_t n;

	v->cgroup_mem_present = false;
	v->cgroup_mem_limit = LIMITS_UNLIMITED;
	if (procfs_read_file("/proc/self/cgroup", text, sizeof(text), perr, sizeof(perr)) < 0)
		return;
	if (limits_parse_proc_cgroup(text, &version, rel, sizeof(rel), perr, sizeof(perr)) < 0)
		return;
	if (version == 1) {
		base = "/sys/fs/cgroup/memory";
		limit_name = "memory.limit_in_bytes";
		usage_name = "memory.usage_in_bytes";
	} else {
		/* Pure v2 mounts at /sys/fs/cgroup, hybrid setups at /sys/fs/cgroup/unified. */
		snprintf(file, sizeof(file), "/sys/fs/cgroup%s/memory.max", strcmp(rel, "/") == 0 ? "" : rel);
		base = access(file, R_OK) == 0 || access("/sys/fs/cgroup/cgroup.controllers", R_OK) == 0
			       ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
		limit_name = "memory.max";
		usage_name = "memory.current";
	}
	snprintf(dir, sizeof(dir), "%s%s", base, strcmp(rel, "/") == 0 ? "" : rel);
	{
		uint64_t usage;

		snprintf(file, sizeof(file), "%s/%s", dir, usage_name);
		if (procfs_read_u64(file, &usage, perr, sizeof(perr)) == 0)
			v->cgroup_mem_usage = usage;
	}
	for (;;) {
		uint64_t lim;
		char *slash;

		snprintf(file, sizeof(file), "%s/%s", dir, limit_name);
		if (read_mem_limit(file, &lim) == 0) {
			if (!v->cgroup_mem_present || lim < v->cgroup_mem_limit) {
				int w = snprintf(v->cgroup_path, sizeof(v->cgroup_path), "%s", file);

				v->cgroup_mem_limit = lim;
				/* A path too long to report is left empty rather than cut. */
				if (w < 0 || (size_t)w >= sizeof(v->cgroup_path))
					v->cgroup_path[0] = '\0';
			}
			v->cgroup_mem_present = true;
			v->cgroup_version = version;
		}
		n = strlen(dir);
		if (n <= strlen(base))
			break;
		slash = strrchr(dir, '/');
		if (slash == NULL || (size_t)(slash - dir) < strlen(base))
			break;
		*slash = '\0';
	}
}

static void read_systemd(struct limits_values *v)
{
	char text[PROCFS_FILE_MAX];
	char perr[PROCFS_ERR_LEN];

	v->systemd_running = access("/run/systemd/system", F_OK) == 0;
	v->systemd_conf_present = false;
	v->systemd_nofile_set = false;
	if (procfs_read_file("/etc/systemd/system.conf", text, sizeof(text), perr, sizeof(perr)) < 0)
		return;
	v->systemd_conf_present = true;
	if (limits_parse_systemd_nofile(text, &v->systemd_nofile_set, &v->systemd_nofile_soft,
					&v->systemd_nofile_hard, perr, sizeof(perr)) < 0)
		v->systemd_nofile_set = false;
}

static void read_sockstat(struct limits_values *v)
{
	char text[4096];
	char perr[PROCFS_ERR_LEN];

	v->sockstat_present = false;
	if (procfs_read_file("/proc/net/sockstat", text, sizeof(text), perr, sizeof(perr)) < 0)
		return;
	if (procfs_sockstat_get(text, "TCP", "inuse", &v->tcp_inuse, perr, sizeof(perr)) < 0 ||
	    procfs_sockstat_get(text, "TCP", "orphan", &v->tcp_orphan, perr, sizeof(perr)) < 0 ||
	    procfs_sockstat_get(text, "TCP", "tw", &v->tcp_tw, perr, sizeof(perr)) < 0 ||
	    procfs_sockstat_get(text, "TCP", "alloc", &v->tcp_alloc, perr, sizeof(perr)) < 0 ||
	    procfs_sockstat_get(text, "TCP", "mem", &v->tcp_mem_used, perr, sizeof(perr)) < 0)
		return;
	v->sockstat_present = true;
}

/* Whether this process could raise its hard limit: try hard + 1 and put it back. Lowering a hard
 * limit is always allowed, so the probe leaves the process as it found it. */
static bool probe_hard_raisable(const struct rlimit *rl, uint64_t nr_open)
{
	struct rlimit up = *rl;

	if (rl->rlim_max == RLIM_INFINITY || rl->rlim_max >= nr_open)
		return false;
	up.rlim_max = rl->rlim_max + 1;
	if (setrlimit(RLIMIT_NOFILE, &up) < 0)
		return false;
	setrlimit(RLIMIT_NOFILE, rl);
	return true;
}

int limits_read(struct limits_values *v, char *err, size_t errlen)
{
	struct rlimit rl;
	uint64_t tmp[3], one;
	char text[PROCFS_FILE_MAX];
	char perr[PROCFS_ERR_LEN];
	bool present;
	long page;

	memset(v, 0, sizeof(*v));
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		snprintf(err, errlen, "getrlimit RLIMIT_NOFILE: %s", strerror(errno));
		return -1;
	}
	v->nofile_soft = rl.rlim_cur == RLIM_INFINITY ? LIMITS_UNLIMITED : (uint64_t)rl.rlim_cur;
	v->nofile_hard = rl.rlim_max == RLIM_INFINITY ? LIMITS_UNLIMITED : (uint64_t)rl.rlim_max;

	if (procfs_read_u64(SYS "fs/file-max", &v->file_max, err, errlen) < 0 ||
	    procfs_read_u64(SYS "fs/nr_open", &v->nr_open, err, errlen) < 0 ||
	    read_vec(SYS "fs/file-nr", tmp, 3, err, errlen) < 0)
		return -1;
	v->file_nr_used = tmp[0];
	v->nofile_hard_raisable = probe_hard_raisable(&rl, v->nr_open);

	if (read_vec(SYS "net/ipv4/ip_local_port_range", tmp, 2, err, errlen) < 0)
		return -1;
	if (tmp[0] > 65535 || tmp[1] > 65535 || tmp[0] > tmp[1]) {
		snprintf(err, errlen, "ip_local_port_range: %" PRIu64 "-%" PRIu64 " is not a port range",
			 tmp[0], tmp[1]);
		return -1;
	}
	v->port_lo = (unsigned)tmp[0];
	v->port_hi = (unsigned)tmp[1];

	if (read_optional(SYS "net/netfilter/nf_conntrack_max", &v->conntrack_max, &present, err, errlen) < 0)
		return -1;
	v->conntrack_present = present;
	if (present) {
		if (procfs_read_u64(SYS "net/netfilter/nf_conntrack_count", &v->conntrack_count, err, errlen) < 0 ||
		    procfs_read_u64(SYS "net/netfilter/nf_conntrack_buckets", &v->conntrack_buckets, err, errlen) < 0)
			return -1;
		/* Since 4.15 the conntrack hooks register only when a rule needs them, so a module that is
		 * loaded but idle tracks nothing and a zero count means exactly that. */
		v->conntrack_in_use = v->conntrack_count > 0;
	}

	if (read_optional(SYS "net/core/somaxconn", &v->somaxconn, &v->somaxconn_present, err, errlen) < 0 ||
	    read_optional(SYS "net/ipv4/tcp_max_syn_backlog", &v->syn_backlog, &v->syn_backlog_present,
			  err, errlen) < 0 ||
	    read_vec_optional(SYS "net/ipv4/tcp_mem", v->tcp_mem, 3, &v->tcp_mem_present, err, errlen) < 0 ||
	    read_vec_optional(SYS "net/ipv4/tcp_rmem", v->tcp_rmem, 3, &v->tcp_rmem_present, err, errlen) < 0 ||
	    read_vec_optional(SYS "net/ipv4/tcp_wmem", v->tcp_wmem, 3, &v->tcp_wmem_present, err, errlen) < 0)
		return -1;

	if (read_optional(SYS "net/ipv4/tcp_migrate_req", &one, &present, err, errlen) < 0)
		return -1;
	v->tcp_migrate_req_present = present;
	v->tcp_migrate_req = (unsigned)(one != 0);
	if (read_optional(SYS "net/ipv4/tcp_abort_on_overflow", &one, &present, err, errlen) < 0)
		return -1;
	v->tcp_abort_on_overflow_present = present;
	v->tcp_abort_on_overflow = (unsigned)(one != 0);

	if (procfs_read_file("/proc/meminfo", text, sizeof(text), err, errlen) < 0)
		return -1;
	if (procfs_meminfo_get(text, "MemAvailable", &v->mem_available, perr, sizeof(perr)) < 0) {
		snprintf(err, errlen, "/proc/meminfo: %s", perr);
		return -1;
	}
	page = sysconf(_SC_PAGESIZE);
	v->page_size = page > 0 ? (uint64_t)page : 4096;

	read_sockstat(v);
	read_systemd(v);
	read_cgroup(v);
	v->sysctl_readonly = read_readonly_keys();
	return 0;
}

int limits_raise_nofile(struct limits_values *v, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		snprintf(err, errlen, "getrlimit RLIMIT_NOFILE: %s", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			snprintf(err, errlen, "setrlimit RLIMIT_NOFILE soft=%llu: %s",
				 (unsigned long long)rl.rlim_max, strerror(errno));
			return -1;
		}
	}
	if (v != NULL) {
		v->nofile_soft = rl.rlim_cur == RLIM_INFINITY ? LIMITS_UNLIMITED : (uint64_t)rl.rlim_cur;
		v->nofile_hard = rl.rlim_max == RLIM_INFINITY ? LIMITS_UNLIMITED : (uint64_t)rl.rlim_max;
	}
	return 0;
}
