"""A transfer to another agent (issue 14): the target must be one of the agents (422
unknown_agent otherwise, after the call itself was found); once done — a blind transfer at
once, a warm one on complete — the call is the target's (calls.agent: their list, their
active call, their wrap-up), the transferring agent's busy ends, and their retry of the
transfer is still answered as one. A transfer to a number keeps the call where it is."""

import harness
from harness import wait_for
from test_call_control import ControlCase


class TransferToAgentTest(ControlCase):
    extra = {}

    def setUp(self):
        super().setUp()
        self.bob = self.daemon.apikey("bob")

    def status(self, token):
        return self.daemon.get("/api/agent/status", token=token).body["status"]

    def ids(self, token=harness.DEFAULT):
        kw = {} if token is harness.DEFAULT else {"token": token}
        return [c["call_id"] for c in self.daemon.get("/api/calls", **kw).body["calls"]]

    def test_warm_transfer_hands_the_call_over(self):
        cid, sid, cf = self.live_call()
        wait_for(lambda: self.status(self.daemon.token) == "busy", 30, "alice busy")
        self.act(cid, "transfer", {"to": "bob", "mode": "warm"}, status=202)
        self.assertEqual(self.call(cid)["agent"], "alice", "pending: still alice's")
        wait_for(lambda: self.participants(cf).get("transfer", {}).get("status") == "connected",
                 30, "bob connected")
        r = self.act(cid, "transfer", {"action": "complete"})
        self.assertTrue(r["changed"])
        self.assertEqual(self.call(cid)["agent"], "bob")
        # The call is bob's now: his list and his active call; alice's status is free again.
        self.assertIn(cid, self.ids(self.bob))
        self.assertNotIn(cid, self.ids())
        self.assertError(self.daemon.get("/api/calls/%s" % cid), 404, "not_found")
        active = self.daemon.get("/api/agent/call", token=self.bob).body
        self.assertEqual((active["call"]["call_id"], active["phase"]), (cid, "live"))
        self.assertIsNone(self.daemon.get("/api/agent/call").body["call"])
        self.assertEqual(self.status(self.daemon.token), "available")
        wait_for(lambda: self.status(self.bob) == "busy", 30, "bob busy with the call")
        # Alice's retry is answered as the transfer it was; anything else is still refused.
        self.assertFalse(self.act(cid, "transfer", {"action": "complete"})["changed"])
        self.assertError(self.daemon.post("/api/calls/%s/hold" % cid, {"on": True}), 409,
                         "invalid_call_state")
        # The call ends: bob's wrap-up, not alice's.
        self.twilio_rest("DELETE", "/Conferences/%s/Participants/transfer.json" % cf)
        self.wait_final(cid, "completed")
        wait_for(lambda: self.status(self.bob) in ("wrap_up", "available"), 30, "bob's wrap-up")
        self.assertEqual(self.status(self.daemon.token), "available")
        self.assertEqual(self.daemon.count(
            "agent_status_log", "agent = 'bob' AND status = 'wrap_up' AND call_id = '%s'" % cid), 1)
        self.assertEqual(self.daemon.count(
            "agent_status_log", "agent = 'alice' AND status = 'wrap_up'"), 0)

    def test_blind_transfer_to_an_agent_and_to_a_number(self):
        cid, _, _ = self.live_call()
        self.act(cid, "transfer", {"to": "bob"})
        self.assertEqual(self.call(cid)["agent"], "bob")
        self.assertFalse(self.act(cid, "transfer", {"to": "bob"})["changed"])
        cid, _, _ = self.live_call()
        self.act(cid, "transfer", {"to": "+14155550199"})
        self.assertEqual(self.call(cid)["agent"], "alice")

    def test_unknown_agent(self):
        cid, _, cf = self.live_call()
        for to in ("nobody", "Bob", "bob2"):
            with self.subTest(to=to):
                for mode in ("blind", "warm"):
                    self.assertError(self.daemon.post("/api/calls/%s/transfer" % cid,
                                                      {"to": to, "mode": mode}), 422,
                                     "unknown_agent")
        # The call is looked up first: another agent's call is not found, whatever the target.
        self.assertError(self.daemon.post("/api/calls/%s/transfer" % cid, {"to": "nobody"},
                                          token=self.bob), 404, "not_found")
        self.assertError(self.daemon.post("/api/calls/00000000-0000-4000-8000-000000000000/"
                                          "transfer", {"to": "nobody"}), 404, "not_found")
        # Nothing was done or recorded.
        self.assertEqual(self.agent_history(cid), [])
        self.assertEqual(self.call(cid)["controls"]["transfer"], None)
        self.assertEqual(set(self.participants(cf)), {"customer", "agent"})
        self.assertEqual(self.sb.count("twilio.calls.update"), 0)


if __name__ == "__main__":
    harness.main()
