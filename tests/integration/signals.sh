#!/usr/bin/env bash
# Signals against one server (c1m-server or c1m-epoll), each case followed by a check that it still serves:
#  a. SIGPIPE. Many peers are each owed an echo when they reset: with the workers stopped (SIGSTOP), each
#     sends a request, half-closes and resets (SO_LINGER 0), so when the workers resume, each echo is
#     written to a dead socket in CLOSE_WAIT, which the kernel answers with EPIPE and, unless ignored,
#     SIGPIPE (c1m-epoll sends with MSG_NOSIGNAL). The server and its workers stay alive (same pids, no
#     restart), the status line counts the write errors, and 10,000 fresh connections echo.
#  b. SIGKILL of one of 3 workers while a latency phase runs over 6,000 held connections: the supervisor
#     restarts it (new pid, 3 workers again), the other workers keep their connections and answer every
#     message sent to them, and 10,000 fresh connections echo through the restarted server. Then 10,000
#     idle connections are held and SIGTERM drains them: exit 0 well within the bound.
#  c. SIGTERM drain bound. 10,000 held connections plus one peer owed a large echo that it reads slowly
#     (12 MB for c1m-server with --high-watermark 32M, most of it still in the server's own buffer at the
#     signal; 512 KB for c1m-epoll, whose fixed 4 KB slot cannot hold more, so the rest waits in the
#     kernel's buffers): the slow reader receives every byte followed by EOF; exit 0 within
#     --drain-timeout + 1 s. A peer that never reads holds its drain to the deadline (7 s): exit 0 at about
#     --drain-timeout, counted as closed at the deadline. During a long drain held up by such a peer, new
#     connections are refused at once (listeners closed), and a second SIGTERM ends it at once (the workers
#     are killed), exit 0.
# The measured figures (restart time, drain times) are logged as "# ..." lines.
# usage: signals.sh server|epoll
set -euo pipefail
source "$(dirname "$0")/lib.sh"

kind=${1:?server or epoll}
bin=$(t_server_bin "$kind")
case "$kind" in
	server) big=$((12 * 1024 * 1024)); hwm=(--high-watermark 32M) ;;
	epoll) big=$((512 * 1024)); hwm=() ;;
esac
command -v perl >/dev/null || { echo "SKIP: perl is needed for the resetting peers (SO_LINGER)"; exit 77; }
ports=10

# workers_of PID: the supervisor's workers, sorted, on one line.
workers_of() { c1m_children "$1" | sort -n | tr '\n' ' ' | sed 's/ $//'; }

# start_server NAME ARGS...: the server on fresh ports; sets srv_pid and base.
start_server() {
	local name=$1
	shift
	base=$(t_port_base "$ports")
	t_start "$name" "$bin" --bind 127.0.0.1 --port "$base" --ports "$ports" --stats-interval 1 "$@"
	srv_pid=$T_PID
	t_wait_ports "$base" "$ports"
}

# term_wait PID LIMIT_S: SIGTERM, then wait at most LIMIT_S seconds for the exit; sets T_STATUS and
# exit_ms (milliseconds from the signal to the exit, polled every 10 ms).
term_wait() {
	local pid=$1 limit_ms=$(( $2 * 1000 )) t0
	t0=$(c1m_now_ms)
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		[ $(( $(c1m_now_ms) - t0 )) -le "$limit_ms" ] || t_fail "pid $pid still running $2 s after SIGTERM"
		sleep 0.01
	done
	exit_ms=$(( $(c1m_now_ms) - t0 ))
	T_STATUS=0
	wait "$pid" || T_STATUS=$?
}

# status_field LOG FIELD [FROM]: the number after FIELD in the supervisor's last status line ("conns N | ...
# errors: ... write W reset R | ..."), looking only past line FROM of LOG.
status_field() { tail -n +"$(( ${3:-0} + 1 ))" "$T_DIR/$1.log" | grep -oE "$2 [0-9]+" | tail -1 | awk '{ print $2 }'; }
log_lines() { wc -l <"$T_DIR/$1.log"; }
# wait_conns LOG N FROM: until a status line after line FROM says conns N.
wait_conns() {
	for _ in $(seq 1 300); do
		[ "$(status_field "$1" '^conns' "$3")" = "$2" ] && return 0
		sleep 0.1
	done
	t_fail "$1 never reached conns $2 (last: $(status_field "$1" '^conns' "$3"))"
}

# fresh_echoes TAG: 10,000 new connections, each echoed, through the server on $base.
fresh_echoes() {
	local status=0 j="$T_DIR/fresh-$1.json"
	"$C1M_CLIENT" 127.0.0.1 --port "$base" --ports "$ports" -n 10000 --hold 1 --json "$j" \
		>"$T_DIR/fresh-$1.out" 2>&1 || status=$?
	[ "$status" -eq 0 ] || t_fail "$1: 10,000 fresh connections: client exited $status ($(tail -1 "$T_DIR/fresh-$1.out"))"
	if [ "$(t_json "$j" .established)" != 10000 ] || [ "$(t_json "$j" .failed)" != 0 ]; then
		t_fail "$1: fresh connections: established $(t_json "$j" .established), failed $(t_json "$j" .failed)"
	fi
	t_log "$1: 10000 fresh connections established and echoed, rtt p99 $(t_json "$j" .rtt_ms.p99) ms"
}

# The drain line of the summary in LOG.
drain_line() { grep -E '^  drain \(--drain-timeout' "$T_DIR/$1.log" || t_fail "no drain line in the $1 summary"; }

# ---- a. SIGPIPE --------------------------------------------------------------------------------------------
# A peer owed an echo that resets. Connects COUNT sockets, says "connected", waits for a line on stdin (the
# caller stops the workers meanwhile), then on each sends BYTES, half-closes (FIN: the server's side goes to
# CLOSE_WAIT, where a reset turns the next write into EPIPE) and, 50 ms later, resets it (SO_LINGER 0).
# shellcheck disable=SC2016 # perl, not shell: its $ variables are its own
rst_peer='
use strict; use warnings;
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_LINGER pack_sockaddr_in inet_aton);
my ($base, $ports, $count, $bytes) = @ARGV;
my @socks;
$| = 1;
for my $i (0 .. $count - 1) {
	socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
	connect($s, pack_sockaddr_in($base + $i % $ports, inet_aton("127.0.0.1"))) or die "connect: $!\n";
	push @socks, $s;
}
print "connected\n";
<STDIN>;
for my $s (@socks) {
	defined(send($s, "p" x $bytes, 0)) or die "send: $!\n";
	shutdown($s, 1) or die "shutdown: $!\n";
}
select(undef, undef, undef, 0.05);
for my $s (@socks) {
	setsockopt($s, SOL_SOCKET, SO_LINGER, pack("ii", 1, 0)) or die "SO_LINGER: $!\n";
	close($s);
}
print "reset\n";
'

start_server a --workers 3
workers_a=$(workers_of "$srv_pid")
[ "$(wc -w <<<"$workers_a")" -eq 3 ] || t_fail "expected 3 workers, found: $workers_a"
rounds=5
per_round=200
for r in $(seq 1 $rounds); do
	coproc RST { perl -e "$rst_peer" "$base" "$ports" "$per_round" 16384 2>&1; }
	C1M_PIDS+=("$RST_PID")
	read -r line <&"${RST[0]}" || line=
	[ "$line" = connected ] || t_fail "round $r: the resetting peers did not connect: $line"
	sleep 0.2 # every connection accepted
	# shellcheck disable=SC2086
	kill -STOP $workers_a
	echo go >&"${RST[1]}"
	read -r line <&"${RST[0]}" || line=
	# shellcheck disable=SC2086
	kill -CONT $workers_a
	[ "$line" = reset ] || t_fail "round $r: the peers did not reset: $line"
	wait "$RST_PID" || true
	sleep 0.1
	[ "$(workers_of "$srv_pid")" = "$workers_a" ] ||
		t_fail "round $r: workers changed from $workers_a to $(workers_of "$srv_pid"): $(grep -E 'killed|exited' "$T_DIR/a.log" | head -1)"
done
sleep 1.2 # a status line after the last round
kill -0 "$srv_pid" 2>/dev/null || t_fail "the supervisor died"
[ "$(workers_of "$srv_pid")" = "$workers_a" ] ||
	t_fail "workers changed: before $workers_a, after $(workers_of "$srv_pid")"
grep -qE 'restarted|killed by signal' "$T_DIR/a.log" && t_fail "a worker died: $(grep -E 'restarted|killed' "$T_DIR/a.log")"
werr=$(status_field a 'write')
rerr=$(status_field a 'reset')
total=$((rounds * per_round))
# Every one of them was a write to a reset socket (EPIPE; ECONNRESET were the reset seen by another path).
[ $((werr + rerr)) -ge "$total" ] || t_fail "only $werr write and $rerr reset errors for $total resetting peers"
t_log "a: $total peers reset while owed an echo: write errors $werr, reset $rerr; supervisor and 3 workers alive"
fresh_echoes a

# ---- b. SIGKILL of one worker ----------------------------------------------------------------------------
n=6000
phase_s=6
from=$(log_lines a)
t_start client_b "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports "$ports" -n "$n" --hold 30 --msg-rate 3000 \
	--duration "$phase_s" --timeout 2000 --slo 1000 --progress-interval 0.2 --json "$T_DIR/client_b.json"
client_pid=$T_PID
wait_conns a "$n" "$from"
t_wait_phase "$T_DIR/client_b.log" "$client_pid" 10
phase_end=$(( SECONDS + phase_s + 3 ))
sleep 1

per_pid() {
	ss -Htnp state established "( sport >= :$base and sport <= :$((base + ports - 1)) )" |
		grep -oE 'pid=[0-9]+' | sort | uniq -c | awk '{ sub("pid=", "", $2); print $2, $1 }'
}
per_pid >"$T_DIR/per_pid.1"
victim=${workers_a%% *}
survivors=${workers_a#* }
lost=$(awk -v p="$victim" '$1 == p { print $2 }' "$T_DIR/per_pid.1")
[ "${lost:-0}" -gt 0 ] || t_fail "worker $victim holds no connection"
t0=$(c1m_now_ms)
kill -KILL "$victim"
restart_ms=
for _ in $(seq 1 500); do
	now_workers=$(workers_of "$srv_pid")
	if [ "$(wc -w <<<"$now_workers")" -eq 3 ] && ! grep -qw "$victim" <<<"$now_workers"; then
		restart_ms=$(( $(c1m_now_ms) - t0 ))
		break
	fi
	sleep 0.01
done
[ -n "$restart_ms" ] || t_fail "no 3rd worker 5 s after SIGKILL of $victim: $(workers_of "$srv_pid")"
for _ in $(seq 1 100); do
	grep -q 'restarted as pid' "$T_DIR/a.log" && break
	sleep 0.05
done
grep -q "worker [0-9]* restarted as pid" "$T_DIR/a.log" || t_fail "no restart logged"
new_pid=$(tr ' ' '\n' <<<"$now_workers" | grep -vxF -e "${survivors% *}" -e "${survivors#* }")
# Listening again: each worker has its own SO_REUSEPORT socket on every port, so 3 on the first one again
# (ss without -p: reading every process's descriptors would cost more than the restart).
listen_ms=
for _ in $(seq 1 500); do
	if [ "$(ss -Htln "sport = :$base" | wc -l)" -eq 3 ]; then
		listen_ms=$(( $(c1m_now_ms) - t0 ))
		break
	fi
	sleep 0.01
done
[ -n "$listen_ms" ] || t_fail "the restarted worker $new_pid never listened on $base"
t_log "b: SIGKILL worker $victim ($lost connections): restarted as pid $new_pid after ${restart_ms} ms, listening after ${listen_ms} ms"

sleep 1
per_pid >"$T_DIR/per_pid.2"
for w in $survivors; do
	before=$(awk -v p="$w" '$1 == p { print $2 }' "$T_DIR/per_pid.1")
	after=$(awk -v p="$w" '$1 == p { print $2 }' "$T_DIR/per_pid.2")
	[ "$after" = "$before" ] || t_fail "worker $w held $before connections before the kill, $after after"
done
[ "$SECONDS" -ge "$phase_end" ] || sleep $(( phase_end - SECONDS ))
kill -TERM "$client_pid"
wait "$client_pid" || true
j="$T_DIR/client_b.json"
failed=$(t_json "$j" .failed)
sent=$(t_json "$j" .latency.sent)
answered=$(t_json "$j" .latency.answered)
mismatched=$(t_json "$j" .latency.mismatched)
[ "$(t_json "$j" .established)" = "$n" ] || t_fail "client established $(t_json "$j" .established), want $n"
[ "$failed" = "$lost" ] || t_fail "client counted $failed failed connections, the killed worker held $lost"
[ "$sent" -gt 0 ] || t_fail "the latency phase sent nothing"
[ "$mismatched" = 0 ] || t_fail "$mismatched echoes did not match"
need=$(( sent * (n - lost) / n ))
[ "$answered" -ge "$need" ] || t_fail "answered $answered of $sent: the survivors' share alone is $need"
t_log "b: survivors kept $((n - lost)) connections; $answered of $sent messages answered (survivors' share $need), 0 mismatched"
fresh_echoes b

# 10,000 idle connections, then SIGTERM: how long a drain of idle connections takes.
from=$(log_lines a)
t_start hold_b "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports "$ports" -n 10000 --hold 0 -q
hold_pid=$T_PID
wait_conns a 10000 "$from"
term_wait "$srv_pid" 6
[ "$T_STATUS" -eq 0 ] || t_fail "exit status $T_STATUS after SIGTERM"
d=$(drain_line a)
echo "$d" | grep -qE ' 10000 open at the signal: 10000 flushed and closed, 0 closed at the deadline' ||
	t_fail "drain of 10000 idle connections: $d"
[ "$exit_ms" -le 6000 ] || t_fail "exit took $exit_ms ms, bound 6000"
t_log "b: SIGTERM with 10000 idle connections (3 workers): exit 0 after ${exit_ms} ms;${d#  drain}"
kill -TERM "$hold_pid" 2>/dev/null || true
wait "$hold_pid" || true

# ---- c. SIGTERM drain bound ------------------------------------------------------------------------------
# owed_peer PORT: opens fd $peer_fd, writes $big bytes of random data and waits until the server has read
# all of it (nothing left in either side's queue towards the server), so the whole echo is owed.
head -c "$big" /dev/urandom >"$T_DIR/payload"
owed_peer() {
	local port=$1
	exec {peer_fd}<>"/dev/tcp/127.0.0.1/$port"
	cat "$T_DIR/payload" 1>&"$peer_fd"
	for _ in $(seq 1 200); do
		# Send-Q of our socket and Recv-Q of the server's: both 0 once the server read it all.
		if ss -Htnp "( dport = :$port )" | grep "pid=$$," | awk '{ exit !($3 == 0) }' &&
			ss -Htn "( sport = :$port )" | awk '{ q += $2 } END { exit !(q == 0) }'; then
			return 0
		fi
		sleep 0.05
	done
	t_fail "the server did not read the $big-byte request"
}
# slow_read OUT: reads fd $peer_fd 256 KiB at a time with a pause (about 5 MB/s) until EOF; fails on a
# reset.
slow_read() {
	local have=0 prev=-1
	: >"$1"
	while [ "$have" -ne "$prev" ]; do
		prev=$have
		dd bs=256k count=1 iflag=fullblock status=none <&"$peer_fd" >>"$1" || return 1
		have=$(stat -c %s "$1")
		sleep 0.04
	done
}

# stuck_peer PORT: opens fd $peer_fd and writes to it without end, never reading, in the background: the
# server reads until its buffer for us is full, then owes an echo it can never send.
stuck_peer() {
	exec {peer_fd}<>"/dev/tcp/127.0.0.1/$1"
	cat /dev/zero 1>&"$peer_fd" 2>/dev/null &
	C1M_PIDS+=("$!")
	writer_pid=$!
	sleep 0.5
}

# c1: 10,000 held connections and one slow reader owed $big bytes; the default --drain-timeout (5 s).
drain_s=5
start_server c1 --workers 2 "${hwm[@]}"
t_start hold_c "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports "$ports" -n 10000 --hold 0 -q
hold_pid=$T_PID
wait_conns c1 10000 0
owed_peer "$base"
t0=$(c1m_now_ms)
kill -TERM "$srv_pid"
slow_read "$T_DIR/echo" &
reader_pid=$!
while kill -0 "$srv_pid" 2>/dev/null; do
	[ $(( $(c1m_now_ms) - t0 )) -le $(( (drain_s + 3) * 1000 )) ] || t_fail "still running $((drain_s + 3)) s after SIGTERM"
	sleep 0.01
done
exit_ms=$(( $(c1m_now_ms) - t0 ))
T_STATUS=0
wait "$srv_pid" || T_STATUS=$?
[ "$T_STATUS" -eq 0 ] || t_fail "exit status $T_STATUS after the drain"
wait "$reader_pid" || t_fail "the slow reader got a reset instead of its echo and EOF"
read_ms=$(( $(c1m_now_ms) - t0 ))
exec {peer_fd}>&-
got=$(stat -c %s "$T_DIR/echo")
[ "$got" -eq "$big" ] || t_fail "the slow reader got $got of $big bytes"
cmp -s "$T_DIR/payload" "$T_DIR/echo" || t_fail "the slow reader's echo differs from what it sent"
d=$(drain_line c1)
echo "$d" | grep -qE ' 10001 open at the signal: 10001 flushed and closed, 0 closed at the deadline' ||
	t_fail "drain with a slow reader: $d"
[ "$exit_ms" -le $(( drain_s * 1000 + 1000 )) ] || t_fail "exit after $exit_ms ms, bound $(( drain_s * 1000 + 1000 ))"
t_log "c1: SIGTERM with 10000 idle + 1 slow reader owed $big bytes: exit 0 after ${exit_ms} ms (bound $((drain_s + 1)) s), reader had all $got bytes and EOF after ${read_ms} ms;${d#  drain}"
kill -TERM "$hold_pid" 2>/dev/null || true
wait "$hold_pid" || true

# c2: a peer that never reads: the drain ends at the deadline. 7 s, longer than the supervisor's fixed 5 s
# grace of before the drain existed: a supervisor that killed workers at 5 s again would fail here.
drain_s=7
start_server c2 --workers 2 --drain-timeout "$drain_s"
stuck_peer "$base"
term_wait "$srv_pid" $((drain_s + 3))
[ "$T_STATUS" -eq 0 ] || t_fail "exit status $T_STATUS after a drain cut by its deadline"
exec {peer_fd}>&-
kill "$writer_pid" 2>/dev/null || true
wait "$writer_pid" 2>/dev/null || true
d=$(drain_line c2)
echo "$d" | grep -qE ' 1 open at the signal: 0 flushed and closed, 1 closed at the deadline' ||
	t_fail "drain with a peer that never reads: $d"
[ "$exit_ms" -ge $(( drain_s * 1000 )) ] || t_fail "exit after $exit_ms ms, before the $drain_s s deadline"
[ "$exit_ms" -le $(( drain_s * 1000 + 1000 )) ] || t_fail "exit after $exit_ms ms, bound $(( drain_s * 1000 + 1000 ))"
t_log "c2: SIGTERM with a peer that never reads: exit 0 after ${exit_ms} ms (deadline ${drain_s} s);${d#  drain}"

# c3: a second SIGTERM during a long drain means now.
# Meanwhile, new connections are refused at once: the listeners are closed, not just left unserved.
start_server c3 --workers 2 --drain-timeout 60
stuck_peer "$base"
kill -TERM "$srv_pid"
sleep 0.2
for p in "$base" $((base + ports - 1)); do
	kill -0 "$srv_pid" 2>/dev/null || t_fail "the drain ended before its deadline"
	ss -Htln "sport = :$p" | grep -q . && t_fail "port $p still listening 200 ms after SIGTERM"
	r0=$(c1m_now_ms)
	if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>"$T_DIR/refused.err"; then
		t_fail "a new connection to port $p was accepted during the drain"
	fi
	grep -q 'Connection refused' "$T_DIR/refused.err" || t_fail "port $p: not refused: $(cat "$T_DIR/refused.err")"
	[ $(( $(c1m_now_ms) - r0 )) -lt 1000 ] || t_fail "port $p: the refusal took $(( $(c1m_now_ms) - r0 )) ms"
done
t_log "c3: 200 ms after SIGTERM the draining server refuses new connections at once"
sleep 0.3
kill -0 "$srv_pid" 2>/dev/null || t_fail "the drain ended before the second signal"
term_wait "$srv_pid" 2
[ "$T_STATUS" -eq 0 ] || t_fail "exit status $T_STATUS after a second SIGTERM"
exec {peer_fd}>&-
kill "$writer_pid" 2>/dev/null || true
wait "$writer_pid" 2>/dev/null || true
d=$(drain_line c3)
echo "$d" | grep -qE ' 1 open at the signal: .*, 1 still open when 1 worker was killed' ||
	t_fail "drain cut by a second signal: $d"
t_log "c3: second SIGTERM during a 60 s drain: exit 0 after ${exit_ms} ms;${d#  drain}"
echo "1 passed, 0 failed"
