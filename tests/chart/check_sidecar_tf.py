#!/usr/bin/env python3
"""The sidecar Terraform example: HashiCorp's parser reads it (@cdktf/hcl2json), it is formatted as
`terraform fmt` would (@cdktf/hcl-tools), its dns-doctor container reads the same CODER_AGENT_URL as
the agent, runs restricted with small resources and health probes, and the binary accepts its
arguments and environment (`sidecar ... --show-config`)."""
import json
import os
import pathlib
import re
import subprocess
import sys

SOURCE = pathlib.Path(os.environ.get("CDD_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
EXAMPLE = SOURCE / "examples" / "terraform-sidecar" / "main.tf"
ORACLE = SOURCE / "tests" / "patch" / "oracle.js"


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def oracle(mode):
    env = {**os.environ, "CDD_NODE_TOOLS": str(pathlib.Path(os.environ.get("CDD_TOOLS_DIR", SOURCE / ".tools")) / "node")}
    return subprocess.run(["node", str(ORACLE), mode, str(EXAMPLE)], capture_output=True, text=True, env=env)


def env_value(container, name):
    for entry in container.get("env", []):
        if entry["name"] == name:
            return entry["value"]
    return None


def main():
    formatted = oracle("fmt-clean")
    if formatted.returncode != 0:
        fail(f"{EXAMPLE.name} is not formatted as terraform fmt would:\n{formatted.stdout}{formatted.stderr}")
    parsed = oracle("hcl2json")
    if parsed.returncode != 0:
        fail(f"HCL parser rejects {EXAMPLE.name}: {parsed.stderr}")
    tf = json.loads(parsed.stdout)
    pod = tf["resource"]["kubernetes_deployment_v1"]["workspace"][0]["spec"][0]["template"][0]["spec"][0]
    containers = {c["name"]: c for c in pod["container"]}
    sidecar, agent = containers.get("dns-doctor"), containers.get("dev")
    if not sidecar or not agent:
        fail(f"expected containers dev and dns-doctor, got {sorted(containers)}")
    if env_value(sidecar, "CODER_AGENT_URL") != env_value(agent, "CODER_AGENT_URL") or not env_value(agent, "CODER_AGENT_URL"):
        fail("the sidecar's CODER_AGENT_URL is not the agent's")
    if "local.agent_url" not in agent["command"][-1]:
        fail("the agent's start command does not use the same URL (init_script rewritten to local.agent_url)")
    if sidecar["args"][0] != "sidecar":
        fail(f"the sidecar runs {sidecar['args']}")
    sc = sidecar["security_context"][0]
    uid = int(subprocess.run([sys.executable, str(SOURCE / "tests/chart/dockerfile.py"), "user"],
                             capture_output=True, text=True, check=True).stdout.split(":")[0])
    want = {"run_as_non_root": True, "run_as_user": uid, "allow_privilege_escalation": False,
            "read_only_root_filesystem": True}
    for key, value in want.items():
        if sc.get(key) != value:
            fail(f"security_context.{key} is {sc.get(key)!r}, expected {value!r}")
    if sc["capabilities"][0].get("drop") != ["ALL"] or sc["seccomp_profile"][0].get("type") != "RuntimeDefault":
        fail("the sidecar must drop ALL capabilities and use seccomp RuntimeDefault")
    resources = sidecar["resources"][0]
    if not all({"cpu", "memory"} <= set(resources.get(kind, {})) for kind in ("requests", "limits")):
        fail("the sidecar needs cpu and memory requests and limits")
    if sidecar["liveness_probe"][0]["http_get"][0]["path"] != "/healthz" or \
            sidecar["readiness_probe"][0]["http_get"][0]["path"] != "/readyz":
        fail("liveness /healthz and readiness /readyz expected")
    if pod.get("automount_service_account_token") is not False:
        fail("the workspace pod should not mount a service-account token (the sidecar runs --kube off)")
    print("ok sidecar example: parses, terraform-fmt clean, same CODER_AGENT_URL as the agent, restricted, resources, probes")

    # The binary accepts the container's args with the environment Terraform gives it.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "KUBERNETES_"))}
    env.update(CODER_AGENT_URL="https://coder.example.com", CODER_DNS_DOCTOR_EXPECT="coder.example.com=192.0.2.10")
    process = subprocess.run([os.environ["CDD_BIN"], *sidecar["args"], "--show-config"], capture_output=True, text=True, env=env)
    if process.returncode != 0:
        fail(f"sidecar rejects the example's args/env (exit {process.returncode}): {process.stderr}")
    if re.search(r"^metrics +minimal +flag", process.stdout, re.M) is None:
        fail(f"the example's sidecar does not run --metrics minimal (fleet-sized series):\n{process.stdout}")
    if "coder.example.com=192.0.2.10" not in process.stdout or "0.0.0.0:9816" not in process.stdout:
        fail(f"sidecar --show-config does not show the example's settings:\n{process.stdout}")
    print("ok sidecar accepts the example's args and environment")


if __name__ == "__main__":
    main()
