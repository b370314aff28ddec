/* The shared supervisor of c1m-server and c1m-epoll (see srvmain.h). Everything a server's main did before its
 * workers differ is here once: options, limits, the port check, shared memory, supervision and the summary. */
#include "server/core/srvmain.h"

#include "common/util/counter.h"

#include "common/util/clock.h"
#include "common/util/version.h"
#include "common/model/limits.h"
#include "common/sys/cpus.h"
#include "common/sys/limits_read.h"
#include "server/core/metrics.h"
#include "common/sys/net.h"
#include "server/core/stats.h"
#include "common/sys/workers.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#define SRVMAIN_TABLE_LEN 16384

/* Supervisor state shared by the workers_run() callbacks. */
struct srvmain_run {
	const struct srvmain_ops *ops;
	struct server_options opt;
	struct srvmain_config cfg;
	struct acceptctl_shared *shared; /* MAP_SHARED: listener holder count */
	void *slots;                     /* MAP_SHARED: one ops->slot_size slot per worker */
	size_t slots_size;               /* bytes */
	struct drain_slot *drain;        /* MAP_SHARED: one drain record per worker */
	struct stats_totals prev;        /* snapshot at the previous status line */
	uint64_t prev_ns;                /* clock_now_ns() of prev; 0 = none yet */
	uint64_t start_ns;               /* clock_now_ns() when the workers were started */
	unsigned *starts;                /* per worker: times the supervisor started it */
	int *pids;                       /* per worker: pid of its last start (the slot's is cleared when reaped) */
	struct event_base *base;         /* the supervisor's loop when --metrics serves on it; else NULL */
	struct metrics_server *metrics;  /* --metrics endpoint; NULL without the flag */
	struct diag_context diag;        /* the limits read at start; the workers inherit it */
};

static struct stats_slot *srvmain_slot(struct srvmain_run *r, unsigned index)
{
	return workers_slot(r->slots, r->ops->slot_size, index);
}

static void srvmain_tick(void *slots, unsigned count, void *arg)
{
	struct srvmain_run *r = arg;
	struct stats_totals now;
	uint64_t t = clock_now_ns();
	char line[512];

	stats_sum(slots, workers_slots_size(1, r->ops->slot_size), count, &now);
	stats_format_line(&now, r->prev_ns != 0 ? &r->prev : NULL, (double)(t - r->prev_ns) / 1e9, line,
			  sizeof(line));
	fprintf(stderr, "%s\n", line);
	r->prev = now;
	r->prev_ns = t;
}

/* Child side: the worker only needs the read-only configuration. */
static int srvmain_worker(unsigned index, void *slot, void *arg)
{
	struct srvmain_run *r = arg;

	return r->ops->worker_main(index, slot, &r->cfg);
}

static void srvmain_on_exit(unsigned index, int wstatus, void *arg)
{
	struct srvmain_run *r = arg;
	struct stats_slot *slot = srvmain_slot(r, index);
	uint64_t held = counter_get(&slot->conns);
	int pid = counter_get_i32(&slot->pid);
	char how[128];

	/* Killed mid-drain (a second signal, or still running past the drain bound): the worker had counted
	 * what it held as closed by the stop when the drain began, so what it still held is not open any more
	 * but closed with it, and the drain record says so. The worker is dead: we are the slots' only writer. */
	if (WIFSIGNALED(wstatus) && drain_slot_killed(&r->drain[index], held, clock_now_ns())) {
		counter_add(&slot->closed, held);
		counter_set(&slot->conns, 0);
	}
	acceptctl_reaped(r->shared, slot);
	/* A clean exit is the normal end after SIGINT/SIGTERM; only surprises are worth a line. */
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		return;
	workers_describe_status(wstatus, how, sizeof(how));
	fprintf(stderr, "%s: worker %u (pid %d) %s; %llu connections it held are gone\n", r->ops->prog, index, pid,
		how, (unsigned long long)held);
}

static void srvmain_on_start(unsigned index, int pid, void *arg)
{
	struct srvmain_run *r = arg;

	r->pids[index] = pid;
	/* Counted here, not read from the slot: the child bumps its incarnation at its own pace. */
	if (r->starts[index]++ != 0)
		fprintf(stderr, "%s: worker %u restarted as pid %d\n", r->ops->prog, index, pid);
}

static void srvmain_print_checks(const char *prog, const struct limits_report *rep)
{
	unsigned i;

	for (i = 0; i < rep->n_checks; i++) {
		const struct limits_check *c = &rep->checks[i];

		if (c->verdict == LIMITS_OK)
			continue;
		fprintf(stderr, "%s: %s %s: now %s, needed %s%s%s%s%s\n", prog, limits_verdict_name(c->verdict),
			c->name, c->current, c->needed, c->note[0] ? "; " : "", c->note, c->fix[0] ? "; fix: " : "",
			c->fix);
	}
}

/* Reads and raises the limits, resolves the options against them and evaluates the server plan. With --check
 * prints the table. Returns -1 to go on, else the exit status. */
static int srvmain_limits(struct srvmain_run *r, struct limits_values *lv)
{
	const char *prog = r->ops->prog;
	struct limits_plan plan;
	struct limits_report *rep;
	struct srvopt_env env;
	char err[512], *text;
	int rc = -1;

	if (limits_read(lv, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: reading system limits: %s\n", prog, err);
		return 1;
	}
	if (limits_raise_nofile(lv, err, sizeof(err)) < 0)
		fprintf(stderr, "%s: warning: %s\n", prog, err);
	env.nofile = lv->nofile_soft;
	env.somaxconn = lv->somaxconn > INT_MAX ? INT_MAX : (int)lv->somaxconn;
	env.stderr_tty = isatty(STDERR_FILENO) == 1;
	if (srvopt_resolve(&r->opt, &env, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	if (r->opt.cpus.count > 0 && cpus_check(&r->opt.cpus, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: --cpus: %s\n", prog, err);
		return 2;
	}

	memset(&plan, 0, sizeof(plan));
	plan.role = LIMITS_ROLE_SERVER;
	plan.target = r->opt.max_connections;
	plan.ports = r->opt.ports;
	plan.dst_addrs = 1;
	plan.sources = 1;
	plan.workers = r->opt.workers;
	plan.user_bytes_per_conn = r->ops->user_bytes_per_conn;
	rep = calloc(1, sizeof(*rep));
	text = malloc(SRVMAIN_TABLE_LEN);
	if (rep == NULL || text == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rc = 1;
		goto out;
	}
	limits_evaluate(&plan, lv, rep);
	if (r->opt.check) {
		if (limits_format_table(rep, text, SRVMAIN_TABLE_LEN) < 0)
			fprintf(stderr, "%s: limits table truncated\n", prog);
		fputs(text, stdout);
		rc = rep->n_fail != 0 ? 1 : 0;
		goto out;
	}
	srvmain_print_checks(prog, rep);
out:
	free(rep);
	free(text);
	return rc;
}

static void srvmain_summary(struct srvmain_run *r)
{
	struct stats_totals fin;
	struct drain_totals dt;
	char line[2048];
	unsigned i;

	stats_sum(r->slots, workers_slots_size(1, r->ops->slot_size), r->opt.workers, &fin);
	stats_format_summary(&fin, (double)(clock_now_ns() - r->start_ns) / 1e9, line, sizeof(line));
	fputs(line, stdout);
	drain_sum(r->drain, r->opt.workers, &dt);
	drain_format_summary(&dt, r->opt.drain_timeout_ms, line, sizeof(line));
	fputs(line, stdout);
	for (i = 0; i < r->opt.workers; i++) {
		stats_format_worker(i, r->pids[i], r->starts[i], srvmain_slot(r, i), line, sizeof(line));
		fputs(line, stdout);
	}
}

/* The endpoint is opened before any worker exists, so a taken port is a startup error, and its descriptors
 * are close-on-exec, which is what lets workers_run() keep them out of the workers. */
static int srvmain_metrics_open(struct srvmain_run *r)
{
	const struct server_options *o = &r->opt;
	bool v6 = strchr(o->metrics_addr, ':') != NULL;
	char err[512];

	r->base = event_base_new();
	if (r->base == NULL) {
		fprintf(stderr, "%s: --metrics: cannot create the supervisor's event loop\n", r->ops->prog);
		return -1;
	}
	r->metrics = metrics_server_new(r->base, o->metrics_addr, o->metrics_port, r->slots,
					workers_slots_size(1, r->ops->slot_size), o->workers, err, sizeof(err));
	if (r->metrics == NULL) {
		fprintf(stderr, "%s: --metrics %s%s%s:%u: %s\n", r->ops->prog, v6 ? "[" : "", o->metrics_addr,
			v6 ? "]" : "", (unsigned)o->metrics_port, err);
		return -1;
	}
	fprintf(stderr, "%s: metrics on http://%s%s%s:%u%s\n", r->ops->prog, v6 ? "[" : "", o->metrics_addr,
		v6 ? "]" : "", (unsigned)metrics_server_port(r->metrics), METRICS_PATH);
	return 0;
}

static void srvmain_banner(const struct srvmain_run *r)
{
	const struct server_options *o = &r->opt;
	char slot[64] = "", cpus[96] = "", list[64];

	if (r->ops->conn_slot_bytes != 0)
		snprintf(slot, sizeof(slot), ", %zu-byte slot per connection", r->ops->conn_slot_bytes);
	if (o->cpus.count > 0)
		snprintf(cpus, sizeof(cpus), ", pinned to CPU%s %s", o->cpus.count == 1 ? "" : "s",
			 cpulist_format(&o->cpus, list, sizeof(list)) < 0 ? "(list too long to show)" : list);
	fprintf(stderr, "%s: listening on %s ports %u..%u (backlog %d), %u worker%s x %llu connections "
		"(%u fds per worker), max %llu%s%s, stats every %.1f s, SIGTERM drains for at most %.1f s\n",
		r->ops->prog, o->bind_addr, (unsigned)o->port_base, (unsigned)(o->port_base + o->ports - 1),
		o->backlog, o->workers, o->workers == 1 ? "" : "s", (unsigned long long)o->per_worker_max,
		o->fds_per_worker, (unsigned long long)o->max_connections, slot, cpus, o->stats_interval_ms / 1000.0,
		o->drain_timeout_ms / 1000.0);
}

/* Frees what srvmain_run() set up, in the reverse order; safe on a partly set-up run. */
static void srvmain_release(struct srvmain_run *r)
{
	metrics_server_free(&r->metrics);
	if (r->base != NULL)
		event_base_free(r->base);
	r->base = NULL;
	free(r->pids);
	free(r->starts);
	r->pids = NULL;
	r->starts = NULL;
	workers_shm_free(r->drain, r->opt.workers * sizeof(*r->drain));
	workers_shm_free(r->slots, r->slots_size);
	workers_shm_free(r->shared, sizeof(*r->shared));
	r->drain = NULL;
	r->slots = NULL;
	r->shared = NULL;
}

bool srvmain_worker_init(const struct srvmain_config *cfg, struct stats_slot *st, const struct acceptctl_mech *mech,
			 void *arg, struct acceptctl *ac)
{
	struct acceptctl_config acfg;
	bool first = counter_get32(&st->incarnation) == 0;

	stats_slot_adopt(st, (int32_t)getpid());
	acfg.shared = cfg->shared;
	acfg.st = st;
	acfg.workers = cfg->opt->workers;
	acfg.cap = cfg->opt->per_worker_max;
	acfg.migrate_req = cfg->migrate_req;
	acfg.diag = cfg->diag;
	acfg.mech = mech;
	acfg.arg = arg;
	acceptctl_init(ac, &acfg);
	return first;
}

int srvmain_worker_listen(const struct srvmain_config *cfg, unsigned index, bool first, struct acceptctl *ac)
{
	char err[512];

	if (acceptctl_start(ac, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s: worker %u: %s\n", cfg->prog, index, err);
	return first ? WORKERS_EXIT_FATAL : 1;
}

void srvmain_accept_event(const struct srvmain_config *cfg, unsigned index, struct acceptctl *ac,
			  enum acceptctl_event ev, int err)
{
	char msg[ACCEPTCTL_MSG_LEN];

	if (acceptctl_event(ac, ev, err, msg, sizeof(msg)))
		fprintf(stderr, "%s: worker %u: %s\n", cfg->prog, index, msg);
}

/* Parses the command line; --help prints the usage, --version the versions. Returns -1 to go on, else the
 * exit status. */
static int srvmain_options(struct srvmain_run *r, int argc, char **argv)
{
	const struct srvmain_ops *ops = r->ops;
	char err[512];

	if (srvopt_parse(argc, argv, &r->opt, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", ops->prog, err);
		return 2;
	}
	if (r->opt.help) {
		char usage[4096];

		srvopt_usage(ops->prog, ops->fixed_buffer, usage, sizeof(usage));
		fputs(usage, stdout);
		return 0;
	}
	if (r->opt.version) {
		char text[VERSION_TEXT_LEN];

		version_text(ops->prog, event_get_version(), text, sizeof(text));
		fputs(text, stdout);
		return 0;
	}
	if (ops->fixed_buffer != 0 && r->opt.high_watermark_given) {
		fprintf(stderr, "%s: --high-watermark %zu: %s's buffer is its fixed %zu-byte slot\n", ops->prog,
			r->opt.high_watermark, ops->prog, ops->fixed_buffer);
		return 2;
	}
	return -1;
}

/* The shared memory and the per-worker tables, and the configuration the workers inherit. Returns 0, or -1
 * after printing why (srvmain_release() frees what was made). */
static int srvmain_setup(struct srvmain_run *r, const struct limits_values *lv)
{
	char err[512];

	r->shared = workers_shm_alloc(sizeof(*r->shared), err, sizeof(err));
	r->slots_size = workers_slots_size(r->opt.workers, r->ops->slot_size);
	r->slots = r->shared != NULL ? workers_shm_alloc(r->slots_size, err, sizeof(err)) : NULL;
	r->drain = r->slots != NULL ? workers_shm_alloc(r->opt.workers * sizeof(*r->drain), err, sizeof(err))
				    : NULL;
	r->starts = calloc(r->opt.workers, sizeof(*r->starts));
	r->pids = calloc(r->opt.workers, sizeof(*r->pids));
	if (r->drain == NULL || r->starts == NULL || r->pids == NULL) {
		fprintf(stderr, "%s: %s\n", r->ops->prog, r->drain == NULL ? err : "out of memory");
		return -1;
	}
	r->cfg.prog = r->ops->prog;
	r->cfg.opt = &r->opt;
	r->cfg.shared = r->shared;
	r->cfg.drain = r->drain;
	r->cfg.migrate_req = lv->tcp_migrate_req_present && lv->tcp_migrate_req == 1;
	/* Read once here: a worker at EMFILE could not open /proc to read them, and 56 workers need not. */
	diag_context_init(&r->diag, lv, NULL, r->opt.ports, 1);
	r->cfg.diag = &r->diag;
	return 0;
}

/* Runs the workers until SIGINT/SIGTERM (or a fatal worker exit) and prints the summary. Returns the exit
 * status. */
static int srvmain_supervise(struct srvmain_run *r)
{
	struct workers_spec spec;
	char err[512];
	int rc;

	memset(&spec, 0, sizeof(spec));
	spec.count = r->opt.workers;
	spec.slot_size = r->ops->slot_size;
	spec.restart = true;
	spec.interval_ms = r->opt.stats_interval_ms;
	spec.worker_main = srvmain_worker;
	spec.tick = srvmain_tick;
	spec.on_exit = srvmain_on_exit;
	spec.on_start = srvmain_on_start;
	spec.arg = r;
	spec.slots = r->slots;
	spec.base = r->base;
	spec.stop_grace_ms = r->opt.drain_timeout_ms + SRVOPT_DRAIN_MARGIN_MS;
	spec.cpus = &r->opt.cpus;
	r->start_ns = clock_now_ns();

	rc = workers_run(&spec, err, sizeof(err));
	metrics_server_free(&r->metrics); /* no scrape once the summary is out */
	srvmain_summary(r);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", r->ops->prog, err);
		return 1;
	}
	return 0;
}

int srvmain_run(int argc, char **argv, const struct srvmain_ops *ops)
{
	struct srvmain_run r;
	struct limits_values lv;
	char err[512];
	int rc;

	memset(&r, 0, sizeof(r));
	r.ops = ops;
	rc = srvmain_options(&r, argc, argv);
	if (rc >= 0)
		return rc;
	/* A peer that resets while we write must cost one connection, not the process. */
	signal(SIGPIPE, SIG_IGN);

	rc = srvmain_limits(&r, &lv);
	if (rc >= 0)
		return rc;
	if (net_ports_free(r.opt.bind_addr, r.opt.port_base, r.opt.ports, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", ops->prog, err);
		return 1;
	}
	rc = 1;
	if (srvmain_setup(&r, &lv) < 0)
		goto out;
	srvmain_banner(&r);
	if (r.opt.metrics && srvmain_metrics_open(&r) < 0)
		goto out;
	rc = srvmain_supervise(&r);
out:
	srvmain_release(&r);
	return rc;
}
