#!/usr/bin/env bash
# End to end with a real Prometheus (loopback, its own data dir): it scrapes serve running against the
# field-report world, the mismatch series carries the right labels, CoderDNSMismatch (from
# alerts.yaml; only its `for:` shortened in a test-only copy) goes pending then firing; after the world
# is switched to healthy the series recovers and the alert resolves.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"
command -v prometheus >/dev/null || fail "prometheus not installed (apt-get install prometheus)"
start_world field-report
# shellcheck disable=SC2046
serve_start serve --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" --kube off \
  $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --interval 1s --timeout 900ms
wait_until 10 "/readyz never turned 200" status_is /readyz 200

# The rules under test are the shipped ones; only CoderDNSMismatch's `for:` is shortened.
python3 - "$CDD_SOURCE_DIR/charts/coder-dns-doctor/files/alerts.yaml" "$WORK/rules.yaml" <<'PY'
import sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
for group in rules["groups"]:
    for rule in group["rules"]:
        if rule.get("alert") == "CoderDNSMismatch":
            assert rule["for"] == "5m", rule["for"]
            rule["for"] = "4s"
yaml.safe_dump(rules, open(sys.argv[2], "w"), sort_keys=False)
PY
promtool check rules "$WORK/rules.yaml" >/dev/null || fail "test rule copy does not check"
PROM_PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [$WORK/rules.yaml]
scrape_configs:
  - job_name: coder-dns-doctor
    static_configs:
      - targets: ['$SERVE_ADDR']
YAML
promtool check config "$WORK/prometheus.yml" >/dev/null || fail "prometheus.yml does not check"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn 2>"$WORK/prometheus.log" &
fault_pids+=($!)
PROM="http://127.0.0.1:$PROM_PORT"
prom_ready() { curl -sf "$PROM/-/ready" >/dev/null; }
wait_until 30 "prometheus did not become ready: $(tail -3 "$WORK/prometheus.log")" prom_ready
T0=$(date +%s)

# prom_check PYTHON_EXPR: query helpers q(promql) -> [(labels, value)], alerts(name) -> [alert];
# status 0 when EXPR holds.
prom_check() {
  python3 - "$PROM" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
base, expr = sys.argv[1], sys.argv[2]
def get(path, **params):
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    return json.load(urllib.request.urlopen(url, timeout=5))["data"]
def q(promql):
    return [(r["metric"], float(r["value"][1])) for r in get("/api/v1/query", query=promql)["result"]]
def alerts(name):
    return [a for a in get("/api/v1/alerts")["alerts"] if a["labels"]["alertname"] == name]
sys.exit(0 if eval(expr) else 1)
PY
}
SEL='coder_dns_doctor_dns_answer_match{host="coder.example.test",resolver="cluster",family="A"}'
scraped() { prom_check "q('up{job=\"coder-dns-doctor\"}') == [({'__name__': 'up', 'instance': '$SERVE_ADDR', 'job': 'coder-dns-doctor'}, 1.0)]"; }
wait_until 20 "prometheus does not scrape serve" scraped
mismatch_series() { prom_check "[v for _, v in q('$SEL')] == [0.0]"; }
wait_until 20 "no mismatch series in prometheus" mismatch_series
prom_check "q('$SEL')[0][0] == {'__name__': 'coder_dns_doctor_dns_answer_match', 'host': 'coder.example.test', 'resolver': 'cluster', 'family': 'A', 'instance': '$SERVE_ADDR', 'job': 'coder-dns-doctor'}" ||
  fail "mismatch series labels are not exactly host, resolver, family (+ job, instance)"
prom_check "[v for _, v in q('coder_dns_doctor_dns_answer_match{host=\"coder.example.test\",resolver=\"public\",family=\"A\"}')] == [1.0]" ||
  fail "public answer should match"

pending_or_firing() { prom_check "any(a['state'] in ('pending', 'firing') for a in alerts('CoderDNSMismatch'))"; }
wait_until 20 "CoderDNSMismatch never became pending" pending_or_firing
echo "CoderDNSMismatch pending after $(( $(date +%s) - T0 ))s"
firing() {
  prom_check "any(a['state'] == 'firing' and a['labels']['host'] == 'coder.example.test' and a['labels']['resolver'] == 'cluster' and a['labels']['severity'] == 'critical' and a['annotations']['runbook_url'].endswith('#coderdnsmismatch') for a in alerts('CoderDNSMismatch'))"
}
wait_until 30 "CoderDNSMismatch never fired" firing
echo "CoderDNSMismatch firing after $(( $(date +%s) - T0 ))s"
prom_check "not any(a['labels']['resolver'] == 'public' for a in alerts('CoderDNSMismatch'))" || fail "the matching resolver must not alert"
prom_check "any(a['state'] == 'firing' for a in alerts('CoderHealthzDownViaDNS')) or any(a['state'] == 'pending' for a in alerts('CoderHealthzDownViaDNS'))" ||
  fail "CoderHealthzDownViaDNS is not at least pending"

# Fix the world in place: the series recovers and the alert resolves.
bash "$SANDBOX" switch healthy
T0=$(date +%s)
recovered() { prom_check "[v for _, v in q('$SEL')] == [1.0]"; }
wait_until 30 "the mismatch series did not recover in prometheus" recovered
resolved() { prom_check "not alerts('CoderDNSMismatch')"; }
wait_until 30 "CoderDNSMismatch did not resolve" resolved
echo "recovered and resolved $(( $(date +%s) - T0 ))s after the switch to healthy"
prom_check "q('increase(coder_dns_doctor_dns_mismatch_total{host=\"coder.example.test\",resolver=\"cluster\"}[1m])')[0][1] > 0" ||
  fail "the mismatch counter's increase is visible to PromQL"
expect_clean_stop
pass
