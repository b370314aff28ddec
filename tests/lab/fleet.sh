#!/usr/bin/env bash
# lab.fleet: the original write-up's experiment on namespace hosts, one server host and two client hosts,
# driven by fleet/c1m-fleet over real sshd's, one on each client host (host keys and a client key made for
# this run, key-only root login, listening only on the host's lab address). The driver runs on the server
# host, as an operator's machine on that network would.
#   1. N = 40,000 split between the two client hosts, a latency phase, one merged report: PASS, with the
#      merged counts equal to the sum of the shards' and every message answered;
#   2. a listed host without sshd (a third client host): the driver names it at once and fails fast.
# All hosts share this machine's two cores: this proves the mechanism, not the capacity.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_init fleet
lab_up
LAB_CL3_ADDR=198.18.0.4
lab_host cl3 "$LAB_CL3_ADDR"
LAB_CL3=$LAB_HOST

N=40000
lab_server srv - --ports 10 --workers 3

lab_ssh_init
lab_sshd sshd1 "$LAB_CL1" "$LAB_CL1_ADDR"
lab_sshd sshd2 "$LAB_CL2" "$LAB_CL2_ADDR"
lab_log "sshd on $LAB_CL1_ADDR and $LAB_CL2_ADDR (client hosts 1 and 2); none on $LAB_CL3_ADDR"

progs="client=$C1M_CLIENT doctor=$C1M_DOCTOR"
printf 'root@%s %s\nroot@%s %s\n' "$LAB_CL1_ADDR" "$progs" "$LAB_CL2_ADDR" "$progs" > "$LAB_DIR/hosts"

lab_log "1. $N connections from two client hosts, one merged report"
lab_start fleet "$LAB_SRV" "${LAB_FLEET[@]}" --hosts "$LAB_DIR/hosts" --json "$LAB_DIR/merged.json" --keep "$LAB_DIR/shards" \
	"$LAB_SRV_ADDR" --port "$LAB_PORT" --ports 10 -n "$N" --msg-rate 4000 --duration 2 --connect-timeout 10
lab_wait fleet "$LAB_PID" 90
lab_check_status "$LAB_STATUS" 0 "the fleet's merged verdict passes"
lab_check_match "$LAB_DIR/fleet.log" "root@$LAB_CL1_ADDR +shard 1/2 +20000 connections" "the plan gives client host 1 its half"
lab_check_match "$LAB_DIR/fleet.log" 'the fleet binds first at' "the plan names what binds the fleet first"
lab_check_match "$LAB_DIR/fleet.log" 'VERDICT: concurrency 40000 held.*PASS' "one merged verdict for all $N"
m=$LAB_DIR/merged.json
sum=$(jq -s 'map(.echoed) | add' "$LAB_DIR"/shards/shard-*.json 2>/dev/null || echo 0)
if [ "$(jq -r .echoed "$m")" = "$N" ] && [ "$sum" = "$N" ] && [ "$(jq -r .shard.m "$m")" = 2 ]; then
	lab_ok "merged: $N echoed = the shards' $(jq -r '.echoed' "$LAB_DIR"/shards/shard-*.json | paste -sd+)"
else
	lab_check_fail "merged echoed $(jq -r .echoed "$m"), shards' sum $sum, wanted $N"
fi
sent=$(jq -r .latency.sent "$m") answered=$(jq -r .latency.answered "$m") samples=$(jq -r .latency.rtt_ms.count "$m")
if [ "$sent" -gt 0 ] && [ "$sent" = "$answered" ] && [ "$samples" = "$answered" ]; then
	lab_ok "merged phase: $sent sent, $answered answered, $samples RTT samples, p99 $(jq -r .latency.rtt_ms.p99 "$m") ms"
else
	lab_check_fail "merged phase: sent $sent, answered $answered, samples $samples"
fi
# the barrier: both shards' phases began within 50 ms of each other (their wall-clock starts, one clock here)
skew=$(jq -s 'map(.state.lat.counts.start_ns) | (max - min) / 1000000 | floor' "$LAB_DIR"/shards/shard-*.json 2>/dev/null || echo x)
if [[ $skew =~ ^[0-9]+$ ]] && [ "$skew" -lt 50 ]; then
	lab_ok "the two shards' latency phases started $skew ms apart"
else
	lab_check_fail "the shards' latency phases started '$skew' ms apart (at most 50)"
fi
for h in 1 2; do
	host=$(jq -r .shard.hostname "$LAB_DIR/shards/shard-$((h - 1)).json" 2>/dev/null || true)
	[ -n "$host" ] && lab_ok "shard $h/2 reported from host '$host'" || lab_check_fail "no report of shard $h/2"
done

lab_log "2. a listed host without sshd"
printf 'root@%s %s\nroot@%s %s\n' "$LAB_CL1_ADDR" "$progs" "$LAB_CL3_ADDR" "$progs" > "$LAB_DIR/hosts-dead"
t0=$(date +%s)
lab_start dead "$LAB_SRV" "${LAB_FLEET[@]}" --hosts "$LAB_DIR/hosts-dead" "$LAB_SRV_ADDR" --port "$LAB_PORT" \
	--ports 10 -n 1000 --hold 1
lab_wait dead "$LAB_PID" 30
lab_check_status "$LAB_STATUS" 2 "the driver refuses to start"
lab_check_match "$LAB_DIR/dead.log" "host root@$LAB_CL3_ADDR cannot be reached.*(Connection refused|No route)" \
	"the driver names the host, with ssh's error"
if [ $(( $(date +%s) - t0 )) -le 15 ]; then lab_ok "it said so within 15 s"; else lab_check_fail "it took over 15 s"; fi

lab_finish
