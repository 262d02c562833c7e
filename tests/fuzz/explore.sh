#!/usr/bin/env bash
# Open-ended exploration (opt-in; not part of the default test run, which is build_and_run.sh's
# fixed replay + fixed seed/run count): build the libFuzzer targets like build_and_run.sh, replay
# each committed corpus, then fuzz each target for SECONDS (default 60) from a scratch copy of it
# with a random seed, printed so that a run can be repeated (CDD_FUZZ_SEED=N picks the seed; the
# run is time-bounded, so a repeat follows the same path only as far as the machine is as fast).
# Exit non-zero on any crash, printing the input (hex) and the command that reproduces it; the
# input is kept in BUILD/artifacts/. Commit it under tests/fuzz/corpus/TARGET/ once it is fixed.
# New corpus units are dropped, except with CDD_FUZZ_KEEP_CORPUS=DIR (DIR/TARGET/).
#
#   explore.sh [SECONDS [TARGET...]]    default: 60 s for every target
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=tests/fuzz/common.sh
source "$here/common.sh"

seconds="${1:-60}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "explore.sh: SECONDS must be a positive integer, not '$seconds'" >&2; exit 2; }
shift || true
targets=("$@")
((${#targets[@]})) || targets=("${fuzz_targets_all[@]}")
fuzz_check_targets "${targets[@]}"
# libFuzzer takes an unsigned seed; 0 would mean "pick one" without telling, so never 0.
seed="${CDD_FUZZ_SEED:-$(($(od -An -N4 -tu4 /dev/urandom) % 2147483646 + 1))}"
[[ "$seed" =~ ^[1-9][0-9]*$ ]] || { echo "explore.sh: CDD_FUZZ_SEED must be a positive integer" >&2; exit 2; }
echo "explore.sh: seed $seed, ${seconds}s per target (repeat: CDD_FUZZ_SEED=$seed $0 $seconds ${targets[*]})"
fuzz_build "${targets[@]}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
for target in "${targets[@]}"; do
  if ! replayed="$(fuzz_replay "$target" "$work/$target.replay.log")"; then
    failed+=("$target")
    continue
  fi
  corpus="$work/$target"
  if [ -n "${CDD_FUZZ_KEEP_CORPUS:-}" ]; then
    corpus="$CDD_FUZZ_KEEP_CORPUS/$target"
  fi
  mkdir -p "$corpus"
  cp "$here/corpus/$target"/* "$corpus/"
  log="$work/$target.log"
  if ! (cd "$work" && "$build/$target" "${fuzz_flags[@]}" -seed="$seed" -max_total_time="$seconds" -max_len=16384 \
    -artifact_prefix="$build/artifacts/$target-" -print_final_stats=1 "$corpus" 2>"$log"); then
    echo "$target FAILED exploring (-seed=$seed, ${seconds}s)" >&2
    fuzz_report "$target" "$log" "$(fuzz_artifact "$log")"
    failed+=("$target")
    continue
  fi
  stats="$(grep -E "stat::number_of_executed_units|stat::new_units_added" "$log" | tr -s ' \n' ' ')"
  echo "$target: replayed $replayed; -seed=$seed ${seconds}s: $stats"
done
if ((${#failed[@]})); then
  echo "explore.sh: failed: ${failed[*]} (seed $seed)" >&2
  exit 1
fi
