#!/usr/bin/env bash
# Hostile clients (tests/tools/c1m-hostile) against one server kind. Three server instances:
#   A (defaults): a non-reader that sends 100 MB and never reads (RSS stays bounded, other connections keep a
#     low p99), half-close, every byte value, 200 resets mid-echo, 10,000 vanishing connections (RST, then FIN),
#     5,000 reset right after a line (counted as resets, not write errors);
#   B (--idle-timeout 2): slowloris, 3,000 connections silent or trickling; closed on time and counted, while
#     connections that trickle faster than the timeout stay open;
#   C (ulimit -n 512): the tool holds more connections than the server has fds: the paused worker stays idle,
#     and accepting resumes when they are released.
# After every case the same instance must echo 10,000 fresh connections, and the supervisor and its workers
# must be the processes that started (none died, none was restarted). SIGTERM then exits 0.
# usage: hostile.sh server|epoll
set -euo pipefail
source "$(dirname "$0")/lib.sh"

kind=${1:?server or epoll}
bin=$(t_server_bin "$kind")
HOSTILE="$C1M_BUILD/tests/tools/c1m-hostile"
[ -x "$HOSTILE" ] || t_fail "$HOSTILE is not built"
command -v jq >/dev/null || t_fail "jq is required"
t_begin=$(c1m_now_ms)

# hv FILE KEY: the value of KEY=... on the tool's result line in FILE ("" if absent).
hv() { grep -m1 '^hostile ' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }

# ms_since T0_MS
ms_since() { echo $(( $(c1m_now_ms) - $1 )); }

# start_server NAME [ULIMIT_N] ARGS...: sets srv_pid, srv_workers (sorted pids), srv_base, srv_log.
start_server() {
	local name=$1 nofile=$2
	shift 2
	srv_base=$(t_port_base 100)
	srv_log="$T_DIR/$name.log"
	if [ "$nofile" = - ]; then
		t_start "$name" "$bin" --bind 127.0.0.1 --port "$srv_base" --ports 100 --stats-interval 1 "$@"
	else
		t_start "$name" "${C1M_ULIMIT_N[@]}" "$nofile" "$bin" --bind 127.0.0.1 --port "$srv_base" --ports 100 \
			--stats-interval 1 "$@"
	fi
	srv_pid=$T_PID
	t_wait_ports "$srv_base" 100
	srv_workers=$(c1m_children "$srv_pid" | sort -n | tr '\n' ' ')
	[ -n "$srv_workers" ] || t_fail "$kind ($name) has no worker processes"
}

# alive CASE: the supervisor and the very workers it started are still running.
alive() {
	kill -0 "$srv_pid" 2>/dev/null || t_fail "$1: the $kind supervisor $srv_pid died"
	local now
	now=$(c1m_children "$srv_pid" | sort -n | tr '\n' ' ')
	[ "$now" = "$srv_workers" ] || t_fail "$1: workers were '$srv_workers', now '$now' (one died or was restarted)"
}

# hostile NAME MODE ARGS...: runs the tool in the foreground against the current instance; it must pass.
hostile() {
	local name=$1 status=0
	shift
	"$HOSTILE" "$@" --port "$srv_base" --ports 100 >"$T_DIR/$name.log" 2>&1 || status=$?
	[ "$status" -eq 0 ] || t_fail "$name: c1m-hostile exited $status: $(grep -v '^hostile ' "$T_DIR/$name.log" | head -1)"
	[ "$(hv "$T_DIR/$name.log" verdict)" = pass ] || t_fail "$name: no passing result line"
}

# wait_line FILE SECS: wait until the tool has printed its result line.
wait_line() { c1m_wait_match "$1" '^hostile ' "$2" || t_fail "no result line: $C1M_ERR"; }

# settle_conns CASE WANT: after two fresh status lines, the server counts WANT open connections.
settle_conns() {
	local n0 last
	n0=$(grep -c '^conns ' "$srv_log" || true)
	for _ in $(seq 1 100); do
		[ "$(grep -c '^conns ' "$srv_log" || true)" -ge $((n0 + 2)) ] && break
		sleep 0.05
	done
	for _ in $(seq 1 60); do
		last=$(grep '^conns ' "$srv_log" | tail -1 | awk '{ print $2 }')
		[ "$last" = "$2" ] && return 0
		sleep 0.1
	done
	t_fail "$1: the $kind still counts ${last:-?} open connections, want $2"
}

# check_echo CASE [RUNS]: 10,000 fresh connections echo correctly on the same instance, as RUNS client runs
# of 10000/RUNS (more than one run only where the server has too few fds to hold them all at once).
check_echo() {
	local name=$1 runs=${2:-1} per r status est fail t0
	per=$((10000 / runs))
	t0=$(c1m_now_ms)
	for r in $(seq 1 "$runs"); do
		status=0
		"$C1M_CLIENT" 127.0.0.1 --port "$srv_base" --ports 100 -n "$per" --hold 0.1 -q --connect-timeout 10 \
			--json "$T_DIR/check.json" >"$T_DIR/check-$name.log" 2>&1 || status=$?
		[ "$status" -eq 0 ] || t_fail "after $name: client run $r of $runs exited $status"
		est=$(t_json "$T_DIR/check.json" .established)
		fail=$(t_json "$T_DIR/check.json" .failed)
		{ [ "$est" = "$per" ] && [ "$fail" = 0 ]; } ||
			t_fail "after $name: established $est of $per, failed $fail (run $r of $runs)"
	done
	rm -f "$T_DIR/check-$name.log"
	alive "after $name"
	t_log "after $name: 10000 fresh connections echoed ($runs run(s), $(ms_since "$t0") ms), workers alive"
}

# ---- instance A -----------------------------------------------------------------------------------------
start_server srvA -
t_log "$kind A on 127.0.0.1:$srv_base..$((srv_base + 99)), workers $srv_workers"

# nonreader. The server may hold at most one high watermark of echo per connection in user space (c1m-server:
# --high-watermark 16384, plus one read of up to 16 KiB before it stops reading; c1m-epoll: its fixed 4 KiB
# per-fd buffer), so the stuck connection may cost ~32 KiB and the 200 probe connections ~32 KiB each
# (6.4 MiB worst case, far less in practice): bound 8 MiB. A server without backpressure keeps reading and
# holds what the non-reader sends: up to 100 MB.
bound_kb=8192
rss0=$(c1m_rss_kb "$srv_pid")
t_start nonreader "$HOSTILE" nonreader --port "$srv_base" --ports 100 --bytes 100m --hold-s 60
nr_pid=$T_PID
wait_line "$T_DIR/nonreader.log" 20
[ "$(hv "$T_DIR/nonreader.log" verdict)" = pass ] || t_fail "nonreader: $(cat "$T_DIR/nonreader.log")"
accepted=$(hv "$T_DIR/nonreader.log" accepted)
rss_max=$(c1m_rss_kb "$srv_pid")
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$srv_base" --ports 100 -n 200 --msg-rate 1000 --duration 2 -q \
	--json "$T_DIR/probe.json" >"$T_DIR/probe.log" 2>&1 &
probe_pid=$!
while kill -0 "$probe_pid" 2>/dev/null; do
	r=$(c1m_rss_kb "$srv_pid")
	[ "$r" -gt "$rss_max" ] && rss_max=$r
	sleep 0.2
done
wait "$probe_pid" || status=$?
kill -0 "$nr_pid" 2>/dev/null || t_fail "nonreader: the tool ended early: $(cat "$T_DIR/nonreader.log")"
[ "$status" -eq 0 ] || t_fail "nonreader: the probe client exited $status while one peer did not read"
p99=$(t_json "$T_DIR/probe.json" .latency.rtt_ms.p99)
lost=$(t_json "$T_DIR/probe.json" .latency.lost)
answered=$(t_json "$T_DIR/probe.json" .latency.answered)
sent=$(t_json "$T_DIR/probe.json" .latency.sent)
{ [ "$lost" = 0 ] && [ "$answered" = "$sent" ] && [ "$sent" -gt 0 ]; } ||
	t_fail "nonreader: probe sent $sent, answered $answered, lost $lost"
awk -v v="$p99" 'BEGIN { exit !(v > 0 && v < 50) }' || t_fail "nonreader: probe p99 ${p99} ms, want < 50 ms"
kill -TERM "$nr_pid"
status=0
wait "$nr_pid" || status=$?
[ "$status" -eq 0 ] || t_fail "nonreader: exit $status after release: $(tail -1 "$T_DIR/nonreader.log")"
rss1=$(c1m_rss_kb "$srv_pid")
growth=$((rss_max - rss0))
t_log "nonreader: server accepted $accepted of 104857600 bytes before TCP pushed back; probe $sent msgs, p99 $p99 ms, lost 0"
t_log "nonreader: $kind RSS ${rss0} KiB before, max ${rss_max} KiB while stuck, ${rss1} KiB after: growth ${growth} KiB (bound ${bound_kb} KiB)"
if [ -n "${C1M_SANITIZE:-}" ] && [ "$C1M_SANITIZE" != none ]; then
	t_log "nonreader: RSS bound not asserted under sanitizers (C1M_SANITIZE set: shadow memory and quarantine)"
else
	[ "$growth" -le "$bound_kb" ] || t_fail "nonreader: RSS grew ${growth} KiB, bound ${bound_kb} KiB"
fi
alive nonreader
settle_conns nonreader 0
check_echo nonreader

hostile halfclose halfclose --conns 20 --bytes 1m
t_log "halfclose: $(hv "$T_DIR/halfclose.log" rounds) x 1 MiB, all echoed then EOF, slowest $(hv "$T_DIR/halfclose.log" max_ms) ms"
check_echo halfclose

hostile binary binary --conns 10
t_log "binary: $(hv "$T_DIR/binary.log" patterns) patterns, $(hv "$T_DIR/binary.log" bytes_verified) bytes verbatim"
check_echo binary

hostile rst rst --conns 200 --bytes 8m
t_log "rst: $(hv "$T_DIR/rst.log" rounds) resets after $(( $(hv "$T_DIR/rst.log" sent_total) / 1048576 )) MiB sent in total, $(hv "$T_DIR/rst.log" elapsed_ms) ms"
alive rst
settle_conns rst 0
check_echo rst

for v in rst fin; do
	hostile "vanish-$v" vanish --conns 10000 --variant "$v"
	t_log "vanish ($v): $(hv "$T_DIR/vanish-$v.log" connected) connections dropped at once in $(hv "$T_DIR/vanish-$v.log" elapsed_ms) ms"
	alive "vanish-$v"
	settle_conns "vanish-$v" 0
	check_echo "vanish-$v"
done

# A reset right after one line races the server's read and echo of it: whichever the reset meets, the
# send of the echo or the next read, it is counted as a reset, never as a write error (the send takes the
# socket's ECONNRESET, and a write after it would see only EPIPE).
err_count() { grep '^conns ' "$srv_log" | tail -1 | grep -oE "$1 [0-9]+" | awk '{ print $2 }'; }
w0=$(err_count write); r0=$(err_count reset)
hostile vanish-sendrst vanish --conns 5000 --variant sendrst
alive vanish-sendrst
settle_conns vanish-sendrst 0
w1=$(err_count write); r1=$(err_count reset)
[ "$((w1 - w0))" -eq 0 ] || t_fail "sendrst: the $kind counted $((w1 - w0)) write errors for 5000 resets ($((r1 - r0)) resets)"
[ "$((r1 - r0))" -ge 4500 ] || t_fail "sendrst: the $kind counted $((r1 - r0)) resets of 5000"
t_log "sendrst: 5000 connections reset after a line: $((r1 - r0)) resets, $((w1 - w0)) write errors"
check_echo vanish-sendrst

t_stop "$srv_pid" 15
[ "$T_STATUS" -eq 0 ] || t_fail "$kind A exited $T_STATUS after SIGTERM"
t_log "A: SIGTERM, exit 0"

# ---- instance B: slowloris ------------------------------------------------------------------------------
start_server srvB - --idle-timeout 2
hostile slowloris slowloris --conns 3000 --keep 20 --drip-ms 500 --idle-ms 2000 --slack-ms 2000 --slow-ms 5000
closed=$(hv "$T_DIR/slowloris.log" idle_closed)
t_log "slowloris: $closed of 3000 closed by the idle timeout of 2 s, $(hv "$T_DIR/slowloris.log" close_ms_min)..$(hv "$T_DIR/slowloris.log" close_ms_max) ms after their last byte (p50 $(hv "$T_DIR/slowloris.log" close_ms_p50)); 20 dripping every 500 ms stayed open"
[ "$closed" -eq 2980 ] || t_fail "slowloris: $closed idle closes seen by the tool, want 2980"
alive slowloris
check_echo slowloris
t_stop "$srv_pid" 15
[ "$T_STATUS" -eq 0 ] || t_fail "$kind B exited $T_STATUS after SIGTERM"
idle=$(grep -oE 'idle timeout [0-9]+' "$srv_log" | tail -1 | awk '{ print $3 }')
[ -n "$idle" ] || t_fail "slowloris: no idle-timeout count in the $kind's summary"
[ "$idle" -ge "$closed" ] || t_fail "slowloris: the $kind counted $idle idle closes, the tool saw $closed"
t_log "slowloris: the $kind's summary counts $idle idle closes; SIGTERM, exit 0"

# ---- instance C: out of fds -----------------------------------------------------------------------------
# 512 fds: 100 listeners and a few internal ones leave ~400 for connections; the tool holds 800, so the worker
# hits EMFILE with ~400 connections still queued. --max-connections above that so it is EMFILE, not the cap.
start_server srvC 512 --max-connections 2000
t_start hold "$HOSTILE" hold --port "$srv_base" --ports 100 --conns 800 --hold-s 60
hold_pid=$T_PID
wait_line "$T_DIR/hold.log" 20
[ "$(hv "$T_DIR/hold.log" verdict)" = pass ] || t_fail "hold: $(cat "$T_DIR/hold.log")"
# The status line (every second) shows the EMFILE count and the paused workers.
c1m_wait_match "$srv_log" 'EMFILE [1-9].*paused [1-9]' 5 "$srv_pid" ||
	t_fail "hold: no status line with EMFILE > 0 and a paused worker while 800 connections were held ($C1M_ERR)"
worker=${srv_workers%% *}
before=$(c1m_cpu_ms "$worker")
sleep 2
cpu_ms=$(( $(c1m_cpu_ms "$worker") - before ))
t_log "emfile: $(hv "$T_DIR/hold.log" connected) connections held; worker $worker used ${cpu_ms} ms CPU in 2 s while paused (bound 200 ms = 10% of a core)"
[ "$cpu_ms" -le 200 ] || t_fail "emfile: worker used ${cpu_ms} ms of CPU in 2 s while paused: it spins"
kill -0 "$hold_pid" 2>/dev/null || t_fail "hold: the tool ended early"
kill -TERM "$hold_pid"
status=0
wait "$hold_pid" || status=$?
[ "$status" -eq 0 ] || t_fail "hold: exit $status after release: $(tail -1 "$T_DIR/hold.log")"
t0=$(c1m_now_ms)
hostile resume binary --conns 5 --timeout-ms 10000
t_log "emfile: released; accepting resumed, 5 fresh echoes verified after $(ms_since "$t0") ms"
alive emfile
# This instance cannot hold 10,000 connections at once: the same 10,000 as 40 runs of 250.
check_echo emfile 40
t_stop "$srv_pid" 15
[ "$T_STATUS" -eq 0 ] || t_fail "$kind C exited $T_STATUS after SIGTERM"

t_no_sanitizer_reports
t_log "hostile.sh $kind: all cases passed in $(ms_since "$t_begin") ms"
echo "1 passed, 0 failed"
