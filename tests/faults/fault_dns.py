#!/usr/bin/env python3
"""A DNS server that misbehaves on purpose, for faults no real server produces on demand.

    fault_dns.py --listen IP:PORT --mode MODE [--pidfile FILE]

Listens on UDP and TCP at IP:PORT (use 127.x only). The pid file is written once both sockets
are bound (so its existence means "ready") and removed on SIGTERM/SIGINT.

Modes (answers copy the query's id, question, opcode and RD bit unless said otherwise):
  silent     read queries, never answer (TCP: accept, read, never answer, keep the connection)
  servfail   rcode SERVFAIL, no records
  refused    rcode REFUSED, no records
  nxdomain   rcode NXDOMAIN, no records (and no SOA)
  garbage    random bytes (TCP: a correct 2-byte length prefix, then random bytes)
  wrong-id   a valid answer (A 127.0.0.1) whose id is not the query's
  truncated  UDP: TC bit set, no records; TCP: the full answer, A 127.0.0.1
  many       100 A records 127.0.1.1..127.0.1.100, on UDP too (ignoring the 512-byte limit and
             EDNS size: that is the fault), and on TCP
  other-address  UDP: a valid answer (A 127.0.0.1) sent from another source address (IP+1 in
             the last octet, same port), as a spoofer or a multi-homed server would; TCP: silent
  cname-loop a CNAME chain that returns to the question name: QNAME -> loop.fault.test -> QNAME
A records are only given to A (or ANY) questions; other types get NOERROR with no records.
"""
import argparse
import os
import random
import signal
import socket
import struct
import sys
import threading

import fault_common  # tests/faults/fault_common.py: --listen and the pid file

MODES = ("silent", "servfail", "refused", "nxdomain", "garbage", "wrong-id", "truncated", "many",
         "other-address", "cname-loop")
TTL = 60


def parse_question(query):
    """Return (id, flags, question bytes, qtype) or None if the query is unparsable."""
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", query[:6])
    if qdcount < 1:
        return None
    i = 12
    while True:
        if i >= len(query):
            return None
        n = query[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            return None
        i += 1 + n
    if i + 4 > len(query):
        return None
    qtype = struct.unpack("!H", query[i:i + 2])[0]
    return qid, flags, query[12:i + 4], qtype


def reply(query, mode, transport):
    """The bytes to send for one query, or None for no answer."""
    if mode == "silent":
        return None
    if mode == "garbage":
        return os.urandom(random.randint(1, 64))
    parsed = parse_question(query)
    if parsed is None:
        return None
    qid, qflags, question, qtype = parsed
    rcode, tc, addresses = 0, 0, []
    if mode == "servfail":
        rcode = 2
    elif mode == "refused":
        rcode = 5
    elif mode == "nxdomain":
        rcode = 3
    elif mode == "wrong-id":
        qid ^= 0x5A5A
        addresses = ["127.0.0.1"]
    elif mode == "truncated":
        if transport == "udp":
            tc = 1
        else:
            addresses = ["127.0.0.1"]
    elif mode == "many":
        addresses = ["127.0.1.%d" % n for n in range(1, 101)]
    elif mode == "other-address":
        if transport == "tcp":
            return None
        addresses = ["127.0.0.1"]
    elif mode == "cname-loop":
        # Record 1: QNAME CNAME loop.fault.test; record 2: loop.fault.test CNAME QNAME.
        target = b"".join(bytes([len(p)]) + p for p in (b"loop", b"fault", b"test")) + b"\0"
        first = struct.pack("!HHHIH", 0xC00C, 5, 1, TTL, len(target)) + target
        target_offset = 12 + len(question) + 12  # where the target name starts in the message
        second = struct.pack("!HHHIH", 0xC000 | target_offset, 5, 1, TTL, 2) + struct.pack("!H", 0xC00C)
        flags = 0x8000 | (qflags & 0x7800) | 0x0400 | (qflags & 0x0100) | 0x0080
        return struct.pack("!HHHHHH", qid, flags, 1, 2, 0, 0) + question + first + second
    if qtype not in (1, 255):  # A, ANY
        addresses = []
    # QR=1, opcode and RD copied, AA=1, RA=1
    flags = 0x8000 | (qflags & 0x7800) | 0x0400 | (tc << 9) | (qflags & 0x0100) | 0x0080 | rcode
    answer = b"".join(
        struct.pack("!HHHIH", 0xC00C, 1, 1, TTL, 4) + socket.inet_aton(a) for a in addresses)
    return struct.pack("!HHHHHH", qid, flags, 1, len(addresses), 0, 0) + question + answer


def serve_udp(sock, mode, sender=None):
    while True:
        query, peer = sock.recvfrom(65535)
        data = reply(query, mode, "udp")
        if data is not None:
            (sender or sock).sendto(data, peer)


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve_tcp_conn(conn, mode):
    with conn:
        try:
            while True:
                head = recv_exact(conn, 2)
                if head is None:
                    return
                query = recv_exact(conn, struct.unpack("!H", head)[0])
                if query is None:
                    return
                data = reply(query, mode, "tcp")
                if data is not None:
                    conn.sendall(struct.pack("!H", len(data)) + data)
        except OSError:
            return


def serve_tcp(sock, mode):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_conn, args=(conn, mode), daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", required=True, metavar="IP:PORT")
    ap.add_argument("--mode", required=True, choices=MODES)
    ap.add_argument("--pidfile")
    args = ap.parse_args()
    host, port, family = fault_common.parse_listen(args.listen)

    udp = socket.socket(family, socket.SOCK_DGRAM)
    tcp = socket.socket(family, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        udp.bind((host, int(port)))
        tcp.bind((host, int(port)))
        tcp.listen(64)
    except OSError as e:
        sys.exit("fault_dns.py: cannot listen on %s: %s" % (args.listen, e))

    fault_common.announce(args.pidfile)
    sender = None
    if args.mode == "other-address":
        octets = host.split(".")
        other = ".".join(octets[:3] + [str((int(octets[3]) + 1) % 256)])
        sender = socket.socket(family, socket.SOCK_DGRAM)
        sender.bind((other, int(port)))
    threading.Thread(target=serve_tcp, args=(tcp, args.mode), daemon=True).start()
    serve_udp(udp, args.mode, sender)


if __name__ == "__main__":
    main()
