#!/usr/bin/env bash
# Every sandbox world x every resolver configuration a user may write (system; CoreDNS by address,
# inferred or declared; external resolvers only; mixed; with and without --expect; CoreDNS pods and
# CoreDNS by ClusterIP from the fake API): exit status and exactly the error codes of each cell, in
# the table of tests/integration/verdict_matrix.py. The healthy world: exit 0, no error, no warning.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
start_world healthy
kube_fixtures one-coredns
start_kube_api
KUBE_ARGS="$(kube_args)"
export KUBE_ARGS WORK SANDBOX CA_FILE INTERNAL_URL EXTERNAL_URL HOSTS_FILE NSSWITCH_CONF RESOLV_CONF \
  CLUSTER_DNS UPSTREAM_DNS PUBLIC_DNS INGRESS_IP CLUSTER_IP
python3 "$CDD_SOURCE_DIR/tests/integration/verdict_matrix.py" "$@" || fail "cells changed (table above)"
pass
