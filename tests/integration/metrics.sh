#!/usr/bin/env bash
# --metrics: c1m-server with 2 workers serves Prometheus text at GET /metrics from its supervisor while a
# client holds 2,000 connections. Scraped with a raw HTTP/1.0 request over bash's /dev/tcp (no curl needed):
# c1m_connections reaches 2000 and equals the sum of the per-worker series, each worker's open fds cover its
# connections plus its 100 listeners, a bad path gets 404 and a POST 405, `promtool check metrics` accepts the
# text, and a real Prometheus server on loopback scrapes the endpoint and answers c1m_connections = 2000
# through its HTTP API. Exit 77 (skip) without promtool and prometheus (Debian package 'prometheus').
# usage: metrics.sh [server|epoll]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

kind=${1:-server}
bin=$(t_server_bin "$kind")
for tool in promtool prometheus jq; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool is not installed (apt-get install prometheus jq)"
		exit 77
	fi
done
n=2000

base=$(t_port_base 100)
# Two more free ports outside the echo range: the metrics endpoint and Prometheus' own web port.
other_port() {
	local p
	while :; do
		p=$(t_port_base 1)
		if [ "$p" -lt "$base" ] || [ "$p" -gt $((base + 99)) ]; then
			if [ "$p" != "${1:-}" ]; then
				echo "$p"
				return
			fi
		fi
	done
}
mport=$(other_port)
pport=$(other_port "$mport")

t_start server "$bin" --bind 127.0.0.1 --port "$base" --ports 100 --workers 2 --stats-interval 1 \
	--metrics "127.0.0.1:$mport"
server_pid=$T_PID
t_wait_listen "$mport"
t_wait_ports "$base" 100
grep -q "metrics on http://127.0.0.1:$mport/metrics" "$T_DIR/server.log" || t_fail "no 'metrics on' startup line"

# http METHOD PATH: the raw response (status line, headers, body) to an HTTP/1.0 request.
http() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$mport"
		printf '%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" "$2" >&3
		timeout 5 cat <&3
	)
}
status_of() { head -1 | tr -d '\r' | awk '{ print $2 }'; }
body_of() { tr -d '\r' | sed '1,/^$/d'; }
# value FILE SERIES: the sample value of an exact series ("c1m_connections", 'c1m_open_fds{worker="0"}').
value() { awk -v s="$2" '$1 == s { print $2 }' "$1"; }

http GET /metrics >"$T_DIR/idle.http" || t_fail "scrape of the idle server failed"
[ "$(status_of <"$T_DIR/idle.http")" = 200 ] || t_fail "GET /metrics: status $(status_of <"$T_DIR/idle.http")"
grep -qi '^content-type: text/plain; version=0.0.4' "$T_DIR/idle.http" || t_fail "wrong Content-Type"
body_of <"$T_DIR/idle.http" >"$T_DIR/idle.txt"
[ "$(value "$T_DIR/idle.txt" c1m_connections)" = 0 ] || t_fail "idle server: c1m_connections is not 0"
[ "$(value "$T_DIR/idle.txt" c1m_workers_running)" = 2 ] || t_fail "idle server: c1m_workers_running is not 2"
t_log "idle scrape: 200, c1m_connections 0, 2 workers running"

code=$(http GET /nope | status_of)
[ "$code" = 404 ] || t_fail "GET /nope: status $code, want 404"
code=$(http POST /metrics | status_of)
[ "$code" = 405 ] || t_fail "POST /metrics: status $code, want 405"
t_log "GET /nope -> 404, POST /metrics -> 405"

# A real Prometheus, loopback only, scraping every second; its data goes to the test's temp dir.
cat >"$T_DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: c1m
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
t_start prometheus prometheus --config.file="$T_DIR/prometheus.yml" --storage.tsdb.path="$T_DIR/tsdb" \
	--web.listen-address="127.0.0.1:$pport"
prom_pid=$T_PID
t_wait_listen "$pport" 30
# promq QUERY: the first sample value of an instant query, or empty.
promq() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$pport"
		printf 'GET /api/v1/query?query=%s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
		timeout 5 cat <&3
	) | body_of | jq -r 'if .status == "success" then (.data.result[0].value[1] // "") else "" end'
}
up=""
for i in $(seq 1 150); do
	up=$(promq 'up%7Bjob%3D%22c1m%22%7D' || true)
	[ "$up" = 1 ] && break
	sleep 0.2
done
[ "$up" = 1 ] || t_fail "Prometheus never scraped the endpoint successfully (up = '$up')"
t_log "Prometheus on 127.0.0.1:$pport scrapes 127.0.0.1:$mport (up 1)"

t_start client "$C1M_CLIENT" 127.0.0.1 --port "$base" --ports 100 -n "$n" --hold 3 --json "$T_DIR/client.json"
client_pid=$T_PID

# Scrape until the server holds all n, while the client holds them.
seen=""
for i in $(seq 1 200); do
	if http GET /metrics | body_of >"$T_DIR/load.txt" && [ "$(value "$T_DIR/load.txt" c1m_connections)" = "$n" ]; then
		seen=yes
		break
	fi
	kill -0 "$client_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$seen" ] || t_fail "c1m_connections never reached $n (last: $(value "$T_DIR/load.txt" c1m_connections))"
t_log "scrape under load: c1m_connections $n"

# The total is the sum of the per-worker series; each worker's descriptors cover its connections and its
# 100 listening sockets, under its limit.
sum=0
for w in 0 1; do
	c=$(value "$T_DIR/load.txt" "c1m_worker_connections{worker=\"$w\"}")
	fds=$(value "$T_DIR/load.txt" "c1m_open_fds{worker=\"$w\"}")
	max=$(value "$T_DIR/load.txt" "c1m_max_fds{worker=\"$w\"}")
	rss=$(value "$T_DIR/load.txt" "c1m_worker_resident_memory_bytes{worker=\"$w\"}")
	[ -n "$c" ] && [ -n "$fds" ] && [ -n "$max" ] && [ -n "$rss" ] || t_fail "worker $w series missing"
	[ "$fds" -ge $((c + 100)) ] || t_fail "worker $w: c1m_open_fds $fds < $c connections + 100 listeners"
	[ "$fds" -le "$max" ] || t_fail "worker $w: c1m_open_fds $fds above c1m_max_fds $max"
	t_log "worker $w: connections $c, open fds $fds of $max, rss $rss bytes"
	sum=$((sum + c))
done
[ "$sum" -eq "$n" ] || t_fail "per-worker connections add up to $sum, total says $n"
accepted=$(value "$T_DIR/load.txt" c1m_accepted_total)
[ "$accepted" -ge "$n" ] || t_fail "c1m_accepted_total $accepted < $n"

promtool check metrics <"$T_DIR/load.txt" >"$T_DIR/promtool.log" 2>&1 || t_fail "promtool check metrics: $(cat "$T_DIR/promtool.log")"
t_log "promtool check metrics: clean"

# Prometheus must have scraped a 2000 while the client held its connections.
got=""
how="instant query c1m_connections"
for i in $(seq 1 100); do
	got=$(promq c1m_connections || true)
	[ "$got" = "$n" ] && break
	kill -0 "$client_pid" 2>/dev/null || break
	sleep 0.2
done
if [ "$got" != "$n" ]; then
	# The hold may have ended between two polls; the 2000 must still be in the stored series.
	how="max_over_time(c1m_connections[1m])"
	got=$(promq 'max_over_time(c1m_connections%5B1m%5D)' || true)
fi
[ "$got" = "$n" ] || t_fail "Prometheus API: $how = '$got', want $n"
t_log "Prometheus API: $how = $got"

status=0
wait "$client_pid" || status=$?
[ "$status" -eq 0 ] || t_fail "client exited $status"
[ "$(t_json "$T_DIR/client.json" .established)" = "$n" ] || t_fail "client did not establish $n"

# The client has exited, but its closes reach the workers' loops only as they run: the counters settle
# within a few milliseconds, so scrape until they did (at most 5 s).
for i in $(seq 1 100); do
	http GET /metrics | body_of >"$T_DIR/after.txt"
	[ "$(value "$T_DIR/after.txt" c1m_connections)" = 0 ] && break
	sleep 0.05
done
closed=$(value "$T_DIR/after.txt" c1m_closed_total)
[ "$(value "$T_DIR/after.txt" c1m_connections)" = 0 ] || t_fail "after the client: c1m_connections not 0"
[ "$closed" -ge "$n" ] || t_fail "after the client: c1m_closed_total $closed < $n"
t_log "after the client: c1m_connections 0, c1m_closed_total $closed"

t_stop "$prom_pid" 15
kill -0 "$server_pid" || t_fail "$kind died during the run"
t_stop "$server_pid" 15
[ "$T_STATUS" -eq 0 ] || t_fail "$kind exited $T_STATUS after SIGTERM"
echo "1 passed, 0 failed"
