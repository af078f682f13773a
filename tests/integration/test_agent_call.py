"""GET /api/agent/call (issue 14): the call a reloaded console restores — the agent's newest
call that is not final (phase ringing, then live with the live transcript's final segments so
far and their keyword hits), then the ended call while its wrap-up waits for a disposition
(phase wrap_up), then nothing. Always the caller's own call: another agent (an admin too)
never sees it. Only GET, only signed in."""

import harness
from harness import DaemonTestCase, wait_for
from test_twilio_calls import CUSTOMER, TwilioCallCase

EMPTY = {"call": None, "phase": None, "transcript": []}
CONVERSATION = [
    ("outbound_track", "Hello, this is Alice from Callbridge."),
    ("inbound_track", "Hi Alice. We want a quote, we also talk to Aircall."),
    ("outbound_track", "Happy to help with the pricing."),
]


class AgentCallNoTelephonyTest(DaemonTestCase):
    config = {"agents": {"wrap_up_s": 1}}

    def active(self, **kw):
        r = self.daemon.get("/api/agent/call", **kw)
        self.assertStatus(r, 200)
        return r.body

    def test_queued_call_and_visibility(self):
        self.assertEqual(self.active(), EMPTY)
        bob = self.daemon.apikey("bob")
        admin = self.daemon.apikey("ops", admin=True)
        cid = self.daemon.initiate({"to": CUSTOMER}).body["call_id"]
        got = self.active()
        self.assertEqual(got["phase"], "ringing")
        self.assertEqual(got["transcript"], [])
        self.assertEqual(got["call"]["call_id"], cid)
        # The same view as GET /api/calls/{id} (the volatile fields aside).
        full = self.daemon.get("/api/calls/%s" % cid).body
        self.assertEqual(set(got["call"]), set(full))
        self.assertEqual(got["call"]["to"], full["to"])
        # Another agent, and an admin, have their own (none): never alice's.
        self.assertEqual(self.active(token=bob), EMPTY)
        self.assertEqual(self.active(token=admin), EMPTY)
        # The newest unfinished call wins.
        newer = self.daemon.initiate({"to": "+14155550199"}).body["call_id"]
        self.assertEqual(self.active()["call"]["call_id"], newer)
        # A call left unfinished for more than 12 hours is not the console's any more.
        self.daemon.sql("UPDATE calls SET created_at = now() - interval '13 hours'")
        self.assertEqual(self.active(), EMPTY)

    def test_bad_requests(self):
        self.assertError(self.daemon.get("/api/agent/call", token=None), 401, "unauthorized")
        self.assertError(self.daemon.get("/api/agent/call", token="cbk_x"), 401, "unauthorized")
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            with self.subTest(method=method):
                self.assertError(self.daemon.request(method, "/api/agent/call", {}), 405,
                                 "method_not_allowed")
        self.assertError(self.daemon.get("/api/agent/call/x"), 404, "route_not_found")


class AgentCallLiveTest(TwilioCallCase):
    twilio = {"conference": True, "live_transcription": True}

    def extra_config(self, sb):
        return {"agents": {"wrap_up_s": 1, "disposition_required": True,
                           "dispositions": "interested:Interested, no_answer"}}

    def setUp(self):
        super().setUp()
        self.sb.seed({"conversations": [{"to": CUSTOMER, "segments": [
            {"track": t, "text": x} for t, x in CONVERSATION]}]})
        self.sb.outcome(to="*", status="completed", duration_s=30, answer_ms=0,
                        talk_ms=30000)

    def active(self, **kw):
        r = self.daemon.get("/api/agent/call", **kw)
        self.assertStatus(r, 200)
        return r.body

    def test_live_then_wrap_up_then_none(self):
        bob = self.daemon.apikey("bob")
        cid = self.dial()

        def two_segments():
            a = self.active()
            return a if a["phase"] == "live" and len(a["transcript"]) >= 2 else None
        live = wait_for(two_segments, 60, "the live call with two final segments")
        self.assertEqual(live["call"]["call_id"], cid)
        self.assertEqual(live["call"]["status"], "in-progress")
        first, second = live["transcript"][:2]
        self.assertEqual((first["speaker"], first["text"]), ("agent", CONVERSATION[0][1]))
        self.assertEqual((second["speaker"], second["text"]), ("customer", CONVERSATION[1][1]))
        self.assertLess(first["sequence"], second["sequence"])
        hits = {(k["keyword"].lower(), k["rule"]) for k in second["keywords"]}
        self.assertTrue({("quote", "pricing"), ("aircall", "competitor")} <= hits, hits)
        self.assertEqual(self.active(token=bob), EMPTY)

        # Hung up: the call waits for its wrap-up (disposition_required).
        self.assertStatus(self.daemon.post("/api/calls/%s/hangup" % cid, {}), 200)
        wrap = wait_for(lambda: (lambda a: a if a["phase"] == "wrap_up" else None)(
            self.active()), 30, "phase wrap_up")
        self.assertEqual(wrap["call"]["call_id"], cid)
        self.assertIsNone(wrap["call"]["disposition"])
        self.assertEqual(self.active(token=bob), EMPTY)
        # The wrap-up given: nothing to restore.
        self.assertStatus(self.daemon.post("/api/calls/%s/disposition" % cid,
                                           {"disposition": "interested"}), 200)
        self.assertEqual(self.active(), EMPTY)


if __name__ == "__main__":
    harness.main()
