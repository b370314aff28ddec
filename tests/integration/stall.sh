#!/usr/bin/env bash
# The latency measurement must not hide a stalled server. The server's worker processes are stopped with
# SIGSTOP for 300 ms in the middle of a 2,000 msg/s, 3 s phase: 10% of the messages are scheduled during
# the stall. A closed-loop client would simply send fewer messages while waiting; this client keeps the
# schedule and measures from each message's scheduled time, so the messages due in the first 50 ms of the
# stall wait >= 250 ms, which is more than 1% of all messages: p99 must be >= 250 ms, max about the stall,
# nothing lost (the 1000 ms timeout is longer than the stall) and the verdict must be FAIL (SLO 200 ms).
# usage: stall.sh server|epoll
set -euo pipefail
source "$(dirname "$0")/lib.sh"

kind=${1:?server or epoll}
bin=$(t_server_bin "$kind")

base=$(t_port_base 100)
t_start server "$bin" --bind 127.0.0.1 --port "$base" --ports 100 --stats-interval 10
server_pid=$T_PID
t_wait_ports "$base" 100
# the processes that answer: the workers of a supervisor, or the server itself if it has none
targets=$(c1m_children "$server_pid")
[ -n "$targets" ] || targets=$server_pid

n=2000
t_start client "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n "$n" --msg-rate 2000 --duration 3 \
	--timeout 1000 --progress-interval 0.1 --json "$T_DIR/client.json"
client_pid=$T_PID
t_wait_phase "$T_DIR/client.log" "$client_pid" 15
sleep 1
t_log "SIGSTOP $kind pid(s) $(echo $targets) for 300 ms"
# shellcheck disable=SC2086
kill -STOP $targets
sleep 0.3
# shellcheck disable=SC2086
kill -CONT $targets

c1m_wait_exit "$client_pid" 30 || t_fail "the client still runs 30 s after the stall (a 3 s phase)"
c1m_reap "$client_pid"
status=$C1M_STATUS
[ "$status" -eq 1 ] || t_fail "client exited $status, want 1 (the stall breaks the 200 ms SLO)"

j="$T_DIR/client.json"
sent=$(t_json "$j" .latency.sent)
answered=$(t_json "$j" .latency.answered)
lost=$(t_json "$j" .latency.lost)
p50=$(t_json "$j" .latency.rtt_ms.p50)
p99=$(t_json "$j" .latency.rtt_ms.p99)
max=$(t_json "$j" .latency.rtt_ms.max)
t_log "sent $sent answered $answered lost $lost, p50 $p50 ms, p99 $p99 ms, max $max ms"
[ "$sent" = 6000 ] || t_fail "sent $sent, want 6000"
[ "$answered" = 6000 ] || t_fail "answered $answered of 6000 (the stall is shorter than the timeout)"
[ "$lost" = 0 ] || t_fail "lost $lost"
awk -v v="$p99" 'BEGIN { exit !(v >= 250) }' || t_fail "p99 $p99 ms does not show the 300 ms stall (want >= 250)"
awk -v v="$max" 'BEGIN { exit !(v >= 280) }' || t_fail "max $max ms does not show the 300 ms stall (want >= 280)"
awk -v a="$p50" -v b="$p99" 'BEGIN { exit !(a < b) }' || t_fail "p50 $p50 is not below p99 $p99"
[ "$(t_json "$j" .latency.pass)" = false ] || t_fail "latency.pass should be false"
grep -qE '^VERDICT: concurrency 2000 held, p99 [0-9.]+ ms > SLO 200 ms, 0 of 6000 messages lost; ran out: the server or the path to it \(not the client\): FAIL$' \
	"$T_DIR/client.log" || t_fail "no FAIL verdict naming the SLO and the side that ran out"
# the server was stopped, the client had CPU to spare: the saturation judge says so
[ "$(t_json "$j" .latency.ran_out)" = server_or_network ] ||
	t_fail "latency.ran_out is '$(t_json "$j" .latency.ran_out)', want server_or_network"
kill -0 "$server_pid" || t_fail "$kind died"
echo "1 passed, 0 failed"
