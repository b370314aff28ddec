/* c1m-client's printed output other than progress (main_out.c): the plan before a run, the report after it,
 * and the modes that run no load. Only main.c calls these; they print, and return what main exits with. */
#ifndef C1M_MAIN_OUT_H
#define C1M_MAIN_OUT_H

#include <stdbool.h>

#include "client/client_opts.h"
#include "client/loadgen_stats.h"
#include "client/report.h"

#define MAIN_OUT_ERR_LEN 512

/* What the run will do, before it starts (with progress on). */
void main_out_plan(const struct client_options *o, const struct client_plan *plan);
/* The report: text on stdout (stderr when --json - owns stdout), JSON with --json; text is a scratch
 * buffer of REPORT_TEXT_LEN, err one of MAIN_OUT_ERR_LEN. Returns the verdict. */
bool main_out_report(const struct report_meta *m, const struct loadgen_stats *t, const struct client_options *o,
		     char *text, char *err);
/* --help, --version, --merge and --fleet-step. Returns the exit status. */
int main_out_without_load(const struct client_options *o);

#endif
