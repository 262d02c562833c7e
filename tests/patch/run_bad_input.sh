#!/usr/bin/env bash
# Bad-input tests for `coder-dns-doctor patch`. Every tests/patch/bad/<case> starts from the
# plain Kubernetes fixture, overlays its own `repo/` files, runs its `setup.sh` (with $OUTSIDE, a
# directory outside the checkout), then runs patch with `args`. Expected: exit 2, stderr equal to
# expected.stderr (REPO stands for the checkout's path), and not one byte changed, inside the
# checkout or outside it. UPDATE_GOLDEN=1 rewrites expected.stderr.
# shellcheck source=prologue.sh
source "$(dirname "${BASH_SOURCE[0]}")/prologue.sh"
cases=0

snapshot() { # directory → listing of every file's mode, type and checksum
  (cd "$1" && find . \( -type f -o -type l \) -printf '%m %y %p -> %l\n' | sort &&
    find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

for case_dir in "$here"/bad/*/; do
  name="$(basename "$case_dir")"
  cases=$((cases + 1))
  repo="$work/$name/repo"
  export OUTSIDE="$work/$name/outside"
  mkdir -p "$OUTSIDE"
  cp -a "$here/fixtures/kubernetes-plain/repo" "$repo"
  [ -d "$case_dir/repo" ] && cp -a "$case_dir/repo/." "$repo/"
  [ -f "$case_dir/setup.sh" ] && (cd "$repo" && bash "$case_dir/setup.sh")
  read_case_args "$case_dir"
  before_inside="$(snapshot "$repo")"
  before_outside="$(snapshot "$OUTSIDE")"

  # timeout: an input that blocks (a FIFO, a device) must fail the case, not hang the suite
  timeout 10 "$bin" patch --repo "$repo" "${args[@]}" >"$work/$name/stdout" 2>"$work/$name/stderr"
  status=$?
  sed -e "s|$repo|REPO|g" -e "s|$OUTSIDE|OUTSIDE|g" -i "$work/$name/stderr"
  [ "$status" = 2 ] || fail "$name" "exited $status, expected 2"
  [ -s "$work/$name/stdout" ] && fail "$name" "printed a diff on stdout"
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
    cp "$work/$name/stderr" "$case_dir/expected.stderr"
  elif ! cmp -s "$case_dir/expected.stderr" "$work/$name/stderr"; then
    fail "$name" "stderr differs:"
    diff -u "$case_dir/expected.stderr" "$work/$name/stderr" >&2
  fi
  [ "$before_inside" = "$(snapshot "$repo")" ] || fail "$name" "a file inside the checkout changed"
  [ "$before_outside" = "$(snapshot "$OUTSIDE")" ] || fail "$name" "a file outside the checkout changed"
  leftovers="$(find "$repo" -name '.*.cdd-*')"
  [ -z "$leftovers" ] || fail "$name" "temporary files left behind: $leftovers"
  echo "ok   [$name] $(cat "$work/$name/stderr")"
done

finish "$cases bad-input cases"
