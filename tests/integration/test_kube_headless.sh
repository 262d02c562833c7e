#!/usr/bin/env bash
# A headless Coder Service (clusterIP: None): the internal host's truth is the ready addresses of
# its EndpointSlices (a not-ready endpoint is left out).
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
start_world healthy
kube_fixtures headless
start_kube_api
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args)
expect_status 0
assert_report "r['verdict'] == 'healthy'" "healthy world, healthy verdict"
truth_has coder.coder.svc.cluster.local "$CLUSTER_IP" kubernetes:endpointslices/coder/coder
assert_report "not any('127.0.209.203' in t['addresses'] for t in r['truth'])" "the not-ready endpoint is not truth"
assert_report "any('kubernetes:service/coder/coder is headless' in n for n in r['truth_notes'])" "the note says headless"
assert_report "dns('coder.coder.svc.cluster.local', 'cluster')['match'] is True" "the cluster answer matches the endpoints"
pass
