#!/usr/bin/env bash
# A rotated service-account token is picked up between two requests of one check: the token file
# is re-read for every request. The fake API server accepts token A only for the (slow) first
# request and token B for everything after it; the test swaps the file while the first is in flight.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
start_world field-report
deployment=/apis/apps/v1/namespaces/coder/deployments/coder
token_a=rotation-token-a-$RANDOM$RANDOM
token_b=rotation-token-b-$RANDOM$RANDOM
start_kube_api "token=$token_b" "path-token=$deployment=$token_a" "slow=$deployment=1500"

# run_rotating ROTATE: diagnose starting with token A; if ROTATE, write token B once the first
# request's connection is up (so token A has been read and sent).
run_rotating() {
  echo "$token_a" >"$WORK/token"
  set +e
  # shellcheck disable=SC2046
  "$CDD_BIN" diagnose --output json --ca-file "$CA_FILE" --internal-url "$INTERNAL_URL" $(standard_resolvers) \
    $(kube_args) --timeout 8s >"$WORK/report.json" 2>"$WORK/stderr" &
  local pid=$!
  set -e
  local connected=no
  for _ in $(seq 400); do
    if [[ -n $(ss -Htn state established "dst $KUBE_API_ADDR:$KUBE_API_PORT" 2>/dev/null) ]]; then connected=yes; break; fi
    sleep 0.01
  done
  [[ $connected == yes ]] || fail "diagnose never connected to the API server"
  if [[ $1 == yes ]]; then
    echo "$token_b" >"$WORK/token.new"
    mv "$WORK/token.new" "$WORK/token" # atomically, as the kubelet's projected volume does
  fi
  set +e
  wait "$pid"
  DIAG_STATUS=$?
  set -e
  for token in "$token_a" "$token_b"; do
    if grep -qF "$token" "$WORK/report.json" "$WORK/stderr"; then fail "a token appears in the output"; fi
  done
}

run_rotating yes
expect_status 1
assert_report "'KUBERNETES_UNAVAILABLE' not in codes()" "every request after the rotation used the new token"
truth_has coder.example.test "$INGRESS_IP" kubernetes:ingress/coder/coder
truth_has coder.coder.svc.cluster.local "$CLUSTER_IP" kubernetes:service/coder/coder
assert_report "any('external URL $EXTERNAL_URL from deployment coder/coder' in n for n in r['truth_notes'])" \
  "the first request (old token) succeeded too"

# control: without the rotation the second request is refused, so the test above means something
run_rotating no
assert_report "'HTTP 401' in evidence('KUBERNETES_UNAVAILABLE')" "without rotation the old token is refused"
pass
