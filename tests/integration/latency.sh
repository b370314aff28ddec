#!/usr/bin/env bash
# Latency phase accounting against a real server: 20,000 held connections carry 5,000 msg/s for 5 s and
# every message must be answered, with the RTT histogram holding exactly one sample per answer and the
# JSON carrying the phase's keys. Then a small --find-max (3 steps of 1,000 connections) must pass every
# step and report 3,000 as the maximum, and a two-rate sweep's time to open must be its ramp's.
# usage: latency.sh server|epoll [CONNECTIONS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

kind=${1:?server or epoll}
n=${2:-20000}
bin=$(t_server_bin "$kind")

base=$(t_port_base 100)
# two server processes: one process holds at most the hard fd limit (20,000 here) minus its listeners
t_start server "$bin" --bind 127.0.0.1 --port "$base" --ports 100 --workers 2 --stats-interval 10
server_pid=$T_PID
t_wait_ports "$base" 100

rate=5000
secs=5
t_log "$kind: $n connections, $rate msg/s for $secs s"
status=0
# A generous SLO: this test is about accounting, and the machine is shared; stall.sh tests the numbers.
"$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n "$n" --msg-rate "$rate" --duration "$secs" --slo 1000 \
	--timeout 5000 --json "$T_DIR/client.json" >"$T_DIR/client.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || t_fail "client exited $status"

j="$T_DIR/client.json"
for key in msg_rate duration_s sent answered lost late in_flight achieved_rate rtt_ms slo_ms pass; do
	[ "$(t_json "$j" ".latency | has(\"$key\")")" = true ] || t_fail "latency.$key missing from the JSON"
done
for key in p50 p90 p99 p99_9 max count; do
	[ "$(t_json "$j" ".latency.rtt_ms | has(\"$key\")")" = true ] || t_fail "latency.rtt_ms.$key missing"
done
[ "$(t_json "$j" '.environment.limits | has("nofile_hard")')" = true ] || t_fail "environment.limits missing"
sent=$(t_json "$j" .latency.sent)
answered=$(t_json "$j" .latency.answered)
count=$(t_json "$j" .latency.rtt_ms.count)
lost=$(t_json "$j" .latency.lost)
held=$(t_json "$j" .latency.held)
want=$((rate * secs))
[ "$sent" = "$want" ] || t_fail "sent $sent, want exactly $want (rate x duration)"
[ "$answered" = "$want" ] || t_fail "answered $answered of $want"
[ "$count" = "$answered" ] || t_fail "histogram holds $count samples, answered $answered"
[ "$lost" = 0 ] || t_fail "lost $lost"
[ "$held" = "$n" ] || t_fail "held $held of $n"
[ "$(t_json "$j" .latency.pass)" = true ] || t_fail "latency.pass is not true"
grep -q '^VERDICT: concurrency '"$n"' held, p99 .* <= SLO 1000 ms, 0 of '"$want"' messages lost: PASS$' \
	"$T_DIR/client.log" || t_fail "no PASS verdict line in the report"
t_log "sent $sent, answered $answered, histogram $count, p99 $(t_json "$j" .latency.rtt_ms.p99) ms, \
$(t_json "$j" .latency.bytes_per_conn) bytes/conn in the client"

t_log "find-max: -n 3000 --step 1000"
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n 3000 --find-max --step 1000 --msg-rate 1000 --duration 1 \
	--slo 1000 --timeout 5000 --json "$T_DIR/findmax.json" >"$T_DIR/findmax.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || t_fail "find-max client exited $status"
j="$T_DIR/findmax.json"
[ "$(t_json "$j" '.find_max.steps | length')" = 3 ] || t_fail "find-max ran $(t_json "$j" '.find_max.steps | length') steps, want 3"
[ "$(t_json "$j" '[.find_max.steps[].connections] | join(",")')" = "1000,2000,3000" ] || t_fail "step sizes wrong"
[ "$(t_json "$j" '[.find_max.steps[] | select(.pass and .sent == 1000 and .answered == 1000)] | length')" = 3 ] ||
	t_fail "not every step sent and answered 1000 messages"
[ "$(t_json "$j" .find_max.max_connections)" = 3000 ] || t_fail "max_connections $(t_json "$j" .find_max.max_connections)"
[ "$(t_json "$j" .find_max.stop_reason)" = reached_target ] || t_fail "stop_reason $(t_json "$j" .find_max.stop_reason)"
# A rate sweep holds the same connections through its steps: its time to open them is the ramp's, so it
# ends before the phases (two of 1 s) that follow, within the run's total.
t_log "sweep: -n 1000 --msg-rate 500,1000"
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n 1000 --msg-rate 500,1000 --duration 1 --slo 1000 --timeout 5000 \
	--json "$T_DIR/sweep.json" >"$T_DIR/sweep.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || t_fail "sweep client exited $status"
j="$T_DIR/sweep.json"
[ "$(t_json "$j" '.rate_sweep.steps | length')" = 2 ] || t_fail "the sweep ran $(t_json "$j" '.rate_sweep.steps | length') steps, want 2"
[ "$(t_json "$j" '.elapsed_s > 0 and .elapsed_s + 2 <= .total_s')" = true ] ||
	t_fail "time to open $(t_json "$j" .elapsed_s) s is not the ramp's: the run took $(t_json "$j" .total_s) s with 2 s of phases"
t_log "sweep: opened in $(t_json "$j" .elapsed_s) s of $(t_json "$j" .total_s) s"

kill -0 "$server_pid" || t_fail "$kind died during the run"
echo "1 passed, 0 failed"
