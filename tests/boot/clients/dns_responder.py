#!/usr/bin/env python3
"""A name server for one test: answers A queries for the names given, until a line appears.

    dns_responder.py ADDR NAME=IPV4... --until FILE REGEX [--timeout S]

Listens on UDP port 53 of ADDR (a test namespace's TAP address) and answers each query for a
listed NAME with its address (TTL 60), AAAA queries for it with no records, and anything else
with NXDOMAIN. Exits 0 once a line of FILE (the guest's console) matches REGEX, 1 after S
seconds (default 30) without one; prints what it answered.
"""
import re
import select
import socket
import struct
import sys
import time


def question(packet):
    """(name, qtype, end offset) of the first question."""
    labels, at = [], 12
    while packet[at]:
        n = packet[at]
        labels.append(packet[at + 1:at + 1 + n].decode("ascii", "replace"))
        at += 1 + n
    qtype, _qclass = struct.unpack_from("!HH", packet, at + 1)
    return ".".join(labels).lower(), qtype, at + 5


def answer(packet, table):
    ident, flags, qdcount = struct.unpack_from("!HHH", packet, 0)
    if flags & 0x8000 or qdcount != 1:
        return None, "not a single query"
    name, qtype, end = question(packet)
    rd = flags & 0x0100
    if name not in table:
        header = struct.pack("!HHHHHH", ident, 0x8000 | rd | 0x0080 | 3, 1, 0, 0, 0)  # NXDOMAIN
        return header + packet[12:end], f"{name} type {qtype}: NXDOMAIN"
    if qtype != 1:
        header = struct.pack("!HHHHHH", ident, 0x8400 | rd | 0x0080, 1, 0, 0, 0)
        return header + packet[12:end], f"{name} type {qtype}: no records"
    header = struct.pack("!HHHHHH", ident, 0x8400 | rd | 0x0080, 1, 1, 0, 0)
    record = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(table[name])
    return header + packet[12:end] + record, f"{name} A {table[name]}"


def main(argv):
    if "--until" not in argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    timeout = 30.0
    if "--timeout" in argv:
        i = argv.index("--timeout")
        timeout = float(argv[i + 1])
        del argv[i:i + 2]
    i = argv.index("--until")
    console, pattern = argv[i + 1], re.compile(argv[i + 2])
    addr, pairs = argv[0], argv[1:i]
    table = dict(p.lower().split("=", 1) for p in pairs)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, 53))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.1)
        if ready:
            packet, peer = sock.recvfrom(512)
            try:
                reply, what = answer(packet, table)
            except (IndexError, struct.error):
                reply, what = None, "malformed"
            print(f"dns_responder: {peer[0]}: {what}")
            if reply:
                sock.sendto(reply, peer)
        with open(console, errors="replace") as f:
            if any(pattern.search(line) for line in f):
                print("dns_responder: the console has the line")
                return 0
    print(f"dns_responder: no console line matching {pattern.pattern} in {timeout:g} s")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
