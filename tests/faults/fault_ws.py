#!/usr/bin/env python3
"""A coderd look-alike whose WebSocket and DERP upgrades misbehave on purpose.

    fault_ws.py --listen IP:PORT --mode MODE [--pidfile FILE] [--cert PEM --key PEM]

Listens on TCP at IP:PORT (use 127.x only), plain HTTP/1.1, or TLS with --cert/--key. The pid
file is written once the socket is bound (so its existence means "ready") and removed on
SIGTERM/SIGINT. Standard library only.

Every mode answers like a healthy coderd elsewhere, with `X-Coder-Build-Version: v2.18.0-fault`:
GET /healthz -> 200 `OK`; GET /api/v2/buildinfo -> 200 JSON (version, deployment_id
`dep-fault`, dashboard_url, agent_api_version); anything else (and /derp, /api/v2/derp-map
without upgrade headers) -> coderd's 426 or 404. Only upgrade requests misbehave: a WebSocket
upgrade (`Upgrade: websocket`) of /derp or /api/v2/derp-map, and `Upgrade: DERP` of /derp.

Modes:
  no-accept               101 Switching Protocols without Sec-WebSocket-Accept (DERP: a 101 without
                          Derp-Public-Key), then the frames a correct server sends
  wrong-accept            101 with a wrong Sec-WebSocket-Accept (the accept of another key; DERP: a
                          Derp-Public-Key that is not 64 hex digits), then the correct frames
  oversized-frame         a correct 101, then a binary frame header announcing a 2^40-byte payload
                          (and 16 bytes of it); DERP: a frame header announcing 2^31 bytes
  close-after-handshake   a correct 101, then the TCP connection is closed
  non-derp-frame          a correct 101 (WebSocket and DERP), then a first frame that is not the
                          server-key frame: type 0x04 (peer gone), length 40, wrong magic; the
                          derp-map WebSocket gets a binary message that is not JSON
  silent-after-handshake  a correct 101, then nothing; the connection is held open until the client
                          closes it
The correct frames: DERP server key = 0x01, 00 00 00 28, "DERP\\xf0\\x9f\\x94\\x91", 32 key bytes;
derp-map = one binary message of JSON {"Regions": {...}}.
"""
import argparse
import base64
import hashlib
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading

import fault_common  # tests/faults/fault_common.py: --listen and the pid file

MODES = ("no-accept", "wrong-accept", "oversized-frame", "close-after-handshake", "non-derp-frame",
         "silent-after-handshake")
VERSION = "v2.18.0-fault"
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
DERP_MAGIC = b"DERP\xf0\x9f\x94\x91"
KEY = hashlib.sha256(b"fault_ws derp key").digest()


def accept_of(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


def ws_frame(payload, opcode=0x2):
    n = len(payload)
    if n < 126:
        return struct.pack("!BB", 0x80 | opcode, n) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", 0x80 | opcode, 126, n) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, n) + payload


def server_key_frame():
    return struct.pack("!BI", 0x01, 40) + DERP_MAGIC + KEY


def derp_map():
    return (json.dumps({"Regions": {"999": {"RegionID": 999, "RegionCode": "coder", "RegionName": "Coder Embedded Relay",
                                            "Nodes": [{"Name": "999b", "RegionID": 999, "HostName": "fault.test",
                                                       "DERPPort": 18443, "STUNPort": -1}]}},
                        "OmitDefaultRegions": True}) + "\n").encode()


def respond(conn, status, reason, headers, body=b"", identity=True):
    lines = ["HTTP/1.1 %d %s" % (status, reason)]
    if identity:
        headers = dict(headers, **{"X-Coder-Build-Version": VERSION})
    lines += ["%s: %s" % kv for kv in sorted(headers.items())]
    lines.append("Content-Length: %d" % len(body))
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 16384:
            return None
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    parts = head[0].split(" ")
    if len(parts) != 3:
        return None
    headers = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return parts[0], parts[1].split("?")[0], headers


def hold(conn):
    """Read and drop whatever the client sends until it closes."""
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def misbehave_ws(conn, mode, path, headers):
    key = headers.get("sec-websocket-key", "")
    h = {"Connection": "Upgrade", "Upgrade": "websocket", "X-Coder-Build-Version": VERSION}
    if mode == "wrong-accept":
        h["Sec-Websocket-Accept"] = accept_of("AAAAAAAAAAAAAAAAAAAAAA==" if key != "AAAAAAAAAAAAAAAAAAAAAA==" else "BBBBBBBBBBBBBBBBBBBBBB==")
    elif mode != "no-accept":
        h["Sec-Websocket-Accept"] = accept_of(key)
    if path.startswith("/derp") and "derp" in headers.get("sec-websocket-protocol", ""):
        h["Sec-Websocket-Protocol"] = "derp"
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\n" + "".join("%s: %s\r\n" % kv for kv in sorted(h.items()))
                  + "\r\n").encode())
    derp = path.startswith("/derp")
    if mode == "close-after-handshake":
        return
    if mode == "oversized-frame":
        conn.sendall(struct.pack("!BBQ", 0x82, 127, 1 << 40) + b"\0" * 16)
    elif mode == "non-derp-frame":
        conn.sendall(ws_frame(struct.pack("!BI", 0x04, 40) + b"NOTDERP!" + b"\0" * 32 if derp else b"\x00\xffnot json"))
    elif mode in ("no-accept", "wrong-accept"):
        conn.sendall(ws_frame(server_key_frame() if derp else derp_map()))
    hold(conn)


def misbehave_derp(conn, mode):
    public_key = KEY.hex()
    if mode == "wrong-accept":
        public_key = "not-a-key"
    head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\nDerp-Version: 2\r\n"
    if mode != "no-accept":
        head += "Derp-Public-Key: %s\r\n" % public_key
    conn.sendall((head + "\r\n").encode())
    if mode == "close-after-handshake":
        return
    if mode == "oversized-frame":
        conn.sendall(struct.pack("!BI", 0x01, 1 << 31) + DERP_MAGIC)
    elif mode == "non-derp-frame":
        conn.sendall(struct.pack("!BI", 0x04, 40) + b"NOTDERP!" + b"\0" * 32)
    elif mode in ("no-accept", "wrong-accept"):
        conn.sendall(server_key_frame())
    hold(conn)


def serve_conn(conn, mode):
    with conn:
        try:
            while True:
                req = read_head(conn)
                if req is None:
                    return
                method, path, headers = req
                upgrade = headers.get("upgrade", "").lower()
                if path == "/healthz":
                    respond(conn, 200, "OK", {"Content-Type": "text/plain; charset=utf-8"}, b"OK")
                elif path == "/api/v2/buildinfo":
                    respond(conn, 200, "OK", {"Content-Type": "application/json; charset=utf-8"}, (json.dumps({
                        "version": VERSION, "deployment_id": "dep-fault", "dashboard_url": "https://fault.test:18443",
                        "agent_api_version": "2.2"}) + "\n").encode())
                elif path in ("/derp", "/api/v2/derp-map") and upgrade == "websocket":
                    return misbehave_ws(conn, mode, path, headers)
                elif path == "/derp" and upgrade == "derp":
                    return misbehave_derp(conn, mode)
                elif path == "/derp":
                    respond(conn, 426, "Upgrade Required", {"Content-Type": "text/plain; charset=utf-8"},
                            b"DERP requires connection upgrade\n")
                elif path == "/api/v2/derp-map":
                    respond(conn, 426, "Upgrade Required", {"Content-Type": "text/plain; charset=utf-8",
                            "Connection": "Upgrade", "Upgrade": "websocket"},
                            b"WebSocket protocol violation: Connection header \"\" does not contain Upgrade\n")
                else:
                    respond(conn, 404, "Not Found", {"Content-Type": "application/json; charset=utf-8"},
                            b'{"message":"Route not found."}\n')
        except (OSError, ssl.SSLError):
            return


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True, metavar="IP:PORT")
    ap.add_argument("--mode", required=True, choices=MODES)
    ap.add_argument("--pidfile")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    host, port, family = fault_common.parse_listen(args.listen)
    tcp = socket.socket(family, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        tcp.bind((host, int(port)))
        tcp.listen(64)
    except OSError as e:
        sys.exit("fault_ws.py: cannot listen on %s: %s" % (args.listen, e))
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)

    fault_common.announce(args.pidfile)
    while True:
        conn, _ = tcp.accept()

        def run(conn=conn):
            if context:
                try:
                    conn.settimeout(5)
                    conn = context.wrap_socket(conn, server_side=True)
                    conn.settimeout(None)
                except (OSError, ssl.SSLError):
                    conn.close()
                    return
            serve_conn(conn, args.mode)
        threading.Thread(target=run, daemon=True).start()


if __name__ == "__main__":
    main()
