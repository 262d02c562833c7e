#!/usr/bin/env bash
# serve's listener from curl's side: /report gzip-compressed when asked (and the same document as
# plain), /metrics compressed for a Prometheus-style Accept-Encoding, only GET and HEAD (405 with
# Allow), a request head over 8 KiB refused (431), a client that sends half a request dropped at
# the header deadline; `--report off` (flag, then the config key through SIGHUP) stops serving the
# topology: /report 404, the page says it is off, /healthz unchanged; `metrics: minimal` in the
# same reload drops the histograms from /metrics.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"

start_world field-report
printf 'report: "on"\n' >"$WORK/serve.yaml"
# shellcheck disable=SC2046
serve_start serve --config "$WORK/serve.yaml" --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" \
  --ca-file "$CA_FILE" $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --kube off \
  --interval 1s --timeout 900ms
wait_until 10 "/readyz never turned 200" status_is /readyz 200

# gzip on request: the compressed /report decompresses to a JSON document of the same cycle kind.
curl -s --max-time 5 -H 'Accept-Encoding: gzip' -D "$WORK/gz.headers" -o "$WORK/report.json.gz" "http://$SERVE_ADDR/report"
grep -qi '^content-encoding: gzip' "$WORK/gz.headers" || fail "/report was not compressed: $(cat "$WORK/gz.headers")"
gzip -dc "$WORK/report.json.gz" >"$WORK/report.json" || fail "/report's gzip body does not decompress"
assert_report "r['verdict'] == 'broken' and 'EXTERNAL_DNS_MISMATCH' in codes()" "the compressed /report is the report"
plain=$(curl -s --max-time 5 -o /dev/null -w '%{size_download}' "http://$SERVE_ADDR/report")
zipped=$(stat -c %s "$WORK/report.json.gz")
[ "$zipped" -lt $((plain / 3)) ] || fail "gzip saved little: $zipped of $plain bytes"
curl -s --max-time 5 -H 'Accept-Encoding: gzip' -D "$WORK/m.headers" -o "$WORK/metrics.gz" "http://$SERVE_ADDR/metrics"
grep -qi '^content-encoding: gzip' "$WORK/m.headers" || fail "/metrics was not compressed for gzip"
gzip -dc "$WORK/metrics.gz" | grep -q '^coder_dns_doctor_cycles_total ' || fail "the compressed /metrics has no cycles_total"

# Methods, sizes, the header deadline.
code=$(curl -s -o /dev/null -D "$WORK/post.headers" -w '%{http_code}' --max-time 5 -X POST -d x "http://$SERVE_ADDR/metrics")
[ "$code" = 405 ] && grep -qi '^allow: GET, HEAD' "$WORK/post.headers" || fail "POST answered $code: $(cat "$WORK/post.headers")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "http://$SERVE_ADDR/healthz")
[ "$code" = 431 ] || fail "a 9 kB header answered $code, expected 431"
length=$(curl -s -I --max-time 5 "http://$SERVE_ADDR/healthz" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-length"{print $2}')
[ "$length" = 3 ] || fail "HEAD /healthz: Content-Length '$length'"
python3 - "$SERVE_ADDR" <<'PY' || fail "a half-sent request was not dropped at the header deadline"
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b"GET /healthz HTTP/1.1\r\nX-Slow: a")
start = time.monotonic()
assert s.recv(1) == b"", "the server answered a half request"
elapsed = time.monotonic() - start
assert 1.5 < elapsed < 4.0, f"dropped after {elapsed:.2f}s, expected about 2s"
PY

# --report off from the config file, applied by SIGHUP.
printf 'report: "off"\nmetrics: minimal\n' >"$WORK/serve.yaml"
kill -HUP "$SERVE_PID"
wait_until 10 "/report still served after report: off and SIGHUP" status_is /report 404
curl -s --max-time 5 "http://$SERVE_ADDR/report" | grep -q 'not served: --report off' || fail "/report off without the reason"
curl -s --max-time 5 -H 'Accept: text/html' "http://$SERVE_ADDR/" >"$WORK/page.html"
grep -q 'The status page is off' "$WORK/page.html" || fail "the page shows the topology with report off"
! grep -q "$INGRESS_IP" "$WORK/page.html" || fail "the page with report off names the ingress address"
status_is /healthz 200 || fail "/healthz with report off"
scrape "$WORK/metrics.txt"
assert_metrics "$WORK/metrics.txt" "len(series('coder_dns_doctor_dns_answer_match')) > 0 and 'coder_dns_doctor_dns_lookup_duration_seconds' not in types and 'coder_dns_doctor_build_info' not in types" \
  "/metrics after reloading metrics: minimal (report off)"

# The flag, and a bad value.
status=0
"$CDD_BIN" serve --report maybe --external-url "$EXTERNAL_URL" --kube off --show-config >/dev/null 2>"$WORK/bad.err" || status=$?
[ "$status" = 2 ] && grep -q -- "--report 'maybe': expected on or off" "$WORK/bad.err" || fail "--report maybe: status $status, $(cat "$WORK/bad.err")"
pass
