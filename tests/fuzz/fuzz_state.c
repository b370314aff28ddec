/* libFuzzer target: what `c1m-client --merge` reads, the state in a shard's JSON report (state_parse), the
 * barrier's lines (coord_parse_go, coord_parse_line: go, next, end) and a shard's done line of a fleet step
 * (state_parse_step, which --fleet-step then merges with itself as two shards). A report that parses is merged with itself as two shards of a
 * fleet of two (its shard number changed) and the merge is rendered as text and JSON: every count it
 * carries must go through the model without a crash, and the JSON must be whole. */
#include "fuzz_util.h"

#include "client/coord.h"
#include "client/merge.h"
#include "client/report.h"
#include "client/state.h"

#include <stdlib.h>
#include <string.h>

static void merge_twice(struct state_report *r, char *out)
{
	static struct state_report twin;
	static struct merge_result m;
	const struct state_report *in[2] = { r, &twin };
	const char *paths[2] = { "a", "b" };
	char err[FUZZ_ERR_LEN];

	twin = *r;
	twin.meta.lat = r->meta.lat ? &twin.lat : NULL;
	twin.meta.limits = r->meta.limits ? &twin.limits : NULL;
	r->meta.shard_k = 1;
	r->meta.shard_m = 2;
	twin.meta.shard_k = 2;
	twin.meta.shard_m = 2;
	if (merge_reports(in, paths, 2, &m, err, sizeof(err)) < 0) {
		fuzz_check_err("merge_reports", err, sizeof(err), false);
		return;
	}
	if (report_format_text(&m.meta, &m.stats, out, REPORT_TEXT_LEN) < 0)
		fuzz_fail("report_format_text", "a merged report does not fit REPORT_TEXT_LEN");
	if (report_format_json(&m.meta, &m.stats, out, REPORT_TEXT_LEN) < 0)
		fuzz_fail("report_format_json", "a merged report's JSON does not fit REPORT_TEXT_LEN");
}

/* A done line that parses, as both shards of a fleet of two: merge_fleet_step must decide or refuse. */
static void step_twice(struct state_step *a)
{
	static struct state_step b;
	static struct merge_step ms;
	const struct state_step *in[2] = { a, &b };
	struct findmax_plan plan = { true, a->fleet_conns, 1, NULL, 0, a->fleet_rate };
	char err[FUZZ_ERR_LEN];

	b = *a;
	a->shard_k = 1;
	a->shard_m = b.shard_m = 2;
	b.shard_k = 2;
	if (merge_fleet_step(&plan, 200, in, 2, &ms, err, sizeof(err)) < 0)
		fuzz_check_err("merge_fleet_step", err, sizeof(err), false);
	else if (ms.stop == FINDMAX_CONTINUE && ms.next_conns > a->fleet_conns)
		fuzz_fail("merge_fleet_step", "a next step beyond -n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state_report r;
	static struct state_step st;
	static char out[REPORT_TEXT_LEN];
	struct coord_line cl;
	char *text = malloc(size > 0 ? size : 1), *s, err[FUZZ_ERR_LEN] = "";
	bool nl = memchr(data, '\n', size) != NULL;
	uint32_t step;
	uint64_t ns;

	if (text == NULL)
		abort();
	if (size > 0)
		memcpy(text, data, size);
	if (state_parse(text, size, &r, err, sizeof(err)) < 0)
		fuzz_check_err("state_parse", err, sizeof(err), nl);
	else
		merge_twice(&r, out);
	if (state_parse_step(text, size, &st, err, sizeof(err)) < 0)
		fuzz_check_err("state_parse_step", err, sizeof(err), nl);
	else
		step_twice(&st);
	free(text);
	s = fuzz_text(data, size);
	if (coord_parse_go(s, &step, &ns, err, sizeof(err)) < 0)
		fuzz_check_err("coord_parse_go", err, sizeof(err), nl);
	else if (step > FINDMAX_MAX_STEPS || ns == 0)
		fuzz_fail("coord_parse_go", "a step or time out of range was accepted");
	if (coord_parse_line(s, &cl, err, sizeof(err)) < 0)
		fuzz_check_err("coord_parse_line", err, sizeof(err), nl);
	else if (cl.kind == COORD_LINE_NEXT && (cl.step < 2 || cl.msg_rate == 0 || cl.conns == 0))
		fuzz_fail("coord_parse_line", "a next line out of range was accepted");
	else if (cl.kind == COORD_LINE_END && cl.stop == FINDMAX_CONTINUE)
		fuzz_fail("coord_parse_line", "'end continue' was accepted");
	free(s);
	return 0;
}
