#!/usr/bin/env bash
# lab.balancer: case 3, an L4 balancer in front of two servers. HAProxy (tuning/haproxy/c1m.cfg) runs in
# its own host (198.18.0.10, source addresses 198.18.0.11-20 on the same interface) in front of c1m-server
# on the server host (198.18.0.1) and on a second server host (198.18.0.4); client host 1 opens N
# connections to the balancer. Toward the backends HAProxy is a client, so each (source address, backend,
# backend port) offers the local port range once; the balancer host narrows its own range to 40000-40499
# (500 ports; the key is per network namespace) so that this shows at 1,500 connections instead of 28,000.
#
# Before the cases, the shipped file as it is: its maxconn of 1,000,000 needs about 2,000,000 fds; the
# doctor says whether this host can give them, and HAProxy must start or refuse exactly as it says.
# Then the lab's copy scales maxconn to 4,000 (fd limit here: 20,000) and changes nothing else.
#
# Case A: the shipped file keeping only the server lines of one source address (one source, one port per
# backend: 1 x 2 x 1 x 500 = 1,000 < 1,500). c1m-doctor --role balancer in the balancer host predicts
# ports.4tuple; HAProxy's log says "Connect() failed for backend c1m_servers: no free ports"; the client
# fails and reports only what it can see (connections closed or reset by the peer, echoes that never
# came; never EADDRNOTAVAIL, which is not its own), its explanation naming a balancer in front of the
# server as one possible closer; c1m-doctor --explain in the balancer host names the
# exhausted (source, backend) pairs. Case B: the shipped server lines (ten sources: 10 x 2 x 1 x 500 =
# 10,000) and the same run passes, with both backends' summaries showing their share.
#
# The balancer host gets tuning/'s tcp_tw_reuse = 1 (per namespace): case A leaves the source 198.18.0.11
# ports in TIME_WAIT, which case B may then reuse after a second, as a tuned balancer would.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_init balancer
command -v haproxy >/dev/null || lab_skip "haproxy is not installed (c1m's package list has it)"
lab_up

N=1500
RANGE="40000 40499"
MAXCONN=4000
LB_ADDR=198.18.0.10
SRV2_ADDR=198.18.0.4
SHIPPED=$C1M_SOURCE/tuning/haproxy/c1m.cfg
BACKENDS="$LAB_SRV_ADDR:$LAB_PORT,$SRV2_ADDR:$LAB_PORT"

lab_host srv2 "$SRV2_ADDR"; LAB_SRV2=$LAB_HOST
lab_host lb "$LB_ADDR"; LAB_LB=$LAB_HOST
for i in $(seq 11 20); do ip -n "$LAB_LB" addr add "198.18.0.$i/$LAB_PREFIX" dev eth0; done
lab_in "$LAB_LB" sysctl -q -w net.ipv4.ip_local_port_range="$RANGE"
lab_in "$LAB_LB" sysctl -q -w net.ipv4.tcp_tw_reuse=1
lab_log "balancer host $LB_ADDR ($LAB_LB), sources 198.18.0.11-20, ip_local_port_range $RANGE; second server $SRV2_ADDR"
grep -q "^[[:space:]]*bind $LB_ADDR:" "$SHIPPED" || lab_fail "$SHIPPED no longer binds $LB_ADDR: update this case"

# lb_start NAME CFG: HAProxy in the balancer host, in the foreground (-db) with its log on stdout;
# waits until it listens, sets LB_PID.
lb_start() {
	lab_start "$1" "$LAB_LB" haproxy -db -f "$2"
	LB_PID=$LAB_PID
	c1m_wait_listen "$LAB_PORT" 10 "$LB_PID" "$LAB_LB" || lab_fail "haproxy $1: $C1M_ERR"
}

# servers NAME: c1m-server on both server hosts; sets S1 and S2.
servers() {
	lab_server "$1-srv1" - --ports 1 --workers 1; S1=$LAB_PID
	lab_server_on "$1-srv2" "$LAB_SRV2" "$SRV2_ADDR" - --ports 1 --workers 1; S2=$LAB_PID
}

# stop_all NAME: HAProxy and both servers; sets A1 and A2 to the connections each server's summary
# says it accepted.
stop_all() {
	lab_stop "$LB_PID"; lab_stop "$S1"; lab_stop "$S2"
	A1=$(sed -n 's/^  connections: accepted \([0-9]*\),.*/\1/p' "$LAB_DIR/$1-srv1.log")
	A2=$(sed -n 's/^  connections: accepted \([0-9]*\),.*/\1/p' "$LAB_DIR/$1-srv2.log")
	[ -n "$A1" ] && [ -n "$A2" ] || lab_check_fail "a server printed no summary on SIGTERM (see $1-srv*.log)"
	lab_log "server summaries: $LAB_SRV_ADDR accepted ${A1:-?}, $SRV2_ADDR accepted ${A2:-?}"
}

# --- the shipped file as it is: HAProxy starts exactly when the doctor says its fd limit allows ---
shipped_maxconn=$(awk '$1 == "maxconn" { print $2; exit }' "$SHIPPED")
lab_doctor doctor-shipped "$LAB_LB" - --role balancer -n "$shipped_maxconn" --backends "$BACKENDS" \
	--sources 198.18.0.11-198.18.0.20 --maxconn "$shipped_maxconn"
fd_verdict=$(jq -r '.checks[] | select(.name == "haproxy.fd") | .verdict' "$LAB_DIR/doctor-shipped.json")
lab_start haproxy-shipped "$LAB_LB" haproxy -db -f "$SHIPPED"; pid=$LAB_PID
if [ "$fd_verdict" = fail ]; then
	lab_wait haproxy-shipped "$pid" 10
	lab_check_status "$LAB_STATUS" nonzero "maxconn $shipped_maxconn: HAProxy refuses to start, as the doctor's haproxy.fd said"
	lab_check_match "$LAB_DIR/haproxy-shipped.log" 'Cannot raise FD limit|FD limit \([0-9]+\) too low' \
		"HAProxy names its fd limit"
else
	c1m_wait_listen "$LAB_PORT" 10 "$pid" "$LAB_LB" && lab_ok "maxconn $shipped_maxconn: HAProxy starts, as the doctor said" ||
		lab_check_fail "the doctor's haproxy.fd said ok, but HAProxy did not start: $C1M_ERR"
	lab_stop "$pid"
fi

# The lab's copies: maxconn scaled to this host, and for case A only the lines of source 198.18.0.11.
sed -E "s/^([[:space:]]*maxconn) $shipped_maxconn\$/\1 $MAXCONN/" "$SHIPPED" > "$LAB_DIR/b.cfg"
sed -E '/^[[:space:]]*server .* source 198\.18\.0\.(1[2-9]|20)$/d' "$LAB_DIR/b.cfg" > "$LAB_DIR/a.cfg"
[ "$(grep -c "maxconn $MAXCONN" "$LAB_DIR/b.cfg")" = 2 ] || lab_fail "cannot scale maxconn in a copy of $SHIPPED"
[ "$(grep -Ec '^[[:space:]]*server ' "$LAB_DIR/a.cfg")" = 2 ] ||
	lab_fail "case A wants one server line per backend (source 198.18.0.11) in a copy of $SHIPPED"
LAB_TARGET=$LB_ADDR

# --- case A: one source address, one port per backend ---
lab_doctor doctor-a "$LAB_LB" - --role balancer -n "$N" --backends "$BACKENDS" --sources 198.18.0.11 --maxconn "$MAXCONN"
lab_check_doctor "$LAB_DIR/doctor-a.json" "$LAB_STATUS" ports.4tuple
servers a
lb_start haproxy-a "$LAB_DIR/a.cfg"
lab_client a "$LAB_CL1" "$N" --ports 1
lab_check_status "$LAB_STATUS" 1 "case A: the run through the balancer fails"
lab_check_match "$LAB_DIR/haproxy-a.log" 'Connect\(\) failed for backend c1m_servers: no free ports' \
	"HAProxy's log says it ran out of local ports toward the backends"
failed=$(jq -r '.failed // 0' "$LAB_DIR/a.json")
kinds=$(jq -r '.failures // {} | to_entries | map(select(.value > 0) | "\(.key)=\(.value)") | join(" ")' "$LAB_DIR/a.json")
if [ "$failed" -ge $(( N - 1000 )) ]; then lab_ok "the client counts $failed failed connections ($kinds)"
else lab_check_fail "the client counts $failed failed connections ($kinds), wanted at least $(( N - 1000 ))"; fi
if [ -n "$kinds" ] && ! grep -Eqv '^(peer_closed|ECONNRESET|echo_timeout)=' <(tr ' ' '\n' <<< "$kinds"); then
	lab_ok "the client reports only what it can see: the peer closed, reset or never echoed"
else
	lab_check_fail "the client's failure kinds ($kinds) are not all peer_closed, ECONNRESET or echo_timeout"
fi
lab_check_match "$LAB_DIR/a.log" 'a balancer in front of' \
	"the client's explanation names a balancer in front of the server as one that may have closed"
lab_check_match "$LAB_DIR/a.log" 'VERDICT: FAIL' "the client's verdict"
lab_explain explain-a "$LAB_LB"
lab_check_match "$LAB_DIR/explain-a.log" "198\.18\.0\.11 -> ($LAB_SRV_ADDR|$SRV2_ADDR):$LAB_PORT has [0-9]+ sockets" \
	"c1m-doctor --explain in the balancer host names the exhausted (source, backend) pair"
stop_all a
# Each (source, backend) has the whole range (the kernel picks the port per 4-tuple): about 500 each, not
# 500 between them.
if [ "${A1:-0}" -ge 400 ] && [ "${A1:-0}" -le 500 ] && [ "${A2:-0}" -ge 400 ] && [ "${A2:-0}" -le 500 ]; then
	lab_ok "each backend got at most its (source, backend) pair's 500 ports, and nearly all of them"
else
	lab_check_fail "backends accepted ${A1:-?} and ${A2:-?} from one source: wanted 400-500 each"
fi

# --- case B: the shipped server lines, ten source addresses ---
lab_doctor doctor-b "$LAB_LB" - --role balancer -n "$N" --backends "$BACKENDS" --sources 198.18.0.11-198.18.0.20 \
	--maxconn "$MAXCONN"
if [ "$LAB_STATUS" = 0 ]; then lab_ok "the doctor passes the shipped source range ($(jq -r .ceiling "$LAB_DIR/doctor-b.json") connections)"
else lab_check_fail "the doctor fails the shipped source range (exit $LAB_STATUS, binding $(jq -r .binding "$LAB_DIR/doctor-b.json"))"; fi
sleep 1   # tcp_tw_reuse takes a TIME_WAIT port over once it is a second old
servers b
lb_start haproxy-b "$LAB_DIR/b.cfg"
lab_client b "$LAB_CL1" "$N" --ports 1
lab_check_status "$LAB_STATUS" 0 "case B: the same run through the balancer holds $N"
stop_all b
share=$(( N * 2 / 5 ))
if [ "${A1:-0}" -ge "$share" ] && [ "${A2:-0}" -ge "$share" ] && [ $(( ${A1:-0} + ${A2:-0} )) -ge "$N" ]; then
	lab_ok "both backends took their share: $A1 + $A2 >= $N, each >= $share"
else
	lab_check_fail "backend shares ${A1:-?} and ${A2:-?}: wanted each >= $share and together >= $N"
fi

lab_finish
