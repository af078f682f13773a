"""HubSpot writes of many jobs in few requests (issue 17): the jobs of a kind with a batch
runner that one worker claims together go to HubSpot as one batch upsert per object type and
one batch association request per pair of types, each job with its own outcome — one bad
input never fails or repeats the others, a 429 makes them all wait without spending attempts,
a batch run again adds nothing, and what a batch writes is what the one-by-one path writes."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import wait_for  # noqa: E402
from hsstack import OWNER, HubSpotCase, Sandbox  # noqa: E402

ADA = {"id": "501", "properties": {"firstname": "Ada", "lastname": "Lovelace",
                                   "company": "Analytical", "phone": "(415) 555-0123"}}
UPSERT = "/crm/v3/objects/%s/batch/upsert"
READ = "/crm/v3/objects/tasks/batch/read"
ASSOC = "/crm/v4/associations/{type}/{type}/batch/associate/default"
PUT = "/crm/v4/objects/{type}/{id}/associations/default/{type}/{id}"
# What the analysis and the recording put on a call (attach's names).
ANALYSIS = {"transcript": "Hi, this is Ada. Please send a quote.", "sentiment": 0.6,
            "sentiment_label": "positive", "intent": "quote",
            "entities": [{"type": "product", "text": "Callbridge Pro"}]}
LOW = {"tags": ["Hot Lead"], "keywords": ["quote"], "summary": "Wants a quote."}
RECORDING = {"recording_url": "https://x/r/1", "recording_seconds": 42}


class BatchCase(HubSpotCase):
    contacts = [ADA]
    # One worker: the jobs released together are claimed together (one statement).
    extra = {"workers": {"threads": 1, "batch": 16, "debug_run_twice": False},
             "crm": {"batch_delay_ms": 0}}

    def setUp(self):
        """The account has callbridge's custom properties (`callbridge crm setup` ran before
        the daemon started), so every field callbridge writes is written."""
        self.sb = Sandbox().start()
        self.addCleanup(self.sb.close_checked, self)
        self.sb.seed({"contacts": self.contacts})
        d = self.new_daemon(self.config_for())
        d.migrate()
        p = d.cli("crm", "setup", "-c", d.conf_path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        d.token = d.apikey(self.agent)
        d.start()
        self.daemon = d

    def logged_calls(self, n):
        self.set_owner("alice", OWNER["id"])
        ids = [self.daemon.initiate({"to": "+14155550123"}).body["call_id"] for _ in range(n)]
        for cid in ids:
            self.wait_crm_state(cid, ("synced",))
            self.daemon.wait_job_state(self.log_job(cid), "done")
        return ids

    def held_jobs(self, kind, jobs):
        """Insert (call_id, payload) jobs not yet available, so none runs before the others."""
        return [int(self.daemon.sql_value(
            "INSERT INTO jobs (kind, call_id, payload, available_at) VALUES ('%s', '%s', '%s', "
            "now() + interval '1 hour') RETURNING id"
            % (kind, cid, json.dumps(payload).replace("'", "''")))) for cid, payload in jobs]

    def release(self, ids, states=("done", "dead")):
        self.daemon.sql("UPDATE jobs SET state = 'queued', available_at = now(), "
                        "finished_at = NULL WHERE id IN (%s)" % ",".join(map(str, ids)))
        self.daemon.sql("NOTIFY cb_jobs")
        for j in ids:
            self.daemon.wait_job_state(j, states, timeout=30)

    def counts(self):
        reqs = self.sb.control("state").get("requests", {})
        return {k[len("hubspot "):]: v for k, v in reqs.items() if k.startswith("hubspot ")}

    def spent(self, before):
        after = self.counts()
        return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}

    def tasks(self, key):
        return self.sb.by_prop("tasks", "callbridge_task_key", key)

    def assoc(self, from_type, obj):
        return sorted((a["to_type"], str(a["to_id"]), a["type_id"])
                      for a in self.sb.associations(from_type, obj["id"]))


class TestHubSpotBatch(BatchCase):

    def test_call_logs_of_several_calls_in_one_request(self):
        ids = self.logged_calls(3)
        jobs = self.held_jobs("crm.log_call", [(cid, {}) for cid in ids] + [(ids[0], {})])
        before = self.counts()
        self.release(jobs)
        self.assertEqual([self.daemon.job(j)["state"] for j in jobs], ["done"] * 4)
        # Four jobs of three calls: one request, the same call named once in it; their
        # associations were made by this process already (none sent).
        self.assertEqual(self.spent(before), {"POST " + UPSERT % "calls": 1})
        for cid in ids:
            found = self.calls_for(cid)
            self.assertEqual(len(found), 1, found)
            self.assertEqual(self.call_row(cid)["crm"]["log_id"], found[0]["id"])
            self.assertEqual(self.assoc("calls", found[0]), [("contacts", "501", 194)])

    def test_attach_and_tasks_as_the_one_by_one_path_writes_them(self):
        """Two calls: one written through the single-record ops (jobs released one at a time),
        one through the batch ops with another call; their objects are field-by-field the
        same but for what names the call."""
        ids = self.logged_calls(3)
        one, batched = ids[0], ids[1:]

        def jobs_of(cid):
            return [("debug.crm_attach", {"fields": RECORDING}),
                    ("debug.crm_attach", {"fields": ANALYSIS}),
                    ("debug.crm_attach", {"fields": LOW, "low_priority": True}),
                    ("debug.crm_task", {"key": cid + ":demo", "task": {
                        "subject": "Schedule demo", "due_date": "2026-12-01",
                        "priority": "High", "description": "Send the deck"}}),
                    ("debug.crm_task", {"key": cid + ":quote", "task": {"subject": "Quote"}})]

        for kind, payload in jobs_of(one):  # one job at a time: batches of one
            self.release(self.held_jobs(kind, [(one, payload)]))
        before = self.counts()
        for kind_i in range(5):
            kind, _ = jobs_of(one)[kind_i]
            self.release(self.held_jobs(kind, [(cid, jobs_of(cid)[kind_i][1])
                                               for cid in batched]))
        spent = self.spent(before)
        # Per stage one request for both calls: 3 call upserts, 1 note upsert, 1 task read,
        # 1 task upsert, and associations made in batch (note→contact, task→contact; the
        # note→call the sandbox refuses was asked once, by the first call).
        self.assertEqual(spent.get("POST " + UPSERT % "calls"), 3, spent)
        self.assertEqual(spent.get("POST " + UPSERT % "notes"), 1, spent)
        self.assertEqual(spent.get("POST " + UPSERT % "tasks"), 2, spent)
        self.assertEqual(spent.get("POST " + READ), 2, spent)
        self.assertNotIn("PUT " + PUT, spent)
        for cid in ids:
            self.assertEqual([j["state"] for j in self.call_row(cid)["jobs"]],
                             ["done"] * len(self.call_row(cid)["jobs"]), cid)

        def view(obj):
            p = dict(obj["properties"])
            for k in ("hs_object_id", "hs_createdate", "hs_lastmodifieddate", "hs_timestamp",
                      "callbridge_call_id", "callbridge_note_key", "callbridge_task_key",
                      "hs_call_title", "hs_call_body", "hs_note_body"):
                p.pop(k, None)
            return p

        def body(obj, key, cid):
            return obj["properties"][key].replace(cid, "<call>")

        c1 = self.calls_for(one)[0]
        for cid in batched:
            c = self.calls_for(cid)[0]
            self.assertEqual(view(c), view(c1))
            self.assertEqual(body(c, "hs_call_body", cid), body(c1, "hs_call_body", one))
            self.assertEqual(self.assoc("calls", c), self.assoc("calls", c1))
            n, n1 = (self.sb.by_prop("notes", "callbridge_note_key", x + ":transcript")
                     for x in (cid, one))
            self.assertEqual((len(n), len(n1)), (1, 1))
            self.assertEqual(view(n[0]), view(n1[0]))
            self.assertEqual(body(n[0], "hs_note_body", cid), body(n1[0], "hs_note_body", one))
            self.assertEqual(self.assoc("notes", n[0]), self.assoc("notes", n1[0]))
            for rule in ("demo", "quote"):
                t, t1 = self.tasks(cid + ":" + rule), self.tasks(one + ":" + rule)
                self.assertEqual((len(t), len(t1)), (1, 1))
                self.assertEqual(view(t[0]), view(t1[0]))
                if rule == "demo":  # due on the day the rule says (else: now)
                    self.assertEqual(t[0]["properties"]["hs_timestamp"],
                                     t1[0]["properties"]["hs_timestamp"])
                self.assertEqual(self.assoc("tasks", t[0]), [("contacts", "501", 204)])

    def test_high_and_low_fields_of_a_call_in_one_input(self):
        ids = self.logged_calls(2)
        jobs = self.held_jobs("debug.crm_attach", [(cid, {"fields": ANALYSIS}) for cid in ids] +
                              [(cid, {"fields": LOW, "low_priority": True}) for cid in ids])
        before = self.counts()
        self.release(jobs)
        self.assertEqual([self.daemon.job(j)["state"] for j in jobs], ["done"] * 4)
        # The budget is not low: nothing held back, a call's two in one input.
        spent = self.spent(before)
        self.assertEqual(spent.get("POST " + UPSERT % "calls"), 1, spent)
        self.assertEqual(spent.get("POST " + UPSERT % "notes"), 1, spent)
        for cid in ids:
            p = self.calls_for(cid)[0]["properties"]
            self.assertEqual((p["callbridge_intent"], p["callbridge_summary"]),
                             ("quote", "Wants a quote."))
            self.assertIn("Wants a quote.", p["hs_call_body"])

    def test_one_bad_input_fails_alone(self):
        ids = self.logged_calls(4)
        tasks = [(cid, {"key": cid + ":demo", "task": {"subject": "Demo %d" % i}})
                 for i, cid in enumerate(ids)]
        tasks[1][1]["task"]["description"] = "x" * 70000  # over HubSpot's 65,536: refused
        jobs = self.held_jobs("debug.crm_task", tasks)
        before = self.counts()
        self.release(jobs)
        states = [self.daemon.job(j) for j in jobs]
        self.assertEqual([s["state"] for s in states], ["done", "dead", "done", "done"], states)
        self.assertEqual(states[1]["attempts"], 1)  # a refused input is not tried again
        self.assertIn("hs_task_body", states[1]["last_error"])
        # One request for the four, and the refused one once more after its schema was
        # read again (a property gone would have been dropped: it was not).
        self.assertEqual(self.spent(before).get("POST " + UPSERT % "tasks"), 2)
        for i, cid in enumerate(ids):
            self.assertEqual(len(self.tasks(cid + ":demo")), 0 if i == 1 else 1, i)
        # The good jobs run again together: still one task each, left as they were.
        first = {cid: self.tasks(cid + ":demo")[0]["id"] for cid in ids if cid != ids[1]}
        before = self.counts()
        self.release([j for i, j in enumerate(jobs) if i != 1])
        self.assertEqual(self.spent(before), {"POST " + READ: 1})
        for cid, task_id in first.items():
            self.assertEqual([t["id"] for t in self.tasks(cid + ":demo")], [task_id])

    def test_a_task_the_rep_completed_is_left_as_it_is(self):
        ids = self.logged_calls(2)
        jobs = self.held_jobs("debug.crm_task", [
            (cid, {"key": cid + ":demo", "task": {"subject": "Demo"}}) for cid in ids])
        self.release(jobs)
        done = self.tasks(ids[0] + ":demo")[0]
        r = self.sb.api("PATCH", "/crm/v3/objects/tasks/%s" % done["id"],
                        {"properties": {"hs_task_status": "COMPLETED"}})
        self.assertEqual(r.status, 200, r)
        self.release(jobs)
        self.assertEqual(self.tasks(ids[0] + ":demo")[0]["properties"]["hs_task_status"],
                         "COMPLETED")
        self.assertEqual(self.tasks(ids[1] + ":demo")[0]["properties"]["hs_task_status"],
                         "NOT_STARTED")

    def test_429_waits_without_spending_attempts(self):
        ids = self.logged_calls(3)
        jobs = self.held_jobs("debug.crm_attach", [(cid, {"fields": RECORDING}) for cid in ids])
        self.sb.faults(rate_limit_rate=1.0)
        self.daemon.sql("UPDATE jobs SET state = 'queued', available_at = now() "
                        "WHERE id IN (%s)" % ",".join(map(str, jobs)))
        self.daemon.sql("NOTIFY cb_jobs")

        def waited():
            rows = [self.job_row(j) for j in jobs]
            for row in rows:
                self.assertNotEqual(row["state"], "dead", row)
            return all(row["waits"] >= 1 for row in rows) and rows
        rows = wait_for(waited, 60, "every job of the batch to wait on the 429")
        for row in rows:
            self.assertEqual(row["attempts"], 0, row)
            self.assertIn("429", row["last_error"])
        self.sb.faults()
        for j in jobs:
            self.daemon.wait_job_state(j, "done", timeout=60)
        for cid in ids:
            found = self.calls_for(cid)
            self.assertEqual(len(found), 1)
            self.assertEqual(found[0]["properties"]["hs_call_recording_url"], "https://x/r/1")

    def test_schema_drift_in_a_batch(self):
        ids = self.logged_calls(2)
        self.sb.drop("calls", "callbridge_intent")
        jobs = self.held_jobs("debug.crm_attach", [(cid, {"fields": ANALYSIS}) for cid in ids])
        before = self.counts()
        self.release(jobs)
        for j in jobs:
            self.assertEqual((self.daemon.job(j)["state"], self.daemon.job(j)["attempts"]),
                             ("done", 1))
        # Refused for the property gone: its schema read again, both sent again without it.
        spent = self.spent(before)
        self.assertEqual(spent.get("POST " + UPSERT % "calls"), 2, spent)
        self.assertEqual(spent.get("GET /crm/v3/properties/calls"), 1, spent)
        for cid in ids:
            p = self.calls_for(cid)[0]["properties"]
            self.assertNotIn("callbridge_intent", p)
            self.assertEqual(p["callbridge_sentiment_label"], "positive")
        self.assertIn("callbridge_intent", self.health())


class TestHubSpotBatchRunTwice(BatchCase):
    """Every batch runs twice (idempotency): still one object per key and per call."""

    extra = {"workers": {"threads": 1, "batch": 16, "debug_run_twice": True},
             "crm": {"batch_delay_ms": 0}}

    def test_run_twice_changes_nothing(self):
        ids = self.logged_calls(2)
        for kind, payload in (("debug.crm_attach", {"fields": RECORDING}),
                              ("debug.crm_attach", {"fields": ANALYSIS}),
                              ("crm.log_call", {})):
            jobs = self.held_jobs(kind, [(cid, payload) for cid in ids])
            self.release(jobs)
            self.assertEqual([self.daemon.job(j)["state"] for j in jobs], ["done"] * 2)
        jobs = self.held_jobs("debug.crm_task", [
            (cid, {"key": cid + ":demo", "task": {"subject": "Demo"}}) for cid in ids])
        self.release(jobs)
        for cid in ids:
            self.assertEqual(len(self.calls_for(cid)), 1)
            self.assertEqual(len(self.tasks(cid + ":demo")), 1)
            self.assertEqual(len(self.sb.by_prop("notes", "callbridge_note_key",
                                                 cid + ":transcript")), 1)
        self.assertEqual(len(self.sb.objects("calls")), 2)
        self.assertEqual(len(self.sb.objects("tasks")), 2)
        self.assertEqual(len(self.sb.objects("notes")), 2)


if __name__ == "__main__":
    unittest.main()
