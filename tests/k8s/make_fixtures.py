#!/usr/bin/env python3
"""Write the fake API server's JSON fixtures: python3 tests/k8s/make_fixtures.py tests/k8s/fixtures

field-report/ is the whole cluster of the field report; the other folders are overlays copied over
it by tests. Every address is loopback (127.x): diagnose dials them. Tokens in pods are fake and
must never appear in any output."""
import json, os, sys, zlib
root = sys.argv[1]
def put(world, path, obj):
    p = os.path.join(root, world, path.lstrip('/') + '.json')
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')

def meta(ns, name, **kw):
    m = {"name": name, "namespace": ns, "uid": f"00000000-0000-4000-8000-{zlib.crc32((ns + name).encode()):012d}",
         "resourceVersion": "4242", "creationTimestamp": "2025-01-01T00:00:00Z"}
    m.update(kw)
    return m

def service(ns, name, cluster_ip, type_="ClusterIP", lb=None, ports=None):
    s = {"kind": "Service", "apiVersion": "v1", "metadata": meta(ns, name, labels={"app.kubernetes.io/name": name}),
         "spec": {"type": type_, "clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "ipFamilies": ["IPv4"],
                  "ipFamilyPolicy": "SingleStack", "selector": {"app.kubernetes.io/name": name},
                  "ports": ports or [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http"}],
                  "sessionAffinity": "None"},
         "status": {"loadBalancer": {"ingress": lb} if lb else {}}}
    return s

def ingress(ns, name, host, lb, cls="nginx"):
    return {"metadata": meta(ns, name, annotations={"nginx.ingress.kubernetes.io/proxy-body-size": "0"}),
            "spec": {"ingressClassName": cls,
                     "tls": [{"hosts": [host], "secretName": f"{name}-tls"}],
                     "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": name, "port": {"name": "http"}}}}]}}]},
            "status": {"loadBalancer": {"ingress": lb}}}

def ingress_list(*items):
    return {"kind": "IngressList", "apiVersion": "networking.k8s.io/v1", "metadata": {"resourceVersion": "4242"},
            "items": list(items)}

def deployment(ns, name, access_env):
    return {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": meta(ns, name),
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                     "template": {"metadata": {"labels": {"app.kubernetes.io/name": name}},
                                  "spec": {"serviceAccountName": "coder", "containers": [
                                      {"name": "coder", "image": "ghcr.io/coder/coder:v2.18.0",
                                       "args": ["server"],
                                       "env": [{"name": "CODER_HTTP_ADDRESS", "value": "0.0.0.0:8080"},
                                               {"name": "CODER_PROMETHEUS_ADDRESS", "value": "0.0.0.0:2112"},
                                               access_env,
                                               {"name": "CODER_PG_CONNECTION_URL", "valueFrom": {"secretKeyRef": {
                                                   "name": "coder-db-url", "key": "url"}}},
                                               {"name": "KUBE_POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
                                       "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]},
                                      {"name": "log-shipper", "image": "busybox",
                                       "env": [{"name": "SHIP_TO", "value": "https://logs.example.test/"}]}]}}},
            "status": {"replicas": 1, "readyReplicas": 1}}

def pod_list(*items):
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "4242"}, "items": list(items)}

def dns_pod(name, ip, ready=True, port=53, terminating=False, phase="Running"):
    m = meta("kube-system", name, labels={"k8s-app": "kube-dns", "pod-template-hash": "5d78c9869d"})
    if terminating:
        m["deletionTimestamp"] = "2025-01-01T00:10:00Z"
    return {"metadata": m,
            "spec": {"containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.1",
                                     "args": ["-conf", "/etc/coredns/Corefile"],
                                     "ports": [{"name": "dns", "containerPort": port, "protocol": "UDP"},
                                               {"name": "dns-tcp", "containerPort": port, "protocol": "TCP"},
                                               {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}]}]},
            "status": {"phase": phase, "podIP": ip, "podIPs": [{"ip": ip}],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}

AGENT_TOKEN_1 = "agent-token-5f3c0d1e-SECRET-never-print-1"
AGENT_TOKEN_2 = "agent-token-9a7b6c5d-SECRET-never-print-2"

def init_script(url):
    # Shaped like Coder's Linux bootstrap after the provider substitutes the access URL (ends in '/').
    return ("#!/usr/bin/env sh\nset -eux\n"
            "# keep a failed workspace around for a while so people can look inside\n"
            "waitonexit() {\n\techo \"=== Agent script exited with non-zero code ($?). Sleeping 24h to preserve logs...\"\n\tsleep 86400\n}\n"
            "trap waitonexit EXIT\nBINARY_DIR=$(mktemp -d -t coder.XXXXXX)\nBINARY_NAME=coder\n"
            f"BINARY_URL={url}bin/coder-linux-amd64\ncd \"$BINARY_DIR\"\n"
            "while :; do\n\tif command -v curl >/dev/null 2>&1; then\n"
            "\t\tcurl -fsSL --compressed \"${BINARY_URL}\" -o \"${BINARY_NAME}\" && break\n"
            "\telif command -v wget >/dev/null 2>&1; then\n\t\twget -q \"${BINARY_URL}\" -O \"${BINARY_NAME}\" && break\n"
            "\tfi\n\techo \"error: failed to download coder agent\"\n\tsleep 30\ndone\n"
            "chmod +x $BINARY_NAME || true\n"
            "export CODER_AGENT_AUTH=\"token\"\n"
            f"export CODER_AGENT_URL=\"{url}\"\n"
            "output=$(./${BINARY_NAME} --version | head -n1)\n"
            "exec ./${BINARY_NAME} agent\n")

# The Coder workspaces of the pods (ids as in tests/sandbox/coder-api/compose.py): the labels Coder's
# official templates set, which join coderd's agents with their pods.
WORKSPACE_IDS = {"coder-alice-dev": ("3f0c2a9e-1b7d-4e58-9a6c-0d1e2f3a4b5c", "alice"),
                 "coder-carol-dev": ("8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "carol"),
                 "coder-bob-dev": ("c4d5e6f7-0819-4a2b-9c3d-4e5f6a7b8c9d", "bob")}

def workspace_pod(name, env, command=None, args=None, phase="Running"):
    c = {"name": "dev", "image": "ghcr.io/coder/envbuilder:1.0.0", "env": env}
    if command: c["command"] = command
    if args: c["args"] = args
    labels = {"app.kubernetes.io/name": "coder-workspace", "com.coder.workspace.name": name}
    if name in WORKSPACE_IDS:
        labels.update({"com.coder.workspace.id": WORKSPACE_IDS[name][0], "com.coder.user.username": WORKSPACE_IDS[name][1]})
    return {"metadata": meta("coder-workspace", name, labels=labels),
            "spec": {"containers": [c]}, "status": {"phase": phase}}

EXT = "https://coder.example.test:18443/"
INT = "http://coder.coder.svc.cluster.local:18080/"

def workspaces():
    unpatched = workspace_pod("coder-alice-dev", [
        {"name": "CODER_AGENT_TOKEN", "value": AGENT_TOKEN_1},
        {"name": "CODER_AGENT_URL", "value": EXT.rstrip('/')},
        {"name": "ENVBUILDER_GIT_URL", "value": "https://git.example.test/alice/dev.git"},
        {"name": "ENVBUILDER_INIT_SCRIPT", "value": init_script(EXT)},
        {"name": "ENVBUILDER_FALLBACK_IMAGE", "value": "codercom/enterprise-base:ubuntu"}])
    # patched: the template rewrote both CODER_AGENT_URL and the init script (started through sh -c)
    patched = workspace_pod("coder-bob-dev", [
        {"name": "CODER_AGENT_TOKEN", "valueFrom": {"secretKeyRef": {"name": "coder-bob-dev-agent", "key": "token"}}},
        {"name": "CODER_AGENT_URL", "value": INT.rstrip('/')}],
        command=["sh", "-c", init_script(INT)])
    # half patched: env rewritten, init script still embeds the external URL (the literal fix of the report)
    half = workspace_pod("coder-carol-dev", [
        {"name": "CODER_AGENT_TOKEN", "value": AGENT_TOKEN_2},
        {"name": "CODER_AGENT_URL", "value": INT.rstrip('/')},
        {"name": "ENVBUILDER_INIT_SCRIPT", "value": init_script(EXT)}])
    other = {"metadata": meta("coder-workspace", "registry-cache-0"),
             "spec": {"containers": [{"name": "registry", "image": "registry:2",
                                      "env": [{"name": "REGISTRY_PROXY_REMOTEURL", "value": "https://registry.example.test"}]}]},
             "status": {"phase": "Running"}}
    done = workspace_pod("coder-dave-old", [{"name": "CODER_AGENT_TOKEN", "value": "x"},
                                            {"name": "ENVBUILDER_INIT_SCRIPT", "value": init_script(EXT)}],
                         phase="Succeeded")
    return pod_list(unpatched, patched, half, other, done)

# ---- the field report's cluster --------------------------------------------------------------
W = "field-report"
put(W, "/api/v1/namespaces/coder/services/coder", service("coder", "coder", "127.0.209.202"))
put(W, "/apis/networking.k8s.io/v1/ingresses", ingress_list(
    ingress("coder", "coder", "coder.example.test", [{"ip": "127.0.50.101"}]),
    ingress("monitoring", "grafana", "grafana.example.test", [{"ip": "127.0.50.102"}])))
put(W, "/apis/apps/v1/namespaces/coder/deployments/coder",
    deployment("coder", "coder", {"name": "CODER_ACCESS_URL", "value": EXT.rstrip('/')}))
put(W, "/api/v1/namespaces/coder-workspace/pods", workspaces())
put(W, "/api/v1/namespaces/kube-system/pods", pod_list(
    dns_pod("coredns-5d78c9869d-a1b2c", "127.0.0.10"),
    dns_pod("coredns-5d78c9869d-x9y8z", "127.0.6.53"),
    dns_pod("coredns-5d78c9869d-notready", "127.0.6.54", ready=False),
    dns_pod("coredns-5d78c9869d-leaving", "127.0.6.55", terminating=True)))

# the cluster DNS Service: a --resolver given its ClusterIP asks what pods ask (cluster scope)
put(W, "/api/v1/namespaces/kube-system/services/kube-dns", service("kube-system", "kube-dns", "127.0.0.10", ports=[
    {"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 53},
    {"name": "dns-tcp", "protocol": "TCP", "port": 53, "targetPort": 53}]))

# ---- overlays (copied over field-report) ------------------------------------------------------
# one ready CoreDNS pod, the sandbox's cluster DNS (the world x resolver matrix)
put("one-coredns", "/api/v1/namespaces/kube-system/pods", pod_list(dns_pod("coredns-5d78c9869d-a1b2c", "127.0.0.10")))

# workspace pods with spec.hostAliases: a stale pin of the external host (flagged), a pin to the
# truth and a pin of another name (both silent)
def with_aliases(pod, aliases):
    pod["spec"]["hostAliases"] = aliases
    return pod
put("host-aliases", "/api/v1/namespaces/coder-workspace/pods", pod_list(
    with_aliases(workspace_pod("coder-erin-dev", [{"name": "CODER_AGENT_TOKEN", "value": AGENT_TOKEN_1},
                                                 {"name": "CODER_AGENT_URL", "value": EXT.rstrip('/')}]),
                 [{"ip": "127.0.50.100", "hostnames": ["Coder.Example.Test", "registry.example.test"]}]),
    with_aliases(workspace_pod("coder-frank-dev", [{"name": "CODER_AGENT_TOKEN", "value": AGENT_TOKEN_2},
                                                  {"name": "CODER_AGENT_URL", "value": EXT.rstrip('/')}]),
                 [{"ip": "127.0.50.101", "hostnames": ["coder.example.test"]},
                  {"ip": "127.0.50.100", "hostnames": ["git.example.test"]}])))

put("headless", "/api/v1/namespaces/coder/services/coder", service("coder", "coder", "None"))
put("headless", "/apis/discovery.k8s.io/v1/namespaces/coder/endpointslices", {
    "kind": "EndpointSliceList", "apiVersion": "discovery.k8s.io/v1", "metadata": {"resourceVersion": "4242"},
    "items": [{"metadata": meta("coder", "coder-7xk2p", labels={"kubernetes.io/service-name": "coder"}),
               "addressType": "IPv4",
               "endpoints": [{"addresses": ["127.0.209.202"], "conditions": {"ready": True, "serving": True},
                              "targetRef": {"kind": "Pod", "namespace": "coder", "name": "coder-6c9f7d-abcde"}},
                             {"addresses": ["127.0.209.203"], "conditions": {"ready": False, "serving": False},
                              "targetRef": {"kind": "Pod", "namespace": "coder", "name": "coder-6c9f7d-fghij"}}],
               "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]})
put("lb-hostname", "/apis/networking.k8s.io/v1/ingresses", ingress_list(
    ingress("coder", "coder", "coder.example.test", [{"hostname": "lb.example.test"}])))
put("wildcard", "/apis/networking.k8s.io/v1/ingresses", ingress_list(
    ingress("ingress-nginx", "wildcard", "*.example.test", [{"ip": "127.0.50.101"}]),
    ingress("monitoring", "grafana", "grafana.example.test", [{"ip": "127.0.50.102"}])))
put("configmap-url", "/apis/apps/v1/namespaces/coder/deployments/coder",
    deployment("coder", "coder", {"name": "CODER_ACCESS_URL", "valueFrom": {"configMapKeyRef": {
        "name": "coder-config", "key": "access_url"}}}))
put("configmap-url", "/api/v1/namespaces/coder/configmaps/coder-config", {
    "kind": "ConfigMap", "apiVersion": "v1", "metadata": meta("coder", "coder-config"),
    "data": {"access_url": EXT.rstrip('/'), "other": "value"}})
put("lb-service", "/api/v1/namespaces/ingress-nginx/services/ingress-nginx-controller",
    service("ingress-nginx", "ingress-nginx-controller", "127.0.96.1", type_="LoadBalancer",
            lb=[{"ip": "127.0.50.101", "ipMode": "VIP"}],
            ports=[{"name": "https", "protocol": "TCP", "port": 443, "targetPort": "https", "nodePort": 31443}]))
