#!/usr/bin/env bash
# One resolver never answers: its lookups time out within --timeout, the others are still
# reported. When no resolver answers at all, the check could not run: exit 3.
source "$(dirname "$0")/lib.sh"
start_world healthy
start_fault_dns 127.0.0.77:53 silent
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --resolver silent=127.0.0.77 --timeout 1s --expect "coder.example.test=$INGRESS_IP"
expect_status 1
assert_report "dns('coder.example.test', 'silent')['status'] == 'timeout'" "silent resolver times out"
assert_report "dns('coder.example.test', 'silent')['duration_ms'] <= 1500" "within --timeout"
assert_report "dns('coder.example.test', 'public')['status'] == 'ok' and dns('coder.example.test', 'cluster')['match'] is True" \
  "other resolvers still answered"
assert_report "'silent' in finding('DNS_LOOKUP_FAILED')['summary'] and 'timeout' in finding('DNS_LOOKUP_FAILED')['summary']" \
  "failure names resolver and status"
assert_report "'RESOLVER_DISAGREEMENT' not in codes()" "silence is not an opinion"
python3 -c "import sys; sys.exit(0 if $DIAG_SECONDS < 3.5 else 1)" || fail "diagnose took ${DIAG_SECONDS}s with --timeout 1s"

diagnose --resolver silent=127.0.0.77 --resolver closed=127.0.0.78:5399 --timeout 500ms
expect_status 3
grep -q "no resolver answered" "$WORK/stderr" || fail "exit 3 without saying why"
assert_report "dns('coder.example.test', 'closed')['status'] in ('error', 'timeout')" "closed port reported"
pass
