"""The sandbox standing in for HubSpot, and a daemon configured against it.

`Sandbox` starts `callbridge-sandbox` on a free loopback port accepting a private app token
and an OAuth app (client id, secret, refresh token) written to files of its own; `HubSpotCase`
is a DaemonTestCase with a sandbox per test and a daemon whose `[crm] provider` is hubspot.
Tests use the sandbox's control API (/__sandbox/*) to seed contacts, companies and owners,
read the objects callbridge wrote, change budgets and schema, expire tokens and inject faults.
"""

import os
import shutil
import tempfile
import urllib.parse

import harness
from harness import DaemonTestCase, wait_for

TOKEN = "pat-na1-0c9b1d24-6e2f-4c55-9a51-3f1c2b9e0d7a"
CLIENT_ID = "cb-test-client-0001"
CLIENT_SECRET = "cb-test-secret-0001"
REFRESH = "cb-test-refresh-0001"
PORTAL = 62515
OWNER = {"id": "77001", "email": "alice@example.com", "firstName": "Alice", "lastName": "Agent"}


class Sandbox(harness.Sandbox):
    """harness.Sandbox with HubSpot's private app token and OAuth app secrets in files."""

    def __init__(self):
        self.secrets = tempfile.mkdtemp(prefix="cb-hs-")
        os.chmod(self.secrets, 0o755)  # the daemon may run as another user under scripts/test
        self.files = {}
        for name, value in (("token", TOKEN), ("secret", CLIENT_SECRET),
                            ("refresh", REFRESH), ("wrong", "pat-na1-wrong"),
                            ("bad-refresh", "not-a-refresh-token")):
            path = os.path.join(self.secrets, name)
            with open(path, "w") as f:
                f.write(value + "\n")
            os.chmod(path, 0o644)
            self.files[name] = path
        super().__init__(args=("--hs-access-token-file", self.files["token"],
                               "--hs-client-id", CLIENT_ID,
                               "--hs-client-secret-file", self.files["secret"],
                               "--hs-refresh-token-file", self.files["refresh"]))
        self.url = self.base_url
        # Daemons of one test share Redis keys (the token, lookups); other tests do not.
        self.key_prefix = "cbt%s:" % os.urandom(4).hex()

    def start(self, timeout=30):
        super().start(timeout)
        self.seed({"owners": [OWNER]})
        return self

    def close(self):
        rc = self.stop()
        self.remove_files()
        shutil.rmtree(self.secrets, ignore_errors=True)
        return rc

    def close_checked(self, test):
        """close(), then fail `test` unless the sandbox exited 0 without sanitizer reports."""
        rc = self.stop()
        reports = self.sanitizer_reports()
        self.close()
        test.assertIn(rc, (None, 0), "sandbox exit code")
        test.assertEqual(reports, [], "sanitizer reports in the sandbox log")

    # ---- control API

    def seed(self, hubspot):
        return self.control("seed", {"hubspot": hubspot})

    def faults(self, **kw):
        return self.control("faults", kw)

    def limits(self, **kw):
        return self.control("hubspot/limits", kw)

    def drop(self, obj, prop):
        return self.control("hubspot/schema", {"drop": [{"object": obj, "property": prop}]})

    def expire_tokens(self, **kw):
        return self.control("hubspot/expire", kw)

    def hubspot(self):
        return self.control("state")["hubspot"]

    def objects(self, kind):
        """Every object of `kind` ("calls", "contacts"...) the sandbox holds."""
        return self.hubspot().get(kind, [])

    def by_prop(self, kind, prop, value):
        return [o for o in self.objects(kind) if o["properties"].get(prop) == value]

    def associations(self, from_type, from_id):
        return [a for a in self.hubspot().get("associations", [])
                if a["from_type"] == from_type and str(a["from_id"]) == str(from_id)]

    def count(self, method, path):
        """Requests counted for `hubspot METHOD PATH`."""
        reqs = self.control("state").get("requests", {})
        return int(reqs.get("hubspot %s %s" % (method, path), 0))

    def api(self, method, path, body=None):
        """A HubSpot API request with the private app token (to change data as a user)."""
        return self.request(method, path, body, token=TOKEN)

    def daemon_config(self, **hubspot):
        """Overrides that point a daemon's [hubspot] at this sandbox (private app)."""
        hs = {"enabled": True, "api_base_url": self.url, "auth": "private_app",
              "access_token_file": self.files["token"], "app_url": "https://app.hubspot.test",
              "timeout_ms": 5000,
              # HubSpot allows 5 searches a second; pacing at 4 keeps clear of the edge of
              # the sandbox's window however the requests' latencies vary.
              "search_per_s": 4}
        if hubspot.get("auth") == "oauth":
            hs.update({"client_id": CLIENT_ID, "client_secret_file": self.files["secret"],
                       "refresh_token_file": self.files["refresh"]})
        hs.update(hubspot)
        return {"crm": {"provider": "hubspot"}, "hubspot": hs,
                "salesforce": {"enabled": False}, "redis": {"key_prefix": self.key_prefix}}


class HubSpotCase(DaemonTestCase):
    """A sandbox per test and a daemon logging to it. `hubspot` and `extra` are per-class
    config overrides; `contacts`/`companies` are seeded before the daemon starts."""

    autostart = False
    hubspot = {}
    extra = {}
    contacts = []
    companies = []

    def setUp(self):
        self.sb = Sandbox().start()
        self.addCleanup(self.sb.close_checked, self)
        if self.contacts or self.companies:
            self.sb.seed({"contacts": self.contacts, "companies": self.companies})
        self.daemon = self.start_daemon(self.config_for())

    def config_for(self, **hubspot):
        over = dict(self.hubspot)
        over.update(hubspot)
        return harness.merge_config(self.sb.daemon_config(**over), self.extra)

    def start_daemon(self, overrides, **kw):
        d = self.new_daemon(overrides, **kw)
        d.migrate()
        d.token = d.apikey(self.agent)
        d.start()
        return d

    def health(self, d=None):
        r = (d or self.daemon).get("/readyz", token=None)
        return r.body["checks"].get("hubspot", "")

    def wait_connected(self, d=None):
        wait_for(lambda: self.health(d) == "ok", 20, "hubspot ok in /readyz")

    def lookup(self, phone, d=None):
        r = (d or self.daemon).get("/api/lookup?phone=" + urllib.parse.quote(phone))
        self.assertEqual(r.status, 200, r)
        return r.body

    def call_row(self, call_id, d=None):
        r = (d or self.daemon).get("/api/calls/" + call_id)
        self.assertEqual(r.status, 200, r)
        return r.body

    def wait_crm_state(self, call_id, states, d=None, timeout=30):
        def check():
            c = self.call_row(call_id, d)
            return c["crm"]["state"] in states and c
        return wait_for(check, timeout, "call %s crm state in %s" % (call_id, states))

    def log_job(self, call_id, d=None):
        return int((d or self.daemon).sql_value(
            "SELECT id FROM jobs WHERE kind = 'crm.log_call' AND call_id = '%s'" % call_id))

    def job_row(self, job_id, d=None):
        state, attempts, waits, err = (d or self.daemon).sql(
            "SELECT state, attempts, waits, coalesce(last_error, '') FROM jobs WHERE id = %d"
            % job_id)[0]
        return {"state": state, "attempts": int(attempts), "waits": int(waits),
                "last_error": err}

    def calls_for(self, call_id):
        """The HubSpot call objects holding `call_id` in callbridge_call_id."""
        return self.sb.by_prop("calls", "callbridge_call_id", call_id)

    def metrics(self, d=None):
        return (d or self.daemon).get("/metrics", token=None).raw.decode()

    def set_owner(self, agent, owner_id, d=None):
        """The agent's CRM user id is its HubSpot owner id."""
        d = d or self.daemon
        p = d.cli("agent", "set", agent, "--crm-user-id", owner_id, "-c", d.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)

    def hubspot_cli(self, *args, d=None):
        """`callbridge hubspot ARGS -c <the daemon's config>`: the CompletedProcess."""
        d = d or self.daemon
        return d.cli("hubspot", *(list(args) + ["-c", d.conf_path]))
