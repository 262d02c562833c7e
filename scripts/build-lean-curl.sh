#!/usr/bin/env bash
# Build the libcurl the container image ships: Debian 12's own curl source package (its OpenSSL
# flavour: every Debian patch but the GnuTLS and NSS ones, as debian/rules builds libcurl4), with
# only what coder-dns-doctor uses — HTTP and HTTPS over OpenSSL, the threaded resolver, HTTP/1.1 —
# so the process loads 14 libraries instead of the 40 Debian's libcurl4 pulls in (GnuTLS via
# librtmp, LDAP, Kerberos, SSH, IDN, PSL, brotli, zstd, nghttp2). It keeps libcurl4's soname and
# symbol version (CURL_OPENSSL_4): the binary, linked against libcurl4-openssl-dev, runs on either.
#
#   scripts/build-lean-curl.sh ROOT            # writes ROOT/usr/lib/<multiarch>/libcurl.so.4*
#   scripts/build-lean-curl.sh --cached ROOT   # the same, skipped when ROOT/.cdd-key holds this
#                                              # script's hash (tests and bench/run.py reuse one build)
#
# ROOT is laid out as the image's root: the Dockerfile copies it over /, where the dynamic loader
# finds the library in its default directory with no ld.so.cache entry, in place of libcurl4's
# (which the image does not install). Measured in README "Performance": less RSS, faster start.
# Needs the build packages of scripts/install-deps.sh and dpkg-dev; reads Debian's source
# package through apt with a private list of deb-src entries made from the system's own sources
# (the system's apt configuration is not changed).
set -euo pipefail
cached=false
if [ "${1:-}" = --cached ]; then
  cached=true
  shift
fi
root=${1:?usage: build-lean-curl.sh [--cached] ROOT}
key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
if $cached; then
  if [ "$(cat "$root/.cdd-key" 2>/dev/null)" = "$key" ]; then
    echo "build-lean-curl: $root is up to date"
    exit 0
  fi
  rm -rf "$root"
fi
work=$(mktemp -d)
prefix=$work/install
trap 'rm -rf "$work"' EXIT

if ! command -v dpkg-source >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
fi

# deb-src twins of the system's deb822 sources, in a private apt state.
mkdir -p "$work/apt/parts" "$work/apt/lists/partial"
for sources in /etc/apt/sources.list.d/*.sources; do
  [ -e "$sources" ] || continue
  sed 's/^Types:.*/Types: deb-src/' "$sources" >"$work/apt/parts/$(basename "$sources")"
done
[ -n "$(ls "$work/apt/parts")" ] || { echo "build-lean-curl: no deb822 sources in /etc/apt/sources.list.d" >&2; exit 3; }
apt_private=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/apt/parts"
  -o "Dir::State::Lists=$work/apt/lists" -o "APT::Sandbox::User=root")
echo "build-lean-curl: fetching Debian's curl source package"
apt-get "${apt_private[@]}" update -qq
(cd "$work" && apt-get "${apt_private[@]}" source -qq --download-only curl >/dev/null)
dsc=$(ls "$work"/curl_*.dsc)
dpkg-source --no-check --skip-patches -x "$dsc" "$work/curl" >/dev/null

# Debian's OpenSSL flavour: the series without its last two patches (GnuTLS, then NSS).
series=$(grep -v '^[[:space:]]*\(#\|$\)' "$work/curl/debian/patches/series")
count=$(wc -l <<<"$series")
tail -n 2 <<<"$series" | grep -q gnutls || { echo "build-lean-curl: unexpected patch series" >&2; exit 3; }
head -n $((count - 2)) <<<"$series" | while read -r patch _; do
  patch -s -p1 -d "$work/curl" <"$work/curl/debian/patches/$patch"
done

echo "build-lean-curl: configuring $(basename "$dsc" .dsc) (HTTP and HTTPS over OpenSSL only)"
cd "$work/curl"
./configure --prefix="$prefix" --disable-static --enable-shared --disable-dependency-tracking \
  --disable-symbol-hiding --enable-versioned-symbols --enable-threaded-resolver \
  --with-openssl --with-ca-path=/etc/ssl/certs --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt \
  --without-gnutls --without-libssh2 --without-libssh --without-librtmp --without-libpsl --without-libidn2 \
  --without-brotli --without-zstd --without-zlib --without-nghttp2 --without-nghttp3 --without-ngtcp2 \
  --without-gssapi --disable-ldap --disable-ldaps --disable-dict --disable-file --disable-ftp --disable-gopher \
  --disable-imap --disable-mqtt --disable-pop3 --disable-rtsp --disable-smb --disable-smtp --disable-telnet \
  --disable-tftp --disable-manual --disable-ntlm --disable-alt-svc --disable-hsts >"$work/configure.log" 2>&1 ||
  { tail -20 "$work/configure.log"; exit 1; }
make -s -j"${JOBS:-2}" -C lib >"$work/make.log" 2>&1 || { tail -20 "$work/make.log"; exit 1; }
make -s -C lib install >/dev/null
objdump -T "$prefix/lib/libcurl.so.4" | grep -q 'CURL_OPENSSL_4 *curl_easy_init$' ||
  { echo "build-lean-curl: the library lacks libcurl4's symbol version CURL_OPENSSL_4" >&2; exit 1; }
libdir=$root/usr/lib/$(gcc -print-multiarch)
mkdir -p "$libdir"
cp -a "$prefix"/lib/libcurl.so.4* "$libdir/"
echo "build-lean-curl: $libdir/libcurl.so.4 ($(ldd "$libdir/libcurl.so.4" | wc -l) libraries below it)"
if $cached; then echo "$key" >"$root/.cdd-key"; fi
