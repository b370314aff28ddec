/* Pinning processes to CPUs (--cpus): the check that a list names only CPUs this process may run on, and
 * the pin itself (sched_setaffinity). workers_run pins worker i to the list's (i mod count)-th CPU. */
#ifndef C1M_SYS_CPUS_H
#define C1M_SYS_CPUS_H

#include <stddef.h>

#include "common/util/cpulist.h"

/* 0 if every CPU of l is in this process's affinity mask (so every pin will succeed), else -1 with err
 * naming the first that is not and the CPUs that are ("CPU 5 is not available here (allowed: 0-1)"). */
int cpus_check(const struct cpulist *l, char *err, size_t errlen);

/* Runs the calling process on CPU cpu only. 0, or -1 with err. */
int cpus_pin(unsigned cpu, char *err, size_t errlen);

#endif
