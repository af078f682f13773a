"""The agent's wrap-up (issue 13 item 1): POST /api/calls/{id}/disposition {"disposition",
"notes"?} at any status, the value from [agents] dispositions mapped to the org's
CallDisposition label, the notes in their own column; the Salesforce call log (one Task,
upserted by its External ID) gets the label and the notes through the same log job, and later
writes — status webhooks, the analysis write-back — never overwrite them. The same wrap-up again
changes and writes nothing; bad input changes nothing either."""

import hashlib
import json
import uuid

import harness
from harness import DaemonTestCase, wait_for
from test_twilio_calls import ACCOUNT, CUSTOMER, OUR_NUMBER, TOKEN, TwilioCallCase
from twilio_sign import form_request

NOTES = "Wants a demo on Friday.\nBudget approved — call back after 3 pm. ☎"
DEFAULT_VALUES = ("interested, not_interested, callback, voicemail, no_answer, wrong_number")


def dispose(daemon, cid, body, **kw):
    return daemon.post("/api/calls/%s/disposition" % cid, body, **kw)


def log_jobs(daemon, cid):
    return daemon.count("jobs", "kind = 'crm.log_call' AND call_id = '%s'" % cid)


def agent_events(call):
    return [h for h in call["history"] if h["source"] == "agent"]


class WrapUpCase(TwilioCallCase):
    """The sandbox as Salesforce and Twilio, a daemon logging calls to it (no recordings: the
    only CRM writes are the call log's)."""

    twilio = {"record": False}

    def inbound(self):
        """An inbound call the test drives with signed status callbacks."""
        sid = "CA" + uuid.uuid4().hex
        r = self.daemon.initiate({"to": OUR_NUMBER, "from": CUSTOMER, "direction": "inbound",
                                  "provider_call_id": sid})
        self.assertStatus(r, 202)
        return r.body["call_id"], sid

    def status(self, cid, sid, status, duration=None):
        params = {"CallSid": sid, "AccountSid": ACCOUNT, "CallStatus": status,
                  "From": CUSTOMER, "To": OUR_NUMBER, "Direction": "inbound"}
        if duration is not None:
            params["CallDuration"] = str(duration)
        target = "/webhooks/twilio/status?call_id=%s" % cid
        data, hdrs = form_request(TOKEN, self.daemon.base_url, target, params)
        r = self.daemon.request("POST", target, data, headers=hdrs, token=None)
        self.assertStatus(r, 204)

    def settled(self, cid):
        """The call once every job of it is done and its CRM state is synced."""
        def done():
            c = self.call(cid)
            return c if c["crm"]["state"] == "synced" and all(
                j["state"] == "done" for j in c["jobs"]) else None
        return wait_for(done, 60, "call %s logged with no job left" % cid)

    def writes(self):
        """Salesforce write requests: single upserts, Collections upserts and Composite
        requests (batches)."""
        return (self.sb.count("salesforce.upsert") +
                self.sb.count("salesforce.collections_upsert") +
                self.sb.count("salesforce.composite"))

    def wrap_up(self, cid, body, status=200):
        r = dispose(self.daemon, cid, body)
        self.assertStatus(r, status)
        return r.body


class WrapUpTest(WrapUpCase):
    def test_after_the_call_the_task_gets_label_and_notes(self):
        self.sb.outcome(to="*", status="completed", duration_s=42)
        cid = self.dial()
        self.wait_final(cid)
        self.wait_task(cid, Status="Completed", CallDisposition="Answered")
        upserts = self.writes()
        got = self.wrap_up(cid, {"disposition": "interested", "notes": NOTES})
        self.assertEqual((got["call_id"], got["disposition"], got["label"], got["notes"],
                          got["idempotent_replay"]), (cid, "interested", "Interested", NOTES,
                                                      False))
        call = self.call(cid)
        self.assertEqual((call["disposition"], call["notes"], call["disposed_at"]),
                         ("interested", NOTES, got["disposed_at"]))
        self.assertEqual([h["status"] for h in agent_events(call)], ["disposition"])
        task = self.wait_task(cid, CallDisposition="Interested", Status="Completed",
                              CallDurationInSeconds=42)
        self.assertIn("Disposition: Interested", task["Description"])
        self.assertTrue(task["Description"].endswith("Notes:\n" + NOTES), task["Description"])
        self.settled(cid)
        self.assertEqual(self.writes(), upserts + 1)  # one request: alone or in a batch
        # The call list shows it too.
        listed = self.daemon.get("/api/calls?limit=5").body["calls"]
        self.assertEqual([c["disposition"] for c in listed if c["call_id"] == cid],
                         ["interested"])

    def test_the_same_wrap_up_again_writes_nothing(self):
        cid, sid = self.inbound()
        self.settled(cid)
        first = self.wrap_up(cid, {"disposition": "voicemail", "notes": NOTES})
        self.settled(cid)
        self.wait_task(cid, CallDisposition="Left Voicemail")
        jobs, upserts = log_jobs(self.daemon, cid), self.writes()
        for _ in range(3):
            again = self.wrap_up(cid, {"disposition": "voicemail", "notes": NOTES})
            self.assertTrue(again["idempotent_replay"])
            self.assertEqual(again["disposed_at"], first["disposed_at"])
        self.assertEqual(log_jobs(self.daemon, cid), jobs)
        self.assertEqual(len(agent_events(self.call(cid))), 1)
        self.assertEqual(self.writes(), upserts)
        self.assertEqual(len(self.sb.tasks_of(cid)), 1)

    def test_a_queued_log_job_is_not_doubled(self):
        cid, sid = self.inbound()
        self.settled(cid)
        # A log job queued for later (a final status just queued one, or one backing off).
        job = int(self.daemon.sql_value(
            "INSERT INTO jobs (kind, call_id, available_at) VALUES ('crm.log_call', '%s',"
            " now() + interval '1 hour') RETURNING id" % cid))
        jobs = log_jobs(self.daemon, cid)
        self.wrap_up(cid, {"disposition": "callback", "notes": NOTES})
        self.assertEqual(log_jobs(self.daemon, cid), jobs)
        self.assertEqual(self.call(cid)["crm"]["state"], "pending")
        self.daemon.sql("UPDATE jobs SET available_at = now() WHERE id = %d" % job)
        self.daemon.sql("NOTIFY cb_jobs")
        self.daemon.wait_job_state(job, "done")
        self.wait_task(cid, CallDisposition="Call Back")
        self.assertEqual(self.settled(cid)["disposition"], "callback")

    def test_during_the_call_then_after_it(self):
        cid, sid = self.inbound()
        self.status(cid, sid, "ringing")
        self.status(cid, sid, "in-progress")
        self.wrap_up(cid, {"disposition": "callback", "notes": NOTES})
        self.assertEqual(self.call(cid)["status"], "in-progress")
        self.wait_task(cid, Status="In Progress", CallDisposition="Call Back")
        # The call ends: the final log keeps what the agent gave, not the raw status.
        self.status(cid, sid, "completed", duration=95)
        self.settled(cid)
        task = self.wait_task(cid, Status="Completed", CallDisposition="Call Back",
                              CallDurationInSeconds=95)
        self.assertTrue(task["Description"].endswith("Notes:\n" + NOTES))
        call = self.call(cid)
        self.assertEqual((call["status"], call["disposition"], call["notes"]),
                         ("completed", "callback", NOTES))
        # The agent changes their mind after the call: the body replaces the wrap-up.
        changed = self.wrap_up(cid, {"disposition": "interested"})
        self.assertFalse(changed["idempotent_replay"])
        self.assertIsNone(changed["notes"])
        task = self.wait_task(cid, CallDisposition="Interested")
        self.assertNotIn("Notes:", task["Description"])
        self.assertEqual(len(agent_events(self.call(cid))), 2)
        self.assertEqual(len(self.sb.tasks_of(cid)), 1)

    def test_later_writes_never_overwrite_the_wrap_up(self):
        cid, sid = self.inbound()
        self.status(cid, sid, "in-progress")
        self.wrap_up(cid, {"disposition": "wrong_number", "notes": NOTES})
        self.status(cid, sid, "completed", duration=12)
        # Replayed and late callbacks, and the analysis write-back suggesting a disposition.
        self.status(cid, sid, "completed", duration=12)
        self.status(cid, sid, "in-progress")
        job = self.daemon.insert_job("debug.crm_attach", {"fields": {
            "disposition": "Robot Says Interested", "summary": "A wrong number."}}, call_id=cid)
        self.daemon.wait_job_state(job, "done")
        self.settled(cid)
        task = self.wait_task(cid, Status="Completed", CallDisposition="Wrong Number",
                              Callbridge_Summary__c="A wrong number.")
        self.assertTrue(task["Description"].endswith("Notes:\n" + NOTES))
        call = self.call(cid)
        self.assertEqual((call["status"], call["disposition"], call["notes"]),
                         ("completed", "wrong_number", NOTES))
        self.assertEqual(self.daemon.sql_value(
            "SELECT md5(notes) FROM calls WHERE id = '%s'" % cid),
            hashlib.md5(NOTES.encode()).hexdigest())

    def test_a_call_that_never_connected(self):
        cid, sid = self.inbound()
        self.status(cid, sid, "no-answer")
        self.wrap_up(cid, {"disposition": "no_answer"})
        self.settled(cid)
        self.wait_task(cid, Status="Completed", CallDisposition="No Answer")

    def test_admin_may_wrap_up_any_call_others_may_not(self):
        cid, sid = self.inbound()
        bob = self.daemon.apikey("bob")
        before = self.call(cid)
        self.assertError(dispose(self.daemon, cid, {"disposition": "interested"}, token=bob),
                         404, "not_found")
        self.assertEqual(self.call(cid)["history"], before["history"])
        r = dispose(self.daemon, cid, {"disposition": "interested"}, token=self.admin)
        self.assertStatus(r, 200)
        self.assertEqual(self.daemon.sql_value(
            "SELECT disposed_by FROM calls WHERE id = '%s'" % cid), "ops")


class SingleWriteTest(WrapUpCase):
    def extra_config(self, sb):
        return {"salesforce": {"write_mode": "single"}}

    def test_the_one_write_carries_the_wrap_up(self):
        cid, sid = self.inbound()
        self.status(cid, sid, "in-progress")
        self.wrap_up(cid, {"disposition": "interested", "notes": NOTES})
        wait_for(lambda: all(j["state"] == "done" for j in self.call(cid)["jobs"]), 30,
                 "the log jobs done")
        self.assertEqual(self.sb.tasks_of(cid), [])  # nothing before the end of the call
        self.status(cid, sid, "completed", duration=30)
        self.settled(cid)
        task = self.wait_task(cid, Status="Completed", CallDisposition="Interested")
        self.assertTrue(task["Description"].endswith("Notes:\n" + NOTES))
        self.assertEqual(self.writes(), 1)


class CustomListTest(WrapUpCase):
    LIST = "sold:Closed Won, lost: Closed Lost ,later"

    def extra_config(self, sb):
        return {"agents": {"dispositions": self.LIST}}

    def test_values_and_labels_come_from_the_config(self):
        cid, sid = self.inbound()
        r = dispose(self.daemon, cid, {"disposition": "interested"})
        self.assertError(r, 422, "invalid_disposition")
        self.assertIn("sold, lost, later", r.body["error"]["message"])
        self.assertEqual(self.wrap_up(cid, {"disposition": "lost"})["label"], "Closed Lost")
        self.wait_task(cid, CallDisposition="Closed Lost")
        self.assertEqual(self.wrap_up(cid, {"disposition": "later"})["label"], "later")
        self.wait_task(cid, CallDisposition="later")


class LocalOnlyTest(DaemonTestCase):
    """No CRM: the wrap-up stays in callbridge."""

    def test_kept_locally(self):
        cid = self.daemon.initiate({"to": CUSTOMER}).body["call_id"]
        r = dispose(self.daemon, cid, {"disposition": "callback", "notes": "Later."})
        self.assertStatus(r, 200)

        def local():
            c = self.daemon.get("/api/calls/" + cid).body
            return c if c["crm"]["state"] == "local" and all(
                j["state"] == "done" for j in c["jobs"]) else None
        call = wait_for(local, 30, "the call's CRM state local")
        self.assertEqual((call["disposition"], call["notes"]), ("callback", "Later."))


class BadInputTest(DaemonTestCase):
    """Every refusal has the error shape, the right status, and changes nothing."""

    def quiet(self, cid):
        """The call once its jobs are done: nothing else changes it."""
        def done():
            c = self.daemon.get("/api/calls/" + cid).body
            return c["crm"]["state"] == "local" and all(j["state"] == "done" for j in c["jobs"])
        wait_for(done, 30, "call %s settled" % cid)
        return cid

    def snapshot(self, cid):
        return (self.daemon.sql("SELECT disposition, notes, disposed_at, updated_at FROM calls"
                                " WHERE id = '%s'" % cid),
                self.daemon.count("call_events"), self.daemon.count("jobs"))

    def test_bad_input_matrix(self):
        cid = self.quiet(self.daemon.initiate({"to": CUSTOMER}).body["call_id"])
        path = "/api/calls/%s/disposition" % cid
        bob = self.daemon.apikey("bob")
        before = self.snapshot(cid)
        ok = {"disposition": "interested"}
        cases = [
            ("malformed JSON", dict(body=b'{"disposition": "interested"'), 400,
             "malformed_json"),
            ("not an object", dict(body=b'["interested"]'), 400, "invalid_body"),
            ("empty body", dict(body=b""), 400, "malformed_json"),
            ("wrong content type", dict(body=json.dumps(ok).encode(),
                                        headers={"Content-Type": "text/plain"}), 415,
             "unsupported_media_type"),
            ("form body", dict(body=b"disposition=interested",
                               headers={"Content-Type": "application/x-www-form-urlencoded"}),
             415, "unsupported_media_type"),
            ("missing disposition", dict(body={"notes": "x"}), 422, "missing_field"),
            ("null disposition", dict(body={"disposition": None}), 422, "missing_field"),
            ("disposition a number", dict(body={"disposition": 5}), 422, "invalid_field"),
            ("disposition a list", dict(body={"disposition": ["interested"]}), 422,
             "invalid_field"),
            ("disposition an object", dict(body={"disposition": {"v": "interested"}}), 422,
             "invalid_field"),
            ("disposition true", dict(body={"disposition": True}), 422, "invalid_field"),
            ("notes a number", dict(body={"disposition": "interested", "notes": 1}), 422,
             "invalid_field"),
            ("notes a list", dict(body={"disposition": "interested", "notes": ["a"]}), 422,
             "invalid_field"),
            ("unknown value", dict(body={"disposition": "maybe"}), 422, "invalid_disposition"),
            ("a label, not a value", dict(body={"disposition": "Interested"}), 422,
             "invalid_disposition"),
            ("empty value", dict(body={"disposition": ""}), 422, "invalid_disposition"),
            ("a very long value", dict(body={"disposition": "x" * 5000}), 422,
             "invalid_disposition"),
            ("NUL in the value", dict(body=b'{"disposition": "interested\\u0000x"}'), 400,
             "malformed_json"),
            ("notes of 4001 characters", dict(body={"disposition": "interested",
                                                    "notes": "n" * 4001}), 422,
             "invalid_field"),
            ("notes of 4001 four-byte characters", dict(body={
                "disposition": "interested", "notes": "\U0001F4DE" * 4001}), 422,
             "invalid_field"),
            ("oversized body", dict(body={"disposition": "interested", "notes": "n" * 70000}),
             413, "payload_too_large"),
            ("no auth", dict(body=ok, token=None), 401, "unauthorized"),
            ("a wrong key", dict(body=ok, token="cbk_nope_nope"), 401, "unauthorized"),
            ("another agent's call", dict(body=ok, token=bob), 404, "not_found"),
        ]
        for what, kw, status, code in cases:
            with self.subTest(what):
                r = self.daemon.request("POST", path, **kw)
                self.assertError(r, status, code)
        for what, target in (("unknown id", "/api/calls/%s/disposition" % uuid.uuid4()),
                             ("not an id", "/api/calls/nope/disposition"),
                             ("upper-case garbage", "/api/calls/%s/disposition" % ("Z" * 36))):
            with self.subTest(what):
                self.assertError(self.daemon.post(target, ok), 404, "not_found")
        r = self.daemon.get(path)
        self.assertError(r, 405, "method_not_allowed")
        self.assertEqual(self.snapshot(cid), before)
        # The message names what is allowed.
        r = dispose(self.daemon, cid, {"disposition": "maybe"})
        self.assertIn(DEFAULT_VALUES, r.body["error"]["message"])
        # The unknown id answers exactly as another agent's call.
        mine = dispose(self.daemon, cid, ok, token=bob).body["error"]["code"]
        self.assertEqual(mine, self.daemon.post("/api/calls/%s/disposition" % uuid.uuid4(),
                                                ok).body["error"]["code"])

    def test_limits_that_fit(self):
        cid = self.daemon.initiate({"to": CUSTOMER}).body["call_id"]
        for notes in ("n" * 4000, "\U0001F4DE" * 4000, ""):
            with self.subTest(len(notes)):
                r = dispose(self.daemon, cid, {"disposition": "interested", "notes": notes})
                self.assertStatus(r, 200)
                self.assertEqual(r.body["notes"], notes or None)
                self.assertEqual(self.daemon.get("/api/calls/" + cid).body["notes"],
                                 notes or None)


class CheckConfigTest(DaemonTestCase):
    autostart = False

    def test_a_bad_list_is_refused(self):
        for bad, why in (("Interested:Interested", "a-z, 0-9"),
                         ("a:A, a:B", "\"a\" is listed twice"),
                         ("a:A,", "item 2 is empty")):
            with self.subTest(bad):
                d = self.new_daemon({"agents": {"dispositions": bad}})
                r = d.cli("--check-config", "-c", d.conf_path)
                self.assertEqual(r.returncode, 1, r)
                self.assertIn("[agents] dispositions", r.stdout + r.stderr)
                self.assertIn(why, r.stdout + r.stderr)


if __name__ == "__main__":
    harness.main()
