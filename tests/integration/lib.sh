# Shared helpers for the loopback integration tests: binaries, free ports, process cleanup, JSON.
# Sourced by every tests/integration/*.sh; each test runs under `set -euo pipefail`.

: "${C1M_BUILD:?C1M_BUILD must point at the meson build directory}"
SERVER="$C1M_BUILD/src/server/c1m-server"
EPOLL="$C1M_BUILD/src/server/epoll/c1m-epoll"
CLIENT="$C1M_BUILD/src/client/c1m-client"
DOCTOR="$C1M_BUILD/src/doctor/c1m-doctor"

# t_server_bin server|epoll: the binary of that server kind (the first argument of most tests).
t_server_bin() {
	case "$1" in
		server) echo "$SERVER" ;;
		epoll) echo "$EPOLL" ;;
		*) printf 'FAIL: unknown server kind %s (server or epoll)\n' "'$1'" >&2; return 1 ;;
	esac
}

T_DIR=$(mktemp -d /tmp/c1m-test.XXXXXX)
T_PIDS=()

t_cleanup() {
	local pid
	for pid in "${T_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	sleep 0.2
	for pid in "${T_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		pkill -KILL -P "$pid" 2>/dev/null || true
	done
	rm -rf "$T_DIR"
}
trap t_cleanup EXIT

t_fail() {
	printf 'FAIL: %s\n' "$*" >&2
	local f
	for f in "$T_DIR"/*.log; do
		[ -f "$f" ] || continue
		printf -- '--- %s (last 30 lines)\n' "$f" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}

t_log() { printf '# %s\n' "$*"; }

# t_port_base COUNT: a base port with COUNT consecutive free TCP ports, below the ephemeral range.
t_port_base() {
	local count=$1 base try used
	used=$(ss -Htan | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un)
	for try in $(seq 1 200); do
		base=$(( 20000 + RANDOM % (32000 - 20000 - count) ))
		if ! awk -v lo="$base" -v hi=$((base + count - 1)) '$1 >= lo && $1 <= hi { found = 1 } END { exit !found }' \
			<<<"$used"; then
			echo "$base"
			return 0
		fi
	done
	t_fail "no $count consecutive free ports found"
}

# t_wait_listen PORT [SECONDS]: wait until something listens on PORT.
t_wait_listen() {
	local port=$1 secs=${2:-10} i
	for i in $(seq 1 $((secs * 20))); do
		ss -Htln "sport = :$port" | grep -q . && return 0
		sleep 0.05
	done
	t_fail "nothing listening on port $port after ${secs}s"
}

# t_start NAME CMD...: start a process in the background, logging to $T_DIR/NAME.log; sets T_PID.
t_start() {
	local name=$1
	shift
	"$@" >"$T_DIR/$name.log" 2>&1 &
	T_PID=$!
	T_PIDS+=("$T_PID")
}

# t_stop PID [SECONDS]: SIGTERM, wait for the exit status (returned in T_STATUS).
t_stop() {
	local pid=$1 secs=${2:-10} i
	kill -TERM "$pid"
	for i in $(seq 1 $((secs * 20))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && t_fail "pid $pid still running ${secs}s after SIGTERM"
	T_STATUS=0
	wait "$pid" || T_STATUS=$?
}

# t_json FILE FILTER: one value from a JSON file.
t_json() { jq -r "$2" "$1"; }

# t_cpu_ticks PID: utime+stime of PID in clock ticks.
t_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# t_children PID: the direct children of PID (the workers of a supervisor).
t_children() { pgrep -P "$1" || true; }
