#!/usr/bin/env bash
# c1m-floor at tiny scale: the message probe over 2 processes x 500 loopback pairs for 2 s and the connect
# probe with 2 client and 2 listener processes print one well-formed JSON line each with non-zero figures
# that add up (and the message probe's idle slab per pair) (no speed is asserted: the machine is shared); bad usage exits 2 with a message; and nothing
# the probe started is left running.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ -x "$C1M_FLOOR" ] || t_fail "$C1M_FLOOR not built"

# One JSON object on one line, nothing else on stdout.
one_json() {
	[ "$(wc -l <"$1")" = 1 ] || t_fail "$1: $(wc -l <"$1") lines, want 1"
	jq -e 'type == "object"' "$1" >/dev/null || t_fail "$1 is not a JSON object: $(cat "$1")"
}

"$C1M_FLOOR" message --pairs 1000 --procs 2 --duration 2 >"$T_DIR/message.json" 2>"$T_DIR/message.log" ||
	t_fail "message probe exited $?"
one_json "$T_DIR/message.json"
m=$T_DIR/message.json
[ "$(t_json "$m" .probe)" = message ] || t_fail "probe is '$(t_json "$m" .probe)'"
[ "$(t_json "$m" .pairs)" = 1000 ] && [ "$(t_json "$m" .procs)" = 2 ] && [ "$(t_json "$m" .size)" = 32 ] ||
	t_fail "message layout: $(cat "$m")"
rt=$(t_json "$m" .round_trips)
rate=$(t_json "$m" '.round_trips_per_s | floor')
[ "$rt" -gt 0 ] && [ "$rate" -gt 0 ] || t_fail "message probe counted nothing: $(cat "$m")"
# 2 s of round trips: the rate is the count over about 2 s (within a factor of 2 either way)
[ "$rate" -ge $(( rt / 4 )) ] && [ "$rate" -le "$rt" ] || t_fail "rate $rate does not match $rt round trips in 2 s"
# The idle floor of kernel memory: a number (the machine's slab moves with other work, so not asserted > 0),
# and the per-pair figure is the total over the pairs.
idle=$(t_json "$m" .idle_slab_bytes)
per=$(t_json "$m" .idle_slab_bytes_per_pair)
[[ "$idle" =~ ^-?[0-9]+$ ]] && [[ "$per" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || t_fail "idle slab not measured: $(cat "$m")"
[ "$(jq '((.idle_slab_bytes / .pairs) - .idle_slab_bytes_per_pair) | fabs < 0.1' "$m")" = true ] ||
	t_fail "idle slab $idle B over 1000 pairs is not $per B/pair"
t_log "message: 2 x 500 pairs, $rt round trips, $rate/s; idle slab $per B/pair"

base=$(t_port_base 10)
"$C1M_FLOOR" connect -n 1000 --clients 2 --servers 2 --port "$base" --ports 10 --sources 127.0.0.2-127.0.0.3 \
	>"$T_DIR/connect.json" 2>"$T_DIR/connect.log" || t_fail "connect probe exited $?"
one_json "$T_DIR/connect.json"
c=$T_DIR/connect.json
[ "$(t_json "$c" .probe)" = connect ] || t_fail "probe is '$(t_json "$c" .probe)'"
[ "$(t_json "$c" .established)" = 1000 ] && [ "$(t_json "$c" .failed)" = 0 ] ||
	t_fail "connect probe: $(cat "$c")"
[ "$(t_json "$c" .clients)" = 2 ] && [ "$(t_json "$c" .servers)" = 2 ] && [ "$(t_json "$c" .ports)" = 10 ] ||
	t_fail "connect layout: $(cat "$c")"
cps=$(t_json "$c" '.conn_per_s | floor')
[ "$cps" -gt 0 ] && [ "$(t_json "$c" '.elapsed_s > 0')" = true ] || t_fail "connect probe measured nothing: $(cat "$c")"
[ "$(t_json "$c" .first_error)" = null ] || t_fail "first_error: $(t_json "$c" .first_error)"
t_log "connect: 1000 connections, 2 clients x 2 listeners, $cps conn/s"

# The default layout is c1m's: --workers auto's counts for the same N.
"$C1M_FLOOR" connect -n 300 --port "$base" --ports 10 >"$T_DIR/auto.json" 2>"$T_DIR/auto.log" ||
	t_fail "connect probe (auto layout) exited $?"
[ "$(t_json "$T_DIR/auto.json" .servers)" = 1 ] && [ "$(t_json "$T_DIR/auto.json" .clients)" = 1 ] ||
	t_fail "auto layout for 300: $(cat "$T_DIR/auto.json")"

# Nothing left listening, no probe process left.
c1m_listening "$base" && t_fail "port $base still listens after the probe"
pgrep -f "^$C1M_FLOOR " >/dev/null && t_fail "c1m-floor processes left: $(pgrep -af "^$C1M_FLOOR ")"

# Bad usage: exit 2 and a message naming the problem.
status=0
"$C1M_FLOOR" message --pairs 0 >"$T_DIR/bad.out" 2>"$T_DIR/bad.log" || status=$?
[ "$status" = 2 ] || t_fail "--pairs 0 exited $status, want 2"
grep -q -- '--pairs: 0 is out of range' "$T_DIR/bad.log" || t_fail "no message for --pairs 0: $(cat "$T_DIR/bad.log")"
[ ! -s "$T_DIR/bad.out" ] || t_fail "bad usage printed on stdout"
status=0
"$C1M_FLOOR" connect -n 100 --port "$base" --ports 10 --clients 200 >/dev/null 2>"$T_DIR/bad2.log" || status=$?
[ "$status" = 2 ] && grep -q -- '--clients 200 is more than -n 100' "$T_DIR/bad2.log" ||
	t_fail "--clients 200 -n 100: exit $status, $(cat "$T_DIR/bad2.log")"
t_no_sanitizer_reports
echo "1 passed, 0 failed"
