"""Security of the HTTP layer (issue 11, security findings): nosniff on every response,
ambiguous request framing refused, slow clients cut at [server] connection_timeout_s, a
per-address connection limit, and an access log that hides phone numbers and credentials
but keeps call ids whole."""

import http.client
import json
import select
import socket
import time
import uuid

import harness
from harness import DaemonTestCase


def raw_exchange(port, data, timeout=10):
    """Send `data` on a fresh connection, read until the server closes; return the bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
        return out


def status_of(raw):
    line = raw.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def closed_by_server(sock, deadline, dribble=None):
    """Wait until the server closes `sock` (EOF or reset) or `deadline` (monotonic) passes;
    meanwhile call dribble(sock) each half second, as a slow client would. True when closed."""
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], 0.5)
        if readable:
            try:
                if not sock.recv(65536):
                    return True
            except (ConnectionResetError, BrokenPipeError):
                return True
            continue
        if dribble is not None:
            try:
                dribble(sock)
            except (ConnectionResetError, BrokenPipeError):
                return True
    return False


class FramingAndHeadersTest(DaemonTestCase):

    def test_nosniff_on_every_response(self):
        for resp in (self.daemon.get("/healthz", token=None),
                     self.daemon.get("/no/such/route", token=None),
                     self.daemon.get("/api/calls", token=None),
                     self.daemon.get("/api/calls"),
                     self.daemon.initiate({"to": "not a phone"})):
            self.assertEqual(resp.headers.get("X-Content-Type-Options"), "nosniff", repr(resp))

    def test_conflicting_content_length_is_400(self):
        body = json.dumps({"to": "+14155550123"}).encode()
        head = ("POST /api/call/initiate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nConnection: close\r\n" % self.key).encode()
        cases = [
            b"Content-Length: %d\r\nContent-Length: 2\r\n" % len(body),
            b"Content-Length: 2\r\nContent-Length: %d\r\n" % len(body),
            b"Content-Length: %d, 2\r\n" % len(body),
            b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(body),
        ]
        for framing in cases:
            raw = raw_exchange(self.daemon.port, head + framing + b"\r\n" + body)
            self.assertEqual(status_of(raw), 400, "%r → %r" % (framing, raw[:300]))
        self.assertEqual(self.daemon.count("calls"), 0, "a smuggled request created a call")
        # one Content-Length is fine
        raw = raw_exchange(self.daemon.port,
                           head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.assertEqual(status_of(raw), 202, raw[:300])

    def test_access_log_masks_phones_and_secrets_not_call_ids(self):
        call_id = "0b7e4a5c-9a4f-4e3b-8341-498512345678"
        sig = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        marker = uuid.uuid4().hex.translate(str.maketrans("0123456789", "ghijklmnop"))
        self.daemon.get("/api/calls/" + call_id)
        self.daemon.get("/api/lookup?phone=%2B14155550123")
        self.daemon.get("/api/lookup?phone=%34%31%35%35%35%35%30%31%39%39")
        self.daemon.get("/r/%s?exp=1700000000&sig=%s" % (call_id, sig), token=None)
        self.daemon.get("/api/calls?m=" + marker, token=None)

        def log():
            return open(self.daemon.log_path, encoding="utf-8", errors="replace").read()
        self.wait_for(lambda: marker in log(), 10, "the last request in the access log")
        text = log()
        targets = [json.loads(line).get("target", "") for line in text.splitlines()
                   if line.startswith("{") and '"msg":"request"' in line]
        self.assertIn("/api/calls/" + call_id, targets, "the call id is not logged whole")
        self.assertNotIn(sig, text, "the link signature is in the log")
        for digits in ("4155550123", "4155550199"):
            self.assertNotIn(digits, text, "a phone number is in the log")
        self.assertTrue(any(t.startswith("/r/%s?" % call_id) and t.endswith("sig=***")
                            for t in targets), targets)


class SlowClientTest(DaemonTestCase):
    config = {"server": {"connection_timeout_s": 2}}

    def test_dribbled_headers_are_cut(self):
        with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            n = [0]

            def more(sock):
                n[0] += 1
                sock.sendall(b"X-Slow-%d: y\r\n" % n[0])
            self.assertTrue(closed_by_server(s, time.monotonic() + 15, more),
                            "a client dribbling headers kept its connection")
        metrics = self.daemon.get("/metrics", token=None).raw.decode()
        cut = [line for line in metrics.splitlines()
               if line.startswith("callbridge_http_slow_requests_cut_total ")]
        self.assertTrue(cut and float(cut[0].split()[1]) >= 1, cut)

    def test_dribbled_body_is_cut(self):
        with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10) as s:
            s.sendall(("POST /api/call/initiate HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                       "Content-Length: 4000\r\n\r\n{" % self.key).encode())
            self.assertTrue(closed_by_server(s, time.monotonic() + 15,
                                             lambda sock: sock.sendall(b" ")),
                            "a client dribbling its body kept its connection")
        self.assertStatus(self.daemon.get("/healthz", token=None), 200)



class PerAddressLimitTest(DaemonTestCase):
    config = {"server": {"max_connections_per_ip": 3}}

    def test_connections_per_address_are_limited(self):
        held = []
        try:
            for _ in range(3):
                s = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10)
                s.sendall(b"GET /healthz HTTP/1.1\r\n")  # a request begun, not finished
                held.append(s)
            extra = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10)
            held.append(extra)
            # refused at once, long before the 30 s request deadline could cut it
            self.assertTrue(closed_by_server(extra, time.monotonic() + 10),
                            "a 4th connection from one address was kept")
        finally:
            for s in held:
                s.close()
        def served():
            try:
                return self.daemon.get("/healthz", token=None).status == 200
            except (ConnectionError, OSError, http.client.HTTPException):
                return False  # refused: the server has not yet seen the others go
        self.wait_for(served, 10, "a new connection once the others closed")


if __name__ == "__main__":
    harness.main()
