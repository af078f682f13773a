"""Agent states (issue 13 item 3): GET/PUT /api/agent/status and its bad-input matrix; the
state survives a restart; every change is an agent_status event; a call through the sandbox's
Twilio makes its agent busy, then wrap_up for [agents] wrap_up_s, then available again (or the
away they chose meanwhile); with disposition_required wrap-up waits for the call's
disposition; inbound routing rings the owner only when available, else the fallback; every
period lands in agent_status_log."""

import json
import uuid

import harness
from harness import DaemonTestCase, wait_for
from sse import SseStream
from test_twilio_calls import ACCOUNT, CUSTOMER, OUR_NUMBER, OWNER, TOKEN, TwilioCallCase
from twilio_sign import form_request

FAST_JOBS = {"poll_ms": 100, "backoff_base_ms": 50, "wait_max_ms": 300}


def log_of(daemon, agent):
    """agent_status_log of `agent`, oldest first: [status, reason, call_id, ended?]."""
    return daemon.sql("SELECT status, coalesce(reason, ''), coalesce(call_id::text, ''),"
                      " ended_at IS NOT NULL FROM agent_status_log WHERE agent = '%s'"
                      " ORDER BY started_at, id" % agent)


class AgentStatusApiTest(DaemonTestCase):
    config = {"agents": {"wrap_up_s": 1}, "workers": FAST_JOBS}

    def put(self, body, **kw):
        return self.daemon.request("PUT", "/api/agent/status", body, **kw)

    def get(self, **kw):
        r = self.daemon.get("/api/agent/status", **kw)
        self.assertStatus(r, 200)
        return r.body

    def test_a_new_agent_is_available(self):
        st = self.get()
        self.assertEqual(st["agent"], "alice")
        self.assertEqual(st["status"], "available")
        self.assertRegex(st["since"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        for absent in ("reason", "call_id", "wrap_up_until", "next_status"):
            self.assertNotIn(absent, st)
        self.assertEqual(log_of(self.daemon, "alice"), [["available", "", "", "f"]])
        self.assertEqual(self.get(), st, "a second GET changes nothing")

    def test_put_away_offline_available(self):
        first = self.get()
        r = self.put({"status": "away", "reason": "lunch"})
        self.assertStatus(r, 200)
        self.assertEqual((r.body["status"], r.body["reason"]), ("away", "lunch"))
        self.assertGreaterEqual(r.body["since"], first["since"])
        self.assertEqual(self.get(), r.body)
        # The same again is no change: no new period, same since.
        again = self.put({"status": "away", "reason": "lunch"})
        self.assertEqual(again.body, r.body)
        r = self.put({"status": "offline"})
        self.assertEqual(r.body["status"], "offline")
        self.assertNotIn("reason", r.body)
        r = self.put({"status": "away", "reason": None})  # null is absent
        self.assertEqual((r.body["status"], r.body.get("reason")), ("away", None))
        r = self.put({"status": "available"})
        self.assertEqual(r.body["status"], "available")
        self.assertEqual(log_of(self.daemon, "alice"), [
            ["available", "", "", "t"], ["away", "lunch", "", "t"], ["offline", "", "", "t"],
            ["away", "", "", "t"], ["available", "", "", "f"]])
        # Periods are contiguous: each ends when the next starts.
        self.assertEqual(self.daemon.count(
            "agent_status_log l JOIN agent_status_log n ON n.agent = l.agent AND n.id = l.id + 1",
            "l.ended_at <> n.started_at"), 0)
        # Another agent is another row.
        bob = self.daemon.apikey("bob")
        self.assertEqual(self.get(token=bob)["status"], "available")
        self.assertEqual(self.get()["status"], "available")

    def test_reason_of_200_characters(self):
        reason = "\U0001F35C" * 200
        r = self.put({"status": "away", "reason": reason})
        self.assertStatus(r, 200)
        self.assertEqual(self.get()["reason"], reason)

    def test_bad_input(self):
        self.assertStatus(self.put({"status": "away", "reason": "meeting"}), 200)
        before = self.get()
        periods = self.daemon.count("agent_status_log")
        cases = [
            ({}, 422, "missing_field"),
            ({"reason": "x"}, 422, "missing_field"),
            ({"status": None}, 422, "missing_field"),
            ({"status": 5}, 422, "invalid_field"),
            ({"status": ["away"]}, 422, "invalid_field"),
            ({"status": "busy"}, 422, "status_automatic"),
            ({"status": "wrap_up"}, 422, "status_automatic"),
            ({"status": "lunch"}, 422, "invalid_field"),
            ({"status": "Available"}, 422, "invalid_field"),
            ({"status": "wrap-up"}, 422, "invalid_field"),
            ({"status": "away\u0000"}, 400, "malformed_json"),  # jansson refuses \u0000
            ({"status": "away", "reason": 7}, 422, "invalid_field"),
            ({"status": "away", "reason": ""}, 422, "invalid_field"),
            ({"status": "away", "reason": "x" * 201}, 422, "invalid_field"),
            ({"status": "away", "reason": "a\nb"}, 422, "invalid_field"),
            ({"status": "away", "reason": "x" * 5000}, 413, "payload_too_large"),
            ({"status": "available", "reason": "back"}, 422, "invalid_field"),
            ("{\"status\":", 400, "malformed_json"),
            ("not json", 400, "malformed_json"),
            ([], 400, "invalid_body"),
            ("\"away\"", 400, "invalid_body"),
        ]
        for body, status, code in cases:
            with self.subTest(body=body):
                self.assertError(self.put(body), status, code)
        self.assertError(self.put({"status": "away"}, headers={"Content-Type": "text/plain"}),
                         415, "unsupported_media_type")
        self.assertError(self.put({"status": "away"}, token=None), 401, "unauthorized")
        self.assertError(self.put({"status": "away"}, token="cb_nope"), 401, "unauthorized")
        self.assertError(self.daemon.get("/api/agent/status", token=None), 401, "unauthorized")
        self.assertError(self.daemon.post("/api/agent/status", {"status": "away"}), 405,
                         "method_not_allowed")
        self.assertError(self.daemon.request("DELETE", "/api/agent/status"), 405,
                         "method_not_allowed")
        # Nothing was written by any of them.
        self.assertEqual(self.get(), before)
        self.assertEqual(self.daemon.count("agent_status_log"), periods)

    def test_status_survives_a_restart(self):
        r = self.put({"status": "away", "reason": "training"})
        self.assertStatus(r, 200)
        self.daemon.restart()
        self.assertEqual(self.get(), r.body)

    def test_every_change_is_an_event(self):
        self.get()
        stream = SseStream(self.daemon.port, self.key)
        self.addCleanup(stream.close)
        r = self.put({"status": "away", "reason": "coffee"})
        ev = stream.next_event(timeout=10)
        self.assertEqual(ev["event"], "agent_status")
        self.assertEqual(json.loads(ev["data"]), r.body)
        self.put({"status": "away", "reason": "coffee"})  # no change: no event
        self.put({"status": "available"})
        ev = stream.next_event(timeout=10)
        self.assertEqual(json.loads(ev["data"])["status"], "available")

    def test_shared_by_all_instances(self):
        # A second instance on the same database and Redis (a load-balanced peer): it answers
        # what the first one was told, and its event streams hear the first one's changes.
        other = self.new_daemon(self.config, db=self.daemon.db)
        other.token = self.key
        other.start()
        for d in (self.daemon, other):
            wait_for(lambda d=d: "\ncallbridge_events_subscribed 1\n" in d.get(
                "/metrics", token=None).raw.decode(), 15, "the events subscription")
        stream = SseStream(other.port, self.key)
        self.addCleanup(stream.close)
        r = self.put({"status": "away", "reason": "1:1 with manager"})
        self.assertStatus(r, 200)
        got = other.get("/api/agent/status")
        self.assertStatus(got, 200)
        self.assertEqual(got.body, r.body)
        ev = stream.next_event(timeout=15)
        self.assertEqual(ev["event"], "agent_status")
        self.assertEqual(json.loads(ev["data"]), r.body)
        # And the other way round.
        back = other.request("PUT", "/api/agent/status", {"status": "available"})
        self.assertStatus(back, 200)
        self.assertEqual(self.get(), back.body)



class AgentCallCase(TwilioCallCase):
    """Calls through the sandbox's Twilio; the daemon's own agent, olive, is the agent of the
    Salesforce User owning the caller's Contact (agents.crm_user_id), so inbound routing may
    ring it."""
    agent = "olive"
    twilio = {"fallback_agent": "desk"}
    agents = {"wrap_up_s": 1}

    def extra_config(self, sb):
        return {"agents": self.agents, "workers": FAST_JOBS}

    def setUp(self):
        super().setUp()
        p = self.daemon.cli("agent", "set", self.agent, "--crm-user-id", OWNER["Id"], "-c",
                            self.daemon.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)

    def status_of(self, token=None):
        r = self.daemon.get("/api/agent/status", token=token or self.daemon.token)
        self.assertStatus(r, 200)
        return r.body

    def wait_status(self, status, call_id=None, timeout=30):
        def match():
            st = self.status_of()
            return st if st["status"] == status and st.get("call_id") == call_id else None
        return wait_for(match, timeout, "agent %s (call %s)" % (status, call_id))

    def put(self, body):
        r = self.daemon.request("PUT", "/api/agent/status", body)
        self.assertStatus(r, 200)
        return r.body

    def hook(self, sid, path, **params):
        base = {"CallSid": sid, "AccountSid": ACCOUNT, "From": CUSTOMER, "To": OUR_NUMBER,
                "Direction": "inbound"}
        data, hdrs = form_request(TOKEN, self.daemon.base_url, path, dict(base, **params))
        return self.daemon.request("POST", path, data, headers=hdrs, token=None)

    def ring(self):
        """An inbound call from the owner's Contact: (sid, who its TwiML rings)."""
        sid = "CA" + uuid.uuid4().hex
        r = self.hook(sid, "/webhooks/twilio/voice", CallStatus="ringing")
        self.assertStatus(r, 200)
        xml = r.raw.decode()
        start = xml.find("<Identity>")
        who = xml[start + 10:xml.find("</Identity>")] if start >= 0 else None
        return sid, who

    def call_of(self, sid):
        return wait_for(lambda: self.daemon.sql(
            "SELECT id FROM calls WHERE provider_call_id = '%s'" % sid), 10,
            "call %s recorded" % sid)[0][0]

    def online(self):
        stream = SseStream(self.daemon.port, self.daemon.token)
        self.addCleanup(stream.close)
        return stream


class OutboundCallTest(AgentCallCase):
    def test_outbound_call_busy_then_wrap_up_then_available(self):
        self.sb.outcome(to=CUSTOMER, status="completed", duration_s=3, talk_ms=1500)
        stream = self.online()
        cid = self.dial()
        self.wait_final(cid)
        # Not wait_status("available"): the agent was available before the call too.
        want = [["available", "", "", "t"], ["busy", "", cid, "t"], ["wrap_up", "", cid, "t"],
                ["available", "", "", "f"]]
        wait_for(lambda: log_of(self.daemon, self.agent) == want, 30,
                 "busy, wrap-up, available in the status log")
        # The softphone heard each change, in order, wrap_up with its end.
        seen = []
        while len(seen) < 3:
            ev = stream.next_event(timeout=10, skip_types=("call_status", "screen_pop"))
            self.assertEqual(ev["event"], "agent_status")
            seen.append(json.loads(ev["data"]))
        self.assertEqual([(e["status"], e.get("call_id")) for e in seen],
                         [("busy", cid), ("wrap_up", cid), ("available", None)])
        self.assertIn("wrap_up_until", seen[1])
        self.assertEqual(seen[1]["next_status"], "available")
        self.assertGreaterEqual(seen[1]["wrap_up_until"], seen[1]["since"])
        # The end of wrap-up was a durable job.
        self.assertEqual(self.daemon.count(
            "jobs", "call_id = '%s' AND kind = 'agent.wrap_up_end'" % cid), 1)
        # Its length is in the call metrics: /metrics and GET /api/stats.
        text = self.daemon.get("/metrics", token=None).raw.decode()
        self.assertIn('callbridge_agent_wrap_up_seconds_count{agent="%s"} 1\n' % self.agent,
                      text)
        stats = self.daemon.get("/api/stats")
        self.assertStatus(stats, 200)
        self.assertEqual(stats.body["overall"]["wrap_up_s"]["count"], 1)
        self.assertEqual(stats.body["overall"]["outbound"], {"placed": 1, "answered": 1})

    def test_away_chosen_on_the_call_wins_over_available(self):
        self.sb.outcome(to=CUSTOMER, status="completed", duration_s=3, talk_ms=3000)
        cid = self.dial()
        self.wait_status("busy", cid)
        st = self.put({"status": "away", "reason": "after this call"})
        self.assertEqual((st["status"], st["next_status"], st["next_reason"]),
                         ("busy", "away", "after this call"))
        self.wait_final(cid)
        st = self.wait_status("away")
        self.assertEqual(st["reason"], "after this call")
        self.assertEqual([r[0] for r in log_of(self.daemon, self.agent)],
                         ["available", "busy", "wrap_up", "away"])

    def test_a_call_that_never_connects_still_ends_busy(self):
        self.sb.outcome(to=CUSTOMER, status="no-answer")
        cid = self.dial()
        self.wait_final(cid, "no-answer")
        # The agent was available before the call too, so wait for the log rather than the
        # status: busy may be skipped when the end's job ran first (instant in the sandbox);
        # wrap-up for the call, then available, is always there.
        want = [["wrap_up", "", cid], ["available", "", ""]]
        wait_for(lambda: [r[:3] for r in log_of(self.daemon, self.agent)][-2:] == want, 30,
                 "wrap-up then available in the status log")
        self.assertEqual(self.status_of()["status"], "available")


class InboundRoutingTest(AgentCallCase):
    agents = {"wrap_up_s": 0, "disposition_required": True}

    def test_routing_follows_the_agent_state(self):
        self.online()
        self.status_of()
        # Online and available: the owner is rung.
        sid, who = self.ring()
        self.assertEqual(who, self.agent)
        cid = self.call_of(sid)
        self.assertStatus(self.hook(sid, "/webhooks/twilio/status", CallStatus="no-answer",
                                    CallDuration="0"), 204)
        self.wait_final(cid, "no-answer")
        self.assertEqual(self.status_of()["status"], "available", "a missed call is no call")
        # Away: the fallback.
        self.put({"status": "away", "reason": "meeting"})
        self.assertEqual(self.ring()[1], "desk")
        self.put({"status": "available"})
        sid, who = self.ring()
        self.assertEqual(who, self.agent)
        cid = self.call_of(sid)
        # Answered: busy, and the next caller gets the fallback.
        self.assertStatus(self.hook(sid, "/webhooks/twilio/status", CallStatus="in-progress"),
                          204)
        self.wait_status("busy", cid)
        self.assertEqual(self.ring()[1], "desk")
        # Ended: wrap-up until the disposition (wrap_up_s = 0), still not rung.
        self.assertStatus(self.hook(sid, "/webhooks/twilio/status", CallStatus="completed",
                                    CallDuration="42"), 204)
        st = self.wait_status("wrap_up", cid)
        self.assertEqual(self.ring()[1], "desk")
        # Available asked for in wrap-up waits for the disposition.
        st = self.put({"status": "available"})
        self.assertEqual((st["status"], st["next_status"]), ("wrap_up", "available"))
        # The CRM log is done; the wrap-up end job waits (no attempt spent).
        wait_for(lambda: self.call(cid)["crm"]["state"] == "synced", 30, "the CRM log")
        wait_for(lambda: self.daemon.count(
            "jobs", "call_id = '%s' AND kind = 'agent.wrap_up_end' AND waits > 0" % cid) == 1, 30,
            "the wrap-up end job to wait for the disposition")
        self.assertEqual(self.status_of()["status"], "wrap_up")
        # The disposition arrives (as POST /api/calls/{id}/disposition writes it).
        self.daemon.sql("UPDATE calls SET disposition = 'connected' WHERE id = '%s'" % cid)
        self.wait_status("available")
        self.assertEqual(self.ring()[1], self.agent)
        self.assertEqual([r[:3] for r in log_of(self.daemon, self.agent)], [
            ["available", "", ""], ["away", "meeting", ""], ["available", "", ""],
            ["busy", "", cid], ["wrap_up", "", cid], ["available", "", ""]])

    def test_state_survives_a_restart_mid_wrap_up(self):
        self.online()
        sid, _ = self.ring()
        cid = self.call_of(sid)
        self.assertStatus(self.hook(sid, "/webhooks/twilio/status", CallStatus="in-progress"),
                          204)
        self.wait_status("busy", cid)
        self.assertStatus(self.hook(sid, "/webhooks/twilio/status", CallStatus="completed",
                                    CallDuration="5"), 204)
        before = self.wait_status("wrap_up", cid)
        self.daemon.restart()
        self.assertEqual(self.status_of(), before)
        self.daemon.sql("UPDATE calls SET disposition = 'connected' WHERE id = '%s'" % cid)
        self.wait_status("available")


class DispositionHookTest(AgentCallCase):
    agents = {"wrap_up_s": 0, "disposition_required": True}

    def extra_config(self, sb):
        return {"agents": self.agents,
                "workers": {"poll_ms": 100, "backoff_base_ms": 60000, "backoff_max_ms": 600000,
                            "wait_max_ms": 60000, "debug_kinds": True}}

    def test_the_disposition_hook_ends_wrap_up_at_once(self):
        """cb_agent_status_call_disposed (the disposition handler's glue), run by the debug
        kind debug.call_disposed: it queues the wrap-up end job for the call, now. The
        waiting one asks again only after a minute here, so only the hook's can end wrap-up
        within the wait."""
        self.online()
        sid, _ = self.ring()
        cid = self.call_of(sid)
        self.assertStatus(self.hook(sid, "/webhooks/twilio/status", CallStatus="in-progress"),
                          204)
        self.wait_status("busy", cid)
        self.assertStatus(self.hook(sid, "/webhooks/twilio/status", CallStatus="completed",
                                    CallDuration="5"), 204)
        self.wait_status("wrap_up", cid)
        wait_for(lambda: self.daemon.count(
            "jobs", "call_id = '%s' AND kind = 'agent.wrap_up_end' AND waits > 0" % cid) == 1, 30,
            "the wrap-up end job to wait for the disposition")
        # The hook without a disposition: its job finds wrap-up must go on.
        job = self.daemon.insert_job("debug.call_disposed", call_id=cid)
        self.daemon.wait_job_state(job, "done")
        wait_for(lambda: self.daemon.count(
            "jobs", "call_id = '%s' AND kind = 'agent.wrap_up_end' AND waits > 0" % cid) == 2, 30,
            "the hook's wrap-up end job to wait too")
        self.assertEqual(self.status_of()["status"], "wrap_up")
        # With the disposition written (as the endpoint does), the hook ends wrap-up.
        self.daemon.sql("UPDATE calls SET disposition = 'connected' WHERE id = '%s'" % cid)
        self.daemon.wait_job_state(self.daemon.insert_job("debug.call_disposed", call_id=cid),
                                   "done")
        self.wait_status("available", timeout=20)
        # Not in wrap-up any more: the hook queues nothing.
        before = self.daemon.count("jobs", "kind = 'agent.wrap_up_end'")
        self.daemon.wait_job_state(self.daemon.insert_job("debug.call_disposed", call_id=cid),
                                   "done")
        self.assertEqual(self.daemon.count("jobs", "kind = 'agent.wrap_up_end'"), before)

    def test_posting_the_disposition_ends_wrap_up_at_once(self):
        """POST /api/calls/{id}/disposition calls the glue: wrap-up ends without waiting for
        the waiting job's next look (a minute away here)."""
        self.online()
        sid, _ = self.ring()
        cid = self.call_of(sid)
        self.assertStatus(self.hook(sid, "/webhooks/twilio/status", CallStatus="in-progress"),
                          204)
        self.wait_status("busy", cid)
        self.assertStatus(self.hook(sid, "/webhooks/twilio/status", CallStatus="completed",
                                    CallDuration="5"), 204)
        self.wait_status("wrap_up", cid)
        wait_for(lambda: self.daemon.count(
            "jobs", "call_id = '%s' AND kind = 'agent.wrap_up_end' AND waits > 0" % cid) == 1, 30,
            "the wrap-up end job to wait for the disposition")
        r = self.daemon.post("/api/calls/%s/disposition" % cid, {"disposition": "interested"})
        self.assertStatus(r, 200)
        self.wait_status("available", timeout=20)


if __name__ == "__main__":
    harness.main()
