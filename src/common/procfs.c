/* Text parsers for /proc and /sys. The kernel's formats are simple but these functions are also fed
 * garbage by a fuzzer, so every parser walks a NUL-terminated string with explicit bounds, accepts
 * only decimal digits, rejects values that overflow 64 bits, and reports what it did not like in err
 * instead of guessing. Only procfs_read_file does I/O. */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
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
