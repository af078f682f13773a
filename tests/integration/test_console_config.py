"""GET /api/console/config (issue 14): who is signed in, the dispositions, every NLP rule with
its colour (the file's, else the palette's, the same on every call), telephony and CRM
capabilities, and the other agents a call may be transferred to with their status; only GET,
only signed in."""

import json
import os
import tempfile

import harness
from harness import DaemonTestCase, wait_for
from test_twilio_calls import OUR_NUMBER, TwilioCallCase

DISPOSITIONS = "interested:Interested, no_answer, callback:Call back later"

RULES = {
    "version": 1,
    "dictionaries": {"pricing": ["quote", "price"],
                     "competitor": {"terms": ["Aircall"], "color": "#B71C1C"}},
    "intents": [{"name": "buy", "when": {"any": ["buy"]}, "color": "#2e7d32"}],
    "tags": [{"name": "Hot Lead", "when": {"intent": ["buy"]}}],
    "follow_ups": [{"rule": "callback", "when": {"any": ["call me back"]},
                    "subject": "Call back"}],
}


def rules_file(rules):
    fd, path = tempfile.mkstemp(prefix="cb-rules-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(rules, f)
    return path


class ConsoleConfigTest(DaemonTestCase):
    autostart = False

    def setUp(self):
        self.rules = rules_file(RULES)
        self.addCleanup(os.unlink, self.rules)
        self.daemon = self.new_daemon({
            "agents": {"dispositions": DISPOSITIONS, "disposition_required": True,
                       "wrap_up_s": 1},
            "nlp": {"rules_file": self.rules}})
        self.daemon.migrate()
        self.daemon.token = self.daemon.apikey("alice")
        self.bob = self.daemon.apikey("bob")
        self.admin = self.daemon.apikey("ops", admin=True)
        self.daemon.start()

    def config(self, **kw):
        r = self.daemon.get("/api/console/config", **kw)
        self.assertStatus(r, 200)
        return r.body

    def test_config(self):
        r = self.daemon.request("PATCH", "/api/admin/agents/alice",
                                {"display_name": "Alice Agent",
                                 "crm_user_id": "005000000000001AAA"}, token=self.admin)
        self.assertStatus(r, 200)
        self.assertStatus(self.daemon.request("PUT", "/api/agent/status",
                                              {"status": "away", "reason": "lunch"},
                                              token=self.bob), 200)
        c = self.config()
        self.assertEqual(c["agent"], {"name": "alice", "display_name": "Alice Agent",
                                      "admin": False, "crm_user_id": "005000000000001AAA"})
        self.assertEqual(c["dispositions"], [
            {"value": "interested", "label": "Interested"},
            {"value": "no_answer", "label": "no_answer"},
            {"value": "callback", "label": "Call back later"}])
        self.assertIs(c["disposition_required"], True)
        self.assertEqual(c["wrap_up_s"], 1)
        self.assertEqual(c["telephony"], {"provider": "none", "conference": False,
                                          "live_transcription": False,
                                          "caller_id_masked": None})
        self.assertEqual(c["crm"], {"provider": "none", "instance_url": None})
        # Rules: file order, dictionaries first; the file's colours lower-cased.
        kinds = [(r["name"], r["kind"]) for r in c["rules"]]
        self.assertEqual(kinds, [("pricing", "dictionary"), ("competitor", "dictionary"),
                                 ("buy", "intent"), ("Hot Lead", "tag"),
                                 ("callback", "follow_up")])
        colors = {r["name"]: r["color"] for r in c["rules"]}
        self.assertEqual(colors["competitor"], "#b71c1c")
        self.assertEqual(colors["buy"], "#2e7d32")
        for r in c["rules"]:
            self.assertRegex(r["color"], r"^#[0-9a-f]{6}$")
        # Other agents, never the caller; their status as routing sees it.
        targets = {t["name"]: t for t in c["transfer_targets"]}
        self.assertNotIn("alice", targets)
        self.assertEqual(targets["bob"], {"name": "bob", "display_name": None, "status": "away"})
        self.assertEqual(targets["ops"]["status"], "available")
        # Deterministic: the same colours on the next call and for another agent.
        again = self.config(token=self.bob)
        self.assertEqual(again["rules"], c["rules"])
        self.assertEqual(again["agent"]["name"], "bob")
        self.assertIn("alice", {t["name"] for t in again["transfer_targets"]})
        self.assertNotIn("bob", {t["name"] for t in again["transfer_targets"]})
        self.assertIs(self.config(token=self.admin)["agent"]["admin"], True)

    def test_bad_requests(self):
        self.assertError(self.daemon.get("/api/console/config", token=None), 401, "unauthorized")
        self.assertError(self.daemon.get("/api/console/config", token="cbk_nope"), 401,
                         "unauthorized")
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            with self.subTest(method=method):
                self.assertError(self.daemon.request(method, "/api/console/config", {}), 405,
                                 "method_not_allowed")
        self.assertError(self.daemon.get("/api/console/config/x"), 404, "route_not_found")
        # Query parameters are ignored, not an error.
        self.assertStatus(self.daemon.get("/api/console/config?x=1"), 200)

    def test_reload_changes_colours(self):
        before = {r["name"]: r["color"] for r in self.config()["rules"]}
        rules = json.loads(json.dumps(RULES))
        rules["tags"][0]["color"] = "#0277BD"
        with open(self.rules, "w") as f:
            json.dump(rules, f)
        self.daemon.kill(harness.signal.SIGHUP)
        after = wait_for(lambda: (lambda c: c if c["Hot Lead"] == "#0277bd" else None)(
            {r["name"]: r["color"] for r in self.config()["rules"]}), 10, "the reloaded colour")
        self.assertEqual(after["buy"], before["buy"])
        # A bad colour on reload keeps the running rules.
        rules["tags"][0]["color"] = "blue"
        with open(self.rules, "w") as f:
            json.dump(rules, f)
        self.daemon.kill(harness.signal.SIGHUP)
        wait_for(lambda: "tags[0].color" in open(self.daemon.log_path).read(), 10,
                 "the reload refused")
        self.assertEqual({r["name"]: r["color"] for r in self.config()["rules"]}, after)


class ConsoleConfigTwilioTest(TwilioCallCase):
    twilio = {"conference": True, "live_transcription": True}

    def test_twilio_and_salesforce(self):
        c = self.daemon.get("/api/console/config").body
        self.assertEqual(c["telephony"]["provider"], "twilio")
        self.assertIs(c["telephony"]["conference"], True)
        self.assertIs(c["telephony"]["live_transcription"], True)
        masked = c["telephony"]["caller_id_masked"]
        self.assertNotEqual(masked, OUR_NUMBER)
        self.assertTrue(masked.startswith(OUR_NUMBER[:5]) and "*" in masked, masked)
        self.assertEqual(c["crm"]["provider"], "salesforce")
        # The instance URL once the CRM has answered (the warm-up authenticates at start).
        url = wait_for(lambda: self.daemon.get("/api/console/config").body["crm"]["instance_url"],
                       30, "the instance URL")
        self.assertEqual(url, self.sb.url)


if __name__ == "__main__":
    harness.main()
