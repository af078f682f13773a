"""The sandbox's Twilio conferences (SPEC §7), driven alone against twilio-oai's shapes: a
conference created when the first call joins by TwiML <Conference>; Participants create (a
call the driver answers, then connected), list, fetch by CallSid and by label, update (Hold,
Muted, EndConferenceOnExit), delete (its call hangs up); endConferenceOnExit ending the
conference for everyone; Calls update (hang up, redirect out of the conference; 21220 for an
ended call); the call's running recording paused and resumed through Twilio.CURRENT; 404
20404 for whatever does not exist."""

import os
import shutil
import tempfile
import time
import unittest

import harness
import test_sandbox_twilio as base

AC = base.AC
API = base.API
CUSTOMER = "+14155550123"
PARTICIPANT_KEYS = {"account_sid", "call_sid", "label", "call_sid_to_coach", "coaching",
                    "conference_sid", "date_created", "date_updated", "end_conference_on_exit",
                    "muted", "hold", "start_conference_on_enter", "status", "queue_time", "uri"}
CONFERENCE_KEYS = {"account_sid", "date_created", "date_updated", "api_version", "friendly_name",
                   "region", "sid", "status", "uri", "subresource_uris",
                   "reason_conference_ended", "call_sid_ending_conference"}


def conference_twiml(name, label="customer", end="true"):
    return ('<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Conference '
            'participantLabel="%s" startConferenceOnEnter="true" endConferenceOnExit="%s">%s'
            '</Conference></Dial></Response>' % (label, end, name))


class ConferenceSandboxTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cb-twc-")
        token_file = os.path.join(self.dir, "token")
        with open(token_file, "w") as f:
            f.write(base.TOKEN + "\n")
        self.sb = harness.Sandbox(twilio_account_sid=AC, twilio_auth_token_file=token_file)
        self.addCleanup(self._stop)
        self.sb.start()
        # Every call is answered at once and talks for a minute unless hung up.
        self.sb.control("twilio/outcome", {"to": "*", "status": "completed", "duration_s": 60,
                                           "answer_ms": 0, "talk_ms": 60000})

    def _stop(self):
        rc = self.sb.stop()
        reports = self.sb.sanitizer_reports()
        result = getattr(getattr(self, "_outcome", None), "result", None)
        if rc not in (0, None) or reports or (result and (result.errors or result.failures)):
            print("\n---- sandbox log (%s) ----\n%s\n---- end ----" % (self.id(),
                                                                      self.sb.log_tail()))
        self.sb.remove_files()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.assertIn(rc, (0, None), "sandbox exit code on SIGTERM")
        self.assertEqual(reports, [], "sanitizer reports")

    twilio = base.TwilioSandboxTest.twilio
    auth = base.TwilioSandboxTest.auth
    assertTwilioError = base.TwilioSandboxTest.assertTwilioError

    def ok(self, resp, status=200):
        self.assertEqual(resp.status, status, repr(resp))
        return resp.body

    def call_entry(self, sid):
        calls = [c for c in self.sb.control("state")["twilio_calls"] if c["sid"] == sid]
        return calls[0] if calls else None

    def wait_ended(self, sid):
        return harness.wait_for(lambda: (lambda c: c if c and c["end_time"] else None)(
            self.call_entry(sid)), 20, "call %s to end" % sid)

    def conference(self, name, status=None):
        query = "?FriendlyName=" + name + ("&Status=" + status if status else "")
        confs = self.ok(self.twilio("GET", API + "/Conferences.json" + query))["conferences"]
        return confs[0] if confs else None

    def participants(self, cf):
        return self.ok(self.twilio("GET", API + "/Conferences/%s/Participants.json" % cf))[
            "participants"]

    def customer_in(self, name, record="true"):
        """A call whose TwiML joins conference `name` as "customer"; once it is in, the
        conference's JSON."""
        form = {"To": CUSTOMER, "From": "+14155550100", "Twiml": conference_twiml(name),
                "Record": record}
        call = self.ok(self.twilio("POST", API + "/Calls.json", form), 201)
        conf = harness.wait_for(lambda: self.conference(name, "in-progress"), 20,
                                "conference %s in progress" % name)
        return call["sid"], conf

    def test_conference_and_participants(self):
        sid, conf = self.customer_in("room-1")
        self.assertEqual(set(conf), CONFERENCE_KEYS)
        self.assertRegex(conf["sid"], r"^CF[0-9a-f]{32}$")
        self.assertEqual((conf["friendly_name"], conf["status"], conf["account_sid"]),
                         ("room-1", "in-progress", AC))
        self.assertEqual(conf["subresource_uris"]["participants"],
                         "%s/Conferences/%s/Participants.json" % (API, conf["sid"]))
        cf = conf["sid"]
        fetched = self.ok(self.twilio("GET", API + "/Conferences/%s.json" % cf))
        self.assertEqual(fetched["sid"], cf)
        (customer,) = self.participants(cf)
        self.assertEqual(set(customer), PARTICIPANT_KEYS)
        self.assertEqual((customer["call_sid"], customer["label"], customer["status"],
                          customer["hold"], customer["end_conference_on_exit"]),
                         (sid, "customer", "connected", False, True))
        # Participants create, addressed by the conference's name: a call the driver answers.
        form = {"From": "+14155550100", "To": "client:alice", "Label": "agent",
                "EndConferenceOnExit": "true"}
        agent = self.ok(self.twilio("POST", API + "/Conferences/room-1/Participants.json", form),
                        201)
        self.assertEqual(set(agent), PARTICIPANT_KEYS)
        self.assertEqual((agent["conference_sid"], agent["label"], agent["status"]),
                         (cf, "agent", "queued"))
        self.assertEqual(self.call_entry(agent["call_sid"])["to"], "client:alice")
        harness.wait_for(lambda: len([p for p in self.participants(cf)
                                      if p["status"] == "connected"]) == 2, 20, "agent connected")
        # Fetch by CallSid and by label; the label is taken.
        by_label = self.ok(self.twilio("GET", API + "/Conferences/%s/Participants/agent.json" % cf))
        self.assertEqual(by_label["call_sid"], agent["call_sid"])
        self.ok(self.twilio("GET", API + "/Conferences/%s/Participants/%s.json"
                            % (cf, agent["call_sid"])))
        self.assertTwilioError(self.twilio("POST", API + "/Conferences/%s/Participants.json" % cf,
                                           form), 400, 20001)
        # Update: hold the customer (all or nothing), mute the agent.
        path = API + "/Conferences/%s/Participants/customer.json" % cf
        held = self.ok(self.twilio("POST", path, {"Hold": "true",
                                                  "HoldUrl": "http://example.com/hold"}))
        self.assertTrue(held["hold"])
        self.assertTwilioError(self.twilio("POST", path, {"Hold": "false", "Muted": "maybe"}),
                               400, 20001)
        self.assertTrue(self.ok(self.twilio("GET", path))["hold"], "nothing changed")
        held_list = self.ok(self.twilio("GET", API + "/Conferences/%s/Participants.json?Hold=true"
                                        % cf))["participants"]
        self.assertEqual([p["label"] for p in held_list], ["customer"])
        self.assertFalse(self.ok(self.twilio("POST", path, {"Hold": "false"}))["hold"])
        muted = self.ok(self.twilio("POST", API + "/Conferences/%s/Participants/agent.json" % cf,
                                    {"Muted": "true", "EndConferenceOnExit": "false"}))
        self.assertEqual((muted["muted"], muted["end_conference_on_exit"]), (True, False))
        # Delete (kick) the agent: its call hangs up, the conference goes on.
        resp = self.twilio("DELETE", API + "/Conferences/%s/Participants/agent.json" % cf)
        self.assertEqual(resp.status, 204, repr(resp))
        self.assertEqual(self.wait_ended(agent["call_sid"])["status"], "completed")
        self.assertEqual([p["label"] for p in self.participants(cf)], ["customer"])
        self.assertEqual(self.conference("room-1")["status"], "in-progress")
        # A participant whose phone is busy never joins: it goes, the conference goes on.
        self.sb.control("twilio/outcome", {"to": "client:carol", "status": "busy"})
        carol = self.ok(self.twilio("POST", API + "/Conferences/%s/Participants.json" % cf, {
            "From": "+14155550100", "To": "client:carol", "Label": "carol",
            "EndConferenceOnExit": "true"}), 201)
        self.assertEqual(self.wait_ended(carol["call_sid"])["status"], "busy")
        self.assertEqual([p["label"] for p in self.participants(cf)], ["customer"])
        self.assertEqual(self.conference("room-1")["status"], "in-progress")
        # Unknown conference, participant: Twilio's 404.
        missing = "CF" + "0" * 32
        self.assertTwilioError(self.twilio("GET", API + "/Conferences/%s.json" % missing),
                               404, 20404)
        self.assertTwilioError(self.twilio("POST", API + "/Conferences/%s/Participants/agent.json"
                                           % cf, {"Hold": "true"}), 404, 20404)
        self.assertTwilioError(self.twilio("DELETE", API + "/Conferences/%s/Participants/x.json"
                                           % missing), 404, 20404)
        self.assertTwilioError(self.twilio("POST", API + "/Conferences/%s/Participants.json"
                                           % missing, form), 404, 20404)
        self.assertTwilioError(self.twilio("POST", API + "/Conferences/room-1/Participants.json",
                                           {"To": "client:bob"}), 400, 21213)
        # The customer leaves with endConferenceOnExit: the conference completes.
        self.ok(self.twilio("POST", API + "/Calls/%s.json" % sid, {"Status": "completed"}))
        self.assertEqual(self.wait_ended(sid)["status"], "completed")
        done = self.ok(self.twilio("GET", API + "/Conferences/%s.json" % cf))
        self.assertEqual((done["status"], done["reason_conference_ended"],
                          done["call_sid_ending_conference"]),
                         ("completed", "participant-with-end-conference-on-exit-left", sid))
        self.assertIsNone(self.conference("room-1", "in-progress"))

    def test_end_conference_on_exit_hangs_up_everyone(self):
        sid, conf = self.customer_in("room-2")
        form = {"From": "+14155550100", "To": "client:alice", "Label": "agent"}
        agent = self.ok(self.twilio("POST", API + "/Conferences/%s/Participants.json"
                                    % conf["sid"], form), 201)
        harness.wait_for(lambda: len(self.participants(conf["sid"])) == 2 and all(
            p["status"] == "connected" for p in self.participants(conf["sid"])), 20,
            "both connected")
        # A redirect takes the customer out of the conference, which ends for the agent too.
        redirected = self.ok(self.twilio("POST", API + "/Calls/%s.json" % sid, {
            "Twiml": "<Response><Dial><Client><Identity>bob</Identity></Client></Dial>"
                     "</Response>"}))
        self.assertEqual(redirected["sid"], sid)
        self.assertEqual(self.wait_ended(agent["call_sid"])["status"], "completed")
        entry = self.call_entry(sid)
        self.assertIsNone(entry["end_time"], "the redirected call goes on")
        self.assertIn("<Identity>bob</Identity>", entry["sandbox"]["redirects"][0])
        self.assertEqual(self.ok(self.twilio("GET", API + "/Conferences/%s.json" % conf["sid"]))[
            "reason_conference_ended"], "participant-with-end-conference-on-exit-left")
        # canceled leaves an answered call alone (UpdateCall); completed hangs it up.
        self.ok(self.twilio("POST", API + "/Calls/%s.json" % sid, {"Status": "canceled"}))
        time.sleep(0.5)
        self.assertIsNone(self.call_entry(sid)["end_time"], "canceled ended an answered call")
        self.ok(self.twilio("POST", API + "/Calls/%s.json" % sid, {"Status": "completed"}))
        self.wait_ended(sid)
        self.assertTwilioError(self.twilio("POST", API + "/Calls/%s.json" % sid,
                                           {"Twiml": "<Response/>"}), 400, 21220)
        self.assertTwilioError(self.twilio("POST", API + "/Calls/CA%s.json" % ("0" * 32),
                                           {"Status": "completed"}), 404, 20404)
        self.assertTwilioError(self.twilio("POST", API + "/Calls/%s.json" % sid,
                                           {"Status": "busy"}), 400, 20001)

    def test_recording_pause_and_resume(self):
        sid, _ = self.customer_in("room-3")
        path = API + "/Calls/%s/Recordings/Twilio.CURRENT.json" % sid
        rec = self.ok(self.twilio("POST", path, {"Status": "paused", "PauseBehavior": "skip"}))
        self.assertRegex(rec["sid"], r"^RE[0-9a-f]{32}$")
        self.assertEqual((rec["call_sid"], rec["status"]), (sid, "paused"))
        self.assertEqual(rec["uri"], "%s/Calls/%s/Recordings/%s.json" % (API, sid, rec["sid"]))
        state = self.call_entry(sid)["sandbox"]["recording"]
        self.assertEqual((state["status"], state["pause_behavior"], state["pauses"]),
                         ("paused", "skip", 1))
        again = self.ok(self.twilio("POST", API + "/Calls/%s/Recordings/%s.json"
                                    % (sid, rec["sid"]), {"Status": "in-progress"}))
        self.assertEqual(again["status"], "in-progress")
        self.assertEqual(self.call_entry(sid)["sandbox"]["recording"]["status"], "in-progress")
        self.assertTwilioError(self.twilio("POST", path, {"Status": "deleted"}), 400, 20001)
        self.assertTwilioError(self.twilio("POST", path, {"Status": "paused",
                                                          "PauseBehavior": "drop"}), 400, 20001)
        self.assertTwilioError(self.twilio("POST", API + "/Calls/%s/Recordings/RE%s.json"
                                           % (sid, "0" * 32), {"Status": "paused"}), 404, 20404)
        # The recording that ran is the call's recording once it ends.
        self.ok(self.twilio("POST", API + "/Calls/%s.json" % sid, {"Status": "completed"}))
        self.wait_ended(sid)
        recs = self.ok(self.twilio("GET", API + "/Calls/%s/Recordings.json" % sid))["recordings"]
        self.assertEqual([r["sid"] for r in recs], [rec["sid"]])
        self.assertTwilioError(self.twilio("POST", path, {"Status": "paused"}), 404, 20404)
        # A call without Record has no running recording.
        other, _ = self.customer_in("room-4", record="false")
        self.assertTwilioError(self.twilio("POST", API + "/Calls/%s/Recordings/Twilio.CURRENT.json"
                                           % other, {"Status": "paused"}), 404, 20404)
        self.ok(self.twilio("POST", API + "/Calls/%s.json" % other, {"Status": "completed"}))


if __name__ == "__main__":
    unittest.main()
