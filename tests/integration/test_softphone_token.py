"""POST /api/softphone/token: a Twilio Voice access token for the caller's agent. The token
is checked the way Twilio would: header (cty twilio-fpa;v=1), claims, Voice grant, identity,
lifetime, and an HMAC-SHA256 signature over the API key secret; tampering breaks it. Also
auth, optional body and its bounds, the not-configured answer, --check-config, and that the
secret never reaches the log."""

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
API_KEY_SID = "SK" + "fedcba9876543210" * 2
APP_SID = "AP" + "00112233445566778899aabbccddeeff"
PATH = "/api/softphone/token"


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def decode(token):
    """(header, claims, signing input, signature bytes) of a compact JWT."""
    parts = token.split(".")
    assert len(parts) == 3, token
    return (json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1])),
            (parts[0] + "." + parts[1]).encode(), b64url_decode(parts[2]))


def verifies(token, secret):
    try:
        _, _, signing_input, sig = decode(token)
    except (ValueError, AssertionError):
        return False
    want = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return hmac.compare_digest(want, sig)


class TokenCase(harness.DaemonTestCase):
    """A daemon with softphone tokens configured; `ttl` overrides [twilio] token_ttl_s."""

    ttl = None

    def setUp(self):
        self.secret = "sk-secret-" + secrets.token_hex(16)
        self.tmp = tempfile.mkdtemp(prefix="cb-tok-")
        self.addCleanup(lambda: shutil.rmtree(self.tmp, ignore_errors=True))
        self.secret_file = os.path.join(self.tmp, "twilio-api-key-secret")
        with open(self.secret_file, "w") as f:
            f.write(self.secret + "\n")
        twilio = {"account_sid": ACCOUNT_SID, "api_key_sid": API_KEY_SID,
                  "api_key_secret_file": self.secret_file, "twiml_app_sid": APP_SID}
        if self.ttl is not None:
            twilio["token_ttl_s"] = self.ttl
        self.config = {"twilio": twilio}
        super().setUp()

    def token(self, body=None, **kw):
        r = self.daemon.post(PATH, body, **kw)
        self.assertStatus(r, 200)
        self.assertEqual(set(r.body), {"token", "identity", "expires_in"}, r)
        return r.body


class TestSoftphoneToken(TokenCase):

    def test_token_is_what_twilio_expects(self):
        before = int(time.time())
        body = self.token()
        after = int(time.time())
        self.assertEqual(body["identity"], "alice")
        self.assertEqual(body["expires_in"], 3600)
        header, claims, _, _ = decode(body["token"])
        self.assertEqual(header, {"alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1"})
        self.assertEqual(set(claims), {"jti", "iss", "sub", "iat", "exp", "grants"}, claims)
        self.assertEqual(claims["iss"], API_KEY_SID)
        self.assertEqual(claims["sub"], ACCOUNT_SID)
        self.assertTrue(before <= claims["iat"] <= after, claims)
        self.assertEqual(claims["exp"] - claims["iat"], 3600)
        self.assertEqual(claims["jti"], "%s-%d" % (API_KEY_SID, claims["iat"]))
        self.assertEqual(claims["grants"], {
            "identity": "alice",
            "voice": {"incoming": {"allow": True}, "outgoing": {"application_sid": APP_SID}},
        })
        self.assertTrue(verifies(body["token"], self.secret))

    def test_tampering_breaks_the_signature(self):
        token = self.token()["token"]
        header, claims, _, _ = decode(token)
        h, c, s = token.split(".")
        self.assertFalse(verifies(token, self.secret + "x"))
        self.assertFalse(verifies(token, "wrong"))
        # another identity under the same signature
        claims["grants"]["identity"] = "mallory"
        forged = b64url(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        self.assertFalse(verifies("%s.%s.%s" % (h, forged, s), self.secret))
        # a longer life
        claims["grants"]["identity"] = "alice"
        claims["exp"] += 86400
        forged = b64url(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        self.assertFalse(verifies("%s.%s.%s" % (h, forged, s), self.secret))
        # one character of the signature, of the header
        flip = "A" if s[0] != "A" else "B"
        self.assertFalse(verifies("%s.%s.%s" % (h, c, flip + s[1:]), self.secret))
        flip = "A" if h[5] != "A" else "B"
        self.assertFalse(verifies("%s.%s.%s" % (h[:5] + flip + h[6:], c, s), self.secret))
        self.assertFalse(verifies("%s.%s." % (h, c), self.secret))

    def test_body_is_optional_and_ttl_only_shortens(self):
        cases = [
            (None, 3600),            # no body at all
            ({}, 3600),
            ({"ttl_s": None}, 3600),
            ({"ttl_s": 600}, 600),
            ({"ttl_s": 60}, 60),
            ({"ttl_s": 7200}, 3600),  # above the configured lifetime: capped
            ({"ttl_s": 86400}, 3600),
            ({"other": 1}, 3600),     # unknown members are ignored
        ]
        for body, ttl in cases:
            with self.subTest(body=body):
                got = self.token(body)
                _, claims, _, _ = decode(got["token"])
                self.assertEqual(got["expires_in"], ttl)
                self.assertEqual(claims["exp"] - claims["iat"], ttl)
                self.assertTrue(verifies(got["token"], self.secret))

    def test_bad_bodies(self):
        d = self.daemon
        cases = [
            ({"ttl_s": 59}, None, 422, "invalid_field"),
            ({"ttl_s": 0}, None, 422, "invalid_field"),
            ({"ttl_s": -5}, None, 422, "invalid_field"),
            ({"ttl_s": 86401}, None, 422, "invalid_field"),
            ({"ttl_s": "600"}, None, 422, "invalid_field"),
            ({"ttl_s": 600.5}, None, 422, "invalid_field"),
            ({"ttl_s": True}, None, 422, "invalid_field"),
            ("[]", None, 400, "invalid_body"),
            ("\"x\"", None, 400, "invalid_body"),
            ("{", None, 400, "malformed_json"),
            ("{\"ttl_s\":1,\"ttl_s\":2}", None, 400, "malformed_json"),
            ("ttl_s=600", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
             "unsupported_media_type"),
            ("{}", {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
            ({"pad": "x" * 2000}, None, 413, "payload_too_large"),
        ]
        for body, headers, status, code in cases:
            with self.subTest(body=body if len(str(body)) < 80 else "big"):
                self.assertError(d.post(PATH, body, headers=headers), status, code)

    def test_auth_and_method(self):
        d = self.daemon
        self.assertError(d.post(PATH, token=None), 401, "unauthorized")
        self.assertError(d.post(PATH, {}, token=None), 401, "unauthorized")
        self.assertError(d.post(PATH, token="cbk_nope_nope"), 401, "unauthorized")
        self.assertError(d.get(PATH), 405, "method_not_allowed")

    def test_each_agent_gets_its_own_identity(self):
        bob = self.daemon.apikey("bob.smith@example.com")
        body = self.token(token=bob)
        self.assertEqual(body["identity"], "bob.smith@example.com")
        _, claims, _, _ = decode(body["token"])
        self.assertEqual(claims["grants"]["identity"], "bob.smith@example.com")

    def test_agent_name_that_cannot_be_an_identity(self):
        # apikey create allows 127 characters; Twilio identities stop at 121
        self.assertEqual(len(self.token(token=self.daemon.apikey("x" * 121))["identity"]), 121)
        key = self.daemon.apikey("y" * 122)
        self.assertError(self.daemon.post(PATH, token=key), 422, "invalid_field")

    def test_secret_never_logged(self):
        tokens = [self.token()["token"] for _ in range(3)]
        self.daemon.post(PATH, {"ttl_s": 1})
        self.daemon.post(PATH, token=None)
        self.daemon.kill(signal.SIGHUP)
        time.sleep(0.3)
        self.assertEqual(self.daemon.stop(), 0)
        with open(self.daemon.log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertIn("softphone tokens on", log)
        self.assertNotIn(self.secret, log)
        for t in tokens:
            self.assertNotIn(t.split(".")[2], log)


class TestConfiguredLifetime(TokenCase):
    ttl = 120

    def test_configured_ttl_and_reload(self):
        got = self.token({"ttl_s": 3600})
        self.assertEqual(got["expires_in"], 120)
        _, claims, _, _ = decode(got["token"])
        self.assertEqual(claims["exp"] - claims["iat"], 120)
        # SIGHUP picks up a new [twilio] token_ttl_s
        self.daemon.write_config({"twilio": {"token_ttl_s": 900}})
        self.daemon.kill(signal.SIGHUP)
        self.wait_for(lambda: self.token()["expires_in"] == 900, 10, "token_ttl_s reloaded")


class TestNotConfigured(harness.DaemonTestCase):
    """No [twilio] token keys: the endpoint says so; the daemon runs all the same."""

    def test_503_with_a_clear_code(self):
        d = self.daemon
        r = d.post(PATH)
        self.assertError(r, 503, "softphone_tokens_not_configured")
        self.assertIn("twiml_app_sid", r.body["error"]["message"])
        self.assertError(d.post(PATH, {"ttl_s": 600}), 503, "softphone_tokens_not_configured")
        self.assertError(d.post(PATH, token=None), 401, "unauthorized")
        with open(d.log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertIn("softphone tokens are off", log)
        self.assertIn("api_key_sid", log)


class TestConfigChecks(harness.DaemonTestCase):
    autostart = False

    def test_check_config_names_the_missing_keys(self):
        d = self.new_daemon({"twilio": {"account_sid": ACCOUNT_SID, "api_key_sid": API_KEY_SID,
                                        "api_key_secret_file": "/etc/hostname"}})
        p = d.cli("--check-config", "-c", d.conf_path)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("[twilio] twiml_app_sid", p.stdout + p.stderr)
        d.write_config({"twilio": {"twiml_app_sid": APP_SID, "account_sid": None}})
        p = d.cli("--check-config", "-c", d.conf_path)
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("[twilio] account_sid", p.stdout + p.stderr)
        self.assertNotIn("[twilio] twiml_app_sid", p.stdout + p.stderr)
        d.write_config({"twilio": {"account_sid": ACCOUNT_SID}})
        p = d.cli("--check-config", "-c", d.conf_path)
        self.assertEqual(p.returncode, 0, p)

    def test_unreadable_secret_is_fatal_at_start(self):
        missing = os.path.join(tempfile.gettempdir(), "cb-no-such-secret-%s" % secrets.token_hex(4))
        empty = tempfile.NamedTemporaryFile(prefix="cb-empty-secret-", delete=False)
        empty.close()
        self.addCleanup(os.unlink, empty.name)
        for path in (missing, empty.name):
            with self.subTest(path=path):
                d = self.new_daemon({"twilio": {"account_sid": ACCOUNT_SID,
                                                "api_key_sid": API_KEY_SID,
                                                "api_key_secret_file": path,
                                                "twiml_app_sid": APP_SID}})
                # a missing file is already a configuration error; an empty one is not
                p = d.cli("--check-config", "-c", d.conf_path)
                self.assertEqual(p.returncode, 1 if path == missing else 0, p)
                d.start(wait=False)
                self.assertNotEqual(d.wait_exit(30), 0)
                self.assertIn("api_key_secret_file", d.log_tail())


if __name__ == "__main__":
    harness.main()
