#!/usr/bin/env bash
# An Ingress with a wildcard rule host (*.example.test) is the external host's truth; an Ingress
# for another host is not. And --ingress-service names a LoadBalancer Service instead of Ingresses.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
start_world field-report
kube_fixtures wildcard
start_kube_api
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args)
expect_status 1
truth_has coder.example.test "$INGRESS_IP" kubernetes:ingress/ingress-nginx/wildcard
assert_report "not any('127.0.50.102' in t['addresses'] for t in r['truth'])" "grafana's Ingress is not truth"
assert_report "any('serves coder.example.test through its rule host *.example.test' in n for n in r['truth_notes'])" \
  "the note names the wildcard"
assert_report "'EXTERNAL_DNS_MISMATCH' in codes() and dns('coder.example.test', 'public')['match'] is True" \
  "judged against the wildcard Ingress's address"

# --ingress-service: Ingresses are not listed at all (forbidden here, and no finding about it).
kube_fixtures lb-service
start_kube_api forbid=/apis/networking.k8s.io/v1/ingresses
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args) \
  --ingress-service ingress-nginx/ingress-nginx-controller
expect_status 1
truth_has coder.example.test "$INGRESS_IP" kubernetes:service/ingress-nginx/ingress-nginx-controller
assert_report "'KUBERNETES_UNAVAILABLE' not in codes()" "Ingresses were not asked for"
pass
