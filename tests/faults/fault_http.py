#!/usr/bin/env python3
"""An HTTP(S) server that misbehaves on purpose, for faults no real server produces on demand.

    fault_http.py --listen IP:PORT --mode MODE [--cert FILE --key FILE] [--pidfile FILE]

Listens on IP:PORT (use 127.x only); with --cert/--key it speaks TLS. The pid file is written
once the socket listens. Every request path gets the same treatment:

  ok         200 "OK" (and a buildinfo JSON for /api/v2/buildinfo): a well-behaved Coder, with
             coderd's X-Coder-Build-Version header (also in `slow`)
  hang       accept the connection, read the request, never answer
  status-500 500 with a short body
  status-503 503 with a short body
  redirect   302 to the same URL, forever (a redirect loop for clients that follow)
  huge       200 with a 50 MB body
  slow       200 "OK" delivered one byte per second
"""
import argparse
import socket
import ssl
import sys
import threading
import time

import fault_common  # tests/faults/fault_common.py: --listen and the pid file

MODES = ("ok", "hang", "status-500", "status-503", "redirect", "huge", "slow")
BUILDINFO = b'{"version":"v2.18.0","deployment_id":"dep-fault","dashboard_url":"https://fault.test"}'


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    line = data.split(b"\r\n", 1)[0].split(b" ")
    return line[1] if len(line) >= 2 else b"/"


def respond(conn, mode):
    path = read_request(conn)
    if path is None:
        return
    if mode == "hang":
        time.sleep(3600)
        return
    head = "HTTP/1.1 {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n"
    if mode in ("status-500", "status-503"):
        code = mode.split("-")[1]
        body = b"fault\n"
        conn.sendall(head.format(code + " Fault", len(body), "").encode() + body)
    elif mode == "redirect":
        conn.sendall(head.format("302 Found", 0, "Location: " + path.decode() + "\r\n").encode())
    elif mode == "huge":
        size = 50 * 1024 * 1024
        conn.sendall(head.format("200 OK", size, "").encode())
        block = b"x" * 65536
        for _ in range(size // len(block)):
            conn.sendall(block)
    else:
        body = BUILDINFO if path.startswith(b"/api/v2/buildinfo") else b"OK"
        conn.sendall(head.format("200 OK", len(body), "X-Coder-Build-Version: v2.18.0-fault\r\n").encode())
        if mode == "slow":
            for byte in body:
                conn.sendall(bytes([byte]))
                time.sleep(1)
        else:
            conn.sendall(body)


def handle(conn, mode, context):
    try:
        if context is not None:
            conn = context.wrap_socket(conn, server_side=True)
        with conn:
            respond(conn, mode)
    except (OSError, ssl.SSLError):
        pass  # clients hang up on faults: that is the point


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True, metavar="IP:PORT")
    ap.add_argument("--mode", required=True, choices=MODES)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--pidfile")
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind((host, int(port)))
        server.listen(64)
    except OSError as e:
        sys.exit("fault_http.py: cannot listen on %s: %s" % (args.listen, e))
    fault_common.announce(args.pidfile)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn, args.mode, context), daemon=True).start()


if __name__ == "__main__":
    main()
