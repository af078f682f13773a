"""GET /__sandbox/summary (the chaos soak's cheap view of the sandbox): request counts, the most
requests answered at once per endpoint, placed Twilio calls and how many of them have not ended,
without copying any record."""

import base64
import unittest
import urllib.parse

import harness
from harness import wait_for
from test_twilio_calls import ACCOUNT, TOKEN, TwilioStack


class SandboxSummaryTest(unittest.TestCase):
    def setUp(self):
        self.sb = TwilioStack()
        self.sb.start()
        self.addCleanup(self.sb.close_checked, self)

    def summary(self):
        r = self.sb.request("GET", "/__sandbox/summary")
        self.assertEqual(r.status, 200, r)
        return r.body

    def place(self):
        auth = base64.b64encode(("%s:%s" % (ACCOUNT, TOKEN)).encode()).decode()
        body = urllib.parse.urlencode({"To": "+14156000001", "From": "+14155550100",
                                       "Twiml": "<Response/>"})
        r = self.sb.request("POST", "/2010-04-01/Accounts/%s/Calls.json" % ACCOUNT, body,
                            headers={"Authorization": "Basic " + auth,
                                     "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 201, r)
        return r.body["sid"]

    def test_counts_requests_calls_and_live_calls(self):
        first = self.summary()
        self.assertEqual((first["requests"], first["in_flight_max"]), ({}, {}))
        self.assertEqual((first["twilio"]["calls"], first["twilio"]["calls_live"]), (0, 0))
        self.sb.outcome(to="*", status="completed", duration_s=5, answer_ms=100, talk_ms=300)
        self.place()
        first = self.summary()
        self.assertEqual(first["requests"].get("twilio.calls.create"), 1)
        self.assertEqual(first["in_flight_max"], {"twilio.calls.create": 1})
        self.assertEqual(first["twilio"]["calls"], 1)
        # Ends after answer_ms + talk_ms: then no call is live.
        wait_for(lambda: self.summary()["twilio"]["calls_live"] == 0, 30, "the call ended")
        self.assertEqual(self.summary()["twilio"]["calls"], 1)
        self.assertEqual(self.sb.state()["twilio_calls"][0]["status"], "completed")

    def test_a_long_call_is_live(self):
        self.sb.outcome(to="*", status="completed", duration_s=5, answer_ms=100,
                        talk_ms=600000)
        self.place()
        wait_for(lambda: self.sb.state()["twilio_calls"][0]["status"] == "in-progress", 30,
                 "the call answered")
        self.assertEqual(self.summary()["twilio"]["calls_live"], 1)


if __name__ == "__main__":
    harness.main()
