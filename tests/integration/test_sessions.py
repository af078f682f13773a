"""Browser sessions (issue 14, CONSOLE_CONTRACT A): API-key sign-in sets an HttpOnly SameSite
cookie whose hash alone is stored; every /api route takes the cookie; cookie-authenticated
writes need X-CSRF-Token; logout, expiry, idleness and `callbridge session revoke` end a
session, the revocation on every instance within a second; the bad-input matrix."""

import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import DaemonTestCase  # noqa: E402
from sessions import Browser, cookie_of  # noqa: E402
from sse import SseStream  # noqa: E402


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


class SessionTest(DaemonTestCase):
    # Verified sessions are not cached: expiry edits in SQL are seen at once.
    config = {"auth": {"cache_ttl_s": 0}}

    def signed_in(self, key=None):
        b = Browser(self.daemon)
        r = b.sign_in(key or self.key)
        self.assertEqual(r.status, 201, r)
        return b, r

    def test_sign_in_sets_cookie_and_stores_only_its_hash(self):
        b, r = self.signed_in()
        self.assertEqual(r.body["agent"]["name"], "alice")
        self.assertIn("display_name", r.body["agent"])
        self.assertIn("crm_user_id", r.body["agent"])
        self.assertFalse(r.body["agent"]["admin"])
        self.assertTrue(r.body["expires_at"].endswith("Z"))
        setc = r.headers.get("Set-Cookie")
        for attr in ("Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=43200"):
            self.assertIn(attr, setc)
        self.assertNotIn("Secure", setc)
        self.assertGreaterEqual(len(b.cookie), 43)
        rows = self.daemon.sql("SELECT encode(token_hash, 'hex'), how, agent FROM sessions")
        self.assertEqual(rows, [[sha256_hex(b.cookie), "api_key", "alice"]])
        self.assertEqual(self.daemon.count("sessions", "csrf_token = '%s'" % b.csrf), 1)
        # the session's own csrf token, not a new one
        s = b.get("/auth/session")
        self.assertEqual(s.status, 200, s)
        self.assertEqual(s.body["csrf_token"], b.csrf)
        self.assertEqual(s.body["agent"]["name"], "alice")
        self.daemon.stop()
        with open(self.daemon.log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        for secret in (b.cookie, b.csrf, self.key):
            self.assertNotIn(secret, log)

    def test_cookie_on_api_routes_and_csrf(self):
        b, _ = self.signed_in()
        self.assertEqual(b.get("/api/calls").status, 200)
        self.assertEqual(b.get("/api/agent").body["name"], "alice")
        body = {"to": "+14155550123"}
        self.assertError(b.post("/api/call/initiate", body, csrf=False), 403, "csrf_failed")
        self.assertError(b.post("/api/call/initiate", body, csrf=False,
                                headers={"X-CSRF-Token": b.csrf[:-1] + "x"}), 403, "csrf_failed")
        self.assertError(b.post("/api/call/initiate", body, csrf=False,
                                headers={"X-CSRF-Token": ""}), 403, "csrf_failed")
        self.assertEqual(self.daemon.count("calls"), 0)  # nothing half-written
        r = b.post("/api/call/initiate", body)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(b.get("/api/calls/" + r.body["call_id"]).body["agent"], "alice")

    def test_event_stream_takes_the_cookie(self):
        b, _ = self.signed_in()
        stream = SseStream(self.daemon.port, None, headers={"Cookie": "cb_session=" + b.cookie})
        self.addCleanup(stream.close)
        self.assertEqual(stream.status, 200)
        call_id = b.post("/api/call/initiate", {"to": "+14155550123"}).body["call_id"]
        ev, _ = stream.event_for_call(call_id)
        self.assertEqual(ev["event"], "call_status")
        forged = SseStream(self.daemon.port, None, headers={"Cookie": "cb_session=" + "A" * 43})
        self.addCleanup(forged.close)
        self.assertEqual(forged.status, 401)

    def test_bearer_wins_over_cookie(self):
        bob = self.daemon.apikey("bob")
        b, _ = self.signed_in()
        # bob's bearer with alice's cookie: bob, and no CSRF needed for a bearer
        r = b.post("/api/call/initiate", {"to": "+14155550123"}, csrf=False, token=bob)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.daemon.get("/api/calls/" + r.body["call_id"], token=bob)
                         .body["agent"], "bob")
        # a bad bearer is not rescued by a good cookie
        self.assertError(b.get("/api/calls", token="cbk_0000000000000000_nope"), 401,
                         "unauthorized")
        # a bearer has no session
        self.assertError(self.daemon.get("/auth/session"), 401, "unauthorized")

    def test_logout(self):
        b, _ = self.signed_in()
        self.assertError(b.post("/auth/logout", csrf=False), 403, "csrf_failed")
        self.assertEqual(b.get("/api/calls").status, 200)
        r = b.post("/auth/logout")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(cookie_of(r), "")
        self.assertIn("Max-Age=0", r.headers.get("Set-Cookie"))
        self.assertError(b.get("/api/calls"), 401, "unauthorized")
        self.assertError(b.get("/auth/session"), 401, "unauthorized")
        self.assertError(b.post("/auth/logout"), 401, "unauthorized")
        self.assertEqual(self.daemon.count("sessions", "revoked_at IS NOT NULL"), 1)
        self.assertError(self.daemon.post("/auth/logout", token=None), 401, "unauthorized")

    def test_sign_in_bad_input(self):
        revoked = self.daemon.apikey("carol")
        kid = revoked.split("_")[1]
        self.daemon.cli("apikey", "revoke", kid, "-c", self.daemon.conf_path, check=True)
        post = lambda body, **kw: self.daemon.post("/auth/session", body, token=None, **kw)  # noqa
        cases = [
            (post("{not json"), 400, "malformed_json"),
            (post(""), 400, "malformed_json"),
            (post("[1]"), 400, "invalid_body"),
            (post({}), 422, "missing_field"),
            (post({"api_key": None}), 422, "missing_field"),
            (post({"api_key": 5}), 422, "invalid_field"),
            (post({"api_key": ["cbk_"]}), 422, "invalid_field"),
            (post({"api_key": "x" * 200}), 422, "invalid_field"),
            (post({"api_key": "cbk_0123456789abcdef_wrong"}), 401, "unauthorized"),
            (post({"api_key": self.key + "x"}), 401, "unauthorized"),
            (post({"api_key": "00Dxx!salesforceToken"}), 401, "unauthorized"),
            (post({"api_key": revoked}), 401, "unauthorized"),
            (post({"api_key": self.key}, headers={"Content-Type": "text/plain"}), 415,
             "unsupported_media_type"),
            (post({"api_key": self.key, "pad": "x" * 2000}), 413, "payload_too_large"),
        ]
        for resp, status, code in cases:
            self.assertError(resp, status, code)
            self.assertIsNone(cookie_of(resp))
        self.assertEqual(self.daemon.count("sessions"), 0)

    def test_forged_expired_idle_and_revoked_cookies(self):
        b, _ = self.signed_in()
        for forged in ("A" * 43, "garbage", b.cookie[:-1], b.cookie + "A", "", "%00"):
            self.assertError(Browser(self.daemon, forged, b.csrf).get("/api/calls"), 401,
                             "unauthorized")
        self.assertEqual(b.get("/api/calls").status, 200)
        self.daemon.sql("UPDATE sessions SET expires_at = now() - interval '1 second'")
        self.assertError(b.get("/api/calls"), 401, "unauthorized")
        b2, _ = self.signed_in()
        self.assertEqual(b2.get("/api/calls").status, 200)
        self.daemon.sql("UPDATE sessions SET last_seen_at = now() - interval '3 hours'"
                        " WHERE expires_at > now()")
        self.assertError(b2.get("/api/calls"), 401, "unauthorized")
        b3, _ = self.signed_in()
        self.daemon.sql("DELETE FROM agents WHERE name = 'alice'")  # the agent removed
        self.assertError(b3.get("/api/calls"), 401, "unauthorized")


class FailedSignInsTest(DaemonTestCase):
    """Wrong keys at POST /auth/session and forged cookies count as failed authentications of
    the address, like bad bearers."""
    config = {"auth": {"unauth_per_ip_per_min": 3}}

    def test_guessing_is_limited(self):
        for _ in range(2):
            self.assertError(self.daemon.post("/auth/session",
                                              {"api_key": "cbk_0123456789abcdef_guess"},
                                              token=None), 401, "unauthorized")
        self.assertError(Browser(self.daemon, "B" * 43).get("/api/calls"), 401, "unauthorized")
        r = Browser(self.daemon, "C" * 43).get("/api/calls")
        self.assertError(r, 429, "rate_limited")
        self.assertTrue(r.headers.get("Retry-After"))
        r = self.daemon.post("/auth/session", {"api_key": "cbk_0123456789abcdef_guess"},
                             token=None)
        self.assertError(r, 429, "rate_limited")


class SecureCookieTest(DaemonTestCase):
    config = {"server": {"public_url": "https://cb.example.test"},
              "auth": {"cookie_samesite": "None"}}

    def test_secure_over_https(self):
        r = Browser(self.daemon).sign_in(self.key)
        self.assertEqual(r.status, 201, r)
        setc = r.headers.get("Set-Cookie")
        self.assertIn("; Secure", setc)
        self.assertIn("SameSite=None", setc)

    def test_samesite_none_needs_https(self):
        self.daemon.write_config(harness.merge_config(
            self.config, {"server": {"public_url": "http://127.0.0.1:%d" % self.daemon.port}}))
        p = self.daemon.cli("--check-config", "-c", self.daemon.conf_path)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cookie_samesite", p.stderr + p.stdout)


class RevocationTest(DaemonTestCase):
    """Two instances, the default cache: a revocation reaches the other within a second."""

    def test_cli_revoke_reaches_every_instance(self):
        other = self.new_daemon(db=self.daemon.db)
        other.start()
        b = Browser(self.daemon)
        self.assertEqual(b.sign_in(self.key).status, 201)
        on_other = Browser(other, b.cookie, b.csrf)
        self.assertEqual(on_other.get("/api/calls").status, 200)  # now cached there
        p = self.daemon.cli("session", "list", "--agent", "alice", "-c", self.daemon.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        sid = self.daemon.sql_value("SELECT id FROM sessions")
        self.assertIn(sid, p.stdout)
        self.assertNotIn(b.cookie, p.stdout)
        self.assertIn("api_key", p.stdout)
        bad = self.daemon.cli("session", "revoke", "not-an-id", "-c", self.daemon.conf_path)
        self.assertEqual(bad.returncode, 2)
        p = self.daemon.cli("session", "revoke", sid, "-c", self.daemon.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.wait_for(lambda: on_other.get("/api/calls").status == 401, 5,
                      "the other instance to refuse the revoked session")
        self.assertError(b.get("/api/calls"), 401, "unauthorized")
        again = self.daemon.cli("session", "revoke", sid, "-c", self.daemon.conf_path)
        self.assertEqual(again.returncode, 1)

    def test_revoke_every_session_of_an_agent(self):
        b1, b2 = Browser(self.daemon), Browser(self.daemon)
        b1.sign_in(self.key)
        b2.sign_in(self.key)
        self.assertEqual(b1.get("/api/calls").status, 200)
        p = self.daemon.cli("session", "revoke", "--agent", "alice", "-c", self.daemon.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("2 sessions", p.stdout)
        self.wait_for(lambda: b1.get("/api/calls").status == 401, 5, "b1 refused")
        self.assertError(b2.get("/api/calls"), 401, "unauthorized")


if __name__ == "__main__":
    harness.main()
