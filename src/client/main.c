/* c1m-client: opens N TCP connections to a c1m echo server, checks one echo on each, holds them, and says
 * whether all N made it and, if not, what stopped them. One process holds at most what its open-file limit
 * allows (about 20,000 here), so larger runs fork worker processes (workers_run) that publish their stats
 * in shared-memory slots; this process prints the progress and merges the slots exactly for the report.
 * With --msg-rate it also coordinates the latency phase (one step, or several with --find-max) through a
 * shared struct loadgen_ctl: see coord_tick. This is the only file that prints or exits. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <event2/event.h>

#include "client/client_opts.h"
#include "common/util/clock.h"
#include "common/util/counter.h"
#include "client/findmax.h"
#include "common/model/limits.h"
#include "common/sys/limits_read.h"
#include "client/loadgen.h"
#include "client/sched.h"
#include "client/report.h"
#include "common/sys/workers.h"

#define ERR_LEN 512

/* The latency phase coordinator's state (in the supervisor, or in the single process). */
struct coord {
	struct loadgen_ctl *ctl;         /* shared with the workers; this is its only writer */
	_Atomic uint64_t *hold_until;    /* shared: the hold after the last phase, 0 = not yet */
	struct loadgen_lat *sum;         /* scratch: the merge of a finished step */
	struct loadgen_lat *last;        /* merged results of the last finished step */
	bool have_last;
	struct findmax_row rows[FINDMAX_MAX_STEPS]; /* one per finished step */
	unsigned n_rows;
	enum findmax_stop stop;          /* why the steps ended */
	uint64_t failed_before;          /* connection failures (all workers) when the step began */
	bool ended;                      /* ctl->end published */
};

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
};

/* ---- latency phase coordinator ---- */

static const struct loadgen_stats *slot_at(void *slots, unsigned i)
{
	return workers_slot(slots, sizeof(struct loadgen_stats), i);
}

/* One step's row of the table from the merged results. */
static void fill_row(struct run *r, const struct loadgen_lat *l, uint64_t conns, uint64_t failures,
		     struct findmax_row *row)
{
	uint64_t rate = counter_get(&r->co.ctl->msg_rate), total = sched_total(rate, r->o->duration_ms);
	double ms[5];

	report_latency_ms(l, ms);
	memset(row, 0, sizeof(*row));
	row->conns = conns;
	row->msg_rate = rate;
	row->held = counter_get(&l->held);
	row->conn_failures = failures;
	row->sent = counter_get(&l->sent);
	row->answered = counter_get(&l->answered);
	row->lost = total > row->answered ? total - row->answered : 0;
	row->p50_ms = ms[0];
	row->p99_ms = ms[2];
	row->p999_ms = ms[3];
	row->max_ms = ms[4];
	row->slo_met = report_latency_pass(l, total, r->o->slo_ms);
	row->pass = row->slo_met && row->held == row->conns && failures == 0;
}

/* Runs the steps: once every live worker has ramped to the step (READY), publishes one start time for
 * all; once every live worker is DONE, merges the step's results, asks findmax_next (connections) or
 * findmax_rate_next (a rate sweep: same connections, the next rate) what follows, and
 * publishes either the next step or the end (with the hold deadline). Dead workers are skipped; their
 * last numbers are still merged. Workers poll ctl every LOADGEN_CTL_POLL_MS, hence the start margin. */
static void coord_tick(struct run *r, void *slots, unsigned count, const bool *dead)
{
	struct coord *co = &r->co;
	struct loadgen_ctl *ctl = co->ctl;
	const struct loadgen_stats *st;
	uint32_t step = counter_get32(&ctl->step), s, state;
	bool ready = true, done = true;
	uint64_t failed = 0, now = clock_now_ns(), next, held;
	struct findmax_row *row;
	unsigned i;

	if (co->ended)
		return;
	for (i = 0; i < count; i++) {
		st = slot_at(slots, i);
		failed += counter_get(&st->failed);
		if (dead[i])
			continue;
		s = counter_acquire32(&st->lat.step);
		state = counter_acquire32(&st->lat.state);
		if (s != step || state < LOADGEN_STEP_READY)
			ready = false;
		if (s != step || state < LOADGEN_STEP_DONE)
			done = false;
	}
	if (counter_get(&ctl->start_ns) == 0) {
		if (!ready)
			return;
		/* Nothing held (the server refused or dropped every connection): a phase would only count
		 * --duration seconds of messages to nobody. End now; the report says the phase did not run. */
		for (i = 0, held = 0; i < count; i++)
			if (!dead[i])
				held += counter_get(&slot_at(slots, i)->open);
		if (held == 0) {
			co->stop = FINDMAX_STOP_CONN_FAILED;
			counter_publish(co->hold_until, now);
			counter_publish32(&ctl->end, 1);
			co->ended = true;
			return;
		}
		counter_publish(&ctl->start_ns, now + LOADGEN_START_MARGIN_MS * CLOCK_NS_PER_MS);
		return;
	}
	if (!done)
		return;
	loadgen_lat_init(co->sum);
	for (i = 0; i < count; i++)
		loadgen_lat_merge(co->sum, &slot_at(slots, i)->lat);
	memcpy(co->last, co->sum, sizeof(*co->last));
	co->have_last = true;
	row = &co->rows[co->n_rows < FINDMAX_MAX_STEPS ? co->n_rows++ : FINDMAX_MAX_STEPS - 1];
	fill_row(r, co->sum, counter_get(&ctl->step_conns), failed - co->failed_before, row);
	if (r->o->find_max)
		co->stop = findmax_next(r->o->target, r->o->step, row, &next);
	else if (r->o->n_rates > 1)
		co->stop = findmax_rate_next(r->o->msg_rates, r->o->n_rates, co->n_rows, row, &next);
	else
		co->stop = FINDMAX_STOP_TARGET;
	if (co->stop == FINDMAX_CONTINUE && co->n_rows < FINDMAX_MAX_STEPS) {
		co->failed_before = failed;
		if (r->o->find_max)
			counter_set(&ctl->step_conns, next);
		else
			counter_set(&ctl->msg_rate, next);
		counter_set(&ctl->start_ns, 0);
		counter_publish32(&ctl->step, step + 1);
		return;
	}
	counter_publish(co->hold_until, now + r->o->hold_ms * CLOCK_NS_PER_MS);
	counter_publish32(&ctl->end, 1);
	co->ended = true;
}

/* Step 1 is published before any worker starts, so each begins its ramp at once. */
static int coord_init(struct run *r, struct loadgen_ctl *ctl, _Atomic uint64_t *hold_until, char *err, size_t errlen)
{
	struct coord *co = &r->co;

	co->ctl = ctl;
	co->hold_until = hold_until;
	co->sum = malloc(sizeof(*co->sum));
	co->last = malloc(sizeof(*co->last));
	if (!co->sum || !co->last) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(ctl, 0, sizeof(*ctl));
	counter_set(&ctl->step_conns, r->o->find_max ? findmax_first(r->o->target, r->o->step) : r->o->target);
	counter_set(&ctl->msg_rate, r->o->msg_rate);
	counter_set32(&ctl->step, 1);
	r->all.ctl = ctl;
	return 0;
}

static void coord_free(struct run *r)
{
	free(r->co.sum);
	free(r->co.last);
	r->co.sum = NULL;
	r->co.last = NULL;
}

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

static void single_coord_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	coord_tick(r, r->own, 1, &r->own_dead);
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

	r->base = loadgen_base_new();
	if (!r->base) {
		snprintf(err, errlen, "cannot create an event_base");
		return -1;
	}
	loadgen_stats_init(r->own, r->all.target);
	if (r->o->msg_rate) {
		if (coord_init(r, &ctl, &hold_until, err, errlen) < 0)
			goto out;
		r->all.hold_until_ns = &hold_until;
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
	const struct loadgen_stats *st;
	bool all = true;
	unsigned i;

	if (r->o->msg_rate)
		coord_tick(r, slots, count, r->dead);
	else if (r->o->hold_ms && !r->released) {
		for (i = 0; i < count && all; i++) {
			st = workers_slot(slots, sizeof(struct loadgen_stats), i);
			all = r->dead[i] || counter_get32(&st->phase) >= LOADGEN_HOLD;
		}
		if (all) {
			counter_publish(r->hold_until, now + r->o->hold_ms * CLOCK_NS_PER_MS);
			r->released = true;
		}
	}
	/* a few ms of slack so a 1 s period on a 50 ms tick does not slip to 1.05 s */
	if (r->o->progress_ms && now + 5 * CLOCK_NS_PER_MS >= r->prev_ns + r->o->progress_ms * CLOCK_NS_PER_MS) {
		merge_slots(r, slots, count, r->cur);
		print_progress(r);
	}
}

static void workers_exit(unsigned index, int wstatus, void *arg)
{
	struct run *r = arg;
	char what[128];
	size_t used = strlen(r->meta.problems);

	r->dead[index] = true;
	/* 0 and 1 are a worker's normal verdicts; anything else is a problem the report must show */
	if (WIFEXITED(wstatus) && (WEXITSTATUS(wstatus) == 0 || WEXITSTATUS(wstatus) == 1))
		return;
	workers_describe_status(wstatus, what, sizeof(what));
	if (used < sizeof(r->meta.problems) - 1)
		snprintf(r->meta.problems + used, sizeof(r->meta.problems) - used, "%sworker %u %s",
			 used ? "; " : "", index, what);
}

static int run_workers(struct run *r, char *err, size_t errlen)
{
	struct workers_spec spec;
	size_t size = workers_slots_size(r->workers, sizeof(struct loadgen_stats));
	void *slots;
	unsigned i;
	int rc;

	r->dead = calloc(r->workers, sizeof(*r->dead));
	r->hold_until = workers_shm_alloc(sizeof(*r->hold_until), err, errlen);
	slots = r->hold_until && r->dead ? workers_shm_alloc(size, err, errlen) : NULL;
	if (!slots) {
		if (!r->dead)
			snprintf(err, errlen, "out of memory");
		free(r->dead);
		workers_shm_free(r->hold_until, sizeof(*r->hold_until));
		return -1;
	}
	r->all.hold_until_ns = r->hold_until;
	if (r->o->msg_rate) {
		r->ctl = workers_shm_alloc(sizeof(*r->ctl), err, errlen);
		if (!r->ctl || coord_init(r, r->ctl, r->hold_until, err, errlen) < 0) {
			free(r->dead);
			workers_shm_free(slots, size);
			workers_shm_free(r->hold_until, sizeof(*r->hold_until));
			if (r->ctl)
				workers_shm_free(r->ctl, sizeof(*r->ctl));
			return -1;
		}
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
	rc = workers_run(&spec, err, errlen);
	merge_slots(r, slots, r->workers, r->own);
	workers_shm_free(slots, size);
	workers_shm_free(r->hold_until, sizeof(*r->hold_until));
	if (r->ctl)
		workers_shm_free(r->ctl, sizeof(*r->ctl));
	r->ctl = NULL;
	r->all.ctl = NULL;
	r->all.hold_until_ns = NULL;
	free(r->dead);
	return rc;
}

/* ---- main ---- */

/* Kernel, CPUs and limits for the report's environment section. */
static void describe_system(struct report_meta *m, const struct limits_values *lv)
{
	struct utsname u;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof(m->kernel), "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
	m->cpus = n > 0 ? (unsigned)n : 0;
	m->limits = lv;
}

static int write_json(const char *path, const char *text, char *err, size_t errlen)
{
	FILE *f;

	if (strcmp(path, "-") == 0) {
		fputs(text, stdout);
		fflush(stdout);
		return 0;
	}
	f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "--json %s: %s", path, strerror(errno));
		return -1;
	}
	if (fputs(text, f) == EOF || fclose(f) == EOF) {
		snprintf(err, errlen, "--json %s: write failed: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct client_options o;
	struct client_plan plan;
	struct limits_values lv;
	struct run r;
	char err[ERR_LEN];
	char *text = NULL;
	unsigned sources_needed;
	uint64_t width;
	bool pass = false;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (client_opts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-client: %s\n", err);
		return 2;
	}
	if (o.help) {
		fputs(client_opts_usage(), stdout);
		return 0;
	}

	memset(&lv, 0, sizeof(lv));
	if (limits_read(&lv, err, sizeof(err)) < 0)
		fprintf(stderr, "c1m-client: warning: %s\n", err);
	if (limits_raise_nofile(&lv, err, sizeof(err)) < 0)
		fprintf(stderr, "c1m-client: warning: %s\n", err);
	/* twice the target: keep every (source, destination) tuple at or below half the local port range */
	width = limits_port_range_width(&lv);
	sources_needed = width ? limits_sources_needed(o.target * 2, 1, o.ports, &lv) : 1;
	/* the soft limit after the raise: the hard one, or what we get when the raise failed */
	if (client_opts_plan(&o, lv.nofile_soft, sources_needed, &plan, err, sizeof(err)) < 0) {
		fprintf(stderr, "c1m-client: %s\n", err);
		return 2;
	}
	if (plan.note[0])
		fprintf(stderr, "c1m-client: note: %s\n", plan.note);

	memset(&r, 0, sizeof(r));
	r.o = &o;
	r.workers = plan.workers;
	r.tty = isatty(STDERR_FILENO);
	r.all.dst_addr = o.dst_addr;
	r.all.port_base = o.port_base;
	r.all.ports = o.ports;
	r.all.sources = plan.sources;
	r.all.target = o.target;
	r.all.rate = o.rate;
	r.all.concurrency = plan.concurrency;
	r.all.connect_timeout_ms = o.connect_timeout_ms;
	r.all.echo_timeout_ms = o.echo_timeout_ms;
	r.all.hold_ms = o.hold_ms;
	r.all.msg_rate = o.msg_rate;
	r.all.duration_ms = o.duration_ms;
	r.all.reply_timeout_ms = o.reply_timeout_ms;
	r.meta.target = o.target;
	snprintf(r.meta.host, sizeof(r.meta.host), "%s", o.host);
	r.meta.port_base = o.port_base;
	r.meta.ports = o.ports;
	r.meta.sources = plan.sources;
	r.meta.sources_default = plan.sources_default;
	r.meta.workers = plan.workers;
	r.meta.rate = o.rate;
	r.meta.concurrency = plan.concurrency;
	r.meta.hold_ms = o.hold_ms;
	r.meta.latency = o.msg_rate > 0;
	r.meta.msg_rate = o.msg_rate;
	r.meta.duration_ms = o.duration_ms;
	r.meta.reply_timeout_ms = o.reply_timeout_ms;
	r.meta.slo_ms = o.slo_ms;
	r.meta.find_max = o.find_max;
	r.meta.step = o.step;
	r.meta.sweep = o.n_rates > 1;
	r.meta.rates = o.msg_rates;
	r.meta.n_rates = o.n_rates;
	describe_system(&r.meta, &lv);
	r.cur = malloc(sizeof(*r.cur));
	r.prev = malloc(sizeof(*r.prev));
	r.own = malloc(sizeof(*r.own));
	text = malloc(REPORT_TEXT_LEN);
	if (!r.cur || !r.prev || !r.own || !text) {
		fprintf(stderr, "c1m-client: out of memory\n");
		goto out;
	}
	if (o.progress_ms)
		fprintf(stderr, "c1m-client: %llu connections to %s:%u-%u, %u process%s, sources %u%s\n",
			(unsigned long long)o.target, o.host, o.port_base, o.port_base + o.ports - 1, plan.workers,
			plan.workers == 1 ? "" : "es", plan.sources.count, plan.sources.count ? "" : " (kernel)");
	if (o.progress_ms && o.msg_rate && o.n_rates > 1)
		fprintf(stderr, "c1m-client: then a sweep of %u rates from %llu to %llu msg/s, %.3f s each, reply "
			"timeout %u ms, SLO p99 <= %u ms\n", o.n_rates, (unsigned long long)o.msg_rates[0],
			(unsigned long long)o.msg_rates[o.n_rates - 1], (double)o.duration_ms / 1000.0,
			o.reply_timeout_ms, o.slo_ms);
	else if (o.progress_ms && o.msg_rate)
		fprintf(stderr, "c1m-client: then %s%llu msg/s for %.3f s, reply timeout %u ms, SLO p99 <= %u ms\n",
			o.find_max ? "in steps of +connections, each step " : "", (unsigned long long)o.msg_rate,
			(double)o.duration_ms / 1000.0, o.reply_timeout_ms, o.slo_ms);

	/* progress rates of the first tick are measured from here */
	loadgen_stats_init_sum(r.prev);
	r.prev_ns = clock_now_ns();
	if (plan.workers == 1) {
		rc = run_single(&r, err, sizeof(err));
		if (rc == 0) {
			struct loadgen_stats *one = r.own;

			/* report from a merged copy, like the multi-process path */
			loadgen_stats_init_sum(r.cur);
			loadgen_stats_merge(r.cur, one);
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
		snprintf(r.meta.problems + strlen(r.meta.problems),
			 sizeof(r.meta.problems) - strlen(r.meta.problems), "%s%s", r.meta.problems[0] ? "; " : "",
			 err);
	}
	r.meta.stop_signal = counter_get_i32(&r.own->stop_signal);
	if (o.msg_rate) {
		if (r.co.have_last)
			r.meta.lat = r.co.last;
		else if (counter_get32(&r.own->lat.step) > 0 && counter_get32(&r.own->lat.state) >= LOADGEN_STEP_RUN)
			r.meta.lat = &r.own->lat;  /* interrupted in the phase: show what it got */
		r.meta.steps = r.co.rows;
		r.meta.n_steps = r.co.n_rows;
		r.meta.stop = r.co.stop;
		/* the last phase's numbers are judged against the rate it ran at */
		if (r.co.have_last && r.co.n_rows > 0)
			r.meta.msg_rate = r.co.rows[r.co.n_rows - 1].msg_rate;
	}

	if (report_format_text(&r.meta, r.own, text, REPORT_TEXT_LEN) < 0)
		fprintf(stderr, "c1m-client: report truncated\n");
	/* with --json - the JSON owns stdout, so the human report goes to stderr */
	fputs(text, o.json_path && strcmp(o.json_path, "-") == 0 ? stderr : stdout);
	fflush(stdout);
	if (o.json_path) {
		if (report_format_json(&r.meta, r.own, text, REPORT_TEXT_LEN) < 0)
			fprintf(stderr, "c1m-client: JSON report truncated\n");
		else if (write_json(o.json_path, text, err, sizeof(err)) < 0)
			fprintf(stderr, "c1m-client: %s\n", err);
	}
	{
		struct report_summary s;

		report_summarize(&r.meta, r.own, &s);
		pass = s.pass;
	}
out:
	free(text);
	coord_free(&r);
	free(r.cur);
	free(r.prev);
	free(r.own);
	return pass ? 0 : 1;
}
