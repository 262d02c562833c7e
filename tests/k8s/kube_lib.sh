# Helpers for the Kubernetes integration tests (tests/integration/test_kube_*.sh). Source it after
# tests/integration/lib.sh: it adds the fake API server, extra dnsmasq instances and a diagnose
# runner that passes no --external-url and no --expect, and it stops all of them on exit.
FAKE_API="$CDD_SOURCE_DIR/tests/k8s/fake_api.sh"
KUBE_FIXTURES="$CDD_SOURCE_DIR/tests/k8s/fixtures"
KUBE_STATE="$WORK/kube-api"
kube_pids=()

# Strings that must never appear in any output: the API token (read at start) and the fake agent
# tokens of the workspace-pod fixtures.
SECRET_PATTERN='SECRET-never-print'

kube_cleanup() {
  local status=$?
  bash "$FAKE_API" stop "$KUBE_STATE" >/dev/null 2>&1 || true
  local pid
  for pid in "${kube_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${kube_pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
  done
  (exit "$status")
  cleanup
}
trap kube_cleanup EXIT

# kube_fixtures [OVERLAY...]: the field-report cluster with OVERLAYs copied over it, in $WORK/fixtures.
kube_fixtures() {
  rm -rf "$WORK/fixtures"
  mkdir -p "$WORK/fixtures"
  cp -r "$KUBE_FIXTURES/field-report/." "$WORK/fixtures/"
  local overlay
  for overlay in "$@"; do cp -r "$KUBE_FIXTURES/$overlay/." "$WORK/fixtures/"; done
}

# start_kube_api [RULE...]: (re)start the fake API server on $WORK/fixtures; loads KUBE_API_*.
start_kube_api() {
  [[ -d $WORK/fixtures ]] || kube_fixtures
  bash "$FAKE_API" stop "$KUBE_STATE" >/dev/null 2>&1 || true
  bash "$FAKE_API" start "$KUBE_STATE" "$WORK/fixtures" "$@" || fail "the fake API server did not start"
  # shellcheck disable=SC1091
  source "$KUBE_STATE/env"
  KUBE_TOKEN=$(cat "$KUBE_API_TOKEN_FILE")
  # the token diagnose reads: a copy tests may rewrite without touching what the server accepts
  cp "$KUBE_API_TOKEN_FILE" "$WORK/token"
}

kube_args() {
  echo --kube "$KUBE_API_URL" --kube-token-file "$WORK/token" --kube-ca-file "$KUBE_API_CA"
}

# start_dnsmasq ADDR OPTION...: one more dnsmasq on ADDR:53 (a CoreDNS replica, a public DNS).
start_dnsmasq() {
  local addr=$1; shift
  [[ -z $(ss -Hlnu "src $addr:53" 2>/dev/null) ]] || fail "$addr:53/udp is already in use"
  dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
    "--listen-address=$addr" --port=53 --pid-file= --log-facility=- "$@" >"$WORK/dnsmasq-$addr.log" 2>&1 &
  kube_pids+=($!)
  for _ in $(seq 100); do
    [[ -n $(ss -Hlnu "src $addr:53" 2>/dev/null) ]] && return 0
    sleep 0.02
  done
  fail "dnsmasq on $addr did not start: $(tail -n 3 "$WORK/dnsmasq-$addr.log")"
}

# kdiagnose ARG...: run_diagnose with ARGs only (no URLs, no truth: Kubernetes supplies them);
# also checks that diagnose did not die and that no secret appears in stdout or stderr.
kdiagnose() {
  run_diagnose "$@"
  ((DIAG_STATUS <= 3)) || fail "diagnose died with status $DIAG_STATUS (stderr: $(head -c 300 "$WORK/stderr"))"
  assert_no_secrets "$WORK/report.json" "$WORK/stderr"
}

# assert_no_secrets FILE...: neither the API token nor any agent token appears in FILEs.
assert_no_secrets() {
  local file
  for file in "$@"; do
    if [[ -n ${KUBE_TOKEN:-} ]] && grep -qF "$KUBE_TOKEN" "$file"; then fail "the API token appears in $file"; fi
    if grep -q "$SECRET_PATTERN" "$file"; then fail "an agent token appears in $file"; fi
    if grep -q "Bearer " "$file"; then fail "an Authorization header appears in $file"; fi
  done
}

# Truth entries as (host, addresses, source) for assertions: truth('host') -> list of entries.
truth_has() {  # HOST ADDRESS SOURCE
  assert_report "any(t['host'] == '$1' and t['addresses'] == ['$2'] and t['source'] == '$3' for t in r['truth'])" \
    "truth for $1 is $2 from $3"
}
