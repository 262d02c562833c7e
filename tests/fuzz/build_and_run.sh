#!/usr/bin/env bash
# The fuzz stage of the test suite (CTest fuzz/all), the same run on every machine: build the
# libFuzzer targets with clang in build-fuzz/ (only the sources they need), then for each target
#  1. replay its whole committed corpus (tests/fuzz/corpus/TARGET/), every seed in full: each must pass;
#  2. explore from a scratch copy of that corpus with the fixed seed and run count of the table below.
# Exit non-zero on any crash, sanitizer report or failed invariant (round-trip mismatch, bad edit,
# an exception other than core::UsageError), printing the input (hex) and the command that reproduces it;
# the input is kept in BUILD/artifacts/. Open-ended random exploration is explore.sh.
#
#   build_and_run.sh [TARGET...]    default: every target in the table
set -euo pipefail

# The fixed exploration: one libFuzzer -seed for all targets, and each target's -runs (executions,
# the initial corpus included), chosen for about 10-15 s each on a 2-core machine.
fuzz_seed=1
fuzz_runs_table="
fuzz_hcl             24000
fuzz_yaml_edit       12000
fuzz_resolv_conf    320000
fuzz_probe_options  200000
fuzz_init_script     70000
fuzz_dns_answer     150000
fuzz_ws_frame       500000
fuzz_http_request  1000000
"
# What else keeps the run the same from one process and machine to the next: besides -seed/-runs,
#  - -use_cmp=0: no mutations from libFuzzer's table of recent compares. Instrumented code compares
#    pointer values (libstdc++'s std::less<T*>, UBSan's pointer-overflow check), so that table
#    changed with ASLR and with the length of the paths on the command line;
#  - the same command line everywhere (./TARGET ... corpus/TARGET, run in a scratch directory), and
#    ASLR off (setarch -R) where the kernel or container allows it: some coverage in inlined
#    yaml-cpp/libstdc++ code depends on where the heap and stack are (seen in fuzz_yaml_edit);
#  - no stack-depth coverage in the build (see CMakeLists.txt).
fuzz_fixed_flags=(-use_cmp=0)
# A safety cap only (seconds per target): a normal run ends on its run count; hitting the cap
# fails the target, since it did not make the reproducible run.
fuzz_cap_seconds=180

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/fuzz/common.sh
source "$here/common.sh"

declare -A fuzz_runs
while read -r name count; do
  [ -n "$name" ] && fuzz_runs[$name]=$count
done <<<"$fuzz_runs_table"

if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  echo "build_and_run.sh: runs are fixed per target now (table at the top of $0);" \
    "for SECONDS of random exploration use tests/fuzz/explore.sh $*" >&2
  exit 2
fi
targets=("$@")
((${#targets[@]})) || targets=("${fuzz_targets_all[@]}")
fuzz_check_targets "${targets[@]}"
fuzz_build "${targets[@]}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
no_aslr=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  no_aslr=(setarch "$(uname -m)" -R)
else
  echo "build_and_run.sh: note: cannot turn ASLR off (setarch -R is refused here), so fuzz_yaml_edit's" \
    "stats may differ slightly from run to run" >&2
fi
failed=()
started=$(date +%s)
for target in "${targets[@]}"; do
  runs="${fuzz_runs[$target]}"
  t0=$(date +%s)
  if ! replayed="$(fuzz_replay "$target" "$work/$target.replay.log")"; then
    failed+=("$target")
    continue
  fi
  mkdir -p "$work/corpus/$target"
  cp "$here/corpus/$target"/* "$work/corpus/$target/"
  ln -sf "$build/$target" "$work/$target"
  log="$work/$target.log"
  if ! (cd "$work" && "${no_aslr[@]}" "./$target" "${fuzz_flags[@]}" "${fuzz_fixed_flags[@]}" -seed="$fuzz_seed" \
    -runs="$runs" -max_len=16384 -max_total_time="$fuzz_cap_seconds" -artifact_prefix="artifacts/$target-" \
    -print_final_stats=1 "corpus/$target" 2>"$log"); then
    echo "$target FAILED exploring (-seed=$fuzz_seed -runs=$runs)" >&2
    artifact="$(fuzz_artifact "$log")"
    if [ -n "$artifact" ] && [ -f "$work/$artifact" ]; then
      mv "$work/$artifact" "$build/artifacts/"
      artifact="$build/artifacts/$(basename "$artifact")"
    fi
    fuzz_report "$target" "$log" "$artifact"
    failed+=("$target")
    continue
  fi
  executed="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  # The same seed and run count give the same lines below on every machine; the time varies.
  stats="$(grep -E "stat::number_of_executed_units|stat::new_units_added" "$log" | tr -s ' \n' ' ')"
  done_line="$(grep -E "^#[0-9]+[[:space:]]+DONE" "$log" | sed -E 's/ (lim|exec\/s|rss):.*//' | tr -s ' \t' ' ')"
  echo "$target: replayed $replayed; -seed=$fuzz_seed -runs=$runs: $stats| $done_line ($(($(date +%s) - t0)) s)"
  if [ "${executed:-0}" -lt "$runs" ]; then
    echo "$target FAILED: stopped by the ${fuzz_cap_seconds}s safety cap after $executed of $runs runs" >&2
    failed+=("$target")
  fi
done
echo "fuzzing took $(($(date +%s) - started)) s"
if ((${#failed[@]})); then
  echo "build_and_run.sh: failed: ${failed[*]}" >&2
  exit 1
fi
