#!/usr/bin/env bash
# The field report's cluster, with truth and the external URL read from the (fake) API server:
# no --expect, no --external-url. Same findings as with static truth, every source named.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
start_world field-report
start_kube_api

# 1. URL mode: --kube https://... with a token file and the API server's CA.
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args)
expect_status 1
assert_report "{'EXTERNAL_DNS_MISMATCH', 'HEALTHZ_FAILS_VIA_DNS', 'RESOLVER_DISAGREEMENT'} <= codes()" "the field report's findings"
assert_report "'INTERNAL_DNS_MISMATCH' not in codes() and 'KUBERNETES_UNAVAILABLE' not in codes()" "internal path and API fine"
truth_has coder.example.test "$INGRESS_IP" kubernetes:ingress/coder/coder
truth_has coder.coder.svc.cluster.local "$CLUSTER_IP" kubernetes:service/coder/coder
assert_report "not any(t['source'] == 'static' for t in r['truth'])" "no static truth"
assert_report "not any('grafana' in t['source'] for t in r['truth'])" "an Ingress for another host is ignored"
assert_report "any('external URL $EXTERNAL_URL from deployment coder/coder env CODER_ACCESS_URL' in n for n in r['truth_notes'])" \
  "the note says where the external URL came from"
assert_report "len(http('$EXTERNAL_URL', 'pinned')) > 0 and all(h['ok'] for h in http('$EXTERNAL_URL', 'pinned'))" \
  "the discovered URL is probed, pinned to the discovered ingress address"
assert_report "dns('coder.example.test', 'cluster')['expected'] == ['$INGRESS_IP'] and dns('coder.example.test', 'cluster')['match'] is False" \
  "the stale answer is judged against the discovered truth"
cp "$WORK/report.json" "$WORK/kube.json"

# 2. The same world with static truth and Kubernetes off: the same DNS and HTTP findings.
# shellcheck disable=SC2046
kdiagnose --kube off --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" $(standard_resolvers) \
  --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 1
python3 - "$WORK/kube.json" "$WORK/report.json" <<'PY' || fail "discovered truth gives other findings than static truth"
import json, sys
kube, static = (json.load(open(p)) for p in sys.argv[1:3])
def codes(r): return sorted(f["code"] for f in r["findings"] if f["code"] not in ("AGENT_URL_EXTERNAL",))
assert codes(kube) == codes(static), (codes(kube), codes(static))
assert [d["match"] for d in kube["dns"]] == [d["match"] for d in static["dns"]]
PY

# 3. In-cluster mode chosen by --kube auto from KUBERNETES_SERVICE_HOST/PORT (the token and CA
#    files are flags here because this machine has no service-account mount).
# shellcheck disable=SC2046
KUBERNETES_SERVICE_HOST=$KUBE_API_ADDR KUBERNETES_SERVICE_PORT=$KUBE_API_PORT \
  kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) --kube-token-file "$WORK/token" --kube-ca-file "$KUBE_API_CA"
expect_status 1
truth_has coder.example.test "$INGRESS_IP" kubernetes:ingress/coder/coder
assert_report "any(n.startswith('Kubernetes: in-cluster service account') for n in r['truth_notes'])" "in-cluster mode was chosen"

# 4. --expect wins over discovered truth, with a note.
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args) --expect "coder.example.test=$STALE_IP"
truth_has coder.example.test "$STALE_IP" static
assert_report "any('--expect for coder.example.test overrides kubernetes:ingress/coder/coder' in n for n in r['truth_notes'])" \
  "the override is noted"

# 5. The access URL through a configMapKeyRef.
kube_fixtures configmap-url
start_kube_api
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args)
expect_status 1
assert_report "any('from configmap coder/coder-config key access_url' in n for n in r['truth_notes'])" "URL from the ConfigMap"
assert_report "len(http('$EXTERNAL_URL', 'pinned')) > 0" "the ConfigMap's URL is probed"

# 6. The text report names the sources too; and Kubernetes off without a URL is a usage error.
set +e
# shellcheck disable=SC2046
"$CDD_BIN" diagnose --output text --wide --ca-file "$CA_FILE" --internal-url "$INTERNAL_URL" $(standard_resolvers) \
  $(kube_args) >"$WORK/report.txt" 2>&1
"$CDD_BIN" diagnose --kube off --internal-url "$INTERNAL_URL" >"$WORK/off.out" 2>"$WORK/off.err"
off_status=$?
set -e
grep -q "kubernetes:ingress/coder/coder" "$WORK/report.txt" || fail "the text report lacks the truth source"
assert_no_secrets "$WORK/report.txt"
[ "$off_status" = 2 ] || fail "--kube off without --external-url: exit $off_status, expected 2"
grep -q -- "--external-url is required" "$WORK/off.err" || fail "the usage error does not name --external-url"
pass
