#!/usr/bin/env python3
"""A stateful fake Kubernetes API server with Flux behaviour, for the rollout tests.

No kube-apiserver or Flux controller can be installed here, so this keeps objects the way the API
server does (written from the semantics of k8s.io/apiserver's PATCH handler and Flux's
source-controller / kustomize-controller reconcile loops, cross-checked with a real kubectl):

* objects with metadata.resourceVersion (one counter for the whole store), uid,
  creationTimestamp, generation and managedFields (one entry per fieldManager);
* GET of an object, GET of a namespaced list; PATCH with application/merge-patch+json,
  application/strategic-merge-patch+json (treated as a merge patch: ConfigMaps and Flux objects
  have no list merge keys the tests touch) and application/json-patch+json (add, replace, remove,
  test); a patch that names a stale metadata.resourceVersion gets 409 Conflict; `dryRun=All` answers
  the patched object and stores nothing; `fieldManager=NAME` is recorded;
* discovery (/api, /api/v1, /apis, /apis/GROUP/VERSION, /version) as kubectl reads it;
* bearer-token authentication (401 Status otherwise);
* Flux: a GitRepository whose reconcile.fluxcd.io/requestedAt annotation differs from
  status.lastHandledReconcileAt is handled after --flux-delay: the tracked branch of --git-dir is
  resolved (status.artifact.revision = BRANCH@sha1:SHA), Ready=True; a Kustomization likewise
  applies the ConfigMaps under spec.path of its source's revision (kustomization.yaml's resources
  and namespace when present), labelling them kustomize.toolkit.fluxcd.io/name|namespace, and sets
  status.lastAppliedRevision. --flux-fail MESSAGE makes every handling end in Ready=False with it.

Workspace pods: with --workspace-pods-from FILE (the coderd stand-in's --api-fixture), a list of
pods in coder-workspace holds one pod per workspace whose latest build is a start that is not
stopped, as the official Kubernetes template's terraform makes it: labels com.coder.workspace.id,
com.coder.workspace.name, com.coder.user.username; env CODER_AGENT_TOKEN and CODER_AGENT_URL =
the `agent_url` of the build's template version (coderd_templates.py records it), so a rebuild on
a fixed version shows up as a pod dialing the new URL. Read from the file on every list.

Test hooks: --conflicts N answers the next N PATCHes of Flux objects with 409 (as a concurrent
controller status write would make a client's update fail); GET /debug/objects returns the whole
store; every request is appended to --request-log as "METHOD PATH CONTENT-TYPE".

Usage: stateful_api.py --addr 127.x.y.z --port P --cert F --key F --token-file F --git-dir BARE
                       --seed OBJECTS.yaml [--reconcile-at-start] [--flux-delay S] [--flux-fail MSG]
                       [--conflicts N] [--request-log F] [--pidfile F] [--workspace-pods-from F]
Only 127.0.0.0/8 addresses are accepted.
"""
import argparse
import copy
import datetime
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

import yaml

KINDS = {
    # (group, version, resource): kind
    ("", "v1", "configmaps"): "ConfigMap",
    ("source.toolkit.fluxcd.io", "v1", "gitrepositories"): "GitRepository",
    ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"): "Kustomization",
    ("", "v1", "pods"): "Pod",
}
WORKSPACE_NAMESPACE = "coder-workspace"
RESOURCE_OF_KIND = {kind: key for key, kind in KINDS.items()}
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


def now_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_object(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_pointer_parts(pointer):
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"bad JSON pointer {pointer!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def json_patch(target, operations):
    """RFC 6902: add, replace, remove, test (what the tests and kubectl send)."""
    doc = copy.deepcopy(target)
    for op in operations:
        parts = json_pointer_parts(op["path"])
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last = parts[-1]
        kind = op["op"]
        if kind == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if current != op["value"]:
                raise ValueError(f"test failed at {op['path']}")
        elif kind in ("add", "replace"):
            if isinstance(parent, list):
                index = len(parent) if last == "-" else int(last)
                if kind == "add":
                    parent.insert(index, op["value"])
                else:
                    parent[index] = op["value"]
            else:
                if kind == "replace" and last not in parent:
                    raise ValueError(f"replace of missing {op['path']}")
                parent[last] = op["value"]
        elif kind == "remove":
            if isinstance(parent, list):
                del parent[int(last)]
            else:
                del parent[last]
        else:
            raise ValueError(f"unsupported op {kind}")
    return doc


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.objects = {}  # (group, version, resource, namespace, name) -> object
        self.version = 100

    def next_version(self):
        self.version += 1
        return str(self.version)

    def put(self, key, obj, manager, operation="Update"):
        """Store `obj` under `key` with fresh bookkeeping; returns the stored object."""
        with self.lock:
            old = self.objects.get(key)
            meta = obj.setdefault("metadata", {})
            meta["name"], meta["namespace"] = key[4], key[3]
            meta["resourceVersion"] = self.next_version()
            meta["uid"] = old["metadata"]["uid"] if old else str(uuid.uuid4())
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"] if old else now_text()
            spec_changed = old is None or old.get("spec") != obj.get("spec")
            generation = (old or {}).get("metadata", {}).get("generation", 0)
            if key[2] != "configmaps":
                meta["generation"] = generation + 1 if spec_changed else generation
            fields = [f for f in (old or {}).get("metadata", {}).get("managedFields", []) if f["manager"] != manager]
            fields.append({"manager": manager, "operation": operation, "apiVersion": obj.get("apiVersion", "v1"),
                           "time": now_text(), "fieldsType": "FieldsV1"})
            meta["managedFields"] = fields
            self.objects[key] = obj
            return copy.deepcopy(obj)

    def get(self, key):
        with self.lock:
            obj = self.objects.get(key)
            return copy.deepcopy(obj) if obj is not None else None


class Flux:
    """The source- and kustomize-controller behaviour the rollout depends on."""

    def __init__(self, store, git_dir, delay, fail_message):
        self.store, self.git_dir, self.delay, self.fail_message = store, git_dir, delay, fail_message
        self.due = {}  # key -> (requested_at, time it will be handled)

    def git(self, *args):
        return subprocess.run(["git", "--git-dir", self.git_dir, *args], check=True, capture_output=True,
                              text=True, timeout=10).stdout

    def set_ready(self, obj, status, reason, message):
        conditions = [c for c in obj.setdefault("status", {}).get("conditions", []) if c.get("type") != "Ready"]
        conditions.append({"type": "Ready", "status": status, "reason": reason, "message": message,
                           "lastTransitionTime": now_text(),
                           "observedGeneration": obj["metadata"].get("generation", 1)})
        obj["status"]["conditions"] = conditions
        obj["status"]["observedGeneration"] = obj["metadata"].get("generation", 1)

    def handle_source(self, key, obj, requested_at):
        obj.setdefault("status", {})
        branch = obj.get("spec", {}).get("ref", {}).get("branch", "main")
        if self.fail_message:
            self.set_ready(obj, "False", "GitOperationFailed", self.fail_message)
        else:
            try:
                sha = self.git("rev-parse", f"refs/heads/{branch}").strip()
            except subprocess.CalledProcessError:
                self.set_ready(obj, "False", "GitOperationFailed",
                               f"failed to checkout and determine revision: unable to clone: couldn't find remote ref "
                               f"\"refs/heads/{branch}\"")
            else:
                obj["status"]["artifact"] = {"revision": f"{branch}@sha1:{sha}", "lastUpdateTime": now_text()}
                self.set_ready(obj, "True", "Succeeded", f"stored artifact for revision '{branch}@sha1:{sha}'")
        obj["status"]["lastHandledReconcileAt"] = requested_at
        self.store.put(key, obj, "source-controller")

    def apply_path(self, sha, path, kustomization):
        """Apply the ConfigMaps under `path` at commit `sha`; returns how many."""
        path = path.strip("./").strip("/")
        prefix = f"{path}/" if path else ""
        names = self.git("ls-tree", "--name-only", f"{sha}:{path}" if path else sha).split()
        namespace_override = None
        files = [n for n in names if n.endswith((".yaml", ".yml"))]
        if "kustomization.yaml" in names:
            k = yaml.safe_load(self.git("show", f"{sha}:{prefix}kustomization.yaml")) or {}
            namespace_override = k.get("namespace")
            files = [r for r in k.get("resources", []) if r.endswith((".yaml", ".yml"))]
        applied = 0
        for name in files:
            for doc in yaml.safe_load_all(self.git("show", f"{sha}:{prefix}{name}")):
                if not isinstance(doc, dict) or doc.get("kind") != "ConfigMap":
                    continue
                meta = doc.setdefault("metadata", {})
                namespace = namespace_override or meta.get("namespace", "default")
                labels = meta.setdefault("labels", {})
                labels["kustomize.toolkit.fluxcd.io/name"] = kustomization["metadata"]["name"]
                labels["kustomize.toolkit.fluxcd.io/namespace"] = kustomization["metadata"]["namespace"]
                self.store.put(("", "v1", "configmaps", namespace, meta["name"]), doc, "kustomize-controller", "Apply")
                applied += 1
        return applied

    def handle_kustomization(self, key, obj, requested_at):
        obj.setdefault("status", {})
        ref = obj.get("spec", {}).get("sourceRef", {})
        source = self.store.get(("source.toolkit.fluxcd.io", "v1", "gitrepositories",
                                 ref.get("namespace", key[3]), ref.get("name", "")))
        revision = ((source or {}).get("status", {}).get("artifact") or {}).get("revision", "")
        if self.fail_message:
            self.set_ready(obj, "False", "ReconciliationFailed", self.fail_message)
        elif not revision:
            self.set_ready(obj, "False", "ArtifactFailed", "Source artifact not found, retrying in 30s")
        else:
            sha = revision.split("@sha1:")[-1]
            try:
                self.apply_path(sha, obj.get("spec", {}).get("path", "./"), obj)
            except (subprocess.CalledProcessError, yaml.YAMLError, KeyError) as error:
                self.set_ready(obj, "False", "BuildFailed", f"kustomize build failed: {error}")
            else:
                obj["status"]["lastAppliedRevision"] = revision
                obj["status"]["lastAttemptedRevision"] = revision
                self.set_ready(obj, "True", "ReconciliationSucceeded", f"Applied revision: {revision}")
        obj["status"]["lastHandledReconcileAt"] = requested_at
        self.store.put(key, obj, "kustomize-controller")

    def tick(self):
        with self.store.lock:
            for key, obj in list(self.store.objects.items()):
                if key[2] not in ("gitrepositories", "kustomizations"):
                    continue
                requested = obj.get("metadata", {}).get("annotations", {}).get(REQUESTED_AT)
                handled = obj.get("status", {}).get("lastHandledReconcileAt")
                if not requested or requested == handled:
                    self.due.pop(key, None)
                    continue
                if obj.get("spec", {}).get("suspend"):
                    continue
                when = self.due.get(key)
                if when is None or when[0] != requested:
                    self.due[key] = (requested, time.monotonic() + self.delay)
                    # the controller marks the object as progressing at once
                    work = copy.deepcopy(obj)
                    self.set_ready(work, "Unknown", "Progressing", "reconciliation in progress")
                    self.store.put(key, work, "source-controller" if key[2] == "gitrepositories"
                                   else "kustomize-controller")
                    continue
                if time.monotonic() < when[1]:
                    continue
                del self.due[key]
                work = copy.deepcopy(self.store.objects[key])
                if key[2] == "gitrepositories":
                    self.handle_source(key, work, requested)
                else:
                    self.handle_kustomization(key, work, requested)

    def run(self):
        while True:
            try:
                self.tick()
            except Exception as error:  # keep the controller alive; the test sees the state
                print(f"stateful_api: flux tick: {error!r}", file=sys.stderr, flush=True)
            time.sleep(0.05)


def workspace_pods(fixture_path):
    """The pods terraform would have made for the coderd stand-in's running workspaces."""
    try:
        with open(fixture_path, encoding="utf-8") as f:
            fixture = json.load(f)
    except (OSError, ValueError):
        return []
    versions = fixture.get("template_versions", {})
    pods = []
    for ws in fixture.get("workspaces", []):
        build = ws.get("latest_build", {})
        if build.get("transition") != "start" or build.get("status") in ("stopped", "failed", "canceled"):
            continue
        url = (versions.get(build.get("template_version_id")) or {}).get("agent_url", "")
        name = f"coder-{ws['owner_name']}-{ws['name']}"
        pods.append({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": WORKSPACE_NAMESPACE, "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, build["id"])),
                         "labels": {"com.coder.workspace.id": ws["id"], "com.coder.workspace.name": ws["name"],
                                    "com.coder.user.username": ws["owner_name"]}},
            "spec": {"containers": [{"name": "dev", "image": "codercom/enterprise-base:ubuntu",
                                     "env": [{"name": "CODER_AGENT_TOKEN", "value": "a" * 36},
                                             {"name": "CODER_AGENT_URL", "value": url}]}]},
            "status": {"phase": "Running"}})
    return pods


def discovery_resource_list(group_version, resources):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [{"name": r, "singularName": k.lower(), "namespaced": True, "kind": k,
                           "verbs": ["get", "list", "patch", "update", "create", "delete", "watch"]}
                          for r, k in resources]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube-apiserver"

    def log_message(self, fmt, *args):  # requests go to --request-log instead
        pass

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self):
        log = self.server.options.request_log
        if log:
            with self.server.log_lock, open(log, "a", encoding="utf-8") as out:
                out.write(f"{self.command} {self.path} {self.headers.get('Content-Type', '-')}\n")

    def authorized(self):
        if self.headers.get("Authorization") == f"Bearer {self.server.token}":
            return True
        self.send_json(401, status_object(401, "Unauthorized", "Unauthorized"))
        return False

    def route(self):
        """(group, version, resource, namespace, name|None) for an object path, else None."""
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        if len(parts) >= 5 and parts[0] == "api" and parts[2] == "namespaces":
            group, version, rest = "", parts[1], parts[3:]
        elif len(parts) >= 6 and parts[0] == "apis" and parts[3] == "namespaces":
            group, version, rest = parts[1], parts[2], parts[4:]
        else:
            return None
        if len(rest) not in (2, 3) or (group, version, rest[1]) not in KINDS:
            return None
        return group, version, rest[1], rest[0], rest[2] if len(rest) == 3 else None

    def discovery(self, path):
        groups = sorted({(g, v) for g, v, _ in KINDS if g})
        if path == "/version":
            return {"major": "1", "minor": "29", "gitVersion": "v1.29.0-fake", "platform": "linux/amd64"}
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                    "serverAddress": f"{self.server.options.addr}:{self.server.options.port}"}]}
        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1",
                    "groups": [{"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
                                "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v}} for g, v in groups]}
        for g, v in [("", "v1")] + groups:
            prefix = f"/api/{v}" if not g else f"/apis/{g}/{v}"
            if path == prefix:
                return discovery_resource_list(f"{g}/{v}" if g else v,
                                               [(r, k) for (gg, vv, r), k in KINDS.items() if (gg, vv) == (g, v)])
        return None

    def do_GET(self):
        self.record()
        if not self.authorized():
            return
        path = urllib.parse.urlsplit(self.path).path.rstrip("/") or "/"
        if path == "/debug/objects":
            with self.server.store.lock:
                self.send_json(200, {"/".join(k): o for k, o in self.server.store.objects.items()})
            return
        found = self.discovery(path)
        if found is not None:
            self.send_json(200, found)
            return
        route = self.route()
        if route is None:
            self.send_json(404, status_object(404, "NotFound", "the server could not find the requested resource"))
            return
        group, version, resource, namespace, name = route
        kind = KINDS[(group, version, resource)]
        if name is None:
            with self.server.store.lock:
                items = [copy.deepcopy(o) for k, o in self.server.store.objects.items()
                         if k[:4] == (group, version, resource, namespace)]
            if resource == "pods" and namespace == WORKSPACE_NAMESPACE and self.server.options.workspace_pods_from:
                items += workspace_pods(self.server.options.workspace_pods_from)
            with self.server.store.lock:
                self.send_json(200, {"kind": f"{kind}List", "apiVersion": f"{group}/{version}" if group else version,
                                     "metadata": {"resourceVersion": str(self.server.store.version)},
                                     "items": items})
            return
        obj = self.server.store.get((group, version, resource, namespace, name))
        if obj is None:
            self.send_json(404, status_object(404, "NotFound", f'{resource} "{name}" not found'))
            return
        self.send_json(200, obj)

    def do_PATCH(self):
        self.record()
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(min(length, 1 << 20))
        if not self.authorized():
            return
        route = self.route()
        if route is None or route[4] is None:
            self.send_json(404, status_object(404, "NotFound", "the server could not find the requested resource"))
            return
        group, version, resource, namespace, name = route
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        dry_run = query.get("dryRun") == ["All"]
        manager = query.get("fieldManager", ["unknown"])[0]
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip()
        key = (group, version, resource, namespace, name)
        store = self.server.store
        with store.lock:
            if resource != "configmaps" and self.server.conflicts_left > 0:
                self.server.conflicts_left -= 1
                self.send_json(409, status_object(409, "Conflict",
                                                  f'Operation cannot be fulfilled on {resource}.{group} "{name}": the '
                                                  f'object has been modified; please apply your changes to the latest '
                                                  f'version and try again'))
                return
            current = store.get(key)
            if current is None:
                self.send_json(404, status_object(404, "NotFound", f'{resource} "{name}" not found'))
                return
            try:
                patch = json.loads(body)
                if content_type in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                    patched = merge_patch(current, patch)
                elif content_type == "application/json-patch+json":
                    patched = json_patch(current, patch)
                else:
                    self.send_json(415, status_object(415, "UnsupportedMediaType",
                                                      f"the body of the request was in an unknown format - "
                                                      f"accepted media types include: application/json-patch+json, "
                                                      f"application/merge-patch+json"))
                    return
            except (ValueError, KeyError, IndexError, TypeError) as error:
                self.send_json(422, status_object(422, "Invalid", f"the patch cannot be applied: {error}"))
                return
            wanted_version = (patched.get("metadata") or {}).get("resourceVersion")
            if wanted_version and wanted_version != current["metadata"]["resourceVersion"]:
                self.send_json(409, status_object(409, "Conflict",
                                                  f'Operation cannot be fulfilled on {resource} "{name}": the object '
                                                  f'has been modified; please apply your changes to the latest '
                                                  f'version and try again'))
                return
            if dry_run:
                self.send_json(200, patched)
                return
            self.send_json(200, store.put(key, patched, manager))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--addr", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--git-dir", required=True)
    parser.add_argument("--seed", required=True)
    parser.add_argument("--reconcile-at-start", action="store_true")
    parser.add_argument("--flux-delay", type=float, default=0.5)
    parser.add_argument("--flux-fail", default="")
    parser.add_argument("--conflicts", type=int, default=0)
    parser.add_argument("--request-log", default="")
    parser.add_argument("--pidfile", default="")
    parser.add_argument("--workspace-pods-from", default="", help="the coderd stand-in's fixture")
    options = parser.parse_args()
    if not options.addr.startswith("127."):
        sys.exit("stateful_api.py: --addr must be a 127.x address")

    store = Store()
    with open(options.seed, encoding="utf-8") as seed:
        for doc in yaml.safe_load_all(seed):
            if not doc:
                continue
            group_version = doc["apiVersion"]
            group, version = group_version.split("/") if "/" in group_version else ("", group_version)
            _, _, resource = RESOURCE_OF_KIND[doc["kind"]]
            meta = doc["metadata"]
            store.put((group, version, resource, meta.get("namespace", "default"), meta["name"]), doc, "seed")
    flux = Flux(store, options.git_dir, options.flux_delay, "")
    if options.reconcile_at_start:  # the cluster as Flux left it before the fix was pushed
        for key, obj in list(store.objects.items()):
            if key[2] == "gitrepositories":
                flux.handle_source(key, copy.deepcopy(obj), "bootstrap")
        for key, obj in list(store.objects.items()):
            if key[2] == "kustomizations":
                flux.handle_kustomization(key, copy.deepcopy(obj), "bootstrap")
    flux.fail_message = options.flux_fail
    threading.Thread(target=flux.run, daemon=True).start()

    server = http.server.ThreadingHTTPServer((options.addr, options.port), Handler)
    server.daemon_threads = True
    server.options, server.store, server.log_lock = options, store, threading.Lock()
    server.conflicts_left = options.conflicts
    with open(options.token_file, encoding="utf-8") as token:
        server.token = token.read().strip()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(options.cert, options.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    if options.pidfile:
        with open(options.pidfile, "w", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")
    print(f"stateful_api: listening on https://{options.addr}:{options.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
