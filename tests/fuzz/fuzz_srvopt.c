/* libFuzzer target: the command line of c1m-server and c1m-epoll (srvopt_parse). The input is an argv,
 * arguments separated by NUL bytes. A successful parse goes through srvopt_resolve with a small and a
 * large fd limit, since the parsed counts feed the per-worker division there. */
#include "fuzz_util.h"

#include "server/core/srvopt.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct srvopt_env envs[] = {
		{ .nofile = 1024, .somaxconn = 4096, .stderr_tty = false },
		{ .nofile = 20000, .somaxconn = 65535, .stderr_tty = true },
		{ .nofile = 0, .somaxconn = 0, .stderr_tty = false },
	};
	char *argv[FUZZ_MAX_ARGS + 2], *block;
	char err[FUZZ_ERR_LEN] = "", usage[4096];
	struct server_options o, r;
	bool nl = memchr(data, '\n', size) != NULL;
	int argc = fuzz_argv(data, size, "c1m-server", argv, &block);
	unsigned i;

	if (srvopt_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fuzz_check_err("srvopt_parse", err, sizeof(err), nl);
	} else if (o.help) {
		(void)srvopt_usage(argv[0], 0, usage, sizeof(usage));
	} else {
		if (o.ports == 0 || o.port_base == 0 || (uint32_t)o.port_base + o.ports - 1 > 65535)
			fuzz_fail("srvopt_parse", "accepted a port range outside 1..65535");
		if (memchr(o.bind_addr, '\0', sizeof(o.bind_addr)) == NULL)
			fuzz_fail("srvopt_parse", "bind_addr is not NUL-terminated");
		for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
			r = o;
			err[0] = '\0';
			if (srvopt_resolve(&r, &envs[i], err, sizeof(err)) < 0)
				fuzz_check_err("srvopt_resolve", err, sizeof(err), nl);
			else if (r.workers == 0)
				fuzz_fail("srvopt_resolve", "resolved to 0 workers");
		}
	}
	free(block);
	return 0;
}
