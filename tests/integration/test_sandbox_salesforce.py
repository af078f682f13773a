"""The sandbox's Salesforce emulation (SPEC §7), driven alone: OAuth token endpoint (JWT
bearer checked against an independent signer, `openssl dgst`), client credentials and refresh
tokens, userinfo, REST auth and Sforce-Limit-Info, SOQL literal decoding, SOSL phone matching,
upsert by External ID, schema drift, composite, faults and request counts."""

import base64
import json
import os
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import harness

CLIENT_ID = "3MVG9sandboxClientId.callbridge"
CLIENT_SECRET = "s3cr3t-C0nsumer"
V = "/services/data/v60.0"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
USER = {"Id": "0058d000000AgntAAA", "Username": "agent@example.com", "Name": "Ada Agent",
        "Email": "agent@example.com", "IsActive": True}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=120)


class Keys:
    """An RSA key with its self-signed certificate, and an unrelated second key."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cb-sf-keys-")
        self.key = os.path.join(self.dir, "key.pem")
        self.cert = os.path.join(self.dir, "cert.pem")
        self.other = os.path.join(self.dir, "other.pem")
        self.secret = os.path.join(self.dir, "secret")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key,
                "-out", self.cert, "-days", "2", "-subj", "/CN=callbridge-test")
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                "-out", self.other)
        with open(self.secret, "w") as f:
            f.write(CLIENT_SECRET + "\n")

    def sign(self, signing_input, key=None):
        data = os.path.join(self.dir, "input")
        sig = os.path.join(self.dir, "sig")
        with open(data, "wb") as f:
            f.write(signing_input)
        openssl("dgst", "-sha256", "-sign", key or self.key, "-out", sig, data)
        with open(sig, "rb") as f:
            return f.read()

    def jwt(self, claims, key=None, header=None):
        head = b64url(json.dumps(header or {"alg": "RS256"}).encode())
        body = b64url(json.dumps(claims).encode())
        signing_input = ("%s.%s" % (head, body)).encode()
        return "%s.%s" % (signing_input.decode(), b64url(self.sign(signing_input, key)))


KEYS = None


def setUpModule():
    global KEYS
    KEYS = Keys()


def tearDownModule():
    import shutil
    shutil.rmtree(KEYS.dir, ignore_errors=True)


class SalesforceSandboxTest(unittest.TestCase):

    def setUp(self):
        self.sb = harness.Sandbox(sf_client_id=CLIENT_ID, sf_cert_file=KEYS.cert,
                                  sf_client_secret_file=KEYS.secret)
        self.addCleanup(self._stop)
        self.sb.start()
        self.sb.control("seed", {"User": [USER]})

    def _stop(self):
        rc = self.sb.stop()
        reports = self.sb.sanitizer_reports()
        failed = rc not in (0, None) or reports
        if failed or self._outcome_failed():
            sys_log = self.sb.log_tail()
            print("\n---- sandbox log (%s) ----\n%s\n---- end ----" % (self.id(), sys_log))
        self.sb.remove_files()
        self.assertIn(rc, (0, None), "sandbox exit code on SIGTERM")
        self.assertEqual(reports, [], "sanitizer reports")

    def _outcome_failed(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        return bool(result and (result.errors or result.failures))

    # ---- helpers

    def claims(self, **over):
        c = {"iss": CLIENT_ID, "sub": USER["Username"], "aud": "https://login.salesforce.com",
             "exp": int(time.time()) + 300}
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    def token_request(self, form, headers=None):
        hdrs = dict(FORM)
        hdrs.update(headers or {})
        return self.sb.request("POST", "/services/oauth2/token", urllib.parse.urlencode(form),
                               headers=hdrs)

    def jwt_token(self):
        resp = self.token_request({"grant_type": JWT_GRANT,
                                   "assertion": KEYS.jwt(self.claims())})
        self.assertEqual(resp.status, 200, repr(resp))
        return resp.body["access_token"]

    def rest(self, method, path, body=None, token=None):
        return self.sb.request(method, V + path, body, token=token)

    def query(self, soql, token):
        return self.rest("GET", "/query?q=" + urllib.parse.quote(soql, safe=""), token=token)

    def assertOAuthError(self, resp, error, description):
        self.assertEqual(resp.status, 400, repr(resp))
        self.assertEqual(resp.body, {"error": error, "error_description": description})

    def assertSfError(self, resp, status, code, message=None):
        self.assertEqual(resp.status, status, repr(resp))
        self.assertIsInstance(resp.body, list, repr(resp))
        self.assertEqual(resp.body[0]["errorCode"], code, repr(resp))
        if message is not None:
            self.assertIn(message, resp.body[0]["message"], repr(resp))

    # ---- OAuth

    def test_jwt_bearer_issues_a_token(self):
        resp = self.token_request({"grant_type": JWT_GRANT,
                                   "assertion": KEYS.jwt(self.claims())})
        self.assertEqual(resp.status, 200, repr(resp))
        body = resp.body
        self.assertTrue(body["access_token"].startswith("00D"), body)
        self.assertIn("!AQ", body["access_token"])
        self.assertEqual(body["instance_url"], self.sb.base_url)
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["scope"], "api")
        self.assertTrue(body["id"].startswith(self.sb.base_url + "/id/00D"), body)
        self.assertTrue(body["id"].endswith("/" + USER["Id"]), body)
        self.assertTrue(body["issued_at"].isdigit())
        info = self.sb.request("GET", "/services/oauth2/userinfo", token=body["access_token"])
        self.assertEqual(info.status, 200, repr(info))
        self.assertEqual(info.body["user_id"], USER["Id"])
        self.assertEqual(info.body["preferred_username"], USER["Username"])
        self.assertEqual(info.body["email"], USER["Email"])
        self.assertEqual(info.body["name"], USER["Name"])
        self.assertTrue(info.body["organization_id"].startswith("00D"))
        # the sandbox's own URL is an accepted audience too, and a small clock skew is allowed
        for claims in (self.claims(aud=self.sb.base_url),
                       self.claims(exp=int(time.time()) - 30)):
            resp = self.token_request({"grant_type": JWT_GRANT, "assertion": KEYS.jwt(claims)})
            self.assertEqual(resp.status, 200, repr(resp))

    def test_jwt_bearer_failures(self):
        good = KEYS.jwt(self.claims())
        head, body, sig = good.split(".")
        tampered_body = b64url(json.dumps(self.claims(sub="other@example.com")).encode())
        self.sb.control("seed", {"User": [{"Id": "0058d000000OthrAAA",
                                           "Username": "other@example.com"}]})
        cases = [
            ("tampered payload", "%s.%s.%s" % (head, tampered_body, sig),
             "invalid_grant", "invalid assertion"),
            ("wrong key", KEYS.jwt(self.claims(), key=KEYS.other),
             "invalid_grant", "invalid assertion"),
            ("not a JWT", "abc.def", "invalid_grant", "invalid assertion"),
            ("HS256", KEYS.jwt(self.claims(), header={"alg": "HS256"}),
             "invalid_grant", "invalid assertion"),
            ("expired", KEYS.jwt(self.claims(exp=int(time.time()) - 600)),
             "invalid_grant", "expired authorization code"),
            ("no exp", KEYS.jwt(self.claims(exp=None)),
             "invalid_grant", "expired authorization code"),
            ("wrong aud", KEYS.jwt(self.claims(aud="https://evil.example.com")),
             "invalid_grant", "audience is invalid"),
            ("wrong iss", KEYS.jwt(self.claims(iss="someone-else")),
             "invalid_client_id", "client identifier invalid"),
            ("unknown sub", KEYS.jwt(self.claims(sub="nobody@example.com")),
             "invalid_grant", "user hasn't approved this consumer"),
        ]
        for name, assertion, error, description in cases:
            with self.subTest(name):
                resp = self.token_request({"grant_type": JWT_GRANT, "assertion": assertion})
                self.assertOAuthError(resp, error, description)

    def test_client_credentials(self):
        ok = self.token_request({"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                 "client_secret": CLIENT_SECRET})
        self.assertEqual(ok.status, 200, repr(ok))
        self.assertTrue(ok.body["id"].endswith("/" + USER["Id"]))
        basic = base64.b64encode(("%s:%s" % (CLIENT_ID, CLIENT_SECRET)).encode()).decode()
        ok = self.token_request({"grant_type": "client_credentials"},
                                headers={"Authorization": "Basic " + basic})
        self.assertEqual(ok.status, 200, repr(ok))
        self.assertEqual(self.query("SELECT Id FROM Lead", ok.body["access_token"]).status, 200)
        bad = self.token_request({"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                  "client_secret": "wrong"})
        self.assertOAuthError(bad, "invalid_client", "invalid client credentials")
        bad = self.token_request({"grant_type": "client_credentials", "client_id": "nope",
                                  "client_secret": CLIENT_SECRET})
        self.assertOAuthError(bad, "invalid_client_id", "client identifier invalid")
        bad = self.token_request({"grant_type": "password", "username": "x"})
        self.assertOAuthError(bad, "unsupported_grant_type", "grant type not supported")

    def test_refresh_token(self):
        rt = self.sb.control("salesforce/refresh_token",
                             {"username": USER["Username"]})["refresh_token"]
        ok = self.token_request({"grant_type": "refresh_token", "refresh_token": rt,
                                 "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        self.assertEqual(ok.status, 200, repr(ok))
        self.assertEqual(self.query("SELECT Id FROM Task", ok.body["access_token"]).status, 200)
        bad = self.token_request({"grant_type": "refresh_token", "refresh_token": rt,
                                  "client_id": CLIENT_ID, "client_secret": "wrong"})
        self.assertOAuthError(bad, "invalid_client", "invalid client credentials")
        self.assertEqual(self.sb.control("salesforce/revoke", {"refresh_token": rt}),
                         {"revoked": True})
        for token in (rt, "5Aep861unknown"):
            bad = self.token_request({"grant_type": "refresh_token", "refresh_token": token,
                                      "client_id": CLIENT_ID})
            self.assertOAuthError(bad, "invalid_grant", "expired access/refresh token")

    # ---- REST authentication, limits

    def test_rest_needs_a_valid_session(self):
        expected = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        resp = self.query("SELECT Id FROM Lead", None)
        self.assertEqual((resp.status, resp.body), (401, expected), repr(resp))
        self.assertTrue(resp.headers.get("Sforce-Limit-Info", "").startswith("api-usage="))
        resp = self.query("SELECT Id FROM Lead", "00Dbogus!AQbogus")
        self.assertEqual((resp.status, resp.body), (401, expected), repr(resp))
        token = self.jwt_token()
        other = self.sb.control("salesforce/session", {"username": USER["Username"]})
        self.assertEqual(other["user_id"], USER["Id"])
        self.assertEqual(other["instance_url"], self.sb.base_url)
        self.assertEqual(self.query("SELECT Id FROM Lead", token).status, 200)
        self.assertEqual(self.sb.control("salesforce/expire", {"token": token}), {"expired": 1})
        resp = self.query("SELECT Id FROM Lead", token)
        self.assertEqual((resp.status, resp.body), (401, expected), repr(resp))
        info = self.sb.request("GET", "/services/oauth2/userinfo", token=token)
        self.assertEqual((info.status, info.raw), (403, b"Bad_OAuth_Token"), repr(info))
        self.assertEqual(self.query("SELECT Id FROM Lead", other["access_token"]).status, 200)
        self.assertEqual(self.sb.control("salesforce/expire", {}), {"expired": 1})
        resp = self.query("SELECT Id FROM Lead", other["access_token"])
        self.assertEqual(resp.status, 401, repr(resp))
        resp = self.sb.request("GET", "/services/data/v60/query?q=x", token=token)
        self.assertSfError(resp, 404, "NOT_FOUND", "The requested resource does not exist")
        resp = self.sb.request("GET", "/services/data/v60.0/nothing/here", token=token)
        self.assertSfError(resp, 404, "NOT_FOUND")

    def test_limit_info_counts_every_rest_request(self):
        token = self.jwt_token()
        seen = []
        for _ in range(3):
            resp = self.query("SELECT Id FROM Lead", token)
            seen.append(resp.headers.get("Sforce-Limit-Info"))
        used = [int(v.split("=")[1].split("/")[0]) for v in seen]
        self.assertEqual(used, [used[0], used[0] + 1, used[0] + 2], seen)
        self.assertTrue(all(v.endswith("/15000") for v in seen), seen)
        self.sb.control("salesforce/limits", {"used": 99, "max": 100})
        resp = self.query("SELECT Id FROM Lead", token)
        self.assertEqual(resp.headers.get("Sforce-Limit-Info"), "api-usage=100/100")
        resp = self.query("SELECT Id FROM Lead", token)
        self.assertSfError(resp, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        self.sb.control("reset")
        self.sb.control("seed", {"User": [USER]})
        resp = self.query("SELECT Id FROM Lead", self.jwt_token())
        self.assertEqual(resp.headers.get("Sforce-Limit-Info"), "api-usage=1/15000")

    # ---- SOQL

    NAMES = ["O'Brien", "Back\\slash", "50% off_now", "50X offYnow", "Zoë \"quoted\"",
             "Tab\there", "Line\nbreak", "日本"]

    def seed_names(self):
        self.sb.control("seed", {"Contact": [
            {"Id": "0038d000000C%03dAAA" % i, "LastName": n, "Phone": "555000%04d" % i}
            for i, n in enumerate(self.NAMES)]})

    def names_of(self, resp):
        self.assertEqual(resp.status, 200, repr(resp))
        return sorted(r["LastName"] for r in resp.body["records"])

    def test_soql_string_literals_decode_like_salesforce(self):
        token = self.jwt_token()
        self.seed_names()
        cases = [
            (r"LastName = 'O\'Brien'", ["O'Brien"]),
            (r"LastName = 'Back\\slash'", ["Back\\slash"]),
            (r"LastName = 'Zo\u00eb \"quoted\"'", ['Zoë "quoted"']),
            (r"LastName = 'Zoë \"quoted\"'", ['Zoë "quoted"']),
            (r"LastName = 'Tab\there'", ["Tab\there"]),
            (r"LastName = 'Line\nbreak'", ["Line\nbreak"]),
            (r"LastName = '\u65e5\u672c'", ["日本"]),
            (r"LastName = 'o\'brien'", ["O'Brien"]),  # = is case-insensitive
            (r"LastName LIKE '50\% off\_now'", ["50% off_now"]),
            (r"LastName LIKE '50% off_now'", ["50% off_now", "50X offYnow"]),
            (r"LastName LIKE '50\%%'", ["50% off_now"]),
            (r"LastName LIKE 'back\\%'", ["Back\\slash"]),
            (r"LastName IN ('O\'Brien', 'Tab\there')", ["O'Brien", "Tab\there"]),
        ]
        for where, want in cases:
            with self.subTest(where):
                resp = self.query("SELECT Id, LastName FROM Contact WHERE " + where, token)
                self.assertEqual(self.names_of(resp), sorted(want))
        for bad in (r"LastName = 'O'Brien'", r"LastName = 'bad\qescape'",
                    r"LastName = 'unterminated", r"LastName = 'x\'"):
            with self.subTest(bad):
                resp = self.query("SELECT Id FROM Contact WHERE " + bad, token)
                self.assertSfError(resp, 400, "MALFORMED_QUERY")

    def test_soql_conditions_order_limit_relationships(self):
        token = self.jwt_token()
        self.sb.control("seed", {
            "Account": [{"Id": "0018d000000AcmeAAA", "Name": "Acme"}],
            "Contact": [
                {"Id": "0038d000000C001AAA", "LastName": "Alpha", "Title": "CEO",
                 "AccountId": "0018d000000AcmeAAA"},
                {"Id": "0038d000000C002AAA", "LastName": "Bravo", "Title": "CTO"},
                {"Id": "0038d000000C003AAA", "LastName": "Charlie", "Email": "c@x.com"}]})
        q = ("SELECT Id, LastName, Account.Name FROM Contact WHERE (Title = 'CEO' OR "
             "Title = 'CTO') AND LastName != 'Bravo'")
        resp = self.query(q, token)
        self.assertEqual(resp.status, 200, repr(resp))
        self.assertEqual(resp.body["totalSize"], 1)
        self.assertTrue(resp.body["done"])
        rec = resp.body["records"][0]
        self.assertEqual(rec["attributes"]["type"], "Contact")
        self.assertEqual(rec["attributes"]["url"], V + "/sobjects/Contact/0038d000000C001AAA")
        self.assertEqual(rec["Account"]["Name"], "Acme")
        self.assertEqual(rec["Account"]["attributes"]["type"], "Account")
        resp = self.query("SELECT LastName FROM Contact WHERE Title = null", token)
        self.assertEqual(self.names_of(resp), ["Charlie"])
        resp = self.query("SELECT LastName FROM Contact ORDER BY LastName DESC LIMIT 2", token)
        self.assertEqual([r["LastName"] for r in resp.body["records"]], ["Charlie", "Bravo"])
        resp = self.query("SELECT Id, Bogus__c FROM Contact", token)
        self.assertSfError(resp, 400, "INVALID_FIELD", "No such column 'Bogus__c' on entity "
                                                       "'Contact'")
        resp = self.query("SELECT Id FROM Contact WHERE Nope = 'x'", token)
        self.assertSfError(resp, 400, "INVALID_FIELD", "No such column 'Nope'")
        resp = self.query("SELECT Id FROM Widget__c", token)
        self.assertSfError(resp, 400, "INVALID_TYPE", "sObject type 'Widget__c' is not supported.")
        resp = self.query("SELEKT Id FROM Contact", token)
        self.assertSfError(resp, 400, "MALFORMED_QUERY")

    # ---- SOSL

    def test_sosl_phone_matching_tolerates_formats(self):
        token = self.jwt_token()
        self.sb.control("seed", {
            "Account": [{"Id": "0018d000000AcmeAAA", "Name": "Acme"}],
            "Contact": [{"Id": "0038d000000C001AAA", "LastName": "Paren",
                         "Phone": "(415) 555-0123", "AccountId": "0018d000000AcmeAAA"},
                        {"Id": "0038d000000C002AAA", "LastName": "Other",
                         "Phone": "(415) 555-9999"}],
            "Lead": [{"Id": "00Q8d000000L001AAA", "LastName": "Dotted", "Company": "Co",
                      "MobilePhone": "+1 415.555.0123"}]})
        for term in (r"\+14155550123", "(415) 555-0123", "415.555.0123", "4155550123",
                     r"\(415\) 555\-0123"):
            with self.subTest(term):
                sosl = ("FIND {%s} IN PHONE FIELDS RETURNING Contact(Id, Name, Account.Name), "
                        "Lead(Id, Company)" % term)
                resp = self.rest("GET", "/search?q=" + urllib.parse.quote(sosl, safe=""),
                                 token=token)
                self.assertEqual(resp.status, 200, repr(resp))
                recs = resp.body["searchRecords"]
                got = sorted((r["attributes"]["type"], r["Id"]) for r in recs)
                self.assertEqual(got, [("Contact", "0038d000000C001AAA"),
                                       ("Lead", "00Q8d000000L001AAA")])
                contact = [r for r in recs if r["attributes"]["type"] == "Contact"][0]
                self.assertEqual(contact["Account"]["Name"], "Acme")
                self.assertEqual(contact["Name"], "Paren")
        sosl = "FIND {5550123} IN PHONE FIELDS RETURNING Contact(Id)"
        resp = self.rest("GET", "/search?q=" + urllib.parse.quote(sosl, safe=""), token=token)
        self.assertEqual([r["Id"] for r in resp.body["searchRecords"]],
                         ["0038d000000C001AAA"], repr(resp))  # 7 digits match as a suffix
        sosl = "FIND {550123} IN PHONE FIELDS RETURNING Contact(Id)"  # a 6-digit suffix
        resp = self.rest("GET", "/search?q=" + urllib.parse.quote(sosl, safe=""), token=token)
        self.assertEqual(resp.body["searchRecords"], [], repr(resp))
        sosl = "FIND {415} IN PHONE FIELDS RETURNING Nope__c(Id)"
        resp = self.rest("GET", "/search?q=" + urllib.parse.quote(sosl, safe=""), token=token)
        self.assertSfError(resp, 400, "INVALID_TYPE")

    # ---- sobjects, upsert

    def test_upsert_creates_then_updates_one_task(self):
        token = self.jwt_token()
        path = "/sobjects/Task/Callbridge_Call_Id__c/call-123"
        first = self.rest("PATCH", path, {"Subject": "Call", "CallType": "Outbound"}, token)
        self.assertEqual(first.status, 201, repr(first))
        self.assertEqual(first.body["created"], True)
        self.assertEqual(first.body["success"], True)
        self.assertEqual(first.body["errors"], [])
        task_id = first.body["id"]
        self.assertEqual((len(task_id), task_id[:3]), (18, "00T"))
        second = self.rest("PATCH", path, {"CallDisposition": "Connected"}, token)
        self.assertEqual((second.status, second.body),
                         (200, {"id": task_id, "success": True, "errors": [],
                                "created": False}), repr(second))
        tasks = self.sb.control("state")["Task"]
        self.assertEqual(len(tasks), 1, tasks)
        self.assertEqual(tasks[0]["Callbridge_Call_Id__c"], "call-123")
        self.assertEqual(tasks[0]["CallDisposition"], "Connected")
        self.assertEqual(tasks[0]["Subject"], "Call")
        self.assertEqual(tasks[0]["OwnerId"], USER["Id"])
        self.assertRegex(tasks[0]["CreatedDate"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
        resp = self.rest("PATCH", "/sobjects/Task/Subject/x", {"Status": "Completed"}, token)
        self.assertSfError(resp, 404, "NOT_FOUND", "Provided external ID field does not exist "
                                                   "or is not accessible: Subject")
        resp = self.rest("PATCH", path, {"Bogus__c": 1}, token)
        self.assertSfError(resp, 400, "INVALID_FIELD",
                           "No such column 'Bogus__c' on sobject of type Task")
        self.sb.control("seed", {"Task": [
            {"Id": "00T8d000000Dup1AAA", "Callbridge_Call_Id__c": "dup"},
            {"Id": "00T8d000000Dup2AAA", "Callbridge_Call_Id__c": "dup"}]})
        resp = self.rest("PATCH", "/sobjects/Task/Callbridge_Call_Id__c/dup", {}, token)
        self.assertEqual(resp.status, 300, repr(resp))
        self.assertEqual(sorted(resp.body), [V + "/sobjects/Task/00T8d000000Dup1AAA",
                                             V + "/sobjects/Task/00T8d000000Dup2AAA"])

    def test_create_get_update_delete_and_validation(self):
        token = self.jwt_token()
        resp = self.rest("POST", "/sobjects/Lead", {"LastName": "Lovelace"}, token)
        self.assertSfError(resp, 400, "REQUIRED_FIELD_MISSING", "Required fields are missing: "
                                                                "[Company]")
        self.assertEqual(resp.body[0]["fields"], ["Company"])
        resp = self.rest("POST", "/sobjects/Lead", "{not json", token)
        self.assertSfError(resp, 400, "JSON_PARSER_ERROR")
        resp = self.rest("POST", "/sobjects/Lead", {"LastName": "L", "Company": "C", "Foo": 1},
                         token)
        self.assertEqual(resp.body, [{"message": "No such column 'Foo' on sobject of type Lead",
                                      "errorCode": "INVALID_FIELD"}], repr(resp))
        resp = self.rest("POST", "/sobjects/Lead", {"FirstName": "Ada", "LastName": "Lovelace",
                                                    "Company": "Engines"}, token)
        self.assertEqual(resp.status, 201, repr(resp))
        lead = resp.body["id"]
        self.assertEqual(resp.body, {"id": lead, "success": True, "errors": []})
        self.assertTrue(lead.startswith("00Q"))
        got = self.rest("GET", "/sobjects/Lead/" + lead, token=token)
        self.assertEqual(got.status, 200, repr(got))
        self.assertEqual(got.body["Name"], "Ada Lovelace")
        self.assertIn("Callbridge_Phone__c", got.body)
        got = self.rest("GET", "/sobjects/Lead/%s?fields=Company" % lead, token=token)
        self.assertEqual(got.body["Company"], "Engines")
        self.assertNotIn("Email", got.body)
        resp = self.rest("PATCH", "/sobjects/Lead/" + lead, {"FirstName": "Augusta"}, token)
        self.assertEqual(resp.status, 204, repr(resp))
        got = self.rest("GET", "/sobjects/Lead/" + lead, token=token)
        self.assertEqual(got.body["Name"], "Augusta Lovelace")
        self.assertEqual(self.rest("DELETE", "/sobjects/Lead/" + lead, token=token).status, 204)
        resp = self.rest("GET", "/sobjects/Lead/" + lead, token=token)
        self.assertSfError(resp, 404, "NOT_FOUND")
        desc = self.rest("GET", "/sobjects/Task/describe", token=token)
        self.assertEqual(desc.status, 200, repr(desc))
        fields = {f["name"]: f for f in desc.body["fields"]}
        self.assertEqual(desc.body["name"], "Task")
        self.assertTrue(fields["Callbridge_Call_Id__c"]["externalId"])
        self.assertTrue(fields["Callbridge_Call_Id__c"]["unique"])
        for key in ("type", "length", "createable", "updateable", "nillable"):
            self.assertIn(key, fields["Subject"])

    def test_schema_drift(self):
        token = self.jwt_token()
        self.sb.control("salesforce/schema", {"Task": {
            "drop": ["CallDisposition"],
            "add": [{"name": "Extra__c", "type": "string", "externalId": False}]}})
        desc = self.rest("GET", "/sobjects/Task/describe", token=token).body
        names = {f["name"] for f in desc["fields"]}
        self.assertNotIn("CallDisposition", names)
        self.assertIn("Extra__c", names)
        path = "/sobjects/Task/Callbridge_Call_Id__c/drift"
        resp = self.rest("PATCH", path, {"CallDisposition": "x"}, token)
        self.assertSfError(resp, 400, "INVALID_FIELD",
                           "No such column 'CallDisposition' on sobject of type Task")
        self.assertEqual(self.rest("PATCH", path, {"Extra__c": "y"}, token).status, 201)
        self.sb.control("reset")
        self.sb.control("seed", {"User": [USER]})
        token = self.jwt_token()
        resp = self.rest("PATCH", path, {"CallDisposition": "x"}, token)
        self.assertEqual(resp.status, 201, repr(resp))

    def test_composite_with_reference_and_all_or_none(self):
        token = self.jwt_token()
        req = {"allOrNone": True, "compositeRequest": [
            {"method": "POST", "url": V + "/sobjects/Contact", "referenceId": "c",
             "body": {"LastName": "Hopper"}},
            {"method": "PATCH", "url": V + "/sobjects/Task/Callbridge_Call_Id__c/comp-1",
             "referenceId": "t", "body": {"WhoId": "@{c.id}", "Subject": "Call"}},
            {"method": "GET", "url": V + "/query?q=" + urllib.parse.quote(
                "SELECT Id, Who.Name FROM Task WHERE Callbridge_Call_Id__c = 'comp-1'"),
             "referenceId": "q"}]}
        resp = self.rest("POST", "/composite", req, token)
        self.assertEqual(resp.status, 200, repr(resp))
        out = {r["referenceId"]: r for r in resp.body["compositeResponse"]}
        self.assertEqual(out["c"]["httpStatusCode"], 201, out)
        self.assertEqual(out["t"]["httpStatusCode"], 201, out)
        self.assertTrue(out["c"]["httpHeaders"]["Location"].endswith(out["c"]["body"]["id"]))
        self.assertEqual(out["q"]["body"]["records"][0]["Who"]["Name"], "Hopper")
        state = self.sb.control("state")
        self.assertEqual(state["Task"][0]["WhoId"], out["c"]["body"]["id"])
        before = self.sb.control("state")
        req = {"allOrNone": True, "compositeRequest": [
            {"method": "POST", "url": V + "/sobjects/Contact", "referenceId": "ok",
             "body": {"LastName": "Rolled back"}},
            {"method": "POST", "url": V + "/sobjects/Lead", "referenceId": "bad",
             "body": {"LastName": "No company"}},
            {"method": "POST", "url": V + "/sobjects/Contact", "referenceId": "later",
             "body": {"LastName": "Never"}}]}
        resp = self.rest("POST", "/composite", req, token)
        self.assertEqual(resp.status, 200, repr(resp))
        out = {r["referenceId"]: r for r in resp.body["compositeResponse"]}
        halted = [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled "
                   "back since another operation in the same transaction failed."}]
        self.assertEqual((out["ok"]["httpStatusCode"], out["ok"]["body"]), (400, halted))
        self.assertEqual(out["bad"]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING")
        self.assertEqual(out["later"]["body"], halted)
        after = self.sb.control("state")
        self.assertEqual(after["Contact"], before["Contact"])
        self.assertEqual(after["Lead"], before["Lead"])

    def collections(self, records, token, all_or_none=False, obj="Task",
                    field="Callbridge_Call_Id__c"):
        return self.rest("PATCH", "/composite/sobjects/%s/%s" % (obj, field),
                         {"allOrNone": all_or_none, "records": records}, token)

    def test_collections_upsert_per_record_results(self):
        token = self.jwt_token()
        t = {"type": "Task"}
        long_subject = "x" * 300  # Task.Subject holds 255
        recs = [{"attributes": t, "Callbridge_Call_Id__c": "col-1", "Subject": "one"},
                {"attributes": t, "Callbridge_Call_Id__c": "col-2", "Subject": long_subject},
                {"attributes": t, "Callbridge_Call_Id__c": "col-3", "Subject": "three"},
                {"attributes": t, "Callbridge_Call_Id__c": "col-4", "Subject": "dup a"},
                {"attributes": t, "Callbridge_Call_Id__c": "col-4", "Subject": "dup b"},
                {"Callbridge_Call_Id__c": "col-5", "Subject": "no attributes"}]
        resp = self.collections(recs, token)
        self.assertEqual(resp.status, 200, repr(resp))
        out = resp.body
        self.assertEqual(len(out), 6)
        self.assertEqual([r["success"] for r in out], [True, False, True, False, False, False])
        self.assertTrue(out[0]["created"] and out[2]["created"])
        self.assertEqual(out[1]["errors"][0]["statusCode"], "STRING_TOO_LONG")
        self.assertEqual([out[i]["errors"][0]["statusCode"] for i in (3, 4)],
                         ["DUPLICATE_EXTERNAL_ID"] * 2)
        tasks = {r["Callbridge_Call_Id__c"]: r for r in self.sb.control("state")["Task"]}
        self.assertEqual(sorted(tasks), ["col-1", "col-3"])
        self.assertEqual(tasks["col-1"]["Id"], out[0]["id"])
        # Again: the same records are updated, none added.
        resp = self.collections(recs[:1] + recs[2:3], token)
        self.assertEqual([(r["success"], r["created"]) for r in resp.body],
                         [(True, False), (True, False)])
        self.assertEqual(resp.body[0]["id"], out[0]["id"])
        self.assertEqual(len(self.sb.control("state")["Task"]), 2)
        # allOrNone: one bad record and nothing is written.
        resp = self.collections([{"attributes": t, "Callbridge_Call_Id__c": "col-6"},
                                 {"attributes": t, "Callbridge_Call_Id__c": "col-7",
                                  "Subject": long_subject}], token, all_or_none=True)
        self.assertEqual(resp.body[0]["errors"][0]["statusCode"],
                         "ALL_OR_NONE_OPERATION_ROLLED_BACK")
        self.assertEqual(len(self.sb.control("state")["Task"]), 2)
        # More than 200 records, an unknown external id field: the request is refused.
        resp = self.collections([{"attributes": t, "Callbridge_Call_Id__c": "n%d" % i}
                                 for i in range(201)], token)
        self.assertSfError(resp, 400, "EXCEEDED_ID_LIMIT")
        resp = self.collections(recs[:1], token, field="Subject")
        self.assertEqual(resp.body[0]["errors"][0]["statusCode"], "NOT_FOUND")
        counts = self.sb.control("state")["requests"]
        self.assertEqual(counts["salesforce.collections_upsert"], 5)

    def test_relationship_by_external_id(self):
        token = self.jwt_token()
        part = {"attributes": {"type": "Callbridge_Transcript__c"}, "Text__c": "hello"}
        resp = self.collections([dict(part, Callbridge_Key__c="rel-1:1")], token,
                                obj="Callbridge_Transcript__c", field="Callbridge_Key__c")
        part_id = resp.body[0]["id"]
        link = {"attributes": {"type": "Callbridge_Transcript__c"}, "Callbridge_Key__c": "rel-1:1"}
        # One upsert links through the relationship; another names a key nobody holds.
        resp = self.rest("PATCH", "/sobjects/Task/Callbridge_Call_Id__c/rel-1",
                         {"Subject": "linked", "Callbridge_Transcript__r": link}, token)
        self.assertEqual(resp.status, 201, repr(resp))
        task = self.rest("GET", "/sobjects/Task/" + resp.body["id"], token=token).body
        self.assertEqual(task["Callbridge_Transcript__c"], part_id)
        resp = self.rest("PATCH", "/sobjects/Task/Callbridge_Call_Id__c/rel-2",
                         {"Subject": "dangling", "Callbridge_Transcript__r":
                          {"Callbridge_Key__c": "nobody:1"}}, token)
        self.assertSfError(resp, 400, "INVALID_FIELD",
                           "Foreign key external ID: nobody:1 not found for field "
                           "Callbridge_Key__c in entity Callbridge_Transcript__c")
        resp = self.rest("PATCH", "/sobjects/Task/Callbridge_Call_Id__c/rel-2",
                         {"Callbridge_Transcript__r": {"Callbridge_Key__c": "rel-1:1",
                                                       "Name": "x"}}, token)
        self.assertSfError(resp, 400, "INVALID_FIELD", "More than 1 field provided")
        resp = self.rest("PATCH", "/sobjects/Task/Callbridge_Call_Id__c/rel-2",
                         {"Nothing__r": {"Callbridge_Key__c": "rel-1:1"}}, token)
        self.assertSfError(resp, 400, "INVALID_FIELD", "No such column 'Nothing__r'")
        self.assertEqual([t["Callbridge_Call_Id__c"] for t in self.sb.control("state")["Task"]],
                         ["rel-1"])

    def test_composite_of_collections(self):
        token = self.jwt_token()
        t = {"type": "Task"}

        def sub(ref, obj, field, records):
            return {"method": "PATCH", "referenceId": ref,
                    "url": V + "/composite/sobjects/%s/%s" % (obj, field),
                    "body": {"allOrNone": False, "records": records}}
        parts = sub("parts", "Callbridge_Transcript__c", "Callbridge_Key__c", [
            {"attributes": {"type": "Callbridge_Transcript__c"}, "Callbridge_Key__c": "cc-1:1"}])
        tasks = sub("tasks", "Task", "Callbridge_Call_Id__c", [
            {"attributes": t, "Callbridge_Call_Id__c": "cc-1", "Subject": "one",
             "Callbridge_Transcript__r": {"Callbridge_Key__c": "cc-1:1"}},
            {"attributes": t, "Callbridge_Call_Id__c": "cc-2", "Subject": "two",
             "Callbridge_Transcript__r": {"Callbridge_Key__c": "cc-2:1"}},
            {"attributes": t, "Callbridge_Call_Id__c": "cc-3", "Subject": "x" * 300}])
        bad = sub("bad", "Nope__c", "Key__c", [])  # its own error, its own subrequest
        resp = self.rest("POST", "/composite", {"allOrNone": False, "collateSubrequests": False,
                                                "compositeRequest": [parts, tasks, bad]}, token)
        self.assertEqual(resp.status, 200, repr(resp))
        out = resp.body["compositeResponse"]
        self.assertEqual([(r["referenceId"], r["httpStatusCode"]) for r in out],
                         [("parts", 200), ("tasks", 200), ("bad", 404)])
        self.assertTrue(out[0]["body"][0]["success"])
        res = out[1]["body"]  # the UpsertResult array, one per record, in order
        self.assertEqual([r["success"] for r in res], [True, False, False])
        self.assertEqual(res[1]["errors"][0]["statusCode"], "INVALID_FIELD")
        self.assertIn("Foreign key external ID: cc-2:1 not found", res[1]["errors"][0]["message"])
        self.assertEqual(res[2]["errors"][0]["statusCode"], "STRING_TOO_LONG")
        self.assertEqual(out[2]["body"][0]["errorCode"], "NOT_FOUND")
        state = self.sb.control("state")
        self.assertEqual([x["Callbridge_Transcript__c"] for x in state["Task"]],
                         [out[0]["body"][0]["id"]])
        self.assertEqual(state["requests"]["salesforce.composite"], 1)
        # Up to 5 Collections subrequests in one composite.
        resp = self.rest("POST", "/composite", {"compositeRequest": [
            sub("s%d" % i, "Task", "Callbridge_Call_Id__c", []) for i in range(6)]}, token)
        self.assertSfError(resp, 400, "LIMIT_EXCEEDED")

    # ---- faults and counts

    def test_faults_answer_in_salesforce_dialects(self):
        token = self.jwt_token()
        self.sb.control("faults", {"error_rate": 1.0})
        resp = self.query("SELECT Id FROM Lead", token)
        self.assertSfError(resp, 503, "SERVER_UNAVAILABLE")
        self.assertTrue(resp.headers.get("Sforce-Limit-Info"))
        resp = self.token_request({"grant_type": JWT_GRANT,
                                   "assertion": KEYS.jwt(self.claims())})
        self.assertEqual(resp.status, 503, repr(resp))
        self.assertEqual(sorted(resp.body), ["error", "error_description"])
        self.sb.control("faults", {"rate_limit_rate": 1.0})
        resp = self.query("SELECT Id FROM Lead", token)
        self.assertEqual((resp.status, resp.body),
                         (403, [{"message": "TotalRequests Limit exceeded.",
                                 "errorCode": "REQUEST_LIMIT_EXCEEDED"}]), repr(resp))
        self.assertEqual(self.sb.request("GET", "/__sandbox/state").status, 200)
        self.sb.control("faults", {})
        self.assertEqual(self.query("SELECT Id FROM Lead", token).status, 200)

    def test_request_counts(self):
        token = self.jwt_token()
        self.query("SELECT Id FROM Lead", token)
        self.query("SELECT Id FROM Lead", token)
        self.rest("PATCH", "/sobjects/Task/Callbridge_Call_Id__c/n1", {}, token)
        self.rest("GET", "/sobjects/Task/describe", token=token)
        self.rest("POST", "/sobjects/Account", {"Name": "A"}, token)
        self.sb.request("GET", "/services/oauth2/userinfo", token=token)
        self.sb.control("salesforce/expire", {})
        counts = self.sb.control("state")["requests"]
        want = {"salesforce.token": 1, "salesforce.query": 2, "salesforce.upsert": 1,
                "salesforce.describe": 1, "salesforce.sobject_create": 1,
                "salesforce.userinfo": 1}
        self.assertEqual({k: v for k, v in counts.items() if k.startswith("salesforce.")}, want)
        self.assertFalse([k for k in counts if k.startswith("sandbox.")], counts)


    def test_owner_id_must_name_an_active_user(self):
        """OwnerId is a reference to a User: checked as Salesforce does, stored in 18 chars."""
        token = self.jwt_token()
        self.sb.control("seed", {"User": [
            {"Id": "005Dn000001AbCdIAK", "Username": "bob@example.com", "IsActive": True},
            {"Id": "005000000000004AAA", "Username": "gone@example.com", "IsActive": False}],
            "Contact": [{"Id": "003000000000001AAA", "LastName": "Lovelace"}]})
        refused = [
            ("abc", "MALFORMED_ID", "Owner ID: id value of incorrect type: abc"),
            ("005Dn000001AbCdIA6", "MALFORMED_ID", "id value of incorrect type"),
            ("005000000000001BAA", "MALFORMED_ID", "id value of incorrect type"),
            (5, "MALFORMED_ID", "id value of incorrect type"),
            ("003000000000001AAA", "FIELD_INTEGRITY_EXCEPTION", "id value of incorrect type"),
            ("005000000000077AAA", "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"),
            ("005dn000001abcd", "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"),
            ("005000000000004", "INACTIVE_OWNER_OR_USER", "inactive user [005000000000004AAA]"),
        ]
        for owner, code, message in refused:
            with self.subTest(owner=owner):
                resp = self.rest("POST", "/sobjects/Task", {"Subject": "x", "OwnerId": owner},
                                 token)
                self.assertSfError(resp, 400, code, message)
                resp = self.rest("PATCH", "/sobjects/Task/Callbridge_Call_Id__c/c-1",
                                 {"Subject": "x", "OwnerId": owner}, token)
                self.assertSfError(resp, 400, code, message)
        self.assertEqual(self.sb.control("state").get("Task", []), [])
        for given in ("005Dn000001AbCd", "005DN000001ABCDIAK", "005dn000001abcdiak"):
            with self.subTest(given=given):
                resp = self.rest("POST", "/sobjects/Task", {"Subject": given, "OwnerId": given},
                                 token)
                self.assertEqual(resp.status, 201, repr(resp))
        owners = {t["Subject"]: t["OwnerId"] for t in self.sb.control("state")["Task"]}
        self.assertEqual(set(owners.values()), {"005Dn000001AbCdIAK"}, owners)
        # The owner found through the relationship, as the screen-pop search reads it.
        q = self.query("SELECT Owner.Username FROM Task LIMIT 1", token)
        self.assertEqual(q.body["records"][0]["Owner"]["Username"], "bob@example.com")


if __name__ == "__main__":
    harness.main()
