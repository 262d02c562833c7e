#!/usr/bin/env bash
# rollout end to end: the field report's world (sandbox), its GitOps checkout patched and pushed
# to a local bare repository, the stateful fake API whose Flux reads that repository, and the
# real kubectl as the independent client. Worlds: Flux succeeds (every step verified, exit 0),
# Flux fails (Ready=False: exit 1, its message, nothing else changed), 409 conflicts (retried),
# --dry-run (no object changed), --wait-timeout, SIGINT during a wait, a broken agents' path, and
# without Flux: --apply-configmap (server-side dry run first), its refusal on a Flux-managed one.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/rollout_lib.sh"

start_world field-report

# The agents' side, as the demo checks it: the pod's resolv.conf, the sandbox CA.
agent_probe=(--internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" --resolv-conf "$RESOLV_CONF"
  --hosts-file "$HOSTS_FILE" --nsswitch-conf "$NSSWITCH_CONF" --resolver cluster=system)

# rollout_json NAME ARG...: rollout --output json into $WORK/NAME.json (stderr NAME.err); sets RC.
rollout_json() {
  local name=$1; shift
  RC=0
  # shellcheck disable=SC2046
  "$CDD_BIN" rollout --output json $(rollout_args) "${agent_probe[@]}" --poll-interval 100ms "$@" \
    >"$WORK/$name.json" 2>"$WORK/$name.err" || RC=$?
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/$name.json" ||
    fail "$name: stdout is not one JSON document: $(head -c 300 "$WORK/$name.json")"
}

# step_status NAME STEP -> the status of STEP in $WORK/NAME.json
step_status() {
  python3 - "$WORK/$1.json" "$2" <<'PY'
import json, sys
steps = json.load(open(sys.argv[1]))["rollout"]["steps"]
print(next((s["status"] for s in steps if s["name"] == sys.argv[2]), "absent"))
PY
}
expect_step() {  # NAME STEP STATUS
  local got
  got=$(step_status "$1" "$2")
  [[ $got == "$3" ]] || fail "$1: step $2 is '$got', expected '$3' ($(cat "$WORK/$1.err" | tail -n 5))"
}
# start_cluster_before_fix [OPTION...]: the fake API as Flux left it before the fix was pushed (it
# bootstraps from the commit before main's), then the fix pushed: the person's state at rollout.
start_cluster_before_fix() {
  git -C "$WORK/checkout" push -q -f origin HEAD~1:main
  start_stateful_api --reconcile-at-start "$@"
  git -C "$WORK/checkout" push -q -f origin main
  [[ -z $(live_value) ]] || fail "the cluster before the fix already carries coder_url"
}
expect_rc() { [[ $RC == "$2" ]] || fail "$1: exit status $RC, expected $2; stderr: $(tail -n 5 "$WORK/$1.err")"; }

# --- the cluster as the field report found it: Flux applied main, the ConfigMap has no coder_url
make_checkout
write_seed flux
start_stateful_api --reconcile-at-start --flux-delay 0.3
[[ -z $(live_value) ]] || fail "the seeded ConfigMap already carries coder_url"
grep -q 'kustomize.toolkit.fluxcd.io/name' <(api_objects) || fail "the fake Flux did not label what it applied"

# --- the fix, as the person writes it, committed and pushed (the doctor never commits)
"$CDD_BIN" patch --repo "$WORK/checkout" --coder-url "$INTERNAL_URL" --write >"$WORK/patch.out" 2>&1 ||
  fail "patch --write failed: $(tail -n 3 "$WORK/patch.out")"
grep -q "git -C" "$WORK/patch.out" || fail "patch --write does not print the git commands it implies"
commit_and_push "fix(coder): agents use the internal URL"

# --- dry run: every write printed, nothing changed (the fake's whole store compared)
api_objects >"$WORK/before.json"
rollout_json dry --dry-run
expect_rc dry 0
expect_step dry flux-source planned
expect_step dry flux-kustomization planned
expect_step dry configmap-verify planned
api_objects >"$WORK/after.json"
cmp -s "$WORK/before.json" "$WORK/after.json" || fail "--dry-run changed an object in the API"
! grep -q '^PATCH' "$WORK/requests.log" || fail "--dry-run sent a PATCH: $(grep '^PATCH' "$WORK/requests.log")"
python3 - "$WORK/dry.json" <<'PY' || fail "--dry-run does not list the writes it would make"
import json, sys
calls = [c for s in json.load(open(sys.argv[1]))["rollout"]["steps"] for c in s["calls"]]
assert len(calls) == 2 and all(c["method"] == "PATCH" and not c["sent"] for c in calls), calls
assert "gitrepositories/setup" in calls[0]["path"] and "kustomizations/coder-prod" in calls[1]["path"], calls
assert "reconcile.fluxcd.io/requestedAt" in calls[0]["body"], calls
PY

# --- Flux fails: Ready=False ends the step with its message; the ConfigMap is untouched
start_cluster_before_fix --flux-delay 0.2 --flux-fail "failed to checkout and determine revision: unable to clone: auth failed"
api_objects >"$WORK/before.json"
rollout_json flux-fails
expect_rc flux-fails 1
expect_step flux-fails flux-source failed
expect_step flux-fails flux-kustomization skipped
expect_step flux-fails final-check skipped
grep -q "unable to clone: auth failed" "$WORK/flux-fails.json" || fail "Ready=False's message is not shown"
[[ -z $(live_value) ]] || fail "a failed Flux reconcile changed the ConfigMap"
python3 - "$WORK/before.json" <(api_objects) <<'PY' || fail "a failed rollout changed more than the source's reconcile"
import json, sys
before, after = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
changed = sorted(k for k in after if before.get(k) != after[k])
assert changed == ["source.toolkit.fluxcd.io/v1/gitrepositories/flux-system/setup"], changed
PY

# --- the wait is bounded: Flux slower than --wait-timeout
start_cluster_before_fix --flux-delay 30
started=$SECONDS
rollout_json slow --wait-timeout 1s
expect_rc slow 1
expect_step slow flux-source timed_out
((SECONDS - started < 15)) || fail "--wait-timeout 1s did not bound the wait ($((SECONDS - started)) s)"

# --- SIGINT during a wait: stops at once, says what was done, changes nothing more
start_cluster_before_fix --flux-delay 30
api_objects >"$WORK/before.json"
# shellcheck disable=SC2046
"$CDD_BIN" rollout --output text $(rollout_args) "${agent_probe[@]}" --poll-interval 100ms \
  >"$WORK/sigint.out" 2>&1 &
rollout_pid=$!
for _ in $(seq 100); do grep -q "waiting for" "$WORK/sigint.out" && break; sleep 0.05; done
grep -q "waiting for" "$WORK/sigint.out" || fail "the text progress never said what it waits for"
kill -INT "$rollout_pid"
RC=0; wait "$rollout_pid" || RC=$?
expect_rc sigint 3
grep -q "interrupted" "$WORK/sigint.out" || fail "SIGINT: the output does not say it was interrupted"
grep -Eq "flux-source +interrupted" "$WORK/sigint.out" || fail "SIGINT: the summary lacks the interrupted step"
grep -q "reconcile request on GitRepository flux-system/setup stands" "$WORK/sigint.out" ||
  fail "SIGINT: it does not say what was done"
[[ -z $(live_value) ]] || fail "SIGINT: the ConfigMap changed"

# --- 409 conflicts on the Flux objects are retried
start_cluster_before_fix --flux-delay 0.2 --conflicts 2
rollout_json conflict --flux-branch main
expect_rc conflict 0
expect_step conflict flux-source verified
[[ $(grep -c '409 Conflict' "$WORK/conflict.json") -ge 2 ]] || fail "the retried conflicts are not noted"
[[ $(grep -c '^PATCH /apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/setup' \
  "$WORK/requests.log") == 3 ]] || fail "expected 2 refused and 1 accepted PATCH of the GitRepository"
grep -q "reminder: the GitRepository tracks the fix branch 'main'" "$WORK/conflict.json" ||
  fail "--flux-branch main: no reminder to switch the branch back"

# --- the happy path, from a fresh cluster: every step verified, kubectl agrees
start_cluster_before_fix --flux-delay 0.3
fixed_sha=$(git -C "$WORK/setup.git" rev-parse refs/heads/main)
rollout_json ok --flux-branch fix-dns --template kubernetes --template-dir "$WORK/checkout/libs/coder-devcontainer-kubernetes"
expect_rc ok 0
for step in locate flux-source flux-kustomization configmap-verify final-check; do expect_step ok "$step" verified; done
expect_step ok template manual
grep -q "main@sha1:$fixed_sha" "$WORK/ok.json" || fail "the fetched/applied revision is not the pushed commit"
grep -q "coder templates push kubernetes --directory $WORK/checkout/libs/coder-devcontainer-kubernetes" \
  "$WORK/ok.json" || fail "the template step does not print the push command"
grep -q "warning: the GitRepository tracks branch 'main', not 'fix-dns'" "$WORK/ok.json" ||
  fail "--flux-branch fix-dns: no warning that Flux tracks main"
[[ $(live_value) == "$INTERNAL_URL" ]] || fail "the live ConfigMap does not carry the internal URL: '$(live_value)'"
if [[ -n $KUBECTL ]]; then
  kubectl_fake get configmap coder-workspace-config -n coder -o yaml --show-managed-fields >"$WORK/cm.yaml" ||
    fail "kubectl cannot read the fake API"
  grep -q "manager: kustomize-controller" "$WORK/cm.yaml" || fail "kubectl: the ConfigMap was not applied by Flux"
  kubectl_fake get gitrepository setup -n flux-system -o jsonpath='{.status.lastHandledReconcileAt}' \
    >"$WORK/handled.txt" || fail "kubectl cannot read the GitRepository"
  grep -q "$(cat "$WORK/handled.txt")" "$WORK/ok.json" || fail "kubectl's lastHandledReconcileAt is not the request"
fi

# the text output: timestamped step lines and the summary table
# shellcheck disable=SC2046
"$CDD_BIN" rollout --output text $(rollout_args) "${agent_probe[@]}" --poll-interval 100ms >"$WORK/text.out" 2>&1 ||
  fail "rollout (text) failed: $(tail -n 5 "$WORK/text.out")"
grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2} flux-source: PATCH ' "$WORK/text.out" || fail "no timestamped step lines"
grep -Eq '^  final-check +verified' "$WORK/text.out" || fail "the summary table lacks the final check"

# --- the agents' path is broken: the final check fails the rollout
rollout_json broken-path --expect "coder.coder.svc.cluster.local=127.0.50.99"
expect_rc broken-path 1
expect_step broken-path configmap-verify verified
expect_step broken-path final-check failed

# --- no Flux: --apply-configmap, server-side dry run first, then for real
write_seed plain
start_stateful_api
rollout_json apply --apply-configmap --dry-run
expect_rc apply 0
expect_step apply configmap-apply planned
[[ $(live_value) == "https://coder.example.test" ]] || fail "--apply-configmap --dry-run changed the ConfigMap"
grep -q '^PATCH /api/v1/namespaces/coder/configmaps/coder-workspace-config?fieldManager=coder-dns-doctor&dryRun=All application/merge-patch+json' \
  "$WORK/requests.log" || fail "--dry-run did not ask for a server-side dry run"
: >"$WORK/requests.log"
rollout_json apply --apply-configmap
expect_rc apply 0
expect_step apply configmap-apply verified
expect_step apply configmap-verify verified
[[ $(grep -c '^PATCH' "$WORK/requests.log") == 2 ]] || fail "--apply-configmap: expected a dry run and one real PATCH"
head -n 1 <(grep '^PATCH' "$WORK/requests.log") | grep -q 'dryRun=All' || fail "the real PATCH came before the dry run"
[[ $(live_value) == "$INTERNAL_URL" ]] || fail "--apply-configmap did not set the value"
if [[ -n $KUBECTL ]]; then
  kubectl_fake get configmap coder-workspace-config -n coder -o yaml --show-managed-fields | grep -q "manager: coder-dns-doctor" ||
    fail "kubectl: the field manager is not coder-dns-doctor"
fi

# --- a Flux-managed ConfigMap is not patched directly (it would be reverted), unless --force
write_seed flux
start_stateful_api --reconcile-at-start
rollout_json refuse --apply-configmap
expect_rc refuse 3
expect_step refuse configmap-apply error
grep -q "would revert a direct change" "$WORK/refuse.json" || fail "the refusal does not say why"
! grep -q '^PATCH' "$WORK/requests.log" || fail "the refusal still sent a PATCH"

# --- bad input: one line, status 2, nothing sent
: >"$WORK/requests.log"
RC=0; "$CDD_BIN" rollout $(rollout_args) --wait-timeout soon >"$WORK/bad.out" 2>&1 || RC=$?
expect_rc bad 2
[[ $(wc -l <"$WORK/bad.out") == 1 ]] && grep -q -- "--wait-timeout 'soon'" "$WORK/bad.out" ||
  fail "a bad --wait-timeout is not one line naming it: $(cat "$WORK/bad.out")"
RC=0; "$CDD_BIN" rollout --kube off >"$WORK/bad.out" 2>&1 || RC=$?
expect_rc bad 2
[[ ! -s $WORK/requests.log ]] || fail "bad input still reached the API"

# no secret in any output
token=$(cat "$API_DIR/token")
! grep -rqF "$token" "$WORK"/*.json "$WORK"/*.err "$WORK"/*.out || fail "the API token reached the output"

if [[ -z $KUBECTL ]]; then
  echo "SKIP $test_name: kubectl is not installed, its cross-checks did not run"
  exit 77
fi
pass
