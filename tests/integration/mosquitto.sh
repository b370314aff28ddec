#!/usr/bin/env bash
# --proto mqtt against a real mosquitto (Debian's), started here on a free loopback port with its config in
# the test's directory: N connections, a latency phase of QoS 0 PUBLISHes that the broker routes back to
# each connection's own topic, and a hold with a 2 s keepalive (the broker closes a connection silent for
# 3 s) end in a PASS, with every connection's PINGREQ answered by PINGRESP in the broker's log; then the
# same broker with max_connections 1000 closes the rest right after accept, which the report counts as
# handshake_closed and explains with Mosquitto's max_connections as a possibility. The test skips (exit 77)
# without mosquitto.
# usage: mosquitto.sh N
set -euo pipefail
source "$(dirname "$0")/lib.sh"

n=${1:?usage: mosquitto.sh N}
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$mosquitto" ] || { echo "mosquitto is not installed: skipped"; exit 77; }
# mosquitto needs an fd per client; the hard limit here is 20,000.
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((n + 64)) ] || t_fail "the open-file hard limit $(ulimit -Hn) is below $((n + 64))"

port=$(t_port_base 1)
start_mosquitto() {  # start_mosquitto MAX_CONNECTIONS
	# user: run as whoever runs the test (as root mosquitto would switch to the user mosquitto, who cannot
	# write the log here); log_type all: the log names each PINGREQ and PINGRESP
	cat >"$T_DIR/mosquitto.conf" <<CONF
user $(id -un)
listener $port 127.0.0.1
max_connections $1
allow_anonymous true
persistence false
log_dest file $T_DIR/broker.log
log_type all
CONF
	: >"$T_DIR/broker.log"
	t_start mosquitto "$mosquitto" -c "$T_DIR/mosquitto.conf"
	MOSQUITTO_PID=$T_PID
	t_wait_listen "$port"
}

start_mosquitto $((n + 100))
status=0
# mosquitto listens with a backlog of 100: --concurrency 100 keeps the ramp within it (beyond it the kernel
# drops handshakes and TCP retries them a second or more later). The test is about the protocol, not this shared
# machine's latency: a loose --slo and --timeout (p99 was 23-138 ms here, and 989 ms once at load average 24)
"$C1M_CLIENT" 127.0.0.1 --port "$port" --ports 1 --proto mqtt --keepalive 2 -n "$n" --concurrency 100 \
	--msg-rate 5000 --duration 3 --slo 1000 --timeout 5000 --hold 5 --json "$T_DIR/ok.json" --progress-interval 0 >"$T_DIR/client-ok.log" 2>&1 ||
	status=$?
[ "$status" -eq 0 ] || t_fail "client exited $status against mosquitto, want 0 (PASS)"
[ "$(t_json "$T_DIR/ok.json" .pass)" = true ] || t_fail "no PASS verdict"
[ "$(t_json "$T_DIR/ok.json" .established)" = "$n" ] || t_fail "established != $n"
[ "$(t_json "$T_DIR/ok.json" .failed)" = 0 ] || t_fail "failures against mosquitto"
grep -qE "messages +sent 15000, answered 15000, lost 0" "$T_DIR/client-ok.log" ||
	t_fail "the phase did not get all 15000 PUBLISHes back"
grep -q '^  protocol      mqtt' "$T_DIR/client-ok.log" || t_fail "the report does not name the protocol"
t_stop "$MOSQUITTO_PID"
# every connection subscribed, got its PUBLISHes back, and kept alive: each sent PINGREQ and was answered
subs=$(grep -c "^[0-9]*: c1m-[0-9]* 0 c1m/[0-9]*$" "$T_DIR/broker.log" || true)
[ "$subs" -eq "$n" ] || t_fail "the broker logged $subs subscriptions to c1m/ID, want $n"
pinged=$(grep -o "Sending PINGRESP to c1m-[0-9]*" "$T_DIR/broker.log" | sort -u | wc -l)
pings=$(grep -c "Sending PINGRESP to c1m-" "$T_DIR/broker.log" || true)
[ "$pinged" -eq "$n" ] || t_fail "the broker answered PINGREQ of $pinged connections, want $n"
! grep -q "has exceeded timeout" "$T_DIR/broker.log" || t_fail "the broker timed out a connection"
t_log "$(grep -E 'connections +[0-9]+ held|achieved|RTT +p50|memory' "$T_DIR/client-ok.log" | tr -s ' ')"
t_log "keepalive 2 s: $pings PINGREQs answered with PINGRESP over $pinged connections"

# The broker's own limit: max_connections 1000. mosquitto accepts, then closes the socket at once.
start_mosquitto 1000
want=3000
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$port" --ports 1 --proto mqtt -n "$want" --concurrency 100 --hold 1 \
	--json "$T_DIR/limit.json" --progress-interval 0 >"$T_DIR/client-limit.log" 2>&1 || status=$?
t_stop "$MOSQUITTO_PID"
[ "$status" -eq 1 ] || t_fail "client exited $status against max_connections 1000, want 1"
[ "$(t_json "$T_DIR/limit.json" .established)" -le "$want" ] || t_fail "established > $want"
closed=$(t_json "$T_DIR/limit.json" '.failures.handshake_closed // 0')
[ "$closed" -ge $((want - 1000)) ] || t_fail "handshake_closed = $closed, want at least $((want - 1000))"
denied=$(grep -c "denied: max_connections exceeded" "$T_DIR/broker.log" || true)
[ "$denied" -ge $((want - 1000)) ] || t_fail "the broker logged $denied denials, want at least $((want - 1000))"
grep -q 'handshake_closed' "$T_DIR/client-limit.log" || t_fail "the closes are not counted by kind"
grep -q 'possibly its own connection limit' "$T_DIR/client-limit.log" ||
	t_fail "the report does not name the server's limit as a possibility"
grep -q 'Mosquitto max_connections' "$T_DIR/client-limit.log" || t_fail "the report does not name Mosquitto's limit"
# the log line the report tells the user to look for is the one this broker wrote
grep -q 'mosquitto: "denied: max_connections exceeded"' "$T_DIR/client-limit.log" ||
	t_fail "the report does not quote mosquitto's log line"
grep -q 'FAIL' "$T_DIR/client-limit.log" || t_fail "no FAIL verdict"
t_no_sanitizer_reports
t_log "max_connections 1000: $closed of $want closed before a byte of CONNACK, the broker logged $denied denials"
t_log "$(grep -E 'connections +[0-9]+ held|^  failed' "$T_DIR/client-limit.log" | tr -s ' ')"
echo "1 passed, 0 failed"
