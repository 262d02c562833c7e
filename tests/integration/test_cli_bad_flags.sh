#!/usr/bin/env bash
# Bad input: exit 2, one line on stderr naming the option, nothing on stdout, no crash.
set -euo pipefail
: "${CDD_BIN:?run through ctest}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() {
  local name=$1; shift
  set +e
  "$CDD_BIN" "$@" >"$work/out" 2>"$work/err"
  local status=$?
  set -e
  local lines
  lines=$(wc -l <"$work/err")
  if [ "$status" != 2 ] || [ "$lines" != 1 ] || [ -s "$work/out" ] || ! grep -q -- "$name" "$work/err"; then
    echo "FAIL: '$*' -> status $status, stderr: $(cat "$work/err")" >&2
    failures=$((failures + 1))
  fi
}
base=(diagnose --external-url https://coder.example.test:18443 --resolver local=127.0.0.1:5399)
check --timeout "${base[@]}" --timeout 5x
check --timeout "${base[@]}" --timeout 0s
check --family "${base[@]}" --family 5
check --resolver "${base[@]}" --resolver nolabel
check --resolver "${base[@]}" --resolver 'BAD=127.0.0.1'
check --resolver "${base[@]}" --resolver x=dns.example:53
check --resolver "${base[@]}" --resolver local=127.0.0.2
check --resolver "${base[@]}" --resolver x=cluster:
check --resolver "${base[@]}" --resolver x=external:dns.example
check --kube-dns-service "${base[@]}" --kube https://127.0.0.1:1 --kube-dns-service not-a-ref
check --expect "${base[@]}" --expect coder.example.test
check --expect "${base[@]}" --expect coder.example.test=not-an-ip
check --external-url diagnose --external-url ftp://coder.example.test
check --external-url diagnose --resolver local=127.0.0.1:5399
check --internal-url "${base[@]}" --internal-url http://
check --resolv-conf diagnose --external-url https://x.test --resolv-conf /nonexistent/resolv.conf
check --checks "${base[@]}" --checks dns,bogus
check --output "${base[@]}" --output yaml
check --bogus "${base[@]}" --bogus
# An option from the environment is read, and a bad one is named too.
CODER_DNS_DOCTOR_TIMEOUT=7q check --timeout "${base[@]}"
[ "$failures" = 0 ] || exit 1
echo "PASS test_cli_bad_flags"
