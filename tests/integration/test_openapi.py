"""GET /openapi.json: the OpenAPI 3.1 description built into the binary from
docs/openapi.yaml, public, cacheable (strong ETag, 304 to If-None-Match), and the checker every
other integration test runs its responses through (openapi_check.py) catches drift."""

import json
import os

import harness
import openapi_check
from harness import DaemonTestCase


class OpenApiTest(DaemonTestCase):
    def test_served_without_a_token_as_the_built_description(self):
        resp = self.daemon.get("/openapi.json", token=None)
        self.assertStatus(resp, 200)
        self.assertTrue(resp.headers.get("Content-Type", "").startswith("application/json"))
        self.assertEqual(resp.body["openapi"][:4], "3.1.")
        with open(openapi_check.spec_path(self.daemon.bin), encoding="utf-8") as f:
            self.assertEqual(resp.body, json.load(f))
        self.assertIn("/openapi.json", resp.body["paths"])
        self.assertIn("max-age", resp.headers.get("Cache-Control", ""))
        self.assertRegex(resp.headers.get("ETag", ""), r'^"[0-9a-f]{32}"$')

    def test_if_none_match_answers_304_without_a_body(self):
        etag = self.daemon.get("/openapi.json", token=None).headers["ETag"]
        for given in (etag, "W/" + etag, '"other", ' + etag, "*"):
            resp = self.daemon.get("/openapi.json", token=None, headers={"If-None-Match": given})
            self.assertEqual((resp.status, resp.raw), (304, b""), given)
            self.assertEqual(resp.headers.get("ETag"), etag)
        resp = self.daemon.get("/openapi.json", token=None, headers={"If-None-Match": '"x"'})
        self.assertStatus(resp, 200)

    def test_head_and_wrong_method(self):
        resp = self.daemon.request("HEAD", "/openapi.json", token=None)
        self.assertEqual((resp.status, resp.raw), (200, b""))
        self.assertError(self.daemon.post("/openapi.json", token=None), 405,
                         "method_not_allowed")

    def test_checker_catches_drift(self):
        """What openapi_check refuses: a status, a body shape, a type, a path the description
        does not have."""
        spec = openapi_check.load(self.daemon.bin)
        ok = self.daemon.get("/healthz", token=None)
        cases = [
            (418, ok.headers, {"status": "ok"}, b"{}", "/healthz", "status 418"),
            (200, ok.headers, {"status": "fine"}, b"{}", "/healthz", "'ok' was expected"),
            (200, {"Content-Type": "text/html"}, b"<p>", b"<p>", "/healthz", "text/html"),
            (200, ok.headers, {}, b"{}", "/api/nope", "no path"),
            (404, ok.headers, {"error": {"code": "nope", "message": "x"}}, b"{}",
             "/api/calls/x", "is not one of"),
        ]
        for status, headers, body, raw, path, expect in cases:
            found = openapi_check.findings(spec, "GET", path, status, headers, body, raw)
            self.assertTrue(any(expect in f for f in found), (path, status, found))
        self.assertEqual(openapi_check.findings(spec, "GET", "/healthz", 200, ok.headers,
                                                ok.body, ok.raw), [])


if __name__ == "__main__":
    harness.main()
