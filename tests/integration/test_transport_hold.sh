#!/usr/bin/env bash
# The ingress closes idle connections after INGRESS_READ_TIMEOUT (3 s), sooner than the stand-in's
# DERP keepalive (5 s). `diagnose --hold 6s` keeps one DERP WebSocket per path: the ingress cuts the
# external ones (TRANSPORT_CUT_BY_PROXY, with the lifetime), the internal one lives the whole hold.
# The run ends within hold + 2 x timeout.
source "$(dirname "$0")/lib.sh"
start_world short-idle
ext=$EXTERNAL_URL
hold=6
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --timeout 2s --hold ${hold}s --expect "coder.example.test=$INGRESS_IP" \
  --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 1
python3 -c "import sys; sys.exit(0 if $DIAG_SECONDS <= $hold + 2 * 2 else 1)" ||
  fail "took ${DIAG_SECONDS}s, bound $((hold + 4))s"
assert_report "codes() == {'TRANSPORT_CUT_BY_PROXY'}" "TRANSPORT_CUT_BY_PROXY only"
for via in dns pinned; do
  assert_report "transport_status('$ext', '$via', 'derp-websocket') == {'closed_early'}" "cut via $via"
  assert_report "all($INGRESS_READ_TIMEOUT - 0.5 <= t['held_s'] <= $INGRESS_READ_TIMEOUT + 1.5 for t in transport('$ext', '$via', 'derp-websocket'))" \
    "via $via: closed after about ${INGRESS_READ_TIMEOUT}s"
done
assert_report "[t['held_s'] for t in transport('$INTERNAL_URL', 'internal', 'derp-websocket')] == [$hold.0]" \
  "the internal path held the whole ${hold}s (keepalives every ${DERP_KEEPALIVE}s)"
assert_report "transport_status('$INTERNAL_URL', 'internal', 'derp-websocket') == {'ok'}" "internal: ok"
assert_report "'closed after' in evidence('TRANSPORT_CUT_BY_PROXY') and '$INTERNAL_URL' not in evidence('TRANSPORT_CUT_BY_PROXY')" \
  "evidence gives the lifetime of the external paths only"
assert_report "'75 s' in finding('TRANSPORT_CUT_BY_PROXY')['remediation']" "the fix says how long the timeout must be"

# Without --hold the same world is healthy: the cut needs idle time to show.
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 0
assert_report "not r['findings']" "no finding without a hold"
pass
