#!/usr/bin/env python3
"""Time a booting guest's first HTTP answer, to a few milliseconds.

    http_probe.py HOST PORT PATH EXPECT TIMEOUT SYNC_DIR

Start it before the guest: it creates SYNC_DIR/ready once it runs, then waits for SYNC_DIR/t0
(the launch's Unix time, $EPOCHREALTIME, written by the caller right after starting QEMU).
It prints the seconds from t0 to the first response whose status is EXPECT and exits 0; exits 1
with the reason on stdout when another status comes back or nothing does within TIMEOUT
seconds of t0. The handshake matters on a loaded machine: started after QEMU, the
interpreter alone took 0.4 s to send its first SYN here, longer than the boot it was timing.

Why not curl in a loop: each try is a process (tens of ms under load), and a SYN the guest
misses while it boots is retried only after a second, so the loop's own granularity hid most
of what a fast boot gains. Here a new non-blocking connect starts every 10 ms while earlier ones
stay pending for up to 100 ms (a slow first handshake is not cut short); refused ones are
dropped, and the first connection to complete sends the request. The same probe times every
side of a benchmark.
"""
import errno
import os
import selectors
import socket
import sys
import time

ATTEMPT_EVERY = 0.01
ABANDON_AFTER = 0.1


def main(host, port, path, expect, t0, timeout):
    deadline = t0 + timeout
    sel = selectors.DefaultSelector()
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    replies = {}  # socket -> bytes received, once connected and the request sent
    next_try = 0.0
    while time.time() < deadline:
        now = time.monotonic()
        if now >= next_try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            if s.connect_ex((host, port)) in (0, errno.EINPROGRESS):
                sel.register(s, selectors.EVENT_WRITE, now + ABANDON_AFTER)
            else:
                s.close()  # e.g. no route yet: the next attempt tries again
            next_try = now + ATTEMPT_EVERY
        for key in list(sel.get_map().values()):
            if key.fileobj not in replies and key.data < now:
                sel.unregister(key.fileobj)
                key.fileobj.close()
        for key, events in sel.select(timeout=ATTEMPT_EVERY):
            s = key.fileobj
            if s not in replies:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    sel.unregister(s)
                    s.close()  # refused: nothing listens yet
                    continue
                s.sendall(request)
                replies[s] = b""
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                replies.pop(s)
                continue
            replies[s] += data
            if b"\r\n" in replies[s]:
                elapsed = time.time() - t0
                words = replies[s].split(b"\r\n", 1)[0].split()
                status = words[1].decode() if len(words) > 1 else "?"
                if status == expect:
                    print(f"{elapsed:.3f}")
                    return 0
                print(f"HTTP {status} for {path}")
                return 1
    print(f"no answer in {timeout:g} s")
    return 1


def wait_for_t0(sync_dir, timeout):
    open(os.path.join(sync_dir, "ready"), "w").close()
    path = os.path.join(sync_dir, "t0")
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        try:
            with open(path) as f:
                return float(f.read())
        except (FileNotFoundError, ValueError):
            time.sleep(0.001)
    return None


if __name__ == "__main__":
    if len(sys.argv) != 7:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    h, p, pa, ex, to, sync = sys.argv[1:]
    t0 = wait_for_t0(sync, 60)
    if t0 is None:
        print("no launch time in 60 s")
        sys.exit(1)
    sys.exit(main(h, int(p), pa, ex, t0, float(to)))
