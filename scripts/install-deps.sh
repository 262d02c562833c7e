#!/usr/bin/env bash
# Install everything coder-dns-doctor needs to build, test, demo and benchmark on Debian 12.
# Idempotent: packages already present are skipped, so a second run is fast and offline.
set -euo pipefail

# Build toolchain and libraries (Debian packages only, nothing vendored).
build_packages=(
  build-essential cmake pkg-config git
  libc-ares-dev libcurl4-openssl-dev libfmt-dev doctest-dev libcli11-dev
  nlohmann-json3-dev libyaml-cpp-dev prometheus-cpp-dev libdtl-dev
  libcivetweb-dev # not linked: prometheus-cpp's CMake config looks for it (its pull library)
  libssl-dev zlib1g-dev
)
# Real servers and peers used by the sandbox, the tests and the benchmarks.
test_packages=(
  dnsmasq-base unbound nginx-light openssl prometheus
  dnsutils curl python3 python3-yaml python3-websockets procps iproute2  # websockets: tests/standin cross-check
  debootstrap unzip
  clang-16 libclang-rt-16-dev  # libFuzzer (tests/fuzz): clang >= 16 for libstdc++ 12's std::expected
  clang-tidy clang-format      # lint/ (tests/lint): function size, cognitive complexity, formatting
  chromium fonts-dejavu-core   # test_serve_page: the status page in headless Chromium (--dump-dom, --screenshot)
)
bench_packages=(prometheus-blackbox-exporter dnsperf hyperfine strace valgrind)  # strace: serve's questions per cycle; valgrind: profiles

want=("${build_packages[@]}" "${test_packages[@]}")
# Node.js runs the independent oracles (HCL and YAML parsers, Helm, Kubernetes schemas). Machines
# that already have a node (e.g. from NodeSource) keep it: Debian's npm would conflict with it.
if ! command -v npm >/dev/null 2>&1; then
  want+=(nodejs npm)
fi
# kubectl is the rollout tests' independent client. Images that ship one (the Google Cloud CLI
# packages put theirs on /usr/bin/kubectl, which conflicts with Debian's) keep it.
if ! command -v kubectl >/dev/null 2>&1; then
  want+=(kubernetes-client)
fi
case "${1:-}" in
  --bench) want+=("${bench_packages[@]}") ;;
  "") ;;
  *) echo "install-deps.sh: unknown argument '$1' (expected --bench or nothing)" >&2; exit 2 ;;
esac

missing=()
for package in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d keeps Debian from starting the nginx/unbound/prometheus services on install:
# the sandbox starts its own instances on loopback and must not find ports taken.
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  created_policy=yes
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ "$created_policy" = yes ]; then $sudo rm -f "$policy"; fi
