#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine (run as root: the sandbox binds port 53):
#  1. install what it needs (Debian packages; npm tools are installed by the tests that use them);
#  2. build the image's static libraries (scripts/build-image-deps.sh, cached in the build dir), build
#     with warnings as errors (both binaries: the developer one and the image's), and run every
#     CTest suite: unit, integration, fault, patch, daemon, chart, fuzz, soak, lint (layers,
#     clang-tidy limits, clang-format);
#  3. build again with ASan+UBSan and run the unit, integration and fault suites under it: any
#     sanitizer report fails the test it happens in.
# Extra arguments go to the first ctest (e.g. -L unit). CDD_SANITIZER_STAGE=0 skips stage 3.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
stage() { printf '\n== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

stage "dependencies"
bash "$repo/scripts/install-deps.sh"

stage "the image's static libraries ($build_dir/image-deps: libcurl, prometheus-cpp from Debian's sources)"
bash "$repo/scripts/build-image-deps.sh" --cached "$build_dir/image-deps"

stage "build ($build_dir; also coder-dns-doctor-image, the image's binary)"
BUILD_DIR=$build_dir bash "$repo/scripts/build.sh" -DCDD_WERROR=ON -DCDD_SKIP_MODULES= -DCDD_SANITIZE=OFF \
  -DCDD_IMAGE_DEPS="$build_dir/image-deps"
stage "tests"
(cd "$build_dir" && ctest --output-on-failure -j2 "$@")

if [ "${CDD_SANITIZER_STAGE:-1}" != 0 ] && [ $# -eq 0 ]; then
  asan_dir=${build_dir}-asan
  stage "sanitizer build ($asan_dir)"
  BUILD_DIR=$asan_dir BUILD_TYPE=Debug bash "$repo/scripts/build.sh" -DCDD_WERROR=ON -DCDD_SKIP_MODULES= \
    -DCDD_SANITIZE=ON
  stage "unit, integration and fault tests under ASan+UBSan"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd "$asan_dir" && ctest --output-on-failure -j2 -L 'unit|integration|fault')
fi
stage "done"
