#!/usr/bin/env bash
# serve's held DERP connections. In the short-idle world the ingress cuts idle connections after
# INGRESS_READ_TIMEOUT (3 s), sooner than the stand-in's DERP keepalive (5 s): serve holds one DERP
# WebSocket per path, the external ones are cut and reconnected (closes_total{cause="closed_early"}
# with --hold-min 4s, then TRANSPORT_CUT_BY_PROXY in /report), the internal one lives on (its age
# grows, also across a SIGHUP); SIGTERM stops it within 2 s. In the healthy world nothing closes.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"

serve_world() {
  # shellcheck disable=SC2046
  serve_start serve --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" \
    $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP" \
    --kube off --interval 2s --jitter 0 --timeout 900ms --hold-min 4s "$@"
  wait_until 10 "/readyz never turned 200" status_is /readyz 200
}
closes() { echo "value('coder_dns_doctor_transport_closes_total', url='$1', via='$2', cause='closed_early')"; }
age() { echo "value('coder_dns_doctor_transport_connection_age_seconds', url='$1', via='$2')"; }

start_world short-idle
ext=$EXTERNAL_URL
int=$INTERNAL_URL
serve_world
cut_twice() {
  scrape "$WORK/m1.txt"
  metrics_hold "$WORK/m1.txt" "($(closes "$ext" dns) or 0) >= 2 and ($(closes "$ext" pinned) or 0) >= 2"
}
wait_until 30 "the external held connections were not cut twice" cut_twice
assert_metrics "$WORK/m1.txt" "$(closes "$int" internal) == 0" "the internal connection was never cut"
assert_metrics "$WORK/m1.txt" "($(age "$ext" dns) or 0) < 4 and ($(age "$ext" pinned) or 0) < 4" \
  "external connections never get older than the ingress timeout"
assert_metrics "$WORK/m1.txt" "'$INGRESS_IP' not in label_values() and '$CLUSTER_IP' not in label_values()" \
  "no address as a label"
wait_until 10 "internal connection younger than 6 s" \
  eval 'scrape "$WORK/m2.txt" && metrics_hold "$WORK/m2.txt" "($(age "$int" internal) or 0) >= 6"'
python3 - "$WORK/m1.txt" <<'PY' >&2
import re, sys
for line in open(sys.argv[1]):
    if re.match(r"coder_dns_doctor_transport_(closes_total|connection_age)", line):
        print("  " + line.rstrip())
PY

cut_reported() {
  fetch /report "$WORK/report.json"
  python3 -c "import json,sys; sys.exit(0 if any(f['code'] == 'TRANSPORT_CUT_BY_PROXY' for f in json.load(open('$WORK/report.json'))['findings']) else 1)"
}
wait_until 10 "/report has no TRANSPORT_CUT_BY_PROXY" cut_reported
assert_report "'held derp-websocket $ext via dns' in evidence('TRANSPORT_CUT_BY_PROXY')" "evidence names the path"
assert_report "'closed after' in evidence('TRANSPORT_CUT_BY_PROXY') and 'times' in evidence('TRANSPORT_CUT_BY_PROXY')" \
  "evidence gives the lifetime and the count"
assert_report "'$int' not in evidence('TRANSPORT_CUT_BY_PROXY')" "the internal URL is not accused"
assert_report "r['verdict'] == 'broken'" "the verdict follows the finding"
scrape "$WORK/m3.txt"
assert_metrics "$WORK/m3.txt" "value('coder_dns_doctor_finding', code='TRANSPORT_CUT_BY_PROXY', severity='error') == 1" \
  "finding gauge"

# SIGHUP: the internal connection stays (its age does not reset, no close counted).
scrape "$WORK/h1.txt"
before=$(python3 -c "import re,sys; print(re.search(r'^coder_dns_doctor_transport_connection_age_seconds\{url=\"$int\",via=\"internal\"\} (\S+)', open(sys.argv[1]).read(), re.M).group(1))" "$WORK/h1.txt")
kill -HUP "$SERVE_PID"
reloaded() {
  scrape "$WORK/h2.txt"
  metrics_hold "$WORK/h2.txt" "value('coder_dns_doctor_config_reloads_total', result='success') == 1"
}
wait_until 10 "reload not applied" reloaded
sleep 2.5 # a cycle with the reloaded configuration hands its paths to the holder
scrape "$WORK/h3.txt"
assert_metrics "$WORK/h3.txt" "$(age "$int" internal) >= $before + 2" "the internal age kept growing across SIGHUP (was $before)"
assert_metrics "$WORK/h3.txt" "$(closes "$int" internal) == 0" "no internal close across SIGHUP"
echo "internal age before SIGHUP ${before}s, after: $(grep -F "connection_age_seconds{url=\"$int\"" "$WORK/h3.txt")" >&2

expect_clean_stop
echo "SIGTERM stop took ${STOP_SECONDS}s" >&2

# The healthy world: the ingress does not cut, nothing closes, no finding.
start_world healthy
serve_world
sleep 8
scrape "$WORK/g1.txt"
assert_metrics "$WORK/g1.txt" "all(v == 0 for l, v in series('coder_dns_doctor_transport_closes_total'))" "healthy: no close"
assert_metrics "$WORK/g1.txt" "len(series('coder_dns_doctor_transport_connection_age_seconds')) == 4" \
  "healthy: four paths held (external dns and pinned, internal and its pinned address)"
assert_metrics "$WORK/g1.txt" "all(v >= 5 for l, v in series('coder_dns_doctor_transport_connection_age_seconds'))" \
  "healthy: every connection lived on"
fetch /report "$WORK/report.json"
assert_report "'TRANSPORT_CUT_BY_PROXY' not in codes()" "healthy: no TRANSPORT_CUT_BY_PROXY"
expect_clean_stop
pass
