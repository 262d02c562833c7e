#!/usr/bin/env python3
"""The world x resolver-configuration matrix: every sandbox world diagnosed under every resolver
configuration a user may write, each cell asserting the exit status and exactly the set of error
codes. Driven by test_verdict_matrix.sh (which starts the sandbox and the fake API server and
exports their addresses). A cell that changes fails the test; the whole table is printed.

Why each cell holds is written at its world below. Shorthand: E = the external host
(coder.example.test, truth the ingress 127.0.50.101), I = the internal host (the Service,
truth 127.0.209.202). "truth" configurations pass --expect for both; "none" pass no truth.
"""
import json, os, subprocess, sys, time

env = os.environ
BIN, SANDBOX = env["CDD_BIN"], env["SANDBOX"]
MISSING = os.path.join(env["WORK"], "no-such-resolv.conf")
KUBE = env["KUBE_ARGS"].split()

def common():
    return ["diagnose", "--output", "json", "--ca-file", env["CA_FILE"], "--internal-url", env["INTERNAL_URL"],
            "--hosts-file", env["HOSTS_FILE"], "--nsswitch-conf", env["NSSWITCH_CONF"], "--timeout", "1s"]

def resolvers(*specs):
    out = []
    for spec in specs:
        out += ["--resolver", spec]
    return out

pod = ["--resolv-conf", env["RESOLV_CONF"]]
no_pod = ["--resolv-conf", MISSING]  # scope can only come from a declaration or the API
ext = ["--external-url", env["EXTERNAL_URL"]]
truth = ["--expect", f"coder.example.test={env['INGRESS_IP']}", "--expect", f"coder.coder.svc.cluster.local={env['CLUSTER_IP']}"]
up, pub, cdns = f"upstream={env['UPSTREAM_DNS']}", f"public={env['PUBLIC_DNS']}", f"coredns={env['CLUSTER_DNS']}"
CONFIGS = {
    # the pod's own resolution path only
    "system":          ext + pod + resolvers("cluster=system"),
    # the field report's view given by address: CoreDNS (a resolv.conf nameserver) + upstream + public
    "address":         ext + pod + resolvers(cdns, up, pub),
    # the same, CoreDNS declared cluster-scoped, no resolv.conf to infer from
    "declared":        ext + no_pod + resolvers(f"coredns=cluster:{env['CLUSTER_DNS']}", up, pub),
    # no resolver can know cluster names: I is asked of all, their NXDOMAIN is info
    "external-only":   ext + pod + resolvers(up, pub),
    # the pod's path next to LAN and public DNS
    "mixed":           ext + pod + resolvers("cluster=system", up, pub),
}
for name in list(CONFIGS):
    CONFIGS[name + "+truth"] = CONFIGS[name] + truth
# Kubernetes: truth and the external URL from the fake API (field-report cluster, one CoreDNS pod at
# the cluster DNS), the workspace audit on. CoreDNS once as its pods, once by address (cluster
# scope from the kube-dns Service's ClusterIP, with no resolv.conf to infer it from).
CONFIGS["kube-dns-pods"] = KUBE + no_pod + resolvers("coredns=kube-dns-pods", up, pub)
CONFIGS["kube-address"] = KUBE + no_pod + resolvers(cdns, up, pub)

ORDER = ["system", "system+truth", "address", "address+truth", "declared", "declared+truth",
         "external-only", "external-only+truth", "mixed", "mixed+truth", "kube-dns-pods", "kube-address"]
assert sorted(ORDER) == sorted(CONFIGS)

EXT, DIS, HFVD, DOWN = "EXTERNAL_DNS_MISMATCH", "RESOLVER_DISAGREEMENT", "HEALTHZ_FAILS_VIA_DNS", "HEALTHZ_DOWN"
DLF, AUE, HOSTS, HAIR = "DNS_LOOKUP_FAILED", "AGENT_URL_EXTERNAL", "HOSTS_FILE_OVERRIDE", "INGRESS_UNREACHABLE_IN_CLUSTER"
DM, SHADOW = "DEPLOYMENT_MISMATCH", "SEARCH_SHADOWING"
ATB, NOTC = "AGENT_TRANSPORT_BLOCKED", "NOT_CODERD"

def row(**cells):
    """cells: config -> set of error codes; `default` fills the rest. Exit 1 iff any error."""
    default = cells.pop("default", set())
    return {c: set(cells.get(c.replace("+", "_").replace("-", "_"), default)) for c in ORDER}

# Underscored keys stand for the configs: external_only_truth = "external-only+truth".
WORLDS = {
    # Everything right: exit 0 and no error under every configuration.
    "healthy": row(),
    # The field report: the upstream (and so CoreDNS) serves the stale 127.0.50.100, public is right.
    # Without truth: a single path (system) knows only the stale address, so E is down through every
    # path it knows; with several, the stale path fails where another works (DNS is the cause).
    # The audit: workspace pods dial E, broken inside, while I works -> AGENT_URL_EXTERNAL.
    "field-report": row(default={EXT, DIS, HFVD}, system={DOWN}, system_truth={EXT, HFVD},
                        address={HFVD}, declared={HFVD}, external_only={HFVD}, mixed={HFVD},
                        kube_dns_pods={EXT, DIS, HFVD, AUE}, kube_address={EXT, DIS, HFVD, AUE}),
    # CoreDNS has no record for I: a failure on every cluster-scoped resolver. With no
    # cluster-scoped resolver it cannot be seen (external resolvers' NXDOMAIN is info): exit 0.
    "internal-nxdomain": row(default={DLF}, external_only=set(), external_only_truth=set()),
    # Every nginx answers 503: down through every path (answered, so not hairpin).
    "coder-down": row(default={DOWN}),
    # A search-list suffix answers E's relative name: only the system resolver runs the search
    # list; its path to the shadow address fails while the absolute answer works.
    "shadowing": row(system={SHADOW, HFVD}, system_truth={SHADOW, HFVD}, mixed={SHADOW, HFVD},
                     mixed_truth={SHADOW, HFVD}),
    # The upstream adds AAAA ::1 for E (nothing listens there); public has no AAAA. The v6 path
    # fails where v4 works. Disagreement needs two opinions that differ (address configs).
    "aaaa-mismatch": row(default={EXT, DIS, HFVD}, system={HFVD}, system_truth={EXT, HFVD},
                         address={HFVD}, declared={HFVD}, external_only={HFVD}, mixed={HFVD},
                         kube_dns_pods={EXT, DIS, HFVD, AUE}, kube_address={EXT, DIS, HFVD, AUE}),
    # The ClusterIP reaches another deployment: seen wherever I is reached (by DNS or pinned).
    # external-only without truth never reaches I.
    "split-deployment": row(default={DM}, external_only=set()),
    # Hairpin: nothing answers at the ingress address from inside; I works. With truth (pinned
    # too) it is told apart; without it, E is down through every address known. The audit adds
    # AGENT_URL_EXTERNAL: agents dial E, which fails from inside.
    "hairpin": row(default={DOWN}, system_truth={HAIR}, address_truth={HAIR}, declared_truth={HAIR},
                   external_only_truth={HAIR}, mixed_truth={HAIR}, kube_dns_pods={HAIR, AUE},
                   kube_address={HAIR, AUE}),
    # DNS right everywhere; the pod's hosts file pins E to the stale address. Only system resolvers
    # read it (with truth: outside it; without: the pinned address fails while DNS's works).
    "hosts-override": row(system={HOSTS}, system_truth={HOSTS}, mixed={HOSTS}, mixed_truth={HOSTS}),
    # CoreDNS itself answers E with the stale address; upstream and public are right. external-only
    # does not look at the cluster path, so it sees nothing wrong.
    "coredns-override": row(default={EXT, DIS, HFVD}, system={DOWN}, system_truth={EXT, HFVD},
                            address={HFVD}, declared={HFVD}, external_only=set(), external_only_truth=set(),
                            mixed={HFVD}, kube_dns_pods={EXT, DIS, HFVD, AUE}, kube_address={EXT, DIS, HFVD, AUE}),
    # The ingress answers 502 while I works: reachable (not hairpin), down through every path.
    "ingress-502": row(default={DOWN}, kube_dns_pods={DOWN, AUE}, kube_address={DOWN, AUE}),
    # The ingress does not forward Upgrade: every path to E passes /healthz but no WebSocket gets
    # through, whatever the resolvers; I upgrades. AGENT_TRANSPORT_BLOCKED and nothing else.
    "no-upgrade": row(default={ATB}),
    # Only `Upgrade: DERP` is dropped: a warning (agents fall back to WebSockets), no error anywhere.
    "derp-upgrade-blocked": row(),
    # The ingress cuts idle connections after 3 s: without a hold nothing shows (diagnose --hold does).
    "short-idle": row(),
    # The field report's stale record, and another site answering 200 OK at the stale address.
    # Wherever a resolver gives that address it is NOT_CODERD (no truth needed). Its /healthz answers
    # (an HTML body, not OK) where E's truth works: DNS is the cause (HFVD) as in the field report;
    # system alone knows only the stale address, so E fails through every path it knows (DOWN).
    # external-only and public-only views still see the upstream's stale answer.
    "stale-site": row(default={EXT, DIS, HFVD, NOTC}, system={DOWN, NOTC}, system_truth={EXT, HFVD, NOTC},
                      address={HFVD, NOTC}, declared={HFVD, NOTC}, external_only={HFVD, NOTC}, mixed={HFVD, NOTC},
                      kube_dns_pods={EXT, DIS, HFVD, NOTC, AUE}, kube_address={EXT, DIS, HFVD, NOTC, AUE}),
}

def switch(world):
    subprocess.run(["bash", SANDBOX, "switch", world], check=True)

def diagnose(args):
    p = subprocess.run([BIN] + common() + args, capture_output=True, text=True, timeout=60)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        return p.returncode, None, p.stderr.strip()[:300]
    return p.returncode, report, p.stderr.strip()[:300]

only = sys.argv[1:]  # optional world names, for a developer's quick run
failures, lines = [], []
for world, expected in WORLDS.items():
    if only and world not in only:
        continue
    switch(world)
    for config in ORDER:
        status, report, stderr = diagnose(CONFIGS[config])
        want = expected[config]
        want_status = 1 if want else 0
        if report is None:
            failures.append(f"{world} x {config}: no JSON (exit {status}): {stderr}")
            continue
        errors = {f["code"] for f in report["findings"] if f["severity"] == "error"}
        problems = []
        if status != want_status:
            problems.append(f"exit {status}, expected {want_status}")
        if errors != want:
            problems.append(f"errors {sorted(errors)}, expected {sorted(want)}")
        # every dialled address is loopback, whatever the configuration
        dialled = [h["address"] for h in report["http"] + report["transport"]] + [s.rsplit(":", 1)[0].strip("[]") for d in report["dns"] for s in d["servers"]]
        if not all(a.startswith("127.") or a == "::1" for a in dialled):
            problems.append(f"a non-loopback address was dialled: {dialled}")
        if world == "healthy":
            warnings = {f["code"] for f in report["findings"] if f["severity"] == "warning"}
            if warnings:
                problems.append(f"warnings {sorted(warnings)} in the healthy world")
        # cluster-only names: asked only of cluster-scoped resolvers when there is one; without one,
        # what external resolvers say of them is out of scope (never an error, never a match)
        internal_rows = [d for d in report["dns"] if d["host"] == "coder.coder.svc.cluster.local"]
        asked_external = {d["resolver"] for d in internal_rows if d["resolver"] in ("upstream", "public")}
        if config.startswith("external-only"):
            if not asked_external or not all(d["outside_scope"] and d["match"] is None for d in internal_rows):
                problems.append("without a cluster resolver the internal host is asked of all, each answer out of scope")
        elif asked_external:
            problems.append(f"the internal host was asked of {sorted(asked_external)}")
        if "+truth" in config or config.startswith("kube"):
            # the scope each resolver was given, and why
            scopes = {r["label"].split("/")[0]: r["scope"] for r in report["resolvers"]}
            for label in ("upstream", "public"):
                if label in scopes and scopes[label] != "external":
                    problems.append(f"{label} has scope {scopes[label]}")
            for label in ("cluster", "coredns"):
                if label in scopes and scopes[label] != "cluster":
                    problems.append(f"{label} has scope {scopes[label]}")
        mark = "ok  " if not problems else "FAIL"
        lines.append(f"{mark} {world:18} {config:20} exit {status} {sorted(errors) or '-'}")
        if problems:
            failures.append(f"{world} x {config}: " + "; ".join(problems))

print("\n".join(lines))
cells = len(lines)
if failures:
    print(f"\n{len(failures)} of {cells} cells changed:", file=sys.stderr)
    print("\n".join("  " + f for f in failures), file=sys.stderr)
    sys.exit(1)
print(f"{cells} cells: every exit status and error-code set as expected")
