"""GET /api/calls/{id} and GET /api/calls: the call document, visibility between agents and
for admins, cursor paging, and query validation (SPEC §4, issue 2 items 7 and 10)."""

import datetime
import urllib.parse
import uuid

import harness
from harness import KIND_LOG_CALL, KIND_PLACE_CALL, DaemonTestCase

TO = "+14155550123"


def parse_time(value):
    """An RFC 3339 / ISO 8601 timestamp with a zone; raises ValueError otherwise."""
    t = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError("no time zone in %r" % value)
    return t


class CallsTest(DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.bob = self.daemon.apikey("bob")
        self.admin = self.daemon.apikey("boss", admin=True)

    def create(self, token=harness.DEFAULT, **body):
        body.setdefault("to", TO)
        resp = self.daemon.initiate(body, token=token)
        self.assertStatus(resp, 202)
        return resp.body["call_id"]

    def make_calls(self, alice=25, bob=3):
        """Create calls, bob's interleaved with alice's; return (alice ids, bob ids)."""
        mine, theirs = [], []
        for i in range(alice):
            mine.append(self.create(to="+1415555%04d" % i))
            if i % 8 == 3 and len(theirs) < bob:
                theirs.append(self.create(token=self.bob, to="+1212555%04d" % i))
        while len(theirs) < bob:
            theirs.append(self.create(token=self.bob))
        return mine, theirs

    def expected_order(self, agent=None):
        where = "WHERE agent = '%s'" % agent if agent else ""
        return [r[0] for r in self.daemon.sql(
            "SELECT id FROM calls %s ORDER BY created_at DESC, id DESC" % where)]

    def list_all(self, query="", token=harness.DEFAULT, max_pages=100):
        """Follow next_cursor from the first page; return (ids in order, page sizes)."""
        ids, sizes, cursor = [], [], None
        for _ in range(max_pages):
            q = query
            if cursor is not None:
                q += ("&" if q else "") + "cursor=" + urllib.parse.quote(cursor, safe="")
            resp = self.daemon.get("/api/calls" + ("?" + q if q else ""), token=token)
            self.assertStatus(resp, 200)
            page = resp.body
            self.assertIsInstance(page.get("calls"), list, repr(resp))
            self.assertIn("next_cursor", page, repr(resp))
            for c in page["calls"]:
                self.assertIsInstance(c.get("call_id"), str, repr(c))
            ids.extend(c["call_id"] for c in page["calls"])
            sizes.append(len(page["calls"]))
            cursor = page["next_cursor"]
            if cursor is None:
                return ids, sizes
            self.assertIsInstance(cursor, str)
            self.assertTrue(page["calls"], "empty page with a next_cursor")
        self.fail("more than %d pages" % max_pages)

    # ---- one call

    def test_get_call_document(self):
        call_id = self.create(**{"from": "(212) 555-0199", "crm_record_id": "003000000000001"})
        resp = self.daemon.get("/api/calls/" + call_id)
        self.assertStatus(resp, 200)
        c = resp.body
        self.assertEqual(c["call_id"], call_id)
        self.assertEqual(c["agent"], self.agent)
        self.assertEqual(c["direction"], "outbound")
        self.assertEqual(c["to"], TO)
        self.assertEqual(c["from"], "+12125550199")
        self.assertEqual(c["crm_record_id"], "003000000000001")
        self.assertIsInstance(c["status"], str)
        self.assertEqual(c["telephony"]["provider"], "none")
        self.assertIn("call_id", c["telephony"])
        self.assertEqual(c["crm"]["provider"], "none")
        self.assertIn(c["crm"]["state"], ("pending", "local"))
        self.assertIn("log_id", c["crm"])
        self.assertLessEqual(parse_time(c["created_at"]), parse_time(c["updated_at"]))
        self.assertTrue(c["history"], "no status history")
        for h in c["history"]:
            self.assertEqual(set(h) >= {"status", "source", "at"}, True, repr(h))
            parse_time(h["at"])
        self.assertEqual(c["history"][0]["source"], "api")
        self.assertEqual(sorted(j["kind"] for j in c["jobs"]), sorted([KIND_PLACE_CALL,
                                                                       KIND_LOG_CALL]))
        for j in c["jobs"]:
            self.assertIsInstance(j["id"], int)
            self.assertIsInstance(j["attempts"], int)
            self.assertIn(j["state"], ("queued", "running", "done", "dead"))
            self.assertIn("last_error", j)

    def test_provider_call_id_is_the_telephony_call_id(self):
        call_id = self.create(direction="inbound", provider_call_id="CA0123456789abcdef")
        c = self.daemon.get("/api/calls/" + call_id).body
        self.assertEqual(c["telephony"]["call_id"], "CA0123456789abcdef")

    def test_unknown_ids(self):
        self.create()
        for path in ("/api/calls/" + str(uuid.uuid4()), "/api/calls/not-a-uuid",
                     "/api/calls/123", "/api/calls/%27%20OR%201=1--"):
            with self.subTest(path=path):
                self.assertError(self.daemon.get(path), 404, "not_found")

    def test_get_requires_a_token(self):
        call_id = self.create()
        self.assertError(self.daemon.get("/api/calls/" + call_id, token=None), 401,
                         "unauthorized")
        self.assertError(self.daemon.get("/api/calls", token=None), 401, "unauthorized")

    def test_visibility_between_agents(self):
        call_id = self.create()
        self.assertError(self.daemon.get("/api/calls/" + call_id, token=self.bob), 404,
                         "not_found")
        resp = self.daemon.get("/api/calls/" + call_id, token=self.admin)
        self.assertStatus(resp, 200)
        self.assertEqual(resp.body["agent"], self.agent)
        self.assertStatus(self.daemon.get("/api/calls/" + call_id), 200)

    # ---- lists

    def test_list_paging_returns_every_call_once_newest_first(self):
        mine, theirs = self.make_calls()
        ids, sizes = self.list_all("limit=7")
        self.assertEqual(sizes, [7, 7, 7, 4])
        self.assertEqual(len(ids), len(set(ids)), "a call appeared twice")
        self.assertEqual(set(ids), set(mine), "alice's pages are not exactly her calls")
        self.assertEqual(ids, self.expected_order(self.agent), "not newest first")

        # Default limit (50) holds all 25 in one page.
        ids, sizes = self.list_all()
        self.assertEqual(sizes, [25])

        # Limits at both ends of the range.
        ids, sizes = self.list_all("limit=200")
        self.assertEqual(sizes, [25])
        ids, sizes = self.list_all("limit=1")
        self.assertEqual(len(sizes), 25)
        self.assertEqual(ids, self.expected_order(self.agent))

    def test_list_visibility(self):
        mine, theirs = self.make_calls(alice=6, bob=3)
        # A non-admin sees only their own calls, whatever agent= says.
        self.assertEqual(set(self.list_all()[0]), set(mine))
        self.assertEqual(set(self.list_all("agent=bob")[0]), set(mine))
        self.assertEqual(set(self.list_all(token=self.bob)[0]), set(theirs))
        # An admin sees everyone's, or one agent's with agent=.
        everyone, _ = self.list_all("limit=4", token=self.admin)
        self.assertEqual(everyone, self.expected_order())
        self.assertEqual(set(self.list_all("agent=bob", token=self.admin)[0]), set(theirs))
        self.assertEqual(self.list_all("agent=alice&limit=2", token=self.admin)[0],
                         self.expected_order("alice"))

    def test_list_since(self):
        mine, _ = self.make_calls(alice=3, bob=0)
        past = urllib.parse.quote("2000-01-01T00:00:00Z", safe="")
        future = urllib.parse.quote("2999-01-01T00:00:00Z", safe="")
        self.assertEqual(set(self.list_all("since=" + past)[0]), set(mine))
        self.assertEqual(self.list_all("since=" + future)[0], [])

    def test_bad_limit(self):
        for value in ("0", "201", "-1", "abc", "1.5", "99999999999999999999"):
            with self.subTest(limit=value):
                self.assertError(self.daemon.get("/api/calls?limit=" + value), 400,
                                 "invalid_query")

    def test_bad_since(self):
        for value in ("yesterday", "2024-13-45T99:00:00Z"):
            with self.subTest(since=value):
                self.assertError(self.daemon.get("/api/calls?since=" + urllib.parse.quote(value)),
                                 400, "invalid_query")

    def test_bad_cursor(self):
        self.make_calls(alice=3, bob=0)
        for value in ("garbage", "Zm9v", "!!!!", "A" * 300, "eyJpZCI6MX0"):
            with self.subTest(cursor=value):
                self.assertError(self.daemon.get("/api/calls?limit=1&cursor="
                                                 + urllib.parse.quote(value, safe="")),
                                 400, "invalid_cursor")


if __name__ == "__main__":
    harness.main()
