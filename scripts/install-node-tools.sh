#!/usr/bin/env bash
# Install the Node-based oracles used by the patch tests into the ignored folder .tools/node:
# @cdktf/hcl2json (HashiCorp's HCL parser, wasm), @cdktf/hcl-tools (hclwrite's formatter, wasm)
# and yaml (an independent YAML parser). Skips the network when they are already there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${CDD_NODE_TOOLS:-$root/.tools/node}"
packages=("@cdktf/hcl2json" "@cdktf/hcl-tools" "yaml")

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install-node-tools.sh: node and npm are required (Debian: apt-get install nodejs npm)" >&2
  exit 2
fi

missing=()
for package in "${packages[@]}"; do
  [ -f "$prefix/node_modules/$package/package.json" ] || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  echo "$prefix"
  exit 0
fi

mkdir -p "$prefix"
[ -f "$prefix/package.json" ] || echo '{"name": "cdd-node-tools", "private": true}' >"$prefix/package.json"
npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "${missing[@]}" >&2
echo "$prefix"
