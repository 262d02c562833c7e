#!/usr/bin/env bash
# serve against the field-report world: the contract's metric families, types and labels, a
# promtool-clean scrape, counters that keep counting, no address as a label; then the world is
# fixed in place and the series recover; SIGTERM stops it cleanly.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"
start_world field-report
# Truth for the external host only: the internal host's match series must then be absent.
# shellcheck disable=SC2046
serve_start serve --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" \
  $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --kube off --interval 1s --timeout 900ms
wait_until 10 "/readyz never turned 200" status_is /readyz 200

scrape "$WORK/m1.txt"
promtool check metrics <"$WORK/m1.txt" >"$WORK/promtool.out" 2>&1 || fail "promtool check metrics: $(cat "$WORK/promtool.out")"
[ ! -s "$WORK/promtool.out" ] || fail "promtool check metrics is not clean: $(cat "$WORK/promtool.out")"

M="$WORK/m1.txt"
# Exactly the families, types and label names of CONTRACTS.md.
assert_metrics "$M" "all(types.get(n) == t for n, t in {
  'coder_dns_doctor_dns_lookup_success': 'gauge', 'coder_dns_doctor_dns_answer_match': 'gauge',
  'coder_dns_doctor_dns_mismatch_total': 'counter', 'coder_dns_doctor_dns_lookup_duration_seconds': 'histogram',
  'coder_dns_doctor_dns_answer_ttl_seconds': 'gauge', 'coder_dns_doctor_http_up': 'gauge',
  'coder_dns_doctor_http_duration_seconds': 'histogram', 'coder_dns_doctor_finding': 'gauge',
  'coder_dns_doctor_cycle_duration_seconds': 'gauge', 'coder_dns_doctor_last_cycle_timestamp_seconds': 'gauge',
  'coder_dns_doctor_build_info': 'gauge'}.items())" "contract families with their types"
assert_metrics "$M" "all(set(l) == want for name, want in {
  'coder_dns_doctor_dns_lookup_success': {'host', 'resolver', 'family'},
  'coder_dns_doctor_dns_answer_match': {'host', 'resolver', 'family'},
  'coder_dns_doctor_dns_mismatch_total': {'host', 'resolver'},
  'coder_dns_doctor_dns_lookup_duration_seconds_count': {'resolver'},
  'coder_dns_doctor_dns_answer_ttl_seconds': {'host', 'resolver', 'family'},
  'coder_dns_doctor_http_up': {'url', 'via'},
  'coder_dns_doctor_http_duration_seconds_count': {'via'},
  'coder_dns_doctor_finding': {'code', 'severity'},
  'coder_dns_doctor_cycle_duration_seconds': set(),
  'coder_dns_doctor_last_cycle_timestamp_seconds': set(),
  'coder_dns_doctor_build_info': {'version', 'revision'}}.items() for l, _ in series(name)) and series('coder_dns_doctor_finding')" \
  "contract label names on every series"
assert_metrics "$M" "label_values() and not any(re.search(r'\\b\\d{1,3}(\\.\\d{1,3}){3}\\b', v) or re.fullmatch(r'[0-9a-fA-F]*:[0-9a-fA-F:]*:[0-9a-fA-F]*', v) for v in label_values())" \
  "no address is ever a label value"

# The field report, as metrics.
X=coder.example.test
I=coder.coder.svc.cluster.local
assert_metrics "$M" "value('coder_dns_doctor_dns_answer_match', host='$X', resolver='cluster', family='A') == 0" "pods' answer mismatches"
assert_metrics "$M" "value('coder_dns_doctor_dns_answer_match', host='$X', resolver='upstream', family='A') == 0" "LAN answer mismatches"
assert_metrics "$M" "value('coder_dns_doctor_dns_answer_match', host='$X', resolver='public', family='A') == 1" "public answer matches"
assert_metrics "$M" "value('coder_dns_doctor_dns_answer_match', host='$X', resolver='cluster/search', family='A') == 0" \
  "the search-list lookup is its own resolver label value"
assert_metrics "$M" "value('coder_dns_doctor_dns_lookup_success', host='$X', resolver='cluster', family='A') == 1" "lookup succeeded"
assert_metrics "$M" "value('coder_dns_doctor_dns_lookup_success', host='$I', resolver='cluster', family='A') == 1" "internal lookup succeeded"
assert_metrics "$M" "value('coder_dns_doctor_dns_answer_match', host='$I', resolver='cluster', family='A') is None" \
  "no truth for the internal host: its match series is absent"
assert_metrics "$M" "0 < value('coder_dns_doctor_dns_answer_ttl_seconds', host='$X', resolver='public', family='A') <= 300" "TTL exported"
assert_metrics "$M" "value('coder_dns_doctor_http_up', url='$EXTERNAL_URL/healthz', via='pinned') == 1" "healthz pinned to the ingress is up"
assert_metrics "$M" "value('coder_dns_doctor_http_up', url='$EXTERNAL_URL/healthz', via='dns') == 0" "healthz through DNS is down"
assert_metrics "$M" "value('coder_dns_doctor_http_failures_total', url='$EXTERNAL_URL/healthz', via='dns', reason='refused') >= 1 and value('coder_dns_doctor_http_failures_total', url='$EXTERNAL_URL/api/v2/buildinfo', via='dns', reason='not_sent') >= 1" \
  "failures through DNS are counted by reason: the stale address refuses, buildinfo is not sent"
assert_metrics "$M" "types.get('coder_dns_doctor_http_failures_total') == 'counter' and all(set(l) == {'url', 'via', 'reason'} and l['via'] != 'pinned' for l, _ in series('coder_dns_doctor_http_failures_total'))" \
  "http_failures_total: url, via, reason; nothing failed pinned to the ingress"
assert_metrics "$M" "value('coder_dns_doctor_finding', code='EXTERNAL_DNS_MISMATCH', severity='error') == 1" "mismatch finding active"
assert_metrics "$M" "value('coder_dns_doctor_finding', code='HEALTHZ_FAILS_VIA_DNS', severity='error') == 1" "healthz-via-DNS finding active"
assert_metrics "$M" "value('coder_dns_doctor_mismatch_total', host='$X', resolver='cluster') is None" "sanity: no misspelt family"
assert_metrics "$M" "value('coder_dns_doctor_dns_mismatch_total', host='$X', resolver='public') == 0" \
  "a never-mismatched pair is exported at 0"
assert_metrics "$M" "value('coder_dns_doctor_build_info', version=series('coder_dns_doctor_build_info')[0][0]['version'], revision=series('coder_dns_doctor_build_info')[0][0]['revision']) == 1" "build_info is 1"
assert_metrics "$M" "value('coder_dns_doctor_last_cycle_timestamp_seconds') > 1.7e9" "last cycle timestamp is Unix time"

fetch /report "$WORK/report.json"
assert_report "r['verdict'] == 'broken' and 'EXTERNAL_DNS_MISMATCH' in codes()" "/report is the diagnose document"

# Counters keep counting across cycles.
first=$(python3 -c "import re,sys; print(re.search(r'coder_dns_doctor_dns_mismatch_total\{host=\"$X\",resolver=\"cluster\"\} (\S+)', open(sys.argv[1]).read()).group(1))" "$M")
sleep 2.5
scrape "$WORK/m2.txt"
assert_metrics "$WORK/m2.txt" "value('coder_dns_doctor_dns_mismatch_total', host='$X', resolver='cluster') >= $first + 1" \
  "mismatch counter increased from $first"

# Fix the world in place: the gauges recover, the counter stays.
bash "$SANDBOX" switch healthy
recovered() {
  scrape "$WORK/m3.txt"
  metrics_hold "$WORK/m3.txt" "value('coder_dns_doctor_dns_answer_match', host='$X', resolver='cluster', family='A') == 1 and value('coder_dns_doctor_finding', code='EXTERNAL_DNS_MISMATCH', severity='error') is None"
}
wait_until 15 "series did not recover after switching to healthy" recovered
assert_metrics "$WORK/m3.txt" "value('coder_dns_doctor_dns_mismatch_total', host='$X', resolver='cluster') >= $first + 1" "counter did not reset"
assert_metrics "$WORK/m3.txt" "value('coder_dns_doctor_http_up', url='$EXTERNAL_URL/healthz', via='dns') == 1" "healthz via DNS recovered"

expect_clean_stop
grep -q "stopping signal=SIGTERM" "$SERVE_LOG" || fail "no stop line in the log"
pass
