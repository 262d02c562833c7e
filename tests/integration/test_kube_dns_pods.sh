#!/usr/bin/env bash
# --resolver kube-dns=kube-dns-pods asks every ready CoreDNS pod directly, one resolver each
# (kube-dns/<pod>): a single stale replica is told apart from CoreDNS as a whole.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
start_world healthy
start_kube_api
GOOD=coredns-5d78c9869d-a1b2c  # 127.0.0.10: the sandbox's cluster DNS
BAD=coredns-5d78c9869d-x9y8z   # 127.0.6.53: a replica with a stale answer
start_dnsmasq 127.0.6.53 --local=/#/ "--host-record=coder.example.test,$STALE_IP" \
  "--host-record=coder.coder.svc.cluster.local,$CLUSTER_IP"
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" --resolver kube-dns=kube-dns-pods --resolver "public=$PUBLIC_DNS" $(kube_args)
expect_status 1
assert_report "sorted(x['label'] for x in r['resolvers']) == ['kube-dns/$GOOD', 'kube-dns/$BAD', 'public']" \
  "one resolver per ready pod (not the not-ready or terminating ones)"
assert_report "[x['servers'] for x in r['resolvers'] if x['label'] == 'kube-dns/$BAD'] == [['127.0.6.53:53']]" \
  "the pod's IP and dns port"
assert_report "dns('coder.example.test', 'kube-dns/$GOOD')['match'] is True" "the good replica matches"
assert_report "dns('coder.example.test', 'kube-dns/$BAD')['match'] is False" "the bad replica does not"
assert_report "'kube-dns/$BAD' in finding('EXTERNAL_DNS_MISMATCH')['summary'] and 'kube-dns/$GOOD' not in finding('EXTERNAL_DNS_MISMATCH')['summary']" \
  "the mismatch names only the bad replica"
assert_report "dns('coder.coder.svc.cluster.local', 'kube-dns/$GOOD')['match'] is True and dns('coder.coder.svc.cluster.local', 'public') is None" \
  "the internal host is asked of the CoreDNS pods, not of public DNS"
assert_report "'kube-dns/$GOOD' in evidence('RESOLVER_DISAGREEMENT')" "the disagreement says who agrees with the truth"

# RBAC without list pods in kube-system: the resolver cannot be built, and the report says which rule
start_kube_api forbid=/api/v1/namespaces/kube-system/pods
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" --resolver kube-dns=kube-dns-pods --resolver "public=$PUBLIC_DNS" $(kube_args)
expect_status 1
assert_report "'list pods in namespace kube-system: HTTP 403' in evidence('KUBERNETES_UNAVAILABLE')" "the 403 names the rule"
assert_report "finding('KUBERNETES_UNAVAILABLE')['severity'] == 'error'" "a missing resolver is an error"
assert_report "[x['label'] for x in r['resolvers']] == ['public']" "the other resolvers still run"

# another namespace and selector, where no pod is ready
mkdir -p "$WORK/fixtures/api/v1/namespaces/dns-system"
echo '{"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": []}' >"$WORK/fixtures/api/v1/namespaces/dns-system/pods.json"
start_kube_api
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" --resolver kube-dns=kube-dns-pods $(kube_args) \
  --kube-dns-namespace dns-system --kube-dns-selector k8s-app=coredns
assert_report "'resolver kube-dns: no ready pod matches k8s-app=coredns in namespace dns-system' in evidence('KUBERNETES_UNAVAILABLE')" \
  "no pods: said so"
grep -q "GET /api/v1/namespaces/dns-system/pods?labelSelector=k8s-app%3Dcoredns" "$KUBE_STATE/logs/access.log" ||
  fail "the selector was not sent to the API server"

# kube-dns-pods with Kubernetes off is a usage error
set +e
"$CDD_BIN" diagnose --kube off --external-url "$EXTERNAL_URL" --resolver kube-dns=kube-dns-pods >/dev/null 2>"$WORK/err"
status=$?
set -e
[ "$status" = 2 ] || fail "kube-dns-pods with --kube off: exit $status, expected 2"
grep -q "kube-dns-pods needs the Kubernetes API" "$WORK/err" || fail "the usage error does not say why"
pass
