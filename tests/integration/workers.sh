#!/usr/bin/env bash
# 3 server workers and 3 client workers hold 45,000 connections (above one process's fd limit), every one
# echoed. The supervisor's total equals the sum of what each worker process really holds (counted by ss,
# not by the server). A worker is killed with SIGKILL during a latency phase that sends messages over all
# held connections: it is restarted, and the other workers' connections stay established and keep echoing
# (every message the phase sent to them is answered).
# usage: workers.sh server|epoll [CONNECTIONS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

kind=${1:?server or epoll}
n=${2:-45000}
bin=$(t_server_bin "$kind")

base=$(t_port_base 100)
last=$((base + 99))
t_start server "$bin" --bind 127.0.0.1 --port "$base" --ports 100 --workers 3 --stats-interval 1
server_pid=$T_PID
t_wait_ports "$base" 100

# The phase: rate messages per second over all held connections for phase_s seconds, then hold.
rate=$(( n / 10 ))
phase_s=10
t_start client "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n "$n" --workers 3 --hold 60 \
	--msg-rate "$rate" --duration "$phase_s" --timeout 2000 --slo 1000 --json "$T_DIR/client.json"
client_pid=$T_PID

# The supervisor's status line: "conns N | ...".
status_conns() { grep -oE '^conns [0-9]+' "$T_DIR/server.log" | tail -1 | awk '{ print $2 }'; }
for i in $(seq 1 600); do
	[ "$(status_conns)" = "$n" ] && break
	kill -0 "$client_pid" 2>/dev/null || t_fail "client ended before holding $n connections"
	sleep 0.1
done
[ "$(status_conns)" = "$n" ] || t_fail "server status never reached conns $n (last: $(status_conns))"
phase_end=$(( SECONDS + phase_s + 3 ))   # the phase starts once all are echoed; +2 s reply timeout

# Established server-side sockets per worker pid, as the kernel sees them.
per_pid() {
	ss -Htnp state established "( sport >= :$base and sport <= :$last )" |
		grep -oE 'pid=[0-9]+' | sort | uniq -c | awk '{ sub("pid=", "", $2); print $2, $1 }'
}
per_pid >"$T_DIR/per_pid.1"
workers=$(c1m_children "$server_pid" | sort -n)
[ "$(echo "$workers" | wc -l)" -eq 3 ] || t_fail "expected 3 workers, found: $workers"
sum=0
for w in $workers; do
	c=$(awk -v p="$w" '$1 == p { print $2 }' "$T_DIR/per_pid.1")
	[ -n "$c" ] && [ "$c" -gt 0 ] || t_fail "worker $w holds no connection"
	t_log "worker $w holds $c connections"
	sum=$((sum + c))
done
[ "$sum" -eq "$n" ] || t_fail "workers hold $sum connections in all, supervisor says $n"
t_log "supervisor total $n == sum over workers $sum"

victim=$(echo "$workers" | head -1)
lost=$(awk -v p="$victim" '$1 == p { print $2 }' "$T_DIR/per_pid.1")
kill -KILL "$victim"
t_log "SIGKILL worker $victim ($lost connections)"
for i in $(seq 1 100); do
	grep -q 'restarted' "$T_DIR/server.log" && [ "$(c1m_children "$server_pid" | wc -l)" -eq 3 ] && break
	sleep 0.1
done
grep -q 'restarted' "$T_DIR/server.log" || t_fail "no restart logged after SIGKILL"
new_workers=$(c1m_children "$server_pid" | sort -n)
echo "$new_workers" | grep -qx "$victim" && t_fail "the killed worker $victim is still a child"
[ "$(echo "$new_workers" | wc -l)" -eq 3 ] || t_fail "expected 3 workers after the restart, found: $new_workers"
t_wait_listen "$base"

sleep 1
per_pid >"$T_DIR/per_pid.2"
for w in $workers; do
	[ "$w" = "$victim" ] && continue
	before=$(awk -v p="$w" '$1 == p { print $2 }' "$T_DIR/per_pid.1")
	after=$(awk -v p="$w" '$1 == p { print $2 }' "$T_DIR/per_pid.2")
	[ "$after" = "$before" ] || t_fail "worker $w held $before connections before the kill, $after after"
done
t_log "the other workers still hold their connections"

# Accepting works again on all ports, through the restarted worker too.
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n 3000 --hold 1 --json "$T_DIR/after.json" \
	>"$T_DIR/after.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || t_fail "a 3000-connection run after the restart failed (exit $status)"

# Let the phase end (the client then holds), and stop the client.
[ "$SECONDS" -ge "$phase_end" ] || sleep $(( phase_end - SECONDS ))
kill -TERM "$client_pid"
wait "$client_pid" || true

# The client saw exactly the killed worker's connections go, and no other ...
failed=$(t_json "$T_DIR/client.json" .failed)
[ "$(t_json "$T_DIR/client.json" .established)" = "$n" ] || t_fail "client established != $n"
[ "$failed" = "$lost" ] || t_fail "client counted $failed failures, the killed worker held $lost"
t_log "client: $n established, $failed failed (= the killed worker's $lost)"
# ... and every message sent to the surviving connections was answered: the phase spreads messages evenly
# over connections, so the survivors got at least (n - lost) / n of them, and the killed worker's share
# before the kill was answered too.
sent=$(t_json "$T_DIR/client.json" .latency.sent)
answered=$(t_json "$T_DIR/client.json" .latency.answered)
mismatched=$(t_json "$T_DIR/client.json" .latency.mismatched)
[ "$sent" -gt 0 ] || t_fail "the latency phase sent nothing (did it end before the kill?)"
[ "$mismatched" = 0 ] || t_fail "$mismatched echoes did not match"
need=$(( sent * (n - lost) / n ))
[ "$answered" -ge "$need" ] ||
	t_fail "answered $answered of $sent messages: the surviving connections' share alone is $need"
[ "$answered" -lt "$sent" ] || t_fail "all $sent messages answered although a worker was killed mid-phase"
t_log "latency phase: $answered of $sent answered (survivors' share $need), 0 mismatched"

t_stop "$server_pid" 20
[ "$T_STATUS" -eq 0 ] || t_fail "server exited $T_STATUS after SIGTERM"
grep -q 'summary' "$T_DIR/server.log" || t_fail "no summary"
echo "1 passed, 0 failed"
