#!/usr/bin/env bash
# The demo: the field report's split-horizon world on loopback, diagnosed, then fixed.
#  1. install dependencies and build;
#  2. start the sandbox in the field report's world (stale LAN record forwarded by cluster DNS);
#  3. run `diagnose` as a platform engineer would inside the cluster;
#  4. show the GitOps fix `patch` would make (dry run on examples/gitops);
#  5. fix the stale record (switch the sandbox to the healthy world) and diagnose again.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/install-deps.sh"
BUILD_DIR=${BUILD_DIR:-$repo/build} bash "$repo/scripts/build.sh" >/dev/null
bin=${BUILD_DIR:-$repo/build}/src/coder-dns-doctor
sandbox=$repo/tests/sandbox/sandbox.sh
export CDD_SANDBOX_DIR=${CDD_SANDBOX_DIR:-$repo/.sandbox}

bash "$sandbox" stop >/dev/null 2>&1 || true
trap 'bash "$sandbox" stop >/dev/null 2>&1 || true' EXIT
bash "$sandbox" start field-report
# shellcheck disable=SC1091
source "$CDD_SANDBOX_DIR/env"

probe=(--external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE"
  --resolv-conf "$RESOLV_CONF" --hosts-file "$HOSTS_FILE" --nsswitch-conf "$NSSWITCH_CONF" --resolver cluster=system
  --resolver "upstream=$UPSTREAM_DNS" --resolver "public=$PUBLIC_DNS"
  --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP")

banner() { printf '\n\033[1m== %s\033[0m\n\n' "$*"; }

banner "1. diagnose in the field report's world (stale LAN record $STALE_IP, ingress at $INGRESS_IP)"
status=0
"$bin" diagnose --output text "${probe[@]}" || status=$?
echo "(exit status $status)"

if "$bin" patch --help >/dev/null 2>&1 && [ -d "$repo/examples/gitops" ]; then
  banner "2. the GitOps fix: coder-dns-doctor patch --repo examples/gitops (dry run: a diff, nothing written)"
  status=0
  "$bin" patch --repo "$repo/examples/gitops" || status=$?
  echo "(exit status $status)"
fi

banner "3. after the stale record is fixed (sandbox switched to the healthy world)"
bash "$sandbox" switch healthy
status=0
"$bin" diagnose --output text "${probe[@]}" || status=$?
echo "(exit status $status)"
