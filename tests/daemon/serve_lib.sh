# Helpers for serve/sidecar integration tests. Source after tests/integration/lib.sh.
# The daemon listens on 127.0.0.1 with an ephemeral port (read back from its "listening" log line)
# and is stopped with the sandbox on exit (its pid joins lib.sh's list of processes to kill).

SERVE_PID=
SERVE_ADDR=
SERVE_LOG=
serve_count=0

# serve_start SUBCOMMAND ARGS...: start the daemon and wait until it listens.
serve_start() {
  local sub=$1
  shift
  serve_count=$((serve_count + 1))
  SERVE_LOG="$WORK/$sub-$serve_count.log"
  "$CDD_BIN" "$sub" --listen 127.0.0.1:0 "$@" 2>"$SERVE_LOG" &
  SERVE_PID=$!
  fault_pids+=("$SERVE_PID")
  for _ in $(seq 100); do
    # text: listen=127.0.0.1:PORT; json: "listen":"127.0.0.1:PORT"
    SERVE_ADDR=$(grep -Eo 'listen(=|":")127\.0\.0\.1:[0-9]+' "$SERVE_LOG" 2>/dev/null | head -1 | grep -Eo '127\.0\.0\.1:[0-9]+' || true)
    [ -n "$SERVE_ADDR" ] && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || fail "$sub exited at start: $(cat "$SERVE_LOG")"
    sleep 0.05
  done
  fail "$sub did not log its listen address: $(cat "$SERVE_LOG")"
}

# http_status PATH: print the status code of GET PATH (000 when nothing answers).
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$SERVE_ADDR$1" || true; }

# fetch PATH FILE: GET PATH into FILE; fail unless 200.
fetch() {
  local code
  code=$(curl -s -o "$2" -w '%{http_code}' --max-time 5 "http://$SERVE_ADDR$1" || true)
  [ "$code" = 200 ] || fail "GET $1 answered $code"
}

# wait_until SECONDS MESSAGE COMMAND...: run COMMAND every 0.1 s until it succeeds; fail after SECONDS.
wait_until() {
  local seconds=$1 message=$2
  shift 2
  local deadline
  deadline=$(($(date +%s%N) + seconds * 1000000000))
  until "$@"; do
    [ "$(date +%s%N)" -lt "$deadline" ] || fail "$message (waited ${seconds}s; log: $(tail -5 "$SERVE_LOG"))"
    sleep 0.1
  done
}

status_is() { [ "$(http_status "$1")" = "$2" ]; }

# scrape FILE: GET /metrics into FILE.
scrape() { fetch /metrics "$1"; }

# assert_metrics FILE PYTHON_EXPR MESSAGE: evaluate EXPR over the scrape in FILE; fail with
# MESSAGE (and the scrape) unless it is true. Helpers: value(name, **labels) -> the value of the one
# series with exactly these labels, None if absent; series(name) -> [(labels, value)];
# types -> {family: type}; helps -> {family: help}; label_values() -> every label value but `le`.
assert_metrics() { eval_metrics "$1" "$2" "$3" loud || fail "$3"; }

# metrics_hold FILE PYTHON_EXPR: status 0 when EXPR holds over the scrape in FILE (quiet).
metrics_hold() { eval_metrics "$1" "$2" "" quiet; }

eval_metrics() {
  python3 - "$1" "$2" "$3" "$4" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
expr, message, quiet = sys.argv[2], sys.argv[3], sys.argv[4] == "quiet"

types, helps, samples = {}, {}, []
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
for line in text.splitlines():
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ", 3); types[name] = kind
    elif line.startswith("# HELP "):
        _, _, name, help_ = line.split(" ", 3); helps[name] = help_
    elif line and not line.startswith("#"):
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)', line)
        labels = dict(label_re.findall(m.group(3) or ""))
        samples.append((m.group(1), labels, float(m.group(4))))
def series(name): return [(l, v) for n, l, v in samples if n == name]
def value(name, **labels):
    found = [v for l, v in series(name) if l == labels]
    return found[0] if found else None
def label_values():
    return [v for _, l, _ in samples for k, v in l.items() if k != "le"]
ok = eval(expr)
if not ok and quiet:
    sys.exit(1)
if not ok:
    print(f"FAIL: {message}\n  expression: {expr}", file=sys.stderr)
    for n, l, v in samples:
        if n.startswith("coder_dns_doctor_") and not n.endswith("_bucket"):
            print(f"  {n}{l} {v}", file=sys.stderr)
    sys.exit(1)
PY
}

# serve_stop: SIGTERM the daemon; sets STOP_STATUS and STOP_SECONDS.
serve_stop() {
  local started ended
  started=$(date +%s%N)
  kill -TERM "$SERVE_PID"
  set +e
  wait "$SERVE_PID"
  STOP_STATUS=$?
  set -e
  ended=$(date +%s%N)
  STOP_SECONDS=$(python3 -c "print(f'{($ended - $started) / 1e9:.3f}')")
}

# expect_clean_stop: SIGTERM, then exit 0 within 2 s (CONTRACTS.md).
expect_clean_stop() {
  serve_stop
  [ "$STOP_STATUS" = 0 ] || fail "exit status $STOP_STATUS after SIGTERM (log: $(tail -5 "$SERVE_LOG"))"
  python3 -c "import sys; sys.exit(0 if $STOP_SECONDS < 2.0 else 1)" || fail "SIGTERM took ${STOP_SECONDS}s (limit 2 s)"
}
