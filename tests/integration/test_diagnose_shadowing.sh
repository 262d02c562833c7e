#!/usr/bin/env bash
# A record under a search suffix answers the relative name before the real one (ndots:5).
source "$(dirname "$0")/lib.sh"
start_world shadowing
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP"
expect_status 1
assert_report "'SEARCH_SHADOWING' in codes()" "shadowing reported"
assert_report "dns('coder.example.test', 'cluster', 'A', 'search')['name'] == 'coder.example.test.coder.svc.cluster.local.'" \
  "the search answer came from the first suffix"
assert_report "dns('coder.example.test', 'cluster', 'A', 'search')['addresses'] == ['$SHADOW_IP']" "shadow address"
assert_report "dns('coder.example.test', 'cluster')['addresses'] == ['$INGRESS_IP']" "absolute answer is right"
assert_report "'EXTERNAL_DNS_MISMATCH' not in codes()" "absolute answers match"
assert_report "'coder.svc.cluster.local' in finding('SEARCH_SHADOWING')['remediation']" "names the suffix to fix"
pass
