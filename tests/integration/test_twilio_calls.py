"""Click-to-dial end to end (issue 4): the daemon places the call through the sandbox's
Twilio (Calls.json), the sandbox plays it and sends signed status, voice and recording
webhooks back, the state machine follows, and the Salesforce Task is finalised exactly once
with the right duration — also with duplicated and shuffled webhooks, and when the first
Calls.json attempt timed out after Twilio had created the call. A missed inbound call gets
its follow-up Task."""

import base64
import json
import os
import tempfile
import uuid

import harness
from harness import DaemonTestCase, wait_for
from sfstack import Sandbox
from sse import SseStream
from twilio_sign import form_request

ACCOUNT = "AC" + "5" * 32
TOKEN = "e2e-twilio-auth-token"
CUSTOMER = "+14155550123"
OUR_NUMBER = "+14155550100"
OWNER = {"Id": "005000000000009AAA", "Username": "owner@callbridge.test", "Name": "Olive Owner",
         "Email": "owner@callbridge.test", "IsActive": True}
CONTACT = {"Id": "003000000000001AAA", "FirstName": "Ada", "LastName": "Lovelace",
           "Phone": "(415) 555-0123", "LastModifiedDate": "2026-11-01T10:00:00.000+0000",
           "OwnerId": OWNER["Id"]}


class TwilioStack(Sandbox):
    """The Salesforce sandbox with its Twilio emulation switched on."""

    def __init__(self):
        super().__init__()
        self.token_file = os.path.join(self.keydir, "twilio-token")
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(self.token_file, 0o644)
        self.args += ["--twilio-account-sid", ACCOUNT, "--twilio-auth-token-file",
                      self.token_file]

    def twilio_config(self, **twilio):
        tw = {"enabled": True, "api_base_url": self.url, "account_sid": ACCOUNT,
              "auth_token_file": self.token_file, "caller_id": OUR_NUMBER, "record": True,
              "timeout_ms": 5000}
        tw.update(twilio)
        # Recordings land in a private directory, sealed with a key made here.
        self.store = tempfile.mkdtemp(prefix="cb-rec-", dir=self.keydir)
        keyfile = os.path.join(self.keydir, "recording-keys")
        with open(keyfile, "w") as f:
            f.write("k0000beef %s\n" % base64.b64encode(os.urandom(32)).decode())
        os.chmod(keyfile, 0o600)
        return harness.merge_config(self.daemon_config(), {
            "twilio": tw, "storage": {"backend": "local", "dir": self.store,
                                      "key_file": keyfile}})

    def outcome(self, **kw):
        return self.control("twilio/outcome", kw)

    def tasks_of(self, call_id):
        return [t for t in self.records("Task") if t.get("Callbridge_Call_Id__c") == call_id]


class TwilioCallCase(DaemonTestCase):
    autostart = False
    twilio = {}

    def extra_config(self, sb):
        """Subclasses: more daemon settings (the sandbox is made, not started yet)."""
        return {}

    def setUp(self):
        self.sb = TwilioStack()
        extra = self.extra_config(self.sb)
        self.sb.start()
        self.addCleanup(self.sb.close_checked, self)
        self.sb.seed({"User": [OWNER], "Contact": [CONTACT]})
        self.daemon = self.new_daemon(harness.merge_config(
            self.sb.twilio_config(**self.twilio),
            harness.merge_config({"server": {"sse_heartbeat_s": 1}}, extra)))
        self.daemon.migrate()
        self.daemon.token = self.daemon.apikey(self.agent)
        self.admin = self.daemon.apikey("ops", admin=True)
        self.daemon.start()

    def call(self, cid):
        r = self.daemon.get("/api/calls/%s" % cid, token=self.admin)
        self.assertStatus(r, 200)
        return r.body

    def dial(self, to=CUSTOMER):
        r = self.daemon.initiate({"to": to})
        self.assertStatus(r, 202)
        return r.body["call_id"]

    def wait_final(self, cid, status="completed"):
        def done():
            c = self.call(cid)
            return c if c["status"] == status and c["crm"]["state"] == "synced" and all(
                j["state"] == "done" for j in c["jobs"]) else None
        return wait_for(done, 60, "call %s %s and logged" % (cid, status))

    def wait_task(self, cid, **want):
        def match():
            tasks = self.sb.tasks_of(cid)
            if len(tasks) == 1 and all(tasks[0].get(k) == v for k, v in want.items()):
                return tasks
            return None
        return wait_for(match, 30, "one Task for %s with %r" % (cid, want))[0]


class ClickToDialTest(TwilioCallCase):
    def test_click_to_dial_end_to_end(self):
        self.sb.outcome(to="*", status="completed", duration_s=42)
        stream = SseStream(self.daemon.port, self.daemon.token)
        self.addCleanup(stream.close)
        cid = self.dial()
        call = self.wait_final(cid)
        seen = []
        while "completed" not in seen:  # the agent's softphone follows the call live
            ev = stream.next_event(timeout=10)
            data = json.loads(ev["data"])
            if ev["event"] == "call_status" and data["call_id"] == cid:
                seen.append(data["status"])
        self.assertEqual(seen, ["queued", "initiated", "ringing", "in-progress", "completed"])
        self.assertEqual(data["duration_s"], 42)
        self.assertEqual(call["duration_s"], 42)
        self.assertEqual([h["status"] for h in call["history"] if h["source"] == "twilio"],
                         ["initiated", "ringing", "in-progress", "completed"])
        task = self.wait_task(cid, Status="Completed", CallDurationInSeconds=42)
        self.assertEqual(task["WhoId"], CONTACT["Id"])
        self.assertEqual(task["CallType"], "Outbound")
        state = self.sb.state()
        placed = [c for c in state["twilio_calls"] if c["sid"] == call["telephony"]["call_id"]]
        self.assertEqual(len(placed), 1)
        self.assertEqual(placed[0]["to"], CUSTOMER)
        self.assertEqual(placed[0]["from"], OUR_NUMBER)
        self.assertIn("<Client><Identity>alice</Identity>", placed[0]["twiml"])
        self.assertEqual(state["requests"]["twilio.calls.create"], 1)
        bad = [w for w in state["twilio_webhooks"] if w["http_status"] not in (200, 204)]
        self.assertEqual(bad, [], "every webhook accepted")
        # The recording callback was recorded against the call.
        wait_for(lambda: self.daemon.count("recordings", "call_id = '%s'" % cid) == 1, 30,
                 "the recording announced")

    def test_busy_customer(self):
        self.sb.outcome(to=CUSTOMER, status="busy")
        cid = self.dial()
        call = self.wait_final(cid, "busy")
        self.assertNotIn("in-progress", [h["status"] for h in call["history"]])
        self.wait_task(cid, Status="Completed", CallDisposition="Busy")

    def test_duplicated_and_shuffled_webhooks(self):
        self.sb.outcome(to="*", status="completed", duration_s=30)
        self.sb.faults(webhook_duplicate_rate=0.5, webhook_shuffle=True)
        calls = [self.dial() for _ in range(6)]
        for cid in calls:
            sid = self.wait_final(cid)["telephony"]["call_id"]
            # Shuffled callbacks may still be on their way after the final one.
            wait_for(lambda: {w.get("status") for w in self.sb.state()["twilio_webhooks"]
                              if w["call_sid"] == sid and w["kind"] == "status"} >= {
                "initiated", "ringing", "in-progress", "completed"}, 30,
                "every callback of %s delivered" % sid)
            call = self.call(cid)
            self.assertEqual(call["status"], "completed")
            self.assertEqual(call["duration_s"], 30)
            events = [h["status"] for h in call["history"] if h["source"] == "twilio"]
            self.assertEqual(sorted(events), sorted(set(events)), "each status once")
            self.assertEqual(set(events), {"initiated", "ringing", "in-progress", "completed"})
            self.wait_task(cid, Status="Completed", CallDurationInSeconds=30)
        dup = [w for w in self.sb.state()["twilio_webhooks"] if w["kind"] == "status"]
        self.assertGreater(len(dup), 6 * 4, "some webhooks were sent twice")


class RecordingDownloadTest(TwilioCallCase):
    """The recording callback queues recording.fetch: the audio comes from the sandbox's
    Twilio with Basic auth through its redirect, is sealed and stored, the Task gets the
    stable /r link and the size, and with delete_after_download the copy at Twilio goes only
    once ours is stored."""
    twilio = {"delete_after_download": True}

    def test_download_store_link_then_delete_at_twilio(self):
        self.sb.outcome(to="*", status="completed", duration_s=6, recording_duration_s=3)
        cid = self.dial()
        self.wait_final(cid)

        def stored():
            recs = self.call(cid)["recordings"]
            return recs if recs and recs[0]["state"] == "stored" else None
        rec = wait_for(stored, 60, "the recording stored")[0]
        rid = rec["recording_id"]
        audio = self.daemon.get("/api/calls/%s/recording/%s" % (cid, rid), token=self.admin)
        self.assertStatus(audio, 200)
        self.assertTrue(audio.raw.startswith(b"RIFF"))
        self.assertEqual(len(audio.raw), rec["bytes"])
        self.assertGreaterEqual(self.sb.count("twilio.recordings.media"), 1)
        link = "%s/r/%s" % (self.daemon.base_url, rid)
        self.wait_task(cid, Callbridge_Recording_URL__c=link,
                       Callbridge_Recording_Bytes__c=rec["bytes"])

        def deleted_at_twilio():
            recs = self.sb.state()["twilio_recordings"]
            return recs if recs and recs[0]["deleted"] else None
        wait_for(deleted_at_twilio, 30, "the copy at Twilio deleted")
        order = self.daemon.sql("SELECT stored_at < provider_deleted_at FROM recordings")
        self.assertEqual(order, [["t"]], "deleted at Twilio only after ours was stored")
        self.assertEqual(self.sb.count("twilio.recordings.delete"), 1)


class AmbiguousPlacementTest(TwilioCallCase):
    """The first Calls.json answer arrives after the daemon gave up waiting: Twilio did create
    the call. The retry finds it instead of placing a second one."""
    twilio = {"timeout_ms": 300}

    def test_timeout_after_send_does_not_place_twice(self):
        self.sb.outcome(to="*", status="completed", duration_s=5)
        self.sb.faults(latency_ms=1500)
        cid = self.dial()
        # Twilio created the call, but answered after the daemon stopped waiting.
        wait_for(lambda: len(self.sb.state()["twilio_calls"]) == 1, 30, "the first call created")
        self.sb.faults()
        self.wait_final(cid)
        self.assertEqual(self.sb.count("twilio.calls.create"), 1, "placed once")
        place = [j for j in self.call(cid)["jobs"] if j["kind"] == "telephony.place_call"]
        self.assertGreaterEqual(place[0]["attempts"], 2)
        self.assertEqual(len(self.sb.state()["twilio_calls"]), 1)
        self.wait_task(cid, Status="Completed")


class MissedInboundTest(TwilioCallCase):
    twilio = {"fallback_agent": "desk"}

    def inbound(self, sid):
        params = {"CallSid": sid, "AccountSid": ACCOUNT, "From": CUSTOMER, "To": OUR_NUMBER,
                  "Direction": "inbound", "CallStatus": "ringing"}
        data, hdrs = form_request(TOKEN, self.daemon.base_url, "/webhooks/twilio/voice", params)
        r = self.daemon.request("POST", "/webhooks/twilio/voice", data, headers=hdrs, token=None)
        self.assertStatus(r, 200)
        return r.raw.decode()

    def test_inbound_rings_the_online_owner_with_a_screen_pop(self):
        # olive is the agent of the record owner's Salesforce User (agents.crm_user_id).
        owner_key = self.daemon.apikey("olive")
        p = self.daemon.cli("agent", "set", "olive", "--crm-user-id", OWNER["Id"], "-c",
                            self.daemon.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        # Offline owner: the fallback agent takes it.
        xml = self.inbound("CA" + uuid.uuid4().hex)
        self.assertIn("<Identity>desk</Identity>", xml)
        # The owner opens the softphone (an event stream): now the call rings them.
        stream = SseStream(self.daemon.port, owner_key)
        self.addCleanup(stream.close)
        sid = "CA" + uuid.uuid4().hex
        xml = self.inbound(sid)
        self.assertIn("<Identity>olive</Identity>", xml)
        ev = stream.next_event(timeout=10, skip_types=("call_status", "agent_status"))
        self.assertEqual(ev["event"], "screen_pop")
        pop = json.loads(ev["data"])
        self.assertEqual(pop["from"], CUSTOMER)
        self.assertEqual([m["id"] for m in pop["matches"]], [CONTACT["Id"]])
        row = self.daemon.sql("SELECT id, agent, crm_record_id FROM calls "
                              "WHERE provider_call_id = '%s'" % sid)
        self.assertEqual(row[0][1:], ["olive", CONTACT["Id"]])
        self.assertEqual(pop["call_id"], row[0][0])

    def test_missed_inbound_call_gets_one_follow_up_task(self):
        sid = "CA" + uuid.uuid4().hex
        base = {"CallSid": sid, "AccountSid": ACCOUNT, "From": CUSTOMER, "To": OUR_NUMBER,
                "Direction": "inbound"}

        def hook(path, **params):
            data, hdrs = form_request(TOKEN, self.daemon.base_url, path, dict(base, **params))
            return self.daemon.request("POST", path, data, headers=hdrs, token=None)
        r = hook("/webhooks/twilio/voice", CallStatus="ringing")
        self.assertStatus(r, 200)
        self.assertIn(b"<Identity>desk</Identity>", r.raw)
        for _ in range(2):  # Twilio's retry changes nothing
            self.assertStatus(hook("/webhooks/twilio/status", CallStatus="no-answer",
                                   CallDuration="0"), 204)
        cid = self.daemon.sql_value("SELECT id FROM calls WHERE provider_call_id = '%s'" % sid)
        self.wait_final(cid, "no-answer")
        log = self.wait_task(cid, Status="Completed", CallType="Inbound")
        self.assertEqual(log["WhoId"], CONTACT["Id"])

        def follow_up():
            t = [t for t in self.sb.records("Task")
                 if (t.get("Subject") or "").startswith("Call back")]
            return t if t else None
        tasks = wait_for(follow_up, 30, "the follow-up Task")
        self.assertEqual(len(tasks), 1)
        self.assertEqual(tasks[0]["WhoId"], CONTACT["Id"])


if __name__ == "__main__":
    harness.main()
