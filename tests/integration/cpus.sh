#!/usr/bin/env bash
# --cpus on c1m-server, c1m-epoll and c1m-client: worker i runs on the i-th CPU of the list (round-robin),
# as the kernel reports it (Cpus_allowed_list in /proc/PID/status); the single-process client pins itself;
# a CPU the process may not use is refused at start with exit status 2 and says which CPUs it may use; and
# bench/c1m-bench --server-cpus/--client-cpus runs a server in both layouts, shared and split.
# Needs two CPUs (skipped otherwise).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ "$(nproc)" -ge 2 ] || { echo "one CPU: nothing to pin apart; skipped"; exit 77; }

# allowed PID: the CPU list PID may run on.
allowed() { awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$1/status"; }
# check_workers PID WANT...: PID's children, in the order they were forked, run on WANT... one each.
check_workers() {
	local pid=$1 w got i=0
	shift
	local want=("$@")
	for w in $(c1m_children "$pid" | sort -n); do
		got=$(allowed "$w")
		[ "$got" = "${want[$i]}" ] || t_fail "worker $i (pid $w) runs on CPUs '$got', want '${want[$i]}'"
		i=$((i + 1))
	done
	[ "$i" -eq "${#want[@]}" ] || t_fail "$i workers of pid $pid, want ${#want[@]}"
}

base=$(t_port_base 2)
for kind in server epoll; do
	bin=$(t_server_bin "$kind")
	t_start "$kind" "$bin" --bind 127.0.0.1 --port "$base" --ports 2 --workers 3 --cpus 1,0 --stats-interval 1
	spid=$T_PID
	t_wait_ports "$base" 2
	check_workers "$spid" 1 0 1
	grep -q 'pinned to CPUs 1,0' "$T_DIR/$kind.log" || t_fail "$kind's start-up line does not name the CPUs"
	t_log "$kind: 3 workers on CPUs 1, 0, 1"
	[ "$kind" = epoll ] && break
	t_stop "$spid"
done

# The client, one process and two, against the c1m-epoll still running.
t_start client1 "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 2 -n 100 --workers 1 --cpus 1 --hold 30 -q
c1=$T_PID
sleep 0.5   # run_single pins itself before its first connect
[ "$(allowed "$c1")" = 1 ] || t_fail "the single-process client runs on '$(allowed "$c1")', want 1"
t_stop "$c1"
t_start client2 "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 2 -n 200 --workers 2 --cpus 0-1 --hold 30 -q
c2=$T_PID
for _ in $(seq 1 50); do [ "$(c1m_children "$c2" | wc -l)" -ge 2 ] && break; sleep 0.1; done
check_workers "$c2" 0 1
t_stop "$c2"
t_log "client: 1 process on CPU 1; 2 workers on CPUs 0, 1"
t_stop "$spid"

# A CPU this process may not use: refused before anything starts.
bad=$(( $(nproc) + 7 ))
for bin in "$C1M_SERVER" "$C1M_EPOLL"; do
	status=0
	"$bin" --bind 127.0.0.1 --port "$base" --ports 2 --cpus "0,$bad" >"$T_DIR/bad.log" 2>&1 || status=$?
	[ "$status" -eq 2 ] || t_fail "$bin --cpus 0,$bad exited $status, want 2"
	grep -q "CPU $bad is not available to this process (allowed: " "$T_DIR/bad.log" || t_fail "$bin: unclear error"
done
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 2 -n 1 --cpus "$bad" >"$T_DIR/bad.log" 2>&1 || status=$?
[ "$status" -eq 2 ] || t_fail "c1m-client --cpus $bad exited $status, want 2"
grep -q -- "--cpus: CPU $bad is not available" "$T_DIR/bad.log" || t_fail "c1m-client: unclear error"

# bench/c1m-bench --server-cpus --client-cpus: each server shared and split, one row each, with a short
# latency phase whose scheduler figures come from both sides' /proc/PID/schedstat: each side's processes
# were put on a CPU for the messages (slices), and every figure was read (none is n/a).
"$C1M_SOURCE/bench/c1m-bench" --build "$C1M_BUILD" --results "$T_DIR/bench" --name split --no-tcp-tuning --no-plot \
	-n 500 --hold 1 --msg-rate 500 --duration 1 --servers c1m-epoll --server-cpus 1 --client-cpus 0 \
	>"$T_DIR/bench.log" 2>&1 || t_fail "c1m-bench --server-cpus 1 --client-cpus 0 failed"
grep -q '^| c1m-epoll | 500 | 0 |' "$T_DIR/bench/split.md" || t_fail "no shared row in the bench table"
grep -q '^| c1m-epoll split (server CPUs 1, client CPUs 0) | 500 | 0 |' "$T_DIR/bench/split.md" ||
	t_fail "no split row in the bench table"
jq -e '[.runs[].phases_cpu[]] | length == 2 and all(.server_slices_per_msg > 0 and .client_slices_per_msg > 0
	and .server_rq_wait_us_per_msg >= 0 and .client_rq_wait_us_per_msg >= 0)' "$T_DIR/bench/split.json" >/dev/null ||
	t_fail "scheduler figures of the phases: $(jq -c '[.runs[].phases_cpu[]]' "$T_DIR/bench/split.json")"
jq -e 'all(.runs[]; (.client_cpu_us_per_msg // 0) > 0 and (.server_cpu_us_per_msg | type) == "number")' \
	"$T_DIR/bench/split.json" >/dev/null ||
	t_fail "the last phase's CPU: $(jq -c '[.runs[] | {server_cpu_us_per_msg, client_cpu_us_per_msg}]' "$T_DIR/bench/split.json")"
grep -qE '^\| c1m-epoll split \(server CPUs 1, client CPUs 0\) \| 500 \| 500 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$' \
	"$T_DIR/bench/split.md" || t_fail "no scheduler row for the split run in the bench table"
t_log "c1m-bench: c1m-epoll shared and split (server CPU 1, client CPU 0), 500 connections each"
t_no_sanitizer_reports
echo "1 passed, 0 failed"
