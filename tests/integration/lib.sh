# tests/integration/lib.sh: what the loopback integration tests add to tests/lib/c1m.sh: a private
# directory for logs, the t_ messages and assertions, and the common primitives in the form a test uses
# them, where a failure ends the test with its logs. Sourced by every tests/integration/*.sh; each test
# runs under `set -euo pipefail`.

source "$(dirname "${BASH_SOURCE[0]}")/../lib/c1m.sh"
: "${C1M_BUILD:?C1M_BUILD must point at the meson build directory}"
c1m_bins "$C1M_BUILD"

T_DIR=$(mktemp -d /tmp/c1m-test.XXXXXX)

t_cleanup() {
	c1m_stop_all 1
	rm -rf "$T_DIR"
}
trap t_cleanup EXIT

t_fail() {
	printf 'FAIL: %s\n' "$*" >&2
	c1m_show_logs "$T_DIR" 30
	exit 1
}

t_log() { printf '# %s\n' "$*"; }

# t_server_bin server|epoll: the binary of that server kind (the first argument of most tests).
t_server_bin() { c1m_server_bin "$1" || t_fail "$C1M_ERR"; echo "$C1M_BIN"; }

# t_port_base COUNT: a base port with COUNT consecutive free TCP ports, below the ephemeral range.
t_port_base() { c1m_port_base "$1" || t_fail "$C1M_ERR"; echo "$C1M_PORT"; }

# t_wait_listen PORT [SECONDS]: wait until something listens on PORT.
t_wait_listen() { c1m_wait_listen "$1" "${2:-10}" || t_fail "$C1M_ERR"; }

# t_wait_ports BASE COUNT [SECONDS]: wait until a server listens on all of BASE..BASE+COUNT-1.
t_wait_ports() { c1m_wait_ports "$1" "$2" "${3:-10}" || t_fail "$C1M_ERR"; }

# t_start NAME CMD...: start a process in the background, logging to $T_DIR/NAME.log; sets T_PID.
t_start() {
	local name=$1
	shift
	c1m_start "$T_DIR/$name.log" "$@"
	T_PID=$C1M_PID
}

# t_stop PID [SECONDS]: SIGTERM, wait for the exit status (returned in T_STATUS).
t_stop() {
	c1m_stop "$1" "${2:-10}" || t_fail "$C1M_ERR"
	T_STATUS=$C1M_STATUS
}

# t_wait_phase LOG PID SECONDS: until the progress lines (--progress-interval) that client PID writes
# to LOG show messages sent: its latency phase has begun.
t_wait_phase() {
	c1m_wait_match "$1" 'msgs sent [1-9]' "$3" "$2" || t_fail "the latency phase never started: $C1M_ERR"
}

# t_json FILE FILTER: one value from a JSON file.
t_json() { jq -r "$2" "$1"; }

# t_nginx_conf WORKER_CONNECTIONS SERVER_BLOCK: $T_DIR/nginx.conf for a test's own nginx, one worker in the
# foreground with everything it writes (pid, temporary files, $T_DIR/nginx-error.log at level warn) in the
# test's directory, keep-alive connections that last, and SERVER_BLOCK (the server { } text) in http { }.
t_nginx_conf() {
	mkdir -p "$T_DIR/tmp"
	cat >"$T_DIR/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $(ulimit -Hn);
pid $T_DIR/nginx.pid;
error_log $T_DIR/nginx-error.log warn;
events { worker_connections $1; multi_accept on; }
http {
	access_log off;
	client_body_temp_path $T_DIR/tmp/body;
	proxy_temp_path $T_DIR/tmp/proxy;
	fastcgi_temp_path $T_DIR/tmp/fastcgi;
	uwsgi_temp_path $T_DIR/tmp/uwsgi;
	scgi_temp_path $T_DIR/tmp/scgi;
	keepalive_requests 1000000;
	keepalive_timeout 300s;
$2
}
CONF
}

# t_no_sanitizer_reports: under -Db_sanitize=address,undefined a report does not always change an exit
# status (UBSan prints and carries on), so any report in a log fails the test.
t_no_sanitizer_reports() {
	local re='runtime error:|AddressSanitizer|LeakSanitizer'
	if grep -lE "$re" "$T_DIR"/*.log >/dev/null 2>&1; then
		t_fail "sanitizer report in $(grep -lE "$re" "$T_DIR"/*.log | tr '\n' ' ')"
	fi
}
