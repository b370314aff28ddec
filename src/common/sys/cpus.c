/* Pinning to CPUs (cpus.h). */
#include "common/sys/cpus.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

int cpus_check(const struct cpulist *l, char *err, size_t errlen)
{
	struct cpulist allowed;
	char text[256];
	cpu_set_t set;
	unsigned i;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		snprintf(err, errlen, "sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	allowed.count = 0;
	for (i = 0; i < CPULIST_MAX && i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			allowed.cpu[allowed.count++] = (uint16_t)i;
	for (i = 0; i < l->count; i++)
		if (!CPU_ISSET(l->cpu[i], &set)) {
			if (cpulist_format(&allowed, text, sizeof(text)) < 0)
				snprintf(text, sizeof(text), "%u CPUs", allowed.count);
			snprintf(err, errlen, "CPU %u is not available to this process (allowed: %s)",
				 (unsigned)l->cpu[i], text);
			return -1;
		}
	return 0;
}

int cpus_pin(unsigned cpu, char *err, size_t errlen)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		snprintf(err, errlen, "pin to CPU %u: %s", cpu, strerror(errno));
		return -1;
	}
	return 0;
}
