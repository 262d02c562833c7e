#!/usr/bin/env bash
# The field report: the node's LAN resolver serves a stale address, CoreDNS forwards it to pods.
source "$(dirname "$0")/lib.sh"
start_world field-report
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 1
assert_report "r['verdict'] == 'broken'" "verdict is broken"
assert_report "{'EXTERNAL_DNS_MISMATCH', 'HEALTHZ_FAILS_VIA_DNS', 'RESOLVER_DISAGREEMENT'} <= codes()" "the three findings"
assert_report "'INTERNAL_DNS_MISMATCH' not in codes() and 'HEALTHZ_DOWN' not in codes()" "internal path is fine"
assert_report "dns('coder.example.test', 'cluster')['addresses'] == ['$STALE_IP']" "pods get the stale address"
assert_report "dns('coder.example.test', 'cluster')['match'] is False" "cluster answer does not match"
assert_report "dns('coder.example.test', 'upstream')['match'] is False" "upstream answer does not match"
assert_report "dns('coder.example.test', 'public')['match'] is True" "public answer matches"
assert_report "'agrees with the truth: public' in evidence('RESOLVER_DISAGREEMENT')" "names who agrees with the truth"
assert_report "'$STALE_IP' in evidence('EXTERNAL_DNS_MISMATCH') and 'public' not in finding('EXTERNAL_DNS_MISMATCH')['summary']" \
  "mismatch names the stale answer and not the good resolver"
assert_report "all(h['ok'] for h in http('$EXTERNAL_URL', 'pinned'))" "pinned to the ingress works"
assert_report "not any(h['ok'] for h in http('$EXTERNAL_URL', 'dns') if h['address'] == '$STALE_IP')" "stale address fails"
assert_report "[h['status'] for h in http('$EXTERNAL_URL', 'dns') if h['address'] == '$STALE_IP'] == ['refused']" \
  "the stale address refuses the connection"
assert_report "any(h['address'] == '$STALE_IP' and 'cluster' in h['resolvers'] for h in http('$EXTERNAL_URL', 'dns'))" \
  "the failing path says which resolver sent it there"
assert_report "all(f['remediation'] for f in r['findings'] if f['severity'] == 'error')" "every error has a remediation"

# The text report a person reads says the same.
set +e
"$CDD_BIN" diagnose --output text --wide --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" \
  $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" >"$WORK/report.txt" 2>&1
text_status=$?
set -e
[ "$text_status" = 1 ] || fail "text output exit status $text_status"
grep -q "EXTERNAL_DNS_MISMATCH" "$WORK/report.txt" || fail "text report lacks the finding"
grep -Eq "coder.example.test +cluster +absolute +A +ok +$STALE_IP +$INGRESS_IP +NO" "$WORK/report.txt" ||
  fail "text report lacks the host x resolver row"
grep -Eq "/healthz +dns +$STALE_IP +.* refused: " "$WORK/report.txt" || fail "text report lacks the refused HTTP row"
if grep -q $'\033\[' "$WORK/report.txt"; then fail "colour codes written to a non-terminal"; fi
pass
