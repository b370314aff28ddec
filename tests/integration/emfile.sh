#!/usr/bin/env bash
# With `ulimit -n 256` the server hits EMFILE, pauses accepting without spinning (CPU over 2 s far below 1 s),
# and accepts again once connections close.
# usage: emfile.sh server|epoll
set -euo pipefail
source "$(dirname "$0")/lib.sh"

kind=${1:?server or epoll}
bin=$(t_server_bin "$kind")

base=$(t_port_base 100)
# --max-connections above what 256 fds allow, so the worker runs into EMFILE itself instead of stopping at its cap.
t_start server "${C1M_ULIMIT_N[@]}" 256 "$bin" --bind 127.0.0.1 --port "$base" --ports 100 \
	--max-connections 1000 --stats-interval 1
server_pid=$T_PID
t_wait_ports "$base" 100

# 400 connections against ~150 free fds: the rest wait in the accept queues.
t_start flood "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n 400 --hold 5 --connect-timeout 3 --echo-timeout 3 \
	--json "$T_DIR/flood.json"
flood_pid=$T_PID

# The pause line itself ("accept paused: EMFILE ..."), not a status line: those carry "EMFILE 0" too.
pause_re='accept paused: EMFILE'
c1m_wait_match "$T_DIR/server.log" "$pause_re" 5 "$server_pid" ||
	t_fail "the $kind did not report an accept pause on EMFILE: $C1M_ERR"
grep -qE 'ulimit|nofile|LimitNOFILE' "$T_DIR/server.log" || t_fail "the EMFILE line does not say which limit to raise"

worker=$(c1m_children "$server_pid" | head -1)
[ -n "$worker" ] || worker=$server_pid
before=$(c1m_cpu_ms "$worker")
sleep 2
cpu_ms=$(( $(c1m_cpu_ms "$worker") - before ))
t_log "$kind worker $worker CPU while paused on EMFILE: ${cpu_ms} ms over 2 s"
[ "$cpu_ms" -lt 200 ] || t_fail "worker used ${cpu_ms} ms of CPU in 2 s while paused: it spins"
emfile_lines=$(grep -c "$pause_re" "$T_DIR/server.log" || true)
[ "$emfile_lines" -lt 20 ] || t_fail "EMFILE pause logged $emfile_lines times: expected one line per pause"

wait "$flood_pid" || true
t_log "flood: established $(t_json "$T_DIR/flood.json" .established) of 400"

status=0
"$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n 100 --hold 1 --connect-timeout 5 --json "$T_DIR/after.json" \
	>"$T_DIR/after.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || t_fail "after the flood closed, a 100-connection run failed (exit $status): accepting did not resume"
t_log "accepting resumed: 100/100 established after the flood closed"

t_stop "$server_pid" 15
[ "$T_STATUS" -eq 0 ] || t_fail "$kind exited $T_STATUS after SIGTERM"
echo "1 passed, 0 failed"
