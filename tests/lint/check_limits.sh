#!/usr/bin/env bash
# Prove that scripts/lint-tidy.sh with the project's .clang-tidy can fail: each fixture one past
# a limit must be flagged by name, each fixture exactly at it must pass.
#   tests/lint/check_limits.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=${1:?usage: check_limits.sh BUILD_DIR}
failed=0

# expect FIXTURE STATUS [TEXT]: lint-tidy exits with STATUS and, when given, prints TEXT.
expect() {
  local fixture=$here/fixtures/$1 want=$2 text=${3:-} output status=0
  output=$(PROMOTED_ONLY=1 bash "$repo/scripts/lint-tidy.sh" "$build_dir" "$fixture" 2>&1) || status=$?
  [ "$status" = 77 ] && exit 77 # no clang-tidy: skipped
  if [ "$status" != "$want" ] || { [ -n "$text" ] && ! grep -qF -- "$text" <<<"$output"; }; then
    echo "FAIL $1: exit $status (expected $want)${text:+, expected output containing: $text}"
    echo "$output" | sed 's/^/  | /'
    failed=1
  else
    echo "ok   $1: exit $status"
  fi
}

expect function_101_lines.cpp 1 "function 'function_101_lines' exceeds recommended size/complexity thresholds [readability-function-size,-warnings-as-errors] (101 lines of body)"
expect function_100_lines.cpp 0
expect complexity_31.cpp 1 "function 'complexity_31' has cognitive complexity of 31 (threshold 30) [readability-function-cognitive-complexity,-warnings-as-errors]"
expect complexity_30.cpp 0
exit $failed
