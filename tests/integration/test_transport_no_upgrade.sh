#!/usr/bin/env bash
# The ingress does not forward Upgrade/Connection: /healthz works through it, every WebSocket and
# `Upgrade: DERP` gets coderd's 426, the internal URL still upgrades: AGENT_TRANSPORT_BLOCKED on
# the external URL only, naming what came back; no DNS or health finding.
source "$(dirname "$0")/lib.sh"
start_world no-upgrade
ext=$EXTERNAL_URL
int=$INTERNAL_URL
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 1
assert_report "codes() == {'AGENT_TRANSPORT_BLOCKED'}" "only AGENT_TRANSPORT_BLOCKED"
assert_report "all(h['ok'] for h in r['http'])" "/healthz and buildinfo pass on every path"
for via in dns pinned; do
  for check in derp-map-websocket derp-websocket derp-upgrade; do
    assert_report "transport_status('$ext', '$via', '$check') == {'not_upgraded'}" "$check via $via: not_upgraded"
    assert_report "all(t['status_code'] == 426 and t['coderd_version'] for t in transport('$ext', '$via', '$check'))" \
      "$check via $via: coderd's own 426 (the proxy passed the request, not the upgrade)"
  done
  assert_report "transport_status('$ext', '$via', 'agent-api') == {'ok'}" "the agent API's plain GET still works via $via"
done
assert_report "all(t['ok'] for t in r['transport'] if t['base_url'] == '$int')" "the internal URL upgrades"
assert_report "'HTTP 426' in evidence('AGENT_TRANSPORT_BLOCKED') and '$int' not in evidence('AGENT_TRANSPORT_BLOCKED')" \
  "the evidence names the 426 and only the external paths"
assert_report "'$int' in finding('AGENT_TRANSPORT_BLOCKED')['remediation']" "the fix names the internal URL"
assert_report "'DERP_UPGRADE_BLOCKED' not in codes()" "not DERP_UPGRADE_BLOCKED: the DERP WebSocket fails too"
pass
