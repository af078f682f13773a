"""A call placed by a daemon killed before Twilio's answer is adopted, not dialled again
(issue 11, problem 3). The sandbox creates the call and holds the Calls.json answer
(outcome hold_create_ms); the daemon is killed -9 meanwhile; the call's first status callbacks
meet the dead daemon and are lost (connection overrides off: [twilio] webhook_retry = "").
The restarted daemon's retry lists Calls.json with StartTime> = the call's creation day, which
Twilio documents as "started on or after this date", finds the call and adopts its sid."""

import signal

import harness
from harness import wait_for
from test_twilio_calls import CUSTOMER, TwilioCallCase


class AdoptAtKillTest(TwilioCallCase):
    twilio = {"timeout_ms": 20000, "webhook_retry": ""}

    def extra_config(self, sb):
        return {"workers": {"lease_s": 2}}

    def test_call_in_flight_at_a_kill_is_adopted(self):
        self.sb.outcome(to=CUSTOMER, status="completed", duration_s=5, answer_ms=3000,
                        hold_create_ms=3000)
        cid = self.dial()
        wait_for(lambda: len(self.sb.state()["twilio_calls"]) == 1, 30,
                 "Twilio created the call (its answer held)")
        self.daemon.kill(signal.SIGKILL)
        self.daemon.wait_exit()
        sid = self.sb.state()["twilio_calls"][0]["sid"]

        def lost():
            hooks = [h for h in self.sb.state()["twilio_webhooks"]
                     if h["call_sid"] == sid and h.get("status") == "initiated"]
            return hooks if hooks and all(h["http_status"] == 0 for h in hooks) else None
        wait_for(lost, 30, "the initiated callback lost on the dead daemon")
        self.daemon.start()
        call = self.wait_final(cid)
        self.assertEqual(call["telephony"]["call_id"], sid, "the placed call adopted")
        placed = [c for c in self.sb.state()["twilio_calls"] if c["to"] == CUSTOMER]
        self.assertEqual(len(placed), 1, "the customer dialled once")
        self.assertEqual(self.sb.count("twilio.calls.create"), 1)
        self.wait_task(cid, Status="Completed")


if __name__ == "__main__":
    harness.main()
