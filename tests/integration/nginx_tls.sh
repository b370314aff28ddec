#!/usr/bin/env bash
# --tls against a real nginx (Debian's), started here on free loopback ports with a CA and a server
# certificate (CN localhost, SAN localhost and 127.0.0.1) made for the test in its directory: N HTTPS
# keep-alive connections, verified against that CA with SNI localhost, and a latency phase end in a PASS;
# a CA that did not sign the certificate fails every connection with OpenSSL's "certificate verify
# failed", counted as tls; --insecure passes and the report says the certificate was not verified. The
# same nginx on a plain port gives the client's memory per connection without TLS, to compare. Skips
# (exit 77) without nginx or openssl. nginx is stopped at the end, and no nginx of this test is left.
# usage: nginx_tls.sh N
set -euo pipefail
source "$(dirname "$0")/lib.sh"

n=${1:?usage: nginx_tls.sh N}
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx is not installed: skipped"; exit 77; }
command -v openssl >/dev/null || { echo "openssl is not installed: skipped"; exit 77; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((n + 64)) ] || t_fail "the open-file hard limit $(ulimit -Hn) is below $((n + 64))"

# The test's PKI: a CA, a server certificate it signs, and another CA that signed nothing here.
pki() {  # pki NAME ARGS...: openssl, its output in NAME.log
	local name=$1
	shift
	openssl "$@" >"$T_DIR/$name.log" 2>&1 || t_fail "openssl $1 failed"
}
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
pki ca req -x509 "${ec[@]}" -days 2 -subj "/CN=c1m test CA" -keyout "$T_DIR/ca.key" -out "$T_DIR/ca.pem"
pki other-ca req -x509 "${ec[@]}" -days 2 -subj "/CN=c1m other CA" -keyout "$T_DIR/other.key" \
	-out "$T_DIR/other.pem"
pki csr req "${ec[@]}" -subj "/CN=localhost" -keyout "$T_DIR/server.key" -out "$T_DIR/server.csr"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$T_DIR/server.ext"
pki sign x509 -req -in "$T_DIR/server.csr" -CA "$T_DIR/ca.pem" -CAkey "$T_DIR/ca.key" -CAcreateserial \
	-days 2 -extfile "$T_DIR/server.ext" -out "$T_DIR/server.pem"

base=$(t_port_base 2)
tls_port=$base
plain_port=$((base + 1))
t_nginx_conf 12000 "	server {
		listen 127.0.0.1:$tls_port ssl;
		listen 127.0.0.1:$plain_port;
		ssl_certificate $T_DIR/server.pem;
		ssl_certificate_key $T_DIR/server.key;
		location / { return 200 \"ok\\n\"; }
	}"
"$NGINX" -t -q -c "$T_DIR/nginx.conf" -p "$T_DIR" -e "$T_DIR/nginx-error.log" >"$T_DIR/nginx-t.log" 2>&1 ||
	t_fail "nginx -t refuses the test's configuration"
t_start nginx "$NGINX" -c "$T_DIR/nginx.conf" -p "$T_DIR" -e "$T_DIR/nginx-error.log"
NGINX_PID=$T_PID
t_wait_listen "$tls_port"
t_wait_listen "$plain_port"

# client NAME PORT ARGS...: one run against nginx, its report in NAME.log and NAME.json; CLIENT_STATUS.
client() {
	local name=$1 port=$2
	shift 2
	CLIENT_STATUS=0
	"$C1M_CLIENT" 127.0.0.1 --port "$port" --ports 1 --proto http -n "$n" --msg-rate 2000 --duration 3 \
		--json "$T_DIR/$name.json" --progress-interval 0 "$@" >"$T_DIR/client-$name.log" 2>&1 ||
		CLIENT_STATUS=$?
}

# Verified against the test's CA, with SNI localhost.
client tls "$tls_port" --tls --ca "$T_DIR/ca.pem" --sni localhost
[ "$CLIENT_STATUS" -eq 0 ] || t_fail "client exited $CLIENT_STATUS against nginx over TLS, want 0 (PASS)"
[ "$(t_json "$T_DIR/tls.json" .pass)" = true ] || t_fail "no PASS verdict over TLS"
[ "$(t_json "$T_DIR/tls.json" .established)" = "$n" ] || t_fail "established != $n over TLS"
[ "$(t_json "$T_DIR/tls.json" .failed)" = 0 ] || t_fail "failures over TLS"
[ "$(t_json "$T_DIR/tls.json" .tls.verified)" = true ] || t_fail "the JSON does not say the certificate was verified"
[ "$(t_json "$T_DIR/tls.json" .tls.sni)" = localhost ] || t_fail "the JSON does not give the SNI"
grep -qE "messages +sent 6000, answered 6000, lost 0" "$T_DIR/client-tls.log" ||
	t_fail "the phase did not answer all 6000 requests over TLS"
grep -q '^  tls           certificate verified against .*ca.pem, for localhost; SNI localhost' \
	"$T_DIR/client-tls.log" || t_fail "the text report does not say how the certificate was verified"
grep -q 'TCP and TLS handshakes' "$T_DIR/client-tls.log" || t_fail "established does not count TLS handshakes"
grep -qE "^  connect time .*\($n samples\)" "$T_DIR/client-tls.log" || t_fail "not $n connect times over TLS"
tls_bytes=$(grep -oE 'memory +[0-9]+ bytes' "$T_DIR/client-tls.log" | grep -oE '[0-9]+' || echo 0)
t_log "TLS: $(grep -E 'elapsed|connect time|    RTT' "$T_DIR/client-tls.log" | tr -s ' ' | tr '\n' ';')"

# The same nginx without TLS: the client's memory per connection to compare.
client plain "$plain_port"
[ "$CLIENT_STATUS" -eq 0 ] || t_fail "client exited $CLIENT_STATUS against nginx without TLS, want 0 (PASS)"
[ "$(t_json "$T_DIR/plain.json" .tls)" = null ] || t_fail "a run without --tls reports TLS"
plain_bytes=$(grep -oE 'memory +[0-9]+ bytes' "$T_DIR/client-plain.log" | grep -oE '[0-9]+' || echo 0)
t_log "client resident memory per held connection: $plain_bytes B without TLS, $tls_bytes B with TLS"
[ "$tls_bytes" -gt "$plain_bytes" ] || t_fail "TLS connections cost no more memory than plain ones ($tls_bytes <= $plain_bytes)"

# A CA that did not sign nginx's certificate: every connection fails verification.
client wrong "$tls_port" --tls --ca "$T_DIR/other.pem" --sni localhost
[ "$CLIENT_STATUS" -eq 1 ] || t_fail "client exited $CLIENT_STATUS with the wrong CA, want 1 (FAIL)"
[ "$(t_json "$T_DIR/wrong.json" '.failures.tls // 0')" = "$n" ] || t_fail "failures.tls != $n with the wrong CA"
[ "$(t_json "$T_DIR/wrong.json" .established)" = 0 ] || t_fail "connections established with the wrong CA"
t_json "$T_DIR/wrong.json" .proto_note | grep -q 'certificate verify failed' ||
	t_fail "OpenSSL's verify error is not in the report's note"
grep -q 'certificate verify failed (unable to get local issuer certificate)' "$T_DIR/client-wrong.log" ||
	t_fail "the text report does not show the verify error"
grep -q "^tls x $n: .*--ca" "$T_DIR/client-wrong.log" || t_fail "the tls failures are not explained"
grep -q '^VERDICT: .*FAIL' "$T_DIR/client-wrong.log" || t_fail "no FAIL verdict with the wrong CA"
t_log "wrong CA: $(t_json "$T_DIR/wrong.json" .proto_note)"

# --insecure: no verification, a PASS, and the report says so.
client insecure "$tls_port" --tls --insecure
[ "$CLIENT_STATUS" -eq 0 ] || t_fail "client exited $CLIENT_STATUS with --insecure, want 0 (PASS)"
[ "$(t_json "$T_DIR/insecure.json" .tls.verified)" = false ] || t_fail "the JSON does not say the check was skipped"
grep -q '^  tls           certificate NOT verified (--insecure)' "$T_DIR/client-insecure.log" ||
	t_fail "the text report does not say the certificate was not verified"

t_stop "$NGINX_PID"
[ "$T_STATUS" -eq 0 ] || t_fail "nginx exited $T_STATUS"
if pgrep -f "$T_DIR/nginx.conf" >/dev/null; then
	t_fail "an nginx process of this test is still running: $(pgrep -af "$T_DIR/nginx.conf" | tr '\n' ';')"
fi
t_no_sanitizer_reports
echo "1 passed, 0 failed"
