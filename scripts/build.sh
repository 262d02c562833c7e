#!/usr/bin/env bash
# Configure and build into BUILD_DIR (default build/). Extra arguments go to CMake's configure.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
jobs=${JOBS:-$(nproc)}
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build_dir" -j"$jobs"
