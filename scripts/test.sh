#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: install what it needs, build with warnings
# as errors, run every unit and integration test through CTest.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/install-deps.sh"
BUILD_DIR=${BUILD_DIR:-$repo/build} bash "$repo/scripts/build.sh" -DCDD_WERROR=ON -DCDD_SKIP_MODULES=
cd "${BUILD_DIR:-$repo/build}"
ctest --output-on-failure "$@"
