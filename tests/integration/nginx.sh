#!/usr/bin/env bash
# --proto http against a real nginx (Debian's), started here on a free loopback port with its whole
# configuration, logs and temporary paths in the test's directory: N keep-alive connections and a latency
# phase of GET requests end in a PASS; then the same nginx with worker_connections 1000 cannot hold 3000:
# its log says "worker_connections are not enough", and the client's report counts the connections nginx
# closed and names worker_connections among the possible causes. The test skips (exit 77) without nginx.
# usage: nginx.sh N
set -euo pipefail
source "$(dirname "$0")/lib.sh"

n=${1:?usage: nginx.sh N}
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx is not installed: skipped"; exit 77; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
# nginx needs an fd per connection (the worker's limit comes from worker_rlimit_nofile, at most the hard limit).
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((n + 64)) ] || t_fail "the open-file hard limit $(ulimit -Hn) is below $((n + 64))"

port=$(t_port_base 1)
start_nginx() {  # start_nginx WORKER_CONNECTIONS
	t_nginx_conf "$1" "	server {
		listen 127.0.0.1:$port backlog=4096;
		location / { return 200 \"ok\\n\"; }
	}"
	t_start nginx "$NGINX" -p "$T_DIR" -c "$T_DIR/nginx.conf"
	NGINX_PID=$T_PID
	t_wait_listen "$port"
}

# nginx starts closing idle keep-alive connections when fewer than 1/16 of worker_connections are free
# (ngx_get_connection), so it gets twice N.
start_nginx $((2 * n))
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$port" --ports 1 --proto http -n "$n" --msg-rate 5000 --duration 3 \
	--json "$T_DIR/ok.json" --progress-interval 0 >"$T_DIR/client-ok.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || t_fail "client exited $status against nginx, want 0 (PASS)"
[ "$(t_json "$T_DIR/ok.json" .pass)" = true ] || t_fail "no PASS verdict"
[ "$(t_json "$T_DIR/ok.json" .established)" = "$n" ] || t_fail "established != $n"
[ "$(t_json "$T_DIR/ok.json" .failed)" = 0 ] || t_fail "failures against nginx"
grep -qE "messages +sent 15000, answered 15000, lost 0" "$T_DIR/client-ok.log" ||
	t_fail "the phase did not answer all 15000 requests"
grep -q '^  protocol      http' "$T_DIR/client-ok.log" || t_fail "the report does not name the protocol"
t_log "$(grep -E 'connections +[0-9]+ held|RTT +p50|memory' "$T_DIR/client-ok.log" | tr -s ' ')"
t_stop "$NGINX_PID"

# The server's own limit: worker_connections 1000 (nginx keeps a few for its listener).
start_nginx 1000
want=3000
status=0
"$C1M_CLIENT" 127.0.0.1 --port "$port" --ports 1 --proto http -n "$want" --hold 1 \
	--json "$T_DIR/limit.json" --progress-interval 0 >"$T_DIR/client-limit.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || t_fail "client exited $status against worker_connections 1000, want 1"
closed=$(t_json "$T_DIR/limit.json" '[.failures.handshake_closed // 0, .failures.peer_closed // 0] | add')
[ "$closed" -ge $((want - 1000)) ] || t_fail "$closed connections closed by nginx, want at least $((want - 1000))"
grep -q 'worker_connections are not enough' "$T_DIR/nginx-error.log" || t_fail "nginx did not log its limit"
grep -q 'nginx worker_connections' "$T_DIR/client-limit.log" || t_fail "the report does not name worker_connections"
grep -q 'possibly' "$T_DIR/client-limit.log" || t_fail "the report claims a cause it cannot know"
grep -q 'FAIL' "$T_DIR/client-limit.log" || t_fail "no FAIL verdict"
t_stop "$NGINX_PID"
pgrep -f "nginx.*$T_DIR" >/dev/null && t_fail "an nginx process is left"
t_no_sanitizer_reports
t_log "worker_connections 1000: $closed of $want connections closed by nginx; its log: $(grep -m1 -o '[0-9]* worker_connections are not enough[^"]*' "$T_DIR/nginx-error.log")"
echo "1 passed, 0 failed"
