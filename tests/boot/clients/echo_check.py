#!/usr/bin/env python3
"""Sends N random bytes to a TCP echo server (and one UDP datagram unless --tcp-only) and checks
that exactly the same bytes come back. Exit 0 only when they do.

    echo_check.py HOST PORT BYTES [--tcp-only]
"""
import hashlib
import os
import socket
import sys
import threading


def tcp(host, port, size):
    data = os.urandom(size)
    # Generous: on a loaded machine QEMU's user network has been seen to drop frames for a
    # TCG guest that polls late, and slirp's retransmission back-off then pauses the transfer
    # for tens of seconds. The check is that every byte comes back intact.
    s = socket.create_connection((host, port), timeout=100)
    got = bytearray()

    def reader():
        while len(got) < size:
            chunk = s.recv(65536)
            if not chunk:
                break
            got.extend(chunk)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    t.join(200)
    s.close()
    ok = bytes(got) == data
    print(f"tcp: sent {size} B, got {len(got)} B back, sha256 {'matches' if ok else 'DIFFERS'}: "
          f"{hashlib.sha256(data).hexdigest()[:16]}")
    return ok


def udp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    payload = os.urandom(512)
    for _ in range(5):  # the first datagram may wait on ARP
        s.sendto(payload, (host, port))
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            continue
        ok = data == payload
        print(f"udp: 512 B datagram {'echoed' if ok else 'CHANGED'}")
        return ok
    print("udp: no reply to 5 datagrams")
    return False


def main():
    host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ok = tcp(host, port, size)
    if "--tcp-only" not in sys.argv:
        ok = udp(host, port) and ok
    sys.exit(0 if ok else 1)


main()
