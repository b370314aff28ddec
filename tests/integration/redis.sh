#!/usr/bin/env bash
# --proto redis against a real redis-server (Debian's), started here on a free loopback port with its config
# in the test's directory: N connections and a latency phase of PING commands end in a PASS; then the same
# server with maxclients 1000 refuses the rest with its own "ERR max number of clients reached", which the
# report shows and counts as handshake_refused. The test skips (exit 77) without redis-server.
# usage: redis.sh N
set -euo pipefail
source "$(dirname "$0")/lib.sh"

n=${1:?usage: redis.sh N}
command -v redis-server >/dev/null || { echo "redis-server is not installed: skipped"; exit 77; }
# Redis needs an fd per client (plus its 32 reserved); the hard limit here is 20,000.
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((n + 64)) ] || t_fail "the open-file hard limit $(ulimit -Hn) is below $((n + 64))"

port=$(t_port_base 1)
start_redis() {  # start_redis MAXCLIENTS
	cat >"$T_DIR/redis.conf" <<CONF
port $port
bind 127.0.0.1
protected-mode yes
maxclients $1
save ""
appendonly no
dir $T_DIR
logfile $T_DIR/redis-server.log
CONF
	t_start redis redis-server "$T_DIR/redis.conf"
	REDIS_PID=$T_PID
	t_wait_listen "$port"
}

start_redis $((n + 100))
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$port" --ports 1 --proto redis -n "$n" --msg-rate 5000 --duration 3 \
	--command "SET c1m:k v" --json "$T_DIR/ok.json" --progress-interval 0 >"$T_DIR/client-ok.log" 2>&1 ||
	status=$?
[ "$status" -eq 0 ] || t_fail "client exited $status against redis-server, want 0 (PASS)"
[ "$(t_json "$T_DIR/ok.json" .pass)" = true ] || t_fail "no PASS verdict"
[ "$(t_json "$T_DIR/ok.json" .established)" = "$n" ] || t_fail "established != $n"
[ "$(t_json "$T_DIR/ok.json" .failed)" = 0 ] || t_fail "failures against redis-server"
grep -qE "messages +sent 15000, answered 15000, lost 0" "$T_DIR/client-ok.log" ||
	t_fail "the phase did not answer all 15000 SET commands"
grep -q '^  protocol      redis' "$T_DIR/client-ok.log" || t_fail "the report does not name the protocol"
t_log "$(grep -E 'connections +[0-9]+ held|RTT +p50|memory' "$T_DIR/client-ok.log" | tr -s ' ')"

# bench/c1m-bench --target records the client's side against the same server: one row, with its memory.
"$C1M_SOURCE/bench/c1m-bench" --build "$C1M_BUILD" --results "$T_DIR/bench" --name redis --no-tcp-tuning \
	--no-plot --target 127.0.0.1 --port "$port" --ports 1 --proto redis -n 1000 --hold 0 --msg-rate 1000 \
	--duration 1 -- --command "SET c1m:k v" >"$T_DIR/bench.log" 2>&1 || t_fail "c1m-bench --target failed"
row=$(grep -E "^\| 127\.0\.0\.1:$port redis \| 1000 \| 0 \|" "$T_DIR/bench/redis.md") ||
	t_fail "no row for 1000 held, 0 failed in the bench table"
[ "$(jq -r '.runs[0].client_bytes_per_conn > 0 and .runs[0].latency.pass' "$T_DIR/bench/redis.json")" = true ] ||
	t_fail "the bench JSON has no client memory or no PASS"
t_log "c1m-bench --target: $row"
t_stop "$REDIS_PID"

# The server's own limit: maxclients 1000.
start_redis 1000
want=3000
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$port" --ports 1 --proto redis -n "$want" --hello "PING" --hold 1 \
	--json "$T_DIR/limit.json" --progress-interval 0 >"$T_DIR/client-limit.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || t_fail "client exited $status against maxclients 1000, want 1"
refused=$(t_json "$T_DIR/limit.json" '.failures.handshake_refused // 0')
[ "$refused" -ge $((want - 1000)) ] || t_fail "handshake_refused = $refused, want at least $((want - 1000))"
t_json "$T_DIR/limit.json" .proto_note | grep -q 'ERR max number of clients reached' ||
	t_fail "Redis's refusal text is not in the report's note"
grep -q 'ERR max number of clients reached' "$T_DIR/client-limit.log" || t_fail "the text report does not show it"
grep -q 'handshake_refused' "$T_DIR/client-limit.log" || t_fail "the refusals are not explained"
grep -q 'FAIL' "$T_DIR/client-limit.log" || t_fail "no FAIL verdict"
t_stop "$REDIS_PID"
t_no_sanitizer_reports
t_log "maxclients 1000: $refused of $want refused with Redis's own 'ERR max number of clients reached'"
echo "1 passed, 0 failed"
