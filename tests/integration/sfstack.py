"""The sandbox standing in for Salesforce, and a daemon configured against it.

`Sandbox` starts `callbridge-sandbox` on a free loopback port with a fresh RSA key pair
(made with the openssl CLI: the daemon signs its JWT assertions with the private key, the
sandbox checks them against the certificate), a client secret, and seeded Users. Tests use
its control API (/__sandbox/*) to seed records, inspect state and request counts, inject
faults and expire tokens.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import urllib.parse

import harness

CLIENT_ID = "3MVG9callbridgeTestConsumerKey"
USERNAME = "integration@callbridge.test"
USER_ID = "005000000000001AAA"


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


class Sandbox(harness.Sandbox):
    """harness.Sandbox with a fresh Salesforce key pair, client secret and seeded User."""

    def __init__(self):
        keydir = tempfile.mkdtemp(prefix="cb-sf-")
        os.chmod(keydir, 0o755)  # the daemon may run as another user under scripts/test
        self.key = os.path.join(keydir, "sf-key.pem")
        self.cert = os.path.join(keydir, "sf-cert.pem")
        secret = os.path.join(keydir, "sf-secret")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", self.key, "-out", self.cert, "-days", "2",
                        "-subj", "/CN=callbridge-test"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(secret, "w") as f:
            f.write("sandbox-client-secret\n")
        for p in (self.key, secret):
            os.chmod(p, 0o644)
        super().__init__(sf_client_id=CLIENT_ID, sf_cert_file=self.cert,
                         sf_client_secret_file=secret)
        self.keydir = keydir
        self.url = self.base_url
        # Daemons of one test share Redis keys (the token, lookups); other tests do not.
        self.key_prefix = "cbt%s:" % os.urandom(4).hex()

    def start(self, timeout=30):
        super().start(timeout)
        self.seed({"User": [{"Id": USER_ID, "Username": USERNAME, "Name": "Integration User",
                             "Email": USERNAME, "IsActive": True}]})
        return self

    def close(self):
        """Stop (the exit code is returned) and remove the files."""
        rc = self.stop()
        self.remove_files()
        shutil.rmtree(self.keydir, ignore_errors=True)
        return rc

    def close_checked(self, test):
        """close(), then fail `test` unless the sandbox exited 0 without sanitizer reports."""
        rc = self.stop()
        reports = self.sanitizer_reports()
        self.close()
        test.assertIn(rc, (None, 0), "sandbox exit code")
        test.assertEqual(reports, [], "sanitizer reports in the sandbox log")

    # ---- control API

    def seed(self, body):
        return self.control("seed", body)

    def faults(self, **kw):
        return self.control("faults", kw)

    def expire_tokens(self):
        return self.control("salesforce/expire", {})

    def state(self):
        return self.control("state")

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
