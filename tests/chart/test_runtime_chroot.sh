#!/usr/bin/env bash
# The Dockerfile's runtime stage without a Docker engine: debootstrap a Debian 12 minbase root (the
# slim image's equivalent), run the runtime stage's RUN instructions in it with chroot (its
# `apt-get install` of exactly the runtime packages, its user), copy the built binary where the
# Dockerfile COPYs it and the lean libcurl as scripts/build-lean-curl.sh builds it, then, as the
# image's USER, run `coder-dns-doctor --version` and a `diagnose` against the sandbox's
# field-report world (its HTTPS checks go through that libcurl).
#
# The root is cached in the build dir, keyed by the RUN instructions and the mirror: a second run
# skips debootstrap. Exit 77 (CTest skip, with the reason) without root, debootstrap or the mirror.
set -euo pipefail
: "${CDD_SOURCE_DIR:?run through ctest}" "${CDD_BIN:?run through ctest}"
skip() { echo "SKIP test_runtime_chroot: $*"; exit 77; }
dockerfile() { python3 "$CDD_SOURCE_DIR/tests/chart/dockerfile.py" "$@"; }

[ "$(id -u)" = 0 ] || skip "needs root for debootstrap and chroot"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (scripts/install-deps.sh installs it)"
if ldd "$CDD_BIN" | grep -Eq 'lib(asan|ubsan)'; then
  skip "$CDD_BIN is a sanitizer build; the runtime image carries no sanitizer runtime"
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

# The Dockerfile's COPY of the build stage's lean libcurl: the same script, its output cached.
lean=${CDD_BUILD_DIR:-/tmp}/lean-curl-root
bash "$CDD_SOURCE_DIR/scripts/build-lean-curl.sh" --cached "$lean" ||
  { echo "FAIL test_runtime_chroot: scripts/build-lean-curl.sh failed"; exit 1; }
grep -q '^COPY --from=build /lean-root/ /$' "$CDD_SOURCE_DIR/Dockerfile" ||
  { echo "FAIL test_runtime_chroot: the Dockerfile no longer copies /lean-root (update this test)"; exit 1; }
(cd "$lean" && tar -cf - --exclude=.cdd-key .) | (cd "$root" && tar -xf -)
install -D -m 0755 "$CDD_BIN" "$root$binary"
# As the container runs it: the image's USER, the default PATH, an empty environment.
in_image() {
  chroot --userspec="$user" "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    coder-dns-doctor "$@"
}
loaded=$(chroot "$root" ldd "$binary")
missing=$(grep 'not found' <<<"$loaded" || true)
[ -z "$missing" ] || { echo "FAIL test_runtime_chroot: libraries missing in the runtime root: $missing"; exit 1; }
# The lean libcurl is the one loaded, and none of libcurl4's tree came with it.
grep -Eq 'libcurl\.so\.4 => /(usr/)?lib/[^/]+/libcurl\.so\.4 ' <<<"$loaded" ||
  { echo "FAIL test_runtime_chroot: libcurl.so.4 is not the copied one: $(grep libcurl <<<"$loaded")"; exit 1; }
heavy=$(grep -Eo 'lib(gnutls|ldap|lber|gssapi_krb5|krb5|ssh2?|rtmp|psl|idn2|brotlidec|zstd|nghttp2)[^ ]*' <<<"$loaded" || true)
[ -z "$heavy" ] || { echo "FAIL test_runtime_chroot: libcurl4's dependencies loaded: $heavy"; exit 1; }
chroot "$root" dpkg-query -W -f='${Status}' libcurl4 2>/dev/null | grep -q "install ok installed" &&
  { echo "FAIL test_runtime_chroot: libcurl4 is installed in the runtime root"; exit 1; }
echo "in the runtime root: $(wc -l <<<"$loaded") libraries loaded, libcurl from the lean build"
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
assert_report "all(h['ok'] for h in http('$EXTERNAL_URL', 'pinned'))" "HTTPS pinned to the ingress works (libcurl + CA file in the root)"
rm -rf "$root/etc/cdd-test" "$root$binary"
echo "diagnose in the runtime root: exit $DIAG_STATUS in ${DIAG_SECONDS}s"
pass
