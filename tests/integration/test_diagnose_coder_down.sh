#!/usr/bin/env bash
# DNS is right but Coder answers 503 everywhere: HEALTHZ_DOWN, not a DNS finding.
source "$(dirname "$0")/lib.sh"
start_world coder-down
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 1
assert_report "'HEALTHZ_DOWN' in codes()" "HEALTHZ_DOWN reported"
assert_report "'HEALTHZ_FAILS_VIA_DNS' not in codes()" "DNS is not blamed"
assert_report "not {'EXTERNAL_DNS_MISMATCH', 'INTERNAL_DNS_MISMATCH', 'DNS_LOOKUP_FAILED'} & codes()" "no DNS finding"
assert_report "all(h['status_code'] == 503 and not h['ok'] for h in r['http'])" "every path saw 503"
assert_report "all(h['status'] == 'http_error' for h in r['http'])" "every path's status is http_error"
assert_report "'HTTP 503' in evidence('HEALTHZ_DOWN')" "evidence shows the status"
pass
