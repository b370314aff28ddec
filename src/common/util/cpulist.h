/* CPU lists as the kernel writes them (Cpus_allowed_list, /sys/devices/system/cpu/online): "0-3,6,8-9".
 * --cpus on c1m-server, c1m-epoll and c1m-client takes one, and worker i runs on the list's
 * (i mod count)-th CPU, in the order written. Pure: parsing and formatting only (common/sys/cpus.h pins). */
#ifndef C1M_UTIL_CPULIST_H
#define C1M_UTIL_CPULIST_H

#include <stddef.h>
#include <stdint.h>

#define CPULIST_MAX 1024            /* CPU numbers 0..CPULIST_MAX-1 (glibc's CPU_SETSIZE) */
#define CPULIST_TEXT_MAX 4096       /* bytes of a list's text at most */

struct cpulist {
	unsigned count;                 /* CPUs in the list; 0 = no list (no pinning) */
	uint16_t cpu[CPULIST_MAX];      /* in the order written, each at most once */
};

/* "N" or "A-B" (A <= B), joined by commas, no blanks, each CPU at most once. Returns 0, or -1 with err
 * naming the bad part ("'3-1' is a reversed range"); l is then empty. */
int cpulist_parse(const char *s, struct cpulist *l, char *err, size_t errlen);

/* The list as text, ranges of consecutive ascending CPUs folded ("0-3,6"). Returns the length, or -1 if
 * buf is too small (buf then holds a truncated, NUL-terminated text). */
int cpulist_format(const struct cpulist *l, char *buf, size_t len);

#endif
