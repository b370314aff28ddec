/* libFuzzer target: the kernel-log scan behind `c1m-doctor --explain` (explain_analyze with the input as
 * the dmesg text) and both formatters, because quoted log lines flow into the human report and the JSON.
 * Each input is analysed with and without a time window, with and without a baseline; the JSON must not
 * contain a raw control character, whatever the log held. */
#include "fuzz_util.h"

#include "common/model/explain.h"

#include <stdlib.h>
#include <string.h>

static void check_json(const char *json, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if ((unsigned char)json[i] < 0x20 && json[i] != '\n')
			fuzz_fail("explain_format_json", "raw control character in the JSON");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[1 << 16], json[1 << 16];
	char *s = fuzz_text(data, size);
	struct explain_input in;
	struct explain_result r;
	unsigned pass;
	int n;

	for (pass = 0; pass < 4; pass++) {
		memset(&in, 0, sizeof(in));
		in.kmsg = s;
		in.uptime_s = 1000.0;
		in.since_s = (pass & 1) ? 60.0 : 0.0;
		in.now = (struct kstate_tcpext){ true, 20, 20, 3, 1 };
		in.base = (struct kstate_tcpext){ true, 10, 25, 3, 0 };
		in.has_base = (pass & 2) != 0;
		in.conntrack_present = true;
		in.conntrack_count = 262000;
		in.conntrack_max = 262144;
		in.sockstat_present = true;
		in.tcp_mem_used = 100;
		in.tcp_mem[0] = 50;
		in.tcp_mem[1] = 90;
		in.tcp_mem[2] = 120;
		explain_analyze(&in, &r);
		if (r.n > EXPLAIN_CAUSE_COUNT)
			fuzz_fail("explain_analyze", "more findings than causes");
		if (explain_format(&r, &in, text, sizeof(text)) < 0)
			fuzz_fail("explain_format", "a 64 KiB buffer was too small");
		n = explain_format_json(&r, json, sizeof(json));
		if (n < 0)
			fuzz_fail("explain_format_json", "a 64 KiB buffer was too small");
		check_json(json, n);
	}
	free(s);
	return 0;
}
