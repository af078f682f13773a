"""Sign in with Salesforce (issue 14, CONSOLE_CONTRACT A): the OAuth 2.0 web server flow with
PKCE against the sandbox's authorize page and token endpoint; the User maps to an agent through
agents.crm_user_id (15/18-character ids alike); the user's token is kept only sealed; bad,
replayed or forged states, denied consent, unknown users, a wrong PKCE verifier and
open-redirect return_to values are refused without a session."""

import base64
import hashlib
import os
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import DaemonTestCase  # noqa: E402
from sessions import cookie_of  # noqa: E402
from sfsignin import SalesforceLogin, split_url  # noqa: E402
from sfstack import CLIENT_ID, Sandbox  # noqa: E402
from test_recordings import new_key  # noqa: E402

REP = {"Id": "005000000000002AAA", "Username": "rep@callbridge.test", "Name": "Rita Rep",
       "Email": "rep@callbridge.test", "IsActive": True}
STRANGER = {"Id": "005000000000003AAA", "Username": "stranger@callbridge.test",
            "Name": "Sam Stranger", "Email": "stranger@callbridge.test", "IsActive": True}


def pkce_challenge(verifier):
    d = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode()


class SignInCase(DaemonTestCase):
    """A sandbox with Users, recording keys (the token is sealed with them), a daemon, and
    the agent "rita" linked to REP by the 15-character form of its id."""

    autostart = False

    def setUp(self):
        self.sb = Sandbox().start()
        self.addCleanup(self.sb.close_checked, self)
        self.sb.seed({"User": [REP, STRANGER]})
        keydir = tempfile.mkdtemp(prefix="cb-key-")
        os.chmod(keydir, 0o755)
        self.keyfile = os.path.join(keydir, "keys")
        store = tempfile.mkdtemp(prefix="cb-rec-")
        os.chmod(store, 0o777)
        over = harness.merge_config(self.sb.daemon_config(), {
            "storage": {"backend": "local", "dir": store, "key_file": self.keyfile}})
        self.daemon = self.new_daemon(over)
        _, _, line = new_key(self.daemon)
        with open(self.keyfile, "w") as f:
            f.write(line + "\n")
        os.chmod(self.keyfile, 0o600)
        self.daemon.migrate()
        self.daemon.token = self.daemon.apikey(self.agent)
        p = self.daemon.cli("agent", "add", "rita", "--display-name", "Rita Rep",
                            "--crm-user-id", REP["Id"][:15], "-c", self.daemon.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.daemon.start()
        self.login = SalesforceLogin(self.daemon, self.sb)


class SignInTest(SignInCase):
    def test_sign_in_maps_the_user_to_its_agent(self):
        r = self.login.start("/r/0b7e4a5c-9a4f-4e3b-8341-498512345678")
        self.assertEqual(r.status, 302, r)
        loc = urllib.parse.urlsplit(r.headers["Location"])
        q = urllib.parse.parse_qs(loc.query)
        self.assertEqual(loc.path, "/services/oauth2/authorize")
        self.assertEqual(q["response_type"], ["code"])
        self.assertEqual(q["client_id"], [CLIENT_ID])
        self.assertEqual(q["redirect_uri"],
                         ["http://127.0.0.1:%d/auth/salesforce/callback" % self.daemon.port])
        self.assertEqual(q["code_challenge_method"], ["S256"])
        self.assertEqual(len(q["code_challenge"][0]), 43)
        self.assertGreaterEqual(len(q["state"][0]), 43)
        self.assertIn("api", q["scope"][0])
        self.assertEqual(self.daemon.count("oauth_logins"), 1)
        # the state is kept only hashed
        self.assertEqual(self.daemon.count("oauth_logins", "state_hash = sha256('%s')"
                                           % q["state"][0]), 1)
        back = self.login.authorize(r.headers["Location"], REP["Username"])
        self.assertEqual(back.status, 302, back)
        done = self.login.callback(back.headers["Location"])
        self.assertEqual(done.status, 302, done)
        self.assertEqual(done.headers["Location"], "/r/0b7e4a5c-9a4f-4e3b-8341-498512345678")
        cookie = cookie_of(done)
        self.assertTrue(cookie)
        self.assertIn("HttpOnly", done.headers["Set-Cookie"])
        self.assertEqual(self.daemon.count("oauth_logins"), 0)  # single use
        rows = self.daemon.sql("SELECT agent, how, sf_user_id, sf_token IS NOT NULL,"
                               " substr(encode(sf_token, 'hex'), 1, 16) FROM sessions")
        self.assertEqual(rows, [["rita", "salesforce", REP["Id"], "t",
                                 b"CBBLOB1\0".hex()]])
        # the session works for the API, as rita
        _, b = self.login.sign_in(REP["Username"])
        self.assertEqual(b.get("/auth/session").body["agent"],
                         {"name": "rita", "display_name": "Rita Rep", "admin": False,
                          "crm_user_id": REP["Id"]})
        self.assertEqual(b.get("/api/agent").body["name"], "rita")
        self.assertEqual(b.post("/api/call/initiate", {"to": "+14155550123"}).status, 202)
        # nothing secret in the log: codes, states, cookies
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(back.headers["Location"]).query)
        self.daemon.stop()
        with open(self.daemon.log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        for secret in (code["code"][0], code["state"][0], cookie, b.cookie, b.csrf):
            self.assertNotIn(secret, log)

    def test_unknown_salesforce_user_gets_no_session(self):
        done, b = self.login.sign_in(STRANGER["Username"])
        self.assertEqual(done.status, 403, done)
        self.assertTrue(done.headers["Content-Type"].startswith("text/html"))
        page = done.raw.decode()
        self.assertIn("Sign-in failed", page)
        self.assertIn(STRANGER["Id"], page)
        self.assertIn('href="/console/"', page)
        self.assertIsNone(cookie_of(done))
        self.assertEqual(self.daemon.count("sessions"), 0)

    def test_replayed_forged_and_missing_state(self):
        r = self.login.start()
        back = self.login.authorize(r.headers["Location"], REP["Username"])
        first = self.login.callback(back.headers["Location"])
        self.assertEqual(first.status, 302, first)
        again = self.login.callback(back.headers["Location"])  # replayed
        self.assertEqual(again.status, 403, again)
        self.assertIn(b"bad state", again.raw)
        self.assertIsNone(cookie_of(again))
        _, target = split_url(back.headers["Location"])
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)["code"][0]
        for q, status in (({"code": code, "state": "forged" * 8}, 403),
                          ({"code": code}, 400),
                          ({"code": code, "state": ""}, 400),
                          ({"state": "x" * 300}, 403)):
            resp = self.daemon.get("/auth/salesforce/callback?" + urllib.parse.urlencode(q),
                                   token=None)
            self.assertEqual(resp.status, status, (q, resp))
            self.assertTrue(resp.headers["Content-Type"].startswith("text/html"))
            self.assertIsNone(cookie_of(resp))
        self.assertEqual(self.daemon.count("sessions"), 1)

    def test_missing_code_consumes_the_state(self):
        r = self.login.start()
        state = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)["state"]
        resp = self.daemon.get("/auth/salesforce/callback?state=" + state[0], token=None)
        self.assertEqual(resp.status, 400, resp)
        self.assertEqual(self.daemon.count("oauth_logins"), 0)

    def test_denied_consent(self):
        r = self.login.start()
        back = self.login.authorize(r.headers["Location"], REP["Username"], action="deny")
        self.assertEqual(back.status, 302, back)
        self.assertIn("error=access_denied", back.headers["Location"])
        done = self.login.callback(back.headers["Location"])
        self.assertEqual(done.status, 400, done)
        self.assertIn(b"access_denied", done.raw)
        self.assertIsNone(cookie_of(done))

    def test_return_to_is_local_only(self):
        for bad in ("//evil.example/x", "https://evil.example/", "/\\evil.example",
                    "javascript:alert(1)", "evil.example", "/ok\r\nSet-Cookie: x=1"):
            done, b = self.login.sign_in(REP["Username"], return_to=bad)
            self.assertEqual(done.status, 302, (bad, done))
            self.assertEqual(done.headers["Location"], "/console/", bad)
        done, _ = self.login.sign_in(REP["Username"], return_to="/console/?tab=calls")
        self.assertEqual(done.headers["Location"], "/console/?tab=calls")

    def test_wrong_verifier_is_refused_by_salesforce(self):
        r = self.login.start()
        back = self.login.authorize(r.headers["Location"], REP["Username"])
        self.daemon.sql("UPDATE oauth_logins SET verifier = repeat('v', 64)")
        done = self.login.callback(back.headers["Location"])
        self.assertEqual(done.status, 400, done)
        self.assertIn(b"invalid_grant", done.raw)
        self.assertIsNone(cookie_of(done))
        self.assertEqual(self.daemon.count("sessions"), 0)


class SandboxAuthorizeTest(SignInCase):
    """The sandbox's side: the token endpoint checks the client, the redirect_uri, the
    single-use code and the PKCE verifier, with Salesforce's error bodies."""

    redirect = "http://127.0.0.1:1/cb"

    def code(self, verifier="v" * 64, username=None):
        q = urllib.parse.urlencode({
            "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": self.redirect,
            "state": "s1", "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256", "login_hint": username or REP["Username"]})
        back = self.login.authorize("http://127.0.0.1:%d/services/oauth2/authorize?%s"
                                    % (self.sb.port, q), username or REP["Username"])
        self.assertEqual(back.status, 302, back)
        loc = urllib.parse.urlsplit(back.headers["Location"])
        qs = urllib.parse.parse_qs(loc.query)
        self.assertEqual(qs["state"], ["s1"])
        return qs["code"][0]

    def token(self, **form):
        body = {"grant_type": "authorization_code", "client_id": CLIENT_ID,
                "redirect_uri": self.redirect}
        body.update(form)
        body = {k: v for k, v in body.items() if v is not None}
        return self.sb.request("POST", "/services/oauth2/token", urllib.parse.urlencode(body),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})

    def assertGrantError(self, resp, error, description):
        self.assertEqual(resp.status, 400, resp)
        self.assertEqual(resp.body, {"error": error, "error_description": description})

    def test_pkce_and_single_use(self):
        self.assertGrantError(self.token(code=self.code(), code_verifier="w" * 64),
                              "invalid_grant", "invalid code verifier")
        self.assertGrantError(self.token(code=self.code()), "invalid_grant",
                              "code verifier required")
        self.assertGrantError(self.token(code=self.code(), code_verifier="v" * 64,
                                         redirect_uri="http://127.0.0.1:2/other"),
                              "invalid_grant", "redirect_uri must match configuration")
        self.assertGrantError(self.token(code=self.code(), code_verifier="v" * 64,
                                         client_id="3MVGother"),
                              "invalid_client_id", "client identifier invalid")
        code = self.code()
        ok = self.token(code=code, code_verifier="v" * 64)
        self.assertEqual(ok.status, 200, ok)
        self.assertEqual(ok.body["token_type"], "Bearer")
        who = self.sb.request("GET", "/services/oauth2/userinfo",
                              token=ok.body["access_token"])
        self.assertEqual(who.body["user_id"], REP["Id"])
        self.assertGrantError(self.token(code=code, code_verifier="v" * 64), "invalid_grant",
                              "invalid authorization code")
        self.assertGrantError(self.token(code="aPrxnope", code_verifier="v" * 64),
                              "invalid_grant", "invalid authorization code")

    def test_bad_client_or_redirect_on_the_page(self):
        for q in ({"response_type": "code", "client_id": "nope", "redirect_uri": self.redirect},
                  {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": "ftp://x"}):
            page = self.sb.request("GET", "/services/oauth2/authorize?"
                                   + urllib.parse.urlencode(q))
            self.assertEqual(page.status, 400, page)


class NotConfiguredTest(DaemonTestCase):
    def test_without_salesforce(self):
        r = self.daemon.get("/auth/salesforce/login", token=None)
        self.assertEqual(r.status, 404, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/html"))
        r = self.daemon.get("/auth/salesforce/callback?code=x&state=y", token=None)
        self.assertEqual(r.status, 404, r)


if __name__ == "__main__":
    harness.main()
