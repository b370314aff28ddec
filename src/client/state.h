/* A process's whole result, written into its JSON report (the "state" member) so that another process can
 * read it back exactly: every counter, every failure kind with its first time and the kernel's numbers at
 * that moment, every non-empty bucket of the three histograms, the latency phase the report judged, the
 * limits it read and what the run was asked to do. `c1m-client --merge` reads the shards' reports with
 * state_parse and prints one report for the fleet (client/merge.h). Times are written on the wall clock
 * (the writer's monotonic times plus report_meta.wall_offset_ns), so that shards on other hosts line up;
 * the report only ever uses differences of them. The field tables in state.c are the one definition of
 * the format: the writer and the reader walk the same tables. */
#ifndef C1M_STATE_H
#define C1M_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "client/loadgen_stats.h"
#include "client/report.h"
#include "common/sys/limits_read.h"
#include "common/util/json.h"

#define STATE_FORMAT 3   /* "state": {"format": 3, ...}: bumped when a table changes meaning (2: the
                            sources' first address as text, IPv4 or IPv6; 3: the phase's failed
                            statuses and the client's CPU during it, for the saturation judge) */

/* What a report's state holds, read back. meta.lat and meta.limits point into this struct. */
struct state_report {
	struct report_meta meta;
	struct limits_values limits;
	bool has_limits;
	struct loadgen_stats stats;
	struct loadgen_lat lat;          /* the phase the report judged (meta.lat), valid if meta.lat */
};

/* Writes "state": {...} as a member of the open object w (pure). */
void state_write(struct json_w *w, const struct report_meta *m, const struct loadgen_stats *t);

/* Reads a whole c1m-client --json report in text[0..len) into r (large: keep it off small stacks). Every
 * field of the state must be there with its type; anything else in the report is skipped. 0, or -1 with
 * err naming the field. */
int state_parse(const char *text, size_t len, struct state_report *r, char *err, size_t errlen);

#endif
