#!/usr/bin/env python3
"""Write the seed corpus of fuzz_dns_answer: hand-made DNS replies, each prefixed with the control
byte the target reads (bit 0: AAAA; bits 1..: the c-ares status index, 0 = ARES_SUCCESS).

    tests/fuzz/make_dns_answer_seeds.py    # rewrites tests/fuzz/corpus/fuzz_dns_answer/
"""
import os
import struct

A, AAAA, CNAME = 1, 28, 5


def name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(owner, rtype, ttl, rdata):
    owner_bytes = b"\xc0\x0c" if owner is None else name(owner)  # None: a pointer to the question
    return owner_bytes + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def packet(qname, qtype, answers, rcode=0, qid=0x1234):
    header = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, len(answers), 0, 0)
    return header + name(qname) + struct.pack("!HH", qtype, 1) + b"".join(answers)


def ip4(text):
    return bytes(int(p) for p in text.split("."))


SEEDS = {
    "a-ttls": (0, packet("coder.example.test", A, [rr(None, A, 30, ip4("127.0.50.101")),
                                                   rr(None, A, 10, ip4("127.0.50.102")),
                                                   rr(None, A, 20, ip4("127.0.50.101"))])),
    "aaaa": (1, packet("coder.example.test", AAAA, [rr(None, AAAA, 60, bytes(15) + b"\x01"),
                                                    rr(None, AAAA, 60, bytes.fromhex("20010db8000000000000000000000001"))])),
    "cname-chain": (0, packet("www.example.test", A, [rr(None, CNAME, 300, name("a.example.test")),
                                                      rr("a.example.test", CNAME, 300, name("B.Example.Test")),
                                                      rr("b.example.test", A, 5, ip4("127.0.0.5"))])),
    "cname-loop": (0, packet("loop.example.test", A, [rr(None, CNAME, 60, name("loop.fault.test")),
                                                      rr("loop.fault.test", CNAME, 60, name("loop.example.test"))])),
    "nodata": (0, packet("coder.example.test", AAAA, [])),
    "nodata-aaaa": (1, packet("coder.example.test", AAAA, [])),
    "wrong-type": (1, packet("coder.example.test", A, [rr(None, A, 30, ip4("127.0.0.1"))])),
    "nxdomain": (0, packet("missing.example.test", A, [], rcode=3)),
    "truncated": (0, packet("coder.example.test", A, [rr(None, A, 30, ip4("127.0.0.1"))])[:-3]),
    "garbage": (0, bytes(range(7, 90, 3))),
    "status-timeout": (2 * 9, b""),
    "status-nxdomain": (2 * 6, b""),
    "many": (0, packet("many.fault.test", A, [rr(None, A, 60, ip4(f"127.0.1.{i}")) for i in range(1, 101)])),
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_dns_answer")
    os.makedirs(out, exist_ok=True)
    for seed, (control, data) in SEEDS.items():
        with open(os.path.join(out, seed), "wb") as f:
            f.write(bytes([control]) + data)
