#!/usr/bin/env bash
# The workspace-pod audit: pods whose agent starts against the external URL are flagged
# (AGENT_URL_EXTERNAL) while that URL is broken in-cluster and the internal one works; a pod
# already patched passes; no env value but the host is ever printed.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
start_world field-report
kube_fixtures
# a second workspace namespace with one more unpatched agent (started from args, not env)
mkdir -p "$WORK/fixtures/api/v1/namespaces/team-b"
python3 - "$WORK/fixtures/api/v1/namespaces/coder-workspace/pods.json" "$WORK/fixtures/api/v1/namespaces/team-b/pods.json" <<'PY'
import json, sys
pods = json.load(open(sys.argv[1]))
alice = json.loads(json.dumps(pods["items"][0]))
alice["metadata"].update(namespace="team-b", name="coder-frank-dev")
script = next(e["value"] for e in alice["spec"]["containers"][0]["env"] if e["name"] == "ENVBUILDER_INIT_SCRIPT")
alice["spec"]["containers"][0]["env"] = [{"name": "CODER_AGENT_TOKEN", "value": "agent-token-SECRET-never-print-3"}]
alice["spec"]["containers"][0]["args"] = ["-c", script]
json.dump({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [alice]}, open(sys.argv[2], "w"))
PY
start_kube_api
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args) \
  --workspace-namespace coder-workspace --workspace-namespace team-b
expect_status 1
assert_report "finding('AGENT_URL_EXTERNAL')['severity'] == 'error'" "AGENT_URL_EXTERNAL is an error"
ev="evidence('AGENT_URL_EXTERNAL')"
assert_report "'coder-workspace/coder-alice-dev: agent URL host coder.example.test (external, from ENVBUILDER_INIT_SCRIPT)' in $ev" \
  "flags the pod whose init script embeds the external host"
assert_report "'coder-workspace/coder-carol-dev: agent URL host coder.example.test (external, from ENVBUILDER_INIT_SCRIPT)' in $ev" \
  "flags the half-patched pod (env rewritten, init script not)"
assert_report "'team-b/coder-frank-dev: agent URL host coder.example.test (external, from args)' in $ev" \
  "reads a second namespace and the container args"
assert_report "'coder-workspace/coder-bob-dev: agent URL host coder.coder.svc.cluster.local (internal, from command)' in $ev" \
  "passes the patched pod"
assert_report "'registry-cache' not in $ev and 'coder-dave-old' not in $ev" "ignores pods without an agent and finished pods"
assert_report "'3 of 4 workspace agent(s)' in finding('AGENT_URL_EXTERNAL')['summary']" "counts the agents"
assert_report "'coder-dns-doctor patch' in finding('AGENT_URL_EXTERNAL')['remediation']" "the remediation names patch"
assert_report "len(r['workspaces']) == 4" "one workspaces entry per agent"
assert_report "{(w['pod'], w['agent_host'], w['target']) for w in r['workspaces']} == {('coder-workspace/coder-alice-dev', 'coder.example.test', 'external'), ('coder-workspace/coder-carol-dev', 'coder.example.test', 'external'), ('team-b/coder-frank-dev', 'coder.example.test', 'external'), ('coder-workspace/coder-bob-dev', 'coder.coder.svc.cluster.local', 'internal')}" \
  "each pod with its agent host and whether that is the external or the internal URL"
# nothing of the env but the host: no token, no script text, no git URL
for needle in SECRET-never-print BINARY_URL git.example.test ENVBUILDER_GIT_URL waitonexit; do
  if grep -q "$needle" "$WORK/report.json" "$WORK/stderr"; then fail "'$needle' from a pod appears in the output"; fi
done

# the text report too
set +e
# shellcheck disable=SC2046
"$CDD_BIN" diagnose --output text --wide --ca-file "$CA_FILE" --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args) \
  >"$WORK/report.txt" 2>&1
set -e
grep -q "AGENT_URL_EXTERNAL" "$WORK/report.txt" || fail "the text report lacks AGENT_URL_EXTERNAL"
grep -Eq "coder-workspace/coder-bob-dev +coder.coder.svc.cluster.local +internal" "$WORK/report.txt" ||
  fail "the text report lacks the WORKSPACES table"
if grep -q "SECRET-never-print\|BINARY_URL" "$WORK/report.txt"; then fail "the text report prints pod env"; fi
assert_no_secrets "$WORK/report.txt"

# healthy world: the same pods on the external URL are not a finding (the URL works), but are listed
bash "$SANDBOX" switch healthy
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args)
expect_status 0
assert_report "'AGENT_URL_EXTERNAL' not in codes()" "no finding while the external URL works in-cluster"
assert_report "any(w['pod'] == 'coder-workspace/coder-alice-dev' and w['target'] == 'external' for w in r['workspaces'])" \
  "the audit still reports each pod"

# RBAC without list pods in the workspace namespace: a warning, the rest stands
start_kube_api forbid=/api/v1/namespaces/coder-workspace/pods
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args)
expect_status 0
assert_report "finding('KUBERNETES_UNAVAILABLE')['severity'] == 'warning' and r['verdict'] == 'degraded'" \
  "a forbidden audit is a warning"
assert_report "'list pods in namespace coder-workspace: HTTP 403' in evidence('KUBERNETES_UNAVAILABLE')" "names the rule"

# --workspace-namespace '' turns the audit off: no pod list is requested
: >"$KUBE_STATE/logs/access.log"
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args) --workspace-namespace ''
expect_status 0
if grep -q "/pods" "$KUBE_STATE/logs/access.log"; then fail "pods were listed with the audit off"; fi
pass
