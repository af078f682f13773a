"""Twilio webhooks (SPEC §4, §6, §9; issue 4 items 3-5): signatures are checked over
[server] public_url + the request target as received (400 missing, 403 wrong, nothing stored
either way), the call state machine ignores duplicates and never moves backwards, a final
status queues exactly one CRM log finalisation, unknown inbound CallSids are recorded, and the
voice webhook answers TwiML — the bridge, a softphone's dial-out, inbound routing — and a
fallback when PostgreSQL is down."""

import os
import re
import tempfile
import time
import uuid

import harness
from harness import DaemonTestCase, PgCluster, RedisServer
from twilio_sign import form_request, json_request, signature

PUBLIC = "https://cb.example.com"
TOKEN = "twilio-test-auth-token-0123456789"
ACCOUNT = "AC" + "0" * 32
CUSTOMER = "+14155550123"
OUR_NUMBER = "+14155550100"


def call_sid():
    return "CA" + uuid.uuid4().hex


def twilio_config(extra=None):
    d = tempfile.mkdtemp(prefix="cb-tw-")
    os.chmod(d, 0o755)
    path = os.path.join(d, "twilio-auth-token")
    with open(path, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(path, 0o644)
    cfg = {"server": {"public_url": PUBLIC},
           "twilio": {"enabled": True, "account_sid": ACCOUNT, "auth_token_file": path,
                      # Nothing listens there: click-to-dial jobs just retry; these tests
                      # drive the calls through their webhooks.
                      "api_base_url": "http://127.0.0.1:9", "caller_id": OUR_NUMBER,
                      "fallback_agent": "desk"}}
    return harness.merge_config(cfg, extra or {})


class WebhookCase(DaemonTestCase):
    config = twilio_config()

    def webhook(self, target, params, token=TOKEN, sign_url=None, headers=None, body=None):
        data, hdrs = form_request(token, sign_url or PUBLIC, target, params)
        hdrs.update(headers or {})
        return self.daemon.request("POST", target, data if body is None else body,
                                   headers=hdrs, token=None)

    def new_call(self, direction="outbound", agent="alice", sid=None):
        cid = str(uuid.uuid4())
        self.daemon.sql(
            "INSERT INTO calls (id, agent, direction, to_e164, from_e164, status, telephony,"
            " provider_call_id, crm) VALUES ('%s', '%s', '%s', '%s', '%s', 'queued', 'twilio',"
            " %s, 'none')" % (cid, agent, direction, CUSTOMER, OUR_NUMBER,
                              "'%s'" % sid if sid else "NULL"))
        return cid

    def status(self, cid, sid, status, duration=None, target=None, **extra):
        params = {"CallSid": sid, "AccountSid": ACCOUNT, "CallStatus": status,
                  "From": OUR_NUMBER, "To": CUSTOMER, "Direction": "outbound-api"}
        if duration is not None:
            params["CallDuration"] = str(duration)
        params.update(extra)
        return self.webhook(target or "/webhooks/twilio/status?call_id=%s" % cid, params)

    def snapshot(self):
        return [self.daemon.count(t) for t in ("calls", "call_events", "jobs", "recordings")]

    def call(self, cid):
        resp = self.daemon.get("/api/calls/%s" % cid, token=self.admin)
        self.assertStatus(resp, 200)
        return resp.body

    def setUp(self):
        super().setUp()
        self.admin = self.daemon.apikey("ops", admin=True)


class SignatureTest(WebhookCase):
    def test_missing_signature_is_400_and_stores_nothing(self):
        cid, sid = self.new_call(), call_sid()
        before = self.snapshot()
        data, hdrs = form_request(TOKEN, PUBLIC, "/webhooks/twilio/status?call_id=" + cid,
                                  {"CallSid": sid, "CallStatus": "ringing"})
        del hdrs["X-Twilio-Signature"]
        resp = self.daemon.request("POST", "/webhooks/twilio/status?call_id=" + cid, data,
                                   headers=hdrs, token=None)
        self.assertError(resp, 400, "missing_signature")
        self.assertEqual(self.snapshot(), before)

    def test_forged_signatures_are_403_and_store_nothing(self):
        cid, sid = self.new_call(), call_sid()
        target = "/webhooks/twilio/status?call_id=" + cid
        params = {"CallSid": sid, "CallStatus": "completed", "CallDuration": "10"}
        before = self.snapshot()
        cases = {
            "wrong token": self.webhook(target, params, token="not-the-token"),
            "signed for another host": self.webhook(target, params,
                                                    sign_url="https://evil.example.com"),
            "signed over the daemon's own address": self.webhook(
                target, params, sign_url=self.daemon.base_url),
        }
        data, hdrs = form_request(TOKEN, PUBLIC, target, params)
        cases["tampered value"] = self.daemon.request(
            "POST", target, data.replace(b"CallDuration=10", b"CallDuration=99"), headers=hdrs,
            token=None)
        cases["extra query parameter"] = self.daemon.request(
            "POST", target + "&x=1", data, headers=hdrs, token=None)
        cases["truncated signature"] = self.daemon.request(
            "POST", target, data, headers=dict(hdrs, **{
                "X-Twilio-Signature": hdrs["X-Twilio-Signature"][:-2]}), token=None)
        for what, resp in cases.items():
            with self.subTest(what):
                self.assertError(resp, 403, "invalid_signature")
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.call(cid)["status"], "queued")
        metrics = self.daemon.get("/metrics", token=None).raw.decode()
        self.assertIn('callbridge_webhooks_total{outcome="forged"} %d' % len(cases), metrics)

    def test_default_port_spellings_are_accepted(self):
        cid, sid = self.new_call(), call_sid()
        target = "/webhooks/twilio/status?call_id=" + cid
        resp = self.webhook(target, {"CallSid": sid, "CallStatus": "initiated"},
                            sign_url="https://cb.example.com:443")
        self.assertStatus(resp, 204)
        resp = self.webhook(target, {"CallSid": sid, "CallStatus": "ringing"},
                            sign_url="https://cb.example.com:8443")
        self.assertError(resp, 403, "invalid_signature")

    def test_raw_target_is_signed_as_received(self):
        # An escaped query value: the signature covers the bytes Twilio sent, not a decoding.
        cid, sid = self.new_call(), call_sid()
        target = "/webhooks/twilio/status?call_id=%s&tag=a%%20b" % cid
        self.assertStatus(self.status(cid, sid, "ringing", target=target), 204)
        self.assertEqual(self.call(cid)["status"], "ringing")

    def test_json_body_with_body_sha256(self):
        cid, sid = self.new_call(), call_sid()
        body = ('{"CallSid":"%s","CallStatus":"ringing"}' % sid).encode()
        target, hdrs = json_request(TOKEN, PUBLIC, "/webhooks/twilio/status?call_id=" + cid, body)
        resp = self.daemon.request("POST", target, body, headers=hdrs, token=None)
        self.assertStatus(resp, 204)
        self.assertEqual(self.call(cid)["status"], "ringing")
        other = body.replace(b"ringing", b"completed")
        resp = self.daemon.request("POST", target, other, headers=hdrs, token=None)
        self.assertError(resp, 403, "invalid_signature")

    def test_bad_input_is_4xx_and_stores_nothing(self):
        cid, sid = self.new_call(), call_sid()
        target = "/webhooks/twilio/status?call_id=" + cid
        before = self.snapshot()
        cases = [
            ("no CallSid", target, {"CallStatus": "ringing"}, 422, "missing_field"),
            ("bad status", target, {"CallSid": sid, "CallStatus": "dancing"}, 422,
             "invalid_field"),
            ("bad CallSid", target, {"CallSid": "XX1", "CallStatus": "ringing"}, 422,
             "invalid_field"),
            ("negative duration", target, {"CallSid": sid, "CallStatus": "completed",
                                           "CallDuration": "-4"}, 422, "invalid_field"),
            ("bad call id", "/webhooks/twilio/status?call_id=nope",
             {"CallSid": sid, "CallStatus": "ringing"}, 400, "invalid_query"),
            ("recording without sid", "/webhooks/twilio/recording?call_id=" + cid,
             {"CallSid": sid, "RecordingStatus": "completed"}, 422, "missing_field"),
            ("voice without CallSid", "/webhooks/twilio/voice", {"From": CUSTOMER}, 422,
             "missing_field"),
        ]
        for what, tgt, params, code, err in cases:
            with self.subTest(what):
                self.assertError(self.webhook(tgt, params), code, err)
        data, hdrs = form_request(TOKEN, PUBLIC, target, {"CallSid": sid})
        resp = self.daemon.request("POST", target, b"CallSid=%ZZ", headers=hdrs, token=None)
        self.assertError(resp, 400, "malformed_form")
        resp = self.daemon.request("POST", target, data,
                                   headers=dict(hdrs, **{"Content-Type": "text/plain"}),
                                   token=None)
        self.assertError(resp, 415, "unsupported_media_type")
        resp = self.daemon.request("POST", target, b"x" * 70000, headers=hdrs, token=None)
        self.assertError(resp, 413, "payload_too_large")
        self.assertEqual(self.snapshot(), before)


class StateMachineTest(WebhookCase):
    def log_jobs(self, cid):
        return self.daemon.count("jobs", "call_id = '%s' AND kind = 'crm.log_call'" % cid)

    def test_lifecycle_in_order(self):
        cid, sid = self.new_call(), call_sid()
        for st in ("initiated", "ringing", "in-progress"):
            self.assertStatus(self.status(cid, sid, st), 204)
            self.assertEqual(self.call(cid)["status"], st)
        self.assertEqual(self.log_jobs(cid), 0)
        self.assertStatus(self.status(cid, sid, "completed", duration=42), 204)
        call = self.call(cid)
        self.assertEqual(call["status"], "completed")
        self.assertEqual(call["duration_s"], 42)
        self.assertEqual(call["telephony"]["call_id"], sid)
        self.assertIsNotNone(call["answered_at"])
        self.assertIsNotNone(call["ended_at"])
        self.assertEqual([h["status"] for h in call["history"] if h["source"] == "twilio"],
                         ["initiated", "ringing", "in-progress", "completed"])
        self.assertEqual(self.log_jobs(cid), 1)
        self.wait_for(lambda: self.call(cid)["crm"]["state"] == "local", 20,
                      "the CRM log finalised")

    def test_duplicates_and_late_events_never_move_back(self):
        cid, sid = self.new_call(), call_sid()
        for st, dur in (("ringing", None), ("completed", 30), ("ringing", None),
                        ("in-progress", None), ("completed", 30), ("busy", 0),
                        ("initiated", None), ("completed", 30)):
            self.assertStatus(self.status(cid, sid, st, duration=dur), 204)
        call = self.call(cid)
        self.assertEqual(call["status"], "completed")
        self.assertEqual(call["duration_s"], 30)
        events = [h["status"] for h in call["history"] if h["source"] == "twilio"]
        self.assertEqual(sorted(events), sorted(set(events)), "each status recorded once")
        self.assertEqual(self.log_jobs(cid), 1)
        metrics = self.daemon.get("/metrics", token=None).raw.decode()
        self.assertIn('callbridge_webhooks_total{outcome="advanced"} 2', metrics)
        self.assertIn('callbridge_webhooks_total{outcome="recorded"} 3', metrics)
        self.assertIn('callbridge_webhooks_total{outcome="duplicate"} 3', metrics)

    def test_memoised_duplicates_still_need_their_signature(self):
        cid, sid = self.new_call(), call_sid()
        target = "/webhooks/twilio/status?call_id=" + cid
        self.assertStatus(self.status(cid, sid, "ringing"), 204)
        before = self.snapshot()
        for _ in range(3):  # Twilio's repeats: answered from the memo
            self.assertStatus(self.status(cid, sid, "ringing"), 204)
        metrics = self.daemon.get("/metrics", token=None).raw.decode()
        self.assertIn('callbridge_webhooks_total{outcome="duplicate"} 3', metrics)
        self.assertIn("callbridge_webhook_memo_hits_total 3", metrics)
        # The same repeat, forged or unsigned, is refused like any other callback.
        params = {"CallSid": sid, "AccountSid": ACCOUNT, "CallStatus": "ringing",
                  "From": OUR_NUMBER, "To": CUSTOMER, "Direction": "outbound-api"}
        self.assertError(self.webhook(target, params, token="not-the-token"), 403,
                         "invalid_signature")
        data, hdrs = form_request(TOKEN, PUBLIC, target, params)
        del hdrs["X-Twilio-Signature"]
        self.assertError(self.daemon.request("POST", target, data, headers=hdrs, token=None),
                         400, "missing_signature")
        metrics = self.daemon.get("/metrics", token=None).raw.decode()
        self.assertIn('callbridge_webhooks_total{outcome="forged"} 1', metrics)
        self.assertIn("callbridge_webhook_memo_hits_total 3", metrics)
        self.assertEqual(self.snapshot(), before)
        # The memo never hides a status not seen yet, nor one for another call.
        self.assertStatus(self.status(cid, sid, "in-progress"), 204)
        self.assertEqual(self.call(cid)["status"], "in-progress")
        other = self.new_call()
        self.assertStatus(self.status(other, call_sid(), "ringing"), 204)
        self.assertEqual(self.call(other)["status"], "ringing")

    def test_missed_inbound_call_queues_a_follow_up(self):
        sid = call_sid()
        cid = self.new_call(direction="inbound", sid=sid)
        self.assertStatus(self.status(None, sid, "no-answer", duration=0,
                                      target="/webhooks/twilio/status",
                                      Direction="inbound"), 204)
        self.assertEqual(self.call(cid)["status"], "no-answer")
        self.assertEqual(self.daemon.count("jobs", "call_id = '%s' AND kind = 'crm.follow_up'"
                                           % cid), 1)
        out = self.new_call(direction="outbound")
        self.assertStatus(self.status(out, call_sid(), "no-answer", duration=0), 204)
        self.assertEqual(self.daemon.count("jobs", "call_id = '%s' AND kind = 'crm.follow_up'"
                                           % out), 0)

    def test_unknown_inbound_call_is_recorded(self):
        sid = call_sid()
        resp = self.webhook("/webhooks/twilio/status",
                            {"CallSid": sid, "CallStatus": "completed", "CallDuration": "12",
                             "From": CUSTOMER, "To": OUR_NUMBER, "Direction": "inbound"})
        self.assertStatus(resp, 204)
        rows = self.daemon.sql("SELECT id, agent, direction, status, duration_s, from_e164 "
                               "FROM calls WHERE provider_call_id = '%s'" % sid)
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][1:], ["desk", "inbound", "completed", "12", CUSTOMER])

    def test_unknown_outbound_call_is_ignored(self):
        before = self.snapshot()
        resp = self.webhook("/webhooks/twilio/status",
                            {"CallSid": call_sid(), "CallStatus": "completed",
                             "Direction": "outbound-dial"})
        self.assertStatus(resp, 204)
        self.assertEqual(self.snapshot(), before)

    def test_recording_is_recorded_once(self):
        cid, sid = self.new_call(), call_sid()
        rsid = "RE" + uuid.uuid4().hex
        params = {"CallSid": sid, "RecordingSid": rsid, "RecordingStatus": "completed",
                  "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/%s/Recordings/%s"
                  % (ACCOUNT, rsid), "RecordingDuration": "9"}
        for _ in range(3):
            self.assertStatus(self.webhook("/webhooks/twilio/recording?call_id=" + cid,
                                           params), 204)
        rows = self.daemon.sql("SELECT call_id, provider_sid, duration_s, state FROM recordings")
        self.assertEqual(rows, [[cid, rsid, "9", "pending"]])


class VoiceTest(WebhookCase):
    def voice(self, params, target="/webhooks/twilio/voice"):
        params = dict({"AccountSid": ACCOUNT, "CallStatus": "ringing"}, **params)
        resp = self.webhook(target, params)
        self.assertStatus(resp, 200)
        self.assertTrue(resp.headers.get("Content-Type", "").startswith("text/xml"),
                        resp.headers)
        return resp.raw.decode()

    def test_bridge_rings_the_agent_of_our_call(self):
        cid = str(uuid.uuid4())
        xml = self.voice({"CallSid": call_sid(), "From": OUR_NUMBER, "To": CUSTOMER,
                          "Direction": "outbound-api"},
                         target="/webhooks/twilio/voice?call_id=%s&agent=alice" % cid)
        self.assertIn("<Client><Identity>alice</Identity>", xml)
        self.assertIn('<Parameter name="call_id" value="%s"/>' % cid, xml)

    def test_inbound_goes_to_the_fallback_agent_and_is_recorded(self):
        sid = call_sid()
        xml = self.voice({"CallSid": sid, "From": CUSTOMER, "To": OUR_NUMBER,
                          "Direction": "inbound"})
        self.assertIn("<Identity>desk</Identity>", xml)
        rows = self.daemon.sql("SELECT id, agent, direction, from_e164, to_e164 FROM calls "
                               "WHERE provider_call_id = '%s'" % sid)
        self.assertEqual(rows[0][1:], ["desk", "inbound", CUSTOMER, OUR_NUMBER])
        self.assertIn('value="%s"' % rows[0][0], xml)
        self.assertEqual(self.daemon.count("jobs", "call_id = '%s' AND kind = 'crm.log_call'"
                                           % rows[0][0]), 1)
        # Twilio retrying the same webhook gets the same answer and no second call.
        self.voice({"CallSid": sid, "From": CUSTOMER, "To": OUR_NUMBER, "Direction": "inbound"})
        self.assertEqual(self.daemon.count("calls", "provider_call_id = '%s'" % sid), 1)

    def test_softphone_dial_out(self):
        sid = call_sid()
        xml = self.voice({"CallSid": sid, "From": "client:alice", "To": "(415) 555-0199",
                          "Direction": "inbound"})
        self.assertRegex(xml, r'<Dial [^>]*callerId="\+14155550100"[^>]*><Number>\+14155550199'
                         r'</Number>')
        rows = self.daemon.sql("SELECT agent, direction, to_e164 FROM calls "
                               "WHERE provider_call_id = '%s'" % sid)
        self.assertEqual(rows, [["alice", "outbound", "+14155550199"]])
        xml = self.voice({"CallSid": call_sid(), "From": "client:alice", "To": "banana"})
        self.assertIn("<Say>", xml)

    def test_disabled_twilio_refuses_webhooks(self):
        d = self.new_daemon()
        d.migrate()
        d.start()
        data, hdrs = form_request(TOKEN, PUBLIC, "/webhooks/twilio/voice", {"CallSid": call_sid()})
        resp = d.request("POST", "/webhooks/twilio/voice", data, headers=hdrs, token=None)
        self.assertError(resp, 403, "forbidden")


class VoiceWithoutDatabaseTest(WebhookCase):
    """The voice webhook answers within its deadline with fallback TwiML when PostgreSQL is
    stopped; the call's status callbacks record it once PostgreSQL is back."""
    autostart = False

    def setUp(self):
        self.pg = PgCluster()
        self.addCleanup(self.pg.destroy)
        self.daemon = self.new_daemon(twilio_config({"twilio": {"voice_deadline_ms": 500}}),
                                      pg=self.pg)
        self.daemon.migrate()
        self.admin = self.daemon.apikey("ops", admin=True)
        self.daemon.start()

    def test_fallback_twiml_when_postgres_is_down(self):
        self.pg.stop("fast")
        sid = call_sid()
        params = {"CallSid": sid, "From": CUSTOMER, "To": OUR_NUMBER, "Direction": "inbound",
                  "AccountSid": ACCOUNT, "CallStatus": "ringing"}
        resp = self.webhook("/webhooks/twilio/voice", params)
        self.assertStatus(resp, 200)
        xml = resp.raw.decode()
        self.assertIn("<Identity>desk</Identity>", xml)
        self.assertNotIn("Parameter", xml)  # no call id: nothing could be recorded
        # A status callback meanwhile cannot be stored: 503, so Twilio's retry is not lost.
        resp = self.webhook("/webhooks/twilio/status", dict(params, CallStatus="completed",
                                                            CallDuration="5"))
        self.assertError(resp, 503, "db_unavailable")
        self.pg.start()
        self.wait_for(lambda: self.webhook(
            "/webhooks/twilio/status", dict(params, CallStatus="completed",
                                            CallDuration="5")).status == 204, 30,
            "the status callback accepted once PostgreSQL is back")
        rows = self.daemon.sql("SELECT agent, status FROM calls WHERE provider_call_id = '%s'"
                               % sid)
        self.assertEqual(rows, [["desk", "completed"]])


if __name__ == "__main__":
    harness.main()
