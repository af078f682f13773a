"""CRM writes of many jobs in one request (issue 17): the jobs of a kind with a batch runner
that one worker claims together go to Salesforce as one sObject Collections upsert, each job
with its own outcome — one bad record never fails or repeats the others, a batch run again
adds nothing, and a recently looked-up number is not searched again."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import wait_for  # noqa: E402
from test_salesforce import CONTACT, SalesforceCase  # noqa: E402


class TestCrmBatch(SalesforceCase):
    # One worker: the jobs released together are claimed together (one statement).
    extra = {"workers": {"threads": 1, "batch": 16}, "crm": {"batch_delay_ms": 0}}
    runs = 1  # requests a batch of successes makes

    def logged_calls(self, n):
        ids = [self.daemon.initiate({"to": "+14155550123"}).body["call_id"] for _ in range(n)]
        for cid in ids:
            self.wait_crm_state(cid, ("synced",))
        return ids

    def held_jobs(self, kind, jobs):
        """Insert (call_id, payload) jobs not yet available, so none runs before the others."""
        return [int(self.daemon.sql_value(
            "INSERT INTO jobs (kind, call_id, payload, available_at) VALUES ('%s', '%s', '%s', "
            "now() + interval '1 hour') RETURNING id"
            % (kind, cid, self.json(payload)))) for cid, payload in jobs]

    @staticmethod
    def json(payload):
        import json
        return json.dumps(payload).replace("'", "''")

    def release(self, ids):
        self.daemon.sql("UPDATE jobs SET state = 'queued', available_at = now(), "
                        "finished_at = NULL WHERE id IN (%s)" % ",".join(map(str, ids)))
        self.daemon.sql("NOTIFY cb_jobs")
        for j in ids:
            self.daemon.wait_job_state(j, ("done", "dead"), timeout=30)

    def followups(self, key):
        return [t for t in self.sb.records("Task") if t.get("Callbridge_Followup_Key__c") == key]

    def test_one_bad_record_fails_alone(self):
        ids = self.logged_calls(4)
        tasks = [(cid, {"key": cid + ":demo", "task": {"subject": "Demo %d" % i}})
                 for i, cid in enumerate(ids)]
        tasks[1][1]["task"]["subject"] = "x" * 300  # Task.Subject holds 255: refused
        jobs = self.held_jobs("debug.crm_task", tasks)
        before = self.sb.count("salesforce.composite")
        self.release(jobs)
        # Four jobs of four calls: one request.
        self.assertEqual(self.sb.count("salesforce.composite"), before + 1)
        states = [self.daemon.job(j) for j in jobs]
        self.assertEqual([s["state"] for s in states], ["done", "dead", "done", "done"], states)
        self.assertEqual(states[1]["attempts"], 1)  # a refused record is not tried again
        self.assertIn("STRING_TOO_LONG", states[1]["last_error"])
        for i, cid in enumerate(ids):
            self.assertEqual(len(self.followups(cid + ":demo")), 0 if i == 1 else 1, i)
        # The good jobs run again together: still one task each, updated in place.
        first = {cid: self.followups(cid + ":demo")[0]["Id"] for cid in ids if cid != ids[1]}
        self.release([j for i, j in enumerate(jobs) if i != 1])
        self.assertEqual(self.sb.count("salesforce.composite"), before + 2)
        for cid, task_id in first.items():
            found = self.followups(cid + ":demo")
            self.assertEqual([t["Id"] for t in found], [task_id])
            self.assertEqual(found[0]["WhoId"], CONTACT["Id"])

    def test_call_logs_of_several_calls_in_one_request(self):
        ids = self.logged_calls(3)
        # Three calls to one number: the lookup was cached after the first.
        self.assertEqual(self.sb.count("salesforce.search"), 1)
        jobs = self.held_jobs("crm.log_call", [(cid, {}) for cid in ids] + [(ids[0], {})])
        before = self.sb.count("salesforce.composite")
        self.release(jobs)
        self.assertEqual(self.sb.count("salesforce.composite"), before + self.runs)
        self.assertEqual([self.daemon.job(j)["state"] for j in jobs], ["done"] * 4)
        for cid in ids:
            found = self.tasks_for(cid)
            self.assertEqual(len(found), 1, found)
            self.assertEqual(self.call_row(cid)["crm"]["log_id"], found[0]["Id"])
        self.assertEqual(self.sb.count("salesforce.search"), 1)


class TestCrmBatchRunTwice(TestCrmBatch):
    """Every batch runs twice (idempotency): still one record per key and per call."""

    extra = {"workers": {"threads": 1, "batch": 16, "debug_run_twice": True},
             "crm": {"batch_delay_ms": 0}}
    runs = 2

    def test_one_bad_record_fails_alone(self):
        ids = self.logged_calls(2)
        jobs = self.held_jobs("debug.crm_task", [
            (cid, {"key": cid + ":demo", "task": {"subject": "Demo"}}) for cid in ids])
        self.release(jobs)
        self.assertEqual([self.daemon.job(j)["state"] for j in jobs], ["done"] * 2)
        for cid in ids:
            self.assertEqual(len(self.followups(cid + ":demo")), 1)
            self.assertEqual(len(self.tasks_for(cid)), 1)


if __name__ == "__main__":
    unittest.main()
