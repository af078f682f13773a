"""The call state machine end to end (issue 12 item 1): every (from -> to) move of a call, both
directions, with and without [twilio] missed_call_task, driven through the daemon's signed
status webhook into PostgreSQL, must leave the status, history, timestamps and jobs that the C
table (src/calls/, printed by tests/tools/calls_table.c as cb-calls-table) says — the SQL only
stores what C decided. Also: the "failed to place" move (a place_call job that dies), the
created transition (API and provider calls), and the SQL function cb_status_rank (kept for a
migration's partial index) agreeing with the C ranks."""

import json
import subprocess
import uuid

import harness
from harness import DaemonTestCase
from test_twilio_webhooks import ACCOUNT, CUSTOMER, OUR_NUMBER, call_sid, twilio_config, WebhookCase

TABLE = json.loads(subprocess.run([harness.find_binary("CB_CALLS_TABLE", "tests/cb-calls-table")],
                                  check=True, capture_output=True, text=True).stdout)


def jobs_of(daemon, cid):
    return sorted(r[0] for r in daemon.sql(
        "SELECT kind FROM jobs WHERE call_id = '%s'" % cid))


class StateMachineCase(WebhookCase):
    missed = True

    def put_call(self, status, direction):
        cid, sid = str(uuid.uuid4()), call_sid()
        self.daemon.sql(
            "INSERT INTO calls (id, agent, direction, to_e164, from_e164, status, telephony,"
            " provider_call_id, crm) VALUES ('%s', 'alice', '%s', '%s', '%s', '%s', 'twilio',"
            " '%s', 'none')" % (cid, direction, CUSTOMER, OUR_NUMBER, status, sid))
        return cid, sid

    def row(self, cid):
        return self.daemon.sql(
            "SELECT status, answered_at IS NOT NULL, ended_at IS NOT NULL,"
            " coalesce(duration_s::text, '') FROM calls WHERE id = '%s'" % cid)[0]

    def test_every_move_agrees_with_the_c_table(self):
        moves = [m for m in TABLE["moves"] if m["missed_task"] == self.missed]
        self.assertEqual(len(moves), 9 * 9 * 2)
        for m in moves:
            with self.subTest(frm=m["from"], to=m["to"], direction=m["direction"]):
                cid, sid = self.put_call(m["from"], m["direction"])
                for attempt in (1, 2):   # the second delivery is a duplicate: no change
                    resp = self.status(cid, sid, m["to"], duration=7)
                    self.assertStatus(resp, 204)
                    self.assertEqual(self.row(cid), [
                        m["status"], "t" if m["answered"] else "f", "t" if m["ended"] else "f",
                        "7" if m["duration"] else ""])
                    self.assertEqual(self.daemon.count(
                        "call_events", "call_id = '%s' AND source = 'twilio' AND status = '%s'"
                        % (cid, m["to"])), 1 if m["event"] else 0)
                    self.assertEqual(jobs_of(self.daemon, cid), sorted(m["jobs"]))

    def test_sql_ranks_agree_with_c(self):
        for s in TABLE["statuses"]:
            with self.subTest(status=s["name"]):
                self.assertEqual(int(self.daemon.sql_value(
                    "SELECT cb_status_rank('%s')" % s["name"])), s["rank"])


class WithoutMissedTask(StateMachineCase):
    config = twilio_config({"twilio": {"missed_call_task": False}})
    missed = False

    test_sql_ranks_agree_with_c = None


class Created(WebhookCase):
    def created(self, origin, direction):
        return next(c for c in TABLE["created"]
                    if c["origin"] == origin and c["direction"] == direction)

    def test_created_calls_get_the_created_jobs(self):
        key = self.daemon.apikey("alice")
        for direction in ("outbound", "inbound"):
            with self.subTest(origin="api", direction=direction):
                want = self.created("api", direction)
                resp = self.daemon.initiate({"to": CUSTOMER, "from": OUR_NUMBER,
                                             "direction": direction}, token=key)
                self.assertStatus(resp, 202)
                cid = resp.body["call_id"]
                self.assertEqual(self.daemon.sql_value(
                    "SELECT status FROM call_events WHERE call_id = '%s' AND source = 'api'"
                    % cid), want["status"])
                self.assertEqual(jobs_of(self.daemon, cid), sorted(want["jobs"]))
        with self.subTest(origin="provider", direction="inbound"):
            # An inbound call first seen through a status callback: created for the fallback
            # agent, with the provider's created jobs, then moved by the callback.
            want = self.created("provider", "inbound")
            sid = call_sid()
            resp = self.webhook("/webhooks/twilio/status", {
                "CallSid": sid, "AccountSid": ACCOUNT, "CallStatus": "ringing",
                "From": CUSTOMER, "To": OUR_NUMBER, "Direction": "inbound"})
            self.assertStatus(resp, 204)
            row = self.daemon.sql("SELECT id, agent, direction FROM calls"
                                  " WHERE provider_call_id = '%s'" % sid)
            self.assertEqual(row[0][1:], ["desk", "inbound"])
            self.assertEqual(jobs_of(self.daemon, row[0][0]), sorted(want["jobs"]))



class FailedToPlace(WebhookCase):
    # place_call jobs die at their first failure (nothing listens at api_base_url).
    config = twilio_config({"workers": {"max_attempts": 1}})

    def test_failed_to_place_agrees_with_the_c_table(self):
        # place_call only tries (and so only dies) for a queued call: the other rows of the
        # fail table are the unit test's (tests/unit/test_calls_states.c).
        for f in (f for f in TABLE["fail"] if f["direction"] == "outbound"
                  and f["from"] == "queued"):
            with self.subTest(frm=f["from"]):
                cid = str(uuid.uuid4())
                self.daemon.sql(
                    "INSERT INTO calls (id, agent, direction, to_e164, status, telephony, crm)"
                    " VALUES ('%s', 'alice', 'outbound', '%s', '%s', 'twilio', 'none')"
                    % (cid, CUSTOMER, f["from"]))
                job = self.daemon.insert_job(harness.KIND_PLACE_CALL, call_id=cid)
                self.daemon.wait_job_state(job, "dead", timeout=60)
                self.assertTrue(f["advance"])
                want_jobs = sorted([harness.KIND_PLACE_CALL] + f["jobs"])
                self.wait_for(lambda: jobs_of(self.daemon, cid) == want_jobs, 30,
                              "the fail move's jobs")
                self.assertEqual(self.daemon.sql_value(
                    "SELECT status || (ended_at IS NOT NULL) FROM calls WHERE id = '%s'" % cid),
                    f["status"] + ("true" if f["ended"] else "false"))
                self.assertEqual(self.daemon.count(
                    "call_events", "call_id = '%s' AND source = 'job'" % cid),
                    1 if f["event"] else 0)


if __name__ == "__main__":
    harness.main()
