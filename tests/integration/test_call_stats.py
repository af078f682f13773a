"""Call metrics (issue 13 item 6): GET /api/stats over a period for a seeded mix of answered,
missed and abandoned calls and wrap-ups matches hand-computed figures (agents see their own,
admins everyone's); calls ended by signed status webhooks are counted in /metrics and in
/api/stats alike; bad periods and other agents' figures are refused."""

import re
import uuid

from harness import DaemonTestCase
from test_twilio_webhooks import ACCOUNT, CUSTOMER, OUR_NUMBER, call_sid, twilio_config
from twilio_sign import form_request
from test_twilio_webhooks import PUBLIC, TOKEN

T0 = "2026-03-02T09:00:00Z"  # the seeded day starts here
SINCE, UNTIL = "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"


def p90(values):
    """PostgreSQL's percentile_cont(0.9): linear interpolation between the closest ranks."""
    v = sorted(values)
    pos = 0.9 * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


class StatsCase(DaemonTestCase):
    config = twilio_config()

    def setUp(self):
        super().setUp()
        self.admin = self.daemon.apikey("ops", admin=True)
        self.bob = self.daemon.apikey("bob")

    def seed_call(self, agent, direction, status, start_s, answer_after=None, talk=None):
        """A call created start_s seconds after T0; answered answer_after seconds later."""
        cid = str(uuid.uuid4())
        created = "'%s'::timestamptz + interval '%d seconds'" % (T0, start_s)
        answered = ("%s + interval '%s seconds'" % (created, answer_after)
                    if answer_after is not None else "NULL")
        ended = "%s + interval '%d seconds'" % (created, (answer_after or 20) + (talk or 0))
        self.daemon.sql(
            "INSERT INTO calls (id, agent, direction, to_e164, from_e164, status, telephony,"
            " crm, created_at, answered_at, ended_at, duration_s) VALUES ('%s', '%s', '%s',"
            " '%s', '%s', '%s', 'twilio', 'none', %s, %s, %s, %s)"
            % (cid, agent, direction, CUSTOMER, OUR_NUMBER, status, created, answered, ended,
               talk if talk is not None else "NULL"))
        return cid

    def seed_wrap_up(self, agent, start_s, seconds):
        self.daemon.sql(
            "INSERT INTO agent_status_log (agent, status, started_at, ended_at) VALUES"
            " ('%s', 'wrap_up', '%s'::timestamptz + interval '%d seconds',"
            " '%s'::timestamptz + interval '%d seconds')"
            % (agent, T0, start_s, T0, start_s + seconds))

    def stats(self, query, token):
        resp = self.daemon.get("/api/stats?" + query, token=token)
        self.assertStatus(resp, 200)
        return resp.body


class PeriodFiguresTest(StatsCase):
    def seed(self):
        # alice: inbound answered after 4, 10, 6 and 30 s (talk 60, 120, 30, 300), one missed
        # (no-answer), one abandoned (canceled); outbound: two placed, one answered (talk 45).
        for i, (wait, talk) in enumerate([(4, 60), (10, 120), (6, 30), (30, 300)]):
            self.seed_call("alice", "inbound", "completed", 100 * i, wait, talk)
        self.seed_call("alice", "inbound", "no-answer", 500)
        self.seed_call("alice", "inbound", "canceled", 600)
        self.seed_call("alice", "outbound", "completed", 700, 8, 45)
        self.seed_call("alice", "outbound", "busy", 800)
        # bob: one inbound answered after 12 s (talk 90), one busy (missed), one abandoned
        # (completed without an answer), one still ringing (no outcome yet).
        self.seed_call("bob", "inbound", "completed", 900, 12, 90)
        self.seed_call("bob", "inbound", "busy", 1000)
        self.seed_call("bob", "inbound", "completed", 1100)
        self.seed_call("bob", "inbound", "ringing", 1200)
        # Outside the period: never counted.
        self.seed_call("alice", "inbound", "no-answer", -86400)
        self.seed_wrap_up("alice", 200, 20)
        self.seed_wrap_up("alice", 400, 40)
        self.seed_wrap_up("bob", 950, 15)
        self.seed_wrap_up("bob", -86400, 99)

    def test_figures_match_hand_computed_values(self):
        self.seed()
        body = self.stats("since=%s&until=%s" % (SINCE, UNTIL), self.admin)
        self.assertIsNone(body["agent"])
        self.assertEqual(body["since"], "2026-03-02T00:00:00.000000Z")
        by = {a["agent"]: a for a in body["agents"]}
        self.assertEqual(sorted(by), ["alice", "bob"])

        a = by["alice"]
        self.assertEqual(a["outbound"], {"placed": 2, "answered": 1})
        self.assertEqual(a["inbound"], {"received": 6, "answered": 4, "missed": 1,
                                        "abandoned": 1})
        self.assertAlmostEqual(a["wait_s"]["avg"], (4 + 10 + 6 + 30) / 4, places=3)
        self.assertAlmostEqual(a["wait_s"]["p90"], p90([4, 10, 6, 30]), places=3)
        self.assertAlmostEqual(a["talk_s"]["total"], 60 + 120 + 30 + 300 + 45, places=3)
        self.assertAlmostEqual(a["talk_s"]["avg"], (60 + 120 + 30 + 300 + 45) / 5, places=3)
        self.assertEqual(a["wrap_up_s"]["count"], 2)
        self.assertAlmostEqual(a["wrap_up_s"]["total"], 60, places=3)
        self.assertAlmostEqual(a["wrap_up_s"]["avg"], 30, places=3)

        b = by["bob"]
        self.assertEqual(b["outbound"], {"placed": 0, "answered": 0})
        self.assertEqual(b["inbound"], {"received": 4, "answered": 1, "missed": 1,
                                        "abandoned": 1})
        self.assertAlmostEqual(b["wait_s"]["p90"], 12, places=3)
        self.assertEqual(b["wrap_up_s"]["count"], 1)

        # Figures read as written: no binary noise ("30.966000000000001").
        raw = self.daemon.get("/api/stats?since=%s&until=%s" % (SINCE, UNTIL),
                              token=self.admin).raw.decode()
        self.assertIsNone(re.search(r"[0-9]\.[0-9]{12,}", raw), raw)
        self.assertIn('"p90":%r' % round(p90([4, 10, 6, 30]), 3), raw)
        o = body["overall"]
        self.assertEqual(o["inbound"], {"received": 10, "answered": 5, "missed": 2,
                                        "abandoned": 2})
        self.assertEqual(o["outbound"], {"placed": 2, "answered": 1})
        self.assertAlmostEqual(o["wait_s"]["avg"], (4 + 10 + 6 + 30 + 12) / 5, places=3)
        self.assertAlmostEqual(o["wait_s"]["p90"], p90([4, 10, 6, 30, 12]), places=3)
        self.assertAlmostEqual(o["talk_s"]["total"], 555 + 90, places=3)
        self.assertEqual(o["wrap_up_s"]["count"], 3)
        self.assertAlmostEqual(o["wrap_up_s"]["total"], 75, places=3)

    def test_one_agent_for_admins_own_for_agents(self):
        self.seed()
        period = "since=%s&until=%s" % (SINCE, UNTIL)
        one = self.stats(period + "&agent=bob", self.admin)
        self.assertEqual(one["agent"], "bob")
        self.assertEqual([a["agent"] for a in one["agents"]], ["bob"])
        self.assertEqual(one["overall"]["inbound"]["received"], 4)
        own = self.stats(period, self.bob)
        self.assertEqual(own["agent"], "bob")
        self.assertEqual(own["overall"], one["overall"])
        self.assertEqual(self.stats(period + "&agent=bob", self.bob)["overall"], one["overall"])
        resp = self.daemon.get("/api/stats?" + period + "&agent=alice", token=self.bob)
        self.assertError(resp, 403, "forbidden")

    def test_empty_period_is_zeros_and_nulls(self):
        body = self.stats("since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z", self.admin)
        self.assertEqual(body["agents"], [])
        o = body["overall"]
        self.assertEqual(o["inbound"], {"received": 0, "answered": 0, "missed": 0,
                                        "abandoned": 0})
        self.assertEqual(o["wait_s"], {"avg": None, "p90": None})
        self.assertEqual(o["talk_s"], {"total": 0, "avg": None})
        self.assertEqual(o["wrap_up_s"], {"count": 0, "total": 0, "avg": None})

    def test_bad_queries(self):
        cases = ["since=yesterday", "until=2026-13-01T00:00:00Z", "since=2026-03-02T00:00:00",
                 "since=%s&until=%s" % (UNTIL, SINCE), "since=%s&until=%s" % (SINCE, SINCE),
                 "since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z", "agent=a%2Fb",
                 "agent=", "since=-5"]
        for q in cases:
            with self.subTest(q=q):
                self.assertError(self.daemon.get("/api/stats?" + q, token=self.admin), 400,
                                 "invalid_query")
        self.assertError(self.daemon.get("/api/stats", token=None), 401, "unauthorized")
        self.assertError(self.daemon.request("POST", "/api/stats", b"{}",
                                             headers={"Content-Type": "application/json"},
                                             token=self.admin), 405, "method_not_allowed")


class WebhookEndedCallsTest(StatsCase):
    """Calls ended by Twilio's status callbacks count in /metrics as they end, and in
    /api/stats with the same outcomes."""

    def status(self, cid, sid, status, direction, duration=None):
        params = {"CallSid": sid, "AccountSid": ACCOUNT, "CallStatus": status,
                  "From": OUR_NUMBER, "To": CUSTOMER,
                  "Direction": "inbound" if direction == "inbound" else "outbound-api"}
        if duration is not None:
            params["CallDuration"] = str(duration)
        target = "/webhooks/twilio/status?call_id=%s" % cid
        data, hdrs = form_request(TOKEN, PUBLIC, target, params)
        resp = self.daemon.request("POST", target, data, headers=hdrs, token=None)
        self.assertStatus(resp, 204)

    def new_call(self, direction, agent):
        cid, sid = str(uuid.uuid4()), call_sid()
        self.daemon.sql(
            "INSERT INTO calls (id, agent, direction, to_e164, from_e164, status, telephony,"
            " provider_call_id, crm) VALUES ('%s', '%s', '%s', '%s', '%s', 'queued', 'twilio',"
            " '%s', 'none')" % (cid, agent, direction, CUSTOMER, OUR_NUMBER, sid))
        return cid, sid

    def metric(self, text, name, labels):
        pat = r"^%s\{%s\} ([0-9.e+]+)$" % (re.escape(name), re.escape(labels))
        m = re.search(pat, text, re.M)
        return float(m.group(1)) if m else None

    def test_counted_in_metrics_and_stats(self):
        cid, sid = self.new_call("outbound", "carol")
        for st in ("initiated", "ringing", "in-progress"):
            self.status(cid, sid, st, "outbound")
        self.status(cid, sid, "completed", "outbound", duration=42)
        self.status(cid, sid, "completed", "outbound", duration=42)  # a retry: counted once
        mid, msid = self.new_call("inbound", "carol")
        self.status(mid, msid, "ringing", "inbound")
        self.status(mid, msid, "no-answer", "inbound")
        aid, asid = self.new_call("inbound", "carol")
        self.status(aid, asid, "ringing", "inbound")
        self.status(aid, asid, "canceled", "inbound")

        text = self.daemon.get("/metrics", token=None).raw.decode()
        agent = 'agent="carol",'
        self.assertEqual(self.metric(text, "callbridge_calls_total",
                                     agent + 'direction="outbound",outcome="answered"'), 1)
        self.assertEqual(self.metric(text, "callbridge_calls_total",
                                     agent + 'direction="inbound",outcome="missed"'), 1)
        self.assertEqual(self.metric(text, "callbridge_calls_total",
                                     agent + 'direction="inbound",outcome="abandoned"'), 1)
        self.assertEqual(self.metric(text, "callbridge_call_talk_seconds_sum",
                                     'agent="carol"'), 42)
        self.assertEqual(self.metric(text, "callbridge_call_wait_seconds_count",
                                     'agent="carol"'), 0)

        body = self.stats("agent=carol", self.admin)
        self.assertEqual(body["overall"]["outbound"], {"placed": 1, "answered": 1})
        self.assertEqual(body["overall"]["inbound"], {"received": 2, "answered": 0,
                                                      "missed": 1, "abandoned": 1})
        self.assertEqual(body["overall"]["talk_s"]["total"], 42)

    def test_answered_inbound_wait_in_metrics_and_stats(self):
        # An inbound call that rang 7 s (created when it started ringing) before the answer.
        cid, sid = self.new_call("inbound", "dave")
        self.status(cid, sid, "ringing", "inbound")
        self.daemon.sql("UPDATE calls SET created_at = now() - interval '7 seconds'"
                        " WHERE id = '%s'" % cid)
        self.status(cid, sid, "in-progress", "inbound")
        self.status(cid, sid, "completed", "inbound", duration=30)
        text = self.daemon.get("/metrics", token=None).raw.decode()
        self.assertEqual(self.metric(text, "callbridge_calls_total",
                                     'agent="dave",direction="inbound",outcome="answered"'), 1)
        self.assertEqual(self.metric(text, "callbridge_call_wait_seconds_count",
                                     'agent="dave"'), 1)
        wait = self.metric(text, "callbridge_call_wait_seconds_sum", 'agent="dave"')
        self.assertTrue(7 <= wait < 10, wait)
        self.assertEqual(self.metric(text, "callbridge_call_wait_seconds_bucket",
                                     'agent="dave",le="5"'), 0)
        self.assertEqual(self.metric(text, "callbridge_call_wait_seconds_bucket",
                                     'agent="dave",le="10"'), 1)
        self.assertEqual(self.metric(text, "callbridge_call_talk_seconds_sum",
                                     'agent="dave"'), 30)
        o = self.stats("agent=dave", self.admin)["overall"]
        self.assertEqual(o["inbound"], {"received": 1, "answered": 1, "missed": 0,
                                        "abandoned": 0})
        self.assertAlmostEqual(o["wait_s"]["avg"], wait, delta=0.01)
        self.assertAlmostEqual(o["wait_s"]["p90"], wait, delta=0.01)
        self.assertEqual(o["talk_s"]["total"], 30)


if __name__ == "__main__":
    import unittest
    unittest.main()
