/* libFuzzer target: the counter baseline file saved before a run (explain_parse_baseline) and the
 * /proc/net/netstat reader that fills the same counters (kstate_parse_tcpext). A parsed baseline
 * must format and parse back to the same counters. */
#include "fuzz_util.h"

#include "common/model/explain.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_text(data, size);
	char err[FUZZ_ERR_LEN] = "", buf[512];
	bool nl = memchr(data, '\n', size) != NULL;
	struct kstate_tcpext c, back;

	if (explain_parse_baseline(s, &c, err, sizeof(err)) < 0) {
		fuzz_check_err("explain_parse_baseline", err, sizeof(err), nl);
	} else {
		if (explain_format_baseline(&c, buf, sizeof(buf)) < 0)
			fuzz_fail("explain_format_baseline", "512 bytes were too small");
		err[0] = '\0';
		if (explain_parse_baseline(buf, &back, err, sizeof(err)) < 0 || memcmp(&c, &back, sizeof(c)) != 0)
			fuzz_fail("explain_parse_baseline", "formatted baseline does not parse back to itself");
	}
	err[0] = '\0';
	if (kstate_parse_tcpext(s, &c, err, sizeof(err)) < 0)
		fuzz_check_err("kstate_parse_tcpext", err, sizeof(err), nl);
	free(s);
	return 0;
}
