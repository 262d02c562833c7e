#!/usr/bin/env python3
"""Write the coderd stand-in's --api-fixture: tokens, workspaces and a health report.

    compose.py --workspaces field-report --health ok|eacs03|ews01 [--page-size N] [--all-connected] -o PATH

Shapes follow codersdk.Workspace / WorkspaceBuild / WorkspaceAgent and healthsdk.HealthcheckReport
(field names as coderd's JSON has them). The workspaces match the Kubernetes pod fixtures of
tests/k8s/make_fixtures.py by the `com.coder.workspace.id` label (alice, bob, carol); grace and
heidi have no pod in the audited namespaces; dave's workspace is stopped. The template, its
organization and two versions are the state of the writable API (tests/sandbox/coderd_templates.py:
template push, builds). Tokens: owner.token
(username admin, Owner), member.token (alice, no site role); unknown.token is well formed and not
in the fixture. Written atomically (a temporary file renamed over PATH).
"""
import argparse
import json
import os
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE_ID = "7f1d6c3e-2b8a-4c55-9e0d-1a2b3c4d5e6f"
ACTIVE_VERSION = "0c9e7a51-3d2f-4b8e-a6c1-5f4e3d2c1b0a"
OLD_VERSION = "5b6a7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"
ORGANIZATION_ID = "6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a"
TEMPLATE_NAME = "kubernetes-envbuilder"
# What a pushed template must contain for its version's job to succeed (coderd_templates.py): the
# patched main.tf reads the agents' URL from the ConfigMap into local.coder_url.
TEMPLATE_FIX = "local.coder_url"
ACCESS_URL = "https://coder.example.test:18443"              # what agents of the old versions dial
FIXED_AGENT_URL = "http://coder.coder.svc.cluster.local:18080"  # and of a version with the fix

# (owner, workspace id, agent status, build status, outdated, pod in the audit)
FIELD_REPORT = [
    ("alice", "3f0c2a9e-1b7d-4e58-9a6c-0d1e2f3a4b5c", "disconnected", "running", True),
    ("carol", "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "timeout", "running", False),
    ("bob", "c4d5e6f7-0819-4a2b-9c3d-4e5f6a7b8c9d", "disconnected", "running", False),
    ("grace", "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b", "connected", "running", False),
    ("heidi", "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", "disconnected", "running", False),
    ("dave", "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d", "disconnected", "stopped", False),
]


def token(name):
    return (HERE / f"{name}.token").read_text().strip()


def agent(ws_id, status):
    connected = status == "connected"
    return {
        "id": "a" + ws_id[1:],
        "name": "main",
        "status": status,
        "lifecycle_state": "ready" if connected else ("start_timeout" if status == "timeout" else "ready"),
        "created_at": "2026-12-02T08:00:00Z",
        "first_connected_at": None if status == "timeout" else "2026-12-02T08:00:20Z",
        "last_connected_at": None if status == "timeout" else "2026-12-02T10:41:30Z",
        "disconnected_at": None if connected or status == "timeout" else "2026-12-02T10:42:00Z",
        "version": "v2.18.0",
        "health": {"healthy": connected, "reason": "" if connected else "agent is not connected"},
    }


def workspace(owner, ws_id, status, build_status, outdated):
    started = build_status != "stopped"
    return {
        "id": ws_id,
        "name": "dev",
        "owner_id": f"u-{owner}",
        "owner_name": owner,
        "template_id": TEMPLATE_ID,
        "template_name": TEMPLATE_NAME,
        "template_active_version_id": ACTIVE_VERSION,
        "outdated": outdated,
        "latest_build": {
            "id": f"b-{ws_id}",
            "build_number": 3,
            "transition": "start" if started else "stop",
            "status": build_status,
            "template_version_id": OLD_VERSION if outdated else ACTIVE_VERSION,
            "template_version_name": "v2" if outdated else "v3",
            "created_at": "2026-12-02T08:00:00Z",
            "resources": [{"id": f"r-{ws_id}", "name": "dev", "type": "kubernetes_deployment",
                           "agents": [agent(ws_id, status)] if started else []}],
        },
    }


def template_version(version_id, name):
    """A version whose import job succeeded long ago (coderd_templates.py's stored shape)."""
    return {"id": version_id, "template_id": TEMPLATE_ID, "organization_id": ORGANIZATION_ID, "name": name,
            "message": "", "created_at": "2026-11-01T00:00:00Z", "created_unix": 0, "outcome": ["succeeded", ""],
            "agent_url": ACCESS_URL,
            "logs": [], "job": {"id": "j" + version_id[1:], "created_at": "2026-11-01T00:00:00Z", "file_id": "",
                                "tags": {"scope": "organization", "owner": ""}, "type": "template_version_import",
                                "status": "succeeded"}}


def section(severity="ok", error=None, warnings=()):
    return {"healthy": severity != "error", "severity": severity, "warnings": list(warnings),
            "dismissed": False, "error": error}


def health(kind):
    report = {"time": "2026-12-02T10:45:00Z", "coder_version": "v2.18.0",
              "access_url": section() | {"access_url": "https://coder.example.test:18443", "reachable": True,
                                         "status_code": 200, "healthz_response": "OK"},
              "websocket": section() | {"body": "", "code": 101},
              "derp": section(), "database": section() | {"reachable": True, "latency": "1ms"},
              "workspace_proxy": section(), "provisioner_daemons": section()}
    if kind == "eacs03":
        report["access_url"] = section("error", "EACS03: get healthz: dial tcp 127.0.50.100:18443: connect: "
                                                 "connection refused") | {"access_url": "https://coder.example.test:18443",
                                                                          "reachable": False, "status_code": 0,
                                                                          "healthz_response": ""}
    elif kind == "ews01":
        report["websocket"] = section("error", "EWS01: websocket: bad handshake") | {"body": "", "code": 426}
    bad = [name for name in ("access_url", "websocket", "derp", "database", "workspace_proxy", "provisioner_daemons")
           if report[name]["severity"] != "ok"]
    report["severity"] = "error" if bad else "ok"
    report["healthy"] = not bad
    report["failing_sections"] = bad
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workspaces", choices=["field-report"], required=True)
    ap.add_argument("--health", choices=["ok", "eacs03", "ews01"], required=True)
    ap.add_argument("--page-size", type=int, default=0)
    ap.add_argument("--all-connected", action="store_true", help="every started agent connected")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    rows = [workspace(o, i, "connected" if args.all_connected else s, b, False if args.all_connected else d)
            for o, i, s, b, d in FIELD_REPORT]
    fixture = {"tokens": {token("owner"): {"username": "admin", "roles": ["owner"]},
                          token("member"): {"username": "alice", "roles": []}},
               "workspaces": rows, "health": health(args.health),
               "organizations": [{"id": ORGANIZATION_ID, "name": "coder", "display_name": "Coder",
                                  "is_default": True}],
               "templates": [{"id": TEMPLATE_ID, "name": TEMPLATE_NAME, "organization_id": ORGANIZATION_ID,
                              "active_version_id": ACTIVE_VERSION, "display_name": "Kubernetes (envbuilder)",
                              "provisioner": "terraform"}],
               "template_versions": {ACTIVE_VERSION: template_version(ACTIVE_VERSION, "v3"),
                                     OLD_VERSION: template_version(OLD_VERSION, "v2")},
               "template_fix": TEMPLATE_FIX, "access_url": ACCESS_URL, "fixed_agent_url": FIXED_AGENT_URL}
    if args.page_size:
        fixture["page_size"] = args.page_size
    out = Path(args.output)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".coder-api.")
    with os.fdopen(fd, "w") as f:
        json.dump(fixture, f, indent=1)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
