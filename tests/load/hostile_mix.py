#!/usr/bin/env python3
"""The hostile client mix against one HTTP listener, and what a kubelet sees meanwhile.

    tests/load/hostile_mix.py --target 127.0.0.1:PORT [--seconds 10] [--idle 256] [--slowloris 64]
                              [--scrapers 32] [--scrape-path /metrics] [--json FILE]

What runs, all at once, for --seconds:
  - idle: --idle TCP connections that never send a byte (a port scan, a half-open client); one
    the server drops is opened again, so the pressure stays.
  - slowloris: --slowloris connections sending a GET's header one byte per second; reopened
    when dropped.
  - scrapers: --scrapers clients fetching --scrape-path in a loop (a new connection each time,
    `Connection: close`, as Prometheus does against a listener that closes).
  - the probe: a kubelet-like client in its own process (so the mix's own event loop cannot
    delay its clock): a fresh connection and `GET /healthz` every 100 ms, each given 3 s.

The result (stdout, and --json): every probe's latency in ms (None when it failed or took over
3 s), p50/p99/max of the answered ones, scrapes completed and failed, how often the server
dropped an idle or slowloris client. It asserts nothing: tests/load/test_hostile_clients.py and
bench/run.py decide what the figures mean. Only loopback targets are accepted.
"""
import argparse
import asyncio
import ipaddress
import json
import multiprocessing
import socket
import statistics
import sys
import time

PROBE_EVERY_S = 0.1
PROBE_TIMEOUT_S = 3.0


def parse_target(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not ipaddress.ip_address(host).is_loopback:
        raise argparse.ArgumentTypeError(f"--target {text}: expected a loopback IP:PORT")
    return host, int(port)


def probe_once(host, port, path="/healthz"):
    """One kubelet-style probe: (latency_ms, status) or (None, reason)."""
    start = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S) as s:
            s.settimeout(max(0.01, PROBE_TIMEOUT_S - (time.monotonic() - start)))
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.29\r\n"
                      "Accept: */*\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                s.settimeout(max(0.01, PROBE_TIMEOUT_S - (time.monotonic() - start)))
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as e:
        return None, type(e).__name__
    if not data.startswith(b"HTTP/1."):
        return None, "no HTTP response"
    status = int(data.split(b" ", 2)[1])
    return (time.monotonic() - start) * 1000, status


def prober(host, port, seconds, results, path="/healthz"):
    deadline = time.monotonic() + seconds
    out = []
    while time.monotonic() < deadline:
        started = time.monotonic()
        latency, status = probe_once(host, port, path)
        out.append({"ms": None if latency is None else round(latency, 3), "status": status})
        time.sleep(max(0.0, PROBE_EVERY_S - (time.monotonic() - started)))
    results.put(out)


class Mix:
    def __init__(self, host, port, scrape_path):
        self.host, self.port, self.scrape_path = host, port, scrape_path
        self.stopping = False
        self.writers = set()
        self.counts = {"scrapes_ok": 0, "scrapes_failed": 0, "scrape_bytes": 0, "idle_dropped": 0,
                       "slowloris_dropped": 0, "connect_failed": 0}

    async def _open(self):
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 5)
        except (OSError, asyncio.TimeoutError):
            self.counts["connect_failed"] += 1
            await asyncio.sleep(0.2)
            return None, None
        self.writers.add(writer)
        return reader, writer

    def _close(self, writer):
        self.writers.discard(writer)
        writer.close()

    async def idle(self):
        while not self.stopping:
            reader, writer = await self._open()
            if reader is None:
                continue
            try:
                await reader.read(65536)  # returns when the server closes
                if not self.stopping:
                    self.counts["idle_dropped"] += 1
            except OSError:
                self.counts["idle_dropped"] += 1
            finally:
                self._close(writer)

    async def slowloris(self):
        header = f"GET /healthz HTTP/1.1\r\nHost: {self.host}\r\nX-Slow: " + "a" * 200
        while not self.stopping:
            reader, writer = await self._open()
            if reader is None:
                continue
            try:
                for ch in header:
                    if self.stopping or reader.at_eof():
                        break
                    writer.write(ch.encode())
                    await writer.drain()
                    try:
                        if await asyncio.wait_for(reader.read(65536), 1.0) == b"":
                            break  # the server closed
                    except asyncio.TimeoutError:
                        pass
                if not self.stopping:
                    self.counts["slowloris_dropped"] += 1
            except OSError:
                self.counts["slowloris_dropped"] += 1
            finally:
                self._close(writer)

    async def scraper(self):
        request = (f"GET {self.scrape_path} HTTP/1.1\r\nHost: {self.host}\r\nAccept: */*\r\n"
                   "Connection: close\r\n\r\n").encode()
        while not self.stopping:
            reader, writer = await self._open()
            if reader is None:
                continue
            try:
                writer.write(request)
                body = await asyncio.wait_for(reader.read(), 5)
                if body.startswith(b"HTTP/1.1 200") or body.startswith(b"HTTP/1.0 200"):
                    self.counts["scrapes_ok"] += 1
                    self.counts["scrape_bytes"] += len(body)
                else:
                    self.counts["scrapes_failed"] += 1
            except (OSError, asyncio.TimeoutError):
                self.counts["scrapes_failed"] += 1
            finally:
                self._close(writer)

    async def run(self, seconds, idle, slowloris, scrapers):
        tasks = [asyncio.create_task(self.idle()) for _ in range(idle)]
        tasks += [asyncio.create_task(self.slowloris()) for _ in range(slowloris)]
        await asyncio.sleep(0.5)  # the connections are open before the scrape storm starts
        tasks += [asyncio.create_task(self.scraper()) for _ in range(scrapers)]
        await asyncio.sleep(seconds)
        self.stopping = True
        for writer in list(self.writers):
            writer.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in list(self.writers):  # opened between the first close and the cancel
            writer.close()
        await asyncio.sleep(0)  # the transports' close callbacks run before the loop ends


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run_mix(host, port, seconds=10.0, idle=256, slowloris=64, scrapers=32, scrape_path="/metrics",
            probe_path="/healthz"):
    """Run the mix; return the figures (see the module's docstring). `probe_path` is what the
    kubelet-style probe asks (blackbox_exporter's is /-/healthy)."""
    results = multiprocessing.get_context("fork").Queue()
    probe = multiprocessing.get_context("fork").Process(target=prober,
                                                        args=(host, port, seconds + 0.5, results, probe_path))
    mix = Mix(host, port, scrape_path)
    probe.start()
    started = time.monotonic()
    asyncio.run(mix.run(seconds, idle, slowloris, scrapers))
    elapsed = time.monotonic() - started
    probes = results.get(timeout=PROBE_TIMEOUT_S + 10)
    probe.join()
    answered = [p["ms"] for p in probes if p["ms"] is not None and p["status"] == 200]
    summary = {
        "seconds": round(elapsed, 2), "idle": idle, "slowloris": slowloris, "scrapers": scrapers,
        "probes": len(probes), "probes_answered": len(answered),
        "probes_failed": [p for p in probes if p["ms"] is None or p["status"] != 200],
        "healthz_p50_ms": round(statistics.median(answered), 3) if answered else None,
        "healthz_p99_ms": round(percentile(answered, 0.99), 3) if answered else None,
        "healthz_max_ms": round(max(answered), 3) if answered else None,
        "scrapes_per_s": round(mix.counts["scrapes_ok"] / max(elapsed, 0.001), 1),
        **mix.counts, "latencies_ms": [p["ms"] for p in probes],
    }
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=parse_target, required=True, help="loopback IP:PORT")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--idle", type=int, default=256)
    parser.add_argument("--slowloris", type=int, default=64)
    parser.add_argument("--scrapers", type=int, default=32)
    parser.add_argument("--scrape-path", default="/metrics")
    parser.add_argument("--probe-path", default="/healthz")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    host, port = args.target
    summary = run_mix(host, port, args.seconds, args.idle, args.slowloris, args.scrapers, args.scrape_path,
                      args.probe_path)
    brief = {k: v for k, v in summary.items() if k != "latencies_ms"}
    brief["probes_failed"] = len(summary["probes_failed"])
    print(json.dumps(brief, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
