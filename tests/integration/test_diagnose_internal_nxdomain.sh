#!/usr/bin/env bash
# The Service name does not exist in cluster DNS: DNS_LOOKUP_FAILED with nxdomain, exit 1.
source "$(dirname "$0")/lib.sh"
start_world internal-nxdomain
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 1
assert_report "'DNS_LOOKUP_FAILED' in codes()" "lookup failure reported"
assert_report "dns('coder.coder.svc.cluster.local', 'cluster')['status'] == 'nxdomain'" "status is nxdomain"
assert_report "'nxdomain' in finding('DNS_LOOKUP_FAILED')['summary'] and 'coder.coder.svc.cluster.local' in finding('DNS_LOOKUP_FAILED')['summary']" \
  "summary names host and status"
assert_report "'EXTERNAL_DNS_MISMATCH' not in codes()" "the external name is fine"
assert_report "all(h['ok'] for h in http('$INTERNAL_URL', 'pinned'))" "the ClusterIP itself answers"
pass
