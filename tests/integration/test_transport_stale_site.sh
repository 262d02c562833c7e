#!/usr/bin/env bash
# The field report's stale record, but the stale address serves another site (200 OK to
# everything, a valid certificate). NOT_CODERD names it, with no truth given (Kubernetes off, no
# --expect), and the real coderd at the public answer is not accused.
source "$(dirname "$0")/lib.sh"
start_world stale-site
ext=$EXTERNAL_URL
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --kube off
expect_status 1
assert_report "'NOT_CODERD' in codes()" "NOT_CODERD reported without truth"
assert_report "'$STALE_IP' in finding('NOT_CODERD')['summary'] and '$INGRESS_IP' not in finding('NOT_CODERD')['summary']" \
  "the stale address is named, the ingress is not"
assert_report "'$INGRESS_IP' in finding('NOT_CODERD')['remediation']" "the fix says where coderd answers"
assert_report "'AGENT_TRANSPORT_BLOCKED' not in codes()" "not a transport block: /healthz does not pass there"
stale="[t for t in r['transport'] if t['address'] == '$STALE_IP']"
assert_report "$stale and all(t['coderd_version'] is None for t in $stale)" "no answer from the stale site names coderd"
assert_report "{t['status'] for t in $stale if t['check'] == 'agent-binary'} == {'not_coderd'}" "agent-binary: not_coderd"
assert_report "{t['status'] for t in $stale if t['check'] == 'derp-websocket'} == {'not_upgraded'}" "no upgrade at the stale site"
assert_report "all(t['ok'] for t in r['transport'] if t['address'] == '$INGRESS_IP')" "the ingress passes everything"

# The control: the same world without the stale site is the field report (refused, no NOT_CODERD).
bash "$SANDBOX" switch field-report
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --kube off
assert_report "'NOT_CODERD' not in codes()" "nothing listening is not an impostor"
assert_report "{t['status'] for t in r['transport'] if t['address'] == '$STALE_IP'} == {'refused'}" \
  "every transport check at the dead address: refused"
pass
