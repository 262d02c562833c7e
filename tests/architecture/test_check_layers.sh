#!/usr/bin/env bash
# check-layers.py must pass a clean tree and fail (exit 1, naming the edge) on an upward edge, a
# sideways edge and a cycle, and refuse (exit 2) a module missing from its layer table.
set -euo pipefail
check=${1:?path to check-layers.py}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# tree NAME FILE:INCLUDED_MODULE... -> a minimal repository whose FILE includes a header of each module
tree() {
  local root=$tmp/$1; shift
  mkdir -p "$root/src"
  for spec in "$@"; do
    local file=${spec%%=*} target=${spec#*=}
    mkdir -p "$root/$(dirname "$file")"
    [ "$target" = "$spec" ] || echo "#include <coder_dns_doctor/$target/x.hpp>" >>"$root/$file"
    touch "$root/$file"
  done
  echo "$root"
}

expect() { # expect STATUS PATTERN ROOT
  local want=$1 pattern=$2 root=$3 out status=0
  out=$(python3 "$check" "$root" 2>&1) || status=$?
  if [ "$status" != "$want" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: $root: expected exit $want and /$pattern/, got exit $status:"; echo "$out"; exit 1
  fi
  echo "ok: $(basename "$root"): exit $status, $(grep -E -- "$pattern" <<<"$out" | head -n 1)"
}

expect 0 'no cycle' "$(tree clean src/probe/a.cpp=dns src/dns/b.cpp=util src/cli/c.cpp=probe)"
expect 1 'upward edge dns -> probe' "$(tree upward src/dns/a.cpp=probe src/probe/b.cpp=util)"
expect 1 'sideways edge k8s -> probe' "$(tree sideways include/coder_dns_doctor/k8s/a.hpp=probe)"
expect 1 'cycle: cli <-> daemon' "$(tree cycle src/cli/a.cpp=daemon src/daemon/b.cpp=cli)"
expect 1 'upward edge core -> util' "$(tree core-up src/util/a.cpp=core src/core/b.cpp=util)"
expect 2 'module gizmo is not in the layer table' "$(tree unknown src/gizmo/a.cpp=util)"
