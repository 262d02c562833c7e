#!/usr/bin/env bash
# Build the libFuzzer targets with clang in build-fuzz/ (only the sources they need) and run each
# for SECONDS (default 20) on a scratch copy of its seed corpus (tests/fuzz/corpus/TARGET/).
# Exit non-zero on any crash, sanitizer report or failed invariant (round-trip mismatch, bad edit,
# an exception other than UsageError). A crashing input is kept in BUILD/artifacts/.
#
#   build_and_run.sh [SECONDS [TARGET...]]    default: every target below
set -euo pipefail

seconds="${1:-20}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_hcl fuzz_yaml_edit fuzz_resolv_conf fuzz_probe_options fuzz_init_script fuzz_dns_answer)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${CDD_FUZZ_BUILD_DIR:-$root/build-fuzz}"
# clang >= 16 is needed: clang 14/15 cannot instantiate libstdc++ 12's std::expected for types with
# a non-trivial destructor (conditionally trivial special members, P0848). Debian 12 ships
# clang-16 and its libFuzzer runtime (libclang-rt-16-dev); install them when missing and allowed.
if [ -z "${CXX_FUZZ:-}" ] && ! command -v clang++-16 >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing clang-16 and libclang-rt-16-dev (Debian) for libFuzzer" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-16 libclang-rt-16-dev >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-16 libclang-rt-16-dev >/dev/null; }
  fi
fi
cxx="${CXX_FUZZ:-$(command -v clang++-16 || true)}"
[ -n "$cxx" ] || { echo "build_and_run.sh: clang++-16 is required (apt-get install clang-16 libclang-rt-16-dev)" >&2; exit 2; }

cmake -S "$here" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target "${targets[@]}" >/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/artifacts"
failed=()
for target in "${targets[@]}"; do
  mkdir -p "$work/$target"
  cp "$here/corpus/$target"/* "$work/$target/"
  echo "fuzzing $target for ${seconds}s"
  if ! (cd "$work" && "$build/$target" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/artifacts/$target-" -print_final_stats=1 "$work/$target" 2>"$work/$target.log"); then
    grep -E "invariant broken|ERROR|SUMMARY|^    #[0-9] " "$work/$target.log" | head -20 >&2
    echo "$target FAILED; the input is in $build/artifacts/" >&2
    failed+=("$target")
    continue
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added|Done" "$work/$target.log" | tr '\n' ' '
  echo
done
if ((${#failed[@]})); then
  echo "build_and_run.sh: failed: ${failed[*]}" >&2
  exit 1
fi
