/* libFuzzer target: c1m-client's command line. The input is an argv, arguments separated by NUL bytes.
 * A successful parse is also laid out by client_opts_plan with a few open-file limits, because the parsed
 * numbers (-n, --workers, --sources) flow straight into that arithmetic. */
#include "fuzz_util.h"

#include "client/client_opts.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t nofile[] = { 0, 21, 20000, 1000000, UINT64_MAX };
	char *argv[FUZZ_MAX_ARGS + 2], *block;
	char err[FUZZ_ERR_LEN] = "";
	struct client_options o;
	struct client_plan p;
	bool nl = memchr(data, '\n', size) != NULL;
	int argc = fuzz_argv(data, size, "c1m-client", argv, &block);
	unsigned i;

	if (client_opts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fuzz_check_err("client_opts_parse", err, sizeof(err), nl);
	} else if (o.merge && !o.help && !o.version) {   /* reports to read, no run */
		if (o.n_merge == 0 || o.n_merge > CLIENT_MAX_MERGE)
			fuzz_fail("client_opts_parse", "accepted --merge without report files");
		for (i = 0; i < o.n_merge; i++)
			if (o.merge_files[i] == NULL)
				fuzz_fail("client_opts_parse", "a --merge file is NULL");
	} else if (!o.help && !o.version) { /* both need no HOST or -n */
		if (o.shard_m > 1 && (o.shard_k == 0 || o.shard_k > o.shard_m || client_opts_shard_target(&o) == 0))
			fuzz_fail("client_opts_parse", "accepted a shard without connections");
		if (o.ports == 0 || o.port_base == 0 || (uint64_t)o.port_base + o.ports - 1 > 65535)
			fuzz_fail("client_opts_parse", "accepted a port range outside 1..65535");
		if (o.target == 0 || o.target > CLIENT_MAX_TARGET)
			fuzz_fail("client_opts_parse", "accepted -n outside 1..CLIENT_MAX_TARGET");
		if (o.send_window_ms == 0 || o.send_window_ms > CLIENT_MAX_SEND_WINDOW_MS ||
		    (o.send_window_set && (o.msg_rate == 0 || o.send_window_ms >= o.slo_ms)))
			fuzz_fail("client_opts_parse", "accepted a --send-window outside 1..1000, without --msg-rate or "
				  "not below --slo");
		for (i = 0; i < sizeof(nofile) / sizeof(nofile[0]); i++) {
			err[0] = '\0';
			if (client_opts_plan(&o, nofile[i], 1 + i * 7, &p, err, sizeof(err)) < 0)
				fuzz_check_err("client_opts_plan", err, sizeof(err), nl);
			else if (p.workers == 0 || p.workers < p.workers_needed)
				fuzz_fail("client_opts_plan", "planned fewer processes than -n needs");
		}
	}
	free(block);
	return 0;
}
