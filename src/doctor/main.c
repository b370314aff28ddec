/* c1m-doctor: the limits module as a command. Before a run it reads every limit that caps concurrent
 * connections, evaluates them against the plan given on the command line and prints a table with the
 * predicted ceiling, the binding limit, the worker processes needed and the exact fix for each problem
 * (exit 0 all ok or only warnings, 1 some check fails, 2 bad usage). After a failed run, --explain reads
 * the kernel log, the TcpExt counters, conntrack fill, TCP socket memory, every process's open files
 * against its limit and the local ports held per (source, destination) in /proc/net/tcp, and names
 * which known cause happened; with --from it also explains each failure kind in c1m-client's JSON
 * report with the numbers now (exit 0 none found, 1 a cause found, 2 bad usage). The command line is
 * parsed in doctor_opts.c; all reading happens here; the decisions live in limits.c and explain.c. */
#include "common/model/diag.h"
#include "common/model/explain.h"
#include "common/model/limits.h"
#include "common/sys/procfs.h"
#include "doctor/doctor_opts.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KMSG_MAX        (1u << 20) /* the kernel's ring buffer is 256 KiB by default; leave room */
#define TUPLES_CAP      65536      /* distinct (source, destination, port) counted from /proc/net/tcp */
#define CLIENT_JSON_MAX (1u << 20) /* a c1m-client report is a few KiB; explanations make it longer */

static int run_check(const struct doctor_options *o)
{
	static char out[16384];
	struct limits_values v;
	struct limits_report r;
	char err[LIMITS_ERR_LEN];
	int n;

	if (limits_read(&v, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-doctor: %s\n", err);
		return 2;
	}
	limits_evaluate(&o->plan, &v, &r);
	if (o->json) {
		n = limits_format_json(&r, out, sizeof(out));
	} else {
		char workers[32];

		if (o->plan.workers)
			snprintf(workers, sizeof(workers), "%u per side", o->plan.workers);
		else
			snprintf(workers, sizeof(workers), "auto");
		printf("plan: role %s, %" PRIu64 " connections, %u port%s, %u source%s, %u destination address%s, "
		       "workers %s\n",
		       limits_role_name(o->plan.role), o->plan.target, o->plan.ports, o->plan.ports == 1 ? "" : "s",
		       o->plan.sources, o->plan.sources == 1 ? "" : "s", o->plan.dst_addrs,
		       o->plan.dst_addrs == 1 ? "" : "es", workers);
		n = limits_format_table(&r, out, sizeof(out));
	}
	if (n < 0) {
		fprintf(stderr, "c1m-doctor: report larger than %zu bytes\n", sizeof(out));
		return 2;
	}
	fputs(out, stdout);
	return r.n_fail > 0 ? 1 : 0;
}

/* /dev/kmsg records are "prio,seq,usec,flags;text" plus continuation lines starting with a space.
 * Converting to dmesg's "[sec.usec] text" keeps explain.c independent of where the log came from. */
/* The timestamp of a /dev/kmsg record "prio,seq,usec,flags;text": the third field, in microseconds. */
static int kmsg_usec(const char *rec, unsigned long long *usec)
{
	const char *p = rec;
	char *end;
	int comma;

	for (comma = 0; comma < 2; comma++) {
		p = strchr(p, ',');
		if (p == NULL)
			return -1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*usec = strtoull(p, &end, 10);
	return errno == 0 && (*end == ',' || *end == ';') ? 0 : -1;
}

static size_t read_kmsg_device(char *buf, size_t len)
{
	char rec[8192];
	size_t used = 0;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		unsigned long long usec;
		char *semi, *nl;
		int w;

		if (n < 0) {
			if (errno == EPIPE)   /* record overwritten while reading: skip ahead */
				continue;
			if (errno == EINTR)
				continue;
			break;            /* EAGAIN: end of the buffer */
		}
		if (n == 0)
			break;
		rec[n] = '\0';
		semi = strchr(rec, ';');
		if (semi == NULL || kmsg_usec(rec, &usec) < 0)
			continue;
		nl = strchr(semi + 1, '\n');
		if (nl != NULL)
			*nl = '\0';
		w = snprintf(buf + used, len - used, "[%5llu.%06llu] %s\n", usec / 1000000, usec % 1000000, semi + 1);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
	close(fd);
	return used;
}

static size_t read_kmsg_command(char *buf, size_t len)
{
	FILE *p = popen("dmesg 2>/dev/null", "r");
	size_t used = 0, n;

	if (p == NULL)
		return 0;
	while (used + 1 < len && (n = fread(buf + used, 1, len - 1 - used, p)) > 0)
		used += n;
	buf[used] = '\0';
	if (pclose(p) != 0)
		return 0;
	return used;
}

static int read_counters(struct kstate_tcpext *c)
{
	static char text[PROCFS_FILE_MAX];
	char err[PROCFS_ERR_LEN];

	memset(c, 0, sizeof(*c));
	if (procfs_read_file("/proc/net/netstat", text, sizeof(text), err, sizeof(err)) < 0)
		return -1;
	return kstate_parse_tcpext(text, c, err, sizeof(err));
}

static int save_baseline(const char *path)
{
	struct kstate_tcpext c;
	char buf[512];
	FILE *f;
	int n;

	if (read_counters(&c) < 0) {
		fprintf(stderr, "c1m-doctor: cannot read /proc/net/netstat counters\n");
		return 2;
	}
	n = explain_format_baseline(&c, buf, sizeof(buf));
	f = fopen(path, "w");
	if (f == NULL || n < 0 || fputs(buf, f) == EOF || fclose(f) != 0) {
		fprintf(stderr, "c1m-doctor: --save-baseline '%s': %s\n", path, strerror(errno));
		return 2;
	}
	printf("baseline saved to %s: ListenOverflows %" PRIu64 ", ListenDrops %" PRIu64
	       ", TCPMemoryPressures %" PRIu64 ", TCPAbortOnMemory %" PRIu64 "\n", path, c.listen_overflows,
	       c.listen_drops, c.memory_pressures, c.abort_on_memory);
	return 0;
}

/* Every process's open files against its soft limit. Other users' processes need root; what cannot be
 * read is left out. Counting /proc/PID/fd costs one readdir entry per descriptor, which is seconds at
 * most even beside a server holding a million connections. */
static struct explain_proc *read_procs(unsigned *n, bool *checked)
{
	struct explain_proc *v = NULL;
	unsigned cap = 0;
	char path[64], text[4096], err[PROCFS_ERR_LEN];
	struct dirent *de;
	DIR *proc = opendir("/proc");
	pid_t self = getpid();

	*n = 0;
	*checked = proc != NULL;
	if (proc == NULL)
		return NULL;
	while ((de = readdir(proc)) != NULL) {
		struct explain_proc p;
		struct dirent *fe;
		DIR *fd;
		char *end;
		long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid > INT32_MAX || pid == (long)self)
			continue;
		memset(&p, 0, sizeof(p));
		p.pid = (int)pid;
		snprintf(path, sizeof(path), "/proc/%ld/limits", pid);
		if (procfs_read_file(path, text, sizeof(text), err, sizeof(err)) < 0 ||
		    procfs_limits_nofile(text, &p.soft, &p.hard, err, sizeof(err)) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		if ((fd = opendir(path)) == NULL)
			continue;
		while ((fe = readdir(fd)) != NULL)
			if (fe->d_name[0] != '.')
				p.fds++;
		closedir(fd);
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if (procfs_read_file(path, text, sizeof(text), err, sizeof(err)) == 0) {
			size_t l = strcspn(text, "\n");

			if (l >= sizeof(p.comm))
				l = sizeof(p.comm) - 1;   /* the kernel's comm is 15 bytes; cut anything longer */
			memcpy(p.comm, text, l);
			p.comm[l] = '\0';
		} else {
			snprintf(p.comm, sizeof(p.comm), "?");
		}
		if (*n == cap) {
			unsigned ncap = cap ? cap * 2 : 256;
			struct explain_proc *nv = realloc(v, ncap * sizeof(*v));

			if (nv == NULL)
				break;   /* judge what was read so far */
			v = nv;
			cap = ncap;
		}
		v[(*n)++] = p;
	}
	closedir(proc);
	return v;
}

/* /proc/net/tcp and tcp6 of this network namespace, line by line: with a million sockets the files
 * are over 100 MB, so they are never read whole. Returns false if neither could be opened. */
static bool read_tuples(struct explain_tuples *t)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	bool any = false;
	char *line = NULL;
	size_t cap = 0;
	unsigned i;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "re");
		ssize_t n;

		if (f == NULL)
			continue;
		any = true;
		while ((n = getline(&line, &cap, f)) > 0)
			explain_tuples_scan(t, line, (size_t)n);
		(void)fclose(f);
	}
	free(line);
	return any;
}

/* --from: the client's report, and the numbers diag_explain quotes, read with the run's ports and
 * sources so its capacity sums match. */
static int read_client(const char *path, struct explain_client *cl, struct diag_context *ctx)
{
	static char text[CLIENT_JSON_MAX];
	char err[LIMITS_ERR_LEN];
	struct limits_values lim;
	struct kstate now;
	bool have_lim;

	if (procfs_read_file(path, text, sizeof(text), err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-doctor: --from '%s': %s\n", path, err);
		return -1;
	}
	if (explain_client_parse(text, strlen(text), cl, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-doctor: --from '%s': %s\n", path, err);
		return -1;
	}
	have_lim = limits_read(&lim, err, sizeof(err)) == 0;
	if (!have_lim)
		fprintf(stderr, "c1m-doctor: warning: %s; explanations without this machine's numbers\n", err);
	kstate_read(&now);
	diag_context_init(ctx, have_lim ? &lim : NULL, &now, cl->ports ? cl->ports : 1, cl->sources ? cl->sources : 1);
	return 0;
}

static int run_explain(const struct doctor_options *o)
{
	static char kmsg[KMSG_MAX], out[65536];
	static struct explain_result r;
	static struct explain_client client;
	static struct diag_context ctx;
	struct explain_input in;
	struct explain_tuples tuples;
	struct explain_tuple *slots;
	struct explain_proc *procs;
	struct limits_values v;
	char err[LIMITS_ERR_LEN], text[256];
	size_t klen;
	int n;

	memset(&in, 0, sizeof(in));
	klen = read_kmsg_device(kmsg, sizeof(kmsg));
	if (klen == 0)
		klen = read_kmsg_command(kmsg, sizeof(kmsg));
	kmsg[klen] = '\0';
	in.kmsg = klen > 0 ? kmsg : NULL;
	in.since_s = o->since_s;
	if (procfs_read_file("/proc/uptime", text, sizeof(text), err, sizeof(err)) == 0)
		in.uptime_s = strtod(text, NULL);
	if (read_counters(&in.now) < 0)
		in.now.present = false;
	if (o->baseline != NULL) {
		static char btext[4096];

		if (procfs_read_file(o->baseline, btext, sizeof(btext), err, sizeof(err)) < 0) {
			fprintf(stderr, "c1m-doctor: --baseline '%s': %s\n", o->baseline, strerror(errno));
			return 2;
		}
		if (explain_parse_baseline(btext, &in.base, err, sizeof(err)) < 0) {
			fprintf(stderr, "c1m-doctor: --baseline '%s': %s\n", o->baseline, err);
			return 2;
		}
		in.has_base = true;
	}
	if (o->from != NULL) {
		if (read_client(o->from, &client, &ctx) < 0)
			return 2;
		in.client = &client;
		in.ctx = &ctx;
	}
	slots = calloc(TUPLES_CAP, sizeof(*slots));
	if (limits_read(&v, err, sizeof(err)) == 0) {
		in.conntrack_present = v.conntrack_present;
		in.conntrack_count = v.conntrack_count;
		in.conntrack_max = v.conntrack_max;
		in.sockstat_present = v.sockstat_present;
		in.tcp_mem_used = v.tcp_mem_used;
		in.tcp_mem_present = v.tcp_mem_present;
		memcpy(in.tcp_mem, v.tcp_mem, sizeof(in.tcp_mem));
		explain_tuples_init(&tuples, slots, slots != NULL ? TUPLES_CAP : 0, v.port_lo, v.port_hi);
		if (slots != NULL && read_tuples(&tuples))
			in.tuples = &tuples;
	} else {
		fprintf(stderr, "c1m-doctor: warning: %s; conntrack, socket memory and local ports not checked\n", err);
	}
	procs = read_procs(&in.n_procs, &in.procs_checked);
	in.procs = procs;
	explain_analyze(&in, &r);
	n = o->json ? explain_format_json(&r, out, sizeof(out)) : explain_format(&r, &in, out, sizeof(out));
	free(procs);
	free(slots);
	if (n < 0) {
		fprintf(stderr, "c1m-doctor: explanation larger than %zu bytes\n", sizeof(out));
		return 2;
	}
	fputs(out, stdout);
	return r.n > 0 || r.n_kinds > 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct doctor_options o;
	char err[DOCTOR_ERR_LEN];

	if (doctor_opts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-doctor: %s\n", err);
		return 2;
	}
	if (o.help) {
		char usage[DOCTOR_USAGE_LEN];

		doctor_opts_usage(usage, sizeof(usage));
		fputs(usage, stdout);
		return 0;
	}
	if (o.save_baseline != NULL)
		return save_baseline(o.save_baseline);
	if (o.mode == DOCTOR_MODE_EXPLAIN)
		return run_explain(&o);
	return run_check(&o);
}
