"""POST /api/call/initiate: durable call + jobs, idempotency, the bad-input matrix, local-only
mode, phone normalisation and request ids (SPEC §4, issue 2 items 6, 7, 10, 11)."""

import re
import uuid

import harness
from harness import KIND_LOG_CALL, KIND_PLACE_CALL, DaemonTestCase

TO = "+14155550123"
SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# (name, request keyword arguments, status, error code). Each request has exactly one
# fault; none may create a call or a job.
BAD_INPUT = [
    ("malformed JSON", dict(body='{"to": "+1415'), 400, "malformed_json"),
    ("form-encoded body sent as JSON", dict(body="to=%2B14155550123"), 400, "malformed_json"),
    ("JSON array", dict(body='[{"to": "+14155550123"}]'), 400, "invalid_body"),
    ("JSON string", dict(body='"+14155550123"'), 400, "invalid_body"),
    ("JSON number", dict(body="14155550123"), 400, "invalid_body"),
    ("JSON null", dict(body="null"), 400, "invalid_body"),
    ("to missing", dict(body={}), 422, "missing_field"),
    ("to missing, from given", dict(body={"from": TO}), 422, "missing_field"),
    ("to a number", dict(body={"to": 4155550123}), 422, "invalid_field"),
    ("to an object", dict(body={"to": {"number": TO}}), 422, "invalid_field"),
    ("to letters", dict(body={"to": "abc"}), 422, "invalid_phone"),
    ("to too short", dict(body={"to": "123"}), 422, "invalid_phone"),
    ("to local-only number", dict(body={"to": "555-0123"}), 422, "invalid_phone"),
    ("from garbage", dict(body={"to": TO, "from": "abc"}), 422, "invalid_phone"),
    ("from a number", dict(body={"to": TO, "from": 4155550100}), 422, "invalid_field"),
    ("direction unknown", dict(body={"to": TO, "direction": "sideways"}), 422, "invalid_field"),
    ("direction wrong type", dict(body={"to": TO, "direction": 1}), 422, "invalid_field"),
    ("crm_record_id wrong type", dict(body={"to": TO, "crm_record_id": 5}), 422,
     "invalid_field"),
    ("provider_call_id wrong type", dict(body={"to": TO, "provider_call_id": ["CA1"]}), 422,
     "invalid_field"),
    ("idempotency_key wrong type", dict(body={"to": TO, "idempotency_key": 7}), 422,
     "invalid_field"),
    ("idempotency_key too long", dict(body={"to": TO, "idempotency_key": "k" * 5000}), 422,
     "invalid_field"),
    ("header and body idempotency keys differ",
     dict(body={"to": TO, "idempotency_key": "key-a"}, headers={"Idempotency-Key": "key-b"}),
     422, "invalid_field"),
    ("2 MB body", dict(body='{"to": "%s", "pad": "%s"}' % (TO, "x" * (2 << 20))), 413,
     "payload_too_large"),
    ("Content-Type text/plain", dict(body={"to": TO}, headers={"Content-Type": "text/plain"}),
     415, "unsupported_media_type"),
    ("Content-Type form", dict(body={"to": TO}, headers={
        "Content-Type": "application/x-www-form-urlencoded"}), 415, "unsupported_media_type"),
    ("no Content-Type", dict(body={"to": TO}, headers={"Content-Type": None}), 415,
     "unsupported_media_type"),
    ("no Authorization", dict(body={"to": TO}, token=None), 401, "unauthorized"),
    ("unknown bearer token", dict(body={"to": TO}, token="cbk_0000_notakey"), 401,
     "unauthorized"),
    ("empty bearer token", dict(body={"to": TO}, token=None,
                                headers={"Authorization": "Bearer "}), 401, "unauthorized"),
    ("Basic credentials", dict(body={"to": TO}, token=None,
                               headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"}), 401,
     "unauthorized"),
]

# (input, E.164) with [server] default_region = US.
PHONES = [
    ("(415) 555-0123", "+14155550123"),
    ("415-555-0123", "+14155550123"),
    ("415.555.0123", "+14155550123"),
    ("+1 415 555 0123", "+14155550123"),
    ("1 (415) 555-0123", "+14155550123"),
    ("+44 20 7946 0958", "+442079460958"),
    ("011 44 20 7946 0958", "+442079460958"),
    ("+33 1 42 68 53 00", "+33142685300"),
]


class InitiateTest(DaemonTestCase):

    def counts(self):
        return self.daemon.count("calls"), self.daemon.count("jobs")

    def call_jobs(self, call_id):
        uuid.UUID(call_id)
        return self.daemon.sql("SELECT kind, state, attempts FROM jobs WHERE call_id = '%s' "
                               "ORDER BY kind" % call_id)

    def accepted(self, resp):
        """Assert a 202 from initiate; return the call id."""
        self.assertStatus(resp, 202)
        self.assertTrue((resp.headers.get("Content-Type") or "").startswith("application/json"))
        self.assertIsInstance(resp.body, dict, repr(resp))
        call_id = resp.body.get("call_id")
        self.assertIsInstance(call_id, str, repr(resp))
        uuid.UUID(call_id)
        self.assertEqual(resp.body.get("status"), "queued", repr(resp))
        return call_id

    # ---- the happy path

    def test_initiate_creates_call_and_jobs(self):
        call_id = self.accepted(self.daemon.initiate({"to": "(415) 555-0123"}))
        self.assertEqual(self.counts()[0], 1)
        kinds = [row[0] for row in self.call_jobs(call_id)]
        self.assertEqual(kinds, sorted([KIND_PLACE_CALL, KIND_LOG_CALL]))

        resp = self.daemon.get("/api/calls/" + call_id)
        self.assertStatus(resp, 200)
        call = resp.body
        self.assertEqual(call["call_id"], call_id)
        self.assertEqual(call["agent"], self.agent)
        self.assertEqual(call["direction"], "outbound")
        self.assertEqual(call["to"], TO)
        self.assertEqual(sorted(j["kind"] for j in call["jobs"]), kinds)
        row = self.daemon.sql("SELECT agent, direction, to_e164 FROM calls WHERE id = '%s'"
                              % call_id)
        self.assertEqual(row, [[self.agent, "outbound", TO]])

    def test_inbound_enqueues_only_the_crm_log(self):
        call_id = self.accepted(self.daemon.initiate({"to": TO, "from": "(212) 555-0199",
                                                      "direction": "inbound"}))
        self.assertEqual([row[0] for row in self.call_jobs(call_id)], [KIND_LOG_CALL])
        call = self.daemon.get("/api/calls/" + call_id).body
        self.assertEqual((call["direction"], call["to"], call["from"]),
                         ("inbound", TO, "+12125550199"))

    def test_charset_parameter_is_accepted(self):
        self.accepted(self.daemon.initiate(
            {"to": TO}, headers={"Content-Type": "application/json; charset=utf-8"}))

    def test_local_only_mode_finishes_jobs(self):
        call_id = self.accepted(self.daemon.initiate({"to": TO}))

        def all_done():
            rows = self.call_jobs(call_id)
            return len(rows) == 2 and all(r[1] == "done" for r in rows) and rows
        rows = self.wait_for(all_done, 30, "both jobs of the call to be done")
        self.assertEqual([r[2] for r in rows], ["1", "1"], "each job ran once: %r" % rows)
        self.wait_for(lambda: self.daemon.sql_value(
            "SELECT crm_state FROM calls WHERE id = '%s'" % call_id) == "local", 10,
            "calls.crm_state = local")
        call = self.daemon.get("/api/calls/" + call_id).body
        self.assertEqual(call["crm"]["state"], "local")
        self.assertEqual(call["crm"]["provider"], "none")
        self.assertEqual(call["telephony"]["provider"], "none")
        self.assertEqual({j["state"] for j in call["jobs"]}, {"done"})

    # ---- idempotency

    def replay(self, first_kw, second_kw):
        """Initiate twice; assert the same call and no new rows; return the call id."""
        first = self.accepted(self.daemon.initiate(**first_kw))
        before = self.counts()
        second = self.accepted(self.daemon.initiate(**second_kw))
        self.assertEqual(second, first, "replay created a different call")
        self.assertEqual(self.counts(), before, "replay added calls or jobs")
        self.assertEqual(before[0], 1)
        return first

    def test_idempotent_replay_by_header(self):
        kw = dict(body={"to": TO}, headers={"Idempotency-Key": "hdr-1"})
        self.replay(kw, kw)

    def test_idempotent_replay_by_body(self):
        kw = dict(body={"to": TO, "idempotency_key": "body-1"})
        self.replay(kw, kw)

    def test_idempotent_replay_header_then_body(self):
        self.replay(dict(body={"to": TO}, headers={"Idempotency-Key": "both-1"}),
                    dict(body={"to": TO, "idempotency_key": "both-1"}))

    def test_idempotent_replay_same_key_in_header_and_body(self):
        kw = dict(body={"to": TO, "idempotency_key": "same-1"},
                  headers={"Idempotency-Key": "same-1"})
        self.replay(kw, kw)

    def test_idempotent_replay_compares_normalised_numbers(self):
        self.replay(dict(body={"to": "(415) 555-0123", "idempotency_key": "norm-1"}),
                    dict(body={"to": "+1 415 555 0123", "idempotency_key": "norm-1"}))

    def test_idempotency_key_reused_with_different_body_conflicts(self):
        call_id = self.accepted(self.daemon.initiate({"to": TO, "idempotency_key": "k-9"}))
        before = self.counts()
        for name, kw in (("different to", dict(body={"to": "+14155550199",
                                                    "idempotency_key": "k-9"})),
                         ("different direction", dict(body={"to": TO, "direction": "inbound",
                                                           "idempotency_key": "k-9"})),
                         ("same key by header", dict(body={"to": "+14155550199"},
                                                     headers={"Idempotency-Key": "k-9"}))):
            with self.subTest(name):
                self.assertError(self.daemon.initiate(**kw), 409, "idempotency_conflict")
                self.assertEqual(self.counts(), before)
        self.assertEqual(self.daemon.get("/api/calls/" + call_id).body["to"], TO)

    def test_idempotency_keys_are_per_agent(self):
        bob = self.daemon.apikey("bob")
        mine = self.accepted(self.daemon.initiate({"to": TO, "idempotency_key": "shared"}))
        theirs = self.accepted(self.daemon.initiate({"to": TO, "idempotency_key": "shared"},
                                                    token=bob))
        self.assertNotEqual(mine, theirs)
        self.assertEqual(self.daemon.count("calls"), 2)

    # ---- bad input

    def test_bad_input_matrix(self):
        # Warm up: one accepted call so that counts are checked against non-empty tables.
        self.accepted(self.daemon.initiate({"to": TO}))
        for name, kw, status, code in BAD_INPUT:
            with self.subTest(name):
                before = self.counts()
                resp = self.daemon.initiate(**kw)
                self.assertError(resp, status, code)
                if status == 401:
                    self.assertTrue((resp.headers.get("WWW-Authenticate") or "")
                                    .startswith("Bearer"), repr(resp))
                self.assertEqual(self.counts(), before, "%s created rows" % name)
        # The daemon is still healthy after all that.
        self.accepted(self.daemon.initiate({"to": TO}))

    def test_revoked_key_is_refused(self):
        key = self.daemon.apikey("carol")
        self.daemon.sql("UPDATE api_keys SET revoked_at = now() WHERE agent = 'carol'")
        self.assertError(self.daemon.initiate({"to": TO}, token=key), 401, "unauthorized")
        self.assertEqual(self.daemon.count("calls"), 0)

    # ---- phone numbers

    def test_phone_normalisation(self):
        for raw, e164 in PHONES:
            with self.subTest(raw):
                call_id = self.accepted(self.daemon.initiate({"to": raw, "from": raw}))
                call = self.daemon.get("/api/calls/" + call_id).body
                self.assertEqual((call["to"], call["from"]), (e164, e164))
                self.assertEqual(self.daemon.sql("SELECT to_e164, from_e164 FROM calls "
                                                 "WHERE id = '%s'" % call_id), [[e164, e164]])

    # ---- request ids

    def test_request_id_echo(self):
        for rid in ("it-req_1.A", "x" * 64):
            with self.subTest(rid=rid):
                ok = self.daemon.initiate({"to": TO}, headers={"X-Request-Id": rid})
                self.assertStatus(ok, 202)
                self.assertEqual(ok.headers.get("X-Request-Id"), rid)
                err = self.daemon.initiate({"to": TO}, token=None, headers={"X-Request-Id": rid})
                self.assertError(err, 401, "unauthorized")
                self.assertEqual(err.headers.get("X-Request-Id"), rid)

    def test_request_id_generated_when_absent_or_insane(self):
        seen = set()
        for rid in (None, "has spaces in it", "y" * 65, "semi;colon", "<script>"):
            with self.subTest(rid=rid):
                resp = self.daemon.initiate({"to": TO}, headers={"X-Request-Id": rid})
                self.assertStatus(resp, 202)
                got = resp.headers.get("X-Request-Id")
                self.assertTrue(got and SANE_ID.match(got), "bad generated id %r" % got)
                self.assertNotEqual(got, rid)
                seen.add(got)
        self.assertEqual(len(seen), 5, "generated request ids repeat: %r" % seen)


if __name__ == "__main__":
    harness.main()
