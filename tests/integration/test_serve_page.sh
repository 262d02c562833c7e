#!/usr/bin/env bash
# serve's status page in a real browser: serve against the field-report world, `/` loaded in
# Debian's headless Chromium. --dump-dom shows the verdict, the findings with their remediation and
# runbook links, the host x resolver matrix, the paths and the history; a --screenshot PNG is kept
# in <build>/test-artifacts/test_serve_page/ and shows the inline style applied under the strict CSP.
# Markup injected through the external URL's path (it reaches the paths table and the findings'
# evidence) is text in Chromium's DOM, never an element. Then /runbook serves docs/runbook.md with
# the anchors of every alert, and --runbook-url (flag and config key) moves the links.
# Without chromium the test is skipped (exit 77), never passed.
CHROMIUM=${CDD_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
  echo "SKIP test_serve_page: chromium not found (apt-get install chromium; scripts/install-deps.sh does)"
  exit 77
fi
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"
CHECK="python3 $CDD_SOURCE_DIR/tests/integration/page_check.py"
ARTIFACTS=${CDD_BUILD_DIR:-$WORK}/test-artifacts/$test_name
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"

# chromium_run ARG...: headless Chromium as root on a closed network (flags from the machine notes:
# no sandbox for root, nothing phoning home), a fresh profile each time, no proxy for loopback.
chromium_run() {
  local profile
  profile=$(mktemp -d "$WORK/chromium.XXXXXX")
  timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --no-proxy-server \
    --hide-scrollbars --user-data-dir="$profile" "$@" 2>>"$WORK/chromium.log"
}

start_world field-report
# shellcheck disable=SC2046
serve_start serve --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" \
  $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --kube off --interval 2s --timeout 900ms
wait_until 10 "/readyz never turned 200" status_is /readyz 200
sleep 2.5 # a second cycle, for the history strip

# What a browser is sent: HTML with the strict policy; text for Accept: text/plain; /report is JSON.
curl -s --max-time 5 -D "$WORK/headers" -o "$WORK/page.html" -H 'Accept: text/html' "http://$SERVE_ADDR/"
grep -qi '^content-type: text/html; charset=utf-8' "$WORK/headers" || fail "/ is not HTML: $(cat "$WORK/headers")"
$CHECK csp "$WORK/page.html" "$WORK/headers" || fail "the CSP does not match the inline style"
grep -q '<meta http-equiv="refresh" content="2">' "$WORK/page.html" || fail "no meta refresh at the 2 s interval"
curl -s --max-time 5 -H 'Accept: text/plain' "http://$SERVE_ADDR/" >"$WORK/index.txt"
grep -q '/runbook' "$WORK/index.txt" && ! grep -q '<' "$WORK/index.txt" ||
  fail "Accept: text/plain did not get the text index: $(cat "$WORK/index.txt")"
fetch /report "$WORK/report.json"
assert_report "r['verdict'] == 'broken' and 'EXTERNAL_DNS_MISMATCH' in codes()" "/report stays the JSON document"

# The page as Chromium builds it.
chromium_run --dump-dom "http://$SERVE_ADDR/" >"$ARTIFACTS/page-dom.html" || fail "chromium --dump-dom failed: $(tail -5 "$WORK/chromium.log")"
fetch /report "$WORK/report.json" # the cycle the DOM shows or the next: the field report either way
$CHECK dom "$ARTIFACTS/page-dom.html" "$WORK/report.json" /runbook || fail "the page does not show the report"
chromium_run --screenshot="$ARTIFACTS/page.png" --window-size=1280,1600 "http://$SERVE_ADDR/" >/dev/null ||
  fail "chromium --screenshot failed: $(tail -5 "$WORK/chromium.log")"
# The stylesheet's colours are in it only if Chromium let the inline style through the CSP (with a
# wrong hash the page renders black on white and this fails).
$CHECK png "$ARTIFACTS/page.png" 1280 || fail "the screenshot is not the styled page"

# /runbook: docs/runbook.md, built in, with a heading id for every alert's anchor.
curl -s --max-time 5 -D "$WORK/runbook.headers" -o "$ARTIFACTS/runbook.html" "http://$SERVE_ADDR/runbook"
grep -qi '^content-security-policy: default-src' "$WORK/runbook.headers" || fail "/runbook has no CSP"
python3 "$CDD_SOURCE_DIR/tests/daemon/check_runbook_links.py" "$CDD_SOURCE_DIR/charts/coder-dns-doctor/files/alerts.yaml" \
  "$CDD_SOURCE_DIR/docs/runbook.md" --served "$ARTIFACTS/runbook.html" || fail "an alert's anchor is not on /runbook"
chromium_run --dump-dom "http://$SERVE_ADDR/runbook" >"$WORK/runbook-dom.html" || fail "chromium could not load /runbook"
grep -q '<h2 id="coderdnsmismatch">CoderDNSMismatch</h2>' "$WORK/runbook-dom.html" || fail "/runbook lacks its headings"
expect_clean_stop

# Markup through what serve reports: the external URL's path reaches the paths table and evidence.
MARKUP='<b/id="cdd-injected">x</b>' # no space: a URL holds none; '/' still separates the attribute
# shellcheck disable=SC2046
serve_start serve --external-url "$EXTERNAL_URL/$MARKUP" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" \
  $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --kube off --interval 2s --timeout 900ms \
  --runbook-url https://wiki.example.test/coder-dns-doctor/runbook
wait_until 10 "/readyz never turned 200 (markup in the URL)" status_is /readyz 200
fetch /report "$WORK/report.json"
assert_report "any('$MARKUP' in h['url'] for h in r['http'])" "the markup is in the URLs serve checked"
chromium_run --dump-dom "http://$SERVE_ADDR/" >"$ARTIFACTS/injected-dom.html" || fail "chromium --dump-dom failed"
$CHECK injected "$ARTIFACTS/injected-dom.html" "$MARKUP" || fail "the injected markup was not escaped"
grep -q 'href="https://wiki.example.test/coder-dns-doctor/runbook#coderdnsmismatch"' "$ARTIFACTS/injected-dom.html" ||
  fail "--runbook-url did not move the finding links"
expect_clean_stop

# runbook-url from the config file; a bad one is a usage error that names the option.
printf 'runbook-url: https://wiki.example.test/from-config\n' >"$WORK/serve.yaml"
"$CDD_BIN" serve --config "$WORK/serve.yaml" --external-url "$EXTERNAL_URL" --kube off --show-config >"$WORK/show.txt" ||
  fail "serve --show-config rejected runbook-url in the file"
grep -q 'runbook-url.*https://wiki.example.test/from-config' "$WORK/show.txt" || fail "runbook-url from the file: $(cat "$WORK/show.txt")"
for bad in 'javascript:alert(1)' 'https://wiki.example.test/runbook#x' '//wiki.example.test'; do
  set +e
  "$CDD_BIN" serve --external-url "$EXTERNAL_URL" --kube off --runbook-url "$bad" --show-config >/dev/null 2>"$WORK/bad.err"
  status=$?
  set -e
  [ "$status" = 2 ] && grep -q -- '--runbook-url' "$WORK/bad.err" || fail "--runbook-url '$bad': status $status, $(cat "$WORK/bad.err")"
done
echo "artifacts: $ARTIFACTS"
pass
