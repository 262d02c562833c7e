#!/usr/bin/env bash
# Input files that are not what they claim to be: /dev/zero, a FIFO without a writer, a directory,
# a file over its size limit. Files read at startup (serve/sidecar --config, patch --configmap and
# --template) are refused with exit 2 and one stderr line naming the file; the Kubernetes token and
# CA files, re-read before every request, fail the request as KUBERNETES_UNAVAILABLE naming the
# file (docs/kubernetes.md), also when they turn bad while serve runs. Nothing hangs: every run is
# bounded by `timeout 10` (status 124 or 137 means it hung), every wait on the daemon by 10 s. The
# API server is a closed loopback port (127.0.0.1:1). No sandbox: nothing here answers DNS or HTTP.
set -euo pipefail
: "${CDD_BIN:?run through ctest}"
: "${CDD_SOURCE_DIR:?run through ctest}"
WORK=$(mktemp -d)
fault_pids=()
cleanup() {
  local pid
  for pid in "${fault_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL test_cli_bad_files: $*" >&2
  exit 1
}
# serve_start, wait_until, expect_clean_stop (they need only WORK, fault_pids and fail)
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"

failures=0
fail_case() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run ARG...: the binary under `timeout 10` (SIGKILL 2 s later: serve handles SIGTERM); sets
# `status`, stdout in $WORK/out, stderr in $WORK/err.
run() {
  set +e
  timeout -k 2 10 "$CDD_BIN" "$@" >"$WORK/out" 2>"$WORK/err"
  status=$?
  set -e
}

# refused FILE ARG...: exit 2, nothing on stdout, one line on stderr, and that line names FILE.
refused() {
  local file=$1
  shift
  run "$@"
  local lines
  lines=$(wc -l <"$WORK/err")
  if [ "$status" != 2 ] || [ "$lines" != 1 ] || [ -s "$WORK/out" ] || ! grep -qF -- "'$file'" "$WORK/err"; then
    fail_case "'$*' -> status $status (124/137: hung), stderr: $(head -c 400 "$WORK/err")"
  fi
}

# The bad inputs. Size limits (util/bounded_read.hpp): token 64 KiB, config and CA 4 MiB, patch
# inputs 16 MiB. The oversized token is made of a recognisable secret that no output may show.
mkfifo "$WORK/fifo"
mkdir "$WORK/dir"
truncate -s $(((4 << 20) + 1)) "$WORK/big-config.yaml"
truncate -s $(((4 << 20) + 1)) "$WORK/big-ca.pem"
python3 -c "import sys; open(sys.argv[1], 'w').write(('SECRET-TOKEN-' * 6000)[:65537])" "$WORK/big-token"
bad_files=(/dev/zero "$WORK/fifo" "$WORK/dir")

# --- serve/sidecar --config: read at startup, refused with exit 2 -----------------------------
for file in "${bad_files[@]}" "$WORK/big-config.yaml"; do
  refused "$file" serve --config "$file" --listen 127.0.0.1:0 --kube off --resolver none=127.0.0.1:1
done
refused /dev/zero sidecar --config /dev/zero --agent-url http://127.0.0.1:1
refused "$WORK/fifo" serve --config "$WORK/fifo" --show-config

# --- patch --configmap / --template: refused with exit 2, no file touched ---------------------
repo="$WORK/repo"
cp -a "$CDD_SOURCE_DIR/tests/patch/fixtures/kubernetes-plain/repo" "$repo"
mkfifo "$repo/deploy/fifo.yaml" "$repo/templates/fifo.tf"
truncate -s $(((16 << 20) + 1)) "$repo/deploy/huge.yaml"
truncate -s $(((16 << 20) + 1)) "$repo/templates/huge.tf"
snapshot() { (cd "$repo" && find . -printf '%y %m %s %p\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
before=$(snapshot)
for file in /dev/zero "$repo/deploy/fifo.yaml" "$repo/deploy" "$repo/deploy/huge.yaml"; do
  refused "$file" patch --repo "$repo" --configmap "$file" --write
done
# --template /dev/zero is refused as outside the repository (it is still named, exit 2)
for file in "$repo/templates/fifo.tf" "$repo/templates" "$repo/templates/huge.tf"; do
  refused "$file" patch --repo "$repo" --template "$file" --write
done
refused "$repo/deploy/fifo.yaml" patch --repo "$repo" --configmap deploy/fifo.yaml --write # relative to --repo
[ "$before" = "$(snapshot)" ] || fail_case "patch changed the checkout although it refused its input"

# The scan of --repo skips what is not a regular file, and files over the limit: a FIFO or a
# device named *.yaml / *.tf cannot stall it; the real ConfigMap and template are still found.
ln -s /dev/zero "$repo/deploy/zero.yaml"
ln -s /dev/zero "$repo/templates/zero.tf"
run patch --repo "$repo"
if [ "$status" != 0 ] || ! grep -q '^configmap: done: deploy/workspace-config.yaml' "$WORK/err" ||
  ! grep -q '^init-script: done: templates/kubernetes/main.tf' "$WORK/err"; then
  fail_case "patch --repo with a FIFO, /dev/zero and huge files in it -> status $status (124/137: hung), stderr: $(head -c 400 "$WORK/err")"
fi

# --- diagnose --kube-token-file / --kube-ca-file: read before every request ------------------
# The documented outcomes (docs/kubernetes.md): refused up front (exit 2, one line naming the
# file), or, when the startup check lets the file through, every request fails at once as
# KUBERNETES_UNAVAILABLE (exit 1) with evidence naming the file. Never the token's bytes.
# (A FIFO is refused by the startup check itself: see the end of this script.)
kube_refused() { # kube_refused OPTION FILE WHY: WHY is what the evidence says of the file
  local option=$1 file=$2 why=$3
  run diagnose --kube https://127.0.0.1:1 --checks kube --timeout 500ms --output json \
    --resolver none=127.0.0.1:1 "$option" "$file"
  if grep -q SECRET-TOKEN "$WORK/out" "$WORK/err"; then
    fail_case "$option $file: the output shows the token file's bytes"
  elif [ "$status" = 2 ]; then
    if [ "$(wc -l <"$WORK/err")" != 1 ] || [ -s "$WORK/out" ] || ! grep -qF -- "$file" "$WORK/err"; then
      fail_case "$option $file -> exit 2 but stderr: $(head -c 400 "$WORK/err")"
    fi
  elif [ "$status" = 1 ]; then
    python3 - "$WORK/out" "$file" "$option" "$why" <<'PY' || fail_case "$option $file -> exit 1 without the finding: $(head -c 600 "$WORK/out")"
import json, sys
report, path, option, why = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
what = "token file" if option == "--kube-token-file" else "CA file"
found = [f for f in report["findings"] if f["code"] == "KUBERNETES_UNAVAILABLE"]
assert len(found) == 1 and found[0]["severity"] == "error", found
assert found[0]["evidence"] and all(what in e and path in e and why in e for e in found[0]["evidence"]), found[0]["evidence"]
PY
  else
    fail_case "$option $file -> status $status (124/137: hung), stderr: $(head -c 400 "$WORK/err")"
  fi
}
kube_refused --kube-token-file /dev/zero "is not a regular file (a character device)"
kube_refused --kube-token-file "$WORK/dir" "is not a regular file (a directory)"
kube_refused --kube-token-file "$WORK/big-token" "is larger than 65536 bytes"
kube_refused --kube-ca-file /dev/zero "is not a regular file (a character device)"
kube_refused --kube-ca-file "$WORK/dir" "is not a regular file (a directory)"
kube_refused --kube-ca-file "$WORK/big-ca.pem" "is larger than 4194304 bytes"

# --- serve: token and CA files that turn into a FIFO or a device between cycles; a config file
# that turns into a FIFO before SIGHUP. Each cycle reports it, the daemon never stalls.
token="$WORK/token"
ca="$WORK/ca.pem"
config="$WORK/serve.yaml"
printf 'a-token\n' >"$token"
: >"$ca" # regular: read, and no connection gets as far as TLS
printf 'interval: 1s\ntimeout: 500ms\n' >"$config"
serve_start serve --config "$config" --kube https://127.0.0.1:1 --kube-token-file "$token" --kube-ca-file "$ca" \
  --checks kube --resolver none=127.0.0.1:1
report_says() { # report_says TEXT: the latest report's KUBERNETES_UNAVAILABLE evidence all says TEXT
  curl -s --max-time 2 "http://$SERVE_ADDR/report" 2>/dev/null | python3 -c '
import json, sys
text = sys.argv[1]
found = [f for f in json.load(sys.stdin)["findings"] if f["code"] == "KUBERNETES_UNAVAILABLE"]
sys.exit(0 if found and all(text in e for e in found[0]["evidence"]) and "a-token" not in json.dumps(found) else 1)
' "$1" 2>/dev/null
}
# good files: the request is sent (and refused by the closed port; later ones are not asked)
wait_until 10 "the API server was never dialled with good files" report_says "https://127.0.0.1:1"
rm "$token" && mkfifo "$token"
wait_until 10 "a FIFO token file is not reported" report_says "cannot read the token file: '$token' is not a regular file (a FIFO)"
rm "$token" && ln -s /dev/zero "$token"
wait_until 10 "/dev/zero as the token file is not reported" report_says "cannot read the token file: '$token' is not a regular file (a character device)"
rm "$token" && printf 'a-token\n' >"$token" && rm "$ca" && mkfifo "$ca"
wait_until 10 "a FIFO CA file is not reported" report_says "cannot read the CA file: '$ca' is not a regular file (a FIFO)"
rm "$config" && mkfifo "$config"
kill -HUP "$SERVE_PID"
reload_refused() { grep "config reload failed" "$SERVE_LOG" | grep -qF "'$config' is not a regular file (a FIFO)"; }
wait_until 10 "a FIFO config file on SIGHUP is not refused" reload_refused
[ "$(http_status /healthz)" != 000 ] || fail_case "serve stopped answering after a FIFO config reload"
expect_clean_stop

# --- the probe options' own files, read (and checked) before anything runs: exit 2 -----------
truncate -s $(((1 << 20) + 1)) "$WORK/big-small-file"
printf 'nameserver 127.0.0.1\n' >"$WORK/resolv.conf"
probe=(diagnose --kube off --checks dns --timeout 500ms --output json --external-url http://coder.invalid:1)
for file in "${bad_files[@]}" "$WORK/big-small-file"; do
  refused "$file" "${probe[@]}" --resolver cluster=system --resolv-conf "$file"
  refused "$file" "${probe[@]}" --resolver cluster=system --resolv-conf "$WORK/resolv.conf" --hosts-file "$file"
  refused "$file" "${probe[@]}" --resolver cluster=system --resolv-conf "$WORK/resolv.conf" --nsswitch-conf "$file"
  # a server list whose scope is inferred from the resolv.conf reads it too
  refused "$file" "${probe[@]}" --resolver lan=127.0.0.1:1 --resolv-conf "$file"
done
for file in "${bad_files[@]}" "$WORK/big-ca.pem"; do
  refused "$file" "${probe[@]}" --resolver lan=127.0.0.1:1 --resolv-conf "$WORK/resolv.conf" --ca-file "$file"
done
# the startup check of the Kubernetes files refuses a FIFO at once (no blocking open)
refused "$WORK/fifo" diagnose --kube https://127.0.0.1:1 --resolver none=127.0.0.1:1 --kube-token-file "$WORK/fifo"
refused "$WORK/fifo" diagnose --kube https://127.0.0.1:1 --resolver none=127.0.0.1:1 --kube-ca-file "$WORK/fifo"
# a missing hosts file or nsswitch.conf is no error (a scratch image has neither): DNS decides
run "${probe[@]}" --resolver cluster=system --resolv-conf "$WORK/resolv.conf" --hosts-file "$WORK/none" \
  --nsswitch-conf "$WORK/none"
[ "$status" != 2 ] || fail_case "a missing --hosts-file is refused: $(head -c 300 "$WORK/err")"

[ "$failures" = 0 ] || exit 1
echo "PASS test_cli_bad_files"
