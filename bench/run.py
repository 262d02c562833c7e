#!/usr/bin/env python3
"""Benchmarks: coder-dns-doctor side by side with its peers, in one run, on the same loopback servers.

    bench/run.py [--build DIR] [--quick] [--out DIR]

Prints one table of ratios and writes the raw figures as JSON (bench/results/latest.json) and the
table as Markdown (bench/results/latest.md). Each comparison runs the peer and this project in the
same script against the same servers, because the machines are shared and noisy: ratios, not
absolute times, are the result. Wall times (hyperfine) are taken in interleaved rounds, each command
in turn, so that a drift in the machine's load reaches every side alike. Needs root (the sandbox binds port 53) and the bench packages
(scripts/install-deps.sh --bench). Traffic stays on 127.0.0.0/8.

Comparisons:
  person      diagnose vs the dig + curl sequence a person types for the same checks (wall time)
  blackbox    serve vs prometheus-blackbox-exporter doing the same probes (CPU per 10k probes; RSS,
              RssAnon, Pss and Private_Dirty after the same work), DNS-only and mixed (DNS + HTTP(S),
              each HTTPS probe verifying its certificate). A probe is one DNS question or one HTTP
              request: blackbox_exporter is given every question serve's cycle sends (glibc's
              search-list candidates too; counted from serve's sendto calls under strace).
              serve is measured as the developer build (Debian's shared libraries) and as the
              image's binary (coder-dns-doctor-image: static but for glibc)
  sidecar     `sidecar` idle at its defaults (60 s interval, a scrape every 15 s): CPU per hour (from
              the threads' schedstat run time), RSS,
              RssAnon, open descriptors; the series and bytes of one scrape with --metrics full and
              minimal, and what they come to for a fleet of 100 / 1,000 / 10,000 workspaces
  throughput  engine lookups/s vs dnsperf queries/s against one dnsmasq
  scaling     10 .. 10,000 hosts per cycle: time and RSS per lookup
  footprint   binary size, diagnose wall time on the healthy sandbox, serve idle RSS
  transport   diagnose with the transport checks (WebSocket, DERP, agent routes) vs without them,
              same run, same world (wall time; the target is < 2x)
  hostile     the listener under tests/load's hostile mix (256 idle connections, 64 slowloris
              clients, 32 scrapers in a loop) while a kubelet-style probe asks its health endpoint
              every 100 ms: serve (cycling every 100 ms) vs blackbox_exporter, and with
              --before BINARY an older serve too; p50/p99/max of the probe, scrapes/s, RSS

The person and blackbox comparisons run the checks their peers make (`--checks dns,http,kube`):
neither dig + curl nor blackbox_exporter speaks DERP. `--only transport|hostile|image|blackbox`
runs one section. The image's binary is <build>/src/coder-dns-doctor-image; when the build tree has
none, its static libraries are built (scripts/build-image-deps.sh --cached <build>/image-deps, the
cache scripts/test.sh uses too) and the tree is configured with CDD_IMAGE_DEPS to link it.
"""
import argparse
import contextlib
import datetime
import fcntl
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SANDBOX = os.path.join(REPO, "tests", "sandbox", "sandbox.sh")
BENCH_DNS = "127.0.9.53"  # a dnsmasq of the benchmark's own, wildcard *.bench.test
TICKS = os.sysconf("SC_CLK_TCK")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def run_seconds(pid):
    """CPU time of `pid`'s live threads in nanosecond resolution (schedstat), for the idle sidecar
    whose few milliseconds a minute the 10 ms clock ticks of /proc/PID/stat would round away."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{task}/schedstat").read().split()[0])
        except OSError:
            pass  # the thread ended
    return total / 1e9


def rss_kb(pid, field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def memory_kb(pid):
    """RSS and its private parts: VmRSS, VmHWM, RssAnon (status) and Pss, Private_Dirty (smaps_rollup)."""
    out = {"rss_kb": rss_kb(pid), "hwm_kb": rss_kb(pid, "VmHWM"), "rss_anon_kb": rss_kb(pid, "RssAnon")}
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            name, _, rest = line.partition(":")
            if name in ("Pss", "Private_Dirty"):
                out[name.lower() + "_kb"] = int(rest.split()[0])
    except OSError:
        pass
    return out


def version_of(cmd):
    try:
        done = subprocess.run(cmd, text=True, capture_output=True)
        return (done.stdout.strip() or done.stderr.strip()).splitlines()[0]  # dig -v prints on stderr
    except (OSError, IndexError):
        return "unknown"


def wait_http(url, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


class Sandbox:
    """The tests' loopback world (taking the same machine-wide lock as the tests)."""

    def __init__(self, state_dir):
        self.env = dict(os.environ, CDD_SANDBOX_DIR=state_dir)
        self.state_dir = state_dir
        self.lock = open(os.path.join(tempfile.gettempdir(), "coder-dns-doctor-sandbox.lock"), "w")

    def __enter__(self):
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        subprocess.run(["bash", SANDBOX, "stop"], env=self.env, capture_output=True)
        run(["bash", SANDBOX, "start", "healthy"], env=self.env)
        self.vars = {}
        for line in open(os.path.join(self.state_dir, "env")):
            if line.startswith("export "):
                key, _, value = line[7:].strip().partition("=")
                self.vars[key] = value.strip("'\"")
        return self

    def __exit__(self, *exc):
        subprocess.run(["bash", SANDBOX, "stop"], env=self.env, capture_output=True)
        fcntl.flock(self.lock, fcntl.LOCK_UN)


PEER_CHECKS = ["--checks", "dns,http,kube"]  # what dig + curl and blackbox_exporter can do too


def probe_args(v):
    return ["--external-url", v["EXTERNAL_URL"], "--internal-url", v["INTERNAL_URL"], "--ca-file", v["CA_FILE"],
            "--resolv-conf", v["RESOLV_CONF"], "--resolver", "cluster=system",
            "--resolver", f"upstream={v['UPSTREAM_DNS']}", "--resolver", f"public={v['PUBLIC_DNS']}",
            "--expect", f"coder.example.test={v['INGRESS_IP']}",
            "--expect", f"coder.coder.svc.cluster.local={v['CLUSTER_IP']}", "--family", "4"]


def person_script(v, report):
    """The dig + curl sequence for exactly the checks one diagnose run made."""
    lines = ["set -e"]
    servers = {"cluster": v["CLUSTER_DNS"], "upstream": v["UPSTREAM_DNS"], "public": v["PUBLIC_DNS"]}
    for d in report["dns"]:
        server = servers[d["resolver"]]
        lines.append(f"dig +time=2 +tries=1 @{server} {d['name']} {d['family']} >/dev/null")
    for h in report["http"]:
        host_port = h["url"].split("/")[2]
        host, port = host_port.rsplit(":", 1)
        lines.append(f"curl -s -o /dev/null --max-time 2 --cacert {v['CA_FILE']} "
                     f"--resolve {host}:{port}:{h['address']} {h['url']} || true")
    return "\n".join(lines) + "\n"


def hyperfine(commands, runs, workdir, rounds=5):
    """The median wall time of each command over `runs` runs, taken in `rounds` interleaved rounds
    (each command's share of the runs in turn, round after round): on a shared machine the load
    drifts, and commands timed one after the other would see different machines."""
    out = os.path.join(workdir, "hyperfine.json")
    rounds = max(1, min(rounds, runs // 2))
    times = [[] for _ in commands]
    for index in range(rounds):
        share = runs // rounds + (1 if index < runs % rounds else 0)
        run(["hyperfine", "--shell=bash", "--warmup", "1", "--runs", str(share), "--export-json", out] + list(commands))
        for sample, result in zip(times, json.load(open(out))["results"]):
            sample.extend(result["times"])
    return [statistics.median(sample) for sample in times]


def bench_person(binary, sandbox, runs, workdir, image_binary=None):
    """diagnose vs the dig + curl script for its checks; with `image_binary` the image's binary's
    diagnose too, in the same hyperfine run."""
    v = sandbox.vars
    args = probe_args(v)
    args = args + PEER_CHECKS
    report = json.loads(subprocess.run([binary, "diagnose", "--output", "json"] + args, text=True,
                                       capture_output=True).stdout)
    script = os.path.join(workdir, "person.sh")
    open(script, "w").write(person_script(v, report))
    quoted = " ".join(f"'{a}'" for a in [binary, "diagnose", "--output", "json"] + args)
    commands = [f"{quoted} >/dev/null", f"bash {script}"]
    if image_binary:
        commands.append(" ".join(f"'{a}'" for a in [image_binary, "diagnose", "--output", "json"] + args) + " >/dev/null")
    medians = hyperfine(commands, runs, workdir)
    tool, person = medians[0], medians[1]
    out = {"diagnose_median_s": tool, "dig_curl_median_s": person, "dig_calls": len(report["dns"]),
           "curl_calls": len(report["http"]), "ratio": person / tool}
    if image_binary:
        out.update({"image_diagnose_median_s": medians[2], "image_ratio": person / medians[2]})
    return out


def scrape_probe(port, module, target):
    url = f"http://127.0.0.1:{port}/probe?module={module}&target={urllib.parse.quote(target, safe='')}"
    body = urllib.request.urlopen(url, timeout=5).read().decode()
    return "probe_success 1" in body


def start_blackbox(config, port):
    """prometheus-blackbox-exporter with `config`, listening on 127.0.0.1:`port`."""
    return subprocess.Popen(["prometheus-blackbox-exporter", f"--config.file={config}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def read_resolv_conf(path):
    """(search list, ndots) of a resolv.conf, as glibc reads them (the last line of each kind wins)."""
    search, ndots = [], 1
    for line in open(path):
        words = line.split()
        if words and words[0] == "search":
            search = words[1:]
        elif words and words[0] == "options":
            for option in words[1:]:
                if option.startswith("ndots:"):
                    ndots = min(int(option[6:]), 15)
    return search, ndots


def glibc_questions(name, search, ndots, answered):
    """The names glibc asks, in order, for `name` with this search list, stopping at the first that
    `answered` says has an answer (a name with at least `ndots` dots is asked as it is first)."""
    bare = [name] if name.count(".") >= ndots else []
    candidates = bare + [f"{name}.{domain}" for domain in search] + ([] if bare else [name])
    asked = []
    for candidate in candidates:
        asked.append(candidate)
        if answered(candidate):
            break
    return asked


def serve_questions(v):
    """Every DNS question one `serve --checks dns` cycle of `probe_args` sends, as (server, name):
    the cluster resolver asks each host once as given (absolute) and once the way glibc does; the
    outside resolvers ask the external host as given. An oracle independent of the engine's code,
    checked against serve's own sendto count (`count_serve_questions`)."""
    search, ndots = read_resolv_conf(v["RESOLV_CONF"])
    hosts = ("coder.example.test", "coder.coder.svc.cluster.local")
    answered = lambda candidate: candidate in hosts
    questions = []
    for host in hosts:
        questions.append((v["CLUSTER_DNS"], host))
        questions += [(v["CLUSTER_DNS"], q) for q in glibc_questions(host, search, ndots, answered)]
    for server in (v["UPSTREAM_DNS"], v["PUBLIC_DNS"]):
        questions.append((server, "coder.example.test"))
    return questions


def count_serve_questions(pid, listen, seconds=2.0):
    """DNS questions per cycle that the running serve `pid` sends, counted with strace (its UDP
    sendto calls; no scrape is answered while it counts), or None without strace."""
    if not shutil.which("strace"):
        return None
    handle, trace = tempfile.mkstemp(prefix="cdd-bench-strace-")
    os.close(handle)
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=sendto", "-e", "signal=none", "-p", str(pid),
                               "-o", trace], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # attached
    first = cycles_done(listen)
    time.sleep(seconds)
    cycles = cycles_done(listen) - first
    tracer.send_signal(signal.SIGINT)
    tracer.wait()
    lines = [line for line in open(trace).read().splitlines() if "sendto(" in line]
    os.unlink(trace)
    # The two scrapes' answers (they start with "HTTP/") bound the cycles counted; between them
    # only the prober sends.
    marks = [i for i, line in enumerate(lines) if '"HTTP/' in line]
    if len(marks) < 2:
        raise RuntimeError("strace saw fewer than the two scrapes it was to count between")
    questions = sum(1 for line in lines[marks[0] + 1:marks[-1]] if '"HTTP/' not in line)
    return round(questions / max(cycles, 1))


def blackbox_targets(v, questions, dns_only):
    """blackbox_exporter's modules and (module, target) list: the same DNS questions to the same
    servers, the same /healthz URLs (by address, with the TLS server name set: blackbox would
    otherwise resolve the name itself)."""
    modules = {}
    targets = []
    for index, (server, name) in enumerate(questions):
        module = f"dns_{index}"
        modules[module] = {"prober": "dns", "timeout": "2s", "dns": {
            "query_name": name, "query_type": "A", "transport_protocol": "udp",
            "preferred_ip_protocol": "ip4", "ip_protocol_fallback": False,
            "valid_rcodes": ["NOERROR", "NXDOMAIN"]}}
        targets.append((module, f"{server}:53"))
    modules["https"] = {"prober": "http", "timeout": "2s", "http": {
        "preferred_ip_protocol": "ip4", "ip_protocol_fallback": False,
        "tls_config": {"ca_file": v["CA_FILE"], "server_name": "coder.example.test"}}}
    modules["http"] = {"prober": "http", "timeout": "2s", "http": {
        "preferred_ip_protocol": "ip4", "ip_protocol_fallback": False,
        "headers": {"Host": "coder.coder.svc.cluster.local:18080"}}}
    for path in (() if dns_only else ("/healthz", "/api/v2/buildinfo")):
        targets.append(("https", f"https://{v['INGRESS_IP']}:18443{path}"))
        targets.append(("https", f"https://{v['INGRESS_IP']}:18443{path}"))  # dns + pinned paths
        targets.append(("http", f"http://{v['CLUSTER_IP']}:18080{path}"))
        targets.append(("http", f"http://{v['CLUSTER_IP']}:18080{path}"))
    return {"modules": modules}, targets


def measure_blackbox(v, questions, probes, workdir, dns_only):
    config = os.path.join(workdir, "blackbox.yml")
    modules, targets = blackbox_targets(v, questions, dns_only)
    json.dump(modules, open(config, "w"))  # JSON is YAML
    port = 19115
    exporter = start_blackbox(config, port)
    try:
        wait_http(f"http://127.0.0.1:{port}/metrics")
        for module, target in targets:  # warm up, and check the setup probes successfully
            if not scrape_probe(port, module, target):
                raise RuntimeError(f"blackbox probe {module} {target} fails: the comparison would be unfair")
        cpu0, done, started = cpu_seconds(exporter.pid), 0, time.time()
        while done < probes:
            module, target = targets[done % len(targets)]
            scrape_probe(port, module, target)
            done += 1
        return {"probes": done, "probes_per_round": len(targets), "cpu_s": cpu_seconds(exporter.pid) - cpu0,
                "wall_s": time.time() - started, **memory_kb(exporter.pid)}
    finally:
        exporter.send_signal(signal.SIGTERM)
        exporter.wait()


@contextlib.contextmanager
def running_serve(binary, listen, args):
    """serve listening on `listen` with `args`, ready (its /readyz answered); SIGTERM on exit."""
    serve = subprocess.Popen([binary, "serve", "--listen", listen, "--log-level", "warn"] + args,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        try:
            wait_http(f"http://{listen}/readyz")
        except RuntimeError:
            serve.kill()
            raise RuntimeError("serve did not become ready: " + serve.communicate()[1][-500:])
        yield serve
    finally:
        if serve.poll() is None:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=5)


# Every 100 ms: loopback answers in well under the 100 ms timeout an interval that short requires.
FAST_CYCLE = ["--interval", "100ms", "--jitter", "0", "--timeout", "100ms"]


def measure_serve(binary, v, questions, probes, dns_only):
    """serve making the same checks as one cycle, every 100 ms, until it has made as many probes."""
    listen = "127.0.0.1:19816"
    checks = ["--checks", "dns"] if dns_only else PEER_CHECKS
    with running_serve(binary, listen, FAST_CYCLE + probe_args(v) + checks) as serve:
        report = json.loads(urllib.request.urlopen(f"http://{listen}/report").read())
        per_cycle = len(questions) + len(report["http"])
        if report["verdict"] != "healthy":
            raise RuntimeError("serve's cycle is not healthy: the comparison would be unfair")
        measured = count_serve_questions(serve.pid, listen) if dns_only else None
        if measured is not None and measured != len(questions):
            raise RuntimeError(f"serve asks {measured} DNS questions per cycle, blackbox_exporter is given "
                               f"{len(questions)}: the comparison would be unfair")
        cycles = max(1, probes // per_cycle)
        # One /metrics scrape per cycle, as a Prometheus scraping at the cycle's interval makes: the
        # scrapes are in serve's CPU as blackbox_exporter's are in its own (a probe is a scrape).
        cpu0, started, first = cpu_seconds(serve.pid), time.time(), cycles_done(listen)
        scrapes = 1
        while cycles_done(listen) - first < cycles:
            scrapes += 1
            time.sleep(0.1)
        elapsed = time.time() - started
        cycles = cycles_done(listen) - first
        return {"probes": cycles * per_cycle, "probes_per_cycle": per_cycle, "questions_per_cycle": len(questions),
                "questions_counted_per_cycle": measured,
                "observations": cycles * (len(report["dns"]) + len(report["http"])), "scrapes": scrapes,
                "cpu_s": cpu_seconds(serve.pid) - cpu0, "wall_s": elapsed, **memory_kb(serve.pid)}


def compare_with_blackbox(bb, sv):
    per10k = lambda m: m["cpu_s"] / m["probes"] * 10000
    ratio = lambda key: bb.get(key, 0) / max(sv.get(key, 0), 1)
    return {"serve": sv, "serve_cpu_per_10k_probes_s": per10k(sv), "cpu_ratio": per10k(bb) / max(per10k(sv), 1e-9),
            "serve_cpu_per_10k_observations_s": sv["cpu_s"] / max(sv["observations"], 1) * 10000,
            "rss_ratio": ratio("rss_kb"), "rss_anon_ratio": ratio("rss_anon_kb"),
            "private_dirty_ratio": ratio("private_dirty_kb"), "pss_ratio": ratio("pss_kb")}


def bench_blackbox(binary, sandbox, probes, workdir, dns_only=False, image_binary=None):
    """serve and blackbox_exporter making the same probes; DNS-only: the DNS questions alone.

    A probe is one DNS question or one HTTP request on both sides: blackbox_exporter is given every
    question serve's cycle sends (the search-list candidates the cluster resolver asks as glibc
    would are questions too, answered NXDOMAIN), so both do the same work per round. With
    `image_binary`, serve is measured a second time as the image's binary ("image")."""
    v = sandbox.vars
    questions = serve_questions(v)
    bb = measure_blackbox(v, questions, probes, workdir, dns_only)
    out = {"blackbox": bb, "blackbox_cpu_per_10k_probes_s": bb["cpu_s"] / bb["probes"] * 10000,
           **compare_with_blackbox(bb, measure_serve(binary, v, questions, probes, dns_only))}
    if image_binary:
        out["image"] = compare_with_blackbox(bb, measure_serve(image_binary, v, questions, probes, dns_only))
    return out


def scrape(listen):
    """(series, bytes) of one /metrics answer."""
    body = urllib.request.urlopen(f"http://{listen}/metrics", timeout=5).read()
    series = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
    return series, len(body)


def sidecar_idle(proc, listen, seconds):
    """CPU, memory and descriptors of a running sidecar left idle for `seconds`, scraped every 15 s."""
    cpu0, started = run_seconds(proc.pid), time.time()
    while time.time() - started < seconds:
        time.sleep(min(15, seconds - (time.time() - started)))
        scrape(listen)
    elapsed = time.time() - started
    cpu = run_seconds(proc.pid) - cpu0
    return {"idle_seconds": elapsed, "cpu_s": cpu, "cpu_s_per_hour": cpu / elapsed * 3600,
            "fds": len(os.listdir(f"/proc/{proc.pid}/fd")), **memory_kb(proc.pid)}


def bench_sidecar(binary, sandbox, seconds, image_binary=None):
    """`sidecar` at its defaults, idle for `seconds` with a Prometheus-like scrape every 15 s; with
    `image_binary` the default set is measured as the image's binary too ("image")."""
    v = sandbox.vars
    args = ["--agent-url", v["INTERNAL_URL"], "--internal-url", v["INTERNAL_URL"], "--ca-file", v["CA_FILE"],
            "--resolv-conf", v["RESOLV_CONF"], "--hosts-file", v["HOSTS_FILE"], "--nsswitch-conf", v["NSSWITCH_CONF"]]
    out = {}
    runs = [("minimal", "minimal", binary), ("full", "full", binary)]
    if image_binary:
        runs.append(("image", "minimal", image_binary))
    for name, metrics, path in runs:
        listen = "127.0.0.1:19818"
        proc = subprocess.Popen([path, "sidecar", "--listen", listen, "--metrics", metrics, "--log-level", "warn"]
                                + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_http(f"http://{listen}/readyz", 20)
            series, size = scrape(listen)
            out[name] = {"series": series, "scrape_bytes": size}
            if metrics == "minimal":  # the default a fleet runs: its idle cost
                out[name].update(sidecar_idle(proc, listen, seconds))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=5)
    return out


def cycles_done(listen):
    for line in urllib.request.urlopen(f"http://{listen}/metrics", timeout=5).read().decode().splitlines():
        if line.startswith("coder_dns_doctor_cycles_total"):
            return int(float(line.split()[-1]))
    raise RuntimeError("serve exports no coder_dns_doctor_cycles_total")


def start_bench_dns():
    proc = subprocess.Popen(["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                             "--bind-interfaces", f"--listen-address={BENCH_DNS}", "--port=53",
                             "--address=/bench.test/127.0.9.9", "--address=/bench.test/::1", "--local-ttl=30",
                             "--log-facility=/dev/null"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return proc


def engine(build, hosts, family="4", cycles=1):
    out = run([os.path.join(build, "bench", "cdd_bench_engine"), "--server", BENCH_DNS, "--hosts", str(hosts),
               "--family", family, "--cycles", str(cycles)]).stdout
    return json.loads(out)


def bench_throughput(build, hosts, workdir):
    queries = os.path.join(workdir, "queries.txt")
    with open(queries, "w") as f:
        for i in range(hosts):
            f.write(f"h{i}.bench.test A\n")
    perf = run(["dnsperf", "-s", BENCH_DNS, "-d", queries, "-l", "5", "-c", "1", "-T", "1"]).stdout
    qps = float([l for l in perf.splitlines() if "Queries per second" in l][0].split()[-1])
    ours = [engine(build, hosts, cycles=3)["lookups_per_second"] for _ in range(3)]
    return {"dnsperf_qps": qps, "engine_lookups_per_s": statistics.median(ours), "ratio": statistics.median(ours) / qps}


def bench_scaling(build):
    rows = []
    for hosts in (10, 100, 1000, 10000):
        m = engine(build, hosts)
        rows.append({"hosts": hosts, "lookups": m["lookups"], "statuses": m["statuses"],
                     "us_per_lookup": m["wall_seconds"] / m["lookups"] * 1e6,
                     "cpu_us_per_lookup": m["cpu_seconds"] / m["lookups"] * 1e6,
                     "rss_kb_per_lookup": (m["hwm_kb"] - m["rss_before_kb"]) / m["lookups"]})
    return rows


def bench_footprint(binary, sandbox, workdir):
    v = sandbox.vars
    quoted = " ".join(f"'{a}'" for a in [binary, "diagnose", "--output", "json"] + probe_args(v))
    wall = hyperfine([f"{quoted} >/dev/null"], 20, workdir)[0]
    with running_serve(binary, "127.0.0.1:19817", ["--interval", "30s"] + probe_args(v)) as serve:
        time.sleep(1)
        idle = rss_kb(serve.pid)
    return {"binary_bytes": os.path.getsize(binary), "binary_stripped_bytes": stripped_bytes(binary, workdir),
            "diagnose_wall_s": wall, "serve_idle_rss_kb": idle}


def stripped_bytes(binary, workdir):
    """The size of `binary` stripped as the Dockerfile strips it."""
    stripped = os.path.join(workdir, "stripped")
    run(["strip", "--strip-unneeded", "-o", stripped, binary])
    return os.path.getsize(stripped)


def build_image_binary(build):
    """The image's binary in `build` (coder-dns-doctor-image), linked first if the tree has none:
    the static libraries of scripts/build-image-deps.sh --cached (one build per build tree, shared
    with scripts/test.sh) and the tree configured with CDD_IMAGE_DEPS."""
    binary = os.path.join(build, "src", "coder-dns-doctor-image")
    if not os.path.exists(binary):
        deps = os.path.join(build, "image-deps")
        run(["bash", os.path.join(REPO, "scripts", "build-image-deps.sh"), "--cached", deps])
        run(["cmake", "-S", REPO, "-B", build, f"-DCDD_IMAGE_DEPS={deps}"])
        run(["cmake", "--build", build, "-j2", "--target", "coder-dns-doctor-image"])
    return binary


def bench_image_binary(binary, sandbox, runs, workdir, image_binary):
    """The developer build (Debian's shared libraries, libcurl4's tree) beside the image's binary
    (static but for glibc): libraries loaded, start-up and diagnose wall, serve's memory."""
    v = sandbox.vars
    out = {}
    builds = (("developer", binary), ("image", image_binary))
    commands = []
    for _, path in builds:
        commands += [f"'{path}' version >/dev/null",
                     " ".join(f"'{a}'" for a in [path, "diagnose"] + probe_args(v) + PEER_CHECKS) + " >/dev/null"]
    medians = hyperfine(commands, runs, workdir)
    for index, (name, path) in enumerate(builds):
        libraries = len(run(["ldd", path]).stdout.splitlines())
        with running_serve(path, "127.0.0.1:19820", FAST_CYCLE + probe_args(v) + PEER_CHECKS) as serve:
            time.sleep(10)  # ~100 cycles of DNS, HTTPS and the scrape-free loop
            memory = memory_kb(serve.pid)
        out[name] = {"libraries": libraries, "version_s": medians[2 * index], "diagnose_s": medians[2 * index + 1],
                     "stripped_bytes": stripped_bytes(path, workdir), **memory}
    return out


def bench_transport(binary, sandbox, runs, workdir):
    """diagnose with and without the transport checks, in one hyperfine run on the healthy world."""
    args = probe_args(sandbox.vars)
    report = json.loads(subprocess.run([binary, "diagnose", "--output", "json"] + args, text=True,
                                       capture_output=True).stdout)
    if not report["transport"] or not all(t["ok"] for t in report["transport"]):
        raise SystemExit("bench: the transport checks do not pass on the healthy sandbox")
    base = " ".join(f"'{a}'" for a in [binary, "diagnose", "--output", "json"] + args)
    without, with_transport = hyperfine([f"{base} {' '.join(PEER_CHECKS)} >/dev/null", f"{base} >/dev/null"],
                                        runs, workdir)
    return {"without_s": without, "with_s": with_transport, "checks": len(report["transport"]),
            "ratio": with_transport / without}


def run_hostile_mix(pid, port, probe_path, seconds):
    """The mix against 127.0.0.1:`port`; the figures plus the process's RSS before, at the end of
    the mix and its peak, and its CPU seconds during the mix."""
    sys.path.insert(0, os.path.join(REPO, "tests", "load"))
    import hostile_mix  # noqa: E402 (the load suite's own client mix)
    time.sleep(1.0)
    before, cpu0 = rss_kb(pid), cpu_seconds(pid)
    figures = hostile_mix.run_mix("127.0.0.1", port, seconds, probe_path=probe_path)
    figures.pop("latencies_ms")
    figures["probes_failed"] = len(figures["probes_failed"])
    figures.update(rss_before_kb=before, rss_end_kb=rss_kb(pid), hwm_kb=rss_kb(pid, "VmHWM"),
                   cpu_s=cpu_seconds(pid) - cpu0)
    return figures


def bench_hostile(binary, before_binary, sandbox, seconds):
    results = {}
    serves = [("serve", binary)] + ([("serve_before", before_binary)] if before_binary else [])
    for name, path in serves:
        port = 19818
        serve = subprocess.Popen([path, "serve", "--listen", f"127.0.0.1:{port}", "--interval", "100ms", "--jitter",
                                  "0", "--timeout", "100ms", "--log-level", "warn"] + probe_args(sandbox.vars),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_http(f"http://127.0.0.1:{port}/readyz")
            cycles0 = cycles_done(f"127.0.0.1:{port}")
            results[name] = run_hostile_mix(serve.pid, port, "/healthz", seconds)
            try:
                results[name]["cycles"] = cycles_done(f"127.0.0.1:{port}") - cycles0
            except OSError:
                results[name]["cycles"] = None  # the listener still starved
        finally:
            started = time.time()
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=15)
            results[name]["sigterm_s"] = time.time() - started
    config = os.path.join(sandbox.state_dir, "blackbox-hostile.yml")
    json.dump({"modules": {"dns": {"prober": "dns", "dns": {"query_name": "coder.example.test"}}}}, open(config, "w"))
    port = 19116
    exporter = start_blackbox(config, port)
    try:
        wait_http(f"http://127.0.0.1:{port}/-/healthy")
        results["blackbox"] = run_hostile_mix(exporter.pid, port, "/-/healthy", seconds)
    finally:
        exporter.send_signal(signal.SIGTERM)
        exporter.wait()
    return results


def hostile_markdown(h):
    rows = [("coder-dns-doctor serve", h["serve"]), ("prometheus-blackbox-exporter", h["blackbox"])]
    if "serve_before" in h:
        rows.append(("serve before (civetweb, 2 workers)", h["serve_before"]))
    lines = ["| under the hostile mix | health p50 | p99 | max | answered | scrapes/s | RSS before -> peak |",
             "|---|---|---|---|---|---|---|"]
    for name, r in rows:
        ms = lambda v: "-" if v is None else f"{v:.1f} ms"
        lines.append(f"| {name} | {ms(r['healthz_p50_ms'])} | {ms(r['healthz_p99_ms'])} | {ms(r['healthz_max_ms'])} | "
                     f"{r['probes_answered']}/{r['probes']} | {r['scrapes_per_s']:,.0f} | "
                     f"{r['rss_before_kb']/1024:.1f} -> {r['hwm_kb']/1024:.1f} MiB |")
    return "\n".join(lines) + "\n"


def blackbox_rows(b, d):
    """Table rows of the blackbox_exporter comparison (mixed `b`, DNS-only `d`), for serve on
    the developer build and, where measured, as the image's binary."""
    builds = [("", b, d)] + ([(" (image's binary)", b["image"], d["image"])] if "image" in b and "image" in d else [])
    bb, dbb = b["blackbox"], d["blackbox"]
    rows = []
    for label, mixed, dns in builds:
        sv = mixed["serve"]
        rows += [
            f"| serve{label} vs blackbox_exporter, DNS only, CPU per 10,000 DNS questions (the same "
            f"{dns['serve']['questions_per_cycle']} per round on both sides) | {dns['serve_cpu_per_10k_probes_s']:.3f} s | "
            f"{d['blackbox_cpu_per_10k_probes_s']:.3f} s | {dns['cpu_ratio']:.1f}x less | >= 20x |",
            f"| serve{label} vs blackbox_exporter, DNS + HTTP(S) (certificates verified), CPU per 10,000 probes | "
            f"{mixed['serve_cpu_per_10k_probes_s']:.3f} s | {b['blackbox_cpu_per_10k_probes_s']:.3f} s | "
            f"{mixed['cpu_ratio']:.1f}x less | >= 5x |",
            f"| serve{label} vs blackbox_exporter, private memory (RssAnon) after the same work | "
            f"{sv['rss_anon_kb']/1024:.1f} MiB | {bb['rss_anon_kb']/1024:.1f} MiB | {mixed['rss_anon_ratio']:.1f}x less "
            f"({dns['rss_anon_ratio']:.1f}x DNS only) | >= 4x |",
            f"| serve{label} vs blackbox_exporter, Pss after the same work | {sv.get('pss_kb', 0)/1024:.1f} MiB | "
            f"{bb.get('pss_kb', 0)/1024:.1f} MiB | {mixed['pss_ratio']:.1f}x less | - |",
            f"| serve{label} vs blackbox_exporter, RSS after the same work | {sv['rss_kb']/1024:.1f} MiB | "
            f"{bb['rss_kb']/1024:.1f} MiB | {mixed['rss_ratio']:.1f}x less | >= 2x |"]
    return rows


def markdown(results):
    if "blackbox" in results and "person" not in results:  # --only blackbox
        return "\n".join(["| comparison | coder-dns-doctor | peer | ratio | target |", "|---|---|---|---|---|",
                          *blackbox_rows(results["blackbox"], results["blackbox_dns"])]) + "\n"
    if "hostile" in results and "person" not in results:
        return f"Run {results['date']}, {results['hostile_seconds']:.0f} s of the mix each:\n\n" + hostile_markdown(results["hostile"])
    if "person" not in results:  # --only transport
        x = results["transport"]
        return (f"Run {results['date']}: diagnose with {x['checks']} transport checks {x['with_s']*1000:.1f} ms, "
                f"without {x['without_s']*1000:.1f} ms (median wall): {x['ratio']:.2f}x (target < 2x)\n")
    p, b, t, f = results["person"], results["blackbox"], results["throughput"], results["footprint"]
    d = results["blackbox_dns"]
    m = results["machine"]
    lines = [f"Run {results['date']} on {m['cores']} cores ({m['cpu']}); peers: {', '.join(m['peers'].values())}.", "",
             "| comparison | coder-dns-doctor | peer | ratio | target |", "|---|---|---|---|---|",
             f"| diagnose vs dig + curl ({p['dig_calls']} digs, {p['curl_calls']} curls), median wall | "
             f"{p['diagnose_median_s']*1000:.1f} ms | {p['dig_curl_median_s']*1000:.1f} ms | {p['ratio']:.1f}x faster | >= 20x |",
             *([f"| the same, the image's binary | {p['image_diagnose_median_s']*1000:.1f} ms | "
                f"{p['dig_curl_median_s']*1000:.1f} ms | {p['image_ratio']:.1f}x faster | >= 20x |"] if "image_ratio" in p else []),
             *blackbox_rows(b, d),
             f"| engine lookups/s vs dnsperf queries/s, one dnsmasq | {t['engine_lookups_per_s']:,.0f} | "
             f"{t['dnsperf_qps']:,.0f} | {t['ratio']:.2f} | >= 1.0 |",
             f"| diagnose with the transport checks ({results['transport']['checks']}) vs without, median wall | "
             f"{results['transport']['with_s']*1000:.1f} ms | {results['transport']['without_s']*1000:.1f} ms | "
             f"{results['transport']['ratio']:.2f}x | < 2x |", "",
             "| hosts per cycle | lookups | wall us/lookup | CPU us/lookup | RSS KiB/lookup |", "|---|---|---|---|---|"]
    for row in results["scaling"]:
        lines.append(f"| {row['hosts']:,} | {row['lookups']:,} | {row['us_per_lookup']:.1f} | "
                     f"{row['cpu_us_per_lookup']:.1f} | {row['rss_kb_per_lookup']:.2f} |")
    lines += ["", f"Binary {f['binary_bytes']/1e6:.1f} MB ({f['binary_stripped_bytes']/1e6:.1f} MB stripped); "
                  f"diagnose on the healthy sandbox {f['diagnose_wall_s']*1000:.1f} ms wall (median of 20); "
                  f"serve idle RSS {f['serve_idle_rss_kb']/1024:.1f} MiB."]
    if "sidecar" in results:
        lines += ["", sidecar_markdown(results["sidecar"]).rstrip("\n")]
    if "hostile" in results:
        lines += ["", hostile_markdown(results["hostile"]).rstrip("\n")]
    if "image_build" in results:
        lines += ["", image_build_markdown(results["image_build"]).rstrip("\n")]
    return "\n".join(lines) + "\n"


def image_build_markdown(ib):
    rows = ["| build | libraries loaded | binary, stripped | `version` wall | `diagnose` wall | serve RSS | "
            "RssAnon | Pss |", "|---|---|---|---|---|---|---|---|"]
    for name, label in (("developer", "developer (Debian's shared libraries)"), ("image", "the image's binary")):
        m = ib[name]
        rows.append(f"| {label} | {m['libraries']} | {m['stripped_bytes'] / 1e6:.1f} MB | {m['version_s'] * 1000:.1f} ms | "
                    f"{m['diagnose_s'] * 1000:.1f} ms | {m['rss_kb'] / 1024:.1f} MiB | {m['rss_anon_kb'] / 1024:.1f} MiB | "
                    f"{m['pss_kb'] / 1024:.1f} MiB |")
    return "\n".join(rows) + "\n"


def sidecar_markdown(sc):
    idle, full = sc["minimal"], sc["full"]
    lines = [f"sidecar idle at its defaults (60 s interval, --metrics minimal, a scrape every 15 s, "
             f"{idle['idle_seconds']:.0f} s measured): {idle['cpu_s_per_hour']:.2f} CPU-seconds per hour, "
             f"RSS {idle['rss_kb']/1024:.1f} MiB (RssAnon {idle['rss_anon_kb']/1024:.1f} MiB), "
             f"{idle['fds']} open descriptors."
             + (f" The image's binary: {sc['image']['cpu_s_per_hour']:.2f} CPU-seconds per hour, RSS "
                f"{sc['image']['rss_kb']/1024:.1f} MiB (RssAnon {sc['image']['rss_anon_kb']/1024:.1f} MiB)."
                if "image" in sc else ""), "",
             "| fleet (one sidecar per workspace) | series, minimal | series, full | bytes per scrape round, minimal | "
             "bytes, full | sidecar CPU, cores |", "|---|---|---|---|---|---|"]
    for n in (100, 1000, 10000):
        lines.append(f"| {n:,} workspaces | {idle['series']*n:,} | {full['series']*n:,} | "
                     f"{idle['scrape_bytes']*n/1e6:.1f} MB | {full['scrape_bytes']*n/1e6:.1f} MB | "
                     f"{idle['cpu_s_per_hour']*n/3600:.3f} |")
    lines.append("")
    lines.append(f"One sidecar: {idle['series']} series ({idle['scrape_bytes']:,} bytes) with --metrics minimal, "
                 f"{full['series']} ({full['scrape_bytes']:,} bytes) with full.")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--quick", action="store_true", help="fewer runs and probes (a smoke run, not for the README)")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    ap.add_argument("--only", choices=["transport", "hostile", "image", "blackbox"],
                    help="run one section (results go to <out>/<section>.json)")
    ap.add_argument("--before", help="hostile: also run this older serve binary under the same mix")
    ap.add_argument("--hostile-seconds", type=float, default=20.0)
    args = ap.parse_args()
    binary = os.path.join(args.build, "src", "coder-dns-doctor")
    runs, probes, hosts = (5, 500, 2000) if args.quick else (30, 10000, 10000)
    workdir = tempfile.mkdtemp(prefix="cdd-bench-")
    results = {"date": datetime.date.today().isoformat(), "quick": args.quick, "machine": {
        "cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
        "peers": {"blackbox": version_of(["prometheus-blackbox-exporter", "--version"]),
                  "dnsperf": "dnsperf " + version_of(["dpkg-query", "-W", "-f=${Version}", "dnsperf"]),
                  "dig": version_of(["dig", "-v"]) or "dig", "curl": version_of(["curl", "--version"]).split(" (")[0],
                  "dnsmasq": version_of(["dnsmasq", "--version"]).split(" Copyright")[0]}}}
    if args.only:
        with Sandbox(os.path.join(workdir, "sandbox")) as sandbox:
            if args.only == "transport":
                results["transport"] = bench_transport(binary, sandbox, runs, workdir)
            elif args.only == "image":
                results["image_build"] = bench_image_binary(binary, sandbox, runs, workdir, build_image_binary(args.build))
            elif args.only == "blackbox":
                image = build_image_binary(args.build)
                results["blackbox"] = bench_blackbox(binary, sandbox, probes, workdir, image_binary=image)
                results["blackbox_dns"] = bench_blackbox(binary, sandbox, probes, workdir, True, image)
            else:
                results["hostile_seconds"] = args.hostile_seconds
                results["hostile"] = bench_hostile(binary, args.before, sandbox, args.hostile_seconds)
        os.makedirs(args.out, exist_ok=True)
        json.dump(results, open(os.path.join(args.out, f"{args.only}.json"), "w"), indent=2)
        print(image_build_markdown(results["image_build"]) if args.only == "image" else markdown(results), end="")
        shutil.rmtree(workdir, ignore_errors=True)
        return
    image = build_image_binary(args.build)  # what the image ships: each serve and diagnose figure for it too
    with Sandbox(os.path.join(workdir, "sandbox")) as sandbox:
        results["transport"] = bench_transport(binary, sandbox, runs, workdir)
        results["person"] = bench_person(binary, sandbox, runs, workdir, image)
        results["blackbox"] = bench_blackbox(binary, sandbox, probes, workdir, image_binary=image)
        results["blackbox_dns"] = bench_blackbox(binary, sandbox, probes, workdir, True, image)
        results["sidecar"] = bench_sidecar(binary, sandbox, 20 if args.quick else 180, image)
        results["footprint"] = bench_footprint(binary, sandbox, workdir)
        results["image_build"] = bench_image_binary(binary, sandbox, runs, workdir, image)
        results["hostile_seconds"] = 5.0 if args.quick else args.hostile_seconds
        results["hostile"] = bench_hostile(binary, args.before, sandbox, results["hostile_seconds"])
    dns = start_bench_dns()
    try:
        results["throughput"] = bench_throughput(args.build, hosts, workdir)
        results["scaling"] = bench_scaling(args.build)
    finally:
        dns.terminate()
        dns.wait()
    os.makedirs(args.out, exist_ok=True)
    json.dump(results, open(os.path.join(args.out, "latest.json"), "w"), indent=2)
    table = markdown(results)
    open(os.path.join(args.out, "latest.md"), "w").write(table)
    print(table)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    import urllib.parse  # noqa: E402 (used by scrape_probe)
    main()
