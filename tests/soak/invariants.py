"""The soak's invariants, checked from the outside the way an external tester would: callbridge's
PostgreSQL (psql), its storage directory, and the sandbox's record of what the "SaaS" side saw
(GET /__sandbox/state): placed Twilio calls, their recordings, Salesforce Tasks and transcript
records.

check() returns {"violations": {name: {"count", "calls"?/"jobs"?, "detail"?}}, "info": {...}};
any violation fails the soak. Each violation lists at most SAMPLE call or job ids."""

import collections
import json
import os
import re
import time
import urllib.parse

SAMPLE = 20
FINAL = ("completed", "busy", "no-answer", "failed", "canceled")
# A job that died of waiting: an exhausted allowance, a 429 / Retry-After, a budget hold.
WAITING = re.compile(r"REQUEST_LIMIT_EXCEEDED|\b429\b|rate.?limit|too many requests|"
                     r"retry-after|budget", re.I)
NON_CALL_KINDS = ("retention.sweep",)


def _clean(text):
    return text.translate(str.maketrans("\t\n\r", "   "))


def reason(last_error):
    """A dead job's last_error with ids, numbers and addresses folded, for grouping."""
    r = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>",
               last_error or "(none)", flags=re.I)
    r = re.sub(r"\b(CA|RE|AC|00T|005)[0-9A-Za-z]{10,}\b", "<sid>", r)
    r = re.sub(r"https?://[^\s\"']+", "<url>", r)
    r = re.sub(r"\d+", "#", r)
    return r[:120]


class Checker:
    def __init__(self, stack, accepted):
        self.stack = stack
        self.accepted = accepted          # {idempotency key: call_id}
        self.violations = {}

    def add(self, name, ident, detail=None, key="calls"):
        v = self.violations.setdefault(name, {"count": 0, key: []})
        v["count"] += 1
        if len(v[key]) < SAMPLE:
            v[key].append(ident if detail is None else {"id": ident, "detail": detail})

    # ---- collection

    def load(self):
        t0 = time.monotonic()
        q = self.stack.sql
        self.calls = {r[0]: {"status": r[1], "crm_state": r[2], "crm_log_id": r[3],
                             "sid": r[4]}
                      for r in q("SELECT id, status, crm_state, coalesce(crm_log_id, ''), "
                                 "coalesce(provider_call_id, '') FROM calls")}
        self.jobs = [dict(zip(("id", "kind", "call_id", "state", "attempts", "locked_by",
                               "last_error"), r))
                     for r in q("SELECT id, kind, coalesce(call_id::text, ''), state, attempts,"
                                " coalesce(locked_by, ''), translate(coalesce(last_error, ''),"
                                " E'\\t\\n\\r', '   ') FROM jobs ORDER BY id")]
        self.recs = [dict(zip(("id", "call_id", "provider", "sid", "state", "key", "error"), r))
                     for r in q("SELECT id, call_id, provider, coalesce(provider_sid, ''), state,"
                                " coalesce(storage_key, ''), translate(coalesce(last_error, ''),"
                                " E'\\t\\n\\r', '   ') FROM recordings")]
        self.transcripts = {r[2]: {"id": r[0], "call_id": r[1], "key": r[3], "written": r[4] == "t",
                                   "follow_ups": json.loads(r[5] or "[]")}
                            for r in q("SELECT id, call_id, recording_id, storage_key,"
                                       " crm_written_at IS NOT NULL, follow_ups::text"
                                       " FROM transcripts")}
        t1 = time.monotonic()
        state = self.stack.sb.state()
        t2 = time.monotonic()
        self.timing = {"db_read_s": round(t1 - t0, 2), "sandbox_state_s": round(t2 - t1, 2)}
        self.tw_calls = collections.defaultdict(list)   # call_id -> [sandbox call]
        for c in state.get("twilio_calls", []):
            cb = ((c.get("sandbox") or {}).get("params") or {}).get("StatusCallback") or ""
            cid = urllib.parse.parse_qs(urllib.parse.urlsplit(cb).query).get("call_id", [""])[0]
            self.tw_calls[cid].append(c)
        self.tw_recs = collections.defaultdict(list)    # CallSid -> [recording]
        for r in state.get("twilio_recordings", []):
            self.tw_recs[r.get("call_sid")].append(r)
        self.tasks = collections.defaultdict(list)      # call id -> [call log Task]
        self.followups = collections.defaultdict(collections.Counter)  # call id -> key counts
        for t in state.get("Task", []):
            if t.get("Callbridge_Call_Id__c"):
                self.tasks[t["Callbridge_Call_Id__c"]].append(t)
            fk = t.get("Callbridge_Followup_Key__c")
            if fk:
                self.followups[fk.split(":", 1)[0]][fk] += 1
        self.tparts = collections.Counter(
            (p.get("Callbridge_Key__c") or "").split(":", 1)[0]
            for p in state.get("Callbridge_Transcript__c", []))
        self.webhooks = len(state.get("twilio_webhooks", []))
        self.sb_requests = state.get("requests", {})

    # ---- per call

    def check_call(self, cid):
        call = self.calls.get(cid)
        if call is None:
            self.add("calls_lost", cid)
            return
        placed = self.tw_calls.get(cid, [])
        if not placed:
            self.add("never_dialled", cid, "status %s" % call["status"])
        elif len(placed) > 1:
            self.add("double_dials", cid, [c["sid"] for c in placed])
        if call["status"] not in FINAL:
            self.add("call_not_final", cid, "callbridge %s, twilio %s" % (
                call["status"], ",".join(c.get("status", "?") for c in placed) or "-"))
        elif placed and call["status"] != placed[-1].get("status"):
            self.add("status_mismatch", cid, "callbridge %s, twilio %s"
                     % (call["status"], placed[-1].get("status")))
        tasks = self.tasks.get(cid, [])
        if not tasks:
            self.add("crm_log_missing", cid, "crm_state %s" % call["crm_state"])
        elif len(tasks) > 1:
            self.add("crm_log_duplicated", cid, [t.get("Id") for t in tasks])
        elif call["crm_state"] != "synced" or call["crm_log_id"] != tasks[0].get("Id"):
            self.add("crm_state_wrong", cid, "crm_state %s, crm_log_id %r, Task %s"
                     % (call["crm_state"], call["crm_log_id"], tasks[0].get("Id")))
        self.check_media(cid, placed, tasks)

    def check_media(self, cid, placed, tasks):
        ours = self.recs_by_call.get(cid, [])
        theirs = [r for c in placed for r in self.tw_recs.get(c["sid"], [])]
        sids = {r["sid"] for r in theirs}
        by_sid = collections.defaultdict(list)
        for r in ours:
            by_sid[r["sid"]].append(r)
            if r["sid"] not in sids:
                self.add("recording_unexpected", cid, r["sid"])
        expected_fu = collections.Counter()
        stored = 0
        for sid in sids:
            rows = by_sid.get(sid, [])
            if not rows:
                self.add("recording_lost", cid, sid)
                continue
            if len(rows) > 1:
                self.add("recording_duplicated", cid, sid)
            r = rows[0]
            if r["state"] != "stored":
                self.add("recording_not_stored", cid, "%s: %s" % (r["state"], r["error"][:160]))
                continue
            stored += 1
            if not os.path.exists(os.path.join(self.stack.store, r["key"])):
                self.add("recording_blob_missing", cid, r["key"])
            t = self.transcripts.get(r["id"])
            if t is None:
                self.add("transcript_lost", cid, r["id"])
                continue
            if not os.path.exists(os.path.join(self.stack.store, t["key"])):
                self.add("transcript_blob_missing", cid, t["key"])
            if not t["written"]:
                self.add("transcript_not_in_crm", cid, "crm_written_at is null")
            elif not self.tparts.get(cid):
                self.add("transcript_not_in_crm", cid, "no Callbridge_Transcript__c record")
            for f in t["follow_ups"]:
                expected_fu["%s:%s" % (cid, f.get("rule"))] += 1
        if stored and tasks and not tasks[0].get("Callbridge_Recording_URL__c"):
            self.add("recording_not_attached", cid, tasks[0].get("Id"))
        have = self.followups.get(cid, collections.Counter())
        for k in expected_fu:
            if have[k] == 0:
                self.add("follow_up_lost", cid, k.split(":", 1)[1])
            elif have[k] > 1:
                self.add("follow_up_duplicated", cid, "%s x%d" % (k.split(":", 1)[1], have[k]))
        for k in have:
            if k not in expected_fu:
                self.add("follow_up_unexpected", cid, k.split(":", 1)[1])

    # ---- jobs

    def check_jobs(self, live_pid):
        dead = collections.Counter()
        states = collections.Counter()
        for j in self.jobs:
            states[j["state"]] += 1
            if j["kind"] in NON_CALL_KINDS:
                continue
            ident = "%s %s (call %s)" % (j["id"], j["kind"], j["call_id"] or "-")
            if j["state"] in ("queued", "running"):
                self.add("jobs_not_terminal", ident, "%s, attempts %s, %s"
                         % (j["state"], j["attempts"], j["last_error"][:160]), key="jobs")
            if j["state"] == "running":
                parts = j["locked_by"].split(":")
                pid = parts[1] if len(parts) > 2 else ""
                if not live_pid or pid != str(live_pid):
                    self.add("running_without_live_owner", ident, j["locked_by"], key="jobs")
            if j["state"] == "dead":
                dead[(j["kind"], reason(j["last_error"]))] += 1
                if WAITING.search(j["last_error"]):
                    self.add("dead_for_waiting", ident, j["last_error"][:200], key="jobs")
        return states, dead

    def run(self, live_pid):
        self.load()
        self.recs_by_call = collections.defaultdict(list)
        for r in self.recs:
            if r["provider"] == "twilio":
                self.recs_by_call[r["call_id"]].append(r)
        ids = set(self.accepted.values())
        for cid in sorted(ids):
            self.check_call(cid)
        for cid in sorted(set(self.calls) - ids):
            self.add("calls_not_accepted", cid, self.calls[cid]["status"])
        for cid in sorted(set(self.tw_calls) - ids - {""}):
            self.add("dials_of_unknown_calls", cid, [c["sid"] for c in self.tw_calls[cid]])
        states, dead = self.check_jobs(live_pid)
        status = collections.Counter(c["status"] for c in self.calls.values())
        info = {
            "calls_in_db": len(self.calls), "call_status": dict(status),
            "twilio_calls_placed": sum(len(v) for v in self.tw_calls.values()),
            "twilio_recordings": sum(len(v) for v in self.tw_recs.values()),
            "twilio_webhooks_sent": self.webhooks,
            "recordings_in_db": len(self.recs), "transcripts_in_db": len(self.transcripts),
            "jobs_by_state": dict(states),
            "jobs_dead_by_kind_and_reason": [
                {"kind": k, "reason": r, "count": n} for (k, r), n in dead.most_common()],
            "sandbox_requests": self.sb_requests, "read_timing": self.timing,
        }
        return {"violations": self.violations, "info": info}


def check(stack, accepted):
    return Checker(stack, accepted).run(stack.owner_pid())
