# shellcheck shell=bash
# Helpers for the rollout tests: a GitOps checkout pushed to a local bare repository, the stateful
# fake Kubernetes API (tests/k8s/stateful_api.py, with Flux behaviour) reading that repository,
# and the real kubectl as the independent client. Source it after tests/integration/lib.sh; it
# stops the fake API on exit. Only 127.x addresses.
# shellcheck source=../lib/tls.sh
source "$CDD_SOURCE_DIR/tests/lib/tls.sh"
# shellcheck source=../lib/procs.sh
source "$CDD_SOURCE_DIR/tests/lib/procs.sh"
STATEFUL_API_ADDR=127.0.6.2
STATEFUL_API_PORT=16444
API_DIR="$WORK/stateful-api"
KUBE_URL="https://$STATEFUL_API_ADDR:$STATEFUL_API_PORT"

rollout_cleanup() {
  local status=$?
  stop_stateful_api
  (exit "$status")
  cleanup
}
trap rollout_cleanup EXIT

stop_stateful_api() {
  local pid
  if pid=$(proc_recorded "$API_DIR/pid" "$API_DIR/start" 2>/dev/null); then proc_terminate "$pid"; fi
  proc_forget "$API_DIR/pid" "$API_DIR/start"
}

# make_checkout: $WORK/checkout (a git work tree of examples/gitops, pushed) and $WORK/setup.git
# (the bare repository the fake Flux reads), one commit on main.
make_checkout() {
  rm -rf "$WORK/checkout" "$WORK/setup.git"
  cp -r "$CDD_SOURCE_DIR/examples/gitops" "$WORK/checkout"
  git init -q -b main "$WORK/checkout"
  git -C "$WORK/checkout" -c user.name=test -c user.email=test@example.test add -A
  git -C "$WORK/checkout" -c user.name=test -c user.email=test@example.test commit -q -m "initial"
  git clone -q --bare "$WORK/checkout" "$WORK/setup.git"
  git -C "$WORK/checkout" remote add origin "$WORK/setup.git"
}

# commit_and_push MESSAGE: what the person does after `patch --write`.
commit_and_push() {
  git -C "$WORK/checkout" -c user.name=test -c user.email=test@example.test commit -q -am "$1"
  git -C "$WORK/checkout" push -q origin main
}

# write_seed [flux|plain]: the objects the fake starts with. `flux`: the GitRepository and the
# Kustomization that deliver apps/coder-prod (the ConfigMap comes from git at start); `plain`:
# the ConfigMap alone, as kubectl apply left it, no Flux labels.
write_seed() {
  local mode=${1:-flux}
  if [[ $mode == plain ]]; then
    cat >"$WORK/seed.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: coder-workspace-config, namespace: coder}
data: {registry_url: "registry.registry.svc.cluster.local:5000", coder_url: "https://coder.example.test"}
YAML
    return
  fi
  sed "s|@GIT_DIR@|$WORK/setup.git|" "$CDD_SOURCE_DIR/tests/k8s/seed-field-report.yaml" >"$WORK/seed.yaml"
}

# start_stateful_api [OPTION...]: (re)start the fake on $WORK/seed.yaml and $WORK/setup.git with
# stateful_api.py OPTIONs; writes $WORK/kubeconfig for kubectl; empties $WORK/requests.log.
start_stateful_api() {
  stop_stateful_api
  mkdir -p "$API_DIR"
  if [[ ! -f $API_DIR/ca.pem ]]; then
    { tls_ca "$API_DIR/ca.key" "$API_DIR/ca.pem" "stateful fake kubernetes API CA" 2 &&
      tls_leaf "$API_DIR/ca.pem" "$API_DIR/ca.key" "$API_DIR/server.key" "$API_DIR/server.pem" kube-apiserver \
        "IP:$STATEFUL_API_ADDR" 2; } >"$API_DIR/openssl.log" 2>&1 || fail "could not make the fake API's TLS files"
    openssl rand -hex 24 >"$API_DIR/token"
    chmod 600 "$API_DIR/token"
  fi
  : >"$WORK/requests.log"
  proc_launch "$API_DIR/pid" "$API_DIR/start" "$API_DIR/log" python3 "$CDD_SOURCE_DIR/tests/k8s/stateful_api.py" \
    --addr "$STATEFUL_API_ADDR" --port "$STATEFUL_API_PORT" --cert "$API_DIR/server.pem" --key "$API_DIR/server.key" \
    --token-file "$API_DIR/token" --git-dir "$WORK/setup.git" --seed "$WORK/seed.yaml" \
    --request-log "$WORK/requests.log" "$@"
  local i
  for i in $(seq 100); do
    proc_alive "$PROC_PID" || { tail -n 5 "$API_DIR/log" >&2; fail "the stateful fake API exited at start"; }
    if curl -s --noproxy '*' --max-time 0.5 --cacert "$API_DIR/ca.pem" -o /dev/null "$KUBE_URL/version"; then
      break
    fi
    ((i < 100)) || fail "the stateful fake API did not answer within 5 s"
    sleep 0.05
  done
  : >"$WORK/requests.log"
  cat >"$WORK/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "$KUBE_URL", certificate-authority: "$API_DIR/ca.pem"}}]
users: [{name: fake, user: {tokenFile: "$API_DIR/token"}}]
contexts: [{name: fake, context: {cluster: fake, user: fake}}]
current-context: fake
YAML
}

# The whole store, as the fake holds it (for "nothing changed" assertions).
api_objects() {
  curl -s --noproxy '*' --max-time 5 --cacert "$API_DIR/ca.pem" -H "Authorization: Bearer $(cat "$API_DIR/token")" \
    "$KUBE_URL/debug/objects"
}

# The kubectl the tests use as the independent client, or nothing (its checks are then skipped).
KUBECTL=$(command -v kubectl || true)
kubectl_fake() {
  KUBECONFIG="$WORK/kubeconfig" "$KUBECTL" --request-timeout=5s --cache-dir "$WORK/kube-cache" "$@"
}

# live_value: data.coder_url of the live ConfigMap as kubectl reads it (the field report's
# `kubectl get configmap` step); without kubectl, as curl reads it.
live_value() {
  if [[ -n $KUBECTL ]]; then
    kubectl_fake get configmap coder-workspace-config -n coder -o jsonpath='{.data.coder_url}'
  else
    curl -s --noproxy '*' --cacert "$API_DIR/ca.pem" -H "Authorization: Bearer $(cat "$API_DIR/token")" \
      "$KUBE_URL/api/v1/namespaces/coder/configmaps/coder-workspace-config" |
      python3 -c 'import json,sys; print(json.load(sys.stdin).get("data",{}).get("coder_url",""), end="")'
  fi
}

rollout_args() {
  echo --kube "$KUBE_URL" --kube-token-file "$API_DIR/token" --kube-ca-file "$API_DIR/ca.pem"
}
