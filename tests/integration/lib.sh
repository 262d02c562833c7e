# Shared helpers for integration tests: sandbox lifecycle, running diagnose, JSON assertions.
# Source it; it sets `set -euo pipefail` and stops the sandbox on exit.
set -euo pipefail

: "${CDD_SOURCE_DIR:?run through ctest (CDD_SOURCE_DIR unset)}"
: "${CDD_BIN:?run through ctest (CDD_BIN unset)}"
export CDD_SANDBOX_DIR=${CDD_SANDBOX_DIR:-${CDD_BUILD_DIR:-/tmp}/sandbox}
SANDBOX="$CDD_SOURCE_DIR/tests/sandbox/sandbox.sh"
# The sandbox's addresses are fixed, so tests from every build tree on this machine take turns:
# CTest's RESOURCE_LOCK only orders the tests of one ctest run.
exec {sandbox_lock}>"${TMPDIR:-/tmp}/coder-dns-doctor-sandbox.lock"
flock "$sandbox_lock"
WORK=$(mktemp -d)
test_name=$(basename "$0" .sh)
fault_pids=()

cleanup() {
  local status=$?
  for pid in "${fault_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  bash "$SANDBOX" stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT

fail() {
  echo "FAIL $test_name: $*" >&2
  exit 1
}

# Start the sandbox in WORLD and load its addresses.
start_world() {
  bash "$SANDBOX" stop >/dev/null 2>&1 || true
  bash "$SANDBOX" start "$1"
  # shellcheck disable=SC1091
  source "$CDD_SANDBOX_DIR/env"
}

# Start tests/faults/fault_dns.py on ADDR:PORT in MODE and wait until it listens.
start_fault_dns() {
  local listen=$1 mode=$2
  python3 "$CDD_SOURCE_DIR/tests/faults/fault_dns.py" --listen "$listen" --mode "$mode" &
  fault_pids+=($!)
  for _ in $(seq 50); do
    ss -lun | grep -q " ${listen} " && return 0
    sleep 0.05
  done
  fail "fault DNS server on $listen did not start"
}

# The resolution paths of the field report: the pod's resolv.conf, the LAN resolver, public DNS.
standard_resolvers() {
  echo --resolv-conf "$RESOLV_CONF" --resolver cluster=system \
    --resolver "upstream=$UPSTREAM_DNS" --resolver "public=$PUBLIC_DNS"
}

# Run diagnose with JSON output into $WORK/report.json; sets DIAG_STATUS and DIAG_SECONDS.
# run_diagnose ARG...: diagnose --output json with ARGs (plus the sandbox CA) into
# $WORK/report.json; sets DIAG_STATUS and DIAG_SECONDS; checks it printed one JSON document in
# which every dialled address is loopback.
run_diagnose() {
  local started ended
  started=$(date +%s.%N)
  set +e
  "$CDD_BIN" diagnose --output json --ca-file "$CA_FILE" "$@" >"$WORK/report.json" 2>"$WORK/stderr"
  DIAG_STATUS=$?
  set -e
  ended=$(date +%s.%N)
  DIAG_SECONDS=$(python3 -c "print(f'{$ended - $started:.3f}')")
  python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$WORK/report.json" ||
    fail "diagnose did not print one JSON document (stderr: $(head -c 300 "$WORK/stderr"))"
  assert_report "all(a.startswith('127.') or a == '::1' for a in [h['address'] for h in r['http'] + r['transport']] + [s.rsplit(':',1)[0].strip('[]') for d in r['dns'] for s in d['servers']])" \
    "every dialled address is loopback"
}

# diagnose ARG...: run_diagnose against the sandbox's external and internal URLs.
diagnose() {
  run_diagnose --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" "$@"
}

expect_status() {
  [ "$DIAG_STATUS" = "$1" ] || fail "exit status $DIAG_STATUS, expected $1 (stderr: $(head -c 300 "$WORK/stderr"))"
}

# assert_report PYTHON_EXPR MESSAGE: evaluate EXPR with r = the report (helpers: codes, finding,
# dns, http, transport, transport_status, evidence) and fail with MESSAGE unless it is true.
assert_report() {
  python3 - "$WORK/report.json" "$1" "$2" <<'PY' || fail "$2"
import json, sys
r = json.load(open(sys.argv[1]))
expr, message = sys.argv[2], sys.argv[3]
def codes(): return {f["code"] for f in r["findings"]}
def finding(code):
    found = [f for f in r["findings"] if f["code"] == code]
    return found[0] if found else None
def evidence(code): return "\n".join((finding(code) or {}).get("evidence", []))
def dns(host, resolver, family="A", query="absolute"):
    found = [d for d in r["dns"] if d["host"] == host and d["resolver"] == resolver
             and d["family"] == family and d["query"] == query]
    return found[0] if found else None
def http(base, via, endpoint="/healthz"):
    return [h for h in r["http"] if h["base_url"] == base and h["via"] == via and h["endpoint"] == endpoint]
def transport(base, via, check):
    return [t for t in r["transport"] if t["base_url"] == base and t["via"] == via and t["check"] == check]
def transport_status(base, via, check):
    return {t["status"] for t in transport(base, via, check)}
if not eval(expr):
    print(f"FAIL: {message}\n  expression: {expr}\n  findings: {sorted(codes())}", file=sys.stderr)
    sys.exit(1)
PY
}

pass() { echo "PASS $test_name"; }
