"""The HTTP layer: central 404/405/413/414/415 handling and the error shape, the operations
endpoints (/healthz, /readyz, /metrics) and SIGHUP (SPEC §4-§5, issue 2 items 6, 10, 12)."""

import json
import re
import signal
import uuid

import harness
from harness import DaemonTestCase

TO = "+14155550123"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format → list of (name, {label: value}, float)."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = SAMPLE.match(line.strip())
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        labels = dict(LABEL.findall(m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def route_is(value, route):
    """Route labels may be written '/healthz' or 'healthz'."""
    return value.strip("/") == route.strip("/")


# (method, path, allowed method that must be listed in Allow)
WRONG_METHODS = [
    ("DELETE", "/api/call/initiate", "POST"),
    ("GET", "/api/call/initiate", "POST"),
    ("PUT", "/api/calls", "GET"),
    ("DELETE", "/api/calls/" + str(uuid.uuid4()), "GET"),
    ("POST", "/healthz", "GET"),
    ("POST", "/readyz", "GET"),
    ("POST", "/metrics", "GET"),
]


class HttpTest(DaemonTestCase):

    def metrics(self):
        resp = self.daemon.get("/metrics", token=None)
        self.assertStatus(resp, 200)
        self.assertTrue((resp.headers.get("Content-Type") or "").startswith("text/plain"),
                        repr(resp))
        return parse_metrics(resp.raw.decode("utf-8"))

    def metric_value(self, name, **want):
        """Sum of samples of `name` whose labels match `want` (route compared loosely), or
        None when there is none."""
        total, found = 0.0, False
        for n, labels, value in self.metrics():
            if n != name:
                continue
            ok = True
            for k, v in want.items():
                got = labels.get(k)
                if got is None or not (route_is(got, v) if k == "route" else got == v):
                    ok = False
            if ok:
                total += value
                found = True
        return total if found else None

    def wait_metric(self, name, least, timeout=10, **want):
        """Poll /metrics until the samples of `name` matching `want` sum to >= least."""
        try:
            self.wait_for(lambda: (self.metric_value(name, **want) or 0) >= least, timeout,
                          "%s%r >= %g" % (name, want, least), interval=0.1)
        except AssertionError as e:
            samples = ["%s%r %g" % s for s in self.metrics() if s[0] == name]
            raise AssertionError("%s; samples of %s now:\n  %s"
                                 % (e, name, "\n  ".join(samples) or "(none)")) from None

    # ---- central errors

    def test_unknown_routes(self):
        for method, path in (("GET", "/nope"), ("GET", "/api/nope"), ("POST", "/api/call/nope"),
                             ("GET", "/api/calls/%s/bogus" % uuid.uuid4()),
                             ("GET", "/healthz/extra")):
            with self.subTest(method=method, path=path):
                self.assertError(self.daemon.request(method, path), 404, "route_not_found")

    def test_wrong_method_lists_allowed_methods(self):
        for method, path, allowed in WRONG_METHODS:
            with self.subTest(method=method, path=path):
                resp = self.daemon.request(method, path, body={} if method != "GET" else None)
                self.assertError(resp, 405, "method_not_allowed")
                allow = [m.strip() for m in (resp.headers.get("Allow") or "").split(",")]
                self.assertIn(allowed, allow, repr(resp))
                self.assertNotIn(method, allow, repr(resp))

    def test_uri_too_long(self):
        for path in ("/healthz?pad=" + "a" * 10240, "/api/calls/" + "a" * 10240,
                     "/" + "b" * 10240):
            with self.subTest(length=len(path), start=path[:12]):
                self.assertError(self.daemon.get(path), 414, "uri_too_long")
        self.assertStatus(self.daemon.get("/healthz"), 200)

    def test_unsupported_media_type(self):
        for ctype in ("text/plain", "application/xml", "multipart/form-data; boundary=x"):
            with self.subTest(ctype=ctype):
                self.assertError(self.daemon.initiate('{"to": "%s"}' % TO,
                                                      headers={"Content-Type": ctype}),
                                 415, "unsupported_media_type")

    def test_payload_too_large(self):
        for size in (1048576 + 1, 2 << 20, 8 << 20):
            with self.subTest(size=size):
                resp = self.daemon.initiate(b"{" + b" " * (size - 2) + b"}")
                self.assertError(resp, 413, "payload_too_large")
        self.assertEqual(self.daemon.count("calls"), 0)
        self.assertStatus(self.daemon.initiate({"to": TO}), 202)

    def test_unauthorized_carries_www_authenticate(self):
        for path in ("/api/calls", "/api/calls/" + str(uuid.uuid4())):
            with self.subTest(path=path):
                resp = self.daemon.get(path, token=None)
                self.assertError(resp, 401, "unauthorized")
                self.assertTrue((resp.headers.get("WWW-Authenticate") or "").startswith("Bearer"),
                                repr(resp))

    # ---- operations endpoints

    def test_healthz(self):
        resp = self.daemon.get("/healthz", token=None)
        self.assertStatus(resp, 200)
        self.assertTrue(resp.headers.get("Content-Type", "").startswith("application/json"))
        self.assertEqual(resp.body, {"status": "ok"})
        self.assertTrue(resp.headers.get("X-Request-Id"))

    def test_readyz(self):
        resp = self.daemon.get("/readyz", token=None)
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body.get("status"), "ready", repr(resp))
        self.assertEqual(resp.body.get("checks"),
                         {"postgres": "ok", "redis": "ok", "migrations": "ok"})

    def test_metrics_count_requests_by_route_and_status(self):
        for _ in range(3):
            self.assertStatus(self.daemon.get("/healthz", token=None), 200)
        self.assertStatus(self.daemon.initiate({"to": TO}), 202)
        self.assertStatus(self.daemon.initiate({"to": TO}, token=None), 401)

        self.wait_metric("callbridge_http_requests_total", 3, route="/healthz", status="200")
        self.wait_metric("callbridge_http_requests_total", 1, route="/api/call/initiate",
                         status="202")
        self.wait_metric("callbridge_http_requests_total", 1, route="/api/call/initiate",
                         status="401")
        self.wait_metric("callbridge_http_request_duration_seconds_bucket", 3,
                         route="/healthz", le="+Inf")
        self.wait_metric("callbridge_http_request_duration_seconds_count", 3, route="/healthz")

    def test_metrics_job_queue_depth_and_outcomes(self):
        self.daemon.sql("INSERT INTO jobs (kind, payload, available_at) VALUES "
                        "('debug.sleep', '{\"ms\": 1}', now() + interval '1 hour')")
        self.wait_metric("callbridge_jobs", 1, timeout=15, kind="debug.sleep", state="queued")

        done = self.daemon.insert_job("debug.sleep", {"ms": 1})
        dead = self.daemon.insert_job("debug.fail", {"permanent": True})
        retried = self.daemon.insert_job("debug.fail", {"permanent": False})
        self.daemon.wait_job_state(done, "done")
        self.daemon.wait_job_state(dead, "dead")
        self.daemon.wait_job_state(retried, "dead")
        for kind, outcome, least in (("debug.sleep", "done", 1), ("debug.fail", "dead", 2),
                                     ("debug.fail", "retry", 4)):
            self.wait_metric("callbridge_job_outcomes_total", least, kind=kind, outcome=outcome)

    def test_sighup_reloads_log_level(self):
        # Start quiet; a request handled now must leave no access-log line.
        self.daemon.stop()
        self.daemon.write_config({"log": {"level": "error"}})
        self.daemon.start()
        quiet = "quiet-" + uuid.uuid4().hex[:8]
        self.daemon.get("/" + quiet, headers={"X-Request-Id": quiet})

        self.daemon.write_config({"log": {"level": "debug"}})
        self.daemon.kill(signal.SIGHUP)
        probes = []

        def logged():
            probe = "loud-" + uuid.uuid4().hex[:8]
            probes.append(probe)
            self.assertStatus(self.daemon.get("/" + probe, headers={"X-Request-Id": probe}), 404)
            log = open(self.daemon.log_path, encoding="utf-8", errors="replace").read()
            return any(p in log for p in probes)
        self.wait_for(logged, 10, "a request to be logged after SIGHUP raised the level",
                      interval=0.2)
        log = open(self.daemon.log_path, encoding="utf-8", errors="replace").read()
        self.assertNotIn(quiet, log, "logged at level=error before the reload")
        self.assertTrue(self.daemon.running(), "SIGHUP killed the daemon")
        self.assertStatus(self.daemon.initiate({"to": TO}), 202)


    def test_requests_on_open_connections_while_draining_get_503(self):
        """SIGTERM drains: a request arriving on a kept-alive connection meanwhile is refused
        with 503 (never parked: a connection suspended after the drain aborted the stop), and
        the daemon still exits 0."""
        import http.client
        import socket
        d = self.daemon
        keep = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
        keep.request("GET", "/healthz")
        r = keep.getresponse()
        r.read()
        self.assertEqual(r.status, 200)
        # A request whose body has not all arrived holds the drain open.
        slow = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        slow.sendall(b"POST /api/call/initiate HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + self.key.encode() + b"\r\n"
                     b"Expect: 100-continue\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n")
        # 100 Continue: the daemon has the request (in flight) and waits for its body.
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = slow.recv(4096)
            self.assertTrue(chunk, "the connection closed before 100 Continue")
            got += chunk
        self.assertIn(b"100 Continue", got)
        slow.sendall(b'{"to"')
        d.kill(signal.SIGTERM)

        def draining():
            with open(d.log_path, encoding="utf-8", errors="replace") as f:
                return "draining" in f.read()
        harness.wait_for(draining, 10, "the drain to begin")
        for path in ("/healthz", "/api/agent/status"):
            keep.request("GET", path, headers={"Authorization": "Bearer " + self.key})
            r = keep.getresponse()
            body = r.read()
            self.assertEqual(r.status, 503, body)
            self.assertEqual(json.loads(body)["error"]["code"], "not_ready")
        slow.close()
        keep.close()
        self.assertEqual(d.wait_exit(20), 0, "SIGTERM must exit 0")


if __name__ == "__main__":
    harness.main()
