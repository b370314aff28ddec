#!/usr/bin/env bash
# Short runs of the real programs under valgrind memcheck: c1m-server and c1m-epoll (two workers each)
# echo 200 connections from c1m-client (two workers, --hold 2), answer three requests on their --metrics
# endpoint and stop on SIGTERM; c1m-doctor checks a plan and explains the kernel log once. Every process, forked workers included, writes its own valgrind
# log, and every log must say "ERROR SUMMARY: 0 errors": no invalid access, no use of uninitialised
# memory, no definite, indirect or possible leak. Run by `meson test --setup valgrind` (suite 'valgrind'),
# or directly: C1M_BUILD=build bash tests/integration/valgrind.sh
# usage: valgrind.sh [CONNECTIONS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

n=${1:-200}
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }

# --error-exitcode is not 1, so a valgrind finding is told apart from an ordinary exit status 1 (the
# doctor's "a check fails"); the per-process logs are what is checked in the end anyway.
VG=(valgrind --error-exitcode=97 --leak-check=full --show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --track-origins=yes --num-callers=30)
supp="$(dirname "$0")/valgrind.supp"
[ -f "$supp" ] && VG+=(--suppressions="$supp")

# vg NAME CMD...: the command under valgrind, one log per process in $T_DIR/vg-NAME.<pid>.
vg_cmd() {
	local name=$1
	shift
	VG_CMD=("${VG[@]}" --log-file="$T_DIR/vg-$name.%p" "$@")
}

# Every valgrind log of NAME must exist and report 0 errors; prints how many processes were checked.
vg_check() {
	local name=$1 f count=0
	for f in "$T_DIR"/vg-"$name".*; do
		[ -f "$f" ] || continue
		count=$((count + 1))
		if ! grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
			printf -- '--- %s\n' "$f" >&2
			cat "$f" >&2
			t_fail "valgrind found errors or leaks in $name (log above)"
		fi
	done
	[ "$count" -gt 0 ] || t_fail "no valgrind log for $name"
	t_log "$name: $count process(es) under valgrind, 0 errors, no leaks"
}

# http PORT METHOD PATH: one raw HTTP/1.0 request on loopback; prints the status code.
http() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1"
		printf '%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" "$3" >&3
		timeout 30 cat <&3
	) | head -n 1 | awk '{ print $2 }'
}

# serve KIND BIN: one server under valgrind (with its --metrics endpoint, scraped while the client holds
# its connections, plus a 404 and a 405), one client under valgrind against it, SIGTERM, checks.
serve() {
	local kind=$1 bin=$2 base mport status server_pid client_pid code
	base=$(t_port_base 101)
	mport=$((base + 100))
	vg_cmd "$kind" "$bin" --bind 127.0.0.1 --port "$base" --ports 100 --workers 2 --stats-interval 1 \
		--metrics "127.0.0.1:$mport"
	t_start "$kind" "${VG_CMD[@]}"
	server_pid=$T_PID
	t_wait_ports "$base" 100 60
	t_wait_listen "$mport" 60

	vg_cmd "client-$kind" "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n "$n" --workers 2 --hold 2 \
		--json "$T_DIR/client-$kind.json"
	"${VG_CMD[@]}" >"$T_DIR/client-$kind.log" 2>&1 &
	client_pid=$!
	C1M_PIDS+=("$client_pid")
	for code in "GET /metrics 200" "GET /nope 404" "POST /metrics 405"; do
		set -- $code
		[ "$(http "$mport" "$1" "$2")" = "$3" ] || t_fail "$kind --metrics: $1 $2 did not answer $3"
	done
	status=0
	wait "$client_pid" || status=$?
	[ "$status" -eq 0 ] || t_fail "client against $kind exited $status"
	[ "$(t_json "$T_DIR/client-$kind.json" .established)" = "$n" ] || t_fail "client against $kind: established != $n"
	[ "$(t_json "$T_DIR/client-$kind.json" .failed)" = 0 ] || t_fail "client against $kind: failures"

	t_stop "$server_pid" 60
	[ "$T_STATUS" -eq 0 ] || t_fail "$kind exited $T_STATUS after SIGTERM"
	vg_check "$kind"
	vg_check "client-$kind"
}

serve server "$C1M_SERVER"
serve epoll "$C1M_EPOLL"

status=0
vg_cmd doctor "$C1M_DOCTOR" --role both -n "$n"
"${VG_CMD[@]}" >"$T_DIR/doctor.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || t_fail "c1m-doctor --role both exited $status"
vg_cmd doctor-explain "$C1M_DOCTOR" --explain
status=0
"${VG_CMD[@]}" >"$T_DIR/doctor-explain.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || t_fail "c1m-doctor --explain exited $status"
vg_check doctor
vg_check doctor-explain
echo "1 passed, 0 failed"
