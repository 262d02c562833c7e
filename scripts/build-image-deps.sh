#!/usr/bin/env bash
# Build the static libraries the container image's binary links (cmake -DCDD_IMAGE_DEPS=PREFIX
# makes the coder-dns-doctor-image target; README "Performance" measures why): from Debian 12's
# own source packages, the two Debian ships no static archive of that fits —
#   - libcurl: its OpenSSL flavour (every Debian patch but the GnuTLS and NSS ones, as debian/rules
#     builds libcurl4) with only what coder-dns-doctor uses: HTTP and HTTPS over OpenSSL, the
#     threaded resolver, HTTP/1.1. Debian's own libcurl.a needs the whole libcurl4 tree (GnuTLS via
#     librtmp, LDAP, Kerberos, SSH, IDN, PSL, brotli, zstd, nghttp2);
#   - prometheus-cpp's core (Debian ships it shared only).
# c-ares, OpenSSL, yaml-cpp, zlib and libstdc++ come from Debian's own static archives; fmt is
# compiled in from its headers (src/fmt_library.cpp). Each source package must be the version of
# the -dev package installed, whose headers the rest of the build compiles against.
#
#   scripts/build-image-deps.sh PREFIX            # writes PREFIX/lib/libcurl.a, libprometheus-cpp-core.a
#   scripts/build-image-deps.sh --cached PREFIX   # the same, skipped when PREFIX/.cdd-key holds this
#                                                 # script's hash (scripts/test.sh and bench/run.py)
#
# Needs the build packages of scripts/install-deps.sh and dpkg-dev; reads Debian's source
# packages through apt with a private list of deb-src entries made from the system's own sources
# (the system's apt configuration is not changed). Exit 2: a PREFIX under / /usr /etc (it is emptied
# first); exit 3: no deb-src source, or an unexpected one.
set -euo pipefail
cached=false
if [ "${1:-}" = --cached ]; then
  cached=true
  shift
fi
prefix=${1:?usage: build-image-deps.sh [--cached] PREFIX}
key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
if $cached; then
  if [ "$(cat "$prefix/.cdd-key" 2>/dev/null)" = "$key" ]; then
    echo "build-image-deps: $prefix is up to date"
    exit 0
  fi
fi
case $(realpath -m "$prefix") in /|/usr|/usr/*|/etc|/etc/*) echo "build-image-deps: refusing PREFIX $prefix" >&2; exit 2 ;; esac
rm -rf "$prefix"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jobs=${JOBS:-2}

if ! command -v dpkg-source >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
fi

# deb-src twins of the system's deb822 sources, in a private apt state.
mkdir -p "$work/apt/parts" "$work/apt/lists/partial"
for sources in /etc/apt/sources.list.d/*.sources; do
  [ -e "$sources" ] || continue
  sed 's/^Types:.*/Types: deb-src/' "$sources" >"$work/apt/parts/$(basename "$sources")"
done
[ -n "$(ls "$work/apt/parts")" ] || { echo "build-image-deps: no deb822 sources in /etc/apt/sources.list.d" >&2; exit 3; }
apt_private=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/apt/parts"
  -o "Dir::State::Lists=$work/apt/lists" -o "APT::Sandbox::User=root")
echo "build-image-deps: fetching Debian's curl and prometheus-cpp source packages"
apt-get "${apt_private[@]}" update -qq

# unpack SOURCE DEV_PACKAGE: SOURCE's package, at the version of DEV_PACKAGE that is installed (its
# headers are what the project compiles against), unpacked in $work/SOURCE, unpatched.
unpack() {
  local source=$1 dev=$2 installed
  installed=$(dpkg-query -W -f='${source:Version}' "$dev" 2>/dev/null) ||
    { echo "build-image-deps: $dev is not installed (scripts/install-deps.sh installs it)" >&2; exit 3; }
  (cd "$work" && apt-get "${apt_private[@]}" source -qq --download-only "$source=$installed" >/dev/null 2>&1) ||
    { echo "build-image-deps: the mirror has no $source source at $installed, the installed $dev's version" \
        "(upgrade it: apt-get install --only-upgrade $dev)" >&2; exit 3; }
  dpkg-source --no-check --skip-patches -x "$work/${source}_${installed#*:}.dsc" "$work/$source" >/dev/null
}

unpack curl libcurl4-openssl-dev
# Debian's OpenSSL flavour: the series without its last two patches (GnuTLS, then NSS).
series=$(grep -v '^[[:space:]]*\(#\|$\)' "$work/curl/debian/patches/series")
count=$(wc -l <<<"$series")
tail -n 2 <<<"$series" | grep -q gnutls || { echo "build-image-deps: unexpected curl patch series" >&2; exit 3; }
head -n $((count - 2)) <<<"$series" | while read -r patch _; do
  patch -s -p1 -d "$work/curl" <"$work/curl/debian/patches/$patch"
done
echo "build-image-deps: building a static libcurl (HTTP and HTTPS over OpenSSL only)"
(cd "$work/curl" &&
  ./configure --prefix="$work/curl-install" --enable-static --disable-shared --with-pic --disable-dependency-tracking \
    --enable-threaded-resolver \
    --with-openssl --with-ca-path=/etc/ssl/certs --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt \
    --without-gnutls --without-libssh2 --without-libssh --without-librtmp --without-libpsl --without-libidn2 \
    --without-brotli --without-zstd --without-zlib --without-nghttp2 --without-nghttp3 --without-ngtcp2 \
    --without-gssapi --disable-ldap --disable-ldaps --disable-dict --disable-file --disable-ftp --disable-gopher \
    --disable-imap --disable-mqtt --disable-pop3 --disable-rtsp --disable-smb --disable-smtp --disable-telnet \
    --disable-tftp --disable-manual --disable-ntlm --disable-alt-svc --disable-hsts >"$work/curl-configure.log" 2>&1 ||
    { tail -20 "$work/curl-configure.log"; exit 1; }
  make -s -j"$jobs" -C lib >"$work/curl-make.log" 2>&1 || { tail -20 "$work/curl-make.log"; exit 1; })

unpack prometheus-cpp prometheus-cpp-dev
echo "build-image-deps: building prometheus-cpp's core as a static library"
cmake -S "$work/prometheus-cpp" -B "$work/prometheus-build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DENABLE_PULL=OFF -DENABLE_PUSH=OFF -DENABLE_COMPRESSION=OFF \
  -DENABLE_TESTING=OFF -DUSE_THIRDPARTY_LIBRARIES=OFF -DCMAKE_CXX_FLAGS=-DNDEBUG >"$work/prometheus.log" 2>&1 &&
  cmake --build "$work/prometheus-build" -j"$jobs" >>"$work/prometheus.log" 2>&1 ||
  { tail -20 "$work/prometheus.log"; exit 1; }

mkdir -p "$prefix/lib"
cp "$work/curl/lib/.libs/libcurl.a" "$(find "$work/prometheus-build" -name libprometheus-cpp-core.a)" "$prefix/lib/"
symbols=$(nm "$prefix/lib/libcurl.a" 2>/dev/null)
grep -q ' T curl_easy_init$' <<<"$symbols" || { echo "build-image-deps: libcurl.a lacks curl_easy_init" >&2; exit 1; }
if grep -Eq ' U (gnutls_|ldap_|gss_|libssh2_|idn2_|psl_|nghttp2_)' <<<"$symbols"; then
  echo "build-image-deps: libcurl.a still needs one of libcurl4's libraries" >&2; exit 1
fi
echo "build-image-deps: $prefix/lib: $(cd "$prefix/lib" && ls | tr '\n' ' ')"
if $cached; then echo "$key" >"$prefix/.cdd-key"; fi
