#!/usr/bin/env bash
# The ingress and the Service reach different Coder deployments.
source "$(dirname "$0")/lib.sh"
start_world split-deployment
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 1
assert_report "codes() == {'DEPLOYMENT_MISMATCH'}" "only DEPLOYMENT_MISMATCH"
assert_report "'dep-sandbox-1' in evidence('DEPLOYMENT_MISMATCH') and 'dep-sandbox-2' in evidence('DEPLOYMENT_MISMATCH')" \
  "both ids in the evidence"
pass
