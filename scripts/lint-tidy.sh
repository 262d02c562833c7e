#!/usr/bin/env bash
# Run clang-tidy with the project's .clang-tidy over every src/**/*.cpp (or the files given) and
# fail on the diagnostics that its WarningsAsErrors promotes (function size and cognitive
# complexity); the other enabled checks only warn and are counted.
#   scripts/lint-tidy.sh [BUILD_DIR [FILE...]]   (BUILD_DIR defaults to $BUILD_DIR, then build/)
# BUILD_DIR must hold compile_commands.json (CMakeLists.txt sets CMAKE_EXPORT_COMPILE_COMMANDS).
# JOBS (default 2) clang-tidy processes run at once; CLANG_TIDY picks the binary; VERBOSE=1
# prints every warning; PROMOTED_ONLY=1 runs only the WarningsAsErrors checks.
# Exit: 0 clean, 1 promoted diagnostics, 2 usage, 3 clang-tidy crashed, 77 clang-tidy missing.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-${BUILD_DIR:-$repo/build}}
shift $(($# > 0 ? 1 : 0))
jobs=${JOBS:-2}
tidy=${CLANG_TIDY:-clang-tidy}

command -v "$tidy" >/dev/null || { echo "lint-tidy: $tidy not found (apt-get install clang-tidy)" >&2; exit 77; }
database=$build_dir/compile_commands.json
if [ ! -f "$database" ]; then
  echo "lint-tidy: no $database: configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON" >&2
  exit 2
fi

if [ $# -gt 0 ]; then
  files=()
  for file in "$@"; do # e.g. tests/lint fixtures: clang-tidy borrows a compile command from the database
    files+=("$(realpath "$file")")
  done
else
  mapfile -t files < <(cd "$repo" && find src -name '*.cpp' | LC_ALL=C sort | sed "s|^|$repo/|")
  # Every source must have its own compile command, or it would be checked with borrowed flags.
  for file in "${files[@]}"; do
    grep -qF "\"file\": \"$file\"" "$database" || { echo "lint-tidy: $file is not in $database" >&2; exit 2; }
  done
fi

# clang-tidy 14 (Debian 12) knows C++23 as c++2b, and libstdc++ 12 hides <expected> unless
# __cpp_concepts says 202002L. Even then clang 14 cannot instantiate std::expected's destructor:
# those clang-diagnostic-error lines are expected and ignored (the AST keeps every function, so
# sizes and complexities are still measured). -ferror-limit=0 keeps clang from stopping early.
extra=(--extra-arg=-std=c++2b --extra-arg=-U__cpp_concepts --extra-arg=-D__cpp_concepts=202002L
       --extra-arg=-ferror-limit=0 --extra-arg=-Wno-error)

# PROMOTED_ONLY=1 runs only the checks that fail (about a fifth of the time; CTest's lint/clang-tidy).
if [ "${PROMOTED_ONLY:-0}" = 1 ]; then
  promoted=$("$tidy" --config-file="$repo/.clang-tidy" --dump-config |
    sed -n 's/^WarningsAsErrors: *//p' | tr -d "\"' " | sed 's/\\n//g; s/,$//')
  [ -n "$promoted" ] || { echo "lint-tidy: .clang-tidy promotes no check (WarningsAsErrors)" >&2; exit 2; }
  extra+=(--checks="-*,$promoted")
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
start=$(date +%s)
# One clang-tidy per file, each into its own log (parallel output would interleave).
printf '%s\n' "${files[@]}" | xargs -d '\n' -P "$jobs" -I{} sh -c '
  tidy=$0 logs=$1 file=$2 database=$3 config=$4; shift 4
  "$tidy" --quiet -p "$database" --config-file="$config" "$@" "$file" \
    >"$logs/$(printf %s "$file" | tr / _).log" 2>&1 || true' \
  "$tidy" "$logs" {} "$build_dir" "$repo/.clang-tidy" "${extra[@]}"
elapsed=$(($(date +%s) - start))

# A crash leaves the rest of its file unchecked: that fails too, naming the file.
crashed=$(grep -lE '^Stack dump:|PLEASE submit a bug report' "$logs"/*.log || true)
if [ -n "$crashed" ]; then
  for log in $crashed; do
    echo "lint-tidy: clang-tidy crashed on $(basename "$log" .log | tr _ /); its first lines:" >&2
    grep -m3 -E '^[0-9]+\.|Program arguments' "$log" >&2 || true
  done
  exit 3
fi

# A header's diagnostic repeats in every file that includes it: count each one once.
cat "$logs"/*.log | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): .*\[[a-z0-9.,-]+\]$' |
  grep -v '\[clang-diagnostic-' | LC_ALL=C sort -u >"$logs/all.txt" || true
grep -F ',-warnings-as-errors]' "$logs/all.txt" >"$logs/failures.txt" || true
warnings=$(grep -cvF ',-warnings-as-errors]' "$logs/all.txt" || true)
failures=$(wc -l <"$logs/failures.txt")

if [ "${VERBOSE:-0}" = 1 ]; then
  grep -vF ',-warnings-as-errors]' "$logs/all.txt" || true
fi
echo "lint-tidy: ${#files[@]} files in ${elapsed}s with $jobs jobs: $warnings warnings (not failing)," \
  "$failures failing diagnostics"
if [ "$failures" -gt 0 ]; then
  # Name each offender with its measured size (the note clang-tidy prints after the message).
  while IFS= read -r line; do
    location=${line%%: error:*}
    size=$(cat "$logs"/*.log | grep -F "$location: note:" | grep -oE '[0-9]+ lines including' | head -1 || true)
    echo "$line${size:+ (${size% including} of body)}"
  done <"$logs/failures.txt"
  exit 1
fi
