#!/usr/bin/env bash
# One fault of the fault suite: start the misbehaving server, run diagnose against it, assert the
# status, the finding, an exit within the --timeout bounds, and no crash.
#   run_fault.sh NAME        (names: see the case table below; `run_fault.sh --list` lists them)
if [ "${1:-}" = --list ]; then
  sed -n 's/^\([a-z0-9-]*\))$/\1/p' "$0"
  exit 0
fi
source "$(dirname "$0")/../integration/lib.sh"

faults=$CDD_SOURCE_DIR/tests/faults
name=${1:?usage: run_fault.sh NAME}
certs=${CDD_BUILD_DIR:-$WORK}/fault-certs

# Two CAs; server certificates for fault.test (by CA 1 and by CA 2) and for other.test (CA 1).
source "$faults/../lib/tls.sh"
make_certs() {
  [ -f "$certs/done" ] && return 0
  mkdir -p "$certs"
  {
    tls_ca "$certs/ca1.key" "$certs/ca1.pem" "fault ca1" 30 &&
      tls_ca "$certs/ca2.key" "$certs/ca2.pem" "fault ca2" 30 &&
      tls_leaf "$certs/ca1.pem" "$certs/ca1.key" "$certs/good.key" "$certs/good.pem" fault.test DNS:fault.test 30 &&
      tls_leaf "$certs/ca2.pem" "$certs/ca2.key" "$certs/unknown.key" "$certs/unknown.pem" fault.test DNS:fault.test 30 &&
      tls_leaf "$certs/ca1.pem" "$certs/ca1.key" "$certs/wrongname.key" "$certs/wrongname.pem" other.test \
        DNS:other.test 30
  } >"$certs/openssl.log" 2>&1 || fail "could not make the test certificates: $(tail -n 3 "$certs/openssl.log")"
  touch "$certs/done"
}

# Start a fault server; wait until its pid file says it listens.
start_server() { # start_server SCRIPT ARGS...
  local pidfile=$WORK/server.$RANDOM.pid
  python3 "$@" --pidfile "$pidfile" &
  fault_pids+=($!)
  for _ in $(seq 100); do
    [ -f "$pidfile" ] && return 0
    sleep 0.05
  done
  fail "fault server $* did not start"
}

# Common to every case: no sandbox, the fault host only, the internal URL switched off.
EXTERNAL_URL=https://fault.test:18443
INTERNAL_URL=
CA_FILE=$certs/ca1.pem
make_certs
dns_case() { # dns_case MODE: a DNS fault server and diagnose asking only it
  start_server "$faults/fault_dns.py" --listen 127.0.7.1:5353 --mode "$1"
  diagnose --checks dns --family 4 --timeout 1s --resolver fault=127.0.7.1:5353
}
http_case() { # http_case MODE [TLS-CERT]: a fault web server and diagnose pinned to it
  local tls=()
  [ -n "${2:-}" ] && tls=(--cert "$certs/$2.pem" --key "$certs/$2.key")
  start_server "$faults/fault_http.py" --listen 127.0.8.1:18443 --mode "$1" "${tls[@]}"
  EXTERNAL_URL=${URL:-https://fault.test:18443}
  diagnose --checks http --timeout 1s --expect fault.test=127.0.8.1
}
ws_case() { # ws_case MODE: a coderd look-alike whose upgrades misbehave, diagnose pinned to it
  start_server "$faults/fault_ws.py" --listen 127.0.9.1:18443 --mode "$1" --cert "$certs/good.pem" --key "$certs/good.key"
  diagnose --checks http,transport --timeout 1s --expect fault.test=127.0.9.1
}
# ws_status CHECK: the typed status of the pinned path's transport check CHECK
ws_status() { echo "transport('$EXTERNAL_URL', 'pinned', '$1')[0]['status']"; }
# ws_blocked STATUS: both WebSocket checks failed with STATUS, /healthz passed, and it is reported
ws_blocked() {
  expect_status 1
  assert_report "$(health)['ok']" "/healthz passes on the look-alike"
  assert_report "$(ws_status derp-map-websocket) == '$1' and $(ws_status derp-websocket) == '$1'" "WebSockets: $1"
  assert_report "'AGENT_TRANSPORT_BLOCKED' in codes() and 'NOT_CODERD' not in codes()" "AGENT_TRANSPORT_BLOCKED only"
}
within() { # within SECONDS: the whole run stayed within the bound
  python3 -c "import sys; sys.exit(0 if $DIAG_SECONDS <= $1 else 1)" || fail "took ${DIAG_SECONDS}s, bound ${1}s"
}
no_crash() {
  case $DIAG_STATUS in 0 | 1 | 3) ;; *) fail "exit status $DIAG_STATUS (crash?)" ;; esac
  if grep -qE 'AddressSanitizer|runtime error|terminate called' "$WORK/stderr"; then
    fail "sanitizer or runtime report: $(head -c 400 "$WORK/stderr")"
  fi
}
lookup() { echo "dns('fault.test', 'fault')"; }
health() { # health [N]: the pinned /healthz (N=1: the /api/v2/buildinfo) request's JSON entry
  local endpoint=/healthz
  [ "${1:-0}" = 1 ] && endpoint=/api/v2/buildinfo
  echo "http('$EXTERNAL_URL', 'pinned', '$endpoint')[0]"
}

case $name in
dns-silent)
  dns_case silent
  expect_status 3
  assert_report "$(lookup)['status'] == 'timeout' and not $(lookup)['responded']" "timeout, no response"
  within 2.5
  ;;
dns-closed-port)
  diagnose --checks dns --family 4 --timeout 1s --resolver fault=127.0.7.9:5399
  expect_status 3
  assert_report "$(lookup)['status'] in ('error', 'timeout')" "unreachable server reported"
  within 2.5
  ;;
dns-servfail)
  dns_case servfail
  expect_status 1
  assert_report "$(lookup)['status'] == 'servfail' and 'DNS_LOOKUP_FAILED' in codes()" "servfail"
  within 1.5
  ;;
dns-refused)
  dns_case refused
  expect_status 1
  assert_report "$(lookup)['status'] == 'refused' and 'refused' in finding('DNS_LOOKUP_FAILED')['summary']" "refused"
  within 1.5
  ;;
dns-nxdomain)
  dns_case nxdomain
  expect_status 1
  assert_report "$(lookup)['status'] == 'nxdomain'" "nxdomain"
  within 1.5
  ;;
dns-truncated)
  dns_case truncated
  expect_status 0
  assert_report "$(lookup)['status'] == 'ok' and $(lookup)['addresses'] == ['127.0.0.1']" "answer retried over TCP"
  within 1.5
  ;;
dns-garbage)
  dns_case garbage
  no_crash
  assert_report "$(lookup)['status'] in ('error', 'timeout')" "garbage is not an answer"
  assert_report "'DNS_LOOKUP_FAILED' in codes()" "reported as a failed lookup"
  within 2.5
  ;;
dns-wrong-id)
  dns_case wrong-id
  no_crash
  assert_report "$(lookup)['status'] == 'timeout' and $(lookup)['addresses'] == []" "a reply with another id is ignored"
  within 2.5
  ;;
dns-other-address)
  dns_case other-address
  no_crash
  assert_report "$(lookup)['status'] == 'timeout' and $(lookup)['addresses'] == []" "a reply from another address is ignored"
  within 2.5
  ;;
dns-many)
  dns_case many
  expect_status 0
  assert_report "len($(lookup)['addresses']) == 100 and $(lookup)['status'] == 'ok'" "all 100 addresses"
  within 1.5
  ;;
dns-cname-loop)
  dns_case cname-loop
  expect_status 1
  assert_report "$(lookup)['status'] == 'error' and 'CNAME loop' in $(lookup)['detail']" "loop detected"
  within 1.5
  ;;
http-refused)
  diagnose --checks http --timeout 1s --expect fault.test=127.0.8.9
  expect_status 1
  assert_report "'HEALTHZ_DOWN' in codes() and $(health)['status'] == 'refused' and $(health)['error']" "refused connection"
  assert_report "$(health 1)['status'] == 'not_sent'" "buildinfo not sent after a refused /healthz"
  within 1.5
  ;;
http-hang)
  http_case hang good
  expect_status 1
  assert_report "'HEALTHZ_DOWN' in codes() and $(health)['status'] == 'timeout' and $(health)['error']" "timed out"
  within 2.5
  ;;
http-500)
  http_case status-500 good
  expect_status 1
  assert_report "$(health)['status_code'] == 500 and not $(health)['ok'] and 'HEALTHZ_DOWN' in codes()" "500"
  assert_report "$(health)['status'] == 'http_error' and $(health 1)['status'] == 'http_error'" "500 is an http_error"
  within 1.5
  ;;
http-503)
  http_case status-503 good
  expect_status 1
  assert_report "$(health)['status_code'] == 503 and 'HTTP 503' in evidence('HEALTHZ_DOWN')" "503"
  assert_report "$(health)['status'] == 'http_error'" "503 is an http_error"
  within 1.5
  ;;
http-tls-unknown-ca)
  http_case ok unknown
  expect_status 1
  assert_report "$(health)['status'] == 'tls' and $(health)['status_code'] is None" "unknown CA rejected"
  within 1.5
  ;;
http-tls-wrong-name)
  http_case ok wrongname
  expect_status 1
  assert_report "$(health)['status'] == 'tls' and $(health)['status_code'] is None" "wrong name rejected"
  within 1.5
  ;;
http-redirect-loop)
  http_case redirect good
  expect_status 1
  assert_report "$(health)['status_code'] == 302 and $(health)['error'] == 'HTTP 302'" "redirect reported, not followed"
  assert_report "$(health)['status'] == 'http_error'" "a redirect is an http_error"
  within 1.5
  ;;
http-huge-body)
  http_case huge good
  expect_status 1
  assert_report "$(health)['status'] == 'too_large' and $(health)['status_code'] == 200" "body cap enforced"
  within 2.5
  ;;
http-slow-body)
  http_case slow good
  expect_status 1
  assert_report "$(health)['status'] == 'timeout'" "slow body times out"
  within 2.5
  ;;
http-ok-control)
  http_case ok good
  expect_status 0
  assert_report "all(h['ok'] for h in r['http']) and r['verdict'] == 'healthy'" "the healthy control passes"
  assert_report "all(h['status'] == 'ok' for h in r['http'])" "every request is ok"
  within 1.5
  ;;
ws-no-accept)
  ws_case no-accept
  ws_blocked bad_handshake
  assert_report "'accept' in transport('$EXTERNAL_URL', 'pinned', 'derp-websocket')[0]['detail'].lower()" "the detail names the missing accept"
  within 2.5
  ;;
ws-wrong-accept)
  ws_case wrong-accept
  ws_blocked bad_handshake
  within 2.5
  ;;
ws-oversized-frame)
  ws_case oversized-frame
  ws_blocked bad_frame
  assert_report "$(ws_status derp-upgrade) == 'bad_frame'" "raw DERP: an oversized frame is refused from its header"
  within 2.5
  ;;
ws-close-after-handshake)
  ws_case close-after-handshake
  ws_blocked closed_early
  assert_report "$(ws_status derp-upgrade) == 'closed_early'" "raw DERP: closed early"
  within 2.5
  ;;
ws-non-derp-frame)
  ws_case non-derp-frame
  ws_blocked bad_frame
  assert_report "$(ws_status derp-upgrade) == 'bad_frame'" "raw DERP: the first frame is not the server key"
  within 2.5
  ;;
ws-silent-after-handshake)
  ws_case silent-after-handshake
  ws_blocked timeout
  assert_report "$(ws_status derp-upgrade) == 'timeout'" "raw DERP: no first frame within the timeout"
  within 3.5
  ;;
*)
  fail "unknown fault '$name' (run_fault.sh --list)"
  ;;
esac
no_crash
pass
