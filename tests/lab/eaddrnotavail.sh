#!/usr/bin/env bash
# lab.eaddrnotavail: failure 2 of the original write-up, "connect: Cannot assign requested address"
# at ~28k connections: one server port, one client address, so every connection differs only in its
# local port, and ip_local_port_range (32768-60999 = 28232 ports) runs out.
#
# Small numbers: client host 1 narrows its own range to 40000-40499 (500 ports; the key is per
# network namespace, so nothing outside the host changes) and asks for 800 connections to one
# server port. The doctor must predict the 4-tuple limit, the client must say "Cannot assign
# requested address", --explain must name it afterwards (the client's 500 ports sit in TIME_WAIT for
# 60 s) and, given the client's JSON report (--from), explain its EADDRNOTAVAIL count; after
# `tuning/apply --for 800` in that host the same run succeeds. Finally `tuning/apply --revert` must
# bring back exactly 40000-40499.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_init eaddrnotavail
lab_up

N=800
RANGE="40000 40499"
lab_server srv - --ports 1 --workers 1
lab_in "$LAB_CL1" sysctl -q -w net.ipv4.ip_local_port_range="$RANGE"
lab_log "client host 1: ip_local_port_range = $RANGE (500 ports)"

lab_doctor doctor "$LAB_CL1" - --role client -n "$N" --ports 1
lab_check_doctor "$LAB_DIR/doctor.json" "$LAB_STATUS" ports.4tuple

lab_client fail "$LAB_CL1" "$N" --ports 1
lab_check_status "$LAB_STATUS" 1 "the run fails"
lab_check_match "$LAB_DIR/fail.log" 'Cannot assign requested address' "client's own message names the cause"
n=$(jq -r '.failures.EADDRNOTAVAIL // 0' "$LAB_DIR/fail.json" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then lab_ok "client JSON counts $n EADDRNOTAVAIL"; else lab_check_fail "client JSON has no EADDRNOTAVAIL failures"; fi

lab_explain explain "$LAB_CL1"
lab_check_match "$LAB_DIR/explain.log" 'EADDRNOTAVAIL|Cannot assign requested address|local port|ip_local_port_range' \
	"c1m-doctor --explain names the local port range"
lab_check_match "$LAB_DIR/explain.log" "$LAB_CL1_ADDR -> $LAB_SRV_ADDR:$LAB_PORT has [0-9]+ sockets" \
	"c1m-doctor --explain names the exhausted (source, destination) pair"
lab_explain explain-from "$LAB_CL1" --from "$LAB_DIR/fail.json"
lab_check_match "$LAB_DIR/explain-from.log" 'EADDRNOTAVAIL x [0-9]+' \
	"c1m-doctor --explain --from explains the client's EADDRNOTAVAIL"

state=$LAB_DIR/cl1-tuning.saved
lab_log "fix: tuning/apply --for $N in client host 1"
C1M_DOCTOR=$C1M_DOCTOR lab_in "$LAB_CL1" "$LAB_APPLY" --for "$N" --role client --ports 1 --state "$state" \
	> "$LAB_DIR/apply.log" 2>&1 || lab_check_fail "tuning/apply failed (see apply.log)"
lab_check_match "$LAB_DIR/apply.log" 'ip_local_port_range +40000 40499 +-> 1024 65535' "tuning/apply widens the range"
lab_client fixed "$LAB_CL1" "$N" --ports 1
lab_check_status "$LAB_STATUS" 0 "after the fix, the same run holds $N"

lab_in "$LAB_CL1" "$LAB_APPLY" --revert --state "$state" > "$LAB_DIR/revert.log" 2>&1 ||
	lab_check_fail "tuning/apply --revert failed (see revert.log)"
now=$(lab_in "$LAB_CL1" cat /proc/sys/net/ipv4/ip_local_port_range | tr -s ' \t' '  ')
if [ "$now" = "$RANGE" ] && [ ! -e "$state" ]; then
	lab_ok "tuning/apply --revert restored \"$now\" and removed its state file"
else
	lab_check_fail "after --revert the range is \"$now\" (wanted \"$RANGE\")"
fi

lab_finish
