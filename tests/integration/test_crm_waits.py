"""Waiting never spends a job's attempts (issue 11, problem 5): an exhausted Salesforce
daily allowance (403 REQUEST_LIMIT_EXCEEDED) and the budget governor's hold on low-priority
writes reschedule the job as "wait" (attempts given back, `waits` counted) however long they
last; /readyz stays 200 and says so, /metrics shows callbridge_crm_allowance_exhausted; once
the allowance refills the work is done. Runs with [workers] max_attempts = 3, so a job
charged for its waits would be dead long before the checks pass."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import wait_for  # noqa: E402
from test_salesforce import SalesforceCase  # noqa: E402

WAITS = 6  # more waits than max_attempts allows failures


class CrmWaitTest(SalesforceCase):
    salesforce = {"allowance_retry_s": 1}
    extra = {"workers": {"max_attempts": 3, "wait_max_ms": 300}}

    def job_row(self, job_id):
        state, attempts, waits, err = self.daemon.sql(
            "SELECT state, attempts, waits, coalesce(last_error, '') FROM jobs WHERE id = %d"
            % job_id)[0]
        return {"state": state, "attempts": int(attempts), "waits": int(waits),
                "last_error": err}

    def wait_many_waits(self, job_id):
        last = {}

        def waited():
            last.clear()
            last.update(self.job_row(job_id))
            self.assertNotEqual(last["state"], "dead", last)
            return last["waits"] >= WAITS and last
        return wait_for(waited, 60, "job %d to wait %d times" % (job_id, WAITS))

    def metrics(self):
        return self.daemon.get("/metrics", token=None).raw.decode()

    def test_exhausted_allowance_waits_then_logs(self):
        self.wait_connected()
        self.sb.control("salesforce/limits", {"used": 15000, "max": 15000})
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        job = self.log_job(cid)
        row = self.wait_many_waits(job)
        self.assertLessEqual(row["attempts"], 1, row)  # at most the one running now
        self.assertIn("REQUEST_LIMIT_EXCEEDED", row["last_error"])

        ready = self.daemon.get("/readyz", token=None)
        self.assertEqual(ready.status, 200, ready)  # calls are still accepted
        self.assertIn("allowance exhausted", ready.body["checks"]["salesforce"])
        self.assertIn("callbridge_crm_allowance_exhausted 1", self.metrics())
        self.assertRegex(self.metrics(), r'callbridge_jobs_waiting\{kind="crm.log_call"\} [1-9]')
        self.assertEqual(self.tasks_for(cid), [])

        self.sb.control("salesforce/limits", {"used": 0, "max": 15000})  # refilled
        self.wait_crm_state(cid, ("synced",))
        self.assertEqual(len(self.tasks_for(cid)), 1)
        self.assertEqual(self.daemon.job(job)["state"], "done")
        wait_for(lambda: "callbridge_crm_allowance_exhausted 0" in self.metrics(), 20,
                 "the allowance gauge back to 0")
        self.wait_connected()

    def test_budget_hold_waits_without_dying(self):
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        self.wait_crm_state(cid, ("synced",))
        self.sb.control("salesforce/limits", {"used": 14000, "max": 15000})
        # A high-priority write reads the header (before the low-priority one runs).
        self.wait_crm_state(self.daemon.initiate({"to": "+14155550123"}).body["call_id"],
                            ("synced",))
        job = self.daemon.insert_job("debug.crm_attach",
                                     {"fields": {"tags": ["Hot Lead"]}, "low_priority": True},
                                     call_id=cid)
        row = self.wait_many_waits(job)
        self.assertIn("above 80%", row["last_error"])
        self.assertNotIn("Callbridge_Tags__c", self.tasks_for(cid)[0])

        self.sb.control("salesforce/limits", {"used": 10, "max": 15000})
        self.daemon.initiate({"to": "+14155550124"})  # reads the lower usage
        self.daemon.wait_job_state(job, "done", timeout=30)
        self.assertEqual(self.tasks_for(cid)[0].get("Callbridge_Tags__c"), "Hot Lead")


if __name__ == "__main__":
    harness.main()
