"""The coderd stand-in's writable API: template push and workspace builds, kept in the fixture.

Written from coder/coder: coderd/files.go (postFile), coderd/templateversions.go,
coderd/templates.go (patchActiveTemplateVersion), coderd/provisionerjobs.go (logs),
coderd/workspacebuilds.go with coderd/wsbuilder, and the codersdk types they answer with. The
state lives in the --api-fixture file itself (re-read on every request, written atomically on a
change), so the two stand-ins of a sandbox see one deployment. Times pass by the wall clock: a job
is `running` for the fixture's `job_seconds` (default 0.6) after it was created, then ends as it
was decided at upload; a build is `starting` with its agents `connecting` for `build_seconds`,
then `running` with them `connected`.

What a job decides, as a provisioner would find it: the upload must be a tar (python's tarfile,
an independent reader), with a top-level *.tf or *.tf.json (else `failed`, as terraform finds no
configuration), and, when the fixture names a `template_fix`, some .tf file must contain it (else
`failed`: "the template does not carry the fix"); `job_fail` fails every job with its message.
Uploaded archives are kept as <fixture>.files/<id>.tar for the tests to read.

Fixture keys this module reads or writes: organizations [{id, name}], templates [codersdk.Template],
template_versions {id: version}, files {id: {sha256}}, workspaces (their latest_build replaced by a
new build), access_url and fixed_agent_url (what a version's agents dial without and with the fix:
its `agent_url`, which tests/k8s/stateful_api.py --workspace-pods-from puts in the pods),
max_builds_in_flight (the most builds `starting` at once, for tests of a concurrency
bound), job_seconds, build_seconds, template_fix, job_fail.
"""
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import time
import uuid

UUID = r"[0-9a-f-]{36}"
TERMINAL = ("succeeded", "failed", "canceled")


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def save(path, fixture):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".coder-api.")
    with os.fdopen(fd, "w") as f:
        json.dump(fixture, f, indent=1)
    os.replace(tmp, path)


def agent_url_of(data, fixture):
    """The URL the agents of a build of this template dial: the fixed one when the fix is in it."""
    fix = fixture.get("template_fix")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            fixed = fix and any(fix in tar.extractfile(m).read().decode("utf-8", "replace")
                                for m in tar.getmembers() if m.isfile() and m.name.endswith(".tf"))
    except (tarfile.TarError, EOFError):
        fixed = False
    return fixture.get("fixed_agent_url", "") if fixed else fixture.get("access_url", "")


def decide(data, fixture):
    """(status, error) of a template version job built from the tar `data`."""
    if fixture.get("job_fail"):
        return "failed", fixture["job_fail"]
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            members = tar.getmembers()
            tf = [m for m in members if m.isfile() and (m.name.endswith(".tf") or m.name.endswith(".tf.json"))]
            texts = [tar.extractfile(m).read().decode("utf-8", "replace") for m in tf]
    except (tarfile.TarError, EOFError) as e:
        return "failed", "the upload is not a tar archive: %s" % e
    if not any("/" not in m.name for m in tf):
        return "failed", "terraform: no configuration files (no top-level .tf or .tf.json)"
    fix = fixture.get("template_fix")
    if fix and not any(fix in text for text in texts):
        return "failed", "the template does not carry the fix: no .tf file mentions %s" % fix
    return "succeeded", ""


class TemplateApi:
    def __init__(self, server, fixture_path):
        self.server = server
        self.path = fixture_path

    # ---- derived state --------------------------------------------------------------------------
    @staticmethod
    def job_view(version, fixture):
        job = dict(version["job"])
        elapsed = time.time() - version["created_unix"]
        if version.get("canceled"):
            job["status"] = "canceled"
        elif elapsed < float(fixture.get("job_seconds", 0.6)):
            job["status"] = "running"
        else:
            job["status"], job["error"] = version["outcome"]
            job["completed_at"] = job.get("completed_at") or now_iso()
        if not job.get("error"):
            job.pop("error", None)
        return job

    def version_view(self, version, fixture):
        view = {k: v for k, v in version.items()
                if k not in ("created_unix", "outcome", "canceled", "logs", "agent_url")}
        view["job"] = self.job_view(version, fixture)
        return view

    @staticmethod
    def visible_logs(version, fixture):
        seconds = float(fixture.get("job_seconds", 0.6))
        elapsed = time.time() - version["created_unix"]
        return [log for log in version["logs"] if log["at"] * seconds <= elapsed or version.get("canceled")]

    @staticmethod
    def build_view(workspace, fixture):
        """The workspace as coderd answers now: outdated from its template, a new build's progress."""
        ws = json.loads(json.dumps(workspace))
        build = ws.get("latest_build", {})
        started = build.pop("_started_unix", None)
        if started is not None:
            settled = time.time() - started >= float(fixture.get("build_seconds", 0.6))
            build["status"] = "running" if settled else "starting"
            build["job"] = {"status": "succeeded" if settled else "running"}
            for resource in build.get("resources", []):
                for agent in resource.get("agents", []):
                    agent["status"] = "connected" if settled else "connecting"
                    agent["lifecycle_state"] = "ready" if settled else "starting"
                    agent["health"] = {"healthy": settled, "reason": "" if settled else "agent is not connected"}
        template = next((t for t in fixture.get("templates", []) if t["id"] == ws.get("template_id")), None)
        if template is not None:
            ws["template_active_version_id"] = template["active_version_id"]
            ws["outdated"] = build.get("template_version_id") != template["active_version_id"]
        return ws

    # ---- routing --------------------------------------------------------------------------------
    def route(self, req, close, fixture, user):
        """The answer for REQ, or None when it is not one of these routes."""
        path, method = req.path, req.method
        roles = user.get("roles", [])
        admin = "owner" in roles or "template-admin" in roles
        m = re.fullmatch(r"/api/v2/organizations/([^/]+)/templates/([^/]+)", path)
        if method == "GET" and path == "/api/v2/users/me/organizations":
            return self.server.json_response(200, fixture.get("organizations", []), req, close)
        if method == "GET" and m:
            return self.template_by_name(req, close, fixture, m.group(1), m.group(2))
        m = re.fullmatch(r"/api/v2/templates/(%s)(/versions)?" % UUID, path)
        if m and (method, m.group(2)) in (("GET", None), ("PATCH", "/versions")):
            template = next((t for t in fixture.get("templates", []) if t["id"] == m.group(1)), None)
            if template is None:
                return self.server.error(404, "Resource not found or you do not have access to this resource",
                                         req, close)
            if method == "GET":
                return self.server.json_response(200, template, req, close)
            if not admin:
                return self.server.error(403, "Forbidden.", req, close)
            return self.promote(req, close, fixture, template)
        m = re.fullmatch(r"/api/v2/templateversions/(%s)(/logs|/cancel)?" % UUID, path)
        if m:
            return self.template_version(req, close, fixture, m.group(1), m.group(2) or "", method)
        if method == "POST" and path == "/api/v2/files":
            return self.post_file(req, close, fixture) if admin else self.server.error(403, "Forbidden.", req, close)
        m = re.fullmatch(r"/api/v2/organizations/([^/]+)/templateversions", path)
        if method == "POST" and m:
            if not admin:
                return self.server.error(403, "Forbidden.", req, close)
            return self.post_version(req, close, fixture, m.group(1))
        m = re.fullmatch(r"/api/v2/workspaces/(%s)(/builds)?" % UUID, path)
        if m and (method, m.group(2)) in (("GET", None), ("POST", "/builds")):
            ws = next((w for w in fixture.get("workspaces", []) if w["id"] == m.group(1)), None)
            if ws is None or ("owner" not in roles and ws.get("owner_name") != user["username"]):
                return self.server.error(404, "Resource not found or you do not have access to this resource",
                                         req, close)
            if method == "GET":
                return self.server.json_response(200, self.build_view(ws, fixture), req, close)
            return self.post_build(req, close, fixture, ws)
        return None

    def organization(self, fixture, ref):
        orgs = fixture.get("organizations", [])
        if ref == "default":
            return orgs[0] if orgs else None
        return next((o for o in orgs if ref in (o["id"], o["name"])), None)

    def template_by_name(self, req, close, fixture, org_ref, name):
        org = self.organization(fixture, org_ref)
        if org is None:
            return self.server.error(404, 'Organization "%s" not found.' % org_ref, req, close)
        template = next((t for t in fixture.get("templates", [])
                         if t["organization_id"] == org["id"] and t["name"] == name), None)
        if template is None:
            return self.server.error(404, 'No template found by name "%s" in the "%s" organization.'
                                     % (name, org["name"]), req, close)
        return self.server.json_response(200, template, req, close)

    def template_version(self, req, close, fixture, version_id, tail, method):
        version = fixture.get("template_versions", {}).get(version_id)
        if version is None:
            return self.server.error(404, "Resource not found or you do not have access to this resource", req, close)
        if method == "GET" and tail == "":
            return self.server.json_response(200, self.version_view(version, fixture), req, close)
        if method == "GET" and tail == "/logs":
            after = (req.query.get("after") or ["0"])[0]
            if not after.lstrip("-").isdigit():
                return self.server.json_response(400, {"message": "Query parameters have invalid values.",
                                                       "validations": [{"field": "after",
                                                                        "detail": "Query param \"after\" must be a "
                                                                                  "valid integer"}]}, req, close)
            logs = [{k: v for k, v in log.items() if k != "at"} for log in self.visible_logs(version, fixture)
                    if log["id"] > int(after)]
            return self.server.json_response(200, logs, req, close)
        if method == "PATCH" and tail == "/cancel":
            if self.job_view(version, fixture)["status"] in TERMINAL:
                return self.server.error(412, "Job has already completed!", req, close)
            version["canceled"] = True
            save(self.path, fixture)
            return self.server.json_response(200, {"message": "Job has been marked as canceled..."}, req, close)
        return self.server.error(405, "Method not allowed.", req, close)

    def post_file(self, req, close, fixture):
        ctype = req.header("content-type").split(";")[0].strip()
        if ctype not in ("application/x-tar", "application/zip"):
            return self.server.error(400, "Unsupported content type header.", req, close,
                                     "Only application/x-tar and application/zip are supported")
        digest = hashlib.sha256(req.body).hexdigest()
        files = fixture.setdefault("files", {})
        known = next((fid for fid, f in files.items() if f["sha256"] == digest), None)
        if known:
            return self.server.json_response(200, {"hash": known}, req, close)
        fid = str(uuid.uuid4())
        store = self.path + ".files"
        os.makedirs(store, exist_ok=True)
        with open(os.path.join(store, fid + ".tar"), "wb") as f:
            f.write(req.body)
        files[fid] = {"sha256": digest, "content_type": ctype}
        save(self.path, fixture)
        return self.server.json_response(201, {"hash": fid}, req, close)

    def body_json(self, req):
        try:
            body = json.loads(req.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return body if isinstance(body, dict) else None

    def post_version(self, req, close, fixture, org_ref):
        org = self.organization(fixture, org_ref)
        body = self.body_json(req)
        if org is None:
            return self.server.error(404, 'Organization "%s" not found.' % org_ref, req, close)
        if body is None:
            return self.server.error(400, "Request body must be valid JSON.", req, close)
        if body.get("storage_method") != "file" or body.get("provisioner") != "terraform":
            return self.server.json_response(400, {"message": "Validation failed.", "validations": [
                {"field": "storage_method", "detail": "must be file"}]}, req, close)
        fid = body.get("file_id", "")
        if fid not in fixture.get("files", {}):
            return self.server.error(404, "File not found.", req, close)
        template_id = body.get("template_id")
        if template_id and not any(t["id"] == template_id for t in fixture.get("templates", [])):
            return self.server.error(404, "Template does not exist.", req, close)
        with open(os.path.join(self.path + ".files", fid + ".tar"), "rb") as f:
            data = f.read()
        outcome = decide(data, fixture)
        vid = str(uuid.uuid4())
        versions = fixture.setdefault("template_versions", {})
        logs = [{"id": 1, "at": 0.0, "created_at": now_iso(), "log_source": "provisioner_daemon", "log_level": "info",
                 "stage": "Setting up", "output": ""},
                {"id": 2, "at": 0.5, "created_at": now_iso(), "log_source": "provisioner", "log_level": "info",
                 "stage": "Parsing template parameters", "output": "Terraform 1.9.8"},
                {"id": 3, "at": 1.0, "created_at": now_iso(), "log_source": "provisioner",
                 "log_level": "info" if outcome[0] == "succeeded" else "error", "stage": "Detecting persistent resources",
                 "output": "Plan: 2 to add" if outcome[0] == "succeeded" else "Error: " + outcome[1]}]
        version = {"id": vid, "template_id": template_id, "organization_id": org["id"],
                   "name": "pushed-" + vid[:8], "message": body.get("message", ""),
                   "created_at": now_iso(), "created_unix": time.time(), "outcome": list(outcome), "logs": logs,
                   "agent_url": agent_url_of(data, fixture),
                   "job": {"id": str(uuid.uuid4()), "created_at": now_iso(), "file_id": fid,
                           "tags": body.get("tags") or {}, "type": "template_version_import", "status": "pending"}}
        versions[vid] = version
        save(self.path, fixture)
        return self.server.json_response(201, self.version_view(version, fixture), req, close)

    def promote(self, req, close, fixture, template):
        body = self.body_json(req)
        vid = (body or {}).get("id", "")
        version = fixture.get("template_versions", {}).get(vid)
        if version is None or version.get("template_id") != template["id"]:
            return self.server.error(400, "The provided template version doesn't belong to the specified template.",
                                     req, close)
        if self.job_view(version, fixture)["status"] != "succeeded":
            return self.server.error(400, "The provided template version has failed to import!"
                                     if self.job_view(version, fixture)["status"] == "failed"
                                     else "The provided template version is being imported!", req, close)
        template["active_version_id"] = vid
        save(self.path, fixture)
        return self.server.json_response(200, {"message": "Updated the active template version!"}, req, close)

    def post_build(self, req, close, fixture, ws):
        body = self.body_json(req)
        if body is None or body.get("transition") not in ("start", "stop", "delete"):
            return self.server.error(400, "Request body must be valid JSON.", req, close)
        current = self.build_view(ws, fixture)["latest_build"]
        if current.get("status") in ("pending", "starting", "stopping", "deleting", "canceling"):
            return self.server.error(409, "A workspace build is already active.", req, close)
        vid = body.get("template_version_id") or current.get("template_version_id")
        version = fixture.get("template_versions", {}).get(vid)
        if version is None and vid != current.get("template_version_id"):
            return self.server.error(400, "Template version not found.", req, close)
        old = ws["latest_build"]
        build = dict(old)
        build.update({"id": str(uuid.uuid4()), "build_number": int(old.get("build_number", 0)) + 1,
                      "transition": body["transition"], "template_version_id": vid,
                      "template_version_name": version["name"] if version else old.get("template_version_name"),
                      "created_at": now_iso(), "_started_unix": time.time()})
        if body["transition"] != "start":
            build["status"] = "stopped"
            build["resources"] = []
            build.pop("_started_unix")
        ws["latest_build"] = build
        in_flight = sum(1 for w in fixture.get("workspaces", [])
                        if self.build_view(w, fixture)["latest_build"].get("status") == "starting")
        fixture["max_builds_in_flight"] = max(int(fixture.get("max_builds_in_flight", 0)), in_flight)
        save(self.path, fixture)
        return self.server.json_response(201, self.build_view(ws, fixture)["latest_build"], req, close)
