/* c1m-client: opens N TCP connections to a c1m echo server, checks one echo on each, holds them, and says
 * whether all N made it and, if not, what stopped them. One process holds at most what its open-file limit
 * allows (about 20,000 here), so larger runs fork worker processes (workers_run) that publish their stats
 * in shared-memory slots; this process prints the progress and merges the slots exactly for the report.
 * With --msg-rate it also coordinates the latency phase (one step, or several with --find-max) through a
 * shared struct loadgen_ctl (client/coord.h), and with --barrier reads the fleet driver's lines on stdin. This
 * file and main_out.c (the plan, the report, the modes that run no load) are the only ones that print. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <event2/event.h>

#include "client/client_opts.h"
#include "client/coord.h"
#include "common/util/clock.h"
#include "common/util/counter.h"
#include "client/findmax.h"
#include "common/model/limits.h"
#include "common/sys/cpus.h"
#include "common/sys/limits_read.h"
#include "client/loadgen.h"
#include "client/main_out.h"
#include "client/state.h"
#include "common/sys/net.h"
#include "client/sched.h"
#include "client/report.h"
#include "common/sys/workers.h"
#include "client/tls.h"

#define ERR_LEN 512

/* State of the whole run, shared by the single-process path and the supervisor callbacks. */
struct run {
	const struct client_options *o;
	struct loadgen_config all;       /* configuration of the whole run, split per worker */
	struct report_meta meta;
	unsigned workers;
	struct loadgen_stats *cur;       /* progress: merged snapshot now */
	struct loadgen_stats *prev;      /* progress: merged snapshot one tick ago */
	uint64_t prev_ns;                /* time of prev */
	bool tty;                        /* stderr is a terminal: rewrite one line */
	bool line_open;                  /* a rewritten progress line is on screen */
	/* multi-process mode */
	_Atomic uint64_t *hold_until;    /* shared: deadline of the common hold, 0 = not yet */
	struct loadgen_ctl *ctl;         /* shared: latency phase control */
	bool *dead;                      /* worker i has ended */
	bool released;                   /* hold deadline set */
	/* single-process mode */
	struct event_base *base;
	struct loadgen *lg;
	struct loadgen_stats *own;       /* this process's stats */
	bool own_dead;                   /* dead[] of the single process: never */
	/* latency phase */
	struct coord co;
	/* --barrier: "go" lines from stdin, "ready" lines to stderr */
	char go_line[96];                /* a line being read */
	size_t go_used;
	uint32_t announced;              /* the step last announced as ready + 1 (0 = none yet) */
	uint32_t announced_done;         /* the step last announced as done (0 = none yet) */
	bool hold_go;                    /* "go 0" came: the hold starts at hold_go_ns */
	uint64_t hold_go_ns;
	bool barrier_broken;             /* stdin ended or sent garbage: the run was stopped */
};

/* ---- progress ---- */

static void print_progress(struct run *r)
{
	char line[512];
	uint64_t now = clock_now_ns();
	double dt = (double)(now - r->prev_ns) / (double)CLOCK_NS_PER_S;

	if (report_format_progress(r->cur, r->prev, dt, now, line, sizeof(line)) < 0)
		return;
	if (r->tty) {
		fprintf(stderr, "\r%s\033[K", line);
		r->line_open = true;
	} else {
		fprintf(stderr, "%s\n", line);
	}
	fflush(stderr);
	memcpy(r->prev, r->cur, sizeof(*r->cur));
	r->prev_ns = now;
}

static void end_progress(struct run *r)
{
	if (r->line_open) {
		fputc('\n', stderr);
		r->line_open = false;
	}
}

/* ---- single process ---- */

static void single_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	loadgen_stats_init_sum(r->cur);
	loadgen_stats_merge(r->cur, r->own);
	print_progress(r);
}

/* ---- the barrier (--barrier): one "go" line per step on stdin, and "next" or "end" after each step of
 * the fleet's --find-max or sweep ---- */

/* The barrier cannot be kept: say why in the report and stop the run (the SIGTERM path: workers end, the
 * report is printed), instead of waiting for a go that will not come. */
static void barrier_break(struct run *r, const char *why)
{
	if (r->barrier_broken)
		return;
	r->barrier_broken = true;
	report_add_problem(&r->meta, why);
	kill(getpid(), SIGTERM);
}

static void barrier_line(struct run *r, const char *line)
{
	char err[160];
	struct coord_line cl;
	uint64_t wall = clock_wall_ns(), now = clock_now_ns(), start;

	if (coord_parse_line(line, &cl, err, sizeof(err)) < 0) {
		barrier_break(r, err);
		return;
	}
	if (cl.kind == COORD_LINE_NEXT || cl.kind == COORD_LINE_END) {
		if (!r->o->msg_rate || (cl.kind == COORD_LINE_NEXT ?
					coord_next(&r->co, cl.step, cl.msg_rate, cl.conns, err, sizeof(err)) :
					coord_end(&r->co, cl.stop, now, err, sizeof(err))) < 0)
			barrier_break(r, r->o->msg_rate ? err : "barrier: a next or end line without --msg-rate");
		return;
	}
	/* the fleet's wall-clock time on this process's monotonic clock; a time already past starts at once */
	start = cl.unix_ns > wall ? now + (cl.unix_ns - wall) : now;
	if (cl.step == 0) {
		r->hold_go = true;
		r->hold_go_ns = start;
	} else {
		coord_go(&r->co, cl.step, start);
	}
}

/* Reads what stdin has (it is nonblocking) and handles each complete line. */
static void barrier_poll(struct run *r)
{
	char buf[256];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	ssize_t i;

	if (n == 0)
		barrier_break(r, "the barrier's stdin closed before its go line");
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		barrier_break(r, "the barrier's stdin cannot be read");
	for (i = 0; i < n && !r->barrier_broken; i++) {
		if (buf[i] != '\n') {
			if (r->go_used + 1 < sizeof(r->go_line))
				r->go_line[r->go_used++] = buf[i];
			continue;
		}
		r->go_line[r->go_used] = '\0';
		r->go_used = 0;
		barrier_line(r, r->go_line);
	}
}

/* Tells the fleet driver, once per step, that every worker of this shard is ready for it. */
static void barrier_announce(struct run *r, uint32_t step)
{
	if (r->announced == step + 1)
		return;
	r->announced = step + 1;
	end_progress(r);
	fprintf(stderr, "c1m-shard: ready %u\n", step);
	fflush(stderr);
}

/* Tells the fleet driver, once per step of its --find-max or sweep, this shard's row and results of the
 * step, and so that it is waiting for the fleet's next step (or end). */
static void barrier_done(struct run *r)
{
	struct state_step *st = malloc(sizeof(*st));
	char *json = malloc(STATE_STEP_LEN);
	const struct coord *co = &r->co;

	r->announced_done = co->done_step;
	if (!st || !json) {
		barrier_break(r, "out of memory for the done line");
		goto out;
	}
	memset(st, 0, sizeof(*st));
	st->step = co->done_step;
	st->shard_k = r->meta.shard_k;
	st->shard_m = r->meta.shard_m;
	st->fleet_conns = co->fleet_conns;
	st->fleet_rate = co->fleet_rate;
	st->duration_ms = r->o->duration_ms;
	st->row = co->rows[co->n_rows - 1];
	memcpy(&st->lat, co->last, sizeof(st->lat));
	if (state_format_step(st, (int64_t)(clock_wall_ns() - clock_now_ns()), json, STATE_STEP_LEN) < 0) {
		barrier_break(r, "the done line does not fit STATE_STEP_LEN");
		goto out;
	}
	end_progress(r);
	fprintf(stderr, "c1m-shard: done %u %s\n", st->step, json);
	fflush(stderr);
out:
	free(st);
	free(json);
}

/* Starts the common hold once every worker has ramped (or ended), so that with --hold all N connections
 * are open at the same time however unevenly the workers ramped; with --barrier, at the fleet's time. */
static void hold_tick(struct run *r, void *slots, unsigned count, const bool *dead, uint64_t now)
{
	const struct loadgen_stats *st;
	unsigned i;

	if (r->released || r->o->hold_ms == 0)
		return;
	for (i = 0; i < count; i++) {
		st = workers_slot(slots, sizeof(struct loadgen_stats), i);
		if (!dead[i] && counter_get32(&st->phase) < LOADGEN_HOLD)
			return;
	}
	if (r->o->barrier && !r->hold_go) {
		barrier_announce(r, 0);
		return;
	}
	counter_publish(r->hold_until, (r->o->barrier ? r->hold_go_ns : now) + r->o->hold_ms * CLOCK_NS_PER_MS);
	r->released = true;
}

/* The coordinator's tick, in the single process and in the supervisor. */
static void run_tick(struct run *r, void *slots, unsigned count, const bool *dead, uint64_t now)
{
	if (r->o->barrier && !r->barrier_broken)
		barrier_poll(r);
	if (r->barrier_broken)
		return;   /* stopping: nothing more to start */
	if (r->o->msg_rate) {
		coord_tick(&r->co, slots, count, dead, now);
		if (r->o->barrier && r->co.waiting_step)
			barrier_announce(r, r->co.waiting_step);
		if (r->co.done_step && r->announced_done != r->co.done_step)
			barrier_done(r);
	} else {
		hold_tick(r, slots, count, dead, now);
	}
}

static void single_coord_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	run_tick(r, r->own, 1, &r->own_dead, clock_now_ns());
}

static void single_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;

	loadgen_stop(r->lg, (int)sig);
}

static int run_single(struct run *r, char *err, size_t errlen)
{
	struct event *sigint = NULL, *sigterm = NULL, *progress = NULL, *coord = NULL;
	struct loadgen_ctl ctl;
	_Atomic uint64_t hold_until = 0;
	struct timeval tv;
	int rc = -1;

	if (r->o->cpus.count && cpus_pin(r->o->cpus.cpu[0], err, errlen) < 0)
		return -1;
	r->base = loadgen_base_new();
	if (!r->base) {
		snprintf(err, errlen, "cannot create an event_base");
		return -1;
	}
	loadgen_stats_init(r->own, r->all.target);
	if (r->o->msg_rate && coord_init(&r->co, r->o, r->all.target, r->all.msg_rate, &ctl, &hold_until, err,
					 errlen) < 0)
		goto out;
	if (r->o->msg_rate || r->o->barrier) {
		r->all.ctl = r->o->msg_rate ? &ctl : NULL;
		r->all.hold_until_ns = &hold_until;
		r->hold_until = &hold_until;
		r->all.workers = 1;
		r->all.index = 0;
		coord = event_new(r->base, -1, EV_PERSIST, single_coord_cb, r);
		tv = clock_timeval_ms(LOADGEN_CTL_POLL_MS);
		if (!coord || event_add(coord, &tv) < 0) {
			snprintf(err, errlen, "cannot start the coordinator timer");
			goto out;
		}
	}
	r->lg = loadgen_new(r->base, &r->all, r->own, err, errlen);
	if (!r->lg)
		goto out;
	sigint = evsignal_new(r->base, SIGINT, single_signal_cb, r);
	sigterm = evsignal_new(r->base, SIGTERM, single_signal_cb, r);
	if (!sigint || !sigterm || evsignal_add(sigint, NULL) < 0 || evsignal_add(sigterm, NULL) < 0) {
		snprintf(err, errlen, "cannot install SIGINT/SIGTERM handlers");
		goto out;
	}
	if (r->o->progress_ms) {
		progress = event_new(r->base, -1, EV_PERSIST, single_progress_cb, r);
		tv = clock_timeval_ms(r->o->progress_ms);
		if (!progress || event_add(progress, &tv) < 0) {
			snprintf(err, errlen, "cannot start the progress timer");
			goto out;
		}
	}
	loadgen_start(r->lg);
	event_base_dispatch(r->base);
	rc = 0;
out:
	if (progress)
		event_free(progress);
	if (coord)
		event_free(coord);
	r->all.ctl = NULL;
	r->all.hold_until_ns = NULL;
	r->hold_until = NULL;
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	loadgen_free(&r->lg);
	event_base_free(r->base);
	r->base = NULL;
	return rc;
}

/* ---- worker processes ---- */

struct worker_ctx {
	struct loadgen *lg;
};

static void worker_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker_ctx *w = arg;

	loadgen_stop(w->lg, (int)sig);
}

/* Child process: its own event_base, its share of the run, its slot as the stats. */
static int worker_main(unsigned index, void *slot, void *arg)
{
	struct run *r = arg;
	struct loadgen_stats *st = slot;
	struct loadgen_config cfg;
	struct worker_ctx w = { NULL };
	struct event_base *base;
	struct event *sigint = NULL, *sigterm = NULL;
	char err[ERR_LEN];
	int status = WORKERS_EXIT_FATAL;

	loadgen_split(&r->all, r->workers, index, &cfg);
	base = loadgen_base_new();
	if (!base)
		return WORKERS_EXIT_FATAL;
	w.lg = loadgen_new(base, &cfg, st, err, sizeof(err));
	if (!w.lg) {
		fprintf(stderr, "c1m-client worker %u: %s\n", index, err);
		goto out;
	}
	sigint = evsignal_new(base, SIGINT, worker_signal_cb, &w);
	sigterm = evsignal_new(base, SIGTERM, worker_signal_cb, &w);
	if (!sigint || !sigterm || evsignal_add(sigint, NULL) < 0 || evsignal_add(sigterm, NULL) < 0)
		goto out;
	loadgen_start(w.lg);
	event_base_dispatch(base);
	status = loadgen_success(st) ? 0 : 1;
out:
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	loadgen_free(&w.lg);
	event_base_free(base);
	return status;
}

static void merge_slots(struct run *r, void *slots, unsigned count, struct loadgen_stats *into)
{
	unsigned i;

	loadgen_stats_init_sum(into);
	for (i = 0; i < count; i++)
		loadgen_stats_merge(into, workers_slot(slots, sizeof(struct loadgen_stats), i));
}

/* Supervisor tick: starts the common hold once every worker has ramped (or ended), so that with --hold
 * all N connections are open at the same time however unevenly the workers ramped; prints progress when
 * it is due. */
static void workers_tick(void *slots, unsigned count, void *arg)
{
	struct run *r = arg;
	uint64_t now = clock_now_ns();

	run_tick(r, slots, count, r->dead, now);
	/* a few ms of slack so a 1 s period on a 50 ms tick does not slip to 1.05 s */
	if (r->o->progress_ms && now + 5 * CLOCK_NS_PER_MS >= r->prev_ns + r->o->progress_ms * CLOCK_NS_PER_MS) {
		merge_slots(r, slots, count, r->cur);
		print_progress(r);
	}
}

static void workers_exit(unsigned index, int wstatus, void *arg)
{
	struct run *r = arg;
	char what[128], line[160];

	r->dead[index] = true;
	/* 0 and 1 are a worker's normal verdicts; anything else is a problem the report must show */
	if (WIFEXITED(wstatus) && (WEXITSTATUS(wstatus) == 0 || WEXITSTATUS(wstatus) == 1))
		return;
	workers_describe_status(wstatus, what, sizeof(what));
	snprintf(line, sizeof(line), "worker %u %s", index, what);
	report_add_problem(&r->meta, line);
}

static int run_workers(struct run *r, char *err, size_t errlen)
{
	struct workers_spec spec;
	size_t size = workers_slots_size(r->workers, sizeof(struct loadgen_stats));
	void *slots = NULL;
	unsigned i;
	int rc = -1;

	r->dead = calloc(r->workers, sizeof(*r->dead));
	if (!r->dead) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	r->hold_until = workers_shm_alloc(sizeof(*r->hold_until), err, errlen);
	slots = r->hold_until ? workers_shm_alloc(size, err, errlen) : NULL;
	if (!slots)
		goto out;
	r->all.hold_until_ns = r->hold_until;
	if (r->o->msg_rate) {
		r->ctl = workers_shm_alloc(sizeof(*r->ctl), err, errlen);
		if (!r->ctl || coord_init(&r->co, r->o, r->all.target, r->all.msg_rate, r->ctl, r->hold_until, err, errlen) < 0)
			goto out;
		r->all.ctl = r->ctl;
	}
	/* initialised before the fork, so a worker that dies before starting still merges as empty */
	for (i = 0; i < r->workers; i++) {
		struct loadgen_config cfg;

		loadgen_split(&r->all, r->workers, i, &cfg);
		loadgen_stats_init(workers_slot(slots, sizeof(struct loadgen_stats), i), cfg.target);
	}
	memset(&spec, 0, sizeof(spec));
	spec.count = r->workers;
	spec.slot_size = sizeof(struct loadgen_stats);
	spec.restart = false;
	spec.interval_ms = r->o->msg_rate ? LOADGEN_CTL_POLL_MS : r->o->hold_ms ? LOADGEN_HOLD_POLL_MS : r->o->progress_ms;
	spec.worker_main = worker_main;
	spec.tick = spec.interval_ms ? workers_tick : NULL;
	spec.on_exit = workers_exit;
	spec.arg = r;
	spec.slots = slots;
	spec.cpus = &r->o->cpus;
	rc = workers_run(&spec, err, errlen);
	merge_slots(r, slots, r->workers, r->own);
out:
	if (slots)
		workers_shm_free(slots, size);
	if (r->hold_until)
		workers_shm_free(r->hold_until, sizeof(*r->hold_until));
	if (r->ctl)
		workers_shm_free(r->ctl, sizeof(*r->ctl));
	r->hold_until = NULL;
	r->ctl = NULL;
	r->all.ctl = NULL;
	r->all.hold_until_ns = NULL;
	free(r->dead);
	r->dead = NULL;
	return rc;
}

/* ---- main ---- */

/* Kernel, CPUs and limits for the report's environment section. */
static void describe_system(struct report_meta *m, const struct limits_values *lv)
{
	struct utsname u;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (uname(&u) == 0) {
		snprintf(m->kernel, sizeof(m->kernel), "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
		snprintf(m->hostname, sizeof(m->hostname), "%s", u.nodename);
	}
	m->cpus = n > 0 ? (unsigned)n : 0;
	m->limits = lv;
}

/* A HOST name, resolved once, before anything else (so every worker and the report use one address);
 * the answer is printed, since a name may resolve to something the user did not expect. */
static int resolve_host(struct client_options *o, char *err)
{
	if (o->host_name[0] == '\0')
		return 0;
	if (net_resolve(o->host_name, client_opts_family(o), &o->dst, err, ERR_LEN) < 0)
		return -1;
	addr_format(&o->dst, o->host, sizeof(o->host));
	fprintf(stderr, "c1m-client: target %s resolved to %s\n", o->host_name, o->host);
	return client_opts_check_family(o, err, ERR_LEN);
}

/* Reads this machine's limits (a reader that fails is a warning: the plan then uses what it has), raises
 * the soft open-file limit, and plans workers and sources for the options. 0, or -1 with err. */
static int plan_run(const struct client_options *o, struct limits_values *lv, struct client_plan *plan, char *err)
{
	struct client_options shard = *o;
	unsigned sources_needed;
	char why[256];

	memset(lv, 0, sizeof(*lv));
	if (limits_read(lv, err, ERR_LEN) < 0)
		fprintf(stderr, "c1m-client: warning: %s\n", err);
	if (limits_raise_nofile(lv, err, ERR_LEN) < 0)
		fprintf(stderr, "c1m-client: warning: %s\n", err);
	/* twice the target: keep every (source, destination) tuple at or below half the local port range; the
	 * sources are for the whole fleet (a shard binds its slice), the processes for this shard's share */
	sources_needed = limits_port_range_width(lv) ? limits_sources_needed(o->target * 2, 1, o->ports, lv) : 1;
	shard.target = client_opts_shard_target(o);
	/* the soft limit after the raise: the hard one, or what we get when the raise failed */
	if (client_opts_plan(&shard, lv->nofile_soft, sources_needed, plan, err, ERR_LEN) < 0)
		return -1;
	if (o->cpus.count && cpus_check(&o->cpus, why, sizeof(why)) < 0) {
		snprintf(err, ERR_LEN, "--cpus: %s", why);
		return -1;
	}
	if (plan->note[0])
		fprintf(stderr, "c1m-client: note: %s\n", plan->note);
	return 0;
}

/* The run's configuration (split per worker later) and the report's description of it. */
static void run_configure(struct run *r, const struct client_options *o, const struct client_plan *plan,
			  const struct limits_values *lv, struct ssl_ctx_st *tls)
{
	struct loadgen_config *a = &r->all, fleet;

	r->o = o;
	r->workers = plan->workers;
	r->tty = isatty(STDERR_FILENO);
	a->dst = o->dst;
	a->port_base = o->port_base;
	a->ports = o->ports;
	a->sources = plan->sources;
	a->target = o->target;
	a->rate = o->rate;
	a->concurrency = plan->concurrency;
	a->connect_timeout_ms = o->connect_timeout_ms;
	a->echo_timeout_ms = o->echo_timeout_ms;
	a->hold_ms = o->hold_ms;
	a->msg_rate = o->msg_rate;
	a->duration_ms = o->duration_ms;
	a->reply_timeout_ms = o->reply_timeout_ms;
	a->send_window_ms = o->send_window_ms;
	a->proto = o->proto.id == PROTO_ECHO ? NULL : &o->proto;   /* echo: the loadgen's own path */
	a->tls = tls;
	a->sni = o->tls.sni;
	if (o->shard_m > 1) {
		/* the options describe the fleet: this process runs its shard of it */
		fleet = *a;
		loadgen_shard(&fleet, o->shard_m, o->shard_k - 1, a);
		if (a->concurrency < r->workers)
			a->concurrency = r->workers;
	}
	r->meta.target = a->target;
	r->meta.fleet_target = o->target;
	r->meta.shard_k = o->shard_m > 1 ? o->shard_k : 1;
	r->meta.shard_m = o->shard_m > 1 ? o->shard_m : 1;
	snprintf(r->meta.host, sizeof(r->meta.host), "%s", o->host);
	snprintf(r->meta.host_name, sizeof(r->meta.host_name), "%s", o->host_name);
	r->meta.port_base = o->port_base;
	r->meta.cpus_pinned = o->cpus.count > 0;
	r->meta.ports = o->ports;
	r->meta.sources = a->sources;
	r->meta.sources_default = plan->sources_default;
	r->meta.workers = plan->workers;
	r->meta.rate = a->rate;
	r->meta.concurrency = a->concurrency;
	r->meta.hold_ms = o->hold_ms;
	r->meta.latency = o->msg_rate > 0;
	r->meta.msg_rate = a->msg_rate;
	r->meta.duration_ms = o->duration_ms;
	r->meta.reply_timeout_ms = o->reply_timeout_ms;
	r->meta.send_window_ms = o->send_window_ms;
	r->meta.slo_ms = o->slo_ms;
	r->meta.find_max = o->find_max;
	r->meta.step = o->step;
	r->meta.sweep = o->n_rates > 1;
	r->meta.rates = o->msg_rates;
	r->meta.proto = o->proto.id;
	r->meta.msg_bytes = proto_msg_bytes(&o->proto);
	r->meta.n_rates = o->n_rates;
	r->meta.tls = o->tls.on;
	r->meta.tls_insecure = o->tls.insecure;
	snprintf(r->meta.tls_ca, sizeof(r->meta.tls_ca), "%s", o->tls.ca ? o->tls.ca : "");
	snprintf(r->meta.tls_sni, sizeof(r->meta.tls_sni), "%s", o->tls.sni ? o->tls.sni : "");
	snprintf(r->meta.tls_name, sizeof(r->meta.tls_name), "%s",
		 o->tls.verify_host ? o->tls.verify_host : o->tls.verify_ip ? o->tls.verify_ip : "");
	describe_system(&r->meta, lv);
}

/* The report from the merged stats and the coordinator's steps: text on stdout (stderr when the JSON
 * owns stdout), JSON with --json. Returns the verdict. */
static bool report_run(struct run *r, const struct client_options *o, char *text, char *err)
{
	r->meta.stop_signal = counter_get_i32(&r->own->stop_signal);
	if (o->msg_rate) {
		if (r->co.have_last)
			r->meta.lat = r->co.last;
		else if (counter_get32(&r->own->lat.step) > 0 && counter_get32(&r->own->lat.state) >= LOADGEN_STEP_RUN)
			r->meta.lat = &r->own->lat;  /* interrupted in the phase: show what it got */
		r->meta.steps = r->co.rows;
		r->meta.step_lats = r->co.step_lat;
		r->meta.n_steps = r->co.n_rows;
		r->meta.stop = r->co.stop;
		/* the last phase's numbers are judged against the rate it ran at */
		if (r->co.have_last && r->co.n_rows > 0)
			r->meta.msg_rate = r->co.rows[r->co.n_rows - 1].msg_rate;
	}

	r->meta.start_late_ns = r->co.late_ns;
	r->meta.wall_offset_ns = (int64_t)(clock_wall_ns() - clock_now_ns());
	return main_out_report(&r->meta, r->own, o, text, err);
}

int main(int argc, char **argv)
{
	struct client_options o;
	struct client_plan plan;
	struct limits_values lv;
	struct run r;
	struct ssl_ctx_st *tls = NULL;
	char err[ERR_LEN];
	char *text = NULL;
	bool pass = false;
	int rc, stdin_flags;

	signal(SIGPIPE, SIG_IGN);
	if (client_opts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-client: %s\n", err);
		return 2;
	}
	if (o.help || o.version || o.merge || o.fleet_step_path)
		return main_out_without_load(&o);

	/* the run's secret of the WebSocket keys and masks, read once (the parser itself is pure) */
	if (o.proto.id == PROTO_WS &&
	    getrandom(o.proto.ws_seed, sizeof(o.proto.ws_seed), 0) != (ssize_t)sizeof(o.proto.ws_seed)) {
		fprintf(stderr, "c1m-client: getrandom for the WebSocket keys: %s\n", strerror(errno));
		return 2;
	}
	if (resolve_host(&o, err) < 0 || plan_run(&o, &lv, &plan, err) < 0) {
		fprintf(stderr, "c1m-client: %s\n", err);
		return 2;
	}
	/* one SSL_CTX, before the fork: every worker process has its own copy */
	if (o.tls.on && !(tls = tls_ctx_new(&o.tls, err, sizeof(err)))) {
		fprintf(stderr, "c1m-client: --tls: %s\n", err);
		return 2;
	}

	/* the barrier's go lines are read between the coordinator's ticks, never waited for */
	stdin_flags = o.barrier ? fcntl(STDIN_FILENO, F_GETFL) : -1;
	if (o.barrier && (stdin_flags < 0 || fcntl(STDIN_FILENO, F_SETFL, stdin_flags | O_NONBLOCK) < 0)) {
		fprintf(stderr, "c1m-client: --barrier: stdin cannot be made nonblocking: %s\n", strerror(errno));
		tls_ctx_free(&tls);
		return 2;
	}
	memset(&r, 0, sizeof(r));
	run_configure(&r, &o, &plan, &lv, tls);
	r.cur = malloc(sizeof(*r.cur));
	r.prev = malloc(sizeof(*r.prev));
	r.own = malloc(sizeof(*r.own));
	text = malloc(REPORT_TEXT_LEN);
	if (!r.cur || !r.prev || !r.own || !text) {
		fprintf(stderr, "c1m-client: out of memory\n");
		goto out;
	}
	main_out_plan(&o, &plan);

	/* progress rates of the first tick are measured from here */
	loadgen_stats_init_sum(r.prev);
	r.prev_ns = clock_now_ns();
	if (plan.workers == 1) {
		rc = run_single(&r, err, sizeof(err));
		if (rc == 0) {
			/* report from a merged copy, like the multi-process path */
			loadgen_stats_init_sum(r.cur);
			loadgen_stats_merge(r.cur, r.own);
			memcpy(r.own, r.cur, sizeof(*r.own));
		}
	} else {
		rc = run_workers(&r, err, sizeof(err));
	}
	end_progress(&r);
	if (rc < 0) {
		fprintf(stderr, "c1m-client: %s\n", err);
		if (plan.workers == 1)
			goto out;
		/* a fatal worker: still report what the others did */
		report_add_problem(&r.meta, err);
	}
	pass = report_run(&r, &o, text, err);
out:
	if (stdin_flags >= 0)
		(void)fcntl(STDIN_FILENO, F_SETFL, stdin_flags);
	free(text);
	coord_free(&r.co);
	free(r.cur);
	free(r.prev);
	free(r.own);
	tls_ctx_free(&tls);
	return pass ? 0 : 1;
}
