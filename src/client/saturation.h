/* The saturation judge: when a latency phase misses the SLO, which side ran out, from what the client can
 * measure of itself during the phase (struct loadgen_lat's cpu_us, cpu_permille_max, wakeups and
 * machine_permille, read with getrusage and /proc/stat at the phase's begin and end). The client never sees
 * the server, so the only claims are about the client and the machine it runs on:
 *  - the client: its busiest process was on CPU at least SAT_CLIENT_BUSY_PERMILLE of the phase, so it
 *    could not keep the schedule and the RTT it measured includes its own queueing;
 *  - this machine's CPUs: they were busy at least SAT_MACHINE_BUSY_PERMILLE of the phase while no client
 *    process was saturated and the client shared the CPUs (no --cpus), so whatever shares them (the
 *    server, when it runs here) was short of CPU; with the client on CPUs of its own, a busy machine says
 *    nothing about the client, so the judge falls through to the next rule;
 *  - otherwise not the client: it had CPU to spare, so the server or the path to it is what ran out.
 * Pure, so it is tested with fabricated numbers (unit.report). */
#ifndef C1M_SATURATION_H
#define C1M_SATURATION_H

#include <stdbool.h>

#include "client/loadgen_stats.h"
#include "common/util/sbuf.h"

#define SAT_CLIENT_BUSY_PERMILLE  900   /* a client process on CPU 90% of the phase is saturated */
#define SAT_MACHINE_BUSY_PERMILLE 950   /* the machine's CPUs 95% busy: nothing that shares them has room */

enum sat_side {
	SAT_NONE,                   /* the phase passed, or the client measured nothing (older reports) */
	SAT_CLIENT,                 /* the client itself */
	SAT_MACHINE,                /* the CPUs of the machine the client runs on */
	SAT_SERVER,                 /* not the client: the server or the path to it */
};

struct sat_view {
	enum sat_side side;         /* who ran out, SAT_NONE when the phase passed */
	bool measured;              /* the client measured its CPU during the phase */
	double client_cpus;         /* CPUs the client's processes used together, on average */
	double busiest_pct;         /* its busiest process, percent of one CPU */
	double machine_pct;         /* the machine's CPUs busy, percent (0 = unreadable) */
	double wakeups_per_msg;     /* the client's context switches per message sent */
	unsigned processes;         /* client processes merged into l */
	bool pinned;                /* the client ran on CPUs of its own (--cpus) */
};

/* Judges one phase l that passed or not (report_latency_pass); pinned: the client ran on CPUs of its own. */
void sat_judge(const struct loadgen_lat *l, bool pass, bool pinned, struct sat_view *v);
/* Stable JSON name: "client", "machine_cpu", "server_or_network", "" for SAT_NONE. */
const char *sat_name(enum sat_side side);
/* The report's lines: what the client's CPU did, and who ran out when one did. */
void sat_text(struct sbuf *o, const struct sat_view *v);
/* The verdict's few words ("; ran out: the client"), nothing for SAT_NONE. */
void sat_verdict(struct sbuf *o, const struct sat_view *v);

#endif
