"""HubSpot through the sandbox (issue 16): private app and OAuth auth (shared token, one refresh
on expiry, refusals in /readyz), the screen-pop lookup over the phone formats contacts and
companies store, the multi-match and unknown-caller policies, one call object per call however
often its job runs and under faults, its association, attach (recording, analysis, transcript
note), follow-up tasks once per key, the 10-second budget (429: jobs wait, attempts are not
spent) and the low-priority hold, schema drift, and `callbridge crm setup|check`."""

import os
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import wait_for  # noqa: E402
from hsstack import OWNER, PORTAL, TOKEN, HubSpotCase  # noqa: E402
from test_hubspot_e2e import CONTACT as E2E_CONTACT  # noqa: E402
from test_hubspot_e2e import HubSpotE2ECase, HubSpotTwilioStack  # noqa: E402

ADA = {"id": "501", "properties": {"firstname": "Ada", "lastname": "Lovelace",
                                   "company": "Analytical", "phone": "(415) 555-0123"}}
MOBILE = {"id": "502", "properties": {"firstname": "Bo", "lastname": "Mobile",
                                      "mobilephone": "+1 415 555 0124"}}
DOTTED = {"id": "503", "properties": {"firstname": "Cy", "lastname": "Dotted",
                                      "phone": "415.555.0125"}}
ACME = {"id": "901", "properties": {"name": "Acme", "phone": "+1 212-555-0199"}}
ADA_URL = "https://app.hubspot.test/contacts/%d/record/0-1/501" % PORTAL


class TestAuth(HubSpotCase):
    contacts = [ADA]

    def test_private_app_connects(self):
        self.wait_connected()
        r = self.daemon.get("/readyz", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertRegex(self.metrics(), r"callbridge_hubspot_auth_ok 1")

    def test_private_app_refused_is_reported(self):
        self.daemon.stop()
        d = self.start_daemon(self.config_for(access_token_file=self.sb.files["wrong"]))
        wait_for(lambda: self.health(d).startswith("auth failed: INVALID_AUTHENTICATION"), 20,
                 "the refused token in /readyz")
        self.assertEqual(d.get("/readyz", token=None).status, 200)  # calls still accepted
        self.assertIn("callbridge_hubspot_auth_ok 0", self.metrics(d))
        r = d.get("/api/lookup?phone=%2B14155550123")
        self.assertNotEqual(r.status, 200, r)

    def test_oauth_token_shared_between_instances(self):
        self.daemon.stop()
        d = self.start_daemon(self.config_for(auth="oauth"))
        self.wait_connected(d)
        self.assertEqual(self.sb.count("POST", "/oauth/v1/token"), 1)
        other = self.start_daemon(self.config_for(auth="oauth"), db=d.db)
        self.wait_connected(other)
        self.assertEqual(len(self.lookup("+14155550123", other)["matches"]), 1)
        self.assertEqual(self.sb.count("POST", "/oauth/v1/token"), 1)

    def test_oauth_expired_exactly_one_refresh(self):
        self.daemon.stop()
        d = self.start_daemon(self.config_for(auth="oauth"))
        self.wait_connected(d)
        self.assertEqual(self.sb.count("POST", "/oauth/v1/token"), 1)
        self.sb.expire_tokens()
        numbers = ["+1415555%04d" % (200 + i) for i in range(6)]
        results = {}

        def one(n):
            results[n] = d.get("/api/lookup?phone=" + urllib.parse.quote(n)).status
        threads = [threading.Thread(target=one, args=(n,)) for n in numbers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(set(results.values()), {200}, results)
        self.assertEqual(self.sb.count("POST", "/oauth/v1/token"), 2)

    def test_bad_refresh_token_is_reported(self):
        self.daemon.stop()
        d = self.start_daemon(self.config_for(auth="oauth",
                                              refresh_token_file=self.sb.files["bad-refresh"]))
        wait_for(lambda: self.health(d).startswith("auth failed: BAD_REFRESH_TOKEN"), 20,
                 "BAD_REFRESH_TOKEN in /readyz")
        self.assertEqual(d.get("/readyz", token=None).status, 200)


class TestLookup(HubSpotCase):
    contacts = [ADA, MOBILE, DOTTED]
    companies = [ACME]

    def test_stored_formats(self):
        m = self.lookup("+14155550123")["matches"]
        self.assertEqual(len(m), 1, m)
        self.assertEqual((m[0]["type"], m[0]["id"], m[0]["name"], m[0]["company"], m[0]["url"]),
                         ("Contact", "501", "Ada Lovelace", "Analytical", ADA_URL))
        self.assertTrue(m[0]["last_modified"])
        for phone, kind, rid in (("415-555-0124", "Contact", "502"),
                                 ("+1 (415) 555-0125", "Contact", "503"),
                                 ("(212) 555-0199", "Company", "901")):
            m = self.lookup(phone)["matches"]
            self.assertEqual([(x["type"], x["id"]) for x in m], [(kind, rid)], phone)
        self.assertEqual(self.lookup("+14155550999")["matches"], [])

    def test_cached_and_paced(self):
        self.lookup("+14155550123")
        searches = self.sb.count("POST", "/crm/v3/objects/contacts/search")
        self.assertTrue(self.lookup("+14155550123")["cached"])
        self.assertEqual(self.sb.count("POST", "/crm/v3/objects/contacts/search"), searches)
        # Twelve numbers at once: the pacer keeps under the sandbox's 5 searches a second, so
        # none is refused.
        results = {}

        def one(n):
            results[n] = self.daemon.get("/api/lookup?phone=" + urllib.parse.quote(n)).status
        threads = [threading.Thread(target=one, args=("+1415555%04d" % (300 + i),))
                   for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(set(results.values()), {200}, results)


class TestMultiMatch(HubSpotCase):
    contacts = [ADA, dict(ADA, id="504", properties={"firstname": "Ada", "lastname": "Twin",
                                                     "phone": "+14155550123"})]
    hubspot = {}
    extra = {"crm": {"multi_match": "all"}}

    def test_all_newest_first(self):
        # 501 edited after 504 was made: it is the newest.
        r = self.sb.api("PATCH", "/crm/v3/objects/contacts/501",
                        {"properties": {"jobtitle": "Countess"}})
        self.assertEqual(r.status, 200, r)
        m = self.lookup("+14155550123")["matches"]
        self.assertEqual([x["id"] for x in m], ["501", "504"])
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        call = self.wait_crm_state(cid, ("synced",))
        self.assertEqual(call["crm_record_id"], "501")  # linked to the most recent


class TestMultiMatchNone(HubSpotCase):
    contacts = TestMultiMatch.contacts
    extra = {"crm": {"multi_match": "none"}}

    def test_several_link_nothing(self):
        self.assertEqual(self.lookup("+14155550123")["matches"], [])
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        call = self.wait_crm_state(cid, ("synced",))
        self.assertIsNone(call["crm_record_id"])
        self.assertEqual(self.sb.associations("calls", call["crm"]["log_id"]), [])


class TestUnknownCreatesContact(HubSpotCase):
    extra = {"crm": {"unknown": "create_lead"}}

    def test_one_contact_per_unknown_number(self):
        ids = [self.daemon.initiate({"to": "+14155550777"}).body["call_id"] for _ in range(2)]
        for cid in ids:
            self.wait_crm_state(cid, ("synced",))
        made = self.sb.by_prop("contacts", "callbridge_phone", "+14155550777")
        self.assertEqual(len(made), 1, made)
        contact = made[0]
        self.assertEqual(contact["properties"]["phone"], "+14155550777")
        self.assertEqual(contact["properties"]["firstname"], "Unknown caller")
        self.assertNotIn("5550777", contact["properties"]["lastname"])  # masked
        for cid in ids:
            call = self.call_row(cid)
            self.assertEqual(call["crm_record_id"], contact["id"])
            assoc = self.sb.associations("calls", call["crm"]["log_id"])
            self.assertEqual([(a["to_type"], str(a["to_id"]), a["type_id"]) for a in assoc],
                             [("contacts", contact["id"], 194)])


class TestCallLog(HubSpotCase):
    contacts = [ADA]

    def run_job_again(self, job_id):
        before = self.daemon.job(job_id)["attempts"]
        self.daemon.sql("UPDATE jobs SET state = 'queued', available_at = now(), "
                        "finished_at = NULL WHERE id = %d" % job_id)
        self.daemon.sql("NOTIFY cb_jobs")
        wait_for(lambda: self.daemon.job(job_id)["state"] == "done" and
                 self.daemon.job(job_id)["attempts"] > before, 20, "job %d to run again" % job_id)

    def test_one_call_object_however_often_the_job_runs(self):
        self.set_owner("alice", OWNER["id"])
        r = self.daemon.initiate({"to": "+14155550123"})
        self.assertEqual(r.status, 202, r)
        cid = r.body["call_id"]
        call = self.wait_crm_state(cid, ("synced",))
        job = self.log_job(cid)
        self.run_job_again(job)
        self.run_job_again(job)
        objs = self.calls_for(cid)
        self.assertEqual(len(objs), 1, objs)
        p = objs[0]["properties"]
        self.assertEqual(call["crm"]["log_id"], objs[0]["id"])
        self.assertEqual(call["crm_record_id"], "501")
        self.assertEqual(p["hs_call_direction"], "OUTBOUND")
        self.assertEqual(p["hs_call_to_number"], "+14155550123")
        self.assertTrue(p["hs_call_title"].startswith("Call with Ada Lovelace"), p)
        self.assertIn("Call id: %s" % cid, p["hs_call_body"])
        self.assertTrue(p["hs_timestamp"])
        self.assertEqual(p["hubspot_owner_id"], OWNER["id"])
        assoc = self.sb.associations("calls", objs[0]["id"])
        self.assertEqual([(a["to_type"], str(a["to_id"]), a["type_id"]) for a in assoc],
                         [("contacts", "501", 194)])
        self.assertEqual(self.sb.count("POST", "/crm/v3/objects/calls/batch/upsert"), 3)

    def test_schema_drift_skips_and_reports(self):
        self.wait_connected()
        self.sb.drop("calls", "hs_call_body")
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        # The refused write reads the properties again and writes without the one gone, in
        # the same run: one attempt, never dead for a schema change.
        job = self.daemon.wait_job_state(self.log_job(cid), ("done", "dead"), timeout=30)
        self.assertEqual((job["state"], job["attempts"]), ("done", 1), job)
        objs = self.calls_for(cid)
        self.assertEqual(len(objs), 1, objs)
        self.assertNotIn("hs_call_body", objs[0]["properties"])
        self.assertTrue(objs[0]["properties"]["hs_call_title"])  # the rest is written
        self.assertIn("hs_call_body", self.health())
        self.assertTrue(self.health().startswith("ok; missing properties skipped"))
        cid2 = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        self.wait_crm_state(cid2, ("synced",))
        self.assertEqual(len(self.calls_for(cid2)), 1)

    def test_budget_429_waits_without_spending_attempts(self):
        self.wait_connected()
        self.sb.limits(max_per_10s=1)
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        job = self.log_job(cid)

        def waited():
            row = self.job_row(job)
            self.assertNotEqual(row["state"], "dead", row)
            return row["waits"] >= 1 and row
        row = wait_for(waited, 60, "the log job to wait")
        self.assertIn("429", row["last_error"])
        self.assertLessEqual(row["attempts"], 1, row)
        self.assertRegex(self.metrics(), r'callbridge_hubspot_requests_total\{outcome="wait"\} '
                                         r'[1-9]')
        self.sb.limits(max_per_10s=190)
        self.wait_crm_state(cid, ("synced",), timeout=60)
        self.assertEqual(len(self.calls_for(cid)), 1)
        self.assertLessEqual(self.job_row(job)["attempts"], 2)


class TestFaults(HubSpotCase):
    """Errors, timeouts and every job run twice: still one call object per call."""

    contacts = [ADA]
    hubspot = {"timeout_ms": 1000}
    extra = {"workers": {"max_attempts": 30, "debug_run_twice": True}}

    def test_one_call_object_each(self):
        self.wait_connected()
        self.sb.faults(error_rate=0.25, timeout_rate=0.05)
        ids = [self.daemon.initiate({"to": "+14155550123"}).body["call_id"] for _ in range(4)]
        for cid in ids:
            self.wait_crm_state(cid, ("synced",), timeout=120)
        self.sb.faults()
        for cid in ids:
            self.assertEqual(len(self.calls_for(cid)), 1, cid)
            self.daemon.wait_job_state(self.log_job(cid), "done", timeout=60)


class TestDailyLimit(HubSpotCase):
    contacts = [ADA]

    def test_daily_limit_holds_every_write(self):
        self.wait_connected()
        self.sb.limits(daily=1)  # spent already: the next request is a 429 DAILY
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        job = self.log_job(cid)

        def waited():
            row = self.job_row(job)
            self.assertNotEqual(row["state"], "dead", row)
            return row["waits"] >= 1 and row
        row = wait_for(waited, 60, "the log job to wait for the daily limit")
        self.assertIn("DAILY", row["last_error"])
        self.assertLessEqual(row["attempts"], 1, row)
        ready = self.daemon.get("/readyz", token=None)
        self.assertEqual(ready.status, 200, ready)  # calls are still accepted
        self.assertTrue(ready.body["checks"]["hubspot"].startswith("daily limit reached"),
                        ready.body)
        self.assertIn("callbridge_crm_allowance_exhausted 1", self.metrics())
        self.assertEqual(self.calls_for(cid), [])


class TestWriteBack(HubSpotCase):
    """attach and create_task, driven through the debug job kinds."""

    contacts = [ADA]

    def logged_call(self):
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        self.wait_crm_state(cid, ("synced",))
        return cid

    def test_attach_and_transcript_note(self):
        p = self.crm_cli("setup")  # the analysis properties, before the daemon reads them
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.daemon.restart()
        self.wait_connected()
        cid = self.logged_call()
        text = "Zoë asked about <pricing> & terms.\n" * 3000  # ~105 kB: cut to fit
        fields = {"recording_url": "https://cb.example.com/r/abc", "recording_seconds": 93,
                  "sentiment": 1.7, "sentiment_label": "positive", "intent": "pricing",
                  "tags": ["Hot Lead", "renewal"], "summary": "Wants a quote.",
                  "transcript": text}
        for _ in range(2):  # twice: nothing is added the second time
            job = self.daemon.insert_job("debug.crm_attach", {"fields": fields}, call_id=cid)
            self.daemon.wait_job_state(job, "done")
        objs = self.calls_for(cid)
        self.assertEqual(len(objs), 1)
        p = objs[0]["properties"]
        self.assertEqual(p["hs_call_recording_url"], "https://cb.example.com/r/abc")
        self.assertEqual(float(p["callbridge_sentiment"]), 1.0)  # clamped
        self.assertEqual(p["callbridge_tags"], "Hot Lead; renewal")
        self.assertIn("Wants a quote.", p["hs_call_body"])
        notes = self.sb.by_prop("notes", "callbridge_note_key", cid + ":transcript")
        self.assertEqual(len(notes), 1, notes)
        body = notes[0]["properties"]["hs_note_body"]
        self.assertLessEqual(len(body), 65536)
        self.assertIn("Zoë asked about &lt;pricing&gt; &amp; terms.<br>", body)
        self.assertIn("Wants a quote.", body)
        assoc = {(a["to_type"], str(a["to_id"])) for a in
                 self.sb.associations("notes", notes[0]["id"])}
        self.assertIn(("contacts", "501"), assoc)

    def test_missing_analysis_properties_are_skipped(self):
        cid = self.logged_call()
        job = self.daemon.insert_job("debug.crm_attach",
                                     {"fields": {"tags": ["Hot Lead"],
                                                 "recording_url": "https://x/r/1"}},
                                     call_id=cid)
        self.daemon.wait_job_state(job, "done")
        p = self.calls_for(cid)[0]["properties"]
        self.assertEqual(p["hs_call_recording_url"], "https://x/r/1")
        self.assertNotIn("callbridge_tags", p)
        self.assertIn("callbridge_tags", self.health())

    def test_low_priority_waits_when_the_budget_is_low(self):
        cid = self.logged_call()
        self.sb.limits(max_per_10s=8)
        # High-priority writes read the header (before the low-priority one runs: CRM jobs
        # may wait [crm] batch_delay_ms to go together).
        self.wait_crm_state(self.daemon.initiate({"to": "+14155550123"}).body["call_id"],
                            ("synced",))
        job = self.daemon.insert_job("debug.crm_attach",
                                     {"fields": {"recording_url": "https://x/r/2"},
                                      "low_priority": True}, call_id=cid)

        def held():
            row = self.job_row(job)
            self.assertNotEqual(row["state"], "dead", row)
            return row["waits"] >= 1 and row
        row = wait_for(held, 60, "the low-priority write to wait")
        self.assertLessEqual(row["attempts"], 1, row)
        self.sb.limits(max_per_10s=190)
        self.daemon.wait_job_state(job, "done", timeout=60)
        self.assertEqual(self.calls_for(cid)[0]["properties"]["hs_call_recording_url"],
                         "https://x/r/2")

    def test_follow_up_task_once_per_key(self):
        self.set_owner("alice", OWNER["id"])
        cid = self.logged_call()
        task = {"subject": "Schedule demo", "due_date": "2026-12-01", "priority": "High"}
        for _ in range(3):
            job = self.daemon.insert_job("debug.crm_task", {"key": cid + ":demo", "task": task},
                                         call_id=cid)
            self.daemon.wait_job_state(job, "done")
        tasks = self.sb.by_prop("tasks", "callbridge_task_key", cid + ":demo")
        self.assertEqual(len(tasks), 1, tasks)
        p = tasks[0]["properties"]
        self.assertEqual((p["hs_task_subject"], p["hs_task_priority"], p["hs_task_status"]),
                         ("Schedule demo", "HIGH", "NOT_STARTED"))
        self.assertTrue(p["hs_timestamp"].startswith("2026-12-01"), p)
        self.assertEqual(p["hubspot_owner_id"], OWNER["id"])
        assoc = [(a["to_type"], str(a["to_id"]), a["type_id"])
                 for a in self.sb.associations("tasks", tasks[0]["id"])]
        self.assertIn(("contacts", "501", 204), assoc)
        # A task the rep completed is left as it is.
        r = self.sb.api("PATCH", "/crm/v3/objects/tasks/%s" % tasks[0]["id"],
                        {"properties": {"hs_task_status": "COMPLETED"}})
        self.assertEqual(r.status, 200, r)
        job = self.daemon.insert_job("debug.crm_task", {"key": cid + ":demo", "task": task},
                                     call_id=cid)
        self.daemon.wait_job_state(job, "done")
        tasks = self.sb.by_prop("tasks", "callbridge_task_key", cid + ":demo")
        self.assertEqual(tasks[0]["properties"]["hs_task_status"], "COMPLETED")


class TestSingleWrite(HubSpotCase):
    contacts = [ADA]
    extra = {"crm": {"write_mode": "single"}}

    def test_nothing_written_before_the_call_ends(self):
        cid = self.daemon.initiate({"to": "+14155550123"}).body["call_id"]
        self.daemon.wait_job_state(self.log_job(cid), "done")
        self.assertEqual(self.call_row(cid)["crm"]["state"], "pending")
        self.assertEqual(self.calls_for(cid), [])


class TestSingleWriteEndToEnd(HubSpotE2ECase):
    """write_mode = single through the whole pipeline (the e2e stack of test_hubspot_e2e.py):
    the call object is written ONCE, after the recording and its analysis, with the recording
    link and the summary; the transcript note follows it."""

    def setUp(self):
        self.sb = HubSpotTwilioStack().start()
        self.addCleanup(self.sb.close_checked, self)
        self.sb.seed({"contacts": [E2E_CONTACT]})
        self.daemon = self.new_daemon(harness.merge_config(
            self.sb.stack_config(), {"crm": {"write_mode": "single"},
                                     "workers": {"debug_run_twice": False}}))
        self.daemon.migrate()
        self.daemon.token = self.daemon.apikey(self.agent)
        self.admin = self.daemon.apikey("ops", admin=True)
        self.daemon.start()

    def test_one_write_with_everything(self):
        self.seed_recording()
        cid = self.dial()
        self.wait_written(cid)
        self.assertEqual(self.sb.count("POST", "/crm/v3/objects/calls/batch/upsert"), 1,
                         self.sb.control("state").get("requests"))
        calls = self.calls_of(cid)
        self.assertEqual(len(calls), 1, calls)
        p = calls[0]["properties"]
        self.assertEqual(p["hs_call_status"], "COMPLETED")
        self.assertTrue(p["hs_call_recording_url"].startswith(self.daemon.base_url + "/r/"))
        self.assertIn("<b>Summary</b>", p["hs_call_body"])
        notes = self.sb.by_prop("notes", "callbridge_note_key", cid + ":transcript")
        self.assertEqual(len(notes), 1, notes)
        self.assertIn("demo of Callbridge Pro", notes[0]["properties"]["hs_note_body"])

    def calls_of(self, cid):
        return self.sb.by_prop("calls", "callbridge_call_id", cid)


class TestSetupCommand(HubSpotCase):
    def test_check_then_setup_then_nothing_to_do(self):
        self.sb.drop("tasks", "callbridge_task_key")
        p = self.crm_cli("check")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"tasks\s+callbridge_task_key\s+missing")
        self.assertRegex(p.stdout, r"calls\s+callbridge_call_id\s+ok")
        self.assertRegex(p.stdout, r"calls\s+callbridge_tags\s+missing")
        p = self.crm_cli("setup")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"tasks\s+callbridge_task_key\s+created \(unique\)")
        self.assertRegex(p.stdout, r"calls\s+callbridge_tags\s+created")
        created = self.sb.count("POST", "/crm/v3/properties/calls")
        p = self.crm_cli("setup")  # again: nothing to do
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("created", p.stdout)
        self.assertEqual(self.sb.count("POST", "/crm/v3/properties/calls"), created)
        self.assertEqual(self.crm_cli("check").returncode, 0)
        props = self.sb.request("GET", "/crm/v3/properties/tasks", token=TOKEN)
        unique = [x for x in props.body["results"] if x["name"] == "callbridge_task_key"]
        self.assertTrue(unique and unique[0]["hasUniqueValue"], unique)

    def test_usage(self):
        p = self.daemon.cli("crm", "frobnicate", "-c", self.daemon.conf_path)
        self.assertEqual(p.returncode, 2)
        self.assertIn("check or setup", p.stderr)


if __name__ == "__main__":
    harness.main()
