#!/usr/bin/env bash
# serve with a Coder token: agents{status} and agent_disconnected_with_cause{code} follow what
# coderd reports and the causes on each agent's path; no workspace name or token in any label;
# at --log-level debug the logs, /report and /metrics never hold the token.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"
API="$CDD_SOURCE_DIR/tests/sandbox/coder-api"
FIXTURE="$CDD_SANDBOX_DIR/coder-api.json"
OWNER_TOKEN=$(<"$API/owner.token")

start_world field-report
kube_fixtures
start_kube_api
/usr/bin/python3 "$API/compose.py" --workspaces field-report --health eacs03 --page-size 2 -o "$FIXTURE"
cp "$API/owner.token" "$WORK/coder.token"
# shellcheck disable=SC2046
serve_start serve --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" $(standard_resolvers) $(kube_args) \
  --coder-token-file "$WORK/coder.token" --interval 1s --jitter 0 --timeout 900ms --log-level debug
wait_until 15 "/readyz never turned 200" status_is /readyz 200
causes_counted() {
  scrape "$WORK/m.txt"
  metrics_hold "$WORK/m.txt" "value('coder_dns_doctor_agent_disconnected_with_cause', code='EXTERNAL_DNS_MISMATCH') == 2"
}
wait_until 15 "agent_disconnected_with_cause{code=EXTERNAL_DNS_MISMATCH} never reached 2" causes_counted
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_agents', status='disconnected') == 3 and value('coder_dns_doctor_agents', status='timeout') == 1 and value('coder_dns_doctor_agents', status='connected') == 1 and value('coder_dns_doctor_agents', status='connecting') == 0" \
  "agents by status: alice, bob, heidi disconnected; carol timed out; grace connected"
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_agent_disconnected_with_cause', code='none') == 2" \
  "bob (healthy path) and heidi (no pod) have no cause"
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_finding', code='AGENT_DISCONNECTED', severity='error') == 1" \
  "the finding is exported"
assert_metrics "$WORK/m.txt" "not any(v in ('alice', 'dev', 'alice/dev', 'coder-alice-dev') or 'coder-workspace/' in v for v in label_values())" \
  "no workspace, owner or pod name as a label"

# the agents recover (coderd says connected): the cause counts fall to 0 at the next cycle
/usr/bin/python3 "$API/compose.py" --workspaces field-report --health ok --all-connected -o "$FIXTURE"
recovered() {
  scrape "$WORK/m2.txt"
  metrics_hold "$WORK/m2.txt" "value('coder_dns_doctor_agents', status='connected') == 5 and value('coder_dns_doctor_agent_disconnected_with_cause', code='EXTERNAL_DNS_MISMATCH') is None and value('coder_dns_doctor_agent_disconnected_with_cause', code='none') == 0"
}
wait_until 15 "the agent gauges did not follow coderd's recovery" recovered

# a token that stops working: the agent series go away (unknown, not "none lost")
cp "$API/unknown.token" "$WORK/coder.token"
unknown() {
  scrape "$WORK/m3.txt"
  metrics_hold "$WORK/m3.txt" "value('coder_dns_doctor_agents', status='connected') is None and value('coder_dns_doctor_finding', code='CODER_API_UNAVAILABLE', severity='warning') == 1"
}
wait_until 15 "a rejected token did not remove the agent series" unknown

fetch /report "$WORK/report.json"
# a cycle whose findings did not change logs at debug: the logs were written at that level
wait_until 10 "no debug line was logged" grep -Eq '"level":"debug"| debug ' "$SERVE_LOG"
serve_stop
for file in "$SERVE_LOG" "$WORK/m.txt" "$WORK/m2.txt" "$WORK/m3.txt" "$WORK/report.json"; do
  for token in "$OWNER_TOKEN" "$(<"$API/unknown.token")"; do
    if grep -qF "$token" "$file" || grep -qF "${token#*-}" "$file"; then fail "a Coder token appears in $file"; fi
  done
done
pass
