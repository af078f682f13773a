"""One CRM runner, one Composite request (issue 17): the CRM jobs of every kind a worker claims
together — call logs, recording links and analyses, follow-up tasks — reach Salesforce as ONE
Composite request carrying sObject Collections (transcript parts, one Task per call with
everything merged and linked to its transcript by External ID, follow-up Tasks). The records
are those the one-by-one path writes; one bad record fails its own job only; a batch run twice
changes nothing; the API budget still holds low-priority fields back."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import wait_for  # noqa: E402
import test_crm_batch  # noqa: E402
from test_salesforce import SalesforceCase  # noqa: E402

SF_WRITES = ("salesforce.composite", "salesforce.collections_upsert", "salesforce.upsert")


def high_fields(cid):
    return {"recording_url": "https://cb.example/r/" + cid, "recording_seconds": 42,
            "recording_bytes": 1234, "transcript": "Hello, this is a demo call for " + cid,
            "sentiment": 0.5, "sentiment_label": "positive", "intent": "demo",
            "entities": [{"type": "money", "text": "$5,000", "value": "5000"}]}


def low_fields():
    return {"tags": ["Hot Lead", "Demo"], "keywords": ["pricing"], "summary": "A short summary."}


class CompositeCase(SalesforceCase):
    # One worker: the jobs released together are claimed together (one statement).
    extra = {"workers": {"threads": 1, "batch": 64}, "crm": {"batch_delay_ms": 0}}

    logged_calls = test_crm_batch.TestCrmBatch.logged_calls
    held_jobs = test_crm_batch.TestCrmBatch.held_jobs
    json = staticmethod(test_crm_batch.TestCrmBatch.json)
    release = test_crm_batch.TestCrmBatch.release
    followups = test_crm_batch.TestCrmBatch.followups

    def settled_calls(self, n):
        """`n` logged calls none of whose jobs is left (placed, logged after it): nothing of
        theirs moves while a scenario runs (there is no telephony to report on them)."""
        ids = [self.daemon.initiate({"to": "+14155550123"}).body["call_id"] for _ in range(n)]
        for cid in ids:
            wait_for(lambda cid=cid: self.daemon.sql_value(
                "SELECT count(*) FROM jobs WHERE call_id = '%s' AND state NOT IN ('done', 'dead')"
                % cid) == "0" and self.call_row(cid)["crm"]["state"] == "synced", 30,
                "call %s placed and logged" % cid)
        return ids

    def writes(self):
        return {k: self.sb.count(k) for k in SF_WRITES}

    def mixed_jobs(self, ids):
        """For each call: its log, a recording link and analysis (high), the analysis's tags
        (low) and a follow-up task; all held, released together."""
        jobs = []
        for cid in ids:
            jobs += self.held_jobs("crm.log_call", [(cid, {})])
            jobs += self.held_jobs("debug.crm_attach", [(cid, {"fields": high_fields(cid)})])
            jobs += self.held_jobs("debug.crm_attach", [(cid, {"fields": low_fields(),
                                                                "low_priority": True})])
            jobs += self.held_jobs("debug.crm_task", [(cid, {"key": cid + ":demo", "task": {
                "subject": "Demo for " + cid, "due_date": "2026-12-01", "priority": "High"}})])
        return jobs

    def parts(self, cid):
        return sorted((p for p in self.sb.records("Callbridge_Transcript__c")
                       if p.get("Call_Id__c") == cid), key=lambda p: p["Part__c"])

    def snapshot(self, cid):
        """The call's records, with what differs between two runs of one scenario (ids, dates,
        the call's id) replaced by names."""
        tasks, parts, follow = self.tasks_for(cid), self.parts(cid), self.followups(cid + ":demo")
        names = {r["Id"]: "%s#%d" % (kind, i)
                 for kind, recs in (("task", tasks), ("part", parts), ("followup", follow))
                 for i, r in enumerate(recs)}

        def norm(rec):
            out = {}
            for k, v in rec.items():
                # CallObject: the call's Twilio sid (another call, another sid).
                if k in ("Id", "CreatedDate", "LastModifiedDate", "attributes", "CallObject"):
                    continue
                if isinstance(v, str):
                    v = names.get(v, v).replace(cid, "CID")
                out[k] = v
            return out
        return {"tasks": [norm(t) for t in tasks], "parts": [norm(p) for p in parts],
                "followups": [norm(f) for f in follow]}


class TestCrmComposite(CompositeCase):
    runs = 1  # composites a batch of successes sends

    def test_a_mixed_batch_is_one_composite_request(self):
        ids = self.logged_calls(3)
        jobs = self.mixed_jobs(ids)
        before = self.writes()
        self.release(jobs)
        self.assertEqual([self.daemon.job(j)["state"] for j in jobs], ["done"] * len(jobs))
        after = self.writes()
        self.assertEqual(after["salesforce.composite"], before["salesforce.composite"] + self.runs)
        self.assertEqual(after["salesforce.collections_upsert"],
                         before["salesforce.collections_upsert"])
        self.assertEqual(after["salesforce.upsert"], before["salesforce.upsert"])
        for cid in ids:
            tasks, parts = self.tasks_for(cid), self.parts(cid)
            self.assertEqual(len(tasks), 1, tasks)
            t = tasks[0]
            self.assertEqual(self.call_row(cid)["crm"]["log_id"], t["Id"])
            self.assertEqual(t["Callbridge_Recording_URL__c"], "https://cb.example/r/" + cid)
            self.assertEqual((t["Callbridge_Sentiment__c"], t["Callbridge_Intent__c"]),
                             (0.5, "demo"))
            self.assertEqual(t["Callbridge_Tags__c"], "Hot Lead; Demo")
            self.assertIn("A short summary.", t["Description"])
            self.assertEqual([p["Part__c"] for p in parts], [1])
            self.assertEqual(t["Callbridge_Transcript__c"], parts[0]["Id"])  # linked by key
            self.assertEqual(parts[0]["Task__c"], t["Id"])
            follow = self.followups(cid + ":demo")
            self.assertEqual([(f["Subject"], f["Priority"]) for f in follow],
                             [("Demo for " + cid, "High")])

    def test_records_are_those_of_the_one_by_one_path(self):
        ids = self.settled_calls(2)
        self.release(self.mixed_jobs(ids))
        composite = [self.snapshot(cid) for cid in ids]
        # The same scenario through a daemon whose API version predates Collections: one
        # request per record (sObject Rows by External ID).
        d = self.start_daemon(harness.merge_config(
            self.sb.daemon_config(api_version="v45.0"), self.extra))
        self.daemon, first = d, self.daemon
        try:
            before = self.writes()
            ids2 = self.settled_calls(2)
            self.release(self.mixed_jobs(ids2))
            after = self.writes()
            self.assertEqual(after["salesforce.composite"], before["salesforce.composite"])
            self.assertGreater(after["salesforce.upsert"], before["salesforce.upsert"])
            single = [self.snapshot(cid) for cid in ids2]
        finally:
            self.daemon = first
        self.maxDiff = None
        self.assertEqual(composite, single)

    def test_one_bad_record_fails_its_own_job_only(self):
        ids = self.logged_calls(3)
        # Two transcript parts already hold call 0's first key: its part cannot be written
        # (DUPLICATE_EXTERNAL_ID) and the link to it names more than one record.
        dup = {"Callbridge_Key__c": ids[0] + ":1", "Call_Id__c": "someone else"}
        self.sb.seed({"Callbridge_Transcript__c": [dict(dup, Id="a0X00000000DUP1AAA"),
                                                   dict(dup, Id="a0X00000000DUP2AAA")]})
        jobs = self.mixed_jobs(ids)
        tasks = [(ids[1], {"key": ids[1] + ":long", "task": {"subject": "x" * 300}})]
        jobs += self.held_jobs("debug.crm_task", tasks)
        before = self.sb.count("salesforce.composite")
        self.release(jobs)
        states = [self.daemon.job(j) for j in jobs]
        bad = {jobs[1]: "DUPLICATE_EXTERNAL_ID", jobs[-1]: "STRING_TOO_LONG"}
        for j, s in zip(jobs, states):
            self.assertEqual(s["state"], "dead" if j in bad else "done", (j, s))
            if j in bad:
                self.assertEqual(s["attempts"], 1)
                self.assertIn(bad[j], s["last_error"])
        # One composite, and a second for the records sent again without what was refused.
        self.assertEqual(self.sb.count("salesforce.composite"), before + 2)
        # Call 0's Task holds its log and its other fields, without the link.
        t = self.tasks_for(ids[0])
        self.assertEqual(len(t), 1, t)
        self.assertEqual(t[0]["Callbridge_Tags__c"], "Hot Lead; Demo")
        self.assertNotIn("Callbridge_Transcript__c", t[0])
        self.assertEqual(self.call_row(ids[0])["crm"]["log_id"], t[0]["Id"])
        self.assertEqual(self.followups(ids[1] + ":long"), [])
        for cid in ids[1:]:
            self.assertEqual(self.tasks_for(cid)[0]["Callbridge_Transcript__c"],
                             self.parts(cid)[0]["Id"])

    def test_the_budget_still_holds_low_priority_fields(self):
        ids = self.settled_calls(2)
        self.sb.control("salesforce/limits", {"used": 14000, "max": 15000})
        # A high-priority write reads the header (before the batch runs).
        self.settled_calls(1)
        jobs = self.mixed_jobs(ids)
        before = self.sb.count("salesforce.composite")
        self.daemon.sql("UPDATE jobs SET available_at = now() WHERE id IN (%s)"
                        % ",".join(map(str, jobs)))
        self.daemon.sql("NOTIFY cb_jobs")
        low = jobs[2::4]
        for j in jobs:
            if j in low:
                wait_for(lambda j=j: "above 80%" in self.daemon.job(j)["last_error"], 20,
                         "the low-priority write to wait")
            else:
                self.daemon.wait_job_state(j, "done", timeout=30)
        self.assertEqual(self.sb.count("salesforce.composite"), before + 1)
        for cid in ids:
            t = self.tasks_for(cid)[0]
            self.assertNotIn("Callbridge_Tags__c", t)
            self.assertEqual(t["Callbridge_Intent__c"], "demo")


class TestCrmCompositeRunTwice(TestCrmComposite):
    """Every batch runs twice (idempotency): the same records, one per key and per call."""

    extra = {"workers": {"threads": 1, "batch": 64, "debug_run_twice": True},
             "crm": {"batch_delay_ms": 0}}
    runs = 2

    def test_one_bad_record_fails_its_own_job_only(self):
        pass  # the bad jobs fail on their first run: the same as TestCrmComposite's

    def test_the_budget_still_holds_low_priority_fields(self):
        pass  # held jobs do not run twice


if __name__ == "__main__":
    unittest.main()
