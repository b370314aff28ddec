/* The doctor's readers of the machine (see doctor_read.h). /dev/kmsg records are "prio,seq,usec,flags;text"
 * plus continuation lines starting with a space; converting them to dmesg's "[sec.usec] text" keeps
 * explain.c independent of where the log came from. */
#include "doctor/doctor_read.h"

#include "common/sys/procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DOCTOR_BASELINE_MAX 4096 /* a --save-baseline file is a few lines */

/* The timestamp of a /dev/kmsg record "prio,seq,usec,flags;text": the third field, in microseconds. */
static int doctor_kmsg_usec(const char *rec, unsigned long long *usec)
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

static size_t doctor_kmsg_device(char *buf, size_t len)
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
		if (semi == NULL || doctor_kmsg_usec(rec, &usec) < 0)
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

static size_t doctor_kmsg_command(char *buf, size_t len)
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

size_t doctor_read_kmsg(char *buf, size_t len)
{
	size_t n = doctor_kmsg_device(buf, len);

	if (n == 0)
		n = doctor_kmsg_command(buf, len);
	buf[n] = '\0';
	return n;
}

double doctor_read_uptime(void)
{
	char text[256], err[PROCFS_ERR_LEN];

	if (procfs_read_file("/proc/uptime", text, sizeof(text), err, sizeof(err)) < 0)
		return 0;
	return strtod(text, NULL);
}

/* One process: its open-file limits, descriptors and name. Returns -1 when it cannot be read (gone, or
 * another user's). Counting /proc/PID/fd costs one readdir entry per descriptor, which is seconds at most
 * even beside a server holding a million connections. */
static int doctor_read_proc(long pid, struct explain_proc *p)
{
	char path[64], text[4096], err[PROCFS_ERR_LEN];
	struct dirent *fe;
	DIR *fd;

	memset(p, 0, sizeof(*p));
	p->pid = (int)pid;
	snprintf(path, sizeof(path), "/proc/%ld/limits", pid);
	if (procfs_read_file(path, text, sizeof(text), err, sizeof(err)) < 0 ||
	    procfs_limits_nofile(text, &p->soft, &p->hard, err, sizeof(err)) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	if ((fd = opendir(path)) == NULL)
		return -1;
	while ((fe = readdir(fd)) != NULL)
		if (fe->d_name[0] != '.')
			p->fds++;
	closedir(fd);
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if (procfs_read_file(path, text, sizeof(text), err, sizeof(err)) == 0) {
		size_t l = strcspn(text, "\n");

		if (l >= sizeof(p->comm))
			l = sizeof(p->comm) - 1;   /* the kernel's comm is 15 bytes; cut anything longer */
		memcpy(p->comm, text, l);
		p->comm[l] = '\0';
	} else {
		snprintf(p->comm, sizeof(p->comm), "?");
	}
	return 0;
}

struct explain_proc *doctor_read_procs(unsigned *n, bool *checked)
{
	struct explain_proc *v = NULL;
	unsigned cap = 0;
	struct dirent *de;
	DIR *proc = opendir("/proc");
	pid_t self = getpid();

	*n = 0;
	*checked = proc != NULL;
	if (proc == NULL)
		return NULL;
	while ((de = readdir(proc)) != NULL) {
		struct explain_proc p;
		char *end;
		long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid > INT32_MAX || pid == (long)self || doctor_read_proc(pid, &p) < 0)
			continue;
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

/* Line by line: with a million sockets the files are over 100 MB, so they are never read whole. */
bool doctor_read_tuples(struct explain_tuples *t)
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

int doctor_read_baseline(const char *path, struct kstate_tcpext *base, char *err, size_t errlen)
{
	static char text[DOCTOR_BASELINE_MAX];
	char why[PROCFS_ERR_LEN];

	if (procfs_read_file(path, text, sizeof(text), why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--baseline '%s': %s", path, strerror(errno));
		return -1;
	}
	if (explain_parse_baseline(text, base, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--baseline '%s': %s", path, why);
		return -1;
	}
	return 0;
}

int doctor_read_client(const char *path, struct explain_client *cl, char *err, size_t errlen)
{
	static char text[DOCTOR_CLIENT_JSON_MAX];
	char why[PROCFS_ERR_LEN];

	if (procfs_read_file(path, text, sizeof(text), why, sizeof(why)) < 0 ||
	    explain_client_parse(text, strlen(text), cl, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--from '%s': %s", path, why);
		return -1;
	}
	return 0;
}
