#!/usr/bin/env bash
# c1m-client against servers that misbehave: it must never hang and never count a failure as a success.
# c1m-badserver (tests/tools/badserver.c) plays a server that accepts and never answers, closes at once,
# resets, echoes wrong bytes, sends more than was asked, or trickles the echo a byte at a time; with
# --after-lines 1 it answers the ramp's line correctly first, so the same faults hit the latency phase.
# The real c1m-server is then stopped with SIGSTOP in the middle of a phase, once for longer than the
# reply timeout and once past the end of the run. Every case checks the exit status, an upper bound on
# the wall time (and a lower one where a deadline must have been waited for), and the JSON report: the
# failure counted under the right kind, and successes that are only real successes. A control run against
# a correct echo proves the same assertions can pass.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BAD="$C1M_BUILD/tests/tools/c1m-badserver"
[ -x "$BAD" ] || t_fail "c1m-badserver not built at $BAD"
command -v jq >/dev/null || t_fail "jq is needed"

SLACK_MS=5000   # start-up, ramp and a loaded 2-core machine (or ASan) on top of every expected duration
PASSED=0

# ---- helpers ----

# bad_start ARGS...: c1m-badserver on 10 free ports; sets BAD_PORT and BAD_PID.
bad_start() {
	BAD_PORT=$(t_port_base 10)
	t_start "bad-$CASE" "$BAD" --bind 127.0.0.1 --port "$BAD_PORT" --ports 10 "$@"
	BAD_PID=$T_PID
	t_wait_ports "$BAD_PORT" 10
}

# bad_end: SIGTERM, exit 0 and its summary line (it saw the connections the client made).
bad_end() {
	t_stop "$BAD_PID" 10
	[ "$T_STATUS" -eq 0 ] || t_fail "$CASE: c1m-badserver exited $T_STATUS"
	grep -q '^c1m-badserver: mode' "$T_DIR/bad-$CASE.log" || t_fail "$CASE: no badserver summary"
}

# client PORT ARGS...: runs c1m-client under `timeout 60` (a hang fails the case); sets C_STATUS, C_MS
# (wall time) and J (the JSON report).
client() {
	local port=$1 t0
	shift
	J="$T_DIR/$CASE.json"
	C_STATUS=0
	t0=$(c1m_now_ms)
	timeout 60 "$C1M_CLIENT" 127.0.0.1 --port "$port" --ports 10 "$@" --json "$J" >"$T_DIR/client-$CASE.log" 2>&1 ||
		C_STATUS=$?
	C_MS=$(( $(c1m_now_ms) - t0 ))
	[ "$C_STATUS" -ne 124 ] || t_fail "$CASE: c1m-client hung (killed by timeout after 60 s)"
	[ -s "$J" ] || t_fail "$CASE: no JSON report (client exited $C_STATUS)"
}

want_status() {
	[ "$C_STATUS" -eq "$1" ] || t_fail "$CASE: client exited $C_STATUS, want $1"
}

# want_ms LO HI: the wall time is within [LO, HI] milliseconds.
want_ms() {
	[ "$C_MS" -ge "$1" ] || t_fail "$CASE: client ended after $C_MS ms, before the $1 ms it had to wait"
	[ "$C_MS" -le "$2" ] || t_fail "$CASE: client took $C_MS ms, more than $2 ms"
}

# want JQ_EXPR: a boolean jq expression over the JSON report must be true.
want() {
	jq -e "$1" "$J" >/dev/null || t_fail "$CASE: want $1; report: $(jq -c \
		'{established, echoed, failed, failures, pass, latency: (.latency // {} | del(.rtt_ms))}' "$J")"
}

# Connection counters of a run whose every connection failed before its echo was verified.
want_ramp_failed() {
	local n=$1 kind=$2
	want ".started == $n and .failed_immediate == 0"
	want ".echoed == 0"
	want ".failed == $n and .failures.$kind == $n"
	want '([.failures[]] | add) == .failed'
	want '.pass == false'
	want_status 1
}

# Latency numbers that must add up whatever went wrong: every scheduled message was sent, and each is
# answered (within the timeout, in the RTT histogram), late, or unanswered, exactly once.
want_lat_consistent() {
	want '.latency.ran == true and .latency.sent == .latency.scheduled'
	want '.latency.answered + .latency.late + .latency.unanswered == .latency.sent'
	want '.latency.lost == .latency.late + .latency.unanswered and .latency.in_flight == 0'
	want '.latency.rtt_ms.count == .latency.answered'
	want '([.failures[]] | add // 0) == .failed'
}

# A phase after a good ramp: all n connections echoed, then the fault; the run fails.
want_phase_failed() {
	local n=$1
	want ".started == $n and .established == $n and .echoed == $n and .latency.held == $n"
	want_lat_consistent
	want '.latency.pass == false and .pass == false'
	want '.verdict | endswith(": FAIL")'
	want_status 1
}

summary() {
	t_log "$CASE: exit $C_STATUS, ${C_MS} ms; $(jq -c '{established, echoed, failed, failures} + (if .latency
		then {sent: .latency.sent, answered: .latency.answered, late: .latency.late,
		unanswered: .latency.unanswered, mismatched: .latency.mismatched} else {} end)' "$J")"
	PASSED=$((PASSED + 1))
}

# ---- the tool's own usage errors: exit 2, naming the flag and the value ----
for bad_args in "--bind nowhere" "--mode bogus" "--port 0" "--ports 5000" "--after -1" "--byte-interval 0" "--frobnicate"; do
	status=0
	# shellcheck disable=SC2086
	msg=$("$BAD" $bad_args 2>&1) || status=$?
	[ "$status" -eq 2 ] || t_fail "c1m-badserver $bad_args exited $status, want 2"
	flag=${bad_args%% *}
	value=${bad_args#* }
	grep -qF -- "$flag" <<<"$msg" || t_fail "c1m-badserver $bad_args: message does not name $flag: $msg"
	[ "$value" = "$flag" ] || grep -qF -- "$value" <<<"$msg" ||
		t_fail "c1m-badserver $bad_args: message does not name '$value': $msg"
done
t_log "usage errors: exit 2 with the flag and value named"

N=200

# ---- 1. control: a correct echo passes, ramp and phase ----
CASE=control
bad_start --mode echo
client "$BAD_PORT" -n "$N" --echo-timeout 5 --msg-rate 1000 --duration 1 --timeout 2000 --slo 1000 -q
bad_end
want_status 0
want ".established == $N and .echoed == $N and .failed == 0 and .pass == true"
want_lat_consistent
want '.latency.answered == .latency.scheduled and .latency.lost == 0 and .latency.mismatched == 0'
want_ms 1000 $((1000 + SLACK_MS))
summary

# ---- 2. silent: accepts, reads, never answers ----
CASE=silent-ramp
bad_start --mode silent
client "$BAD_PORT" -n "$N" --echo-timeout 2 --hold 0.001 -q
bad_end
want_ramp_failed "$N" echo_timeout
want ".established == $N"   # the handshakes did complete; only the echoes are missing
want_ms 1900 $((2000 + SLACK_MS))
summary

# The ramp is answered, the phase is not: every message is lost, and the run ends at the straggler
# deadline (duration + timeout after the phase began), not later and not earlier.
CASE=silent-phase
bad_start --mode silent --after-lines 1
client "$BAD_PORT" -n "$N" --workers 2 --echo-timeout 5 --msg-rate 1000 --duration 2 --timeout 500 -q
bad_end
want_phase_failed "$N"
want '.latency.answered == 0 and .latency.late == 0 and .latency.unanswered == .latency.sent'
want '.latency.lost == .latency.scheduled and .latency.scheduled == 2000'
want ".failed == $N and .failures.echo_timeout == $N"
want_ms 2500 $((2500 + SLACK_MS))
summary

# ---- 3. close at once (FIN) and reset (RST) ----
CASE=close-ramp
bad_start --mode close
client "$BAD_PORT" -n "$N" --echo-timeout 10 --hold 0.001 -q
bad_end
# A close with the client's line already unread in the server's socket is sent as a reset, not a FIN (the
# kernel's rule): which one a connection sees depends on whether its line arrived before the close.
want ".started == $N and .failed_immediate == 0 and .echoed == 0 and .pass == false"
want ".failed == $N and (.failures.peer_closed // 0) + (.failures.ECONNRESET // 0) == $N"
want '([.failures[]] | add) == .failed'
want_status 1
want_ms 0 4000   # ended by the closes, not by the 10 s echo timeout
summary

CASE=reset-ramp
bad_start --mode reset
client "$BAD_PORT" -n "$N" --echo-timeout 10 --hold 0.001 -q
bad_end
want_ramp_failed "$N" ECONNRESET
want_ms 0 4000
summary

# Closed by the server at the first frame: the connection's messages, and every later one scheduled for
# it, are lost; the phase still runs its whole schedule and ends without a straggler wait.
CASE=close-phase
bad_start --mode close --after-lines 1
client "$BAD_PORT" -n "$N" --echo-timeout 5 --msg-rate 1000 --duration 1 --timeout 500 -q
bad_end
want_phase_failed "$N"
want '.latency.answered == 0 and .latency.unanswered == .latency.sent'
want ".failed == $N and (.failures.peer_closed // 0) + (.failures.ECONNRESET // 0) == $N"
want_ms 1000 $((1000 + SLACK_MS))
summary

# ---- 4. wrong bytes ----
CASE=wrong-ramp
bad_start --mode wrong
client "$BAD_PORT" -n "$N" --echo-timeout 10 --hold 0.001 -q
bad_end
want_ramp_failed "$N" echo_mismatch
want_ms 0 4000
summary

# The first frame comes back altered on every connection: a mismatch each, never an answer.
CASE=wrong-phase
bad_start --mode wrong --after-lines 1
client "$BAD_PORT" -n "$N" --workers 2 --echo-timeout 5 --msg-rate 1000 --duration 1 --timeout 500 -q
bad_end
want_phase_failed "$N"
want ".latency.answered == 0 and .latency.mismatched == $N and .latency.unanswered == .latency.sent"
want ".failed == $N and .failures.echo_mismatch == $N"
want '.latency.mismatch_note | test("reply byte [0-9]+ is .* expected")'
want_ms 1000 $((1000 + SLACK_MS))
summary

# ---- 5. more bytes than were sent ----
CASE=extra-ramp
bad_start --mode extra
client "$BAD_PORT" -n "$N" --echo-timeout 10 --hold 0.001 -q
bad_end
want_ramp_failed "$N" echo_mismatch
want_ms 0 4000
summary

# Each connection's first frame is echoed correctly (a real answer), then bytes nobody sent follow: a
# mismatch on every connection, and the rest of its messages lost.
CASE=extra-phase
bad_start --mode extra --after-lines 1
client "$BAD_PORT" -n "$N" --echo-timeout 5 --msg-rate 1000 --duration 1 --timeout 500 -q
bad_end
want_phase_failed "$N"
want ".latency.mismatched == $N and .latency.answered <= $N and .latency.answered < .latency.sent"
want ".failed == $N and .failures.echo_mismatch == $N"
want_ms 1000 $((1000 + SLACK_MS))
summary

# ---- 6. the echo trickles in a byte every 400 ms: correct bytes, far past the 1 s echo deadline ----
# (The deadline counts from the write: an idle timeout restarted by every byte would let each 27-byte
# echo take ~11 s and pass.)
CASE=slow-ramp
bad_start --mode slow --byte-interval 400
client "$BAD_PORT" -n "$N" --echo-timeout 1 --hold 0.001 -q
bad_end
want_ramp_failed "$N" echo_timeout
want_ms 900 $((1000 + SLACK_MS))
summary

# ---- 7. the real server's worker stopped with SIGSTOP in the middle of a phase ----
# stop_run SECONDS_OR_END: c1m-server (one worker), 2,000 connections, 2,000 msg/s for 4 s, reply timeout
# 500 ms; the worker is stopped 1 s into the phase, for SECONDS, or until the client has ended ("end").
DUR_MS=4000
TMO_MS=500
stop_run() {
	local hold=$1 base server_pid targets client_pid t0
	base=$(t_port_base 100)
	t_start "server-$CASE" "$C1M_SERVER" --bind 127.0.0.1 --port "$base" --ports 100 --workers 1 --stats-interval 10
	server_pid=$T_PID
	t_wait_ports "$base" 100
	targets=$(c1m_children "$server_pid")
	[ -n "$targets" ] || t_fail "$CASE: c1m-server has no worker process"
	J="$T_DIR/$CASE.json"
	t0=$(c1m_now_ms)
	t_start "client-$CASE" timeout 60 "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n 2000 --msg-rate 2000 \
		--duration $((DUR_MS / 1000)) --timeout "$TMO_MS" --echo-timeout 10 --progress-interval 0.1 --json "$J"
	client_pid=$T_PID
	t_wait_phase "$T_DIR/client-$CASE.log" "$client_pid" 30
	sleep 1
	# shellcheck disable=SC2086
	kill -STOP $targets
	if [ "$hold" != end ]; then
		sleep "$hold"
		# shellcheck disable=SC2086
		kill -CONT $targets
	fi
	C_STATUS=0
	wait "$client_pid" || C_STATUS=$?
	C_MS=$(( $(c1m_now_ms) - t0 ))
	# shellcheck disable=SC2086
	kill -CONT $targets 2>/dev/null || true
	[ "$C_STATUS" -ne 124 ] || t_fail "$CASE: c1m-client hung (killed by timeout after 60 s)"
	[ -s "$J" ] || t_fail "$CASE: no JSON report (client exited $C_STATUS)"
	kill -0 "$server_pid" 2>/dev/null || t_fail "$CASE: c1m-server died"
	t_stop "$server_pid" 15
}

# Stopped for 2 s, four times the reply timeout: the replies come after SIGCONT, and those more than
# 500 ms after their scheduled time are late (at least the ~1,000 scheduled in the first 0.5 s of the stop
# at 2,000 msg/s; about 3,000 in all). Nothing is left unanswered; the verdict fails.
CASE=sigstop-2s
stop_run 2
want_phase_failed 2000
want '.latency.late >= 1000 and .latency.lost >= 1000 and .latency.answered > 0'
want ".latency.rtt_ms.max <= $TMO_MS"   # a reply past the timeout is late, never in the histogram
want_ms $((DUR_MS)) $((DUR_MS + TMO_MS + SLACK_MS))
summary

# Stopped and never continued while the client runs: at the straggler deadline every connection that
# still owes replies is closed as an echo timeout and its messages are lost; the client ends on time.
CASE=sigstop-end
stop_run end
want_phase_failed 2000
want '.latency.unanswered >= 3000 and .latency.answered > 0 and .latency.answered < .latency.sent'
want '.failed > 0 and .failures.echo_timeout == .failed'
want_ms $((DUR_MS + TMO_MS)) $((DUR_MS + TMO_MS + SLACK_MS))
summary

t_no_sanitizer_reports
echo "$PASSED passed, 0 failed"
