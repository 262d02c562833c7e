#!/usr/bin/python3
"""Cross-check the coderd stand-in and the sandbox's ingress with an independent WebSocket client.

Uses the `websockets` library (Debian's python3-websockets, 10.x, legacy asyncio client), which
knows nothing of the stand-in's code, through the real nginx (TLS, the sandbox CA, SNI and Host
coder.example.test pinned to the ingress address) and directly at the ClusterIP:

  healthy               /api/v2/derp-map: a binary JSON message with "Regions"; /derp with
                        subprotocol derp: the 45-byte server-key frame; raw `Upgrade: DERP`:
                        101 + Derp-Public-Key + the same 45 bytes (ingress and ClusterIP)
  no-upgrade            the ingress gives 426 to WebSocket and DERP upgrades, /healthz still 200;
                        the ClusterIP still upgrades
  derp-upgrade-blocked  the ingress gives 426 to `Upgrade: DERP` but passes the DERP WebSocket
  short-idle            a held /derp WebSocket through the ingress is closed within
                        INGRESS_READ_TIMEOUT + 2 s; one to the ClusterIP receives a keepalive frame
  stale-site            the stale address answers 200 HTML without X-Coder-Build-Version

Run by CTest (standin/crosscheck) with CDD_SOURCE_DIR (and CDD_BUILD_DIR for the state dir). Takes
the machine-wide sandbox lock like tests/integration/lib.sh; stops the sandbox at the end.
Exit 0 = every assertion held; 1 = one failed (named on stderr); 77 = websockets missing.
"""
import asyncio
import fcntl
import http.client
import json
import os
import shlex
import socket
import ssl
import subprocess
import sys
import tempfile
import time

try:
    import websockets
    from websockets.exceptions import ConnectionClosed, InvalidStatusCode
except ImportError:
    print("SKIP standin/crosscheck: python3-websockets is not installed (scripts/install-deps.sh)")
    sys.exit(77)

SOURCE = os.environ.get("CDD_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SANDBOX = os.path.join(SOURCE, "tests", "sandbox", "sandbox.sh")
STATE = os.environ.get("CDD_SANDBOX_DIR") or os.path.join(os.environ.get("CDD_BUILD_DIR") or "/tmp", "sandbox")
MAGIC = b"DERP\xf0\x9f\x94\x91"
KEY_FRAME_HEAD = b"\x01\x00\x00\x00\x28" + MAGIC
KEEPALIVE = b"\x06\x00\x00\x00\x00"
ENV = {}
checks = 0


class Failure(Exception):
    pass


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        raise Failure(what)
    print("  ok   %s" % what)


def sandbox(*words):
    env = dict(os.environ, CDD_SANDBOX_DIR=STATE)
    r = subprocess.run(["bash", SANDBOX, *words], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise Failure("sandbox.sh %s failed: %s" % (" ".join(words), (r.stderr or r.stdout).strip()[:600]))
    if words[0] in ("start", "switch"):
        ENV.clear()
        for line in open(os.path.join(STATE, "env")):
            if line.startswith("export "):
                k, _, v = line[7:].strip().partition("=")
                ENV[k] = shlex.split(v)[0] if v else ""


def tls_context():
    return ssl.create_default_context(cafile=ENV["CA_FILE"])


def route(via):
    """(ip, port, host, tls) of a path into coderd."""
    if via == "ingress":
        return ENV["INGRESS_IP"], int(ENV["HTTPS_PORT"]), ENV["EXTERNAL_HOST"], True
    if via == "clusterip":
        return ENV["CLUSTER_IP"], int(ENV["HTTP_PORT"]), ENV["INTERNAL_HOST"], False
    if via == "stale":
        return ENV["STALE_IP"], int(ENV["HTTPS_PORT"]), ENV["EXTERNAL_HOST"], True
    raise ValueError(via)


def ws_open(via, path, subprotocols=None):
    ip, port, host, tls = route(via)
    sock = socket.create_connection((ip, port), timeout=5)
    sock.setblocking(False)
    uri = "%s://%s:%d%s" % ("wss" if tls else "ws", host, port, path)
    kwargs = dict(sock=sock, subprotocols=subprotocols, ping_interval=None, open_timeout=5, close_timeout=1)
    if tls:
        kwargs.update(ssl=tls_context(), server_hostname=host)
    return websockets.connect(uri, **kwargs)


async def recv(ws, seconds=5):
    return await asyncio.wait_for(ws.recv(), seconds)


async def ws_status(via, path, subprotocols=None):
    """The HTTP status of a WebSocket attempt (101 if it opened)."""
    try:
        async with ws_open(via, path, subprotocols):
            return 101
    except InvalidStatusCode as e:
        return e.status_code


async def check_derp_map(via):
    async with ws_open(via, "/api/v2/derp-map") as ws:
        check(ws.response_headers.get("X-Coder-Build-Version") == ENV["CODER_VERSION"],
              "%s: derp-map 101 carries X-Coder-Build-Version" % via)
        msg = await recv(ws)
        check(isinstance(msg, bytes), "%s: derp-map's first message is binary" % via)
        derp_map = json.loads(msg)
        check("Regions" in derp_map and derp_map["Regions"], "%s: derp-map JSON has Regions" % via)


async def check_derp_ws(via):
    async with ws_open(via, "/derp", ["derp"]) as ws:
        check(ws.subprotocol == "derp", "%s: /derp WebSocket negotiated subprotocol derp" % via)
        msg = await recv(ws)
        check(isinstance(msg, bytes) and len(msg) == 45 and msg.startswith(KEY_FRAME_HEAD),
              "%s: /derp WebSocket's first message is the 45-byte server-key frame (got %r)" % (via, msg[:16]))
        return msg[13:]


def raw_derp(via):
    """Send `Upgrade: DERP`; return (status, headers, body bytes read after the head, up to 45)."""
    ip, port, host, tls = route(via)
    sock = socket.create_connection((ip, port), timeout=5)
    if tls:
        sock = tls_context().wrap_socket(sock, server_hostname=host)
    with sock:
        sock.sendall(("GET /derp HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n"
                      "User-Agent: crosscheck\r\n\r\n" % (host, port)).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        want = 45 if status == 101 else int(headers.get("content-length", "0"))
        deadline = time.monotonic() + 5
        while len(rest) < want and time.monotonic() < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                break
            rest += chunk
        return status, headers, rest


def check_raw_derp_ok(via):
    status, headers, body = raw_derp(via)
    check(status == 101, "%s: Upgrade: DERP gets 101 (got %d)" % (via, status))
    check(headers.get("upgrade", "").lower() == "derp", "%s: the 101 says Upgrade: DERP" % via)
    key = headers.get("derp-public-key", "")
    check(len(key) == 64 and all(c in "0123456789abcdef" for c in key), "%s: Derp-Public-Key is 64 hex" % via)
    check(len(body) == 45 and body.startswith(KEY_FRAME_HEAD) and body[13:].hex() == key,
          "%s: then the 45-byte server-key frame carrying that key" % via)


def check_raw_derp_426(via):
    status, headers, body = raw_derp(via)
    check(status == 426 and body == b"DERP requires connection upgrade\n",
          "%s: Upgrade: DERP gets coderd's 426 (got %d %r)" % (via, status, body[:60]))


def https_get(via, path):
    ip, port, host, tls = route(via)
    if tls:
        conn = http.client.HTTPSConnection(ip, port, timeout=5, context=tls_context())
        # SNI and certificate check against the name, connection to the address
        conn.sock = tls_context().wrap_socket(socket.create_connection((ip, port), timeout=5), server_hostname=host)
    else:
        conn = http.client.HTTPConnection(ip, port, timeout=5)
    conn.request("GET", path, headers={"Host": "%s:%d" % (host, port)})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, resp.headers, body


async def healthy():
    print("world healthy")
    for via in ("ingress", "clusterip"):
        await check_derp_map(via)
        key_ws = await check_derp_ws(via)
        check_raw_derp_ok(via)
        _, headers, _ = raw_derp(via)
        check(headers["derp-public-key"] == key_ws.hex(), "%s: one DERP key on both forms" % via)
        check(await ws_status(via, "/derp") == 426, "%s: /derp WebSocket without subprotocol derp gets 426" % via)
    status, headers, body = https_get("ingress", "/healthz")
    check(status == 200 and body == b"OK" and headers.get("X-Coder-Build-Version") == ENV["CODER_VERSION"],
          "ingress: /healthz 200 OK with X-Coder-Build-Version")


async def no_upgrade():
    print("world no-upgrade")
    status, _, body = https_get("ingress", "/healthz")
    check(status == 200 and body == b"OK", "ingress: /healthz still 200 OK")
    check(await ws_status("ingress", "/api/v2/derp-map") == 426, "ingress: derp-map WebSocket gets 426")
    check(await ws_status("ingress", "/derp", ["derp"]) == 426, "ingress: /derp WebSocket gets 426")
    check_raw_derp_426("ingress")
    await check_derp_map("clusterip")
    await check_derp_ws("clusterip")
    check_raw_derp_ok("clusterip")


async def derp_upgrade_blocked():
    print("world derp-upgrade-blocked")
    check_raw_derp_426("ingress")
    await check_derp_ws("ingress")
    await check_derp_map("ingress")
    check_raw_derp_ok("clusterip")


async def hold(via):
    """Hold /derp open after the key frame: ('closed', seconds) or ('keepalive', seconds)."""
    async with ws_open(via, "/derp", ["derp"]) as ws:
        await recv(ws)
        started = time.monotonic()
        limit = float(ENV["DERP_KEEPALIVE"]) + float(ENV["INGRESS_READ_TIMEOUT"]) + 5
        try:
            msg = await recv(ws, limit)
        except ConnectionClosed:
            return "closed", time.monotonic() - started, None
        except asyncio.TimeoutError:
            return "silent", time.monotonic() - started, None
        return "message", time.monotonic() - started, msg


async def short_idle():
    print("world short-idle")
    timeout, keepalive = float(ENV["INGRESS_READ_TIMEOUT"]), float(ENV["DERP_KEEPALIVE"])
    check(timeout < keepalive, "the world's read timeout (%gs) is under the keepalive (%gs)" % (timeout, keepalive))
    (i_how, i_secs, _), (c_how, c_secs, c_msg) = await asyncio.gather(hold("ingress"), hold("clusterip"))
    check(i_how == "closed" and timeout - 0.5 <= i_secs <= timeout + 2,
          "ingress: held /derp closed after %.1fs (read timeout %gs; got %s)" % (i_secs, timeout, i_how))
    check(c_how == "message" and c_msg == KEEPALIVE and c_secs <= keepalive + 2,
          "clusterip: held /derp got a keepalive frame after %.1fs (got %s %r)" % (c_secs, c_how, c_msg))


async def stale_site():
    print("world stale-site")
    status, headers, body = https_get("stale", "/healthz")
    check(status == 200 and b"<html" in body and "X-Coder-Build-Version" not in headers,
          "stale address: 200 HTML without X-Coder-Build-Version (valid certificate for the name)")
    check(await ws_status("stale", "/api/v2/derp-map") == 200, "stale address: a WebSocket attempt gets 200, not 101")


async def run():
    sandbox("start", "healthy")
    await healthy()
    sandbox("switch", "no-upgrade")
    await no_upgrade()
    sandbox("switch", "derp-upgrade-blocked")
    await derp_upgrade_blocked()
    sandbox("switch", "short-idle")
    await short_idle()
    sandbox("switch", "stale-site")
    await stale_site()
    sandbox("switch", "healthy")
    await check_derp_map("ingress")  # back in the default world, the ingress upgrades again


def main():
    lock_path = os.path.join(os.environ.get("TMPDIR") or tempfile.gettempdir(), "coder-dns-doctor-sandbox.lock")
    lock = open(lock_path, "a")
    fcntl.flock(lock, fcntl.LOCK_EX)  # tests of every build tree take turns on the fixed addresses
    status = 0
    try:
        subprocess.run(["bash", SANDBOX, "stop"], env=dict(os.environ, CDD_SANDBOX_DIR=STATE), capture_output=True)
        asyncio.run(run())
        print("PASS standin/crosscheck (%d checks)" % checks)
    except Failure as e:
        print("FAIL standin/crosscheck: %s" % e, file=sys.stderr)
        status = 1
    except Exception as e:  # an unexpected error is a failure too, never a pass
        print("FAIL standin/crosscheck: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        status = 1
    finally:
        subprocess.run(["bash", SANDBOX, "stop"], env=dict(os.environ, CDD_SANDBOX_DIR=STATE), capture_output=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
