# Sourced by build_and_run.sh and explore.sh: find clang++-16, build the libFuzzer targets in
# $build (only the sources they need), replay a committed corpus, and report a crashing input.
# Callers set: here (tests/fuzz), root (the repository).
# shellcheck shell=bash
: "${here:?}" "${root:?}"

fuzz_targets_all=(fuzz_hcl fuzz_yaml_edit fuzz_resolv_conf fuzz_probe_options fuzz_init_script fuzz_dns_answer)
fuzz_targets_all+=(fuzz_ws_frame fuzz_http_request)
build="${CDD_FUZZ_BUILD_DIR:-$root/build-fuzz}"
# The flags every run shares (replay, fixed exploration, open exploration). -reload=0: the corpus
# directory is only ever written by the run itself, never re-read, so the run depends on the seed.
fuzz_flags=(-timeout=10 -rss_limit_mb=2048 -reload=0)
# Stack traces with function names and lines (clang-16 alone brings no llvm-symbolizer).
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
  for symbolizer in llvm-symbolizer-16 llvm-symbolizer; do
    if command -v "$symbolizer" >/dev/null; then
      ASAN_SYMBOLIZER_PATH="$(readlink -f "$(command -v "$symbolizer")")"
      export ASAN_SYMBOLIZER_PATH
      break
    fi
  done
fi

# Build `targets` with clang++-16 in $build.
fuzz_build() {
  # clang >= 16 is needed: clang 14/15 cannot instantiate libstdc++ 12's std::expected for types
  # with a non-trivial destructor (conditionally trivial special members, P0848). Debian 12 ships
  # clang-16 and its libFuzzer runtime (libclang-rt-16-dev); install them when missing and allowed.
  if [ -z "${CXX_FUZZ:-}" ] && ! command -v clang++-16 >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing clang-16 and libclang-rt-16-dev (Debian) for libFuzzer" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-16 libclang-rt-16-dev >/dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-16 libclang-rt-16-dev >/dev/null; }
    fi
  fi
  local cxx="${CXX_FUZZ:-$(command -v clang++-16 || true)}"
  [ -n "$cxx" ] || { echo "$(basename "$0"): clang++-16 is required (apt-get install clang-16 libclang-rt-16-dev)" >&2; exit 2; }
  cmake -S "$here" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j2 --target "$@" >/dev/null
  mkdir -p "$build/artifacts"
}

# Reject names that are not fuzz targets (a typo would otherwise fail inside cmake).
fuzz_check_targets() {
  local target known
  for target in "$@"; do
    for known in "${fuzz_targets_all[@]}"; do
      [ "$target" = "$known" ] && continue 2
    done
    echo "$(basename "$0"): unknown target '$target' (expected one of: ${fuzz_targets_all[*]})" >&2
    exit 2
  done
}

# Print the sanitizer/invariant lines of LOG, a bounded hex dump of INPUT and the one command that
# reproduces the crash: fuzz_report TARGET LOG INPUT.
fuzz_report() {
  local target="$1" log="$2" input="$3"
  # The report and the first frames of the target's own code (not libFuzzer's or libc's).
  grep -E "invariant broken|ERROR|SUMMARY|^    #[0-9]+ " "$log" |
    grep -vE " in (fuzzer::|__sanitizer_print_stack_trace|__pthread_kill|raise |abort |main |__libc_start|_start )|libc\.so" | head -20 >&2 || true
  if [ -n "$input" ] && [ -f "$input" ]; then
    echo "crashing input ($(wc -c <"$input") bytes; first 256 shown):" >&2
    if command -v xxd >/dev/null; then
      xxd -l 256 "$input" >&2
    else
      od -A x -t x1z -v -N 256 "$input" >&2
    fi
    echo "reproduce: $build/$target $input" >&2
  else
    echo "no crashing input was written; full log: $log" >&2
  fi
}

# Run TARGET on every file of its committed corpus, each in full; 0 when all pass.
# Prints "N seeds" on success; reports the failing seed otherwise.
fuzz_replay() {
  local target="$1" log="$2"
  local seeds=("$here/corpus/$target"/*)
  [ -e "${seeds[0]}" ] || { echo "$target: no corpus in $here/corpus/$target" >&2; return 1; }
  if ! "$build/$target" "${fuzz_flags[@]}" -artifact_prefix="$build/artifacts/$target-" "${seeds[@]}" \
    >"$log" 2>&1; then
    # Individual files run in order, each announced with "Running: FILE": the last one crashed.
    local seed
    seed="$(sed -n 's/^Running: //p' "$log" | tail -1)"
    echo "$target FAILED replaying its corpus: seed ${seed:-?} crashes" >&2
    fuzz_report "$target" "$log" "$seed"
    return 1
  fi
  echo "${#seeds[@]} seeds"
}

# The artifact libFuzzer wrote for the crash reported in LOG ("Test unit written to PATH").
fuzz_artifact() {
  sed -n 's/.*Test unit written to //p' "$1" | tail -1
}
