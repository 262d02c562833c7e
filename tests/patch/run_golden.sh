#!/usr/bin/env bash
# Golden tests for `coder-dns-doctor patch`. For every tests/patch/fixtures/<case>:
#   1. dry run: stdout == expected.diff, stderr == expected.summary, exit 0, no file changed;
#   2. --check: exit 1 (changes needed), no file changed;
#   3. --write: exit 0, and the tree equals the original with expected.diff applied (patch -p1);
#   4. second run: --check exits 0 and the dry run prints no diff (idempotent).
# A case reads its extra arguments from `args` and its checkout from `repo/` (or from the case
# named in `repo-from`). UPDATE_GOLDEN=1 rewrites the expected files instead of comparing.
# shellcheck source=prologue.sh
source "$(dirname "${BASH_SOURCE[0]}")/prologue.sh"
cases=0

compare() { # case, expected file, actual file
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
    cp "$3" "$2"
  elif ! cmp -s "$2" "$3"; then
    fail "$1" "$(basename "$2") differs:"
    diff -u "$2" "$3" | head -40 >&2
  fi
}

for case_dir in "$here"/fixtures/*/; do
  name="$(basename "$case_dir")"
  cases=$((cases + 1))
  source_repo="$(case_repo "$case_dir")"
  read_case_args "$case_dir"
  repo="$work/$name/repo"
  pristine="$work/$name/pristine"
  mkdir -p "$work/$name"
  cp -a "$source_repo" "$repo"
  cp -a "$source_repo" "$pristine"

  # 1. Dry run.
  "$bin" patch --repo "$repo" "${args[@]}" >"$work/$name/diff" 2>"$work/$name/summary"
  status=$?
  [ "$status" = 0 ] || fail "$name" "dry run exited $status: $(cat "$work/$name/summary")"
  sed "s|$repo|REPO|g" -i "$work/$name/summary"
  compare "$name" "$case_dir/expected.diff" "$work/$name/diff"
  compare "$name" "$case_dir/expected.summary" "$work/$name/summary"
  diff -r "$pristine" "$repo" >/dev/null || fail "$name" "the dry run changed files"

  # 2. --check reports pending changes.
  "$bin" patch --repo "$repo" "${args[@]}" --check >/dev/null 2>&1
  status=$?
  [ "$status" = 1 ] || fail "$name" "--check before --write exited $status, expected 1"

  # 3. --write gives exactly the golden diff applied to the original.
  "$bin" patch --repo "$repo" "${args[@]}" --write >/dev/null 2>"$work/$name/write.log"
  status=$?
  [ "$status" = 0 ] || fail "$name" "--write exited $status: $(cat "$work/$name/write.log")"
  expected_tree="$work/$name/expected"
  cp -a "$pristine" "$expected_tree"
  if [ -s "$case_dir/expected.diff" ]; then
    (cd "$expected_tree" && patch -s -p1 --binary <"$case_dir/expected.diff") || fail "$name" "expected.diff does not apply"
  fi
  diff -r "$expected_tree" "$repo" >/dev/null || fail "$name" "--write result differs from expected.diff applied"
  # File modes survive the atomic rename.
  (cd "$pristine" && find . -type f -printf '%m %p\n' | sort) >"$work/$name/modes.before"
  (cd "$repo" && find . -type f -printf '%m %p\n' | sort) >"$work/$name/modes.after"
  cmp -s "$work/$name/modes.before" "$work/$name/modes.after" || fail "$name" "file modes changed"

  # 4. Idempotent: nothing left to do.
  "$bin" patch --repo "$repo" "${args[@]}" --check >"$work/$name/diff2" 2>"$work/$name/summary2"
  status=$?
  [ "$status" = 0 ] || fail "$name" "--check after --write exited $status: $(cat "$work/$name/summary2")"
  [ -s "$work/$name/diff2" ] && fail "$name" "second run still prints a diff"
  grep -q ": done:" "$work/$name/summary2" && fail "$name" "second run reports a step as done"
  echo "ok   [$name]"
done

finish "$cases golden cases"
