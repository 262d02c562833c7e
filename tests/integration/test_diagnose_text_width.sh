#!/usr/bin/env bash
# The text report fits the width (COLUMNS; piped and unset: 100) with nothing important lost:
# at 80 and 120 columns no line is longer, every answered address and every finding code is
# there whole, the findings come before the tables; --wide prints full cells, --quiet only the
# verdict and the findings. Both the field report (long curl errors) and a world where the
# transport table is needed (no-upgrade).
source "$(dirname "$0")/lib.sh"

text() { # text OUT ARG...: diagnose as text into $WORK/OUT
  local out=$1
  shift
  set +e
  "$CDD_BIN" diagnose --output text --ca-file "$CA_FILE" --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" \
    $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" "$@" >"$WORK/$out" 2>"$WORK/$out.err"
  set -e
}

# check_fits FILE WIDTH: no line wider than WIDTH (display columns), every address and code whole.
check_fits() {
  python3 - "$WORK/$1" "$2" "$WORK/report.json" <<'PY' || fail "$1 at $2 columns"
import json, re, sys
text, width, report = open(sys.argv[1], encoding="utf-8").read(), int(sys.argv[2]), json.load(open(sys.argv[3]))
long = [l for l in text.splitlines() if len(l) > width]
assert not long, f"{len(long)} line(s) over {width}: {long[0]!r}"
words = set(re.split(r"[\s,;]+", text))
for d in report["dns"]:
    for a in d["addresses"]:
        assert a in words, f"address {a} missing or cut"
for h in report["http"]:
    assert h["address"] in words, f"http address {h['address']} missing or cut"
for f in report["findings"]:
    assert f["code"] in words, f"finding {f['code']} missing"
assert text.index("FINDINGS") < text.index("\nDNS\n"), "findings come before the tables"
PY
}

start_world field-report
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP"
for width in 80 120; do
  COLUMNS=$width text "w$width.txt"
  check_fits "w$width.txt" "$width"
done
grep -q "…" "$WORK/w80.txt" || fail "nothing was shortened at 80 columns (the test would not notice a cut address)"
unset COLUMNS
text piped.txt
check_fits piped.txt 100
text wide.txt --wide
grep -q "Failed to connect to 127.0.50.100 port 18443" "$WORK/wide.txt" || fail "--wide lost the full curl error"
grep -q "…" "$WORK/wide.txt" && fail "--wide shortened a cell"
awk 'length($0) > 120 { found = 1 } END { exit !found }' "$WORK/wide.txt" || fail "--wide did not print full-width rows"
text quiet.txt --quiet
grep -q "EXTERNAL_DNS_MISMATCH" "$WORK/quiet.txt" || fail "--quiet lost the findings"
grep -qE "^(DNS|HTTP|TRANSPORT|RESOLVERS)$" "$WORK/quiet.txt" && fail "--quiet printed an evidence table"
# A finding's full evidence stays in the text (wrapped, not cut).
tr -s ' \n' ' ' <"$WORK/w80.txt" | grep -q "Failed to connect to 127.0.50.100 port 18443" ||
  fail "the 80-column findings lost the curl error"

bash "$SANDBOX" switch no-upgrade
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP"
COLUMNS=80 text up80.txt
check_fits up80.txt 80
grep -q "not_upgraded 426" "$WORK/up80.txt" || fail "the 80-column transport table lost the failed check"
COLUMNS=200 text up200.txt
grep -qE "derp-map-websocket +derp-websocket" "$WORK/up200.txt" || fail "at 200 columns the per-check table"
pass
