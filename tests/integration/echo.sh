#!/usr/bin/env bash
# 10,000 connections through one server (c1m-server or c1m-epoll), each echoed; then SIGTERM exits 0 with a summary.
# usage: echo.sh server|epoll [CONNECTIONS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

kind=${1:?server or epoll}
n=${2:-10000}
bin=$(t_server_bin "$kind")

base=$(t_port_base 100)
t_start server "$bin" --bind 127.0.0.1 --port "$base" --ports 100 --stats-interval 1
server_pid=$T_PID
t_wait_ports "$base" 100

t_log "$kind on 127.0.0.1:$base..$((base + 99)), client -n $n"
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n "$n" --hold 1 --json "$T_DIR/client.json" \
	>"$T_DIR/client.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || t_fail "client exited $status"

established=$(t_json "$T_DIR/client.json" .established)
failed=$(t_json "$T_DIR/client.json" .failed)
p99=$(t_json "$T_DIR/client.json" .rtt_ms.p99)
[ "$established" = "$n" ] || t_fail "established $established, want $n"
[ "$failed" = 0 ] || t_fail "failed $failed, want 0"
awk -v v="$p99" 'BEGIN { exit !(v > 0) }' || t_fail "rtt p99 '$p99' is not a positive number"
t_log "established $established, failed $failed, rtt p99 ${p99} ms"

kill -0 "$server_pid" || t_fail "$kind died during the run"
t_stop "$server_pid" 15
[ "$T_STATUS" -eq 0 ] || t_fail "$kind exited $T_STATUS after SIGTERM"
grep -qi 'accepted' "$T_DIR/server.log" || t_fail "no shutdown summary in the $kind's output"
accepted=$(grep -i 'summary' -A3 "$T_DIR/server.log" | grep -oiE 'accepted[ =:]+[0-9]+' | grep -oE '[0-9]+' | tail -1 || true)
[ -z "$accepted" ] || [ "$accepted" -ge "$n" ] || t_fail "summary says accepted $accepted, want >= $n"
t_log "SIGTERM: exit 0, summary printed"
echo "1 passed, 0 failed"
