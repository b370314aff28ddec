/* The shards' reports of one fleet run, as the report of one run: `c1m-client --merge`. Counters add up,
 * histograms merge bucket by bucket (so the percentiles are exactly those of all samples), each failure
 * kind keeps its earliest first failure with the kernel's numbers and the limits of the machine that saw
 * it, and times line up on the wall clock. Pure: it reads only the reports it is given. */
#ifndef C1M_MERGE_H
#define C1M_MERGE_H

#include <stddef.h>

#include "client/state.h"

/* The merged run: meta points into it (lat, limits, kind_limits into the shards' reports, which must
 * outlive it). */
struct merge_result {
	struct report_meta meta;
	struct loadgen_stats stats;
	struct loadgen_lat lat;
};

/* Merges n reports of one fleet run. Reports of different runs (another -n, server, ports, phase or SLO,
 * or the same shard twice) are refused: 0, or -1 with err naming the file (paths[i]) and the field. A
 * missing shard is not an error: the merged report names it as a problem, and its verdict fails. */
int merge_reports(const struct state_report *const *in, const char *const *paths, unsigned n,
		  struct merge_result *out, char *err, size_t errlen);

#endif
