#!/usr/bin/env bash
# The ingress forwards `Upgrade: websocket` only: the DERP WebSocket works, `Upgrade: DERP` gets
# coderd's 426. A warning (agents fall back to WebSockets): DERP_UPGRADE_BLOCKED, exit 0.
source "$(dirname "$0")/lib.sh"
start_world derp-upgrade-blocked
ext=$EXTERNAL_URL
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 0
assert_report "codes() == {'DERP_UPGRADE_BLOCKED'} and r['verdict'] == 'degraded'" "DERP_UPGRADE_BLOCKED only, degraded"
assert_report "finding('DERP_UPGRADE_BLOCKED')['severity'] == 'warning'" "a warning"
for via in dns pinned; do
  assert_report "transport_status('$ext', '$via', 'derp-upgrade') == {'not_upgraded'}" "Upgrade: DERP refused via $via"
  assert_report "transport_status('$ext', '$via', 'derp-websocket') == {'ok'}" "the DERP WebSocket works via $via"
  assert_report "transport_status('$ext', '$via', 'derp-map-websocket') == {'ok'}" "the DERP map works via $via"
done
assert_report "transport_status('$INTERNAL_URL', 'internal', 'derp-upgrade') == {'ok'}" "the internal URL takes Upgrade: DERP"
pass
