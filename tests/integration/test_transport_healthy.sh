#!/usr/bin/env bash
# The healthy world, through the real nginx ingress to the coderd stand-in: every transport check
# passes on every path (external via DNS and pinned, internal), each answer names coderd's version,
# and no transport finding appears. Then the same with transport off: no transport[] entries.
source "$(dirname "$0")/lib.sh"
start_world healthy
ext=$EXTERNAL_URL
int=$INTERNAL_URL
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 0
assert_report "r['verdict'] == 'healthy' and not r['findings']" "healthy, no finding"
checks="['derp-map-websocket', 'derp-websocket', 'derp-upgrade', 'agent-binary', 'agent-api']"
for path in "'$ext', 'dns'" "'$ext', 'pinned'" "'$int', 'internal'"; do
  assert_report "all(transport_status($path, c) == {'ok'} for c in $checks)" "every check ok via ($path)"
done
assert_report "all(t['ok'] and t['detail'] == '' for t in r['transport'])" "ok entries carry no detail"
assert_report "all(t['coderd_version'] == '$CODER_VERSION' for t in r['transport'] if t['check'] != 'derp-upgrade')" \
  "coderd's version on every ordinary answer"
assert_report "all(h['coderd_version'] == '$CODER_VERSION' for h in r['http'])" "http[] records the version too"
assert_report "all(t['status_code'] == 101 for t in r['transport'] if t['check'].startswith('derp'))" "upgrades: 101"
assert_report "transport('$ext', 'dns', 'agent-api')[0]['status_code'] == 401" "agent API: coderd's 401"
assert_report "transport('$ext', 'dns', 'agent-binary')[0]['url'].endswith('/bin/coder-linux-amd64')" "amd64 by default"
assert_report "transport('$ext', 'dns', 'derp-websocket')[0]['resolvers'] == ['cluster', 'cluster/search', 'public', 'upstream']" \
  "DNS paths list the resolvers that gave the address"
assert_report "all(t['held_s'] is None for t in r['transport'])" "nothing held without --hold"
# The stand-in saw the agent API request with a token (never printed) and the upgrades on both paths.
grep -q 'GET /api/v2/workspaceagents/me/rpc.* 401' "$CODERD_CLUSTERIP_LOG" || fail "the ClusterIP stand-in saw no agent API request"
grep -q 'GET /derp .* 101' "$CODERD_INGRESS_LOG" || fail "the stand-in behind the ingress saw no DERP upgrade"

# --agent-arch names the binary; --checks without transport leaves transport[] empty.
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --agent-arch arm64 --expect "coder.example.test=$INGRESS_IP"
expect_status 0
assert_report "transport('$ext', 'pinned', 'agent-binary')[0]['url'].endswith('/bin/coder-linux-arm64')" "--agent-arch arm64"
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --checks dns,http --expect "coder.example.test=$INGRESS_IP"
expect_status 0
assert_report "r['transport'] == []" "--checks dns,http: no transport check"
pass
