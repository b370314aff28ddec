/* libFuzzer target: --cpus lists (cpulist_parse, cpulist_format). An accepted list must hold 1..CPULIST_MAX
 * CPUs below CPULIST_MAX, each once; its text must parse back to the same CPUs in the same order; a refused
 * one must leave the list empty with a one-line error. */
#include "fuzz_util.h"

#include "common/util/cpulist.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cpulist l, back;
	static char text[CPULIST_MAX * 6];
	char err[FUZZ_ERR_LEN] = "", *s = fuzz_text(data, size);
	bool seen[CPULIST_MAX] = { false };
	unsigned i;

	if (cpulist_parse(s, &l, err, sizeof(err)) < 0) {
		fuzz_check_err("cpulist_parse", err, sizeof(err), memchr(s, '\n', strlen(s)) != NULL);
		if (l.count != 0)
			fuzz_fail("cpulist_parse", "a refused list is not empty");
		free(s);
		return 0;
	}
	if (l.count == 0 || l.count > CPULIST_MAX)
		fuzz_fail("cpulist_parse", "an accepted list holds no CPU or too many");
	for (i = 0; i < l.count; i++) {
		if (l.cpu[i] >= CPULIST_MAX || seen[l.cpu[i]])
			fuzz_fail("cpulist_parse", "a CPU out of range or listed twice");
		seen[l.cpu[i]] = true;
	}
	if (cpulist_format(&l, text, sizeof(text)) < 0)
		fuzz_fail("cpulist_format", "the text of a valid list does not fit");
	if (cpulist_parse(text, &back, err, sizeof(err)) < 0 || back.count != l.count ||
	    memcmp(back.cpu, l.cpu, l.count * sizeof(l.cpu[0])) != 0)
		fuzz_fail("cpulist_format", "the text does not parse back to the same list");
	free(s);
	return 0;
}
