#!/usr/bin/env bash
# IPv6 and host names, end to end over loopback.
#   ipv6.sh server [N]:  c1m-server --bind ::1; c1m-client ::1 --sources ::1, N connections and a short
#                        latency phase, PASS; the JSON carries ::1 as text.
#   ipv6.sh dual [N]:    c1m-epoll --bind :: serves both families: clients to 127.0.0.1 and to ::1 both
#                        PASS; HOST localhost is resolved once and the address printed; a name that does
#                        not resolve and -6 with an IPv4 HOST are refused with exit status 2.
#   ipv6.sh sources [N]: in a network namespace made for the test, with 2001:2::1-2001:2::4 (the IPv6
#                        benchmarking range, RFC 5180) on its lo: --sources 2001:2::1-2001:2::4 spreads
#                        the connections over the four sources (seen with ss), and the JSON says so;
#                        with net.ipv6.bindv6only=1 there, --bind :: still serves an IPv4 client.
#   ipv6.sh ports [N]:   in such a namespace with ip_local_port_range 40000-40499, N > 500 connections from
#                        ::1 to one port of ::1: the doctor predicts the 4-tuple limit, the client fails
#                        with EADDRNOTAVAIL explained with IPv6 sources, --explain names the [::1] pair,
#                        and the doctor's count of IPv6 sources makes the same run pass.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mode=${1:?server, dual, sources or ports}
n=${2:-3000}

ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128' ||
	{ echo "SKIP: ::1 is not configured on lo (IPv6 disabled here)"; exit 77; }

# run_client NAME EXPECTED_STATUS ARGS...: the client with its log and JSON in $T_DIR.
run_client() {
	local name=$1 want=$2 status=0
	shift 2
	"$@" --json "$T_DIR/$name.json" >"$T_DIR/$name.log" 2>&1 || status=$?
	[ "$status" -eq "$want" ] || t_fail "$name: client exited $status, want $want (see $name.log)"
}

# check_pass NAME HOST: all n established and echoed, to HOST as the JSON writes it.
check_pass() {
	local f=$T_DIR/$1.json
	[ "$(t_json "$f" .host)" = "$2" ] || t_fail "$1: JSON host is '$(t_json "$f" .host)', want '$2'"
	[ "$(t_json "$f" .established)" = "$n" ] || t_fail "$1: established $(t_json "$f" .established), want $n"
	[ "$(t_json "$f" .failed)" = 0 ] || t_fail "$1: failed $(t_json "$f" .failed), want 0"
	t_log "$1: $n connections to $2 established and echoed, rtt p99 $(t_json "$f" .rtt_ms.p99) ms"
}

case $mode in
server)
	base=$(t_port_base 10)
	t_start server "$C1M_SERVER" --bind ::1 --port "$base" --ports 10 --stats-interval 1
	server_pid=$T_PID
	t_wait_ports "$base" 10
	run_client v6 0 "$C1M_CLIENT" ::1 --port "$base" --ports 10 -n "$n" --sources ::1 \
		--msg-rate 5000 --duration 1 -q
	check_pass v6 ::1
	[ "$(t_json "$T_DIR/v6.json" .sources.first)" = ::1 ] || t_fail "JSON sources.first is not ::1"
	[ "$(t_json "$T_DIR/v6.json" .latency.pass)" = true ] || t_fail "the latency phase over ::1 did not pass"
	[ "$(t_json "$T_DIR/v6.json" .pass)" = true ] || t_fail "the verdict over ::1 is not PASS"
	grep -Eq '^VERDICT: .*PASS' "$T_DIR/v6.log" || t_fail "no PASS verdict in the report"
	t_log "latency phase over ::1: PASS, $(t_json "$T_DIR/v6.json" .verdict)"
	# an IPv4 client cannot reach a server bound to ::1 only: refused, not silently served
	run_client v4 1 "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 10 -n 10 --hold 0.2 -q
	[ "$(t_json "$T_DIR/v4.json" .failures.ECONNREFUSED)" = 10 ] || t_fail "127.0.0.1 to a ::1 server was not refused"
	t_log "127.0.0.1 to the ::1-only server: refused, as it should be"
	t_stop "$server_pid" 15
	[ "$T_STATUS" -eq 0 ] || t_fail "c1m-server exited $T_STATUS after SIGTERM"
	;;
dual)
	base=$(t_port_base 10)
	t_start epoll "$C1M_EPOLL" --bind :: --port "$base" --ports 10 --stats-interval 1
	server_pid=$T_PID
	t_wait_ports "$base" 10
	run_client v4 0 "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 10 -n "$n" --msg-rate 5000 --duration 1 -q
	check_pass v4 127.0.0.1
	run_client v6 0 "$C1M_CLIENT" ::1 --port "$base" --ports 10 -n "$n" --msg-rate 5000 --duration 1 -q
	check_pass v6 ::1
	run_client name 0 "$C1M_CLIENT" localhost --port "$base" --ports 10 -n 100 --hold 0.2 -q
	addr=$(sed -n 's/^c1m-client: target localhost resolved to \(.*\)$/\1/p' "$T_DIR/name.log")
	[ -n "$addr" ] || t_fail "the client did not print what localhost resolved to"
	[ "$(t_json "$T_DIR/name.json" .host)" = "$addr" ] || t_fail "JSON host is not the printed address $addr"
	[ "$(t_json "$T_DIR/name.json" .host_name)" = localhost ] || t_fail "JSON host_name is not localhost"
	grep -q "connections to $addr (localhost) ports" "$T_DIR/name.log" || t_fail "the report does not name localhost"
	t_log "localhost resolved to $addr (printed), 100 connections there"
	run_client name4 0 "$C1M_CLIENT" -4 localhost --port "$base" --ports 10 -n 10 --hold 0.2 -q
	grep -q 'resolved to 127\.' "$T_DIR/name4.log" || t_fail "-4 localhost did not resolve to 127.x"
	status=0
	"$C1M_CLIENT" nosuch-host.invalid -n 10 >"$T_DIR/bad.log" 2>&1 || status=$?
	[ "$status" -eq 2 ] || t_fail "an unresolvable name exited $status, want 2"
	grep -q "cannot resolve 'nosuch-host.invalid'" "$T_DIR/bad.log" || t_fail "no clear message for a bad name"
	t_log "nosuch-host.invalid: exit 2, $(cat "$T_DIR/bad.log")"
	status=0
	"$C1M_CLIENT" -6 127.0.0.1 -n 10 >"$T_DIR/mix.log" 2>&1 || status=$?
	{ [ "$status" -eq 2 ] && grep -q 'IPv4' "$T_DIR/mix.log"; } || t_fail "-6 with an IPv4 HOST was not refused"
	t_stop "$server_pid" 15
	[ "$T_STATUS" -eq 0 ] || t_fail "c1m-epoll exited $T_STATUS after SIGTERM"
	;;
sources)
	ns=c1m-ipv6-$$
	ip netns add "$ns" || t_fail "cannot create network namespace $ns (root needed)"
	trap 'c1m_stop_all 1; ip netns del "$ns" 2>/dev/null || true; rm -rf "$T_DIR"' EXIT
	ip -n "$ns" link set lo up
	for i in 1 2 3 4; do ip -n "$ns" addr add "2001:2::$i/128" dev lo nodad; done
	# the namespace's own default for new IPv6 sockets: IPv6 only. --bind :: must still serve IPv4,
	# since net_listen turns IPV6_V6ONLY off itself (the key is per namespace; the host's is untouched)
	ip netns exec "$ns" sysctl -q -w net.ipv6.bindv6only=1
	base=$(t_port_base 10)
	t_start server ip netns exec "$ns" "$C1M_SERVER" --bind :: --port "$base" --ports 10 --stats-interval 1
	server_pid=$T_PID
	c1m_wait_match "$T_DIR/server.log" 'conns ' 10 "$server_pid" || t_fail "server did not start: $C1M_ERR"
	t_start client ip netns exec "$ns" "$C1M_CLIENT" 2001:2::1 --port "$base" --ports 10 -n "$n" \
		--sources 2001:2::1-2001:2::4 --hold 3 -q --json "$T_DIR/src.json"
	client_pid=$T_PID
	sleep 2   # -n connections open in well under a second; the hold is 3 s
	srcs=$(ip netns exec "$ns" ss -Htn state established "dport >= :$base and dport < :$((base + 10))" |
		awk '{ a = $3; sub(/:[0-9]+$/, "", a); print a }' | sort | uniq -c)
	t_log "sources in use: $(echo "$srcs" | tr -s ' \n' ' ')"
	[ "$(echo "$srcs" | grep -c '2001:2::')" -eq 4 ] || t_fail "want 4 distinct 2001:2:: sources, got: $srcs"
	wait "$client_pid" || t_fail "client exited $? (see client.log)"
	check_pass src 2001:2::1
	run_client v4 0 ip netns exec "$ns" "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 10 -n 100 --hold 0.2 -q
	t_log "net.ipv6.bindv6only=1 in the namespace, and --bind :: still served 127.0.0.1"
	[ "$(t_json "$T_DIR/src.json" .sources.count)" = 4 ] || t_fail "JSON sources.count is not 4"
	[ "$(t_json "$T_DIR/src.json" .sources.last)" = 2001:2::4 ] || t_fail "JSON sources.last is not 2001:2::4"
	t_stop "$server_pid" 15
	;;
ports)
	# the 4-tuple arithmetic over IPv6: net.ipv4.ip_local_port_range governs IPv6 connects too
	ns=c1m-ipv6p-$$
	ip netns add "$ns" || t_fail "cannot create network namespace $ns (root needed)"
	trap 'c1m_stop_all 1; ip netns del "$ns" 2>/dev/null || true; rm -rf "$T_DIR"' EXIT
	ip -n "$ns" link set lo up
	for i in 1 2; do ip -n "$ns" addr add "2001:2::$i/128" dev lo nodad; done
	ip netns exec "$ns" sysctl -q -w net.ipv4.ip_local_port_range="40000 40499"   # 500 ports, this netns only
	base=$(t_port_base 1)
	t_start server ip netns exec "$ns" "$C1M_SERVER" --bind :: --port "$base" --ports 1 --stats-interval 1
	server_pid=$T_PID
	c1m_wait_match "$T_DIR/server.log" 'listening on' 10 "$server_pid" || t_fail "server did not start: $C1M_ERR"
	ip netns exec "$ns" "$C1M_DOCTOR" --role client -n "$n" --ports 1 --json >"$T_DIR/doctor.json" || true
	[ "$(jq -r '.checks[] | select(.name == "ports.4tuple") | .verdict' "$T_DIR/doctor.json")" = fail ] ||
		t_fail "the doctor did not predict the 4-tuple limit for -n $n over 500 ports"
	need=$(jq -r .sources_needed "$T_DIR/doctor.json")
	t_log "doctor: ports.4tuple FAIL for -n $n over 500 local ports, sources needed $need"
	run_client fail 1 ip netns exec "$ns" "$C1M_CLIENT" ::1 --port "$base" --ports 1 -n "$n" --hold 0.2 -q
	[ "$(t_json "$T_DIR/fail.json" '.failures.EADDRNOTAVAIL // 0')" -gt 0 ] || t_fail "no EADDRNOTAVAIL to ::1"
	t_json "$T_DIR/fail.json" .explanations.EADDRNOTAVAIL | grep -q '2001:2::1-2001:2::8' ||
		t_fail "the EADDRNOTAVAIL explanation does not name IPv6 sources"
	t_log "::1 -> ::1, 1 port: $(t_json "$T_DIR/fail.json" .established) established, $(t_json "$T_DIR/fail.json" .failures.EADDRNOTAVAIL) EADDRNOTAVAIL, explained with IPv6 sources"
	ip netns exec "$ns" "$C1M_DOCTOR" --explain >"$T_DIR/explain.log" 2>&1 || true
	grep -Eq "::1 -> \[::1\]:$base has [0-9]+ sockets" "$T_DIR/explain.log" ||
		t_fail "c1m-doctor --explain does not name the exhausted IPv6 pair"
	t_log "doctor --explain: $(grep -oE "::1 -> \[::1\]:$base has [0-9]+ sockets" "$T_DIR/explain.log" | head -1)"
	# as many IPv6 sources as the doctor said: each (source, ::1, port) has its own 500 ports
	run_client fixed 0 ip netns exec "$ns" "$C1M_CLIENT" ::1 --port "$base" --ports 1 -n "$n" --hold 0.2 -q \
		--sources "2001:2::1-2001:2::$need"
	check_pass fixed ::1
	t_stop "$server_pid" 15
	;;
*)
	t_fail "unknown mode '$mode' (server, dual, sources or ports)"
	;;
esac
t_no_sanitizer_reports
echo "1 passed, 0 failed"
