#!/usr/bin/env bash
# The API server fails in every way it can: 401, 403, 404, 500, malformed JSON, a hung answer,
# a refused connection, an untrusted certificate. Each is KUBERNETES_UNAVAILABLE with evidence
# that says what and why, diagnose still checks what it can, exits 1, and never crashes.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
start_world field-report

# kube_fails WHAT: the common assertions for a failed API read
kube_fails() {
  expect_status 1
  assert_report "finding('KUBERNETES_UNAVAILABLE') is not None and finding('KUBERNETES_UNAVAILABLE')['severity'] == 'error'" \
    "$1: KUBERNETES_UNAVAILABLE is an error"
  assert_report "finding('KUBERNETES_UNAVAILABLE')['remediation']" "$1: it has a remediation"
  assert_report "dns('coder.coder.svc.cluster.local', 'cluster') is not None" "$1: the internal host is still checked"
}
run() {
  # shellcheck disable=SC2046
  kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args) "$@"
}

# 401: a token the server does not accept (and that must not be printed either)
start_kube_api
echo "wrong-token-SECRET-never-print" >"$WORK/token"
run
kube_fails 401
assert_report "'HTTP 401 Unauthorized' in evidence('KUBERNETES_UNAVAILABLE')" "401: evidence says HTTP 401"
assert_report "'401' in finding('KUBERNETES_UNAVAILABLE')['summary']" "401: the summary says the token is rejected"
assert_report "'token' in finding('KUBERNETES_UNAVAILABLE')['remediation']" "401: the remediation is about the token"
assert_report "'get deployments \"coder\" (API group apps) in namespace coder' in evidence('KUBERNETES_UNAVAILABLE')" \
  "401: evidence names the request"
assert_report "not any(h['base_url'].startswith('https://coder.example.test') for h in r['http'])" \
  "401: no external URL was invented"

# 403: RBAC lacks list on Ingresses; the message names the verb, resource, scope and the rule
start_kube_api forbid=/apis/networking.k8s.io/v1/ingresses
run --external-url "$EXTERNAL_URL"
kube_fails 403
assert_report "'list ingresses (API group networking.k8s.io) (cluster-wide): HTTP 403 Forbidden' in evidence('KUBERNETES_UNAVAILABLE')" \
  "403: names verb, resource and scope"
assert_report "'apiGroups: [\"networking.k8s.io\"], resources: [\"ingresses\"], verbs: [\"list\"]' in evidence('KUBERNETES_UNAVAILABLE')" \
  "403: names the missing rule"
assert_report "'RBAC' in finding('KUBERNETES_UNAVAILABLE')['remediation'] and 'docs/rbac.yaml' in finding('KUBERNETES_UNAVAILABLE')['remediation']" \
  "403: the remediation points at the RBAC table"
truth_has coder.coder.svc.cluster.local "$CLUSTER_IP" kubernetes:service/coder/coder
assert_report "'RESOLVER_DISAGREEMENT' in codes()" "403: the DNS checks still ran"

# 403 on a namespaced get names the namespace
start_kube_api forbid=/api/v1/namespaces/coder/services/coder
run --external-url "$EXTERNAL_URL"
kube_fails 403-namespaced
assert_report "'get services \"coder\" in namespace coder: HTTP 403 Forbidden: the service account may not get services' in evidence('KUBERNETES_UNAVAILABLE')" \
  "403: names the namespace"

# 404: the Coder Deployment does not exist under that name
start_kube_api status=/apis/apps/v1/namespaces/coder/deployments/coder=404
run
kube_fails 404
assert_report "'HTTP 404' in evidence('KUBERNETES_UNAVAILABLE')" "404: evidence says HTTP 404"
assert_report "'--coder-deployment' in finding('KUBERNETES_UNAVAILABLE')['remediation']" "404: says how to name the object"

# 500: the API server fails one request; the rest of discovery goes on
start_kube_api status=/api/v1/namespaces/coder/services/coder=500
run
kube_fails 500
assert_report "'HTTP 500 (server: etcdserver: request timed out)' in evidence('KUBERNETES_UNAVAILABLE')" "500: evidence has the status and message"
truth_has coder.example.test "$INGRESS_IP" kubernetes:ingress/coder/coder

# malformed JSON
start_kube_api malformed=/apis/apps/v1/namespaces/coder/deployments/coder
run
kube_fails malformed
assert_report "'the answer is not a Kubernetes JSON object' in evidence('KUBERNETES_UNAVAILABLE')" "malformed: evidence says so"
assert_report "'not at a proxy' in finding('KUBERNETES_UNAVAILABLE')['remediation']" "malformed: remediation"

# valid JSON of the wrong shape
mkdir -p "$WORK/fixtures/apis/networking.k8s.io/v1"
echo '{"kind": "Status", "items": "nope"}' >"$WORK/fixtures/apis/networking.k8s.io/v1/ingresses.json"
start_kube_api
run
kube_fails wrong-shape
assert_report "'the answer is not the object expected' in evidence('KUBERNETES_UNAVAILABLE')" "wrong shape: evidence says so"
kube_fixtures

# a hung API server: one timeout, later requests are not even sent, the check stays bounded
start_kube_api slow=/apis/apps/v1/namespaces/coder/deployments/coder=1
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args) --timeout 1s
kube_fails timeout
assert_report "'no answer in time' in evidence('KUBERNETES_UNAVAILABLE')" "timeout: evidence says so"
assert_report "'not asked' in evidence('KUBERNETES_UNAVAILABLE')" "timeout: later requests were skipped"
python3 -c "import sys; sys.exit(0 if float('$DIAG_SECONDS') < 6 else 1)" ||
  fail "timeout: diagnose took $DIAG_SECONDS s with a 1 s timeout"

# nothing listens: connection refused
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) --kube "https://$KUBE_API_ADDR:1" \
  --kube-token-file "$WORK/token" --kube-ca-file "$KUBE_API_CA"
kube_fails refused
assert_report "'cannot reach the API server' in evidence('KUBERNETES_UNAVAILABLE')" "refused: evidence says so"

# TLS: the API server's CA is not trusted (no --kube-ca-file) ...
start_kube_api
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) --kube "$KUBE_API_URL" --kube-token-file "$WORK/token"
kube_fails untrusted
assert_report "'certificate' in evidence('KUBERNETES_UNAVAILABLE').lower()" "untrusted: evidence names the certificate"
# ... unless verification is turned off explicitly, which warns
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) --kube "$KUBE_API_URL" --kube-token-file "$WORK/token" \
  --kube-insecure
assert_report "'KUBERNETES_UNAVAILABLE' not in codes()" "insecure: truth is read"
grep -q "warning: --kube-insecure" "$WORK/stderr" || fail "insecure: no warning on stderr"
assert_report "any('TLS verification of the API server is off' in n for n in r['truth_notes'])" "insecure: noted in the report"

# a token file that cannot be read is a usage error (exit 2) naming the option
set +e
"$CDD_BIN" diagnose --output json --kube "$KUBE_API_URL" --kube-token-file "$WORK/missing-token" \
  --internal-url "$INTERNAL_URL" >"$WORK/out" 2>"$WORK/err"
status=$?
set -e
[ "$status" = 2 ] || fail "missing token file: exit $status, expected 2"
grep -q -- "--kube-token-file" "$WORK/err" || fail "missing token file: the message does not name the option"
pass
