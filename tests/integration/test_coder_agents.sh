#!/usr/bin/env bash
# From the symptom to its cause: the field-report world with the Kubernetes fake API and the coderd
# stand-in's owner-token API (tests/sandbox/coder-api). AGENT_DISCONNECTED names exactly the lost
# agents whose pods dial the external URL with EXTERNAL_DNS_MISMATCH in their chain, a lost agent
# on a healthy path gets "no cause found on its path", a workspace without a pod says so; coderd's
# EACS03 corroborates; outdated builds are listed to rebuild. 401 and member tokens give
# CODER_API_UNAVAILABLE and the rest of the report; an all-connected healthy world exits 0. The
# token never appears in stdout, stderr or the JSON.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
API="$CDD_SOURCE_DIR/tests/sandbox/coder-api"
FIXTURE="$CDD_SANDBOX_DIR/coder-api.json"
compose() { /usr/bin/python3 "$API/compose.py" "$@" -o "$FIXTURE"; }
OWNER_TOKEN=$(<"$API/owner.token")
MEMBER_TOKEN=$(<"$API/member.token")
UNKNOWN_TOKEN=$(<"$API/unknown.token")
no_tokens() {
  local file
  for file in "$@"; do
    for token in "$OWNER_TOKEN" "$MEMBER_TOKEN" "$UNKNOWN_TOKEN"; do
      if grep -qF "$token" "$file"; then fail "a Coder token appears in $file"; fi
      # the secret half alone (after the id) must not leak either
      if grep -qF "${token#*-}" "$file"; then fail "a Coder token's secret appears in $file"; fi
    done
  done
}
cdiagnose() {
  # shellcheck disable=SC2046
  kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args) "$@"
  no_tokens "$WORK/report.json" "$WORK/stderr"
}

start_world field-report
kube_fixtures
start_kube_api
compose --workspaces field-report --health eacs03 --page-size 2
: >"$CODERD_CLUSTERIP_LOG"
cdiagnose --coder-token-file "$API/owner.token"
expect_status 1
assert_report "finding('AGENT_DISCONNECTED')['severity'] == 'error'" "AGENT_DISCONNECTED is an error"
assert_report "'EXTERNAL_DNS_MISMATCH' in codes() and 'AGENT_URL_EXTERNAL' in codes()" "the rest of the report stands"
assert_report "{a['owner'] + '/' + a['workspace'] for a in r['agents'] if 'EXTERNAL_DNS_MISMATCH' in a['cause_codes']} == {'alice/dev', 'carol/dev'}" \
  "exactly the lost agents whose pods dial the external URL carry EXTERNAL_DNS_MISMATCH"
lost="[l for l in finding('AGENT_DISCONNECTED')['evidence']"
assert_report "len($lost]) == 4" "one evidence line per lost agent of a running workspace (alice, bob, carol, heidi)"
assert_report "any(l.startswith('alice/dev (agent main): disconnected since ') and 'pod coder-workspace/coder-alice-dev dials coder.example.test (external), which resolves in the cluster to $STALE_IP' in l and 'EXTERNAL_DNS_MISMATCH' in l for l in $lost])" \
  "alice's line: since when, her pod, the host, the stale address, the code"
assert_report "any(l.startswith('carol/dev (agent main): timeout') and 'EXTERNAL_DNS_MISMATCH' in l for l in $lost])" \
  "a timed-out agent counts as lost"
assert_report "any(l.startswith('bob/dev') and '(internal): no cause found on its path' in l and 'coder ping bob/dev' in l and 'MISMATCH' not in l for l in $lost])" \
  "a lost agent on a healthy path gets no invented cause, and the next check"
assert_report "any(l.startswith('heidi/dev') and 'no workspace pod' in l and 'no cause found' in l for l in $lost])" \
  "a workspace without a pod says so"
assert_report "not any(l.startswith('grace/') or l.startswith('dave/') for l in $lost])" \
  "connected agents and stopped workspaces are not lost"
assert_report "{(a['owner'], a['path_verdict']) for a in r['agents']} == {('alice', 'fails'), ('carol', 'fails'), ('bob', 'works'), ('heidi', 'unchecked'), ('grace', 'unchecked')}" \
  "agents[]: every agent of a started workspace with its path verdict (all pages read)"
assert_report "[a['pod'] for a in r['agents'] if a['owner'] == 'alice'] == ['coder-workspace/coder-alice-dev'] and [a['target'] for a in r['agents'] if a['owner'] == 'alice'] == ['external']" \
  "joined by the com.coder.workspace.id label"
[ "$(grep -c 'GET /api/v2/workspaces' "$CODERD_CLUSTERIP_LOG")" -ge 3 ] ||
  fail "the workspaces were not read in pages (log: $(grep workspaces "$CODERD_CLUSTERIP_LOG" | head -5))"
if grep -Eq 'api/v2/(workspaces|users|debug)' "$CODERD_INGRESS_LOG" 2>/dev/null; then fail "the Coder API was asked through the ingress, not the internal URL"; fi
assert_report "finding('CODERD_REPORTS_UNHEALTHY')['severity'] == 'warning'" "coderd's failing health is a warning"
assert_report "'EACS03' in evidence('CODERD_REPORTS_UNHEALTHY') and 'seen from coderd' in evidence('CODERD_REPORTS_UNHEALTHY') and 'agrees with EXTERNAL_DNS_MISMATCH' in evidence('CODERD_REPORTS_UNHEALTHY')" \
  "EACS03 seen from coderd, agreeing with this report"
assert_report "'alice/dev' in evidence('WORKSPACE_REBUILD_NEEDED') and 'coder update alice/dev' in evidence('WORKSPACE_REBUILD_NEEDED') and finding('WORKSPACE_REBUILD_NEEDED')['severity'] == 'info'" \
  "the outdated workspace is listed with the command to rebuild it"
assert_report "'CODER_API_UNAVAILABLE' not in codes()" "an owner token reads everything"

# the text report: the AGENTS table, and no token
set +e
# shellcheck disable=SC2046
"$CDD_BIN" diagnose --output text --wide --ca-file "$CA_FILE" --internal-url "$INTERNAL_URL" $(standard_resolvers) \
  $(kube_args) --coder-token-file "$API/owner.token" >"$WORK/report.txt" 2>&1
set -e
grep -Eq "alice/dev +main +disconnected .* coder-workspace/coder-alice-dev +fails +EXTERNAL_DNS_MISMATCH" "$WORK/report.txt" ||
  fail "the text report lacks alice's AGENTS row: $(grep -A8 AGENTS "$WORK/report.txt")"
no_tokens "$WORK/report.txt"

# a well-formed token coderd does not know: 401 -> CODER_API_UNAVAILABLE, the rest of the report
cdiagnose --coder-token-file "$API/unknown.token"
expect_status 1
assert_report "finding('CODER_API_UNAVAILABLE')['severity'] == 'warning'" "a rejected token is a warning"
assert_report "'HTTP 401' in evidence('CODER_API_UNAVAILABLE') and 'not accepted' in finding('CODER_API_UNAVAILABLE')['summary']" \
  "it says the token is not accepted"
assert_report "'agents' not in r and 'AGENT_DISCONNECTED' not in codes()" "no agents are guessed"
assert_report "'EXTERNAL_DNS_MISMATCH' in codes() and 'AGENT_URL_EXTERNAL' in codes()" "the rest of the report stands"

# a member's token: only their own workspace, and the report says so; coderd's health is owner-only
cdiagnose --coder-token-file "$API/member.token"
assert_report "finding('CODER_API_UNAVAILABLE')['severity'] == 'warning' and 'sees only their own workspaces' in evidence('CODER_API_UNAVAILABLE')" \
  "a member token is reported as a partial view"
assert_report "'/api/v2/debug/health' in evidence('CODER_API_UNAVAILABLE') and 'Owner' in evidence('CODER_API_UNAVAILABLE')" \
  "the health report needs the Owner role"
assert_report "{a['owner'] for a in r['agents']} == {'alice'}" "only the member's own agents"

# an empty token file: named, and no request with a blank token
: >"$WORK/empty.token"
cdiagnose --coder-token-file "$WORK/empty.token"
assert_report "'Coder token file' in evidence('CODER_API_UNAVAILABLE') and 'is empty' in evidence('CODER_API_UNAVAILABLE')" \
  "an empty token file is named"

# the healthy world with every agent connected and coderd healthy: exit 0, no finding
bash "$SANDBOX" switch healthy
compose --workspaces field-report --health ok --all-connected
cdiagnose --coder-token-file "$API/owner.token"
expect_status 0
assert_report "not [f for f in r['findings'] if f['severity'] != 'info']" "the healthy world has no error or warning"
assert_report "len(r['agents']) == 5 and all(a['status'] == 'connected' for a in r['agents'])" "every agent listed, connected"
pass
