#!/usr/bin/env bash
# The benchmark script at CI size: both servers reach N with zero failures, and the JSON, table and plot exist.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

n=${1:-20000}
"$C1M_SOURCE/bench/c1m-bench" -n "$n" --hold 1 --name ci --build "$C1M_BUILD" --results "$T_DIR/results" \
	>"$T_DIR/bench.log" 2>&1 || t_fail "c1m-bench exited non-zero"
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
	t_log "$srv: $est held, $per_conn B/conn user memory"
done
echo "1 passed, 0 failed"
