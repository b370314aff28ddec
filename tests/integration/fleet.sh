#!/usr/bin/env bash
# The fleet driver (fleet/c1m-fleet) against a real c1m-server on loopback, over a real sshd: a private
# one on a free loopback port, with host and client keys made for this test and key-only root login.
#   1. two 'local' shards: 4,000 connections and a latency phase merged into one exact report (PASS);
#   2. the same two shards over ssh, through ControlMaster connections;
#   3. a host whose ssh port answers nothing: named at once with ssh's own error, exit 2, no shard run;
#   4. a shard killed mid-run: reported by host, the merged report keeps the other's data, FAIL, no hang;
#   5. stopped during the hold (SIGTERM here: a script's background job ignores SIGINT, and the driver
#      treats both alike): every shard stops and the merge is still printed;
#   6. a rate sweep over two local shards (2 x 1,000 connections, 500 then 1,000 msg/s, 1 s each): the
#      driver relays each step, every rate starts on both shards within 50 ms, and the merged report has
#      both steps with their sums;
#   7. --find-max over two local shards (steps of 1,000 to 2,000 connections): the same relay, each step
#      the shards' shares of the fleet's.
# Nothing is left running: no c1m-client of this test's ports, no sshd.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || t_fail "jq is not installed"
sshd=/usr/sbin/sshd
[ -x "$sshd" ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null ||
	{ echo "SKIP: openssh-server and openssh-client are needed (see ./packages)"; exit 77; }
fleet="$C1M_SOURCE/fleet/c1m-fleet"
export C1M_CLIENT C1M_DOCTOR   # the driver merges with $C1M_CLIENT

base=$(t_port_base 10)
t_start server "$C1M_SERVER" --bind 127.0.0.1 --port "$base" --ports 10 --workers 2 --stats-interval 10
server_pid=$T_PID
t_wait_ports "$base" 10

# ---- a private sshd on loopback ----
ssh_port=$(t_port_base 1)
ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/client_key"
cp "$T_DIR/client_key.pub" "$T_DIR/authorized_keys"
printf '[127.0.0.1]:%s %s\n' "$ssh_port" "$(cut -d' ' -f1,2 "$T_DIR/host_key.pub")" >"$T_DIR/known_hosts"
cat >"$T_DIR/sshd_config" <<EOF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $T_DIR/host_key
PidFile $T_DIR/sshd.pid
AuthorizedKeysFile $T_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 50
MaxStartups 50
EOF
mkdir -p /run/sshd   # sshd's privilege separation directory (made at boot where the package is installed)
t_start sshd "$sshd" -D -e -f "$T_DIR/sshd_config"
t_wait_listen "$ssh_port"
ssh_args=(--ssh-option "IdentityFile=$T_DIR/client_key" --ssh-option "UserKnownHostsFile=$T_DIR/known_hosts"
	--ssh-option StrictHostKeyChecking=yes)
over_ssh="root@127.0.0.1 port=$ssh_port client=$C1M_CLIENT doctor=$C1M_DOCTOR"

# fleet NAME HOSTS... -- CLIENT-OPTIONS...: runs the driver (its exit status in F_STATUS, output in NAME.*)
fleet() {
	local name=$1 h
	shift
	: >"$T_DIR/$name.hosts"
	while [ "$1" != -- ]; do printf '%s\n' "$1" >>"$T_DIR/$name.hosts"; shift; done
	shift
	F_STATUS=0
	PATH="$(dirname "$C1M_CLIENT"):$(dirname "$C1M_DOCTOR"):$PATH" timeout 120 "$fleet" --hosts "$T_DIR/$name.hosts" \
		"${ssh_args[@]}" --json "$T_DIR/$name.json" 127.0.0.1 --port "$base" --ports 10 "$@" \
		>"$T_DIR/$name.out" 2>"$T_DIR/$name.log" || F_STATUS=$?
}

# check_merged NAME N MESSAGES: the merged report of a passing run of N connections and MESSAGES messages.
check_merged() {
	local j="$T_DIR/$1.json"
	[ "$F_STATUS" -eq 0 ] || t_fail "$1: c1m-fleet exited $F_STATUS"
	[ "$(t_json "$j" .target)" = "$2" ] && [ "$(t_json "$j" .echoed)" = "$2" ] ||
		t_fail "$1: merged target/echoed $(t_json "$j" .target)/$(t_json "$j" .echoed), not $2"
	[ "$(t_json "$j" .latency.sent)" = "$3" ] && [ "$(t_json "$j" .latency.answered)" = "$3" ] ||
		t_fail "$1: merged sent/answered $(t_json "$j" .latency.sent)/$(t_json "$j" .latency.answered), not $3"
	[ "$(t_json "$j" .latency.rtt_ms.count)" = "$3" ] || t_fail "$1: merged RTT samples are not one per answer"
	[ "$(t_json "$j" .shard.m)" = 2 ] && [ "$(t_json "$j" .pass)" = true ] || t_fail "$1: not a passing merge of 2 shards"
	grep -q 'plan for' "$T_DIR/$1.log" && grep -q '^c1m-fleet: open ' "$T_DIR/$1.log" ||
		t_fail "$1: no plan or no fleet progress line"
	grep -q '^VERDICT: .*PASS' "$T_DIR/$1.out" || t_fail "$1: no PASS verdict in the merged report"
}

# no_shards_left: no c1m-client of this test's server is still running.
no_shards_left() {
	local i
	for i in $(seq 50); do
		pgrep -f -- "c1m-client 127.0.0.1 --port $base " >/dev/null || return 0
		sleep 0.1
	done
	t_fail "$1: a c1m-client is still running after the driver ended"
}

t_log "1. two local shards"
fleet local local local -- -n 4000 --msg-rate 2000 --duration 3
check_merged local 4000 6000
no_shards_left local
t_log "merged: $(t_json "$T_DIR/local.json" .verdict)"

t_log "2. two shards over ssh (127.0.0.1:$ssh_port)"
fleet ssh "$over_ssh" "$over_ssh" -- -n 4000 --msg-rate 2000 --duration 3
check_merged ssh 4000 6000
no_shards_left ssh

t_log "3. a host that cannot be reached"
dead_port=$(t_port_base 1)
t0=$(date +%s)
fleet dead "$over_ssh" "root@127.0.0.1 port=$dead_port client=$C1M_CLIENT doctor=$C1M_DOCTOR" -- -n 4000 --hold 1
[ "$F_STATUS" -eq 2 ] || t_fail "dead host: c1m-fleet exited $F_STATUS, not 2"
[ $(( $(date +%s) - t0 )) -le 15 ] || t_fail "dead host: took more than 15 s to say so"
grep -q "host root@127.0.0.1 cannot be reached.*Connection refused" "$T_DIR/dead.log" ||
	t_fail "dead host: not named with ssh's error: $(cat "$T_DIR/dead.log")"
[ ! -s "$T_DIR/dead.json" ] || t_fail "dead host: a report was written although no shard ran"

t_log "4. a shard killed mid-run"
printf '#!/bin/sh\nexec timeout -s KILL 2 "%s" "$@"\n' "$C1M_CLIENT" >"$T_DIR/dying-client"
chmod +x "$T_DIR/dying-client"
t0=$(date +%s)
fleet dying local "local client=$T_DIR/dying-client" -- -n 4000 --hold 6
[ "$F_STATUS" -eq 1 ] || t_fail "dying shard: c1m-fleet exited $F_STATUS, not 1 (the merged verdict FAIL)"
[ $(( $(date +%s) - t0 )) -le 30 ] || t_fail "dying shard: the driver took more than 30 s"
grep -q "host local: shard 2/2 ended with status 137" "$T_DIR/dying.log" || t_fail "dying shard: not reported by host"
grep -q "shard 2/2: no report" "$T_DIR/dying.out" || t_fail "dying shard: the merged report does not name it"
[ "$(t_json "$T_DIR/dying.json" .echoed)" = 2000 ] || t_fail "dying shard: the live shard's 2,000 are not kept"
no_shards_left dying

t_log "5. stopped during the hold"
PATH="$(dirname "$C1M_CLIENT"):$(dirname "$C1M_DOCTOR"):$PATH" "$fleet" --hosts "$T_DIR/local.hosts" \
	--json "$T_DIR/int.json" 127.0.0.1 --port "$base" --ports 10 -n 4000 --hold 60 \
	>"$T_DIR/int.out" 2>"$T_DIR/int.log" &
fleet_pid=$!
c1m_wait_match "$T_DIR/int.log" 'open 4000/4000' 20 "$fleet_pid" || t_fail "stop: the shards never held 4000: $C1M_ERR"
t0=$(date +%s)
kill -TERM "$fleet_pid"
status=0
wait "$fleet_pid" || status=$?
[ $(( $(date +%s) - t0 )) -le 15 ] || t_fail "stop: the driver took more than 15 s to stop"
[ "$status" -eq 1 ] || t_fail "stop: c1m-fleet exited $status, not 1"
grep -q 'interrupted: stopping every shard' "$T_DIR/int.log" || t_fail "stop: no word of the interruption"
[ "$(t_json "$T_DIR/int.json" .echoed)" = 4000 ] || t_fail "stop: the merged report lost connections"
no_shards_left stop

# check_steps NAME KIND STEPS: the merged report of a passing sweep or find-max (KIND: rate_sweep or
# find_max) of STEPS steps over 2 shards; in every step sent = answered + lost, one RTT sample per answer
# in the merged histogram, and both shards started it within 50 ms of each other.
check_steps() {
	local j="$T_DIR/$1.json" i k l starts lag apart
	[ "$F_STATUS" -eq 0 ] || t_fail "$1: c1m-fleet exited $F_STATUS: $(grep VERDICT "$T_DIR/$1.out")"
	[ "$(t_json "$j" ".$2.steps | length")" = "$3" ] || t_fail "$1: $(t_json "$j" ".$2.steps | length") steps, not $3"
	[ "$(t_json "$j" ".$2.stop_reason")" = reached_target ] && [ "$(t_json "$j" .pass)" = true ] ||
		t_fail "$1: not a passing merge: $(t_json "$j" .verdict)"
	[ "$(t_json "$j" .state.meta.shard_m)" = 2 ] || t_fail "$1: not a merge of 2 shards"
	for ((i = 0; i < $3; i++)); do
		[ "$(t_json "$j" ".$2.steps[$i] | .sent == .answered + .lost and .lost == 0 and .pass")" = true ] ||
			t_fail "$1: step $((i + 1)) does not add up: $(t_json "$j" ".$2.steps[$i]")"
		[ "$(t_json "$j" ".state.steps[$i].lat.rtt_us.total == .$2.steps[$i].answered")" = true ] ||
			t_fail "$1: step $((i + 1)): the merged histogram is not one sample per answer"
		# each shard's t0 (from the fleet's go line, on the wall clock) and how late its first messages went
		# out after it: the rate began on both within |t0 difference| + the larger send lag
		starts=() lag=0
		for k in 0 1; do
			starts+=("$(t_json "$T_DIR/$1-keep/shard-$k.json" ".state.steps[$i].lat.counts.start_ns")")
			l=$(t_json "$T_DIR/$1-keep/shard-$k.json" ".state.steps[$i].lat.counts.send_lag_max_us")
			[ "$l" -gt "$lag" ] && lag=$l
		done
		apart=$(( (${starts[0]} > ${starts[1]} ? ${starts[0]} - ${starts[1]} : ${starts[1]} - ${starts[0]}) / 1000 ))
		[ $(( apart + lag )) -le 50000 ] ||
			t_fail "$1: step $((i + 1)): t0 $apart us apart and a send lag of $lag us: not within 50 ms"
		t_log "$1: step $((i + 1)): t0 $apart us apart on the two shards, send lag at most $lag us"
	done
	[ "$(grep -c '^c1m-fleet: fleet step .*then: ' "$T_DIR/$1.log")" = "$3" ] || t_fail "$1: the driver did not decide every step"
}

t_log "6. a rate sweep over two local shards"
fleet sweep local local -- -n 2000 --msg-rate 500,1000 --duration 1 --keep "$T_DIR/sweep-keep"
check_steps sweep rate_sweep 2
[ "$(t_json "$T_DIR/sweep.json" '[.rate_sweep.steps[].sent] == [500, 1000]')" = true ] &&
	[ "$(t_json "$T_DIR/sweep.json" '[.rate_sweep.steps[].connections] == [2000, 2000]')" = true ] ||
	t_fail "sweep: the merged steps are not 500 and 1000 messages over 2000 connections: $(t_json "$T_DIR/sweep.json" .rate_sweep.steps)"
no_shards_left sweep
t_log "sweep: $(t_json "$T_DIR/sweep.json" .verdict)"

t_log "7. --find-max over two local shards"
fleet findmax local local -- -n 2000 --find-max --step 1000 --msg-rate 500 --duration 1 --keep "$T_DIR/findmax-keep"
check_steps findmax find_max 2
[ "$(t_json "$T_DIR/findmax.json" '[.find_max.steps[].connections] == [1000, 2000]')" = true ] &&
	[ "$(t_json "$T_DIR/findmax-keep/shard-1.json" '[.find_max.steps[].connections] == [500, 1000]')" = true ] ||
	t_fail "findmax: the steps are not 1000 then 2000 connections (500 then 1000 a shard)"
no_shards_left findmax
t_log "findmax: $(t_json "$T_DIR/findmax.json" .verdict)"

t_stop "$server_pid"
t_log "fleet: local, ssh, dead host, dying shard, stop, sweep and find-max all behaved"
echo "1 passed, 0 failed"
