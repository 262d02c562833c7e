#!/usr/bin/env bash
# The demo: the field report's split-horizon world on loopback, diagnosed, then fixed.
#  1. install dependencies and build;
#  2. start the sandbox in the field report's world (stale LAN record forwarded by cluster DNS);
#  3. run `diagnose` as a platform engineer would inside the cluster;
#  4. show the GitOps fix `patch` would make (dry run on examples/gitops), write it to a copy, and
#     check the agents' new path (the internal URL) while the stale record is still there;
#  5. roll the fix out: the patched copy committed and pushed to a local bare repository, and
#     `rollout` against the stateful fake Kubernetes API whose Flux reads that repository
#     (tests/k8s/stateful_api.py: no real cluster here) and the coderd stand-in's API with an owner
#     token: reconciles, the live ConfigMap, the template pushed, the old workspaces rebuilt, the
#     agents' path;
#  6. fix the stale record (switch the sandbox to the healthy world) and diagnose again.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
logs=$(mktemp -d)

# stage TEXT COMMAND...: say what runs, run it with its output in a log, say how long it took.
stage() {
  local text=$1 started=$SECONDS
  shift
  printf '%s ... ' "$text"
  if "$@" >"$logs/stage.log" 2>&1; then
    printf 'done (%ds)\n' $((SECONDS - started))
  else
    printf 'FAILED after %ds; the last lines of its output:\n' $((SECONDS - started))
    tail -n 20 "$logs/stage.log"
    exit 1
  fi
}
stage "installing the Debian packages the project needs (first run: a few minutes)" bash "$repo/scripts/install-deps.sh"
stage "building coder-dns-doctor with CMake ($(nproc) jobs; first build about 3 minutes on 2 cores)" \
  env BUILD_DIR="${BUILD_DIR:-$repo/build}" bash "$repo/scripts/build.sh"
bin=${BUILD_DIR:-$repo/build}/src/coder-dns-doctor
sandbox=$repo/tests/sandbox/sandbox.sh
export CDD_SANDBOX_DIR=${CDD_SANDBOX_DIR:-$repo/.sandbox}

bash "$sandbox" stop >/dev/null 2>&1 || true
api_pid=
trap '[[ -n $api_pid ]] && proc_terminate "$api_pid"; bash "$sandbox" stop >/dev/null 2>&1 || true; rm -rf "$logs"' EXIT
stage "starting the sandbox: dnsmasq, nginx as the ingress, coderd stand-ins, on 127.x" bash "$sandbox" start field-report
# shellcheck disable=SC1091
source "$CDD_SANDBOX_DIR/env"

probe=(--external-url "$EXTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE"
  --resolv-conf "$RESOLV_CONF" --hosts-file "$HOSTS_FILE" --nsswitch-conf "$NSSWITCH_CONF" --resolver cluster=system
  --resolver "upstream=$UPSTREAM_DNS" --resolver "public=$PUBLIC_DNS"
  --expect "coder.example.test=$INGRESS_IP" --expect "coder.coder.svc.cluster.local=$CLUSTER_IP")

banner() { printf '\n\033[1m== %s\033[0m\n\n' "$*"; }

# start_rollout_cluster CHECKOUT: commit CHECKOUT's original state, push it to a bare repository,
# start the stateful fake API (Flux applies that commit), then commit the patch and push it, as
# the person would before `rollout`. The fake API is stopped on exit.
start_rollout_cluster() {
  local checkout=$1 git_id=(-c user.name=demo -c user.email=demo@example.test)
  # shellcheck source=../tests/lib/tls.sh
  source "$repo/tests/lib/tls.sh"
  # shellcheck source=../tests/lib/procs.sh
  source "$repo/tests/lib/procs.sh"
  mkdir -p "$logs/api" "$logs/before"
  cp -r "$repo/examples/gitops/." "$logs/before/"
  git init -q -b main "$logs/before" && git -C "$logs/before" add -A && git -C "$logs/before" "${git_id[@]}" commit -q -m initial
  git clone -q --bare "$logs/before" "$logs/setup.git"
  git -C "$logs/before" remote add origin "$logs/setup.git"
  sed "s|@GIT_DIR@|$logs/setup.git|" "$repo/tests/k8s/seed-field-report.yaml" >"$logs/seed.yaml"
  { tls_ca "$logs/api/ca.key" "$logs/api/ca.pem" "demo fake kubernetes API CA" 1 &&
    tls_leaf "$logs/api/ca.pem" "$logs/api/ca.key" "$logs/api/server.key" "$logs/api/server.pem" kube-apiserver \
      IP:127.0.6.2 1; } >"$logs/api/openssl.log" 2>&1
  openssl rand -hex 24 >"$logs/api/token"
  proc_launch "$logs/api/pid" "$logs/api/start" "$logs/api/log" python3 "$repo/tests/k8s/stateful_api.py" \
    --addr 127.0.6.2 --port 16444 --cert "$logs/api/server.pem" --key "$logs/api/server.key" \
    --token-file "$logs/api/token" --git-dir "$logs/setup.git" --seed "$logs/seed.yaml" --reconcile-at-start --flux-delay 1 \
    --workspace-pods-from "$CDD_SANDBOX_DIR/coder-api.json"
  api_pid=$PROC_PID
  for _ in $(seq 100); do
    curl -s --noproxy '*' --max-time 0.5 --cacert "$logs/api/ca.pem" -o /dev/null https://127.0.6.2:16444/version && break
    sleep 0.05
  done
  cp -r "$checkout/." "$logs/before/"
  git -C "$logs/before" "${git_id[@]}" commit -q -am "fix(coder): agents dial the internal URL"
  git -C "$logs/before" push -q origin main
  echo "pushed the patch to $logs/setup.git (the fake Flux tracks its main branch)"
}

banner "1. diagnose in the field report's world (stale LAN record $STALE_IP, ingress at $INGRESS_IP)"
status=0
"$bin" diagnose --output text "${probe[@]}" || status=$?
echo "(exit status $status)"

if "$bin" patch --help >/dev/null 2>&1 && [ -d "$repo/examples/gitops" ]; then
  banner "2. the GitOps fix: coder-dns-doctor patch --repo examples/gitops (dry run: a diff, nothing written)"
  status=0
  "$bin" patch --repo "$repo/examples/gitops" || status=$?
  echo "(exit status $status)"

  banner "3. the fix written to a copy, and the agents' new path checked while the record is still stale"
  cp -r "$repo/examples/gitops" "$logs/gitops"
  "$bin" patch --repo "$logs/gitops" --coder-url "$INTERNAL_URL" --write >/dev/null
  agent_url=$(grep -rhoE 'coder_url: *"?[^" ]+' "$logs/gitops" | head -n 1 | sed -E 's/coder_url: *"?//')
  echo "patched copy: agents now start against ${agent_url:-the internal URL}; the sidecar's view of that URL:"
  status=0
  "$bin" diagnose --output text --external-url "$INTERNAL_URL" --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" \
    --resolv-conf "$RESOLV_CONF" --hosts-file "$HOSTS_FILE" --nsswitch-conf "$NSSWITCH_CONF" \
    --resolver cluster=system --kube off --checks dns,http,transport || status=$?
  echo "(exit status $status: the agents' path works although $EXTERNAL_URL still resolves to $STALE_IP inside)"

  banner "4. rolled out: the copy committed and pushed, then coder-dns-doctor rollout (Flux reconciles, live ConfigMap, template push, workspace rebuilds, agents' path)"
  start_rollout_cluster "$logs/gitops"
  # coderd's state for the stand-ins: the field report's workspaces on template kubernetes-envbuilder
  python3 "$repo/tests/sandbox/coder-api/compose.py" --workspaces field-report --health ok \
    -o "$CDD_SANDBOX_DIR/coder-api.json"
  rm -rf "$CDD_SANDBOX_DIR/coder-api.json.files"
  status=0
  "$bin" rollout --kube "https://127.0.6.2:16444" --kube-token-file "$logs/api/token" --kube-ca-file "$logs/api/ca.pem" \
    --internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" --resolv-conf "$RESOLV_CONF" --hosts-file "$HOSTS_FILE" \
    --nsswitch-conf "$NSSWITCH_CONF" --resolver cluster=system --poll-interval 200ms \
    --coder-token-file "$repo/tests/sandbox/coder-api/owner.token" --restart-workspaces \
    --template kubernetes-envbuilder --template-dir "$logs/gitops/libs/coder-devcontainer-kubernetes" || status=$?
  echo "(exit status $status)"
fi

banner "5. after the stale record is fixed (sandbox switched to the healthy world)"
bash "$sandbox" switch healthy
status=0
"$bin" diagnose --output text "${probe[@]}" || status=$?
echo "(exit status $status)"
