"""The sandbox standing in for Salesforce, and a daemon configured against it.

`Sandbox` starts `callbridge-sandbox` on a free loopback port with a fresh RSA key pair
(made with the openssl CLI: the daemon signs its JWT assertions with the private key, the
sandbox checks them against the certificate), a client secret, and seeded Users. Tests use
its control API (/__sandbox/*) to seed records, inspect state and request counts, inject
faults and expire tokens.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest
import urllib.parse

import harness
from harness import free_port, http_request, wait_for

CLIENT_ID = "3MVG9callbridgeTestConsumerKey"
USERNAME = "integration@callbridge.test"
USER_ID = "005000000000001AAA"


def sandbox_bin():
    b = os.environ.get("CB_SANDBOX_BIN")
    if not b:
        b = os.path.join(os.environ.get("CB_BUILD_DIR", ""), "callbridge-sandbox")
    if not os.path.exists(b):
        raise RuntimeError("callbridge-sandbox not found: build it and set CB_SANDBOX_BIN")
    return b


def redis_command(url, *args):
    """Run one command on the Redis at `url` (redis://host:port/db); returns the raw reply
    bytes. Enough for DEL/KEYS in tests, no client library needed."""
    u = urllib.parse.urlparse(url)
    db = (u.path or "/0").lstrip("/") or "0"

    def resp(parts):
        out = b"*%d\r\n" % len(parts)
        for p in parts:
            p = p.encode() if isinstance(p, str) else p
            out += b"$%d\r\n%s\r\n" % (len(p), p)
        return out
    with socket.create_connection((u.hostname, u.port or 6379), timeout=5) as s:
        s.sendall(resp(["SELECT", db]) + resp(list(args)))
        data = b""
        while data.count(b"\r\n") < 2:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n", 1)[1]


def forget_salesforce_token(redis_url, prefix):
    """Drop the shared Salesforce tokens under `prefix` so the next daemon asks for one."""
    keys = redis_command(redis_url, "KEYS", prefix + "sf:token:*")
    for line in keys.split(b"\r\n"):
        if line.startswith(prefix.encode() + b"sf:"):
            redis_command(redis_url, "DEL", line.decode())


class Sandbox:
    """One callbridge-sandbox process with its own key pair and secrets."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cb-sb-")
        self.key = os.path.join(self.dir, "sf-key.pem")
        self.cert = os.path.join(self.dir, "sf-cert.pem")
        self.secret_file = os.path.join(self.dir, "sf-secret")
        self.log_path = os.path.join(self.dir, "sandbox.log")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", self.key, "-out", self.cert, "-days", "2",
                        "-subj", "/CN=callbridge-test"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.chmod(self.dir, 0o755)
        os.chmod(self.key, 0o644)  # the daemon may run as another user under scripts/test
        with open(self.secret_file, "w") as f:
            f.write("sandbox-client-secret\n")
        os.chmod(self.secret_file, 0o644)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None
        # Daemons of one test share Redis keys (the token, lookups); other tests do not.
        self.key_prefix = "cbt%s:" % os.urandom(4).hex()

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sandbox_bin(), "--listen", "127.0.0.1:%d" % self.port,
                 "--sf-client-id", CLIENT_ID, "--sf-cert-file", self.cert,
                 "--sf-client-secret-file", self.secret_file],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("sandbox exited with %d" % self.proc.returncode)
            try:
                return self.request("GET", "/__sandbox/health")[0] == 200
            except OSError:
                return False
        wait_for(up, 20, "sandbox health")
        self.seed({"User": [{"Id": USER_ID, "Username": USERNAME, "Name": "Integration User",
                             "Email": USERNAME, "IsActive": True}]})
        return self

    def stop(self):
        """SIGTERM; returns the exit code. Sanitizer reports fail the test (see reports)."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def reports(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return [ln for ln in f if any(m in ln for m in harness.SANITIZER_MARKERS)]
        except OSError:
            return []

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- control API

    def request(self, method, path, body=None, headers=None):
        hdrs = {"Host": "127.0.0.1:%d" % self.port, "Connection": "close"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
            hdrs["Content-Length"] = str(len(data))
        hdrs.update(headers or {})
        r = http_request("127.0.0.1", self.port, method, path, hdrs, data, 30)
        body = r.body
        if isinstance(body, (bytes, bytearray)):
            body = json.loads(body) if body else None
        return r.status, body

    def control(self, path, body):
        status, out = self.request("POST", path, body)
        if status != 200:
            raise AssertionError("sandbox %s answered %d: %r" % (path, status, out))
        return out

    def seed(self, body):
        return self.control("/__sandbox/seed", body)

    def faults(self, **kw):
        return self.control("/__sandbox/faults", kw)

    def expire_tokens(self):
        return self.control("/__sandbox/salesforce/expire", {})

    def state(self):
        return self.request("GET", "/__sandbox/state")[1]

    def records(self, sobject):
        """Every record of `sobject` the sandbox holds (created through REST or seeded)."""
        return self.state().get(sobject, [])

    def count(self, endpoint):
        return int(self.state().get("requests", {}).get(endpoint, 0))

    def daemon_config(self, **salesforce):
        """Overrides that point a daemon's [salesforce] at this sandbox (JWT flow)."""
        sf = {"enabled": True, "login_url": self.url, "auth": "jwt", "client_id": CLIENT_ID,
              "username": USERNAME, "private_key_file": self.key, "api_version": "v60.0",
              "timeout_ms": 5000}
        sf.update(salesforce)
        return {"salesforce": sf, "redis": {"key_prefix": self.key_prefix}}
