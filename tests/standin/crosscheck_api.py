#!/usr/bin/python3
"""Cross-check the coderd stand-in's owner-token API (--api-fixture) with an independent client: curl.

Starts tests/sandbox/coderd_standin.py alone on 127.0.212.1 with a fixture from
tests/sandbox/coder-api/compose.py (page size 2) and checks what coderd's apikey middleware and
handlers answer: 401 with their details for a missing, a malformed and an unknown token; the token
accepted from the header, the query and the cookie; /users/me roles; paging that covers every
workspace exactly once with `count` the total; a member seeing only their own workspaces; the
health report for the owner and 403 for the member; no fixture: the signed-out 401 as before.
Then the writable API (coderd_templates.py) as `coder templates push` and `coder update` meet it:
an upload of a tar python's tarfile wrote (201 with an ID; the same bytes again: 200, the same ID;
another content type: 400; a member: 403), a version of it whose job runs then succeeds with logs
paged by `after` (a non-integer `after`: 400 naming the field), its promotion and the template read
back, a version without the fix failing and refused as active, a start build (201) and a second
one while it is active (409), the workspace then running the new version with its agent connected.
Exit 0 = every assertion held, 1 = one failed (named on stderr).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE = Path(os.environ.get("CDD_SOURCE_DIR", Path(__file__).resolve().parents[2]))
STANDIN = SOURCE / "tests" / "sandbox" / "coderd_standin.py"
API = SOURCE / "tests" / "sandbox" / "coder-api"
LISTEN = "127.0.212.1:18080"
BASE = f"http://{LISTEN}"


def check(cond, what):
    if not cond:
        print(f"FAIL standin/crosscheck_api: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok {what}")


def curl(path, *args, stdin=None):
    """GET path with curl (or what ARGS make of it); (status, parsed JSON or None)."""
    r = subprocess.run(["curl", "-s", "--max-time", "5", "-w", "\n%{http_code}", *args, BASE + path],
                       capture_output=True, input=stdin, check=False)
    body, _, code = r.stdout.decode("utf-8", "replace").rpartition("\n")
    try:
        return int(code), json.loads(body)
    except ValueError:
        return int(code or 0), None


def curl_send(method, path, body, ctype, *args):
    """METHOD path with a body through curl; (status, parsed JSON or None)."""
    return curl(path, "-X", method, "-H", f"Content-Type: {ctype}", "-H", "Expect:", "--data-binary", "@-", *args,
                stdin=body)


def tar_of(files):
    """A ustar archive of {name: text}, written by python's tarfile (independent of the doctor's)."""
    import io
    import tarfile
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def wait_job(version, hdr):
    for _ in range(100):
        status, body = curl(f"/api/v2/templateversions/{version}", *hdr)
        if body["job"]["status"] in ("succeeded", "failed", "canceled"):
            return body
        time.sleep(0.05)
    return body


def check_writable_api(owner, member):
    hdr = ["-H", f"Coder-Session-Token: {owner}"]
    status, orgs = curl("/api/v2/users/me/organizations", *hdr)
    check(status == 200 and isinstance(orgs, list) and len(orgs) == 1, "the owner's organizations: an array of one")
    org = orgs[0]["id"]
    status, template = curl(f"/api/v2/organizations/{orgs[0]['name']}/templates/kubernetes-envbuilder", *hdr)
    check(status == 200 and template["active_version_id"], "the template by organization name and template name")
    status, body = curl(f"/api/v2/organizations/{org}/templates/absent", *hdr)
    check(status == 404 and "absent" in body["message"], "an unknown template: 404 naming it")
    fixed = tar_of({"main.tf": 'locals { coder_url = "x" }\nenv = local.coder_url\n', "scripts/a.sh": "echo\n"})
    status, body = curl_send("POST", "/api/v2/files", fixed, "application/x-tar", *hdr)
    check(status == 201 and len(body["hash"]) == 36, "an upload: 201 with the file's ID in `hash`")
    file_id = body["hash"]
    status, body = curl_send("POST", "/api/v2/files", fixed, "application/x-tar", *hdr)
    check(status == 200 and body["hash"] == file_id, "the same bytes again: 200 and the same ID")
    status, body = curl_send("POST", "/api/v2/files", fixed, "text/plain", *hdr)
    check(status == 400 and body["message"].startswith("Unsupported content type"), "another content type: 400")
    status, body = curl_send("POST", "/api/v2/files", fixed, "application/x-tar", "-H",
                             f"Coder-Session-Token: {member}")
    check(status == 403, "a member may not upload a template: 403")
    version_body = json.dumps({"template_id": template["id"], "storage_method": "file", "file_id": file_id,
                               "provisioner": "terraform", "tags": {}, "message": "crosscheck"}).encode()
    status, version = curl_send("POST", f"/api/v2/organizations/{org}/templateversions", version_body,
                                "application/json", *hdr)
    check(status == 201 and version["job"]["status"] == "running", "a new version: 201, its job running")
    status, body = curl(f"/api/v2/templateversions/{version['id']}/logs?after=x", *hdr)
    check(status == 400 and body["validations"][0]["field"] == "after", "logs?after=x: 400 naming `after`")
    done = wait_job(version["id"], hdr)
    check(done["job"]["status"] == "succeeded", "the version with the fix: its job succeeds")
    status, logs = curl(f"/api/v2/templateversions/{version['id']}/logs?after=1", *hdr)
    check(status == 200 and [log["id"] for log in logs] == [2, 3], "logs after id 1: the later ones, in order")
    status, body = curl_send("PATCH", f"/api/v2/templates/{template['id']}/versions",
                             json.dumps({"id": version["id"]}).encode(), "application/json", *hdr)
    check(status == 200, "promote: 200")
    status, body = curl(f"/api/v2/templates/{template['id']}", *hdr)
    check(body["active_version_id"] == version["id"], "the template read back: the new version is active")
    unfixed = tar_of({"main.tf": 'env = data.coder_workspace.me.access_url\n'})
    status, body = curl_send("POST", "/api/v2/files", unfixed, "application/x-tar", *hdr)
    status, bad = curl_send("POST", f"/api/v2/organizations/{org}/templateversions",
                            version_body.replace(file_id.encode(), body["hash"].encode()), "application/json", *hdr)
    bad = wait_job(bad["id"], hdr)
    check(bad["job"]["status"] == "failed" and "does not carry the fix" in bad["job"]["error"],
          "a version without the fix: its job fails, saying so")
    status, body = curl_send("PATCH", f"/api/v2/templates/{template['id']}/versions",
                             json.dumps({"id": bad["id"]}).encode(), "application/json", *hdr)
    check(status == 400, "a failed version cannot be promoted: 400")
    status, page = curl("/api/v2/workspaces?limit=100&offset=0", *hdr)
    alice = next(w for w in page["workspaces"] if w["owner_name"] == "alice")
    check(alice["outdated"] and alice["template_active_version_id"] == version["id"],
          "after the promotion alice's workspace is outdated, on the new active version")
    start = json.dumps({"transition": "start", "template_version_id": version["id"]}).encode()
    status, build = curl_send("POST", f"/api/v2/workspaces/{alice['id']}/builds", start, "application/json", *hdr)
    check(status == 201 and build["status"] == "starting" and build["build_number"] == 4, "a start build: 201, starting")
    status, body = curl_send("POST", f"/api/v2/workspaces/{alice['id']}/builds", start, "application/json", *hdr)
    check(status == 409 and body["message"] == "A workspace build is already active.", "a second build meanwhile: 409")
    for _ in range(100):
        status, ws = curl(f"/api/v2/workspaces/{alice['id']}", *hdr)
        if ws["latest_build"]["status"] == "running":
            break
        time.sleep(0.05)
    agent = ws["latest_build"]["resources"][0]["agents"][0]
    check(not ws["outdated"] and agent["status"] == "connected", "the build runs the new version, its agent connected")


def main():
    owner = (API / "owner.token").read_text().strip()
    member = (API / "member.token").read_text().strip()
    unknown = (API / "unknown.token").read_text().strip()
    with tempfile.TemporaryDirectory() as tmp:
        fixture = Path(tmp, "coder-api.json")
        pidfile = Path(tmp, "pid")
        proc = subprocess.Popen(["/usr/bin/python3", str(STANDIN), "--listen", LISTEN, "--pidfile", str(pidfile),
                                 "--log", str(Path(tmp, "log")), "--api-fixture", str(fixture)])
        try:
            for _ in range(100):
                if pidfile.exists():
                    break
                time.sleep(0.05)
            check(pidfile.exists(), "the stand-in starts")
            hdr = lambda t: ["-H", f"Coder-Session-Token: {t}"]
            status, body = curl("/api/v2/workspaces", *hdr(owner))
            check(status == 401 and "signed out" in body["message"], "no fixture file: the signed-out 401")
            subprocess.run(["/usr/bin/python3", str(API / "compose.py"), "--workspaces", "field-report",
                            "--health", "eacs03", "--page-size", "2", "-o", str(fixture)], check=True)
            status, body = curl("/api/v2/users/me")
            check(status == 401 and body["detail"] == 'Cookie "coder_session_token" or query parameter must be provided.',
                  "no token: 401 naming the cookie and query parameter")
            status, body = curl("/api/v2/users/me", *hdr("not-a-token"))
            check(status == 401 and body["detail"].startswith("Invalid API key format"), "a malformed token: 401")
            status, body = curl("/api/v2/users/me", *hdr(unknown))
            check(status == 401 and body["detail"] == "API key is invalid.", "an unknown token: 401")
            status, body = curl("/api/v2/users/me", *hdr(owner))
            check(status == 200 and body["username"] == "admin" and [r["name"] for r in body["roles"]] == ["owner"],
                  "/users/me: the owner and its roles")
            status, body = curl(f"/api/v2/users/me?coder_session_token={member}")
            check(status == 200 and body["username"] == "alice" and body["roles"] == [], "the token from the query")
            status, body = curl("/api/v2/users/me", "-b", f"coder_session_token={member}")
            check(status == 200 and body["username"] == "alice", "the token from the cookie")
            seen, offset, pages = [], 0, 0
            while True:
                status, body = curl(f"/api/v2/workspaces?limit=100&offset={offset}", *hdr(owner))
                check(status == 200 and len(body["workspaces"]) <= 2, f"page at offset {offset}: at most page_size rows")
                pages += 1
                seen += [w["id"] for w in body["workspaces"]]
                offset += len(body["workspaces"])
                if not body["workspaces"] or offset >= body["count"]:
                    break
            check(pages == 3 and len(seen) == len(set(seen)) == body["count"] == 6,
                  "paging covers the 6 workspaces exactly once in 3 pages")
            status, body = curl("/api/v2/workspaces?limit=100&offset=0", *hdr(member))
            check(status == 200 and body["count"] == 1 and body["workspaces"][0]["owner_name"] == "alice",
                  "a member sees only their own workspace")
            status, body = curl("/api/v2/debug/health", *hdr(owner))
            check(status == 200 and body["access_url"]["error"].startswith("EACS03") and body["severity"] == "error",
                  "the owner reads coderd's health report")
            status, body = curl("/api/v2/debug/health", *hdr(member))
            check(status == 403, "a member gets 403 on /debug/health")
            subprocess.run(["/usr/bin/python3", str(API / "compose.py"), "--workspaces", "field-report",
                            "--health", "ok", "-o", str(fixture)], check=True)
            check_writable_api(owner, member)
        finally:
            proc.terminate()
            proc.wait(timeout=5)


if __name__ == "__main__":
    main()
