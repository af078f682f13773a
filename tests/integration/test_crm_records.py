"""CRM records that read well (issue 15): the Task of a recorded, transcribed call, its
follow-up tasks and its transcript record, read field by field from the sandbox's Salesforce
state — the Subject with the person, company, direction and talk time, the Description with
formatted numbers, the agent's display name, the outcome and the recording link, the caller id
Twilio dialled from, CallDisposition in words, the agent's CRM user as owner, the rules'
priorities and due dates."""

import base64
import datetime
import hashlib
import unittest
import uuid

import harness
from harness import wait_for
from test_pipeline import TRANSCRIPT, PipelineCase, wav
from test_twilio_calls import OUR_NUMBER, OWNER

ACCOUNT = {"Id": "001000000000002AAA", "Name": "Acme"}
GRACE = {"Id": "003000000000002AAA", "FirstName": "Grace", "LastName": "Hopper",
         "Phone": "(415) 555-0199", "AccountId": ACCOUNT["Id"],
         "LastModifiedDate": "2026-11-02T10:00:00.000+0000"}
EM_DASH = "\u2014"


def business_days_after(day, n):
    while n > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


class RecordsCase(PipelineCase):
    """A recorded 185 s call to Grace Hopper of Acme, placed by an agent with a display name
    and a Salesforce user; the transcript asks for a demo and a call back."""

    def setUp(self):
        super().setUp()
        self.sb.seed({"Account": [ACCOUNT], "Contact": [GRACE]})
        self.daemon.sql(
            "INSERT INTO agents (name, display_name, crm_user_id) VALUES ('%s', 'Alice Example',"
            " '%s') ON CONFLICT (name) DO UPDATE SET display_name = EXCLUDED.display_name,"
            " crm_user_id = EXCLUDED.crm_user_id RETURNING name" % (self.agent, OWNER["Id"]))

    def recorded_call(self):
        audio = wav(4.0)
        rsid = "RE" + uuid.uuid4().hex
        self.sb.seed({"recordings": [{"sid": rsid,
                                      "wav_base64": base64.b64encode(audio).decode()}],
                      "transcripts": [{"sha256": hashlib.sha256(audio).hexdigest(),
                                       "text": TRANSCRIPT}]})
        self.sb.outcome(to="*", status="completed", duration_s=185, recording_sid=rsid,
                        recording_duration_s=4)
        cid = self.dial("+14155550199")

        def written():
            c = self.call(cid)
            t = c["transcripts"]
            return c if t and t[0]["timings"]["crm_written"] and all(
                j["state"] == "done" for j in c["jobs"]) else None
        return wait_for(written, 90, "the call analysed and written to the CRM")

    def check_task(self, call):
        cid = call["call_id"]
        self.assertEqual(call["from"], OUR_NUMBER)  # the caller id Twilio dialled from
        tasks = self.sb.tasks_of(cid)
        self.assertEqual(len(tasks), 1, tasks)
        t = tasks[0]
        rec = [r for r in call["recordings"] if r["state"] == "stored"][0]
        self.assertEqual(t["Subject"], "Call with Grace Hopper (Acme) %s outbound, 3 min" % EM_DASH)
        self.assertEqual(t["CallType"], "Outbound")
        self.assertEqual(t["TaskSubtype"], "Call")
        self.assertEqual(t["Status"], "Completed")
        self.assertEqual(t["CallDurationInSeconds"], 185)
        self.assertEqual(t["CallDisposition"], "Answered")
        self.assertEqual(t["WhoId"], GRACE["Id"])
        self.assertEqual(t["OwnerId"], OWNER["Id"])
        desc = t["Description"].split("\n")
        self.assertEqual(desc[0], "Outbound call")
        self.assertIn("From: +1 415-555-0100", desc)
        self.assertIn("To: +1 415-555-0199", desc)
        self.assertIn("Agent: Alice Example", desc)
        self.assertIn("With: Grace Hopper (Acme)", desc)
        self.assertIn("Duration: 3 min 5 s", desc)
        self.assertIn("Outcome: Answered", desc)
        self.assertIn("Recording: %s/r/%s" % (self.daemon.base_url, rec["recording_id"]), desc)
        self.assertIn("Call id: %s (logged by callbridge)" % cid, desc)
        self.assertEqual(t["Callbridge_Recording_URL__c"],
                         "%s/r/%s" % (self.daemon.base_url, rec["recording_id"]))
        return t

    def check_follow_ups(self, cid):
        follow = {x["Callbridge_Followup_Key__c"].split(":", 1)[1]: x
                  for x in self.sb.records("Task")
                  if (x.get("Callbridge_Followup_Key__c") or "").startswith(cid + ":")}
        today = datetime.datetime.now(datetime.timezone.utc).date()
        demo, callback = follow["demo"], follow["callback"]
        self.assertEqual((demo["Subject"], demo["Priority"], demo["Status"]),
                         ("Schedule demo", "High", "Not Started"))
        self.assertIn(demo["ActivityDate"], (business_days_after(today, 1).isoformat(),
                                             business_days_after(today, 2).isoformat()))
        self.assertEqual((callback["Subject"], callback["Priority"]), ("Call back", "High"))
        self.assertIn(callback["ActivityDate"], (today.isoformat(),
                                                 (today + datetime.timedelta(1)).isoformat()))
        for f in (demo, callback):
            self.assertEqual((f["OwnerId"], f["WhoId"]), (OWNER["Id"], GRACE["Id"]))
            self.assertTrue(f.get("Description"), f)


    def check_transcript(self, call):
        cid = call["call_id"]
        task = self.sb.tasks_of(cid)[0]
        parts = [p for p in self.sb.records("Callbridge_Transcript__c")
                 if p.get("Call_Id__c") == cid]
        self.assertEqual(len(parts), 1, parts)
        p = parts[0]
        self.assertEqual(p["Text__c"], call["transcripts"][0]["clean_text"])
        self.assertEqual(p["Part__c"], 1)
        self.assertEqual(p["Task__c"], task["Id"])  # the old text field, still written
        self.assertEqual(p["Contact__c"], GRACE["Id"])  # the Contact's page lists it
        self.assertNotIn("Lead__c", p)
        self.assertEqual(task["Callbridge_Transcript__c"], p["Id"])  # the Task's page links it
        lines = p["Entities__c"].split("\n")
        for e in call["transcripts"][0]["entities"]:
            self.assertTrue(any(line.startswith("%s: %s" % (e["type"], e["text"]))
                                for line in lines), (e, lines))
        self.assertTrue(any(line.startswith("competitor: Dialpad") for line in lines), lines)


class StagedRecordsTest(RecordsCase):
    def test_task_follow_ups_and_transcript_read_well(self):
        call = self.recorded_call()
        self.check_task(call)
        self.check_follow_ups(call["call_id"])
        self.check_transcript(call)


class SingleWriteRecordsTest(RecordsCase):
    """write_mode = single: the call log is written once, after the recording and the analysis
    came (within [crm] single_write_wait_s), with everything; the records read the same
    as in staged mode."""

    def extra_config(self, sb):
        return harness.merge_config(super().extra_config(sb),
                                    {"crm": {"write_mode": "single"},
                                     "workers": {"debug_run_twice": False}})

    def test_task_follow_ups_and_transcript_read_well(self):
        call = self.recorded_call()
        self.assertEqual(call["crm"]["state"], "synced")
        # One write of the call log: the transcript part, the Task, the part's Task__c, then
        # the two follow-ups in one batch request (Composite, or Collections before API 46) —
        # no In Progress Task, no later updates with the recording or analysis.
        self.assertEqual((self.sb.count("salesforce.upsert"),
                          self.sb.count("salesforce.collections_upsert") +
                          self.sb.count("salesforce.composite")), (3, 1),
                         self.sb.state().get("requests"))
        self.check_task(call)
        self.check_follow_ups(call["call_id"])
        self.check_transcript(call)


class SingleWriteNoWaitTest(SingleWriteRecordsTest):
    """single_write_wait_s = 0: the call log is written as the call ends; the recording and the
    analysis, arriving later, are added as updates — and the records read the same."""

    def extra_config(self, sb):
        return harness.merge_config(super().extra_config(sb),
                                    {"crm": {"single_write_wait_s": 0,
                                             # no gathering: the log goes as the call ends
                                             "batch_delay_ms": 0}})

    def test_task_follow_ups_and_transcript_read_well(self):
        call = self.recorded_call()
        # The log as the call ends, then at least one later update (the recording and the
        # analysis may share a Composite request).
        self.assertGreaterEqual(self.sb.count("salesforce.upsert") +
                                self.sb.count("salesforce.collections_upsert") +
                                self.sb.count("salesforce.composite"), 2,
                           self.sb.state().get("requests"))
        self.check_task(call)
        self.check_follow_ups(call["call_id"])
        self.check_transcript(call)


if __name__ == "__main__":
    unittest.main()
