#!/usr/bin/env bash
# The benchmark script at CI size: both servers reach N with zero failures, and the JSON, table and plot exist;
# then a small rate sweep and a small find-max, whose steps, ratio line and PNGs must come out, and the TCP
# sysctls a latency run raises must be back afterwards.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

n=${1:-20000}
"$C1M_SOURCE/bench/c1m-bench" -n "$n" --hold 1 --name ci --build "$C1M_BUILD" --results "$T_DIR/results" \
	--floor --floor-duration 1 >"$T_DIR/bench.log" 2>&1 || t_fail "c1m-bench exited non-zero"
json="$T_DIR/results/ci.json"
[ -s "$json" ] || t_fail "no $json"
[ -s "$T_DIR/results/ci.md" ] || t_fail "no markdown table"
[ -s "$T_DIR/results/ci.png" ] || t_fail "no plot"
[ "$(jq '.runs | length' "$json")" = 2 ] || t_fail "expected 2 runs in $json"
for srv in c1m-server c1m-epoll; do
	est=$(jq --arg s "$srv" '.runs[] | select(.server == $s) | .established' "$json")
	failed=$(jq --arg s "$srv" '.runs[] | select(.server == $s) | .failed' "$json")
	per_conn=$(jq --arg s "$srv" '.runs[] | select(.server == $s) | .server_user_bytes_per_conn | floor' "$json")
	[ "$est" = "$n" ] || t_fail "$srv: established $est, want $n"
	[ "$failed" = 0 ] || t_fail "$srv: failed $failed"
	[ "$per_conn" -gt 0 ] || t_fail "$srv: user bytes per connection '$per_conn' not measured"
	# The peak is the high-water mark of the same processes, so it can never be below a sample of their RSS.
	peak=$(jq --arg s "$srv" '.runs[] | select(.server == $s) | .server_peak_bytes_per_conn | floor' "$json")
	[ "$peak" -ge "$per_conn" ] || t_fail "$srv: peak $peak B/conn below the settled $per_conn B/conn"
	t_log "$srv: $est held, $per_conn B/conn user memory settled, $peak B/conn peak"
done
# --floor: the probe ran at the same N and the table sets each server beside it.
[ "$(jq '.floor.connect.established' "$json")" = "$n" ] || t_fail "connect floor: $(jq -c .floor.connect "$json")"
[ "$(jq '.floor.message.pairs' "$json")" = "$n" ] && [ "$(jq '.floor.message.round_trips > 0' "$json")" = true ] ||
	t_fail "message floor: $(jq -c .floor.message "$json")"
for srv in c1m-server c1m-epoll; do
	grep -qE "^\| $srv \| [0-9]+ \| [0-9]+ \| [0-9.]+x \| n/a \| [0-9]+ \| n/a \|$" "$T_DIR/results/ci.md" ||
		t_fail "no floor row for $srv in ci.md"
done
t_log "floor: $(jq -r '"connect \(.floor.connect.conn_per_s | floor) conn/s, message \(.floor.message.round_trips_per_s | floor) round trips/s"' "$json")"

tcp_before=$(sysctl -n net.ipv4.tcp_mem net.ipv4.tcp_rmem | tr -s ' \t' ' ')
"$C1M_SOURCE/bench/c1m-bench" -n 4000 --hold 0 --msg-rate 1000,2000 --duration 2 --name ci-sweep \
	--build "$C1M_BUILD" --results "$T_DIR/results" >"$T_DIR/bench-sweep.log" 2>&1 || t_fail "c1m-bench sweep exited non-zero"
json="$T_DIR/results/ci-sweep.json"
[ -s "$T_DIR/results/ci-sweep-rates.png" ] || t_fail "no RTT-against-rate plot"
for srv in c1m-server c1m-epoll; do
	steps=$(jq --arg s "$srv" '[.runs[] | select(.server == $s) | .rate_sweep.steps[] | select(.pass)] | length' "$json")
	max=$(jq --arg s "$srv" '.runs[] | select(.server == $s) | .rate_sweep.max_rate' "$json")
	[ "$steps" = 2 ] && [ "$max" = 2000 ] || t_fail "$srv: sweep passed $steps of 2 rates, max $max msg/s"
done
grep -q '^- ratio c1m-server / c1m-epoll: both met every rate' "$T_DIR/results/ci-sweep.md" ||
	t_fail "no ratio line in ci-sweep.md"
# CPU per message of the last phase (2,000 msg/s for 2 s), both sides, and the servers' ratio
for srv in c1m-server c1m-epoll; do
	grep -qE "^\| $srv \| 4000 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$" "$T_DIR/results/ci-sweep.md" ||
		t_fail "$srv: no CPU-per-message row in ci-sweep.md"
done
grep -qE '^- server CPU per message, c1m-server ÷ c1m-epoll: [0-9.]+ ' "$T_DIR/results/ci-sweep.md" ||
	t_fail "no CPU-per-message ratio line in ci-sweep.md"
tcp_after=$(sysctl -n net.ipv4.tcp_mem net.ipv4.tcp_rmem | tr -s ' \t' ' ')
[ "$tcp_before" = "$tcp_after" ] || t_fail "tcp_mem/tcp_rmem not restored: '$tcp_before' became '$tcp_after'"
t_log "sweep: both servers met 1000 and 2000 msg/s over 4000 connections; tcp sysctls restored"

"$C1M_SOURCE/bench/c1m-bench" -n 4000 --hold 0 --msg-rate 1000 --find-max --step 2000 --duration 1 --name ci-fm \
	--build "$C1M_BUILD" --results "$T_DIR/results" >"$T_DIR/bench-fm.log" 2>&1 || t_fail "c1m-bench find-max exited non-zero"
[ -s "$T_DIR/results/ci-fm-findmax.png" ] || t_fail "no find-max plot"
for srv in c1m-server c1m-epoll; do
	conns=$(jq -c --arg s "$srv" '[.runs[] | select(.server == $s) | .find_max.steps[].connections]' "$T_DIR/results/ci-fm.json")
	[ "$conns" = "[2000,4000]" ] || t_fail "$srv: find-max steps $conns, want [2000,4000]"
done
t_log "find-max: steps of 2000 up to 4000 for both servers"
echo "1 passed, 0 failed"
