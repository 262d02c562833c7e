#!/usr/bin/env bash
# A is right, AAAA points elsewhere: the mismatch is reported for AAAA only.
source "$(dirname "$0")/lib.sh"
start_world aaaa-mismatch
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP"
expect_status 1
assert_report "dns('coder.example.test', 'cluster', 'A')['match'] is True" "A matches"
assert_report "dns('coder.example.test', 'cluster', 'AAAA')['addresses'] == ['::1']" "AAAA answered ::1"
assert_report "dns('coder.example.test', 'cluster', 'AAAA')['match'] is False" "AAAA mismatches"
assert_report "'coder.example.test AAAA' in evidence('EXTERNAL_DNS_MISMATCH') and 'coder.example.test A:' not in evidence('EXTERNAL_DNS_MISMATCH')" \
  "evidence is about AAAA only"
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --family 4
expect_status 0
assert_report "not any(d['family'] == 'AAAA' for d in r['dns'])" "--family 4 asks no AAAA"
pass
