# shellcheck shell=bash
# shellcheck disable=SC2034  # bin, root and args are for the suites that source this
# The start every tests/patch suite shares; source it first. It sets the shell options (no -e:
# a suite counts failures and goes on), checks CDD_BIN and makes a work directory removed on exit.
#
#   bin, here (tests/patch), root (the checkout), work (a fresh temporary directory), failures (0)
#   fail CASE MESSAGE        print one FAIL line and count it
#   case_repo CASE_DIR       print the case's checkout: its repo/, or that of the case named in repo-from
#   read_case_args CASE_DIR  set the array `args` from the case's `args` file (empty when there is none)
#   finish SUMMARY           print "SUMMARY, N failures"; succeed only when nothing failed
set -uo pipefail

bin="${CDD_BIN:?set CDD_BIN to the coder-dns-doctor binary}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT  # u+w: bad-input cases make read-only files
failures=0

fail() {
  echo "FAIL [$1]: $2" >&2
  failures=$((failures + 1))
}

case_repo() {
  if [ -f "$1/repo-from" ]; then echo "$here/fixtures/$(cat "$1/repo-from")/repo"; else echo "$1/repo"; fi
}

read_case_args() {
  args=()
  read -r -a args <"$1/args" || true
}

finish() {
  echo "$1, $failures failures"
  [ "$failures" = 0 ]
}
