#!/usr/bin/env bash
# The dashboard against a real scrape: render the chart with values for the sandbox's field-report
# world, run `serve` with the rendered config file (as the pod would, listener moved to loopback),
# scrape /metrics once a cycle with a mismatch is done, and check that every metric (and label) the
# dashboard queries is in that scrape.
source "$CDD_SOURCE_DIR/tests/integration/lib.sh"
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"
TOOLS=${CDD_TOOLS_DIR:-$CDD_SOURCE_DIR/.tools}
start_world field-report

cat >"$WORK/values.yaml" <<VALUES
config:
  external-url: $EXTERNAL_URL
  internal-url: $INTERNAL_URL
  kube: "off"
  resolv-conf: $RESOLV_CONF
  ca-file: $CA_FILE
  resolver: [cluster=system, upstream=$UPSTREAM_DNS, public=$PUBLIC_DNS]
  expect:
    coder.example.test: [$INGRESS_IP]
  interval: 1s
  timeout: 900ms
  workspace-namespace: [coder-workspace]
VALUES
"$TOOLS/helm/helm" template cdd "$CDD_SOURCE_DIR/charts/coder-dns-doctor" -f "$WORK/values.yaml" \
  --show-only templates/configmap.yaml 2>/dev/null >"$WORK/configmap.yaml" || fail "helm template failed"
python3 -c "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['data']['config.yaml'], end='')" \
  "$WORK/configmap.yaml" >"$WORK/config.yaml"

serve_start serve --config "$WORK/config.yaml"
wait_until 15 "/readyz never turned 200" status_is /readyz 200
# Wait for a cycle that saw the stale answer, so the finding and mismatch series exist.
scrape "$WORK/metrics.txt"
wait_until 15 "no active finding in the scrape" \
  sh -c "curl -s --max-time 5 http://$SERVE_ADDR/metrics >'$WORK/metrics.txt' && grep -q '^coder_dns_doctor_finding{' '$WORK/metrics.txt'"
python3 "$CDD_SOURCE_DIR/tests/chart/chart_test.py" dashboard-scrape "$WORK/metrics.txt" || fail "dashboard vs scrape"
pass
