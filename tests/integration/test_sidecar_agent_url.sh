#!/usr/bin/env bash
# sidecar in a workspace pod: it checks the URL the agent dials (CODER_AGENT_URL) through the pod's
# own resolv.conf. Pointed at the external host of the field-report world, its metrics show the
# mismatch; pointed at the internal URL (what `patch` sets), they are clean. Smaller defaults.
# With --metrics minimal both stay visible in a third of the series.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"
start_world field-report
# What a pod spec would set: the agent's URL, plus the truth the chart hands the sidecar.
export CODER_AGENT_URL="$EXTERNAL_URL"
export CODER_DNS_DOCTOR_RESOLV_CONF="$RESOLV_CONF"
export CODER_DNS_DOCTOR_CA_FILE="$CA_FILE"
export CODER_DNS_DOCTOR_INTERNAL_URL="$INTERNAL_URL"
export CODER_DNS_DOCTOR_EXPECT="coder.example.test=$INGRESS_IP"

"$CDD_BIN" sidecar --show-config >"$WORK/show.txt" 2>"$WORK/show.err" || fail "--show-config: $(cat "$WORK/show.err")"
grep -Eq "^agent-url +$EXTERNAL_URL +env CODER_AGENT_URL$" "$WORK/show.txt" || fail "agent URL from CODER_AGENT_URL: $(cat "$WORK/show.txt")"
grep -Eq "^listen +127.0.0.1:9816 +default$" "$WORK/show.txt" || fail "sidecar listens on loopback by default"
grep -Eq "^interval +60s +default$" "$WORK/show.txt" || fail "sidecar interval default 60s"
grep -Eq "^kube +off +default$" "$WORK/show.txt" || fail "sidecar needs no Kubernetes access"

serve_start sidecar --interval 1s --timeout 900ms
wait_until 10 "/readyz never turned 200" status_is /readyz 200
scrape "$WORK/m.txt"
X=coder.example.test
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_dns_answer_match', host='$X', resolver='cluster', family='A') == 0" \
  "the agent's host resolves to the stale address through the pod's resolv.conf"
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_dns_answer_match', host='$X', resolver='cluster/search', family='A') == 0" \
  "the relative-name lookup the agent's libc does mismatches too"
assert_metrics "$WORK/m.txt" "{l['resolver'] for l, _ in series('coder_dns_doctor_dns_lookup_success')} == {'cluster', 'cluster/search'}" \
  "only the pod's own resolution path"
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_finding', code='EXTERNAL_DNS_MISMATCH', severity='error') == 1" "mismatch finding"
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_http_up', url='$EXTERNAL_URL/healthz', via='dns') == 0" "agent URL /healthz fails via DNS"
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_http_up', url='$EXTERNAL_URL/healthz', via='pinned') == 1" "pinned to the truth it works"
assert_metrics "$WORK/m.txt" "value('coder_dns_doctor_http_up', url='$INTERNAL_URL/healthz', via='internal') == 1" "the internal URL works"
sleep 1.2
scrape "$WORK/m2.txt"
assert_metrics "$WORK/m2.txt" "value('coder_dns_doctor_dns_mismatch_total', host='$X', resolver='cluster') >= 2" "mismatch counted every cycle"
expect_clean_stop

# After `patch`, the agent dials the internal URL: the sidecar sees nothing wrong.
CODER_AGENT_URL="$INTERNAL_URL" CODER_DNS_DOCTOR_EXPECT="coder.coder.svc.cluster.local=$CLUSTER_IP" \
  serve_start sidecar --interval 1s --timeout 900ms
wait_until 10 "/readyz never turned 200" status_is /readyz 200
scrape "$WORK/m3.txt"
assert_metrics "$WORK/m3.txt" "value('coder_dns_doctor_dns_answer_match', host='coder.coder.svc.cluster.local', resolver='cluster', family='A') == 1" \
  "internal URL matches its ClusterIP"
assert_metrics "$WORK/m3.txt" "value('coder_dns_doctor_verdict', verdict='healthy') == 1" "healthy with the internal URL"
expect_clean_stop

# --metrics minimal (what the example workspace template runs): only the fleet-sized families, at
# most a third of the full set's series, and the field report still shows in them.
MINIMAL="{'coder_dns_doctor_verdict', 'coder_dns_doctor_finding', 'coder_dns_doctor_dns_lookup_success',
  'coder_dns_doctor_dns_answer_match', 'coder_dns_doctor_http_up', 'coder_dns_doctor_last_cycle_timestamp_seconds',
  'coder_dns_doctor_interval_seconds', 'coder_dns_doctor_config_last_reload_success',
  'coder_dns_doctor_agent_disconnected_with_cause'}"
for url in "$INTERNAL_URL" "$EXTERNAL_URL"; do
  CODER_AGENT_URL="$url" serve_start sidecar --interval 1s --timeout 900ms --metrics minimal \
    --expect "coder.coder.svc.cluster.local=$CLUSTER_IP" --expect "coder.example.test=$INGRESS_IP"
  wait_until 10 "/readyz never turned 200" status_is /readyz 200
  scrape "$WORK/min.txt"
  assert_metrics "$WORK/min.txt" "set(types) <= $MINIMAL" "--metrics minimal exposes a family outside the set"
  assert_metrics "$WORK/min.txt" "sum(len(series(name)) for name in types) * 3 <= $(grep -vc '^#' "$WORK/m3.txt")" \
    "--metrics minimal is not a third of the full set ($(grep -vc '^#' "$WORK/m3.txt") series)"
  if [ "$url" = "$EXTERNAL_URL" ]; then
    assert_metrics "$WORK/min.txt" "value('coder_dns_doctor_dns_answer_match', host='$X', resolver='cluster', family='A') == 0 and value('coder_dns_doctor_finding', code='EXTERNAL_DNS_MISMATCH', severity='error') == 1" \
      "the field report is visible in the minimal set"
  else
    assert_metrics "$WORK/min.txt" "value('coder_dns_doctor_verdict', verdict='healthy') == 1" "healthy in the minimal set"
  fi
  echo "series for $url: minimal $(grep -vc '^#' "$WORK/min.txt"), full $(grep -vc '^#' "$WORK/m3.txt") (internal URL)"
  expect_clean_stop
done

# No agent URL at all: a usage error naming the option.
set +e
env -u CODER_AGENT_URL "$CDD_BIN" sidecar 2>"$WORK/none.err"
status=$?
set -e
[ "$status" = 2 ] || fail "no agent URL: exit $status, expected 2"
grep -qF -- "--agent-url is required" "$WORK/none.err" || fail "message: $(cat "$WORK/none.err")"
pass
