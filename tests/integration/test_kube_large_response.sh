#!/usr/bin/env bash
# A 10 MB answer from the API server (an Ingress list of thousands of unrelated Ingresses around
# the real one): read within the size cap and the timeout, the truth still found, no crash. A list
# past the 32 MiB cap is refused as KUBERNETES_UNAVAILABLE, not read into memory.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/kube_lib.sh"
start_world field-report

# inflate_ingresses MEGABYTES: pad the fixture's Ingress list with unrelated Ingresses.
inflate_ingresses() {
  python3 - "$WORK/fixtures/apis/networking.k8s.io/v1/ingresses.json" "$1" <<'PY'
import json, sys
path, megabytes = sys.argv[1], float(sys.argv[2])
doc = json.load(open(path))
real = doc["items"]
filler, size, n = [], 0, 0
while size < megabytes * 1024 * 1024:
    item = {"metadata": {"name": f"other-{n}", "namespace": f"team-{n % 50}",
                         "annotations": {"note": "x" * 900}},
            "spec": {"rules": [{"host": f"app-{n}.other.test"}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "127.0.60.1"}]}}}
    filler.append(item)
    size += len(json.dumps(item)) + 2
    n += 1
doc["items"] = filler[: len(filler) // 2] + real + filler[len(filler) // 2:]
json.dump(doc, open(path, "w"))
PY
}

kube_fixtures
inflate_ingresses 10
size=$(stat -c %s "$WORK/fixtures/apis/networking.k8s.io/v1/ingresses.json")
[ "$size" -ge $((10 * 1024 * 1024)) ] || fail "the Ingress list is only $size bytes"
start_kube_api
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args) --timeout 2s
expect_status 1
assert_report "any(t['source'] == 'kubernetes:ingress/coder/coder' and t['addresses'] == ['$INGRESS_IP'] for t in r['truth'])" \
  "the real Ingress is found among 10 MB of others"
assert_report "'EXTERNAL_DNS_MISMATCH' in codes() and 'KUBERNETES_UNAVAILABLE' not in codes()" "the check stands"
python3 -c "import sys; sys.exit(0 if $DIAG_SECONDS < 6 else 1)" || fail "took ${DIAG_SECONDS}s"

kube_fixtures
inflate_ingresses 40
start_kube_api
# shellcheck disable=SC2046
kdiagnose --internal-url "$INTERNAL_URL" $(standard_resolvers) $(kube_args) --timeout 2s
expect_status 1
assert_report "'KUBERNETES_UNAVAILABLE' in codes()" "a 40 MB answer is refused"
assert_report "'ingresses' in evidence('KUBERNETES_UNAVAILABLE')" "the evidence names the request"
pass
