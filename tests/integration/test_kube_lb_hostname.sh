#!/usr/bin/env bash
# The Ingress's load balancer reports a hostname (as on AWS), not an IP: it is resolved through
# the plan's resolvers and its addresses become the external host's truth, reported as such.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
start_world field-report
kube_fixtures lb-hostname
start_kube_api
# a public DNS that knows the load balancer's name, with the Coder host a CNAME to it
LB_DNS=127.0.7.53
start_dnsmasq "$LB_DNS" --local=/#/ "--host-record=lb.example.test,$INGRESS_IP" --cname=coder.example.test,lb.example.test
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" --resolv-conf "$RESOLV_CONF" --resolver cluster=system \
  --resolver "upstream=$UPSTREAM_DNS" --resolver "public=$LB_DNS" $(kube_args)
expect_status 1
truth_has coder.example.test "$INGRESS_IP" kubernetes:ingress/coder/coder
assert_report "any('kubernetes:ingress/coder/coder: load-balancer hostname lb.example.test resolved to $INGRESS_IP (via public)' in n for n in r['truth_notes'])" \
  "the note names the hostname, its addresses and the resolver"
assert_report "{'EXTERNAL_DNS_MISMATCH', 'HEALTHZ_FAILS_VIA_DNS'} <= codes() and 'KUBERNETES_UNAVAILABLE' not in codes()" \
  "the stale answer is found against the hostname's addresses"
assert_report "dns('coder.example.test', 'public')['match'] is True" "the CNAME'd public answer matches"

# A hostname nobody resolves: a note, no truth, no crash.
kube_fixtures lb-hostname
sed -i 's/lb.example.test/gone.example.test/' "$WORK/fixtures/apis/networking.k8s.io/v1/ingresses.json"
start_kube_api
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" --resolv-conf "$RESOLV_CONF" --resolver cluster=system \
  --resolver "public=$LB_DNS" $(kube_args)
assert_report "not any(t['host'] == 'coder.example.test' for t in r['truth'])" "no truth from an unresolved hostname"
assert_report "any('gone.example.test did not resolve' in n for n in r['truth_notes'])" "the note says it did not resolve"
pass
