"""Salesforce through the sandbox: OAuth, the call log upserted exactly once, schema drift,
the screen-pop lookup and its Redis cache, Salesforce sessions as softphone credentials."""

import os
import subprocess
import sys
import threading
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import DaemonTestCase, wait_for  # noqa: E402
from sfstack import USERNAME, Sandbox, forget_salesforce_token  # noqa: E402

CONTACT = {"Id": "003000000000001AAA", "FirstName": "Ada", "LastName": "Lovelace",
           "Phone": "(415) 555-0123", "LastModifiedDate": "2026-11-01T10:00:00.000+0000"}


class SalesforceCase(DaemonTestCase):
    """A sandbox per test and a daemon logging to it."""

    autostart = False
    salesforce = {}
    extra = {}

    def setUp(self):
        self.sb = Sandbox().start()
        self.addCleanup(self.sb.close_checked, self)
        self.sb.seed({"Contact": [CONTACT]})
        overrides = harness.merge_config(self.sb.daemon_config(**self.salesforce), self.extra)
        self.daemon = self.start_daemon(overrides)

    def start_daemon(self, overrides, **kw):
        d = self.new_daemon(overrides, **kw)
        d.migrate()
        d.token = d.apikey(self.agent)
        d.start()
        return d

    def sf_health(self, d=None):
        r = (d or self.daemon).get("/readyz", token=None)
        return r.body["checks"].get("salesforce", "")

    def wait_connected(self, d=None):
        wait_for(lambda: self.sf_health(d) == "ok", 20, "salesforce ok in /readyz")

    def lookup(self, phone, d=None):
        r = (d or self.daemon).get("/api/lookup?phone=" + urllib.parse.quote(phone))
        self.assertEqual(r.status, 200, r)
        return r.body

    def call_row(self, call_id, d=None):
        r = (d or self.daemon).get("/api/calls/" + call_id)
        self.assertEqual(r.status, 200, r)
        return r.body

    def wait_crm_state(self, call_id, states, d=None):
        def check():
            c = self.call_row(call_id, d)
            return c["crm"]["state"] in states and c
        return wait_for(check, 30, "call %s crm state in %s" % (call_id, states))

    def log_job(self, call_id, d=None):
        return int((d or self.daemon).sql_value(
            "SELECT id FROM jobs WHERE kind = 'crm.log_call' AND call_id = '%s'" % call_id))

    def tasks_for(self, call_id):
        return [t for t in self.sb.records("Task") if t.get("Callbridge_Call_Id__c") == call_id]


class TestAuth(SalesforceCase):
    def test_jwt_accepted_once_and_shared(self):
        self.wait_connected()
        self.assertEqual(self.sb.count("salesforce.token"), 1)
        # A second instance of the same org finds the token in Redis.
        other = self.start_daemon(harness.merge_config(self.sb.daemon_config(), {}),
                                  db=self.daemon.db)
        self.wait_connected(other)
        self.assertEqual(self.sb.count("salesforce.token"), 1)

    def test_token_expired_exactly_one_refresh(self):
        self.wait_connected()
        self.assertEqual(self.sb.count("salesforce.token"), 1)
        self.sb.expire_tokens()
        numbers = ["+1415555%04d" % (200 + i) for i in range(6)]
        results = {}

        def one(n):
            results[n] = self.daemon.get("/api/lookup?phone=" + urllib.parse.quote(n)).status
        threads = [threading.Thread(target=one, args=(n,)) for n in numbers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(set(results.values()), {200}, results)
        self.assertEqual(self.sb.count("salesforce.token"), 2)

    def test_wrong_key_is_invalid_grant_without_storm(self):
        # A key the sandbox's certificate does not match: every assertion is refused.
        bad = os.path.join(self.sb.dir, "other-key.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", bad], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.chmod(bad, 0o644)
        self.daemon.stop()
        forget_salesforce_token(self.daemon.redis_url, self.sb.key_prefix)
        d = self.start_daemon(self.sb.daemon_config(private_key_file=bad))
        wait_for(lambda: self.sf_health(d).startswith("auth failed: invalid_grant"), 20,
                 "invalid_grant in /readyz")
        self.assertEqual(d.get("/readyz", token=None).status, 200)  # still accepting calls
        refused = self.sb.count("salesforce.token")
        ids = [d.initiate({"to": "+1415555%04d" % (300 + i)}).body["call_id"]
               for i in range(5)]
        for cid in ids:
            job = self.log_job(cid, d)
            wait_for(lambda: "invalid_grant" in d.job(job)["last_error"], 20,
                     "the job reports invalid_grant")
        # Five failing jobs asked nothing more of the token endpoint (the pause holds).
        self.assertLessEqual(self.sb.count("salesforce.token"), refused + 1)
        metrics = d.get("/metrics", token=None).raw.decode()
        self.assertIn("callbridge_salesforce_auth_ok 0", metrics)


class TestCallLog(SalesforceCase):
    def run_job_again(self, job_id, d=None):
        d = d or self.daemon
        before = d.job(job_id)["attempts"]
        d.sql("UPDATE jobs SET state = 'queued', available_at = now(), finished_at = NULL "
              "WHERE id = %d" % job_id)
        d.sql("NOTIFY cb_jobs")
        wait_for(lambda: d.job(job_id)["state"] == "done" and
                 d.job(job_id)["attempts"] > before, 20, "job %d to run again" % job_id)

    def test_one_task_however_often_the_job_runs(self):
        r = self.daemon.initiate({"to": "+14155550123"})
        self.assertEqual(r.status, 202, r)
        cid = r.body["call_id"]
        call = self.wait_crm_state(cid, ("synced",))
        job = self.log_job(cid)
        self.run_job_again(job)
        self.run_job_again(job)
        tasks = self.tasks_for(cid)
        self.assertEqual(len(tasks), 1, tasks)
        t = tasks[0]
        self.assertEqual(call["crm"]["log_id"], t["Id"])
        self.assertEqual(t["TaskSubtype"], "Call")
        self.assertEqual(t["CallType"], "Outbound")
        self.assertEqual(t["Status"], "In Progress")
        self.assertEqual(t["WhoId"], CONTACT["Id"])  # linked by the phone lookup
        self.assertEqual(call["crm_record_id"], CONTACT["Id"])
        self.assertEqual(self.daemon.job(job)["attempts"], 3)
        # Each run one request: an upsert, a Collections upsert or a Composite request of the
        # jobs run together.
        self.assertEqual(self.sb.count("salesforce.upsert") +
                         self.sb.count("salesforce.collections_upsert") +
                         self.sb.count("salesforce.composite"), 3)

    def test_invalid_field_redescribes_and_writes_without_it(self):
        self.wait_connected()  # the daemon has described Task with CallObject in it
        self.sb.control("salesforce/schema", {"Task": {"drop": ["CallObject"]}})
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        # The refused write describes Task again and is written without the field, in
        # the same run: one attempt, never dead for a schema change (issue 11, problem 5).
        job = self.daemon.wait_job_state(self.log_job(cid), ("done", "dead"), timeout=30)
        self.assertEqual((job["state"], job["attempts"]), ("done", 1), job)
        self.assertEqual(self.call_row(cid)["crm"]["state"], "synced")
        tasks = self.tasks_for(cid)
        self.assertEqual(len(tasks), 1, tasks)
        self.assertNotIn("CallObject", tasks[0])
        # Later calls skip the field from the start.
        cid2 = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        self.wait_crm_state(cid2, ("synced",))
        self.assertEqual(len(self.tasks_for(cid2)), 1)
        self.assertIn("CallObject", self.sf_health())

    def test_duplicate_external_ids_are_a_permanent_300(self):
        self.wait_connected()
        self.sb.faults(error_rate=1.0)
        cid = self.daemon.initiate({"to": "+14155550199"}).body["call_id"]
        job = self.log_job(cid)
        wait_for(lambda: self.daemon.job(job)["attempts"] >= 1, 20, "first failed attempt")
        dup = {"Subject": "dup", "Callbridge_Call_Id__c": cid}
        self.sb.seed({"Task": [dict(dup, Id="00T000000000001AAA"),
                               dict(dup, Id="00T000000000002AAA")]})
        self.sb.faults(error_rate=0.0)
        dead = self.daemon.wait_job_state(job, "dead", timeout=30)
        # A single upsert answers 300; a Collections upsert DUPLICATE_EXTERNAL_ID.
        self.assertRegex(dead["last_error"], "300|DUPLICATE_EXTERNAL_ID")
        self.assertEqual(len(self.tasks_for(cid)), 2)  # nothing added

    def test_initiate_links_cached_lookup(self):
        self.assertEqual(len(self.lookup("415-555-0123")["matches"]), 1)
        r = self.daemon.initiate({"to": "+1 415 555 0123"})
        self.assertEqual(r.status, 202, r)
        rec = r.body["crm_record"]
        self.assertEqual(rec["id"], CONTACT["Id"])
        self.assertEqual(rec["type"], "Contact")


class TestWriteBack(SalesforceCase):
    """attach and create_task, driven through the debug job kinds until their callers land."""

    def crm_job(self, kind, call_id, payload):
        return self.daemon.insert_job(kind, payload, call_id=call_id)

    def logged_call(self):
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        self.wait_crm_state(cid, ("synced",))
        return cid

    def test_attach_lands_on_the_one_task(self):
        cid = self.logged_call()
        text = "Zoë asked about pricing. " * 3000  # ~75 kB: three transcript parts
        fields = {"recording_url": "https://cb.example.com/r/abc", "recording_seconds": 93,
                  "sentiment": 1.7, "sentiment_label": "positive", "intent": "pricing",
                  "tags": ["Hot Lead"] + ["tag%03d" % i for i in range(100)],
                  "summary": "x" * 400, "transcript": text}
        for _ in range(2):  # twice: nothing is added the second time
            job = self.crm_job("debug.crm_attach", cid, {"fields": fields})
            self.daemon.wait_job_state(job, "done")
        tasks = self.tasks_for(cid)
        self.assertEqual(len(tasks), 1)
        t = tasks[0]
        self.assertEqual(t["Callbridge_Recording_URL__c"], "https://cb.example.com/r/abc")
        self.assertEqual(t["Callbridge_Sentiment__c"], 1)  # clamped
        self.assertTrue(t["Callbridge_Tags__c"].startswith("Hot Lead; tag000"))
        self.assertLessEqual(len(t["Callbridge_Tags__c"]), 255)
        self.assertFalse(t["Callbridge_Tags__c"].endswith("; "))
        self.assertEqual(len(t["Callbridge_Summary__c"]), 255)
        parts = sorted((p for p in self.sb.records("Callbridge_Transcript__c")
                        if p.get("Call_Id__c") == cid), key=lambda p: p["Part__c"])
        self.assertEqual([p["Part__c"] for p in parts], [1, 2, 3])
        self.assertEqual("".join(p["Text__c"] for p in parts), text)
        self.assertTrue(all(p["Task__c"] == t["Id"] for p in parts))

    def test_low_priority_waits_over_the_api_budget(self):
        cid = self.logged_call()
        self.sb.control("salesforce/limits", {"used": 14000, "max": 15000})
        # A high-priority write reads the header (before the low-priority one runs).
        self.wait_crm_state(self.daemon.initiate({"to": "+14155550123"}).body["call_id"],
                            ("synced",))
        job = self.crm_job("debug.crm_attach", cid,
                           {"fields": {"tags": ["Hot Lead"]}, "low_priority": True})
        wait_for(lambda: "above 80%" in self.daemon.job(job)["last_error"], 20,
                 "the low-priority write to wait")
        self.assertNotIn("Callbridge_Tags__c", self.tasks_for(cid)[0])
        metrics = self.daemon.get("/metrics", token=None).raw.decode()
        self.assertRegex(metrics, r"callbridge_salesforce_api_usage 140\d\d")

    def test_follow_up_task_once_per_key(self):
        cid = self.logged_call()
        task = {"subject": "Schedule demo", "due_date": "2026-12-01"}
        for _ in range(3):
            job = self.crm_job("debug.crm_task", cid, {"key": cid + ":demo", "task": task})
            self.daemon.wait_job_state(job, "done")
        tasks = [t for t in self.sb.records("Task")
                 if t.get("Callbridge_Followup_Key__c") == cid + ":demo"]
        self.assertEqual(len(tasks), 1, tasks)
        self.assertEqual((tasks[0]["Subject"], tasks[0]["ActivityDate"], tasks[0]["WhoId"]),
                         ("Schedule demo", "2026-12-01", CONTACT["Id"]))


class TestSingleWrite(SalesforceCase):
    salesforce = {"write_mode": "single"}

    def test_nothing_written_before_the_call_ends(self):
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        self.daemon.wait_job_state(self.log_job(cid), "done")
        self.assertEqual(self.call_row(cid)["crm"]["state"], "pending")
        self.assertEqual(self.tasks_for(cid), [])


class TestUnknownCreatesLead(SalesforceCase):
    salesforce = {"unknown": "create_lead"}

    def test_one_lead_per_unknown_number(self):
        ids = [self.daemon.initiate({"to": "+14155550777"}).body["call_id"] for _ in range(2)]
        for cid in ids:
            self.wait_crm_state(cid, ("synced",))
        leads = [l for l in self.sb.records("Lead")
                 if l.get("Callbridge_Phone__c") == "+14155550777"]
        self.assertEqual(len(leads), 1, leads)
        for cid in ids:
            self.assertEqual(self.call_row(cid)["crm_record_id"], leads[0]["Id"])
            self.assertEqual(self.tasks_for(cid)[0]["WhoId"], leads[0]["Id"])


class TestSessionAuth(SalesforceCase):
    salesforce = {"session_auth": True}

    def test_salesforce_session_is_an_agent(self):
        self.wait_connected()
        tok = self.sb.control("salesforce/session", {"username": USERNAME})
        bearer = tok["access_token"]
        for _ in range(2):
            r = self.daemon.get("/api/calls", token=bearer)
            self.assertEqual(r.status, 200, r)
        self.assertEqual(self.sb.count("salesforce.userinfo"), 1)  # cached
        r = self.daemon.initiate({"to": "+14155550123"}, token=bearer)
        self.assertEqual(r.status, 202, r)
        call = self.daemon.get("/api/calls/" + r.body["call_id"], token=bearer)
        self.assertEqual(call.body["agent"], USERNAME)
        # Salesforce sessions are never admins: alice's call is not theirs to see.
        mine = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        self.assertError(self.daemon.get("/api/calls/" + mine, token=bearer), 404, "not_found")
        self.assertError(self.daemon.get("/api/calls", token="00Dbogus!token"), 401,
                         "unauthorized")


if __name__ == "__main__":
    harness.main()
