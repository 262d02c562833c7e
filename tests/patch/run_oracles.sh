#!/usr/bin/env bash
# Independent oracles for `patch` outputs (TESTING.md): for every golden fixture, patch a copy with
# --write, then
#   - @cdktf/hcl2json parses every output .tf, and its JSON equals the input's JSON except exactly
#     the intended attributes (compare_json.py hcl);
#   - when an input .tf is unchanged by @cdktf/hcl-tools format(), so is its output (and
#     `terraform fmt -check` agrees when terraform is installed);
#   - npm `yaml` and python3-yaml parse every output manifest to the input documents plus the
#     intended keys (compare_json.py yaml).
# The node tools are installed into the ignored .tools/node by scripts/install-node-tools.sh.
# shellcheck source=prologue.sh
source "$(dirname "${BASH_SOURCE[0]}")/prologue.sh"
export CDD_NODE_TOOLS
CDD_NODE_TOOLS="$("$root/scripts/install-node-tools.sh")" || { echo "cannot install the node oracles" >&2; exit 1; }
checked=0

oracle() { node "$here/oracle.js" "$@"; }
# pyyaml2json FILE: every YAML document of FILE as one JSON array, read by python3-yaml
pyyaml2json() {
  python3 -c 'import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1]))], sys.stdout, default=str)' "$1"
}

for case_dir in "$here"/fixtures/*/; do
  name="$(basename "$case_dir")"
  source_repo="$(case_repo "$case_dir")"
  read_case_args "$case_dir"
  before="$work/$name/before"
  after="$work/$name/after"
  mkdir -p "$work/$name"
  cp -a "$source_repo" "$before"
  cp -a "$source_repo" "$after"
  "$bin" patch --repo "$after" "${args[@]}" --write >/dev/null 2>&1 || fail "$name" "--write failed"

  while IFS= read -r -d '' file; do
    relative="${file#"$before"/}"
    out="$after/$relative"
    cmp -s "$file" "$out" && continue
    checked=$((checked + 1))
    case "$file" in
    *.tf)
      oracle hcl2json "$file" >"$work/in.json" || { fail "$name" "hcl2json rejects the input $relative"; continue; }
      if ! oracle hcl2json "$out" >"$work/out.json" 2>"$work/err"; then
        fail "$name" "hcl2json rejects the output $relative: $(cat "$work/err")"
        continue
      fi
      python3 "$here/compare_json.py" hcl "$work/in.json" "$work/out.json" >"$work/problems" ||
        fail "$name" "$relative: unintended change: $(cat "$work/problems")"
      if oracle fmt-clean "$file" >/dev/null; then
        oracle fmt-clean "$out" >"$work/formatted" ||
          fail "$name" "$relative: input is hcl-tools-formatted, output is not: $(diff "$out" "$work/formatted" | head -10)"
        if command -v terraform >/dev/null; then
          terraform fmt -check "$out" >/dev/null 2>&1 || fail "$name" "$relative: terraform fmt -check fails"
        fi
      fi
      ;;
    *.yaml | *.yml)
      oracle yaml2json "$file" >"$work/in.json" && oracle yaml2json "$out" >"$work/out.json" ||
        { fail "$name" "npm yaml rejects $relative"; continue; }
      python3 "$here/compare_json.py" yaml "$work/in.json" "$work/out.json" >"$work/problems" ||
        fail "$name" "$relative (npm yaml): $(cat "$work/problems")"
      pyyaml2json "$file" >"$work/in.json" && pyyaml2json "$out" >"$work/out.json" ||
        { fail "$name" "python yaml rejects $relative"; continue; }
      python3 "$here/compare_json.py" yaml "$work/in.json" "$work/out.json" >"$work/problems" ||
        fail "$name" "$relative (python yaml): $(cat "$work/problems")"
      ;;
    esac
  done < <(find "$before" -type f -print0)
  echo "ok   [$name]"
done

finish "$checked changed files checked by the oracles" && [ "$checked" -gt 0 ]
