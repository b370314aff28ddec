/* libFuzzer target: c1m-floor's command line (floor_opts_parse, then floor_opts_plan). The input is an argv,
 * arguments separated by NUL bytes. A parse that succeeds must leave every number in the range the parser
 * promises and the probe's required count set; the plan is then made for three open-file limits, and a plan
 * that succeeds must give every process a share that fits its descriptors, as capacity_plan counts them. */
#include "fuzz_util.h"

#include "bench/floor_opts.h"
#include "common/model/capacity.h"

#include <stdlib.h>
#include <string.h>

static void fuzz_check_options(const struct floor_options *o)
{
	if (o->size < 1 || o->size > FLOOR_SIZE_MAX || o->duration_ms < 100 || o->timeout_ms < 100 ||
	    o->concurrency < 1 || o->ports < 1 || (unsigned)o->port_base + o->ports - 1 > 65535)
		fuzz_fail("floor_opts_parse", "accepted a value outside its range");
	if (o->mode == FLOOR_MESSAGE && (o->pairs < 1 || o->pairs > FLOOR_PAIRS_MAX || o->conns != 0))
		fuzz_fail("floor_opts_parse", "accepted a message probe without --pairs, or with -n");
	if (o->mode == FLOOR_CONNECT && (o->conns < 1 || o->conns > FLOOR_PAIRS_MAX || o->pairs != 0))
		fuzz_fail("floor_opts_parse", "accepted a connect probe without -n, or with --pairs");
	if (o->mode == FLOOR_NONE)
		fuzz_fail("floor_opts_parse", "accepted a run without a probe");
	if (o->sources.count != 0 && o->sources.first.family != AF_INET)
		fuzz_fail("floor_opts_parse", "accepted non-IPv4 sources");
}

static void fuzz_check_plan(const struct floor_options *o, uint64_t nofile)
{
	struct capacity s, c;
	char err[FUZZ_ERR_LEN] = "";

	if (o->mode == FLOOR_MESSAGE) {
		(void)capacity_plan(CAPACITY_CLIENT, nofile, 0, 1, &c, err, sizeof(err));
		if (o->procs < 1 || o->procs > o->pairs ||
		    (o->pairs / o->procs + (o->pairs % o->procs != 0)) * 2 > c.budget)
			fuzz_fail("floor_opts_plan", "planned a process with more pairs than its descriptors hold");
		return;
	}
	(void)capacity_plan(CAPACITY_SERVER, nofile, o->ports, 1, &s, err, sizeof(err));
	(void)capacity_plan(CAPACITY_CLIENT, nofile, 0, 1, &c, err, sizeof(err));
	if (o->servers < 1 || o->clients < 1 || o->clients > o->conns ||
	    o->conns / o->servers + (o->conns % o->servers != 0) > s.budget ||
	    o->conns / o->clients + (o->conns % o->clients != 0) > c.budget)
		fuzz_fail("floor_opts_plan", "planned a process with more connections than its descriptors hold");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t nofile[] = { 64, 20000, 1048576 };
	char *argv[FUZZ_MAX_ARGS + 2], *block;
	char err[FUZZ_ERR_LEN] = "";
	struct floor_options o;
	bool nl = memchr(data, '\n', size) != NULL;
	int argc = fuzz_argv(data, size, "c1m-floor", argv, &block);
	unsigned i;

	if (floor_opts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fuzz_check_err("floor_opts_parse", err, sizeof(err), nl);
	} else if (!o.help && !o.version) {
		fuzz_check_options(&o);
		for (i = 0; i < sizeof(nofile) / sizeof(nofile[0]); i++) {
			struct floor_options p = o;

			err[0] = '\0';
			if (floor_opts_plan(&p, nofile[i], err, sizeof(err)) < 0)
				fuzz_check_err("floor_opts_plan", err, sizeof(err), nl);
			else
				fuzz_check_plan(&p, nofile[i]);
		}
	}
	free(block);
	return 0;
}
