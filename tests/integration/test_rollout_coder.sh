#!/usr/bin/env bash
# rollout's Coder side end to end: the field report's world (sandbox), its checkout patched and
# pushed to the bare repository the fake Flux reads, the stateful fake API, and the coderd
# stand-in's writable API (tests/sandbox/coderd_templates.py) with an owner token; the fake API
# lists the workspace pods terraform would have made from coderd's builds (--workspace-pods-from),
# and kubectl reads them. Worlds: the whole rollout (Flux, ConfigMap, template pushed and
# promoted, the workspaces on an old version or with a pod on the old URL rebuilt with at most
# --restart-concurrency builds at once, agents connected, pods on the internal URL, final check:
# exit 0); an unpatched
# template (its version's build fails: exit 1, the active version unchanged, no workspace
# rebuilt); --dry-run (coderd's state unchanged, every write listed); the workspaces only listed;
# --wait-timeout and SIGINT during the build (the version cancelled, not promoted); two
# organizations; bad input. The uploaded archive is read back with python's tarfile (an
# independent reader); no token appears in any output.
source "$(dirname "$0")/lib.sh"
source "$CDD_SOURCE_DIR/tests/k8s/rollout_lib.sh"

start_world field-report
API="$CDD_SOURCE_DIR/tests/sandbox/coder-api"
FIXTURE="$CDD_SANDBOX_DIR/coder-api.json"
OWNER_TOKEN=$(<"$API/owner.token")
TEMPLATE=kubernetes-envbuilder
TEMPLATE_DIR="$WORK/checkout/libs/coder-devcontainer-kubernetes"

agent_probe=(--internal-url "$INTERNAL_URL" --ca-file "$CA_FILE" --resolv-conf "$RESOLV_CONF"
  --hosts-file "$HOSTS_FILE" --nsswitch-conf "$NSSWITCH_CONF" --resolver cluster=system)
coder_args=(--coder-token-file "$API/owner.token" --template "$TEMPLATE" --template-dir "$TEMPLATE_DIR")

# compose [KEY=JSON...]: a fresh coderd state (the field report's workspaces, one template), with
# fixture keys set (job_seconds=30 ...); removes the uploads of an earlier world.
compose() {
  rm -rf "$FIXTURE.files"
  /usr/bin/python3 "$API/compose.py" --workspaces field-report --health ok -o "$FIXTURE" || fail "compose.py failed"
  [[ $# == 0 ]] || python3 - "$FIXTURE" "$@" <<'PY' || fail "could not set fixture keys"
import json, sys
path = sys.argv[1]
fixture = json.load(open(path))
for pair in sys.argv[2:]:
    key, _, value = pair.partition("=")
    fixture[key] = json.loads(value)
json.dump(fixture, open(path, "w"), indent=1)
PY
}
# fixture EXPR: a Python expression over `f` (the stand-in's state) and `ws(owner)`, printed.
fixture() {
  python3 - "$FIXTURE" "$1" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
ws = lambda owner: next(w for w in f["workspaces"] if w["owner_name"] == owner)
print(eval(sys.argv[2]))
PY
}
rollout_json() {  # NAME ARG...: rollout --output json into $WORK/NAME.json (stderr NAME.err); sets RC
  local name=$1; shift
  RC=0
  # shellcheck disable=SC2046
  "$CDD_BIN" rollout --output json $(rollout_args) "${agent_probe[@]}" --poll-interval 100ms "$@" \
    >"$WORK/$name.json" 2>"$WORK/$name.err" || RC=$?
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/$name.json" ||
    fail "$name: stdout is not one JSON document: $(head -c 300 "$WORK/$name.json") $(tail -n 3 "$WORK/$name.err")"
  if grep -qF "${OWNER_TOKEN#*-}" "$WORK/$name.json" "$WORK/$name.err"; then fail "$name: the Coder token leaked"; fi
}
step_field() {  # NAME STEP FIELD -> that field of STEP in $WORK/NAME.json
  python3 - "$WORK/$1.json" "$2" "$3" <<'PY'
import json, sys
steps = json.load(open(sys.argv[1]))["rollout"]["steps"]
step = next((s for s in steps if s["name"] == sys.argv[2]), None)
print("absent" if step is None else step[sys.argv[3]])
PY
}
expect_step() {  # NAME STEP STATUS
  local got
  got=$(step_field "$1" "$2" status)
  [[ $got == "$3" ]] || fail "$1: step $2 is '$got', expected '$3': $(step_field "$1" "$2" summary)"
}
steps_of() {  # NAME -> "step=status: summary" lines of $WORK/NAME.json
  python3 -c 'import json,sys; [print("%s=%s: %s" % (s["name"], s["status"], s["summary"])) for s in json.load(open(sys.argv[1]))["rollout"]["steps"]]' "$WORK/$1.json" 2>/dev/null
}
expect_rc() { [[ $RC == "$2" ]] || fail "$1: exit status $RC, expected $2; steps: $(steps_of "$1")"; }

# --- the checkout as the field report found it, patched and pushed; Flux still on the old commit
make_checkout
write_seed flux
"$CDD_BIN" patch --repo "$WORK/checkout" --coder-url "$INTERNAL_URL" --write >"$WORK/patch.out" 2>&1 ||
  fail "patch --write failed: $(tail -n 3 "$WORK/patch.out")"
# what a template directory holds besides the template: never uploaded
mkdir -p "$TEMPLATE_DIR/.terraform/providers"
head -c 300000 /dev/urandom >"$TEMPLATE_DIR/.terraform/providers/provider.bin"
echo '{"version": 4}' >"$TEMPLATE_DIR/terraform.tfstate"
echo 'provider lock' >"$TEMPLATE_DIR/.terraform.lock.hcl"
commit_and_push "fix(coder): agents dial the internal URL"
git -C "$WORK/checkout" push -q -f origin HEAD~1:main
start_stateful_api --reconcile-at-start --flux-delay 0.3 --workspace-pods-from "$FIXTURE"
git -C "$WORK/checkout" push -q -f origin main
# pod_urls: "pod=CODER_AGENT_URL" of the workspace pods as kubectl (the independent client) reads them
pod_urls() {
  [[ -n $KUBECTL ]] || return 0
  kubectl_fake get pods -n coder-workspace \
    -o jsonpath='{range .items[*]}{.metadata.name}={.spec.containers[0].env[1].value}{"\n"}{end}' | sort
}

# --- an unpatched template: its version's build fails, nothing is promoted or rebuilt
compose
active_before=$(fixture 'f["templates"][0]["active_version_id"]')
cp -r "$CDD_SOURCE_DIR/examples/gitops/libs/coder-devcontainer-kubernetes" "$WORK/unpatched"
rollout_json unpatched --coder-token-file "$API/owner.token" --template "$TEMPLATE" --template-dir "$WORK/unpatched" \
  --restart-workspaces
expect_rc unpatched 1
expect_step unpatched template failed
expect_step unpatched workspaces skipped
grep -q "does not carry the fix" "$WORK/unpatched.json" || fail "unpatched: the build's error is not shown"
grep -q "Error: the template does not carry the fix" "$WORK/unpatched.err" || fail "unpatched: the job's logs were not printed"
[[ $(fixture 'f["templates"][0]["active_version_id"]') == "$active_before" ]] || fail "unpatched: a failed version was promoted"
[[ $(fixture 'ws("alice")["latest_build"]["build_number"]') == 3 ]] || fail "unpatched: a workspace was rebuilt"

# --- dry run: reads only; every write listed, coderd's state unchanged
compose
before=$(fixture 'json.dumps({k: f.get(k) for k in ("templates", "template_versions", "files", "workspaces")}, sort_keys=True)')
rollout_json dry "${coder_args[@]}" --restart-workspaces --dry-run
expect_rc dry 0
expect_step dry template planned
expect_step dry workspaces planned
after=$(fixture 'json.dumps({k: f.get(k) for k in ("templates", "template_versions", "files", "workspaces")}, sort_keys=True)')
[[ $before == "$after" ]] || fail "dry run: coderd's state changed"
[[ ! -d $FIXTURE.files ]] || fail "dry run: a file was uploaded"
python3 - "$WORK/dry.json" <<'PY' || fail "dry run: the planned writes are not all listed, unsent"
import json, sys
steps = {s["name"]: s for s in json.load(open(sys.argv[1]))["rollout"]["steps"]}
calls = [(c["method"], c["path"].split("?")[0], c["sent"]) for c in steps["template"]["calls"]]
assert [m for m, _, _ in calls] == ["POST", "POST", "PATCH"], calls
assert calls[0][1] == "/api/v2/files" and calls[1][1].endswith("/templateversions"), calls
assert not any(sent for _, _, sent in calls), calls
assert steps["template"]["calls"][0]["body"].startswith("<ustar archive"), steps["template"]["calls"][0]
builds = [c for c in steps["workspaces"]["calls"] if c["path"].endswith("/builds")]
# alice's build is on an old version; every running pod (alice, bob, carol, grace, heidi) dials the external URL
assert len(builds) == 5 and not any(b["sent"] for b in builds), builds
PY

# --- the whole rollout: Flux, the ConfigMap, the template pushed, old workspaces rebuilt
compose build_seconds=0.8
rollout_json ok "${coder_args[@]}" --restart-workspaces --restart-concurrency 2 --flux-branch main
expect_rc ok 0
for step in locate flux-source flux-kustomization configmap-verify template workspaces final-check; do
  expect_step ok "$step" verified
done
[[ $(live_value) == "$INTERNAL_URL" ]] || fail "ok: the live ConfigMap does not carry the internal URL"
new_version=$(fixture 'f["templates"][0]["active_version_id"]')
[[ $new_version != "$active_before" ]] || fail "ok: the template's active version did not change"
grep -q "$new_version" "$WORK/ok.json" || fail "ok: the summary does not name the promoted version"
[[ $(fixture 'f["template_versions"]["'"$new_version"'"]["message"]') == *"internal URL"* ]] ||
  fail "ok: the version carries no message"
# the upload, read with python's tarfile: the patched main.tf in it, what push leaves out not
python3 - "$FIXTURE" "$new_version" <<'PY' || fail "ok: the uploaded archive is not the patched template"
import json, sys, tarfile
f = json.load(open(sys.argv[1]))
file_id = f["template_versions"][sys.argv[2]]["job"]["file_id"]
with tarfile.open(sys.argv[1] + ".files/" + file_id + ".tar") as tar:
    names = tar.getnames()
    main = tar.extractfile("main.tf").read().decode()
assert '"CODER_AGENT_URL"   = local.coder_url' in main, "the fix is not in main.tf"
assert ".terraform.lock.hcl" in names, names
assert not any(n.startswith(".terraform/") or n == ".terraform" or "tfstate" in n for n in names), names
PY
# every running workspace on the old version rebuilt on the new one; the stopped one left alone
python3 - "$FIXTURE" "$new_version" <<'PY' || fail "ok: the workspaces were not rebuilt as expected"
import json, sys
f = json.load(open(sys.argv[1]))
for w in f["workspaces"]:
    b = w["latest_build"]
    if w["owner_name"] == "dave":
        assert b["build_number"] == 3, ("dave's stopped workspace was rebuilt", b)
    else:
        assert b["template_version_id"] == sys.argv[2] and b["build_number"] == 4, (w["owner_name"], b)
assert f["max_builds_in_flight"] == 2, ("--restart-concurrency 2 not kept", f["max_builds_in_flight"])
PY
builds=$(cat "$CDD_SANDBOX_DIR"/logs/coderd-*.log | grep -c 'POST /api/v2/workspaces/[0-9a-f-]*/builds')
[[ $builds == 5 ]] || fail "ok: expected 5 build requests, coderd saw $builds"
grep -q "and pods on the internal URL" "$WORK/ok.json" || fail "ok: the pods were not followed: $(steps_of ok)"
if [[ -n $KUBECTL ]]; then
  [[ $(pod_urls | grep -c "=$INTERNAL_URL\$") == 5 ]] || fail "ok: kubectl does not see 5 pods on the internal URL: $(pod_urls)"
fi

# a second rollout right after: the same archive is the active version, not pushed again; nothing to rebuild
rollout_json again "${coder_args[@]}"
expect_rc again 0
expect_step again template verified
expect_step again workspaces verified
grep -q "not pushed again" "$WORK/again.json" || fail "again: the unchanged template was pushed again"
[[ $(fixture 'f["templates"][0]["active_version_id"]') == "$new_version" ]] || fail "again: a new version was promoted"

# --- the workspaces only listed (no --restart-workspaces): the commands to rebuild each
compose
if [[ -n $KUBECTL ]]; then
  [[ $(pod_urls | grep -c "=https://coder.example.test:18443\$") == 5 ]] ||
    fail "the field report's pods do not dial the external URL: $(pod_urls)"
fi
rollout_json listed --coder-token-file "$API/owner.token" --template "$TEMPLATE" --no-template-push
expect_rc listed 0
expect_step listed template manual
expect_step listed workspaces manual
grep -q 'coder update alice/dev' "$WORK/listed.json" || fail "listed: no rebuild command for alice's workspace"
if grep -q 'coder update dave/dev' "$WORK/listed.json"; then fail "listed: dave's stopped workspace is listed"; fi
# bob's build is on the active version, but his pod still dials the external URL: listed, with why
grep -q 'bob/dev: is on the active version, its pod coder-workspace/coder-bob-dev dials coder.example.test' \
  "$WORK/listed.json" || fail "listed: bob's pod on the old URL is not named"

# --- --wait-timeout during the version's build: cancelled, not promoted, exit 1
compose job_seconds=30
rollout_json slow "${coder_args[@]}" --wait-timeout 1s --no-final-check
expect_rc slow 1
expect_step slow template timed_out
[[ $(fixture 'f["templates"][0]["active_version_id"]') == "$active_before" ]] || fail "slow: promoted anyway"
[[ $(fixture 'sum(1 for v in f["template_versions"].values() if v.get("canceled"))') == 1 ]] ||
  fail "slow: the version's job was not cancelled"

# --- SIGINT during the build: stops at once, cancels the job, says what was done
compose job_seconds=30
# shellcheck disable=SC2046
"$CDD_BIN" rollout --output json $(rollout_args) "${agent_probe[@]}" --poll-interval 100ms "${coder_args[@]}" \
  >"$WORK/int.json" 2>"$WORK/int.err" &
pid=$!
for _ in $(seq 100); do grep -q "waiting for the template version" "$WORK/int.err" && break; sleep 0.1; done
kill -INT "$pid"
RC=0; wait "$pid" || RC=$?
expect_rc int 3
expect_step int template interrupted
grep -q "not promoted" "$WORK/int.json" || fail "int: the summary does not say the version was not promoted"
[[ $(fixture 'sum(1 for v in f["template_versions"].values() if v.get("canceled"))') == 1 ]] ||
  fail "int: the version's job was not cancelled"

# --- two organizations: the user must choose; --coder-organization picks by name
compose 'organizations=[{"id":"6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a","name":"coder"},{"id":"11111111-2222-4333-8444-555555555555","name":"other"}]'
rollout_json orgs "${coder_args[@]}" --dry-run
expect_rc orgs 3
expect_step orgs template error
grep -q -- "--coder-organization" "$WORK/orgs.json" || fail "orgs: no hint to choose an organization"
rollout_json org "${coder_args[@]}" --dry-run --coder-organization coder
expect_rc org 0
expect_step org template planned

# --- bad input: one line, status 2
RC=0
# shellcheck disable=SC2046
"$CDD_BIN" rollout $(rollout_args) "${agent_probe[@]}" --restart-workspaces >"$WORK/bad.out" 2>&1 || RC=$?
[[ $RC == 2 && $(wc -l <"$WORK/bad.out") == 1 ]] || fail "--restart-workspaces without a token: $RC $(cat "$WORK/bad.out")"
grep -q -- "--coder-token-file" "$WORK/bad.out" || fail "the message does not name --coder-token-file"
rollout_json nodir --coder-token-file "$API/owner.token" --template "$TEMPLATE" --template-dir "$WORK/absent"
expect_rc nodir 3
expect_step nodir template error
grep -q "expected a template directory" "$WORK/nodir.json" || fail "nodir: the step does not say what was expected"
pass
