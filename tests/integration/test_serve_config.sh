#!/usr/bin/env bash
# The config file: every option from YAML, flag > env > file > default (shown by --show-config and
# applied), unknown keys and bad values rejected with file:line; SIGHUP applies a good file and keeps
# the old configuration, saying so, when the new one is broken.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"
start_world field-report
CONFIG="$WORK/serve.yaml"
write_config() { # write_config INTERVAL [EXTRA_RESOLVER_LINE]
  cat >"$CONFIG" <<YAML
# coder-dns-doctor serve configuration
external-url: $EXTERNAL_URL
internal_url: $INTERNAL_URL   # '_' works as well as '-'
ca-file: $CA_FILE
resolv-conf: $RESOLV_CONF
kube: "off"
resolver:
  cluster: system
  public: $PUBLIC_DNS
$2
expect:
  coder.example.test: [$INGRESS_IP]
timeout: 900ms
interval: $1
log-format: json
YAML
}
write_config 1s "  upstream: $UPSTREAM_DNS"
line_of() { grep -n "^$1" "$CONFIG" | head -1 | cut -d: -f1; }

# --show-config: each value and where it came from.
CODER_DNS_DOCTOR_TIMEOUT=800ms "$CDD_BIN" serve --config "$CONFIG" --interval 2s --show-config >"$WORK/show.txt" 2>"$WORK/show.err" ||
  fail "--show-config failed: $(cat "$WORK/show.err")"
grep -Eq "^interval +2s +flag --interval$" "$WORK/show.txt" || fail "flag beats file: $(cat "$WORK/show.txt")"
grep -Eq "^timeout +800ms +env CODER_DNS_DOCTOR_TIMEOUT$" "$WORK/show.txt" || fail "env beats file"
grep -Eq "^resolver +cluster=system +file $CONFIG:$(line_of resolver)$" "$WORK/show.txt" || fail "file value with its line"
grep -Eq "^ +upstream=$UPSTREAM_DNS *$" "$WORK/show.txt" || fail "every value of a list"
grep -Eq "^internal-url +$INTERNAL_URL +file $CONFIG:$(line_of internal_url)$" "$WORK/show.txt" || fail "'_' spelling"
grep -Eq "^listen +0.0.0.0:9816 +default$" "$WORK/show.txt" || fail "default shown"
grep -Eq "^family +both +default$" "$WORK/show.txt" || fail "probe option default shown"

# Unknown keys and bad values: exit 2, file:line.
printf 'interval: 1s\nintervall: 2s\n' >"$WORK/typo.yaml"
set +e
"$CDD_BIN" serve --config "$WORK/typo.yaml" --external-url "$EXTERNAL_URL" 2>"$WORK/typo.err"
status=$?
set -e
[ "$status" = 2 ] || fail "unknown key: exit $status, expected 2"
grep -qF "$WORK/typo.yaml:2: unknown option 'intervall' (did you mean 'interval'?)" "$WORK/typo.err" ||
  fail "unknown key message: $(cat "$WORK/typo.err")"
printf 'external-url: %s\nkube: "off"\nfamily: 5\n' "$EXTERNAL_URL" >"$WORK/bad.yaml"
set +e
"$CDD_BIN" serve --config "$WORK/bad.yaml" 2>"$WORK/bad.err"
status=$?
set -e
[ "$status" = 2 ] || fail "bad value: exit $status, expected 2"
grep -qF -- "--family '5': expected 4, 6 or both (--family from $WORK/bad.yaml:3)" "$WORK/bad.err" ||
  fail "bad value message: $(cat "$WORK/bad.err")"

# Precedence is applied, not only shown: env beats the file's interval.
CODER_DNS_DOCTOR_INTERVAL=2s serve_start serve --config "$CONFIG"
wait_until 10 "/readyz never turned 200" status_is /readyz 200
scrape "$WORK/m1.txt"
assert_metrics "$WORK/m1.txt" "value('coder_dns_doctor_interval_seconds') == 2" "env interval applied over the file"
assert_metrics "$WORK/m1.txt" "value('coder_dns_doctor_dns_lookup_success', host='coder.example.test', resolver='upstream', family='A') == 1" \
  "file resolvers applied"
assert_metrics "$WORK/m1.txt" "value('coder_dns_doctor_dns_answer_match', host='coder.example.test', resolver='cluster', family='A') == 0" \
  "file truth applied"
head -1 "$SERVE_LOG" | python3 -c "import json,sys; json.loads(sys.stdin.read())" || fail "log-format json from the file: $(head -1 "$SERVE_LOG")"

# SIGHUP with a good file: resolver upstream removed, its gauges go; the interval stays env's.
write_config 1s ""
kill -HUP "$SERVE_PID"
reloaded() {
  scrape "$WORK/m2.txt"
  metrics_hold "$WORK/m2.txt" "value('coder_dns_doctor_config_reloads_total', result='success') == 1 and value('coder_dns_doctor_dns_lookup_success', host='coder.example.test', resolver='upstream', family='A') is None"
}
wait_until 10 "good reload not applied" reloaded
assert_metrics "$WORK/m2.txt" "value('coder_dns_doctor_dns_lookup_success', host='coder.example.test', resolver='public', family='A') == 1" "kept resolver still there"
assert_metrics "$WORK/m2.txt" "value('coder_dns_doctor_interval_seconds') == 2" "env still beats the reloaded file"
grep -q '"msg":"config reloaded"' "$SERVE_LOG" || fail "no reload line"

# SIGHUP with a broken file: the old configuration stays, the log and metrics say so.
cp "$CONFIG" "$WORK/good.yaml"
printf 'resolverz: [a=system]\n' >>"$CONFIG"
bad_line=$(wc -l <"$CONFIG")
cycles_before=$(python3 -c "import re,sys; print(re.search(r'^coder_dns_doctor_cycles_total (\S+)', open(sys.argv[1]).read(), re.M).group(1))" "$WORK/m2.txt")
kill -HUP "$SERVE_PID"
failed_reload() {
  scrape "$WORK/m3.txt"
  metrics_hold "$WORK/m3.txt" "value('coder_dns_doctor_config_reloads_total', result='failure') == 1"
}
wait_until 10 "broken reload not counted" failed_reload
grep -F "config reload failed; keeping the previous configuration" "$SERVE_LOG" | grep -qF "$CONFIG:$bad_line: unknown option 'resolverz'" ||
  fail "the log does not say which file and line: $(tail -3 "$SERVE_LOG")"
assert_metrics "$WORK/m3.txt" "value('coder_dns_doctor_config_last_reload_success') == 0" "last reload failed"
sleep 2.5
scrape "$WORK/m4.txt"
assert_metrics "$WORK/m4.txt" "value('coder_dns_doctor_cycles_total') > $cycles_before + 1" "cycles go on with the old configuration"
assert_metrics "$WORK/m4.txt" "value('coder_dns_doctor_dns_lookup_success', host='coder.example.test', resolver='public', family='A') == 1 and value('coder_dns_doctor_dns_lookup_success', host='coder.example.test', resolver='upstream', family='A') is None" \
  "the previous (good) configuration is still the one in use"
[ "$(http_status /readyz)" = 200 ] || fail "not ready after a failed reload"

# Fixing the file and sending SIGHUP again recovers.
cp "$WORK/good.yaml" "$CONFIG"
kill -HUP "$SERVE_PID"
recovered() {
  scrape "$WORK/m5.txt"
  metrics_hold "$WORK/m5.txt" "value('coder_dns_doctor_config_last_reload_success') == 1 and value('coder_dns_doctor_config_reloads_total', result='success') == 2"
}
wait_until 10 "a fixed file did not reload" recovered
expect_clean_stop
pass
