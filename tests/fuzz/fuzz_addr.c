/* libFuzzer target: the --sources address range (addr_parse_range), single addresses of either family
 * (addr_parse_ip) and dotted quads (addr_parse_ipv4). Whatever is accepted must format back to text that
 * parses to the same thing; a range must hold 1..ADDR_MAX_COUNT addresses of one family, its last address
 * (addr_nth of count - 1) must not wrap below its first, nth must be round-robin (nth(count) = first),
 * and a slice must start where nth says. */
#include "fuzz_util.h"

#include "common/util/addr.h"

#include <stdlib.h>
#include <string.h>

/* a <= b, bytewise (network order compares as numbers) */
static bool not_after(const struct addr_ip *a, const struct addr_ip *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) <= 0;
}

static void check_range(const char *s, size_t size)
{
	char err[FUZZ_ERR_LEN] = "", buf[ADDR_RANGE_STRLEN];
	bool nl = memchr(s, '\n', strlen(s)) != NULL;
	struct addr_range r, back, sl;
	struct addr_ip last, nth, wrap;
	uint32_t k;

	if (addr_parse_range(s, &r, err, sizeof(err)) < 0) {
		fuzz_check_err("addr_parse_range", err, sizeof(err), nl);
		return;
	}
	if (r.count == 0 || r.count > ADDR_MAX_COUNT || (r.first.family != AF_INET && r.first.family != AF_INET6))
		fuzz_fail("addr_parse_range", "range count outside 1..ADDR_MAX_COUNT or no family");
	last = addr_nth(&r, r.count - 1);
	if (last.family != r.first.family || !not_after(&r.first, &last))
		fuzz_fail("addr_parse_range", "the range's last address wraps below its first");
	wrap = addr_nth(&r, r.count);
	if (!addr_equal(&wrap, &r.first))
		fuzz_fail("addr_nth", "nth(count) is not the first address (not round-robin)");
	k = (uint32_t)(((uint64_t)size * 2654435761u) % r.count);
	nth = addr_nth(&r, k);
	if (!not_after(&r.first, &nth) || !not_after(&nth, &last))
		fuzz_fail("addr_nth", "nth outside the range");
	sl = addr_range_slice(&r, k, r.count - k);
	if (!addr_equal(&sl.first, &nth))
		fuzz_fail("addr_range_slice", "a slice does not start at nth(lo)");
	addr_format_range(&r, buf, sizeof(buf));
	err[0] = '\0';
	if (addr_parse_range(buf, &back, err, sizeof(err)) < 0 || !addr_equal(&back.first, &r.first) ||
	    back.count != r.count)
		fuzz_fail("addr_parse_range", "formatted range does not parse back to itself");
}

static void check_single(const char *s)
{
	char err[FUZZ_ERR_LEN] = "", buf[ADDR_STRLEN];
	bool nl = memchr(s, '\n', strlen(s)) != NULL;
	struct addr_ip a, b;
	uint32_t v4, w4;

	if (addr_parse_ip(s, &a, err, sizeof(err)) < 0) {
		fuzz_check_err("addr_parse_ip", err, sizeof(err), nl);
	} else {
		addr_format(&a, buf, sizeof(buf));
		err[0] = '\0';
		if (addr_parse_ip(buf, &b, err, sizeof(err)) < 0 || !addr_equal(&a, &b))
			fuzz_fail("addr_parse_ip", "formatted address does not parse back to itself");
	}
	err[0] = '\0';
	if (addr_parse_ipv4(s, &v4, err, sizeof(err)) < 0) {
		fuzz_check_err("addr_parse_ipv4", err, sizeof(err), nl);
	} else {
		a = addr_ipv4(v4);
		addr_format(&a, buf, sizeof(buf));
		err[0] = '\0';
		if (addr_parse_ipv4(buf, &w4, err, sizeof(err)) < 0 || v4 != w4)
			fuzz_fail("addr_parse_ipv4", "formatted address does not parse back to itself");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_text(data, size);

	check_range(s, size);
	check_single(s);
	free(s);
	return 0;
}
