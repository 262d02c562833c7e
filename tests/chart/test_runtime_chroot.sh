#!/usr/bin/env bash
# The Dockerfile's runtime stage without a Docker engine: debootstrap a Debian 12 minbase root (the
# slim image's equivalent), run the runtime stage's RUN instructions in it with chroot (its
# `apt-get install` of exactly the runtime packages, its user), copy the image's binary
# (coder-dns-doctor-image: static but for glibc, cmake/ImageBinary.cmake) where the Dockerfile
# COPYs it, then, as the image's USER, run `coder-dns-doctor --version`, `diagnose` against the
# sandbox's field-report and healthy worlds (their HTTPS checks go through the static libcurl and
# OpenSSL), and `serve` (the image's CMD) on the healthy world: ready, scraped, stopped.
#
# The root is cached in the build dir, keyed by the RUN instructions and the mirror: a second run
# skips debootstrap. Exit 77 (CTest skip, with the reason) without root, debootstrap, the mirror or
# the image's binary (a build configured without CDD_IMAGE_DEPS).
set -euo pipefail
: "${CDD_SOURCE_DIR:?run through ctest}" "${CDD_BIN:?run through ctest}"
skip() { echo "SKIP test_runtime_chroot: $*"; exit 77; }
dockerfile() { python3 "$CDD_SOURCE_DIR/tests/chart/dockerfile.py" "$@"; }

[ "$(id -u)" = 0 ] || skip "needs root for debootstrap and chroot"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (scripts/install-deps.sh installs it)"
[ -n "${CDD_IMAGE_BIN:-}" ] ||
  skip "no image binary: configure with -DCDD_IMAGE_DEPS=PREFIX (scripts/build-image-deps.sh; scripts/test.sh does)"
if ldd "$CDD_IMAGE_BIN" | grep -Eq 'lib(asan|ubsan)'; then
  skip "$CDD_IMAGE_BIN is a sanitizer build; the runtime image carries no sanitizer runtime"
fi

suite=bookworm
# The mirror apt already uses on this machine (Debian's deb822 or one-line sources), else Debian's.
mirror=${CDD_DEBIAN_MIRROR:-$(
  { sed -n 's/^URIs:[[:space:]]*\(http[^[:space:]]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    sed -n 's/^deb[[:space:]]\+\(http[^[:space:]]*\/debian\)\/*[[:space:]].*/\1/p' /etc/apt/sources.list 2>/dev/null || true
  } | head -n1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}

user=$(dockerfile user)
binary=$(dockerfile binary)
mapfile -d '' runs < <(dockerfile runtime-runs)
root=${CDD_BUILD_DIR:-/tmp}/chart-runtime-root
key=$(printf '%s\n' "$suite" "$mirror" "${runs[@]}" | sha256sum | cut -c1-16)

if [ "$(cat "$root/.cdd-key" 2>/dev/null)" != "$key" ]; then
  curl -fsS --max-time 20 -o /dev/null "$mirror/dists/$suite/Release" ||
    skip "the Debian mirror $mirror cannot be reached (debootstrap needs it; set CDD_DEBIAN_MIRROR to use another)"
  started=$(date +%s)
  rm -rf "$root" "$root.new"
  echo "debootstrap --variant=minbase $suite from $mirror (cached in $root afterwards)"
  debootstrap --variant=minbase "$suite" "$root.new" "$mirror" >"${root}.log" 2>&1 || {
    tail -20 "${root}.log"
    grep -qiE 'failed to (download|resolve)|couldn.t download|temporary failure|connection (refused|timed out)' "${root}.log" &&
      skip "debootstrap could not download from $mirror"
    echo "FAIL test_runtime_chroot: debootstrap failed (log: ${root}.log)"; exit 1
  }
  cp /etc/resolv.conf "$root.new/etc/resolv.conf"  # for the RUN steps' apt-get only
  for run in "${runs[@]}"; do
    echo "RUN $run"
    chroot "$root.new" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
      /bin/sh -c "$run" >>"${root}.log" 2>&1 || { tail -20 "${root}.log"; echo "FAIL test_runtime_chroot: RUN failed: $run"; exit 1; }
  done
  : >"$root.new/etc/resolv.conf"
  echo "$key" >"$root.new/.cdd-key"
  mv "$root.new" "$root"
  echo "runtime root ready in $(($(date +%s) - started)) s"
fi

# Exactly the Dockerfile's packages were asked for; nothing of the build toolchain came along.
for package in $(dockerfile runtime-packages); do
  chroot "$root" dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    { echo "FAIL test_runtime_chroot: $package is not installed in the runtime root"; exit 1; }
done
if chroot "$root" dpkg-query -W -f='${Package}\n' 2>/dev/null | grep -Eq -- '-dev$|^(gcc|g\+\+|cmake|make)$'; then
  echo "FAIL test_runtime_chroot: build packages in the runtime root"; exit 1
fi

# The Dockerfile COPYs the image target's binary, and the test copies the same one.
[ "$(dockerfile binary-source)" = /build/src/coder-dns-doctor-image ] ||
  { echo "FAIL test_runtime_chroot: the Dockerfile copies $(dockerfile binary-source), not the image target (update this test)"; exit 1; }
install -D -m 0755 "$CDD_IMAGE_BIN" "$root$binary"
# As the container runs it: the image's USER, the default PATH, an empty environment.
in_image() {
  chroot --userspec="$user" "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    coder-dns-doctor "$@"
}
# Only glibc is loaded: libcurl, OpenSSL, c-ares, yaml-cpp, prometheus-cpp, fmt, zlib and libstdc++
# are linked in.
loaded=$(chroot "$root" ldd "$binary")
missing=$(grep 'not found' <<<"$loaded" || true)
[ -z "$missing" ] || { echo "FAIL test_runtime_chroot: libraries missing in the runtime root: $missing"; exit 1; }
others=$(awk '{print $1}' <<<"$loaded" | grep -Ev '^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|/lib64/ld-linux-x86-64\.so\.2)$' || true)
[ -z "$others" ] || { echo "FAIL test_runtime_chroot: the image's binary loads more than glibc: $others"; exit 1; }
for package in libcurl4 libc-ares2 libprometheus-cpp-core1.0 libfmt9 libyaml-cpp0.7; do
  chroot "$root" dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" &&
    { echo "FAIL test_runtime_chroot: $package is installed in the runtime root (the binary links it in)"; exit 1; }
done
echo "in the runtime root: $(wc -l <<<"$loaded") libraries loaded (glibc's)"
version=$(in_image --version) || { echo "FAIL test_runtime_chroot: --version failed in the chroot"; exit 1; }
echo "in the runtime root as $user: $version" | head -3
grep -q '0\.' <<<"$version" || { echo "FAIL test_runtime_chroot: unexpected --version output"; exit 1; }

# diagnose against the sandbox from inside the root (same network namespace: loopback only).
source "$CDD_SOURCE_DIR/tests/integration/lib.sh"
start_world field-report
mkdir -p "$root/etc/cdd-test"
cp "$CA_FILE" "$root/etc/cdd-test/ca.pem"
cp "$RESOLV_CONF" "$root/etc/cdd-test/resolv.conf"
chmod -R a+rX "$root/etc/cdd-test"
cat >"$WORK/in-image" <<WRAPPER
#!/bin/sh
exec chroot --userspec="$user" "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin coder-dns-doctor "\$@"
WRAPPER
chmod +x "$WORK/in-image"
CDD_BIN=$WORK/in-image CA_FILE=/etc/cdd-test/ca.pem RESOLV_CONF=/etc/cdd-test/resolv.conf
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --kube off --expect "coder.example.test=$INGRESS_IP" \
  --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 1
assert_report "r['verdict'] == 'broken' and {'EXTERNAL_DNS_MISMATCH', 'HEALTHZ_FAILS_VIA_DNS'} <= codes()" \
  "diagnose in the runtime root finds the field report's mismatch"
assert_report "all(h['ok'] for h in http('$EXTERNAL_URL', 'pinned'))" "HTTPS pinned to the ingress works (static libcurl + OpenSSL, CA file in the root)"
broken_seconds=$DIAG_SECONDS

# The healthy world: exit 0, no finding, every HTTPS and transport check passes.
start_world healthy
cp "$CA_FILE" "$root/etc/cdd-test/ca.pem"
cp "$RESOLV_CONF" "$root/etc/cdd-test/resolv.conf"
CA_FILE=/etc/cdd-test/ca.pem RESOLV_CONF=/etc/cdd-test/resolv.conf
# shellcheck disable=SC2046
diagnose $(standard_resolvers) --kube off --expect "coder.example.test=$INGRESS_IP" \
  --expect "coder.coder.svc.cluster.local=$CLUSTER_IP"
expect_status 0
assert_report "r['verdict'] == 'healthy' and not r['findings']" "diagnose in the runtime root: the healthy world is healthy"
assert_report "r['http'] and all(h['ok'] for h in r['http'])" "every HTTPS check passes through the static libcurl"
assert_report "r['transport'] and all(t['ok'] for t in r['transport'])" "every transport check (WebSocket, DERP) passes"
healthy_seconds=$DIAG_SECONDS

# serve, the image's CMD: ready, a promtool-clean scrape (prometheus-cpp linked in) with the healthy
# world's verdict and every HTTPS path up, then a clean stop on SIGTERM.
source "$CDD_SOURCE_DIR/tests/daemon/serve_lib.sh"
# shellcheck disable=SC2046
serve_start serve --external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" \
  $(standard_resolvers) --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP" \
  --kube off --interval 1s --timeout 900ms
wait_until 10 "serve in the runtime root: /readyz never turned 200" status_is /readyz 200
scrape "$WORK/image-metrics.txt"
promtool check metrics <"$WORK/image-metrics.txt" >"$WORK/promtool.out" 2>&1 ||
  fail "serve in the runtime root: promtool check metrics: $(cat "$WORK/promtool.out")"
assert_metrics "$WORK/image-metrics.txt" "value('coder_dns_doctor_http_up', url='$EXTERNAL_URL/healthz', via='dns') == 1 and value('coder_dns_doctor_http_up', url='$EXTERNAL_URL/healthz', via='pinned') == 1" \
  "serve in the runtime root: the external HTTPS paths are up"
assert_metrics "$WORK/image-metrics.txt" "value('coder_dns_doctor_dns_answer_match', host='coder.example.test', resolver='cluster', family='A') == 1" \
  "serve in the runtime root: the cluster resolver's answer matches (c-ares linked in)"
assert_metrics "$WORK/image-metrics.txt" "series('coder_dns_doctor_build_info') and not series('coder_dns_doctor_finding')" \
  "serve in the runtime root: no finding in the healthy world"
expect_clean_stop
rm -rf "$root/etc/cdd-test" "$root$binary"
echo "in the runtime root: diagnose field report exit 1 in ${broken_seconds}s, healthy exit 0 in ${healthy_seconds}s;" \
  "serve ready, scraped, stopped in ${STOP_SECONDS}s"
pass
