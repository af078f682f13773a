"""When the agent answers (issue 14): with [twilio] conference = true an inbound call's leg
joins its conference at once, before the agent picks up; the call's answered_at is set when
the agent's participant answers (its status callback on POST /webhooks/twilio/participant),
not when the caller's leg is in progress — so a caller who hangs up while the agent's phone
rings is abandoned, not answered. POST /webhooks/twilio/participant is signature-checked and
refuses bad input with a 4xx, changing nothing."""

import uuid

import harness
from harness import wait_for
from test_twilio_calls import ACCOUNT, CUSTOMER, OUR_NUMBER, TOKEN, TwilioCallCase
from twilio_sign import form_request

TALK = {"to": "*", "status": "completed", "duration_s": 60, "answer_ms": 0, "talk_ms": 60000}


class ConferenceAnswerCase(TwilioCallCase):
    twilio = {"conference": True, "fallback_agent": "alice"}

    def hook(self, path, params):
        data, hdrs = form_request(TOKEN, self.daemon.base_url, path, params)
        return self.daemon.request("POST", path, data, headers=hdrs, token=None)

    def inbound(self):
        """A new inbound call rung to alice through its conference: (call id, CallSid)."""
        sid = "CA" + uuid.uuid4().hex
        r = self.hook("/webhooks/twilio/voice", {
            "CallSid": sid, "AccountSid": ACCOUNT, "From": CUSTOMER, "To": OUR_NUMBER,
            "Direction": "inbound", "CallStatus": "ringing"})
        self.assertStatus(r, 200)
        self.assertIn(b"<Conference", r.raw)
        cid = self.daemon.sql_value("SELECT id FROM calls WHERE provider_call_id = '%s'" % sid)
        return cid, sid

    def caller_status(self, sid, status, **extra):
        params = {"CallSid": sid, "AccountSid": ACCOUNT, "From": CUSTOMER, "To": OUR_NUMBER,
                  "Direction": "inbound", "CallStatus": status}
        params.update(extra)
        self.assertStatus(self.hook("/webhooks/twilio/status", params), 204)

    def answered_at(self, cid):
        return self.call(cid)["answered_at"]


class AgentAnswersTest(ConferenceAnswerCase):

    def test_answered_when_the_agent_picks_up(self):
        self.sb.outcome(**TALK)
        cid, sid = self.inbound()
        self.assertEqual(self.daemon.sql_value(
            "SELECT answer_on_join FROM calls WHERE id = '%s'" % cid), "t")
        # The caller's leg is in progress: not answered by that.
        self.caller_status(sid, "in-progress")
        # The agent's participant answers (the sandbox's Twilio calls back): answered now.
        at = wait_for(lambda: self.answered_at(cid), 30, "answered_at from the agent's answer")
        hooks = [w for w in self.sb.state()["twilio_webhooks"]
                 if "/webhooks/twilio/participant?call_id=%s" % cid in w["url"]]
        self.assertTrue(hooks and all(w["http_status"] == 204 for w in hooks), hooks)
        self.assertEqual(self.call(cid)["status"], "in-progress")
        # Later callbacks keep it.
        self.caller_status(sid, "in-progress")
        self.assertEqual(self.answered_at(cid), at)
        self.caller_status(sid, "completed", CallDuration="12")
        call = self.call(cid)
        self.assertEqual((call["status"], call["answered_at"]), ("completed", at))
        stats = self.daemon.get("/api/stats", token=self.admin).body["overall"]["inbound"]
        self.assertEqual((stats["answered"], stats["abandoned"]), (1, 0))


class AgentNeverAnswersTest(ConferenceAnswerCase):

    def test_caller_hangs_up_while_the_agent_rings(self):
        self.sb.outcome(**TALK)
        self.sb.outcome(to="client:alice", status="no-answer", duration_s=0)
        cid, sid = self.inbound()
        self.caller_status(sid, "in-progress")
        self.assertIsNone(self.answered_at(cid))
        self.caller_status(sid, "completed", CallDuration="9")
        call = self.call(cid)
        self.assertEqual(call["status"], "completed")
        self.assertIsNone(call["answered_at"])
        stats = self.daemon.get("/api/stats", token=self.admin).body["overall"]["inbound"]
        self.assertEqual((stats["answered"], stats["abandoned"]), (0, 1))
        # The agent's answer after the end does not count either.
        r = self.hook("/webhooks/twilio/participant?call_id=%s" % cid, {
            "CallSid": "CA" + uuid.uuid4().hex, "AccountSid": ACCOUNT, "CallStatus": "in-progress"})
        self.assertStatus(r, 204)
        self.assertIsNone(self.answered_at(cid))


class ParticipantWebhookInputTest(ConferenceAnswerCase):

    def test_bad_input_and_calls_it_does_not_concern(self):
        self.sb.outcome(to="*", status="no-answer", duration_s=0)
        cid, sid = self.inbound()
        leg = "CA" + uuid.uuid4().hex
        base = {"CallSid": leg, "AccountSid": ACCOUNT, "CallStatus": "in-progress"}
        path = "/webhooks/twilio/participant?call_id=%s" % cid
        cases = [
            ("/webhooks/twilio/participant", base, 400, "invalid_query"),
            ("/webhooks/twilio/participant?call_id=nope", base, 400, "invalid_query"),
            (path, {"AccountSid": ACCOUNT, "CallStatus": "in-progress"}, 422, "missing_field"),
            (path, {"CallSid": leg, "AccountSid": ACCOUNT}, 422, "missing_field"),
            (path, dict(base, CallStatus="answered"), 422, "invalid_field"),
            (path, dict(base, CallSid="XX" + leg[2:]), 422, "invalid_field"),
        ]
        for target, params, status, code in cases:
            with self.subTest(target=target, params=params):
                self.assertError(self.hook(target, params), status, code)
        data, hdrs = form_request("wrong-token", self.daemon.base_url, path, base)
        self.assertError(self.daemon.request("POST", path, data, headers=hdrs, token=None), 403,
                         "invalid_signature")
        self.assertIsNone(self.answered_at(cid))
        # Other statuses change nothing; an unknown call is taken and ignored.
        for status in ("ringing", "completed"):
            self.assertStatus(self.hook(path, dict(base, CallStatus=status)), 204)
        self.assertIsNone(self.answered_at(cid))
        self.assertStatus(self.hook("/webhooks/twilio/participant?call_id=%s" % uuid.uuid4(),
                                    base), 204)
        # A click-to-dial call is answered by its customer, whatever a participant says.
        self.sb.outcome(to=CUSTOMER, status="no-answer", duration_s=0)
        out = self.dial()
        self.assertStatus(self.hook("/webhooks/twilio/participant?call_id=%s" % out, base), 204)
        self.assertIsNone(self.answered_at(out))
        # The inbound call's participant answer does count.
        self.assertStatus(self.hook(path, base), 204)
        self.assertIsNotNone(self.answered_at(cid))


if __name__ == "__main__":
    harness.main()
