/* libFuzzer target: the --sources address range and single dotted quads (addr_parse_range,
 * addr_parse_ipv4). Whatever is accepted must format back to text that parses to the same range, and a
 * range must stay inside the IPv4 space and ADDR_MAX_COUNT. */
#include "fuzz_util.h"

#include "common/util/addr.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_text(data, size);
	char err[FUZZ_ERR_LEN] = "", buf[2 * ADDR_STRLEN];
	bool nl = memchr(data, '\n', size) != NULL;
	struct addr_range r, back;
	uint32_t a, b;

	if (addr_parse_range(s, &r, err, sizeof(err)) < 0) {
		fuzz_check_err("addr_parse_range", err, sizeof(err), nl);
	} else {
		if (r.count == 0 || r.count > ADDR_MAX_COUNT || (uint64_t)r.first + r.count - 1 > UINT32_MAX)
			fuzz_fail("addr_parse_range", "range outside the IPv4 space or ADDR_MAX_COUNT");
		addr_format_range(&r, buf, sizeof(buf));
		err[0] = '\0';
		if (addr_parse_range(buf, &back, err, sizeof(err)) < 0 || back.first != r.first || back.count != r.count)
			fuzz_fail("addr_parse_range", "formatted range does not parse back to itself");
		(void)addr_nth(&r, (uint64_t)size * 2654435761u);
	}
	err[0] = '\0';
	if (addr_parse_ipv4(s, &a, err, sizeof(err)) < 0) {
		fuzz_check_err("addr_parse_ipv4", err, sizeof(err), nl);
	} else {
		addr_format(a, buf, sizeof(buf));
		err[0] = '\0';
		if (addr_parse_ipv4(buf, &b, err, sizeof(err)) < 0 || a != b)
			fuzz_fail("addr_parse_ipv4", "formatted address does not parse back to itself");
	}
	free(s);
	return 0;
}
