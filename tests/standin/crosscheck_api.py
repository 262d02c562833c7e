#!/usr/bin/python3
"""Cross-check the coderd stand-in's owner-token API (--api-fixture) with an independent client: curl.

Starts tests/sandbox/coderd_standin.py alone on 127.0.212.1 with a fixture from
tests/sandbox/coder-api/compose.py (page size 2) and checks what coderd's apikey middleware and
handlers answer: 401 with their details for a missing, a malformed and an unknown token; the token
accepted from the header, the query and the cookie; /users/me roles; paging that covers every
workspace exactly once with `count` the total; a member seeing only their own workspaces; the
health report for the owner and 403 for the member; no fixture: the signed-out 401 as before.
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


def curl(path, *args):
    """GET path with curl; (status, parsed JSON or None)."""
    r = subprocess.run(["curl", "-s", "--max-time", "5", "-w", "\n%{http_code}", *args, BASE + path],
                       capture_output=True, text=True, check=False)
    body, _, code = r.stdout.rpartition("\n")
    try:
        return int(code), json.loads(body)
    except ValueError:
        return int(code or 0), None


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
        finally:
            proc.terminate()
            proc.wait(timeout=5)


if __name__ == "__main__":
    main()
