"""Webhooks lost in an outage are recovered (issue 11, problem 4).

- Redelivery: callbridge's StatusCallback and RecordingStatusCallback URLs carry Twilio's
  connection overrides ([twilio] webhook_retry, default "#rc=3&rp=all"); the sandbox, like
  Twilio, redelivers a callback that met a refused connection. A daemon killed -9 while the
  call ends and restarted a moment later still gets the final status and the recording.
- Reconciliation: with every callback lost (no overrides, the daemon down for the whole
  call), the periodic telephony.reconcile job asks Twilio (GET Calls/{Sid}.json, then
  Calls/{Sid}/Recordings.json) and feeds the answers through the webhooks' paths: the call
  completes, its CRM Task is finalised, its recording fetched and stored."""

import signal

import harness
from harness import wait_for
from test_twilio_calls import TwilioCallCase


class OutageCase(TwilioCallCase):

    def sid_of(self, cid):
        return wait_for(lambda: self.call(cid)["telephony"].get("call_id"), 30,
                        "the call placed")

    def hooks(self, sid, kind):
        return [h for h in self.sb.state()["twilio_webhooks"]
                if h["call_sid"] == sid and h["kind"] == kind]

    def kill(self):
        self.daemon.kill(signal.SIGKILL)
        self.daemon.wait_exit()

    def wait_recording(self, cid):
        def stored():
            recs = self.call(cid)["recordings"]
            return recs if recs and recs[0]["state"] == "stored" else None
        rec = wait_for(stored, 60, "the recording stored")[0]
        audio = self.daemon.get("/api/calls/%s/recording/%s" % (cid, rec["recording_id"]),
                                token=self.admin)
        self.assertStatus(audio, 200)
        self.assertTrue(audio.raw.startswith(b"RIFF"))


class RedeliveryTest(OutageCase):
    twilio = {"webhook_retry": "rc=3&rp=all"}

    def test_callbacks_that_met_a_dead_daemon_are_redelivered(self):
        self.sb.outcome(to="*", status="completed", duration_s=9, talk_ms=1500,
                        recording_duration_s=2)
        cid = self.dial()
        sid = self.sid_of(cid)
        wait_for(lambda: self.call(cid)["status"] == "in-progress", 30, "the call answered")
        self.kill()
        wait_for(lambda: [h for h in self.hooks(sid, "status")
                          if h.get("status") == "completed" and h["http_status"] == 0], 30,
                 "the completed callback refused by the dead daemon")
        self.daemon.start()
        call = self.wait_final(cid)
        self.assertEqual(call["duration_s"], 9)
        self.wait_task(cid, Status="Completed", CallDurationInSeconds=9)
        self.wait_recording(cid)
        done = [h for h in self.hooks(sid, "status")
                if h.get("status") == "completed" and h["http_status"] == 204]
        self.assertTrue(done and done[0].get("retry", 0) >= 1, "delivered by a retry")
        self.assertIn("#rc=3&rp=all", done[0]["url"])


    def test_bad_overrides_stop_the_daemon_at_start(self):
        for bad in ("rc=9", "rp=sometimes", "ct=50", "xx=1"):
            with self.subTest(webhook_retry=bad):
                d = self.new_daemon(self.sb.twilio_config(webhook_retry=bad))
                d.start(wait=False)
                self.assertNotEqual(d.wait_exit(30), 0)
                self.assertIn("webhook_retry", d.log_tail())


class ReconcileTest(OutageCase):
    twilio = {"webhook_retry": "none", "reconcile_after_s": 1, "reconcile_interval_s": 1}

    def test_call_whose_every_callback_was_lost_is_reconciled(self):
        self.sb.outcome(to="*", status="completed", duration_s=8, answer_ms=1500, talk_ms=200,
                        recording_duration_s=2)
        cid = self.dial()
        sid = self.sid_of(cid)
        self.kill()
        wait_for(lambda: [h for h in self.hooks(sid, "recording") if h["http_status"] == 0],
                 30, "the call played to its end against the dead daemon")
        self.assertFalse([h for h in self.hooks(sid, "status")
                          if h.get("status") == "completed" and h["http_status"] != 0])
        self.daemon.start()
        call = self.wait_final(cid)
        self.assertEqual(call["duration_s"], 8)
        self.wait_task(cid, Status="Completed", CallDurationInSeconds=8)
        self.wait_recording(cid)
        self.assertGreaterEqual(self.sb.count("twilio.calls.fetch"), 1)
        self.assertGreaterEqual(self.sb.count("twilio.calls.recordings"), 1)
        self.assertEqual(self.daemon.count("recordings"), 1)


if __name__ == "__main__":
    harness.main()
