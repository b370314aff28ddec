#!/usr/bin/env bash
# --proto ws against a real WebSocket server: Debian's websocketd running cat (text mode: each message is a
# line on cat's stdin, each line cat writes is a message), on loopback ports of its own.
#
# websocketd forks one process per connection and keeps four descriptors for it (the socket and cat's
# stdin, stdout and stderr pipes), more while the process is being launched; the hard open-file limit
# here is 20,000 per process and cannot be raised. So the test first measures how many connections one
# websocketd holds when ramped at full speed (until its own "too many open files"), then spreads N over
# several websocketd instances on consecutive ports (--ports K), each below that.
#
# websocketd answers 101 before its process runs, so a connection is verified before cat can echo: the
# client ramps with --barrier and the latency phase starts when every cat is running. Cases: echo mode,
# N connections and a latency phase, PASS; ping mode (the server's pong, no application), N connections,
# PASS; --maxforks refuses with websocketd's own "429 Too Many Requests", which the report quotes. Then a
# small server that pings (ws_pinger.py, with python3) checks that held connections answer each ping with
# its pong and that its close frame is in the report. Every websocketd and every cat the test started is
# gone at the end. Skips (exit 77) without websocketd.
# usage: websocketd.sh N
set -euo pipefail
source "$(dirname "$0")/lib.sh"

n=${1:?usage: websocketd.sh N}
command -v websocketd >/dev/null || { echo "websocketd is not installed: skipped"; exit 77; }
command -v jq >/dev/null || t_fail "jq is needed to read the client's JSON report"
ulimit -n "$(ulimit -Hn)"
nofile=$(ulimit -n)

# Connections per websocketd: at most 9 descriptors each even while every launch is pending (socket, the
# three pipes' both ends, exec's status pipe), so 1250 stay below 20,000 however the launches lag.
per=$(( (nofile - 100) / 9 ))
[ "$per" -le 1250 ] || per=1250
k=$(( (n + per - 1) / per ))

# One process per connection: pid_max, threads-max and the user's process limit must leave room for N
# cats (and websocketd's own threads, a few dozen each) beside what already runs.
tasks=$(cut -d' ' -f4 /proc/loadavg | cut -d/ -f2)
need=$(( tasks + n + k * 64 + 1000 ))
for lim in "kernel.pid_max $(cat /proc/sys/kernel/pid_max)" "kernel.threads-max $(cat /proc/sys/kernel/threads-max)" \
	   "ulimit -u $(ulimit -u)"; do
	[ "${lim##* }" = unlimited ] || [ "${lim##* }" -ge "$need" ] ||
		t_fail "${lim% *} is ${lim##* }: $n processes beside the $tasks tasks that run need $need"
done

# The echo program has a name of its own (a link to cat), so the test can find every process it started.
echo_bin=$T_DIR/c1m-ws-echo
ln -s "$(command -v cat)" "$echo_bin"
ours() { pgrep -f -- "$echo_bin" 2>/dev/null | grep -c . || true; }   # websocketds and cats
cats() { local p t=0; for p in "${WS_PIDS[@]}"; do t=$(( t + $(pgrep -c -P "$p" || true) )); done; echo "$t"; }

WS_PIDS=()
start_ws() {  # start_ws PORT NAME [OPTIONS...]
	local port=$1 name=$2
	shift 2
	t_start "$name" websocketd --port "$port" --address 127.0.0.1 --loglevel error "$@" "$echo_bin"
	WS_PIDS+=("$T_PID")
	c1m_wait_listen "$port" 10 "$T_PID" || t_fail "$C1M_ERR"
}
stop_ws() {
	local p
	for p in "${WS_PIDS[@]}"; do t_stop "$p"; done
	WS_PIDS=()
}
wait_cats() {  # wait_cats COUNT SECONDS: until the websocketds run COUNT cats
	local i c
	for (( i = 0; i < $2 * 4; i++ )); do
		c=$(cats)
		[ "$c" -eq "$1" ] && return 0
		sleep 0.25
	done
	t_fail "websocketd runs $c cats after $2 s, want $1"
}

# ---- one websocketd's limit -------------------------------------------------------------------------
port=$(t_port_base 1)
start_ws "$port" ws-limit
probe=6000
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$port" --ports 1 --proto ws -n "$probe" --hold 2 --json "$T_DIR/limit.json" \
	--progress-interval 0 >"$T_DIR/client-limit.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || t_fail "client exited $status against one websocketd with $probe connections, want 1"
failed=$(t_json "$T_DIR/limit.json" .failed)
held=$(( $(t_json "$T_DIR/limit.json" .established) - failed ))
grep -q 'too many open files' "$T_DIR/ws-limit.log" || t_fail "websocketd did not run out of descriptors"
[ "$held" -ge "$per" ] || t_fail "one websocketd held $held connections, fewer than the $per per instance used below"
t_log "one websocketd (nofile $nofile) held $held of $probe, then 'too many open files' in its log: $failed closed (${SECONDS}s)"
wait_cats 0 30
stop_ws

# ---- echo and ping over K websocketds -----------------------------------------------------------------
base=$(t_port_base "$k")
for (( i = 0; i < k; i++ )); do start_ws $(( base + i )) "ws$i"; done
t_log "$k websocketd instances on ports $base-$(( base + k - 1 )), $per connections each at most"

# run_phase NAME MODE: N connections, every cat running, then 2000 msg/s for 5 s; PASS wanted.
run_phase() {
	local name=$1 mode=$2 fifo=$T_DIR/$1.go step pid fds held status=0
	mkfifo "$fifo"
	exec 3<>"$fifo"   # held open here: the client's stdin never ends before its go line
	"$C1M_CLIENT" 127.0.0.1 --port "$base" --ports "$k" --proto ws --ws-mode "$mode" -n "$n" --msg-rate 2000 \
		--duration 5 --barrier --json "$T_DIR/$name.json" --progress-interval 1 \
		<"$fifo" >"$T_DIR/client-$name.log" 2>&1 3>&- &
	pid=$!
	C1M_PIDS+=("$pid")
	c1m_wait_match "$T_DIR/client-$name.log" '^c1m-shard: ready [0-9]+' 60 "$pid" || t_fail "$C1M_ERR"
	step=$(grep -oE '^c1m-shard: ready [0-9]+' "$T_DIR/client-$name.log" | head -1 | awk '{print $3}')
	wait_cats "$n" 90
	t_log "$name: all $n cats run (${SECONDS}s)"
	fds=$(ls "/proc/${WS_PIDS[0]}/fd" | wc -l)
	held=$(pgrep -c -P "${WS_PIDS[0]}" || true)
	echo "go $step $(( $(date +%s%N) + 200000000 ))" >&3
	wait "$pid" || status=$?
	exec 3>&-
	[ "$status" -eq 0 ] || t_fail "$name: client exited $status, want 0 (PASS)"
	[ "$(t_json "$T_DIR/$name.json" .pass)" = true ] || t_fail "$name: no PASS verdict"
	[ "$(t_json "$T_DIR/$name.json" .established)" = "$n" ] || t_fail "$name: established != $n"
	[ "$(t_json "$T_DIR/$name.json" .failed)" = 0 ] || t_fail "$name: failures"
	grep -qE "messages +sent 10000, answered 10000, lost 0" "$T_DIR/client-$name.log" ||
		t_fail "$name: the phase did not answer all 10000 messages"
	grep -q '^  protocol      ws' "$T_DIR/client-$name.log" || t_fail "$name: the report does not name the protocol"
	t_log "$name: $(grep -E 'connections +[0-9]+ held|achieved|^ +RTT +p50|memory' "$T_DIR/client-$name.log" | tr -s ' ' | tr '\n' ';')"
	t_log "$name: the first websocketd held $held connections (one cat each) with $fds descriptors open (${SECONDS}s)"
	wait_cats 0 60
}
run_phase echo echo
run_phase ping ping
stop_ws

# ---- websocketd's own refusal: --maxforks ----------------------------------------------------------------
port=$(t_port_base 1)
start_ws "$port" ws-maxforks --maxforks 100
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$port" --ports 1 --proto ws -n 300 --hold 1 --json "$T_DIR/maxforks.json" \
	--progress-interval 0 >"$T_DIR/client-maxforks.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || t_fail "client exited $status against --maxforks 100, want 1"
refused=$(t_json "$T_DIR/maxforks.json" '.failures.handshake_refused // 0')
[ "$refused" -ge 200 ] || t_fail "handshake_refused = $refused, want at least 200"
t_json "$T_DIR/maxforks.json" .proto_note | grep -q "HTTP 429, not 101 Switching Protocols: 'HTTP/1.1 429 Too Many" ||
	t_fail "websocketd's 429 is not quoted in the report's note"
wait_cats 0 30
stop_ws

# ---- a server that pings the held connections (websocketd never does) -----------------------------------
if command -v python3 >/dev/null; then
	port=$(t_port_base 1)
	t_start ws-pinger python3 "$(dirname "$0")/ws_pinger.py" "$port" 200
	pinger=$T_PID
	c1m_wait_listen "$port" 10 "$pinger" || t_fail "$C1M_ERR"
	status=0
	"$C1M_CLIENT" 127.0.0.1 --port "$port" --ports 1 --proto ws -n 200 --hold 3 --json "$T_DIR/pinger.json" \
		--progress-interval 0 >"$T_DIR/client-pinger.log" 2>&1 || status=$?
	[ "$status" -eq 1 ] || t_fail "client exited $status against the pinging server, want 1 (one close frame)"
	c1m_wait_exit "$pinger" 15 || t_fail "the pinging server still runs 15 s after the client closed its connections"
	t_stop "$pinger"
	[ "$T_STATUS" -eq 0 ] || t_fail "the pinging server exited $T_STATUS: $(tail -2 "$T_DIR/ws-pinger.log")"
	grep -q '^keys distinct: 200 of 200' "$T_DIR/ws-pinger.log" || t_fail "the keys of 200 connections are not distinct"
	grep -q '^pongs right: 200 of 200' "$T_DIR/ws-pinger.log" || t_fail "not every ping had its pong"
	[ "$(t_json "$T_DIR/pinger.json" '.failures.bad_reply // 0')" = 1 ] && [ "$(t_json "$T_DIR/pinger.json" .failed)" = 1 ] ||
		t_fail "the close frame should be the only failure"
	t_json "$T_DIR/pinger.json" .proto_note | grep -q 'close frame (status 1001) while the connection was idle' ||
		t_fail "the close frame is not in the report's note"
	t_log "pinging server: 200 held connections answered 200 pings (each split in two writes) with their pongs; its close frame is in the note"
else
	t_log "python3 is not installed: the pinging server's case is skipped"
fi

left=$(ours)
[ "$left" -eq 0 ] || t_fail "$left websocketd or cat processes of this test still run: $(pgrep -af -- "$echo_bin" | head -3)"
t_no_sanitizer_reports
t_log "--maxforks 100: $refused of 300 refused with websocketd's 'HTTP/1.1 429 Too Many Requests'"
echo "1 passed, 0 failed"
