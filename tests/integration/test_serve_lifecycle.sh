#!/usr/bin/env bash
# The daemon's life: /readyz 503 before the first complete cycle and 200 after; /healthz 503 once the
# probe loop stalls for more than 3 intervals (a deliberately blocked cycle, test-only option);
# SIGTERM exits 0 within 2 s, whether the loop is stalled, waiting, or mid-cycle; an idle daemon's
# threads sleep until there is work.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"
start_world healthy
start_fault_dns 127.0.0.79:53 silent

# 1. A slow first cycle (the silent resolver times out after 2 s): not ready until it completes.
# shellcheck disable=SC2046
serve_start serve --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" --kube off \
  $(standard_resolvers) --resolver silent=127.0.0.79 --expect "coder.example.test=$INGRESS_IP" \
  --timeout 2s --interval 2s --jitter 0
[ "$(http_status /readyz)" = 503 ] || fail "/readyz is not 503 before the first cycle"
[ "$(http_status /report)" = 503 ] || fail "/report is not 503 before the first cycle"
[ "$(http_status /healthz)" = 200 ] || fail "/healthz is not 200 while the first cycle runs"
[ "$(http_status /metrics)" = 200 ] || fail "/metrics is not served before the first cycle"
[ "$(http_status /nope)" = 404 ] || fail "an unknown path is not 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$SERVE_ADDR/metrics")
[ "$code" = 405 ] || fail "POST answered $code, not 405"
wait_until 10 "/readyz never turned 200" status_is /readyz 200
grep -q "first cycle complete: ready" "$SERVE_LOG" || fail "no ready line in the log"
fetch /report "$WORK/report.json"
assert_report "dns('coder.example.test', 'silent')['status'] == 'timeout'" "the report is the completed cycle"
# Interval == timeout: cycles run back to back, so SIGTERM lands in a cycle in flight and cancels it.
sleep 1.3
[ "$(http_status /healthz)" = 200 ] || fail "/healthz is not 200 while cycles complete"
expect_clean_stop
echo "SIGTERM mid-cycle: exit 0 after ${STOP_SECONDS}s"

# 2. The first cycle blocks (--test-stall-cycle 1, test only): /healthz turns 503 after 3 intervals.
serve_start serve --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" --kube off \
  --resolv-conf "$RESOLV_CONF" --timeout 500ms --interval 1s --test-stall-cycle 1
[ "$(http_status /healthz)" = 200 ] || fail "/healthz is not 200 at start"
[ "$(http_status /readyz)" = 503 ] || fail "/readyz is not 503 while the first cycle is blocked"
wait_until 8 "/healthz never turned 503 with a stalled loop" status_is /healthz 503
curl -s "http://$SERVE_ADDR/healthz" | grep -q "stalled: no probe loop progress" || fail "503 body does not say stalled"
[ "$(http_status /readyz)" = 503 ] || fail "/readyz turned 200 without a cycle"
expect_clean_stop
echo "SIGTERM while stalled: exit 0 after ${STOP_SECONDS}s"

# 3. SIGINT while waiting between cycles behaves the same.
serve_start serve --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" --kube off \
  --resolv-conf "$RESOLV_CONF" --timeout 500ms --interval 1m
wait_until 10 "/readyz never turned 200" status_is /readyz 200
started=$(date +%s%N)
kill -INT "$SERVE_PID"
set +e
wait "$SERVE_PID"
status=$?
set -e
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
[ "$status" = 0 ] || fail "exit status $status after SIGINT"
[ "$elapsed" -lt 2000 ] || fail "SIGINT took ${elapsed}ms"
[ "$(http_status /metrics)" = 000 ] || fail "the listener is still open after exit"

# 4. Idle between cycles, nothing asked, nothing held: no thread wakes on its own (a sidecar per
# workspace pays every tick times the fleet). Counted as context switches of all the threads.
context_switches() {
  local total=0 task count
  for task in /proc/"$SERVE_PID"/task/*; do
    count=$(awk '/^(non)?voluntary_ctxt_switches/ {n += $2} END {print n}' "$task/status")
    total=$((total + count))
  done
  echo "$total"
}
serve_start serve --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" --kube off \
  --resolv-conf "$RESOLV_CONF" --timeout 500ms --interval 1m --checks dns,http
wait_until 10 "/readyz never turned 200" status_is /readyz 200
names=$(cat /proc/"$SERVE_PID"/task/*/comm | sort | tr '\n' ' ')
for name in cdd-holder cdd-listener cdd-prober; do
  grep -qw "$name" <<<"$names" || fail "no thread named $name (threads: $names)"
done
sleep 1.5 # the readiness requests' connections linger up to 1 s; their sweeps are real work
before=$(context_switches)
sleep 3
woken=$(( $(context_switches) - before ))
[ "$woken" -le 1 ] || fail "an idle serve woke $woken times in 3 s (threads: $names)"
echo "idle for 3 s: $woken wake-ups"
expect_clean_stop
pass
