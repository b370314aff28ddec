/* Text parsers for /proc and /sys. The kernel's formats are simple but these functions are also fed
 * garbage by a fuzzer, so every parser walks a NUL-terminated string with explicit bounds, accepts
 * only decimal digits, rejects values that overflow 64 bits, and reports what it did not like in err
 * instead of guessing. Only procfs_read_file does I/O. */
#include "common/sys/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
	return is_blank(c) || c == '\n' || c == '\r';
}

/* Parses decimal digits at *pp, advancing it. Fails on no digits or 64-bit overflow. */
static int parse_digits(const char **pp, uint64_t *out, char *err, size_t errlen)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (*p < '0' || *p > '9') {
		snprintf(err, errlen, "expected a number, found %s",
			 *p == '\0' ? "end of text" : "a non-digit");
		return -1;
	}
	while (*p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10) {
			snprintf(err, errlen, "number does not fit in 64 bits");
			return -1;
		}
		v = v * 10 + d;
		p++;
	}
	*pp = p;
	*out = v;
	return 0;
}

int procfs_parse_u64(const char *text, uint64_t *out, char *err, size_t errlen)
{
	return procfs_parse_u64_vec(text, out, 1, err, errlen);
}

/* One pass over the text; stores values only when store is true, so the caller can validate first and
 * leave out untouched on failure. */
static int parse_vec_pass(const char *text, uint64_t *out, size_t n, bool store, char *err, size_t errlen)
{
	const char *p = text;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t v;

		while (is_blank(*p))
			p++;
		if (parse_digits(&p, &v, err, errlen) < 0)
			return -1;
		/* A number must end at a separator, not run into letters ("12ab"). */
		if (*p != '\0' && !is_space(*p)) {
			snprintf(err, errlen, "value %zu is followed by a non-digit", i + 1);
			return -1;
		}
		if (store)
			out[i] = v;
	}
	while (is_space(*p))
		p++;
	if (*p != '\0') {
		snprintf(err, errlen, "more than %zu value%s", n, n == 1 ? "" : "s");
		return -1;
	}
	return 0;
}

int procfs_parse_statm_resident(const char *text, uint64_t *pages)
{
	const char *p = text;
	char *end;
	unsigned long long v;
	int field;

	if (text == NULL || pages == NULL)
		return -1;
	for (field = 0; field < 2; field++) {
		while (*p == ' ')
			p++;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno != 0)
			return -1;
		p = end;
	}
	*pages = v;
	return 0;
}

int procfs_parse_stat_cpu(const char *text, uint64_t *busy, uint64_t *total, char *err, size_t errlen)
{
	uint64_t v[8] = { 0 }, sum = 0;
	const char *p;
	char *end;
	unsigned n = 0;

	if (text == NULL || strncmp(text, "cpu ", 4) != 0) {
		snprintf(err, errlen, "/proc/stat does not begin with the 'cpu ' line");
		return -1;
	}
	for (p = text + 4; n < 8;) {
		while (*p == ' ')
			p++;
		if (*p < '0' || *p > '9')
			break;
		errno = 0;
		v[n] = strtoull(p, &end, 10);
		if (errno != 0 || UINT64_MAX - sum < v[n]) {
			snprintf(err, errlen, "/proc/stat: a cpu tick count out of range");
			return -1;
		}
		sum += v[n++];
		p = end;
	}
	if (n < 4 || (*p != ' ' && *p != '\n' && *p != '\0')) {
		snprintf(err, errlen, "/proc/stat: the cpu line has %u tick counts before '%.8s', want at least 4",
			 n, p);
		return -1;
	}
	*total = sum;
	*busy = sum - v[3] - v[4];   /* idle, iowait */
	return 0;
}

int procfs_parse_u64_vec(const char *text, uint64_t *out, size_t n, char *err, size_t errlen)
{
	if (text == NULL || out == NULL || n == 0) {
		snprintf(err, errlen, "no text or no room for values");
		return -1;
	}
	if (parse_vec_pass(text, out, n, false, err, errlen) < 0)
		return -1;
	return parse_vec_pass(text, out, n, true, err, errlen);
}

/* Returns the start of the line after the one starting at p, or NULL at the end of the text. */
static const char *next_line(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl != NULL ? nl + 1 : NULL;
}

/* True if the line at p begins with prefix followed immediately by ':'. */
static bool line_has_label(const char *p, const char *prefix, size_t plen)
{
	return strncmp(p, prefix, plen) == 0 && p[plen] == ':';
}

int procfs_meminfo_get(const char *text, const char *key, uint64_t *bytes, char *err, size_t errlen)
{
	size_t klen;
	const char *line;

	if (text == NULL || key == NULL || key[0] == '\0') {
		snprintf(err, errlen, "meminfo: no text or no key");
		return -1;
	}
	klen = strlen(key);
	for (line = text; line != NULL && *line != '\0'; line = next_line(line)) {
		const char *p;
		uint64_t v;

		if (!line_has_label(line, key, klen))
			continue;
		p = line + klen + 1;
		while (is_blank(*p))
			p++;
		if (parse_digits(&p, &v, err, errlen) < 0)
			return -1;
		while (is_blank(*p))
			p++;
		if (strncmp(p, "kB", 2) == 0 && (p[2] == '\0' || is_space(p[2]))) {
			if (v > UINT64_MAX / 1024) {
				snprintf(err, errlen, "meminfo %s: value too large", key);
				return -1;
			}
			v *= 1024;
		} else if (*p != '\0' && *p != '\n' && *p != '\r') {
			snprintf(err, errlen, "meminfo %s: unknown unit", key);
			return -1;
		}
		*bytes = v;
		return 0;
	}
	snprintf(err, errlen, "meminfo: no %s line", key);
	return -1;
}

/* Finds the next blank-separated token of the line at *pp (start and length, not copied) and advances
 * *pp past it. Returns false at the end of the line. */
static bool next_token(const char **pp, const char **start, size_t *tlen)
{
	const char *p = *pp;

	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '\n' || *p == '\r')
		return false;
	*start = p;
	while (*p != '\0' && !is_space(*p))
		p++;
	*tlen = (size_t)(p - *start);
	*pp = p;
	return true;
}

int procfs_netstat_get(const char *text, const char *section, const char *key, uint64_t *out,
		       char *err, size_t errlen)
{
	size_t slen, klen;
	const char *line;

	if (text == NULL || section == NULL || key == NULL || section[0] == '\0' || key[0] == '\0') {
		snprintf(err, errlen, "netstat: no text, section or key");
		return -1;
	}
	slen = strlen(section);
	klen = strlen(key);
	for (line = text; line != NULL && *line != '\0'; line = next_line(line)) {
		const char *hp, *vp, *values, *tok;
		size_t tlen, index = 0;
		bool found = false;

		if (!line_has_label(line, section, slen))
			continue;
		values = next_line(line);
		if (values == NULL || !line_has_label(values, section, slen)) {
			snprintf(err, errlen, "netstat %s: header line without a value line", section);
			return -1;
		}
		hp = line + slen + 1;
		while (next_token(&hp, &tok, &tlen)) {
			if (tlen == klen && memcmp(tok, key, klen) == 0) {
				found = true;
				break;
			}
			index++;
		}
		if (!found) {
			/* The same section may not repeat; keep scanning after its value line anyway. */
			line = values;
			continue;
		}
		vp = values + slen + 1;
		for (;;) {
			if (!next_token(&vp, &tok, &tlen)) {
				snprintf(err, errlen, "netstat %s: fewer values than names", section);
				return -1;
			}
			if (index == 0)
				break;
			index--;
		}
		/* The token must be all digits: parse_digits stops at the first non-digit. */
		{
			const char *p = tok;
			uint64_t v;

			if (parse_digits(&p, &v, err, errlen) < 0)
				return -1;
			if (p != tok + tlen) {
				snprintf(err, errlen, "netstat %s %s: value is not a number", section, key);
				return -1;
			}
			*out = v;
		}
		return 0;
	}
	snprintf(err, errlen, "netstat: no %s %s", section, key);
	return -1;
}

int procfs_sockstat_get(const char *text, const char *proto, const char *key, uint64_t *out,
			char *err, size_t errlen)
{
	size_t plen, klen;
	const char *line;

	if (text == NULL || proto == NULL || key == NULL || proto[0] == '\0' || key[0] == '\0') {
		snprintf(err, errlen, "sockstat: no text, protocol or key");
		return -1;
	}
	plen = strlen(proto);
	klen = strlen(key);
	for (line = text; line != NULL && *line != '\0'; line = next_line(line)) {
		const char *p, *tok;
		size_t tlen;

		if (!line_has_label(line, proto, plen))
			continue;
		p = line + plen + 1;
		/* name value name value ... */
		while (next_token(&p, &tok, &tlen)) {
			const char *vtok, *q;
			size_t vlen;
			uint64_t v;

			if (!next_token(&p, &vtok, &vlen)) {
				snprintf(err, errlen, "sockstat %s: name without a value", proto);
				return -1;
			}
			if (tlen != klen || memcmp(tok, key, klen) != 0)
				continue;
			q = vtok;
			if (parse_digits(&q, &v, err, errlen) < 0)
				return -1;
			if (q != vtok + vlen) {
				snprintf(err, errlen, "sockstat %s %s: value is not a number", proto, key);
				return -1;
			}
			*out = v;
			return 0;
		}
		snprintf(err, errlen, "sockstat %s: no %s", proto, key);
		return -1;
	}
	snprintf(err, errlen, "sockstat: no %s line", proto);
	return -1;
}

int procfs_limits_nofile(const char *text, uint64_t *soft, uint64_t *hard, char *err, size_t errlen)
{
	static const char label[] = "Max open files";
	const char *line = text;

	if (text == NULL) {
		snprintf(err, errlen, "limits: no text");
		return -1;
	}
	/* "Max open files            1024                 4096                 files     " */
	for (; line != NULL; line = next_line(line)) {
		const char *p = line;
		uint64_t v[2];
		unsigned i;

		if (strncmp(p, label, sizeof(label) - 1) != 0 || !is_blank(p[sizeof(label) - 1]))
			continue;
		p += sizeof(label) - 1;
		for (i = 0; i < 2; i++) {
			while (is_blank(*p))
				p++;
			if (strncmp(p, "unlimited", 9) == 0) {
				v[i] = UINT64_MAX;
				p += 9;
			} else if (parse_digits(&p, &v[i], err, errlen) < 0) {
				return -1;
			}
			if (!is_blank(*p) && *p != '\n' && *p != '\0') {
				snprintf(err, errlen, "limits: Max open files: bad value");
				return -1;
			}
		}
		*soft = v[0];
		*hard = v[1];
		return 0;
	}
	snprintf(err, errlen, "limits: no Max open files line");
	return -1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly n hex digits at *pp (n <= 8), advancing it. */
static int parse_hex(const char **pp, const char *end, unsigned n, uint32_t *out)
{
	const char *p = *pp;
	uint32_t v = 0;
	unsigned i;

	if ((size_t)(end - p) < n)
		return -1;
	for (i = 0; i < n; i++) {
		int d = hex_digit(p[i]);

		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*pp = p + n;
	*out = v;
	return 0;
}

/* "ADDR:PORT" where ADDR is 8 (IPv4) or 32 (IPv6) hex digits: one or four 32-bit words as the kernel
 * holds them in memory, printed with %08X. Copying each word's native value back into memory gives
 * the original bytes, which are in network order. */
static int parse_endpoint(const char **pp, const char *end, unsigned family, unsigned char *addr,
			  unsigned *port)
{
	unsigned words = family == 4 ? 1 : 4, i;
	uint32_t w, pv;

	memset(addr, 0, 16);
	for (i = 0; i < words; i++) {
		if (parse_hex(pp, end, 8, &w) < 0)
			return -1;
		memcpy(addr + 4 * i, &w, 4);
	}
	if (*pp >= end || **pp != ':')
		return -1;
	(*pp)++;
	if (parse_hex(pp, end, 4, &pv) < 0)
		return -1;
	*port = (unsigned)pv;
	return 0;
}

int procfs_tcp_parse_line(const char *line, size_t len, struct procfs_tcp_sock *s)
{
	const char *p, *end, *q;
	uint32_t st;
	size_t alen;

	if (line == NULL || s == NULL)
		return -1;
	p = line;
	end = line + len;
	while (p < end && is_blank(*p))
		p++;
	/* "sl" is a decimal slot number followed by ':' */
	q = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == q || p >= end || *p != ':')
		return -1;
	p++;
	while (p < end && is_blank(*p))
		p++;
	/* The local address's length tells the family: 8 hex digits or 32. */
	q = p;
	while (q < end && hex_digit(*q) >= 0)
		q++;
	alen = (size_t)(q - p);
	if (alen == 8)
		s->family = 4;
	else if (alen == 32)
		s->family = 6;
	else
		return -1;
	if (parse_endpoint(&p, end, s->family, s->local, &s->local_port) < 0)
		return -1;
	if (p >= end || !is_blank(*p))
		return -1;
	while (p < end && is_blank(*p))
		p++;
	if (parse_endpoint(&p, end, s->family, s->remote, &s->remote_port) < 0)
		return -1;
	if (p >= end || !is_blank(*p))
		return -1;
	while (p < end && is_blank(*p))
		p++;
	if (parse_hex(&p, end, 2, &st) < 0)
		return -1;
	if (p < end && !is_space(*p))
		return -1;
	s->state = (unsigned)st;
	return 0;
}

int procfs_read_file(const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	size_t used = 0;
	int fd, saved;

	if (buf == NULL || len < 2) {
		snprintf(err, errlen, "%s: buffer too small", path);
		errno = EINVAL;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		snprintf(err, errlen, "open %s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	/* /proc files are generated on read and may need several read() calls. */
	for (;;) {
		ssize_t n = read(fd, buf + used, len - 1 - used);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			snprintf(err, errlen, "read %s: %s", path, strerror(saved));
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used == len - 1) {
			char probe;

			n = read(fd, &probe, 1);
			if (n > 0) {
				snprintf(err, errlen, "%s: larger than %zu bytes", path, len - 1);
				close(fd);
				errno = E2BIG;
				return -1;
			}
			break;
		}
	}
	close(fd);
	buf[used] = '\0';
	return 0;
}

int procfs_read_u64(const char *path, uint64_t *out, char *err, size_t errlen)
{
	char buf[128];
	char perr[PROCFS_ERR_LEN];

	if (procfs_read_file(path, buf, sizeof(buf), err, errlen) < 0)
		return -1;
	if (procfs_parse_u64(buf, out, perr, sizeof(perr)) < 0) {
		snprintf(err, errlen, "%s: %s", path, perr);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int procfs_rss_open(struct procfs_rss *r, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);

	r->page_size = page > 0 ? (uint64_t)page : 4096;
	r->fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		snprintf(err, errlen, "/proc/self/statm: %s", strerror(errno));
		return -1;
	}
	return 0;
}

uint64_t procfs_rss_bytes(const struct procfs_rss *r)
{
	char buf[128];
	uint64_t resident;
	ssize_t n;

	if (r->fd < 0)
		return 0;
	n = pread(r->fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (procfs_parse_statm_resident(buf, &resident) < 0)
		return 0;
	return resident * r->page_size;
}

int procfs_read_stat_cpu(uint64_t *busy, uint64_t *total, char *err, size_t errlen)
{
	char buf[512];
	ssize_t n;
	int fd;

	/* only the first line: the rest (one line per CPU, interrupts) can be long */
	fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "open /proc/stat: %s", strerror(errno));
		return -1;
	}
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		snprintf(err, errlen, "read /proc/stat: %s", strerror(errno));
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return procfs_parse_stat_cpu(buf, busy, total, err, errlen);
}

void procfs_rss_close(struct procfs_rss *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
