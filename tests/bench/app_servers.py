"""Servers and network plumbing for run-app-bench: a network namespace of the bench's own,
TAP devices in it for the Pollux-hosted apps, and the reference servers (Debian's nginx and
redis-server) with configurations written here. Everything is undone by Bench.close()."""
import os
import shutil
import signal
import subprocess
import tempfile
import time


class Bench:
    def __init__(self, log):
        self.log = log
        self.ns = f"pxbench-{os.getpid()}"
        self.work = tempfile.mkdtemp(prefix="app-bench-")
        self.procs = []
        self.taps = 0
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        subprocess.run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True)

    def nsx(self, *cmd):
        return ["ip", "netns", "exec", self.ns, *cmd]

    def tap(self):
        """A new TAP in the namespace; returns (name, Linux-side address, Pollux-side address)."""
        self.taps += 1
        name, base = f"pxb{self.taps}", f"10.9{self.taps}.0"
        for cmd in (["tuntap", "add", "dev", name, "mode", "tap"], ["addr", "add", f"{base}.1/24", "dev", name],
                    ["link", "set", name, "up"]):
            subprocess.run(["ip", "-n", self.ns, *cmd], check=True)
        return name, f"{base}.1", f"{base}.2"

    def start(self, name, cmd, ready, env=None):
        """Runs cmd in the namespace until `ready` (a callable) says it serves; returns the Popen."""
        log = open(os.path.join(self.work, f"{name}.log"), "w")
        full = self.nsx("env", *[f"{k}={v}" for k, v in (env or {}).items()], *cmd)
        p = subprocess.Popen(full, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(p)
        for _ in range(100):
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited at start; see {log.name}: {open(log.name).read()[-2000:]}")
            if ready():
                return p
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not start in 10 s")

    def port_open(self, host, port):
        return lambda: subprocess.run(self.nsx("nc", "-z", "-w", "1", host, str(port)),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    def stop(self, p):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def nginx(self, root, port):
        conf = os.path.join(self.work, "nginx.conf")
        tmp = os.path.join(self.work, "nginx-tmp")
        os.makedirs(tmp, exist_ok=True)
        # One worker, as our apps have one event loop thread; no access log, keep-alive without
        # a request cap, sendfile: nginx as one would tune it for this.
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
daemon off;
master_process off;
pid {self.work}/nginx.pid;
error_log stderr;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 60;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ text/html html; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
""")
        return self.start("nginx", ["nginx", "-e", "stderr", "-p", self.work, "-c", conf],
                          self.port_open("127.0.0.1", port))

    def redis(self, port):
        return self.start("redis-server", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                           "--appendonly", "no", "--daemonize", "no", "--dir", self.work],
                          self.port_open("127.0.0.1", port))

    def close(self):
        for p in self.procs:
            try:
                self.stop(p)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.work, ignore_errors=True)
