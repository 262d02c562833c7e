#!/usr/bin/env python3
"""Tests of the Helm chart with independent oracles: helm (lint, template, the values schema),
kubernetes-models (every rendered object), promtool (the PrometheusRule), docs/rbac.yaml (the one
RBAC table the code is tested against) and the binary itself (the rendered config file).

    chart_test.py lint | render | schema | rules | rbac | dashboard-static | dashboard-scrape FILE

Environment (set by CTest): CDD_SOURCE_DIR, CDD_BIN, CDD_TOOLS_DIR (default <source>/.tools)."""
import copy
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml

SOURCE = pathlib.Path(os.environ.get("CDD_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
TOOLS = pathlib.Path(os.environ.get("CDD_TOOLS_DIR", SOURCE / ".tools"))
HELM = TOOLS / "helm" / "helm"
NODE_MODULES = TOOLS / "node" / "node_modules"
CHART = SOURCE / "charts" / "coder-dns-doctor"
RBAC_TABLE = SOURCE / "docs" / "rbac.yaml"
ALERTS = CHART / "files" / "alerts.yaml"
DASHBOARD = CHART / "files" / "dashboard.json"
MONITORING = ["--api-versions", "monitoring.coreos.com/v1"]
RELEASE_NAMESPACE = "monitoring-ns"

# name -> (helm arguments, values overlay: a dict, a file of the repo, or None). The overlay is
# passed with -f, so the oracles below see exactly the values helm sees.
SCENARIOS = {
    "deployment": ([], None),
    "daemonset": ([], {"mode": "daemonset"}),
    "rbac-off": ([], {"rbac": {"create": False}}),
    "monitoring-on": (MONITORING, None),
    "monitoring-on-daemonset": (MONITORING, {"mode": "daemonset"}),
    "monitoring-off": (MONITORING, {"monitoring": {"serviceMonitor": {"enabled": False},
                                                   "prometheusRule": {"enabled": False}}}),
    "monitoring-forced": ([], {"monitoring": {"serviceMonitor": {"enabled": True},
                                              "prometheusRule": {"enabled": True}}}),
    "kube-off": ([], {"config": {"kube": "off", "external-url": "https://coder.example.com",
                                 "expect": {"coder.example.com": ["192.0.2.10"]},
                                 "resolver": ["cluster=system", "public=192.0.2.53"]}}),
    "narrow": ([], {"config": {"external-url": "https://coder.example.com",
                               "internal-url": "http://coder-http.platform.svc.cluster.local:8080",
                               "ingress-service": ["ingress-nginx/ingress-nginx-controller", "platform/edge"],
                               "resolver": ["cluster=system"],
                               "workspace-namespace": ["ws-a", "ws-b"]},
                    "rbac": {"endpointSlices": False}}),
    "audit-off": ([], {"config": {"workspace-namespace": [], "kube-dns-namespace": "dns",
                                  "coder-service": "coder/coder", "coder-deployment": "coder-app/coder"}}),
    "example-field-report": ([], "examples/helm/field-report-values.yaml"),
    "example-generic": ([], "examples/helm/generic-values.yaml"),
    "runbook-wiki": (MONITORING, {"runbookBaseUrl": "https://wiki.example.com/ops/coder-dns-doctor/runbook/"}),
    "coder-token": ([], {"coderToken": {"existingSecret": "coder-dns-doctor-coder-token", "tokenKey": "session"}}),
    "report-off": ([], {"report": {"enabled": False}}),
    "rollout-rbac": ([], {"rollout": {"rbac": True}}),
    "rollout-rbac-apply": ([], {"rollout": {"rbac": True, "applyConfigMap": True, "configMapNamespace": "platform",
                                            "fluxNamespace": "gitops", "workspaceNamespace": "dev-envs"}}),
    "network-policy": ([], {"networkPolicy": {"enabled": True}}),
    "network-policy-peers": ([], {"mode": "daemonset", "networkPolicy": {"enabled": True, "from": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}},
         "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}},
        {"ipBlock": {"cidr": "127.0.0.0/8"}}]}}),
}
# The base files/alerts.yaml writes every runbook_url with (templates/_helpers.tpl replaces it).
ALERTS_FILE_RUNBOOK_BASE = "http://coder-dns-doctor.coder-dns-doctor.svc:9816/runbook"


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def deep_merge(base, overlay):
    result = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def scenario_values(name):
    """The values helm renders the scenario with (chart defaults + overlay)."""
    _, overlay = SCENARIOS[name]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    if isinstance(overlay, str):
        overlay = yaml.safe_load((SOURCE / overlay).read_text())
    return deep_merge(values, overlay or {})


def helm(*args, check=True):
    process = subprocess.run([str(HELM), *args], capture_output=True, text=True)
    if check and process.returncode != 0:
        fail(f"helm {' '.join(args)} exited {process.returncode}:\n{process.stderr}")
    return process


class overlay_args:
    """`-f FILE` for a scenario's values overlay (a file of the repo, or a dict written to a temp file)."""

    def __init__(self, name):
        self.overlay = SCENARIOS[name][1]
        self.file = None

    def __enter__(self):
        if isinstance(self.overlay, str):
            return ["-f", str(SOURCE / self.overlay)]
        if not self.overlay:
            return []
        self.file = tempfile.NamedTemporaryFile("w", suffix=".yaml")
        yaml.safe_dump(self.overlay, self.file)
        self.file.flush()
        return ["-f", self.file.name]

    def __exit__(self, *exc):
        if self.file:
            self.file.close()


def render(name):
    with overlay_args(name) as extra:
        out = helm("template", "cdd", str(CHART), "--namespace", RELEASE_NAMESPACE, *extra, *SCENARIOS[name][0]).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def find(objects, kind, name=None):
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


# --- lint -----------------------------------------------------------------------------------------

def cmd_lint():
    for name, (args, _) in SCENARIOS.items():
        if "--api-versions" in args:  # lint has no --api-versions: force the monitoring objects on
            args = [a for a in args if a not in MONITORING] + [
                "--set", "monitoring.serviceMonitor.enabled=true", "--set", "monitoring.prometheusRule.enabled=true"]
        with overlay_args(name) as extra:
            process = helm("lint", "--strict", str(CHART), "--namespace", RELEASE_NAMESPACE, *extra, *args, check=False)
        messages = [line for line in process.stdout.splitlines() if re.match(r"\[(WARNING|ERROR)\]", line)]
        if process.returncode != 0 or messages:
            fail(f"helm lint --strict ({name}):\n{process.stdout}{process.stderr}")
        print(f"ok lint --strict {name}")
    # The packaged chart carries files/rbac.yaml (a link to docs/rbac.yaml) dereferenced, and renders
    # the same objects as the chart directory.
    with tempfile.TemporaryDirectory() as tmp:
        helm("package", str(CHART), "--destination", tmp)
        package = next(pathlib.Path(tmp).glob("coder-dns-doctor-*.tgz"))
        packaged = helm("template", "cdd", str(package), "--namespace", RELEASE_NAMESPACE).stdout
        direct = helm("template", "cdd", str(CHART), "--namespace", RELEASE_NAMESPACE).stdout
    if packaged != direct:
        fail("the packaged chart renders differently from the chart directory")
    print(f"ok helm package: {package.name} renders the same objects")


# --- render: every object valid, the pod restricted, the config accepted by the binary --------------

def check_restricted(pod_spec, where):
    """The restricted Pod Security Standard, field by field."""
    pod_sc = pod_spec.get("securityContext", {})
    if pod_spec.get("hostNetwork") or pod_spec.get("hostPID") or pod_spec.get("hostIPC"):
        fail(f"{where}: host namespaces")
    if pod_spec.get("volumes") and any(set(v) - {"name", "configMap", "secret", "emptyDir", "projected",
                                                 "downwardAPI"} for v in pod_spec["volumes"]):
        fail(f"{where}: a volume type outside the restricted set")
    if pod_sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        fail(f"{where}: pod seccompProfile is not RuntimeDefault")
    uid = pod_sc.get("runAsUser")
    if not pod_sc.get("runAsNonRoot") or not isinstance(uid, int) or uid == 0:
        fail(f"{where}: pod must run as a fixed non-root UID (runAsNonRoot, runAsUser != 0)")
    for container in pod_spec["containers"] + pod_spec.get("initContainers", []):
        sc = container.get("securityContext", {})
        cwhere = f"{where} container {container['name']}"
        if sc.get("allowPrivilegeEscalation") is not False:
            fail(f"{cwhere}: allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            fail(f"{cwhere}: readOnlyRootFilesystem must be true")
        if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc.get("capabilities", {}).get("add"):
            fail(f"{cwhere}: capabilities must drop ALL and add none")
        if sc.get("privileged"):
            fail(f"{cwhere}: privileged")
        if sc.get("runAsUser") == 0:
            fail(f"{cwhere}: runs as root")
        if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
            fail(f"{cwhere}: liveness probe is not GET /healthz")
        if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
            fail(f"{cwhere}: readiness probe is not GET /readyz")
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            if not {"cpu", "memory"} <= set(resources.get(kind, {})):
                fail(f"{cwhere}: resources.{kind} needs cpu and memory")
        for port in container.get("ports", []):
            if port.get("hostPort"):
                fail(f"{cwhere}: hostPort")


def check_config_accepted(objects, name, known_issue=None):
    """The rendered config file and args are what `serve` accepts (`--show-config` exits 0).
    When the binary fails with `known_issue` in its message, exit 77 (a CTest skip) instead."""
    config = find(objects, "ConfigMap", "cdd-coder-dns-doctor")[0]["data"]["config.yaml"]
    workload = [o for o in objects if o["kind"] in ("Deployment", "DaemonSet")][0]
    container = workload["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    if args[:3] != ["serve", "--config", "/etc/coder-dns-doctor/config.yaml"]:
        fail(f"{name}: unexpected args {args}")
    mount = container["volumeMounts"][0]
    if mount["mountPath"] != "/etc/coder-dns-doctor" or not mount.get("readOnly"):
        fail(f"{name}: the config volume is not mounted read-only at /etc/coder-dns-doctor")
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp, "config.yaml")
        path.write_text(config)
        # As in the pod: the API server's address in the environment and a service-account token
        # (a closed loopback port: --show-config never dials it).
        token = pathlib.Path(tmp, "token")
        token.write_text("not-a-real-token\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_DNS_DOCTOR_", "KUBERNETES_"))}
        env.update(KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT="9",
                   CODER_DNS_DOCTOR_KUBE_TOKEN_FILE=str(token))
        # The Coder token Secret's mount, as a file here.
        coder_token = pathlib.Path(tmp, "coder-token")
        coder_token.write_text("abcdefghij-0123456789abcdefghijkl\n")
        rest = [str(coder_token) if a.startswith("/var/run/secrets/coder/") else a for a in args[3:]]
        process = subprocess.run([os.environ["CDD_BIN"], "serve", "--config", str(path), *rest, "--show-config"],
                                 capture_output=True, text=True, env=env)
    if process.returncode != 0 and known_issue and known_issue in process.stderr:
        print(f"SKIP {name}: serve rejects the rendered config because of a known binary issue: {process.stderr.strip()}")
        sys.exit(77)
    if process.returncode != 0:
        fail(f"{name}: serve rejects the rendered config (exit {process.returncode}):\n{process.stderr}\n--- config.yaml\n{config}")
    listen = re.search(r"^listen\s+(\S+)", process.stdout, re.M).group(1)
    port = container["ports"][0]["containerPort"]
    if listen != f"0.0.0.0:{port}":
        fail(f"{name}: serve listens on {listen}, the container port is {port}")


def cmd_render():
    validate = SOURCE / "tests" / "chart" / "validate.mjs"
    for name in SCENARIOS:
        objects = render(name)
        values = scenario_values(name)
        process = subprocess.run(["node", str(validate)], input=json.dumps(objects), capture_output=True, text=True,
                                 env={**os.environ, "CDD_NODE_MODULES": str(NODE_MODULES)})
        if process.returncode != 0:
            fail(f"{name}: kubernetes-models rejects objects:\n{process.stdout}{process.stderr}")
        kinds = sorted(o["kind"] for o in objects)
        workloads = [o for o in objects if o["kind"] in ("Deployment", "DaemonSet")]
        expected_kind = "Deployment" if values["mode"] == "deployment" else "DaemonSet"
        if [w["kind"] for w in workloads] != [expected_kind]:
            fail(f"{name}: expected one {expected_kind}, got {[w['kind'] for w in workloads]}")
        check_restricted(workloads[0]["spec"]["template"]["spec"], f"{name} {expected_kind}")
        if name != "audit-off":  # see cmd_config_audit_off
            check_config_accepted(objects, name)

        monitoring = {"ServiceMonitor", "PrometheusRule"} & set(kinds)
        args = SCENARIOS[name][0]
        want_monitoring = set()
        for kind, key in (("ServiceMonitor", "serviceMonitor"), ("PrometheusRule", "prometheusRule")):
            enabled = values["monitoring"][key]["enabled"]
            if enabled is True or (enabled == "auto" and "monitoring.coreos.com/v1" in args):
                want_monitoring.add(kind)
        if monitoring != want_monitoring:
            fail(f"{name}: monitoring objects {sorted(monitoring)}, expected {sorted(want_monitoring)}")
        for monitor in find(objects, "ServiceMonitor"):
            relabel = monitor["spec"]["endpoints"][0].get("relabelings", [])
            node_rule = {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node", "action": "replace"}
            if (values["mode"] == "daemonset") != (node_rule in relabel):
                fail(f"{name}: the ServiceMonitor's node relabeling must be there exactly in daemonset mode")
            if monitor["spec"]["endpoints"][0]["port"] != "metrics":
                fail(f"{name}: the ServiceMonitor does not scrape the metrics port")
        service = find(objects, "Service")[0]
        if service["spec"]["selector"] != workloads[0]["spec"]["selector"]["matchLabels"]:
            fail(f"{name}: the Service does not select the workload's pods")
        rbac_kinds = {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"} & set(kinds)
        if not values["rbac"]["create"] and rbac_kinds:
            fail(f"{name}: rbac.create=false still renders {sorted(rbac_kinds)}")
        dashboards = [o for o in find(objects, "ConfigMap") if o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
        if len(dashboards) != (1 if values["grafana"]["dashboard"]["enabled"] else 0):
            fail(f"{name}: expected {int(values['grafana']['dashboard']['enabled'])} dashboard ConfigMap(s)")
        check_coder_token(workloads[0], values, name)
        check_report_flag(workloads[0], values, name)
        check_network_policy(objects, workloads[0], values, name)
        print(f"ok render {name}: {len(objects)} objects valid ({', '.join(sorted(set(kinds)))})")


def check_coder_token(workload, values, name):
    """coderToken.existingSecret mounts that Secret's key read-only and passes it as --coder-token-file;
    without it there is neither the flag nor the volume."""
    pod = workload["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = container["args"]
    secret = values["coderToken"]["existingSecret"]
    volumes = [v for v in pod.get("volumes", []) if "secret" in v]
    if not secret:
        if "--coder-token-file" in args or volumes:
            fail(f"{name}: a Coder token flag or Secret volume without coderToken.existingSecret")
        return
    key = values["coderToken"]["tokenKey"]
    if args[args.index("--coder-token-file") + 1] != f"/var/run/secrets/coder/{key}":
        fail(f"{name}: --coder-token-file does not name the mounted key {key}")
    if [(v["secret"]["secretName"], v["secret"]["items"]) for v in volumes] != [(secret, [{"key": key, "path": key}])]:
        fail(f"{name}: the Secret volume is not {secret} with only the key {key}: {volumes}")
    mounts = [m for m in container["volumeMounts"] if m["name"] == volumes[0]["name"]]
    if [(m["mountPath"], m.get("readOnly")) for m in mounts] != [("/var/run/secrets/coder", True)]:
        fail(f"{name}: the Coder token is not mounted read-only at /var/run/secrets/coder: {mounts}")


def check_report_flag(workload, values, name):
    """report.enabled: false passes `--report off` (the binary accepts it: check_config_accepted ran
    the same arguments); true passes nothing, the daemon's default being on."""
    args = workload["spec"]["template"]["spec"]["containers"][0]["args"]
    passed = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--report"]
    if passed != ([] if values["report"]["enabled"] else ["off"]):
        fail(f"{name}: --report arguments {passed} for report.enabled={values['report']['enabled']}")


def check_network_policy(objects, workload, values, name):
    """networkPolicy.enabled renders one NetworkPolicy selecting exactly the workload's pods, for
    Ingress only, admitting exactly `from` to the container's named metrics port."""
    policies = find(objects, "NetworkPolicy")
    if not values["networkPolicy"]["enabled"]:
        if policies:
            fail(f"{name}: a NetworkPolicy without networkPolicy.enabled")
        return
    if len(policies) != 1:
        fail(f"{name}: expected one NetworkPolicy, got {len(policies)}")
    spec = policies[0]["spec"]
    if spec["podSelector"] != {"matchLabels": workload["spec"]["selector"]["matchLabels"]}:
        fail(f"{name}: the NetworkPolicy does not select the workload's pods: {spec['podSelector']}")
    if spec["policyTypes"] != ["Ingress"] or "egress" in spec:
        fail(f"{name}: the NetworkPolicy must restrict ingress only: {spec['policyTypes']}")
    ports = [p["name"] for p in workload["spec"]["template"]["spec"]["containers"][0]["ports"]]
    if spec["ingress"] != [{"from": values["networkPolicy"]["from"], "ports": [{"port": "metrics", "protocol": "TCP"}]}]:
        fail(f"{name}: the NetworkPolicy's ingress is not exactly networkPolicy.from on the metrics port: {spec['ingress']}")
    if "metrics" not in ports:
        fail(f"{name}: the NetworkPolicy names the port metrics, the container has {ports}")


def cmd_config_audit_off():
    """`workspace-namespace: []` renders as [""], the documented way to turn the audit off. serve
    (unlike diagnose) rejects an empty value today; skip, loudly, until it accepts it."""
    objects = render("audit-off")
    config = yaml.safe_load(find(objects, "ConfigMap", "cdd-coder-dns-doctor")[0]["data"]["config.yaml"])
    if config["workspace-namespace"] != [""]:
        fail(f"audit-off renders workspace-namespace {config['workspace-namespace']!r}, expected ['']")
    check_config_accepted(objects, "audit-off", known_issue="--workspace-namespace: 1 required TEXT missing")
    print("ok audit-off: serve accepts workspace-namespace [''] (audit off)")


# --- schema ---------------------------------------------------------------------------------------

def cmd_schema():
    """values.schema.json rejects wrong types and unknown keys, and names the value."""
    bad = [
        (["--set", "replicaCount=two"], "replicaCount"),
        (["--set", "mode=statefulset"], "mode"),
        (["--set", "rbac.create=yes"], "create"),
        (["--set-json", "config.resolver=\"cluster=system\""], "resolver"),
        (["--set", "config.interval=soon"], "interval"),
        (["--set", "config.intervall=30s"], "intervall"),
        (["--set", "port=99999"], "port"),
        (["--set", "monitoring.serviceMonitor.enabled=sometimes"], "enabled"),
        (["--set", "resourcez.cpu=1"], "resourcez"),
        (["--set", "runbookBaseUrl=javascript:alert(1)"], "runbookBaseUrl"),
        (["--set", "runbookBaseUrl=https://wiki.example.com/runbook#top"], "runbookBaseUrl"),
        (["--set", "coderToken.existingSecret=Not_A_Name"], "existingSecret"),
        (["--set", "coderToken.tokenKey=a/b"], "tokenKey"),
        (["--set", "report.enabled=no"], "enabled"),
        (["--set", "networkPolicy.enabled=true", "--set-json", "networkPolicy.from=[]"], "from"),
    ]
    for args, key in bad:
        process = helm("template", "cdd", str(CHART), *args, check=False)
        if process.returncode == 0 or key not in process.stderr:
            fail(f"the schema accepts {' '.join(args)} (exit {process.returncode}; stderr: {process.stderr.strip()[:400]})")
        print(f"ok schema rejects {' '.join(args)}")
    # Every key of values.yaml is described by the schema (no value escapes it).
    schema = json.loads((CHART / "values.schema.json").read_text())

    def walk(values, node, path):
        if not isinstance(values, dict):
            return
        properties = node.get("properties", {})
        for key, value in values.items():
            if key in properties:
                walk(value, properties[key], f"{path}{key}.")
            elif not node.get("additionalProperties"):
                fail(f"values.schema.json does not describe {path}{key}")
    walk(yaml.safe_load((CHART / "values.yaml").read_text()), schema, "")
    print("ok schema describes every key of values.yaml")


# --- rules ----------------------------------------------------------------------------------------

def with_runbook_base(rules, base):
    """RULES (files/alerts.yaml) with each runbook_url's base replaced by BASE, as the chart does."""
    rules = copy.deepcopy(rules)
    for group in rules["groups"]:
        for rule in group["rules"]:
            url = rule.get("annotations", {}).get("runbook_url")
            if url is not None:
                if not url.startswith(ALERTS_FILE_RUNBOOK_BASE + "#"):
                    fail(f"{rule['alert']}: files/alerts.yaml's runbook_url {url} lacks the base {ALERTS_FILE_RUNBOOK_BASE}")
                rule["annotations"]["runbook_url"] = base + url[len(ALERTS_FILE_RUNBOOK_BASE):]
    return rules


def runbook_args(objects):
    workload = [o for o in objects if o["kind"] in ("Deployment", "DaemonSet")][0]
    args = workload["spec"]["template"]["spec"]["containers"][0]["args"]
    return [args[i + 1] for i, a in enumerate(args) if a == "--runbook-url"]


def cmd_rules():
    source = yaml.safe_load(ALERTS.read_text())
    # Default: this release's daemon behind its Service (release cdd, chart name appended).
    default_base = f"http://cdd-coder-dns-doctor.{RELEASE_NAMESPACE}.svc:9816/runbook"
    for name, base, flag in (("monitoring-on", default_base, []),
                             ("runbook-wiki", "https://wiki.example.com/ops/coder-dns-doctor/runbook",
                              ["https://wiki.example.com/ops/coder-dns-doctor/runbook"])):
        objects = render(name)
        rules = find(objects, "PrometheusRule")
        if len(rules) != 1:
            fail(f"{name}: expected one PrometheusRule, got {len(rules)}")
        spec = rules[0]["spec"]
        if spec != with_runbook_base(source, base):
            fail(f"{name}: the PrometheusRule's spec differs from files/alerts.yaml with runbook base {base}")
        urls = {r["annotations"]["runbook_url"].split("#")[0] for g in spec["groups"] for r in g["rules"] if "alert" in r}
        if urls != {base}:
            fail(f"{name}: runbook_url bases {sorted(urls)}, expected only {base}")
        if runbook_args(objects) != flag:
            fail(f"{name}: serve gets --runbook-url {runbook_args(objects)}, expected {flag}")
        check_config_accepted(objects, name)
        print(f"ok {name}: PrometheusRule spec equals {ALERTS.relative_to(SOURCE)} with runbook base {base} "
              f"({sum(len(g['rules']) for g in spec['groups'])} rules); serve --runbook-url {flag or 'default /runbook'}")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as out:
        yaml.safe_dump(spec, out)
        out.flush()
        process = subprocess.run(["promtool", "check", "rules", out.name], capture_output=True, text=True)
    if process.returncode != 0:
        fail(f"promtool check rules on the extracted spec:\n{process.stdout}{process.stderr}")
    print("ok promtool check rules (extracted spec): " + process.stdout.strip().splitlines()[-1])


# --- rbac -----------------------------------------------------------------------------------------

def expected_rbac(values):
    """{(kind, namespace, apiGroup, resource, verb)} the enabled features need, from docs/rbac.yaml.
    Which features are enabled follows each rule's `when` in that table."""
    table = {rule["feature"]: rule for rule in yaml.safe_load(RBAC_TABLE.read_text())["rules"]}
    config = values["config"]
    if not values["rbac"]["create"]:
        return set()
    checks = config.get("checks")
    if isinstance(checks, str):
        checks = checks.split(",")
    if config.get("kube", "auto") in ("off", False) or (checks and "kube" not in checks):
        return set()

    def ns_of(ref):
        return ref.split("/")[0]

    if config.get("coder-service"):
        coder_ns = ns_of(config["coder-service"])
    else:
        host = re.sub(r"^https?://", "", config.get("internal-url", "http://coder.coder.svc.cluster.local:80"))
        labels = host.split("/")[0].split(":")[0].split(".")
        coder_ns = labels[1] if len(labels) >= 3 and labels[2] == "svc" else "coder"
    deployment_ns = ns_of(config["coder-deployment"]) if config.get("coder-deployment") else coder_ns
    wanted = [("coder-service", coder_ns)]
    if values["rbac"]["endpointSlices"]:
        wanted.append(("coder-endpoints", coder_ns))
    if not config.get("external-url"):
        wanted.append(("access-url", deployment_ns))
        if values["rbac"]["accessURLConfigMap"]:
            wanted.append(("access-url-configmap", deployment_ns))
    if config.get("ingress-service"):
        wanted += [("ingress-service", ns_of(ref)) for ref in config["ingress-service"]]
    else:
        wanted.append(("ingresses", None))
    if any(r.endswith("=kube-dns-pods") for r in config.get("resolver", ["cluster=system"])):
        wanted.append(("kube-dns-pods", config.get("kube-dns-namespace", table["kube-dns-pods"]["namespace"]["default"])))
    for ns in config.get("workspace-namespace", [table["workspace-audit"]["namespace"]["default"]]):
        if ns:
            wanted.append(("workspace-audit", ns))
    grants = set()
    for feature, ns in wanted:
        rule = table[feature]
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    grants.add((rule["kind"], None if rule["kind"] == "ClusterRole" else ns, group, resource, verb))
    return grants


def expected_rollout_rbac(values):
    """{(kind, namespace, apiGroup, resource, verb)} of docs/rbac.yaml's opt-in `rollout` table."""
    rollout = values.get("rollout", {})
    if not rollout.get("rbac"):
        return set()
    namespaces = {"--configmap": rollout["configMapNamespace"], "--flux-kustomization": rollout["fluxNamespace"],
                  "--workspace-namespace": rollout["workspaceNamespace"]}
    grants = set()
    for rule in yaml.safe_load(RBAC_TABLE.read_text())["rollout"]:
        if rule["feature"] == "rollout-configmap-apply" and not rollout.get("applyConfigMap"):
            continue
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    grants.add(("Role", namespaces[rule["namespace"]["option"]], group, resource, verb))
    return grants


def is_rollout_object(obj):
    return obj["metadata"]["name"].endswith("-rollout")


def rendered_rbac(objects, name, rollout=False):
    """The grants bound to the chart's ServiceAccount (rollout=False) or to the rollout one."""
    objects = [o for o in objects if is_rollout_object(o) == rollout]
    grants = set()
    account = [o for o in objects if o["kind"] == "ServiceAccount"]
    sa_name = account[0]["metadata"]["name"] if account else None
    roles = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o
             for o in objects if o["kind"] in ("Role", "ClusterRole")}
    bound = set()
    for binding in (o for o in objects if o["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        ref = binding["roleRef"]
        ns = binding["metadata"].get("namespace") if ref["kind"] == "Role" else None
        if (ref["kind"], ns, ref["name"]) not in roles:
            fail(f"{name}: {binding['kind']} {binding['metadata']['name']} refers to a missing {ref['kind']}")
        if binding["subjects"] != [{"kind": "ServiceAccount", "name": sa_name, "namespace": RELEASE_NAMESPACE}]:
            fail(f"{name}: {binding['kind']} {binding['metadata']['name']} binds {binding['subjects']}, not the chart's ServiceAccount")
        bound.add((ref["kind"], ns, ref["name"]))
    for key, role in roles.items():
        if key not in bound:
            fail(f"{name}: {key} is bound to nothing")
        for rule in role["rules"]:
            if set(rule) - {"apiGroups", "resources", "verbs"}:
                fail(f"{name}: {key} has a rule with {sorted(set(rule))} (resourceNames, nonResourceURLs?)")
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        grants.add((role["kind"], key[1], group, resource, verb))
    return grants


def cmd_rbac():
    for name in SCENARIOS:
        values = scenario_values(name)
        expected, got = expected_rbac(values), rendered_rbac(render(name), name)
        if expected != got:
            fail(f"{name}: RBAC differs from docs/rbac.yaml for the enabled features\n"
                 f"  missing: {sorted(expected - got, key=str)}\n  extra:   {sorted(got - expected, key=str)}")
        if any(verb not in ("get", "list") for *_, verb in got):
            fail(f"{name}: a verb other than get/list")
        objects = render(name)
        rollout_expected = expected_rollout_rbac(values)
        rollout_got = rendered_rbac(objects, name, rollout=True) if rollout_expected or any(
            is_rollout_object(o) for o in objects) else set()
        if rollout_expected != rollout_got:
            fail(f"{name}: the rollout RBAC differs from docs/rbac.yaml's rollout table\n"
                 f"  missing: {sorted(rollout_expected - rollout_got, key=str)}\n"
                 f"  extra:   {sorted(rollout_got - rollout_expected, key=str)}")
        print(f"ok rbac {name}: {len(got)} grants, exactly docs/rbac.yaml's for the enabled features"
              f"{f'; rollout: {len(rollout_got)} grants on its own ServiceAccount' if rollout_got else ''}")


# --- dashboard ------------------------------------------------------------------------------------

def dashboard_exprs():
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["query"]["query"] for v in dashboard["templating"]["list"] if isinstance(v.get("query"), dict)]
    return dashboard, exprs


def cmd_dashboard_static():
    subprocess.run([sys.executable, str(SOURCE / "tests/chart/make_dashboard.py"), "--check"], check=True)
    dashboard, exprs = dashboard_exprs()
    rendered = json.loads(find(render("deployment"), "ConfigMap", "cdd-coder-dns-doctor-dashboard")[0]["data"]["coder-dns-doctor.json"])
    if rendered != dashboard:
        fail("the dashboard ConfigMap does not carry files/dashboard.json")
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for needed in ("truth", "latency", "healthz", "findings"):
        if needed not in titles:
            fail(f"no dashboard panel about {needed}")
    if not any(v["name"] == "node" for v in dashboard["templating"]["list"]):
        fail("the dashboard has no node variable (daemonset breakdown)")
    ids = [p["id"] for p in dashboard["panels"]]
    if len(ids) != len(set(ids)):
        fail("duplicate panel ids")
    print(f"ok dashboard: JSON parses, {len(dashboard['panels'])} panels, {len(exprs)} queries, ConfigMap carries it")


def parse_exposition(text):
    """{metric name: set of label names} from Prometheus text exposition."""
    metrics = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s", line)
        if match:
            labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', match.group(3) or ""))
            metrics.setdefault(match.group(1), set()).update(labels)
    return metrics


def cmd_dashboard_scrape(scrape_file):
    metrics = parse_exposition(pathlib.Path(scrape_file).read_text())
    _, exprs = dashboard_exprs()
    # Labels Prometheus adds at scrape time (and the ServiceMonitor's node relabeling).
    target_labels = {"job", "instance", "node", "le"}
    checked = set()
    for expr in exprs:
        for name in re.findall(r"\bcoder_dns_doctor_[a-z_]+", expr):
            if name not in metrics:
                fail(f"the dashboard queries {name}, which a real /metrics scrape does not have\n  query: {expr}")
            checked.add(name)
        # Every label the query groups by or matches must exist on its metric or be a target label.
        names = re.findall(r"\bcoder_dns_doctor_[a-z_]+", expr)
        used = set()
        for group in re.findall(r"by \(([^)]*)\)", expr):
            used |= {label.strip() for label in group.split(",")}
        for group in re.findall(r"\{([^}]*)\}", expr):
            used |= set(re.findall(r"([a-z_]+)\s*=~?", group))
        available = set().union(*(metrics[n] for n in names)) | target_labels if names else target_labels
        if used - available:
            fail(f"the dashboard uses labels {sorted(used - available)} absent from {names}\n  query: {expr}")
    print(f"ok dashboard: all {len(checked)} metrics it queries exist in the scrape: {', '.join(sorted(checked))}")


def main():
    if len(sys.argv) < 2:
        fail(__doc__)
    command, args = sys.argv[1].replace("-", "_"), sys.argv[2:]
    for tool in (HELM,):
        if not tool.exists():
            fail(f"{tool} missing: run scripts/install-chart-tools.sh")
    globals()[f"cmd_{command}"](*args)


if __name__ == "__main__":
    main()
