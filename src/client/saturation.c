/* The saturation judge (saturation.h). */
#include "client/saturation.h"

#include "common/util/counter.h"

void sat_judge(const struct loadgen_lat *l, bool pass, bool pinned, struct sat_view *v)
{
	uint64_t start = counter_get(&l->start_ns), end = counter_get(&l->end_ns);
	uint64_t busiest = counter_get(&l->cpu_permille_max), machine = counter_get(&l->machine_permille);
	uint64_t sent = counter_get(&l->sent);

	v->side = SAT_NONE;
	v->pinned = pinned;
	v->processes = counter_get32(&l->workers);
	v->measured = counter_get(&l->cpu_us) > 0 || busiest > 0;
	v->client_cpus = end > start ? (double)counter_get(&l->cpu_us) * 1000.0 / (double)(end - start) : 0;
	v->busiest_pct = (double)busiest / 10.0;
	v->machine_pct = (double)machine / 10.0;
	v->wakeups_per_msg = sent ? (double)counter_get(&l->wakeups) / (double)sent : 0;
	if (pass || !v->measured)
		return;
	if (busiest >= SAT_CLIENT_BUSY_PERMILLE)
		v->side = SAT_CLIENT;
	else if (machine >= SAT_MACHINE_BUSY_PERMILLE && !pinned)
		v->side = SAT_MACHINE;
	else
		v->side = SAT_SERVER;
}

const char *sat_name(enum sat_side side)
{
	switch (side) {
	case SAT_CLIENT:  return "client";
	case SAT_MACHINE: return "machine_cpu";
	case SAT_SERVER:  return "server_or_network";
	default:          return "";
	}
}

void sat_text(struct sbuf *o, const struct sat_view *v)
{
	if (!v->measured)
		return;
	sbuf_printf(o, "    client CPU  %.2f CPUs over %u process%s (busiest %.0f%% of one CPU), %.2f wake-ups per "
	    "message", v->client_cpus, v->processes, v->processes == 1 ? "" : "es", v->busiest_pct, v->wakeups_per_msg);
	if (v->machine_pct > 0)
		sbuf_printf(o, "; this machine's CPUs %.0f%% busy", v->machine_pct);
	sbuf_printf(o, "\n");
	switch (v->side) {
	case SAT_CLIENT:
		sbuf_printf(o, "    ran out     the client: its busiest process was on CPU %.0f%% of the phase, so it "
		    "could not keep the schedule and the RTT includes its own queueing. This run measured the client, "
		    "not the server: give it more processes (--workers), CPUs of its own (--cpus) or hosts (--shard)\n",
		    v->busiest_pct);
		break;
	case SAT_MACHINE:
		sbuf_printf(o, "    ran out     this machine's CPUs: %.0f%% busy during the phase while no client process "
		    "was saturated (the client used %.2f CPUs). Whatever shares them, the server if it runs here, "
		    "was short of CPU: pin the two apart (--cpus on both) or run the client on another host\n",
		    v->machine_pct, v->client_cpus);
		break;
	case SAT_SERVER:
		sbuf_printf(o, "    ran out     not the client: its busiest process was on CPU %.0f%% of the phase", v->busiest_pct);
		if (v->machine_pct > 0)
			sbuf_printf(o, " and this machine's CPUs %.0f%% busy%s", v->machine_pct,
			    v->pinned ? " (the client on CPUs of its own, --cpus)" : "");
		sbuf_printf(o, ", so it had room to spare; the server or the path to it is what ran out\n");
		break;
	default:
		break;
	}
}

void sat_verdict(struct sbuf *o, const struct sat_view *v)
{
	switch (v->side) {
	case SAT_CLIENT:  sbuf_printf(o, "; ran out: the client"); break;
	case SAT_MACHINE: sbuf_printf(o, "; ran out: this machine's CPUs"); break;
	case SAT_SERVER:  sbuf_printf(o, "; ran out: the server or the path to it (not the client)"); break;
	default: break;
	}
}
