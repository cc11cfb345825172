#!/usr/bin/env python3
"""Raw-socket checks of httpd that curl cannot make: pipelined requests in one write, requests
split across writes, malformed requests (each must get its status and then be closed, and the
server must live on), the idle timeout and the connection limit.

usage: http_raw_check.py HOST PORT ROOT CHECK...   (CHECK: pipeline malformed idle=SECONDS limit=N)
Exit status 0 only if every check passed; each failure is printed.
"""
import os
import socket
import sys
import time

HOST, PORT, ROOT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
failures = []


def connect():
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Reader:
    """Reads HTTP/1.1 responses framed by Content-Length off one socket."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def response(self, head=False):
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        header, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        length = int(headers["content-length"])
        if head:
            return status, headers, b""
        while len(self.buf) < length:
            self.fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body

    def closed(self):
        """True if the peer closes with nothing more to read."""
        try:
            return self.sock.recv(1) == b"" and self.buf == b""
        except (ConnectionResetError, socket.timeout):
            return False


def expect(what, got, want):
    if got != want:
        failures.append(f"{what}: got {got!r}, want {want!r}")


def file_bytes(path):
    with open(os.path.join(ROOT, path.lstrip("/")), "rb") as f:
        return f.read()


def check_pipeline():
    index, big = file_bytes("index.html"), file_bytes("sub/big.bin")
    s = connect()
    r = Reader(s)
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
              b"HEAD /sub/big.bin HTTP/1.1\r\nHost: t\r\n\r\n"
              b"GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"
              b"GET /sub/big.bin HTTP/1.1\r\nHost: t\r\n\r\n"
              b"GET /index.html?x=1 HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = r.response()
    expect("pipelined GET / status", status, 200)
    expect("pipelined GET / body", body, index)
    status, headers, _ = r.response(head=True)
    expect("pipelined HEAD status", status, 200)
    expect("pipelined HEAD length", int(headers["content-length"]), len(big))
    status, _, _ = r.response()
    expect("pipelined 404 status", status, 404)
    status, _, body = r.response()
    expect("pipelined big file status", status, 200)
    expect("pipelined big file body intact", body == big, True)
    status, _, body = r.response()
    expect("pipelined GET with query", (status, body), (200, index))
    # The same connection still serves, one byte at a time.
    for b in b"GET / HTTP/1.1\r\nHost: t\r\n\r\n":
        s.send(bytes([b]))
        time.sleep(0.002)
    status, _, body = r.response()
    expect("request split in 1-byte writes", (status, body), (200, index))
    # HTTP/1.0 without keep-alive: answered, then closed.
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    status, headers, _ = r.response()
    expect("HTTP/1.0 status", status, 200)
    expect("HTTP/1.0 closes", r.closed(), True)
    s.close()


MALFORMED = [
    ("garbage line", b"GARBAGE\r\n\r\n", 400),
    ("no Host in HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("space before colon", b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400),
    ("bad Content-Length", b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n", 400),
    ("HTTP/2.0 request line", b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
    ("body too large", b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n", 413),
    ("header section too large", b"GET / HTTP/1.1\r\nHost: t\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431),
    ("request line too long", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    ("chunked request body", b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
]

WELL_FORMED_ERRORS = [  # the connection stays open after these
    ("DELETE", b"DELETE / HTTP/1.1\r\nHost: t\r\n\r\n", 405),
    ("path above the root", b"GET /../../etc/passwd HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    ("unknown method", b"BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n", 501),
    ("POST with a body", b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc", 405),
]


def check_malformed():
    for name, request, want in MALFORMED:
        s = connect()
        r = Reader(s)
        s.sendall(request)
        try:
            status, headers, _ = r.response()
        except (EOFError, ConnectionResetError) as e:
            failures.append(f"{name}: no response ({e})")
            continue
        expect(name, status, want)
        expect(f"{name}: Connection header", headers.get("connection"), "close")
        expect(f"{name}: closed after the response", r.closed(), True)
        s.close()
    s = connect()
    r = Reader(s)
    for name, request, want in WELL_FORMED_ERRORS:
        s.sendall(request)
        status, _, _ = r.response()
        expect(name, status, want)
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    expect("GET after the errors, same connection", r.response()[0], 200)
    s.close()


def check_idle(seconds):
    s = connect()
    start = time.monotonic()
    s.settimeout(seconds * 3 + 5)
    try:
        data = s.recv(1)
    except socket.timeout:
        data = None
    waited = time.monotonic() - start
    expect("idle connection closed by the server", data, b"")
    if not seconds * 0.9 <= waited <= seconds * 1.5 + 1:
        failures.append(f"idle timeout {seconds}s closed after {waited:.1f}s")
    s.close()


def check_limit(limit):
    socks = [connect() for _ in range(limit + 6)]
    served = 0
    for s in socks:
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    for s in socks:
        try:
            served += Reader(s).response()[0] == 200
        except (EOFError, ConnectionResetError):
            pass
    expect(f"connections served of {limit + 6} with --max-connections {limit}", served, limit)
    for s in socks:
        s.close()


for check in sys.argv[4:]:
    name, _, arg = check.partition("=")
    {"pipeline": lambda _: check_pipeline(), "malformed": lambda _: check_malformed(),
     "idle": lambda a: check_idle(float(a)), "limit": lambda a: check_limit(int(a))}[name](arg)
    print(f"http_raw_check: {name}: {'FAILED' if failures else 'ok'}")
    if failures:
        break
for f in failures:
    print("http_raw_check: FAIL:", f)
sys.exit(1 if failures else 0)
