#!/usr/bin/env bash
# A client run against a closed port reports ECONNREFUSED with its explanation, and exits 1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

base=$(t_port_base 1)
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 1 -n 20 --json "$T_DIR/client.json" >"$T_DIR/client.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || t_fail "client exited $status, want 1"
refused=$(t_json "$T_DIR/client.json" '.failures.ECONNREFUSED // 0')
[ "$refused" = 20 ] || t_fail "failures.ECONNREFUSED = $refused, want 20"
[ "$(t_json "$T_DIR/client.json" .established)" = 0 ] || t_fail "established should be 0"
grep -q 'ECONNREFUSED' "$T_DIR/client.log" || t_fail "the report does not name ECONNREFUSED"
grep -qiE 'nothing (is |was )?listen|no (server|process) (is )?listen' "$T_DIR/client.log" ||
	t_fail "the report does not explain ECONNREFUSED (nothing listening)"
grep -q 'FAIL' "$T_DIR/client.log" || t_fail "no FAIL verdict"
t_log "ECONNREFUSED x20, explained, exit 1"
echo "1 passed, 0 failed"
