"""Calls' party and search (issue 14): calls get party_name/party_company/party_url from the
CRM lookup — at initiate when the lookup is cached (also for a record the client named), from
crm.log_call when it links the record, and at the inbound voice webhook — shown by GET
/api/calls/{id} and the list; GET /api/calls?q= finds calls by number digits or by the party,
disposition or notes (case-insensitive substring), only ever among the caller's own calls; q
is refused with 422 invalid_field when empty, too long or not text. The screen pop names the
owner by the agent's display name."""

import json
import urllib.parse
import uuid

import harness
from harness import DaemonTestCase, wait_for
from sse import SseStream
from test_twilio_calls import ACCOUNT, CONTACT, CUSTOMER, OUR_NUMBER, OWNER, TOKEN, TwilioCallCase
from twilio_sign import form_request

LEAD_NUMBER = "+14155550177"
LEAD = {"Id": "00Q000000000001AAA", "FirstName": "Grace", "LastName": "Hopper",
        "Company": "Navy 100% Research_Lab", "Phone": "(415) 555-0177", "OwnerId": OWNER["Id"]}


def q(term):
    return "/api/calls?q=" + urllib.parse.quote(term, safe="")


class PartyAndSearchTest(TwilioCallCase):
    twilio = {"fallback_agent": "alice"}

    def extra_config(self, sb):
        return {"redis": {"lookup_ttl_s": 300},
                "agents": {"dispositions": "interested:Interested, no_answer"}}

    def setUp(self):
        super().setUp()
        self.sb.seed({"Lead": [LEAD]})
        self.sb.outcome(to="*", status="completed", duration_s=5)

    def party(self, cid):
        c = self.call(cid)
        return (c["party_name"], c["party_company"], c["party_url"])

    def ids(self, path, **kw):
        r = self.daemon.get(path, **kw)
        self.assertStatus(r, 200)
        return [c["call_id"] for c in r.body["calls"]]

    def test_party_from_the_lookup_and_search(self):
        # Cold cache: crm.log_call looks the number up, links the Contact and its party.
        first = self.dial()
        self.wait_final(first)
        name, company, url = self.party(first)
        self.assertEqual(name, "Ada Lovelace")
        self.assertIsNone(company)
        self.assertTrue(url.endswith("/lightning/r/Contact/%s/view" % CONTACT["Id"]), url)
        # Warm cache: the party is there as soon as initiate answers.
        r = self.daemon.initiate({"to": CUSTOMER})
        self.assertStatus(r, 202)
        second = r.body["call_id"]
        self.assertEqual(self.party(second), (name, company, url))
        # A record the client names: its party from the cached lookup too.
        self.assertStatus(self.daemon.get("/api/lookup?phone=" + urllib.parse.quote(LEAD_NUMBER)),
                          200)
        r = self.daemon.initiate({"to": LEAD_NUMBER, "crm_record_id": LEAD["Id"]})
        third = r.body["call_id"]
        self.assertEqual(self.party(third)[:2], ("Grace Hopper", LEAD["Company"]))
        for cid in (second, third):
            self.wait_final(cid)
        self.assertStatus(self.daemon.post("/api/calls/%s/disposition" % third,
                                           {"disposition": "no_answer",
                                            "notes": "Wants the PRICING sheet"}), 200)
        # The list shows the party.
        listed = {c["call_id"]: c for c in self.daemon.get("/api/calls").body["calls"]}
        self.assertEqual(listed[third]["party_company"], LEAD["Company"])
        self.assertEqual(listed[first]["party_name"], "Ada Lovelace")

        # Bob's call to the same number is never in alice's results, nor alice's in his.
        bob = self.daemon.apikey("bob")
        r = self.daemon.initiate({"to": CUSTOMER}, token=bob)
        bobs = r.body["call_id"]
        self.wait_final(bobs)

        ada = sorted([first, second])
        cases = [
            ("lovelace", ada), ("ADA LOVE", ada), ("hopper", [third]), ("navy", [third]),
            ("100%", [third]), ("research_lab", [third]), ("search_l", [third]),
            ("100%x", []), ("_", [third]),  # % and _ are literal characters
            ("pricing sheet", [third]), ("no_answer", [third]),
            ("(415) 555-0123", ada), ("555 0177", [third]), ("+1415555", sorted(ada + [third])),
            ("4155550100", []),  # the caller id is not the party's number
            ("nobody", []), ("'; DROP TABLE calls; --", []),
        ]
        for term, want in cases:
            with self.subTest(q=term):
                self.assertEqual(sorted(self.ids(q(term))), want)
        self.assertEqual(self.ids(q("lovelace"), token=bob), [bobs])
        self.assertEqual(self.ids(q("hopper"), token=bob), [])
        # An admin searches everyone's, or one agent's; a non-admin's agent= is ignored.
        self.assertEqual(sorted(self.ids(q("lovelace"), token=self.admin)), sorted(ada + [bobs]))
        self.assertEqual(self.ids(q("lovelace") + "&agent=bob", token=self.admin), [bobs])
        self.assertEqual(sorted(self.ids(q("lovelace") + "&agent=bob")), ada)
        # Paging a search: newest first, the cursor with the same q.
        r = self.daemon.get(q("lovelace") + "&limit=1").body
        self.assertEqual([c["call_id"] for c in r["calls"]], [second])
        r = self.daemon.get(q("lovelace") + "&limit=1&cursor=" + r["next_cursor"]).body
        self.assertEqual(([c["call_id"] for c in r["calls"]], r["next_cursor"]), ([first], None))

    def test_inbound_party_and_owner_display_name(self):
        self.assertEqual(self.daemon.cli("agent", "add", "olive", "--display-name", "Olive O.",
                                         "--crm-user-id", OWNER["Id"], "-c",
                                         self.daemon.conf_path).returncode, 0)
        stream = SseStream(self.daemon.port, self.daemon.token)
        self.addCleanup(stream.close)
        sid = "CA" + uuid.uuid4().hex
        params = {"CallSid": sid, "AccountSid": ACCOUNT, "From": CUSTOMER, "To": OUR_NUMBER,
                  "Direction": "inbound", "CallStatus": "ringing"}
        data, hdrs = form_request(TOKEN, self.daemon.base_url, "/webhooks/twilio/voice", params)
        self.assertStatus(self.daemon.request("POST", "/webhooks/twilio/voice", data,
                                              headers=hdrs, token=None), 200)
        ev = stream.next_event(timeout=10, skip_types=("call_status", "agent_status"))
        self.assertEqual(ev["event"], "screen_pop")
        pop = json.loads(ev["data"])
        self.assertEqual(pop["matches"][0]["id"], CONTACT["Id"])
        self.assertEqual(pop["matches"][0]["owner"], "Olive O.")
        cid = pop["call_id"]
        name, _, url = self.party(cid)
        self.assertEqual(name, "Ada Lovelace")
        self.assertIn(CONTACT["Id"], url)
        self.assertEqual(self.ids(q("lovelace")), [cid])


class SearchInputTest(DaemonTestCase):

    def test_bad_q(self):
        cid = self.daemon.initiate({"to": CUSTOMER}).body["call_id"]
        bad = ["", "   ", "x" * 101, "\U0001F4DE" * 101, "a\tb", "a\nb", "\x7f", "\u0085"]
        for term in bad:
            with self.subTest(q=term):
                self.assertError(self.daemon.get(q(term)), 422, "invalid_field")
        for raw in ("%FF", "%C3%28", "%ED%A0%80", "%00"):
            with self.subTest(raw=raw):
                self.assertError(self.daemon.get("/api/calls?q=" + raw), 422, "invalid_field")
        # The longest terms pass; surrounding spaces do not count.
        self.assertEqual(self.daemon.get(q("\U0001F4DE" * 100)).body["calls"], [])
        self.assertEqual(len(self.daemon.get(q("  0123  ")).body["calls"]), 1)
        self.assertEqual(self.daemon.get(q("1" * 100 + "   ")).body["calls"], [])
        # The other parameters keep their own errors.
        self.assertError(self.daemon.get(q("ada") + "&limit=0"), 400, "invalid_query")
        self.assertError(self.daemon.get(q("ada") + "&cursor=zz"), 400, "invalid_cursor")
        # Without a CRM the party stays null, in the call and the list.
        call = self.daemon.get("/api/calls/%s" % cid).body
        self.assertEqual((call["party_name"], call["party_company"], call["party_url"]),
                         (None, None, None))
        self.assertIsNone(self.daemon.get("/api/calls").body["calls"][0]["party_name"])

    def test_trigram_indexes_when_pg_trgm_is_there(self):
        available = self.daemon.sql_value(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")
        indexes = self.daemon.sql_value(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'calls'"
            " AND indexname IN ('calls_search_text', 'calls_search_party_number')")
        self.assertEqual(indexes, "2" if available == "1" else "0")


if __name__ == "__main__":
    harness.main()
