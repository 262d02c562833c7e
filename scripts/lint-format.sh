#!/usr/bin/env bash
# Check that every C++ file of src/, include/ and tests/unit/ is formatted as .clang-format says:
# `clang-format --dry-run -Werror`, listing the files that would change. Nothing is rewritten
# (`clang-format -i` on the same files fixes them).
#   scripts/lint-format.sh [FILE...]   (default: all of them)
# CLANG_FORMAT picks the binary. Exit: 0 formatted, 1 some file would change, 77 clang-format missing.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
format=${CLANG_FORMAT:-clang-format}
command -v "$format" >/dev/null || { echo "lint-format: $format not found (apt-get install clang-format)" >&2; exit 77; }

cd "$repo"
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find src include tests/unit -type f \( -name '*.cpp' -o -name '*.hpp' \) | LC_ALL=C sort)
fi
unformatted=()
for file in "${files[@]}"; do
  "$format" --dry-run -Werror --style=file "$file" >/dev/null 2>&1 || unformatted+=("$file")
done
echo "lint-format: ${#unformatted[@]} of ${#files[@]} files differ from .clang-format"
if [ ${#unformatted[@]} -gt 0 ]; then
  printf '  %s\n' "${unformatted[@]}"
  echo "fix with: clang-format -i ${unformatted[*]:0:3}${unformatted[3]:+ ...}"
  exit 1
fi
