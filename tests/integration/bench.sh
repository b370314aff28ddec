#!/usr/bin/env bash
# The benchmark script at CI size: both servers reach N with zero failures, and the JSON, table and plot exist;
# then a small rate sweep and a small find-max, whose steps, ratio line and PNGs must come out, and the TCP
# sysctls a latency run raises must be back afterwards. Both --floor runs carry the Targets table, each row's
# figure computed from the run's own inputs (no speed is asserted: the machine is shared).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# check_targets JSON MD: six target rows in the JSON, the same rows in the markdown's Targets table, and each
# verdict follows from the figure shown: a number is met exactly when it is on the target's side, a row with
# no number says why.
check_targets() {
	local json=$1 md=$2 line
	[ "$(jq '.targets | length' "$json")" = 6 ] || t_fail "$json: $(jq -c '.targets' "$json"), want 6 rows"
	grep -q '^Targets ' "$md" && grep -q '^| figure | today | target | met? | from |$' "$md" ||
		t_fail "no Targets table in $md"
	jq -e '.targets | all(
		if (.today | type) == "number" then
			(((.op == ">=" and .today >= .value) or (.op == "<=" and .today <= .value)) as $ok
			 | (.status == "met") == $ok and (.status == "met" or .status == "missed" or (.status | startswith("not settled ("))))
		else .today == null and (.status | test("^(not measured|not comparable|missed) \\(")) end)' "$json" >/dev/null ||
		t_fail "a target's verdict does not follow from its figure: $(jq -c '.targets[] | [.today, .op, .value, .status]' "$json")"
	while IFS= read -r line; do
		grep -qF -- "$line" "$md" || t_fail "$md has no row '$line'"
	done < <(jq -r '.targets[] | "| \(.figure) | \(.today // "n/a") | \(.op) \(.value)"' "$json")
}
# target_num JSON ROW: the figure of row ROW (0-5), or a failure naming the row's status.
target_num() {
	local v
	v=$(jq -r --argjson i "$2" '.targets[$i].today' "$1")
	[[ "$v" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || t_fail "$1: target row $2 not measured: $(jq -c --argjson i "$2" '.targets[$i]' "$1")"
	echo "$v"
}
# near A B: A and B agree to the 3 decimals the table shows.
near() { [ "$(jq -n --argjson a "$1" --argjson b "$2" '($a - $b) | fabs <= 0.0015')" = true ]; }

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
	grep -qE "^\| $srv \| [0-9]+ \| [0-9]+ \| [0-9.]+x \| n/a \| [0-9]+ \| n/a \| [0-9]+ \| -?[0-9]+ \| ([0-9.]+x|n/a) \|$" \
		"$T_DIR/results/ci.md" || t_fail "no floor row for $srv in ci.md"
done
# The slab by cache (root reads /proc/slabinfo): two TCP sockets a pair in every column, as many through
# c1m as in the floor's idle pairs (TCP objects are one size), and each column's caches sum to its total.
if [ "$(id -u)" -eq 0 ]; then
	jq -e '[.runs[].kernel_slab_by_cache, .floor.message_slab_by_cache] | map(select(. != null)) as $c
		| ($c | length) == 3
		and ($c | all(.caches.TCP > 1000 and ((.caches | add) - .total | fabs) <= 0.02 * (.total | fabs) + 40))
		and ($c[0].caches.TCP / $c[2].caches.TCP | . > 0.97 and . < 1.03)' "$json" >/dev/null ||
		t_fail "slab by cache: $(jq -c '[.runs[].kernel_slab_by_cache, .floor.message_slab_by_cache] | map(if . == null then null else {total, TCP: .caches.TCP} end)' "$json")"
	grep -qE '^\| all caches \| -?[0-9]+ \| -?[0-9]+ \| -?[0-9]+ \|$' "$T_DIR/results/ci.md" ||
		t_fail "no 'all caches' row in ci.md"
	t_log "slab by cache, TCP B/pair: $(jq -c '[.runs[].kernel_slab_by_cache.caches.TCP, .floor.message_slab_by_cache.caches.TCP]' "$json")"
fi
t_log "floor: $(jq -r '"connect \(.floor.connect.conn_per_s | floor) conn/s, message \(.floor.message.round_trips_per_s | floor) round trips/s, idle kernel \(.floor.message.idle_slab_bytes_per_pair) B/pair"' "$json")"
# Targets without --msg-rate: the message rows say what they need; the ramp, user memory and kernel rows are
# c1m-server's figures over the floor's, as the run measured them.
check_targets "$json" "$T_DIR/results/ci.md"
for i in 0 1 2; do
	[ "$(jq -r --argjson i "$i" '.targets[$i].status' "$json")" = "not measured (needs --msg-rate)" ] ||
		t_fail "target row $i without --msg-rate: $(jq -c --argjson i "$i" '.targets[$i]' "$json")"
done
ramp=$(target_num "$json" 3)
user=$(target_num "$json" 4)
kmem=$(target_num "$json" 5)
near "$ramp" "$(jq '(.runs[] | select(.server == "c1m-server") | .mean_conn_per_s) / .floor.connect.conn_per_s' "$json")" ||
	t_fail "ramp target $ramp is not c1m-server's conn/s over the connect floor"
[ "$user" = "$(jq '.runs[] | select(.server == "c1m-server") | .server_user_bytes_per_conn | floor' "$json")" ] ||
	t_fail "user memory target $user is not c1m-server's settled B/conn"
near "$kmem" "$(jq '(.runs[] | select(.server == "c1m-server") | .kernel_slab_bytes_per_conn) / .floor.message.idle_slab_bytes_per_pair' "$json")" ||
	t_fail "kernel memory target $kmem is not c1m-server's kernel B/conn over the idle floor"
t_log "targets: ramp $ramp of the connect floor, $user B/conn user, kernel $kmem of the idle floor"

tcp_before=$(sysctl -n net.ipv4.tcp_mem net.ipv4.tcp_rmem | tr -s ' \t' ' ')
"$C1M_SOURCE/bench/c1m-bench" -n 4000 --hold 0 --msg-rate 1000,2000 --duration 2 --name ci-sweep --floor --floor-duration 1 \
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
# Targets with a sweep and --floor: every row has its figure. The kernel row at 4,000 pairs may instead say
# that the machine's slab did not grow while the floor's pairs were made (other work on the host); the
# 20,000 run above checks it strictly.
check_targets "$json" "$T_DIR/results/ci-sweep.md"
msg=$(target_num "$json" 0)
near "$msg" "$(jq '2000 / .floor.message.round_trips_per_s' "$json")" ||
	t_fail "msg/s target $msg is not 2000 msg/s over the message floor"
cpu=$(target_num "$json" 1)
# both met both rates: the CPU row compares them at 2,000 msg/s, the highest rate both ran, from each
# phase's own CPU (phases_cpu: one entry per rate, the last one also the last-phase figure)
for srv in c1m-server c1m-epoll; do
	[ "$(jq --arg s "$srv" '[.runs[] | select(.server == $s) | .phases_cpu[] | select(.server_cpu_us_per_msg > 0
		and .client_cpu_us_per_msg > 0) | .msg_rate] | join(",")' "$json")" = '"1000,2000"' ] ||
		t_fail "$srv: phases_cpu is not one measured entry per rate: $(jq -c --arg s "$srv" '.runs[] | select(.server == $s) | .phases_cpu' "$json")"
	[ "$(grep -cE "^\| $srv \| 4000 \| (1000|2000) \| [0-9]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$" "$T_DIR/results/ci-sweep.md")" = 2 ] ||
		t_fail "$srv: no per-phase CPU rows in ci-sweep.md"
done
near "$cpu" "$(jq '([.runs[] | select(.server == "c1m-server")][0].phases_cpu[1].server_cpu_us_per_msg)
	/ ([.runs[] | select(.server == "c1m-epoll")][0].phases_cpu[1].server_cpu_us_per_msg)' "$json")" ||
	t_fail "CPU target $cpu is not c1m-server's µs/msg over c1m-epoll's at 2000 msg/s"
jq -e '.targets[1].inputs | test("at 2000 msg/s over 4000 connections")' "$json" >/dev/null ||
	t_fail "CPU target row does not name the rate it compares: $(jq -c '.targets[1]' "$json")"
client=$(target_num "$json" 2)
for i in 3 4; do target_num "$json" "$i" >/dev/null; done
[ "$(jq -r '.targets[5].today | type' "$json")" = number ] ||
	jq -e '.targets[5].status | startswith("not measured (the idle floor read ")' "$json" >/dev/null ||
	t_fail "kernel target row: $(jq -c '.targets[5]' "$json")"
t_log "sweep targets: msg/s $msg of the message floor, server CPU $cpu of c1m-epoll's, client CPU $client of the server's"
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
