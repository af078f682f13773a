"""Call control through Twilio (issue 13 item 4): POST /api/calls/{id}/hangup, /hold,
/transfer and /recording against the sandbox's Twilio with [twilio] conference = true. The
click-to-dial customer's leg is bridged through conference "cb-<CallSid>" (the agent added by
the Participants API); hold flips the customer participant's Hold, repeated actions ask
Twilio nothing, blind transfers redirect the customer's leg, a warm transfer adds the target
and completes or cancels, the recording pauses with PauseBehavior skip and resumes, hang-up
ends the call (one Task), every action is in the call's history with source agent, and the
bad-input matrix, another agent's call and a call without telephony control are refused."""

import base64
import json
import urllib.parse
import uuid

import harness
from harness import DaemonTestCase, wait_for
from test_twilio_calls import ACCOUNT, CUSTOMER, OUR_NUMBER, TOKEN, TwilioCallCase
from sse import SseStream
from twilio_sign import form_request

API = "/2010-04-01/Accounts/%s" % ACCOUNT
TALK = {"to": "*", "status": "completed", "duration_s": 60, "answer_ms": 0, "talk_ms": 60000}


class ControlCase(TwilioCallCase):
    twilio = {"conference": True}

    def setUp(self):
        super().setUp()
        self.sb.outcome(**TALK)  # every leg answers at once and talks until hung up

    def twilio_rest(self, method, path, form=None):
        cred = base64.b64encode(("%s:%s" % (ACCOUNT, TOKEN)).encode()).decode()
        hdrs = {"Authorization": "Basic " + cred}
        body = None
        if form is not None:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(form)
        resp = self.sb.request(method, API + path, body, headers=hdrs)
        self.assertIn(resp.status, (200, 201, 204), repr(resp))
        return resp.body

    def act(self, cid, what, body=None, status=200, token=harness.DEFAULT):
        kw = {} if token is harness.DEFAULT else {"token": token}
        r = self.daemon.post("/api/calls/%s/%s" % (cid, what), body, **kw)
        self.assertStatus(r, status)
        return r.body

    def sandbox_call(self, sid):
        (entry,) = [c for c in self.sb.state()["twilio_calls"] if c["sid"] == sid]
        return entry

    def participants(self, cf):
        return {p["label"]: p for p in self.twilio_rest(
            "GET", "/Conferences/%s/Participants.json" % cf)["participants"]}

    def live_call(self):
        """A click-to-dial call answered and bridged: (call id, its CallSid, the CF sid)."""
        cid = self.dial()
        call = wait_for(lambda: (lambda c: c if c["status"] == "in-progress" else None)(
            self.call(cid)), 30, "call %s in progress" % cid)
        sid = call["telephony"]["call_id"]

        def bridged():
            confs = self.twilio_rest("GET", "/Conferences.json?FriendlyName=cb-%s&Status="
                                     "in-progress" % sid)["conferences"]
            if not confs:
                return None
            parts = self.participants(confs[0]["sid"])
            return confs[0]["sid"] if set(parts) == {"customer", "agent"} and all(
                p["status"] == "connected" for p in parts.values()) else None
        return cid, sid, wait_for(bridged, 30, "customer and agent in cb-%s" % sid)

    def agent_history(self, cid):
        return [h["status"] for h in self.call(cid)["history"] if h["source"] == "agent"]


class HoldRecordingHangupTest(ControlCase):
    def test_hold_recording_and_hangup(self):
        cid, sid, cf = self.live_call()
        self.assertIn('<Conference participantLabel="customer"', self.sandbox_call(sid)["twiml"])
        self.assertEqual(self.participants(cf)["agent"]["call_sid"] != sid, True)
        stream = SseStream(self.daemon.port, self.daemon.token)
        self.addCleanup(stream.close)
        # Hold: the customer participant is held; again changes nothing and asks nothing.
        r = self.act(cid, "hold", {"on": True})
        ev = stream.next_event(timeout=10, skip_types=("call_status", "screen_pop", "agent_status"))
        self.assertEqual(ev["event"], "call_control")
        self.assertEqual(json.loads(ev["data"]), {"call_id": cid, "action": "hold",
                                                  "controls": r["controls"]})
        self.assertEqual((r["call_id"], r["action"], r["changed"]), (cid, "hold", True))
        self.assertTrue(r["controls"]["held"])
        self.assertTrue(self.participants(cf)["customer"]["hold"])
        self.assertEqual(self.call(cid)["controls"], r["controls"])  # the call's view has it
        updates = self.sb.count("twilio.participants.update")
        r = self.act(cid, "hold", {"on": True})
        self.assertEqual((r["changed"], r["controls"]["held"]), (False, True))
        self.assertEqual(self.sb.count("twilio.participants.update"), updates)
        r = self.act(cid, "hold", {"on": False})
        self.assertEqual((r["action"], r["changed"], r["controls"]["held"]),
                         ("unhold", True, False))
        self.assertFalse(self.participants(cf)["customer"]["hold"])
        # Recording: paused with PauseBehavior skip, then resumed.
        r = self.act(cid, "recording", {"action": "pause"})
        self.assertEqual((r["action"], r["controls"]["recording"]), ("recording_paused", "paused"))
        rec = self.sandbox_call(sid)["sandbox"]["recording"]
        self.assertEqual((rec["status"], rec["pause_behavior"]), ("paused", "skip"))
        before = self.sb.count("twilio.calls.recordings.update")
        self.assertFalse(self.act(cid, "recording", {"action": "pause"})["changed"])
        self.assertEqual(self.sb.count("twilio.calls.recordings.update"), before)
        r = self.act(cid, "recording", {"action": "resume"})
        self.assertEqual(r["controls"]["recording"], "active")
        self.assertEqual(self.sandbox_call(sid)["sandbox"]["recording"]["status"], "in-progress")
        # Hang up: the call ends through Twilio's own final status, logged once.
        r = self.act(cid, "hangup")
        self.assertEqual((r["action"], r["changed"], r["controls"]["hung_up"]),
                         ("hangup", True, True))
        call = self.wait_final(cid, "completed")
        self.wait_task(cid, Status="Completed")
        self.assertEqual(self.sandbox_call(sid)["status"], "completed")
        self.assertEqual(self.twilio_rest("GET", "/Conferences/%s.json" % cf)["status"],
                         "completed")
        # Again: answered from the state; anything else on the ended call: 409.
        hangups = self.sb.count("twilio.calls.update")
        self.assertFalse(self.act(cid, "hangup")["changed"])
        self.assertEqual(self.sb.count("twilio.calls.update"), hangups)
        self.assertError(self.daemon.post("/api/calls/%s/hold" % cid, {"on": True}), 409,
                         "invalid_call_state")
        self.assertError(self.daemon.post("/api/calls/%s/recording" % cid,
                                          {"action": "pause"}), 409, "invalid_call_state")
        self.assertEqual(self.agent_history(cid),
                         ["hold", "unhold", "recording_paused", "recording_resumed", "hangup"])
        twilio = [h["status"] for h in call["history"] if h["source"] == "twilio"]
        self.assertEqual(twilio, ["initiated", "ringing", "in-progress", "completed"])
        self.assertEqual(len(self.sb.tasks_of(cid)), 1)

    def test_ended_call_refuses_and_hangup_of_ringing_call(self):
        self.sb.outcome(to=CUSTOMER, status="completed", duration_s=5, answer_ms=0, talk_ms=0)
        cid = self.dial()
        self.wait_final(cid, "completed")
        for what, body in (("hangup", None), ("hold", {"on": True}),
                           ("transfer", {"to": "bob"}), ("recording", {"action": "pause"})):
            self.assertError(self.daemon.post("/api/calls/%s/%s" % (cid, what), body), 409,
                             "invalid_call_state")
        self.assertEqual(self.agent_history(cid), [])
        # A customer whose phone still rings: the hang-up cancels the call.
        self.sb.outcome(to=CUSTOMER, status="completed", duration_s=5, answer_ms=60000)
        cid = self.dial()
        wait_for(lambda: self.call(cid)["status"] == "ringing", 30, "ringing")
        self.assertError(self.daemon.post("/api/calls/%s/hold" % cid, {"on": True}), 409,
                         "invalid_call_state")
        self.assertTrue(self.act(cid, "hangup")["changed"])
        self.wait_final(cid, "canceled")


class TransferTest(ControlCase):
    def setUp(self):
        super().setUp()
        self.daemon.apikey("bob")  # a transfer target must be one of the agents

    def test_blind_transfer_to_a_number_and_to_an_agent(self):
        for to, want in (("+14155550199", "<Number>+14155550199</Number>"),
                         ("bob", "<Identity>bob</Identity>")):
            cid, sid, cf = self.live_call()
            r = self.act(cid, "transfer", {"to": to, "mode": "blind"})
            self.assertEqual((r["action"], r["changed"]), ("transfer", True))
            self.assertEqual(r["controls"]["transfer"],
                             {"state": "done", "mode": "blind", "to": to})
            entry = self.sandbox_call(sid)
            self.assertIn(want, entry["sandbox"]["redirects"][0])
            # The customer left the conference, which ended the agent's leg.
            agent = wait_for(lambda: (lambda c: c if c["end_time"] else None)(
                [c for c in self.sb.state()["twilio_calls"] if c["to"] == "client:alice"][-1]),
                30, "the agent's leg ended")
            self.assertEqual(agent["status"], "completed")
            # The same transfer again: nothing asked; anything else: the agent is out.
            redirects = self.sb.count("twilio.calls.update")
            self.assertFalse(self.act(cid, "transfer", {"to": to})["changed"])
            self.assertEqual(self.sb.count("twilio.calls.update"), redirects)
            self.assertError(self.daemon.post("/api/calls/%s/hold" % cid, {"on": True}), 409,
                             "invalid_call_state")
            self.assertError(self.daemon.post("/api/calls/%s/hangup" % cid), 409,
                             "invalid_call_state")
            self.assertEqual(self.agent_history(cid), ["transfer"])
            self.twilio_rest("POST", "/Calls/%s.json" % sid, {"Status": "completed"})
            self.wait_final(cid, "completed")

    def test_warm_transfer_complete_and_cancel(self):
        cid, sid, cf = self.live_call()
        r = self.act(cid, "transfer", {"to": "bob", "mode": "warm"}, status=202)
        self.assertEqual(r["controls"]["transfer"], {"state": "pending", "mode": "warm",
                                                     "to": "bob"})
        self.assertTrue(r["controls"]["held"])
        parts = wait_for(lambda: (lambda p: p if p.get("transfer", {}).get("status") ==
                                  "connected" else None)(self.participants(cf)), 30,
                         "bob connected")
        self.assertTrue(parts["customer"]["hold"])
        self.assertEqual(self.sandbox_call(parts["transfer"]["call_sid"])["to"], "client:bob")
        # Again: the same pending transfer; hold and another target are refused meanwhile.
        self.assertFalse(self.act(cid, "transfer", {"to": "bob", "mode": "warm"},
                                  status=200)["changed"])
        self.assertError(self.daemon.post("/api/calls/%s/transfer" % cid,
                                          {"to": "carol", "mode": "warm"}), 409,
                         "invalid_call_state")
        self.assertError(self.daemon.post("/api/calls/%s/hold" % cid, {"on": False}), 409,
                         "invalid_call_state")
        r = self.act(cid, "transfer", {"action": "complete"})
        self.assertEqual((r["action"], r["controls"]["transfer"]["state"], r["controls"]["held"]),
                         ("transfer_completed", "done", False))
        parts = self.participants(cf)
        self.assertEqual(set(parts), {"customer", "transfer"})
        self.assertFalse(parts["customer"]["hold"])
        self.assertTrue(parts["transfer"]["end_conference_on_exit"])
        self.assertFalse(self.act(cid, "transfer", {"action": "complete"})["changed"])
        self.assertError(self.daemon.post("/api/calls/%s/hangup" % cid), 409,
                         "invalid_call_state")
        self.assertEqual(self.agent_history(cid), ["transfer_started", "transfer_completed"])
        # Bob hangs up: the conference ends, and the customer's call with it.
        self.twilio_rest("DELETE", "/Conferences/%s/Participants/transfer.json" % cf)
        self.wait_final(cid, "completed")

        cid, sid, cf = self.live_call()
        self.act(cid, "transfer", {"to": "+14155550177", "mode": "warm"}, status=202)
        wait_for(lambda: "transfer" in self.participants(cf), 30, "the number dialled in")
        r = self.act(cid, "transfer", {"action": "cancel"})
        self.assertEqual((r["action"], r["controls"]["transfer"], r["controls"]["held"]),
                         ("transfer_canceled", None, False))
        parts = self.participants(cf)
        self.assertEqual(set(parts), {"customer", "agent"})
        self.assertFalse(parts["customer"]["hold"])
        self.assertError(self.daemon.post("/api/calls/%s/transfer" % cid, {"action": "cancel"}),
                         409, "invalid_call_state")
        self.act(cid, "hangup")
        self.wait_final(cid, "completed")
        self.assertEqual(self.agent_history(cid),
                         ["transfer_started", "transfer_canceled", "hangup"])


class BadInputTest(ControlCase):
    def test_bad_input_matrix_and_visibility(self):
        cid, sid, cf = self.live_call()
        cases = [
            ("hold", {}, 422, "missing_field"),
            ("hold", {"on": "yes"}, 422, "invalid_field"),
            ("hold", {"on": True, "extra": 1}, 422, "invalid_field"),
            ("hold", "{not json", 400, "malformed_json"),
            ("hold", [1], 400, "invalid_body"),
            ("hold", None, 415, "unsupported_media_type"),  # no body at all
            ("transfer", {}, 422, "missing_field"),
            ("transfer", {"to": "bob", "action": "complete"}, 422, "invalid_field"),
            ("transfer", {"action": "complete", "mode": "warm"}, 422, "invalid_field"),
            ("transfer", {"to": "bob", "mode": "sideways"}, 422, "invalid_field"),
            ("transfer", {"to": "not a name!"}, 422, "invalid_field"),
            ("transfer", {"to": "alice"}, 422, "invalid_field"),
            ("transfer", {"to": "+12"}, 422, "invalid_phone"),
            ("transfer", {"to": "+1415555abcd"}, 422, "invalid_phone"),
            ("transfer", {"to": 42}, 422, "invalid_field"),
            ("transfer", {"to": "b" * 200}, 422, "invalid_field"),
            ("transfer", {"action": "complete"}, 409, "invalid_call_state"),
            ("recording", {"action": "stop"}, 422, "invalid_field"),
            ("recording", {}, 422, "missing_field"),
            ("hangup", {"now": True}, 422, "invalid_field"),
        ]
        for what, body, status, code in cases:
            self.assertError(self.daemon.post("/api/calls/%s/%s" % (cid, what), body), status,
                             code)
        big = {"on": True, "pad": "x" * 2000}
        self.assertError(self.daemon.post("/api/calls/%s/hold" % cid, big), 413,
                         "payload_too_large")
        self.assertError(self.daemon.post("/api/calls/%s/hold" % cid, "on=true",
                                          headers={"Content-Type": "text/plain"}), 415,
                         "unsupported_media_type")
        # Unknown ids, another agent's call, no key: never reveal the call.
        bob = self.daemon.apikey("bob")
        for what, body in (("hangup", None), ("hold", {"on": True}),
                           ("transfer", {"to": "carol"}), ("recording", {"action": "pause"})):
            for target in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
                self.assertError(self.daemon.post("/api/calls/%s/%s" % (target, what), body),
                                 404, "not_found")
            self.assertError(self.daemon.post("/api/calls/%s/%s" % (cid, what), body,
                                              token=bob), 404, "not_found")
            self.assertError(self.daemon.post("/api/calls/%s/%s" % (cid, what), body,
                                              token=None), 401, "unauthorized")
        self.assertEqual(self.agent_history(cid), [], "nothing recorded for refusals")
        self.assertEqual(self.call(cid)["controls"], {"held": False, "recording": "active",
                                                      "hung_up": False, "transfer": None})
        self.assertFalse(self.participants(cf)["customer"]["hold"])
        # An admin may act on anyone's call.
        self.assertTrue(self.act(cid, "hangup", token=self.admin)["changed"])
        self.wait_final(cid, "completed")


class InboundConferenceTest(ControlCase):
    """An inbound call is bridged through its conference too: the agent the call rings is
    added by the Participants API, the caller's leg joins by the TwiML answer."""
    twilio = {"conference": True, "fallback_agent": "alice"}

    def test_inbound_call_joins_the_agent_through_the_conference(self):
        sid = "CA" + uuid.uuid4().hex
        params = {"CallSid": sid, "AccountSid": ACCOUNT, "From": CUSTOMER, "To": OUR_NUMBER,
                  "Direction": "inbound", "CallStatus": "ringing"}
        data, hdrs = form_request(TOKEN, self.daemon.base_url, "/webhooks/twilio/voice", params)
        r = self.daemon.request("POST", "/webhooks/twilio/voice", data, headers=hdrs, token=None)
        self.assertStatus(r, 200)
        xml = r.raw.decode()
        self.assertIn('<Conference participantLabel="customer" startConferenceOnEnter="true" '
                      'endConferenceOnExit="true" beep="false">cb-%s</Conference>' % sid, xml)
        self.assertNotIn("<Client>", xml)
        confs = self.twilio_rest("GET", "/Conferences.json?FriendlyName=cb-" + sid)["conferences"]
        self.assertEqual(len(confs), 1)
        agent = wait_for(lambda: (lambda p: p if p.get("agent", {}).get("status") ==
                                  "connected" else None)(self.participants(confs[0]["sid"])),
                         30, "the agent connected")["agent"]
        leg = self.sandbox_call(agent["call_sid"])
        self.assertEqual((leg["to"], leg["from"]), ("client:alice", OUR_NUMBER))
        self.assertTrue(agent["end_conference_on_exit"])


class PlainBridgeTest(ControlCase):
    """[twilio] conference = false: the plain <Dial><Client> bridge; hold and warm transfer
    need the conference (409), hang-up works."""
    twilio = {"conference": False}

    def test_hold_needs_the_conference(self):
        cid = self.dial()
        call = wait_for(lambda: (lambda c: c if c["status"] == "in-progress" else None)(
            self.call(cid)), 30, "in progress")
        # In-progress is reported before the answer's TwiML is fetched: wait for it.
        twiml = wait_for(lambda: self.sandbox_call(call["telephony"]["call_id"])["twiml"], 30,
                         "the bridge TwiML")
        self.assertIn("<Client><Identity>alice</Identity>", twiml)
        for what, body in (("hold", {"on": True}), ("transfer", {"to": "bob", "mode": "warm"})):
            r = self.daemon.post("/api/calls/%s/%s" % (cid, what), body)
            self.assertError(r, 409, "invalid_call_state")
            self.assertIn("conference", r.body["error"]["message"])
        self.assertEqual(self.sb.count("twilio.conferences.list"), 0)
        self.assertTrue(self.act(cid, "hangup")["changed"])
        self.wait_final(cid, "completed")


class NoTelephonyTest(DaemonTestCase):
    """Without a telephony provider that controls calls, the actions say so (409)."""

    def test_call_control_unsupported(self):
        r = self.daemon.initiate({"to": CUSTOMER})
        self.assertStatus(r, 202)
        cid = r.body["call_id"]
        for what, body in (("hangup", None), ("hold", {"on": True}),
                           ("transfer", {"to": "bob"}), ("recording", {"action": "pause"})):
            self.assertError(self.daemon.post("/api/calls/%s/%s" % (cid, what), body), 409,
                             "call_control_unsupported")


if __name__ == "__main__":
    harness.main()
