#!/usr/bin/env bash
# One capacity function, seen from the outside: on this machine, for 1,000,000 connections, c1m-doctor's
# JSON, c1m-server --workers auto --check and tuning/apply --dry-run must name the same worker counts
# (56 server and 51 client processes under a hard open-file limit of 20,000; whatever this limit gives
# elsewhere, as long as all three agree). Nothing is started or changed: --check and --dry-run only plan.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || t_fail "jq is not installed"
n=${1:-1000000}
apply="$C1M_SOURCE/tuning/apply"

# The doctor exits 1 when a check fails; the plan is in its JSON either way.
"$DOCTOR" --role both -n "$n" --json >"$T_DIR/doctor.json" 2>"$T_DIR/doctor.log" || [ $? = 1 ] ||
	t_fail "c1m-doctor --role both failed"
"$DOCTOR" --role server -n "$n" --json >"$T_DIR/doctor-server.json" 2>>"$T_DIR/doctor.log" || [ $? = 1 ] ||
	t_fail "c1m-doctor --role server failed"
d_srv=$(jq -r '.workers_server' "$T_DIR/doctor-server.json")
d_both_srv=$(jq -r '.workers_server' "$T_DIR/doctor.json")
d_both_cli=$(jq -r '.workers_client' "$T_DIR/doctor.json")
[[ $d_srv =~ ^[0-9]+$ && $d_both_cli =~ ^[0-9]+$ ]] || t_fail "no worker counts in the doctor's JSON"
[ "$d_srv" = "$d_both_srv" ] || t_fail "doctor: $d_srv server workers for role server, $d_both_srv for role both"
t_log "c1m-doctor: $d_srv server + $d_both_cli client workers for $n"

"$SERVER" --workers auto --max-connections "$n" --check >"$T_DIR/check.log" 2>&1 || [ $? = 1 ] ||
	t_fail "c1m-server --check failed"
s_srv=$(sed -n 's/^workers needed: \([0-9]*\) server process.*/\1/p' "$T_DIR/check.log")
[ -n "$s_srv" ] || t_fail "no 'workers needed' line in c1m-server --check"
[ "$s_srv" = "$d_srv" ] || t_fail "c1m-server --workers auto plans $s_srv workers, the doctor $d_srv"
t_log "c1m-server --workers auto --check: $s_srv"

C1M_DOCTOR=$DOCTOR "$apply" --dry-run --for "$n" >"$T_DIR/apply.log" 2>&1 || t_fail "tuning/apply --dry-run failed"
line=$(grep '^c1m runs ' "$T_DIR/apply.log" || true)
[[ $line =~ ^c1m\ runs\ ([0-9]+)\ server\ \+\ ([0-9]+)\ client\ worker\ processes\ for\ $n\  ]] ||
	t_fail "no 'c1m runs S server + C client worker processes for $n' line in tuning/apply: '$line'"
[ "${BASH_REMATCH[1]}" = "$d_srv" ] && [ "${BASH_REMATCH[2]}" = "$d_both_cli" ] ||
	t_fail "tuning/apply says $line; the doctor $d_srv server + $d_both_cli client"
C1M_DOCTOR=$DOCTOR "$apply" --dry-run --for "$n" --role server >"$T_DIR/apply-server.log" 2>&1 ||
	t_fail "tuning/apply --dry-run --role server failed"
grep -q "^c1m runs $d_srv server worker process" "$T_DIR/apply-server.log" ||
	t_fail "tuning/apply --role server: $(grep '^c1m runs' "$T_DIR/apply-server.log" || echo 'no c1m runs line')"
t_log "tuning/apply --dry-run: $line"
echo "PASS: $d_srv server + $d_both_cli client workers for $n from the doctor, the server and tuning/apply"
