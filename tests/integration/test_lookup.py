"""GET /api/lookup: screen pop through the Redis cache in front of the sandbox's Salesforce.
Miss then hit, TTL expiry, negative caching, single flight, policies, Redis down, bad input, and
the in-process copy in front of Redis ([redis] lookup_local_ms): a record created for a number is
seen by every instance within that bound."""

import os
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import RedisServer, wait_for  # noqa: E402
from sfstack import redis_command  # noqa: E402
from test_salesforce import CONTACT, SalesforceCase  # noqa: E402

OLDER = {"Id": "003000000000002AAA", "FirstName": "Old", "LastName": "Contact",
         "MobilePhone": "+1 415.555.0123", "LastModifiedDate": "2025-01-01T10:00:00.000+0000"}
LEAD = {"Id": "00Q000000000001AAA", "FirstName": "Grace", "LastName": "Hopper",
        "Company": "Navy", "Phone": "+442071838750"}


class TestLookup(SalesforceCase):
    extra = {"redis": {"lookup_ttl_s": 300, "lookup_negative_ttl_s": 300}}

    def searches(self):
        return self.sb.count("salesforce.search")

    def test_miss_then_hit(self):
        first = self.lookup("(415) 555-0123")
        self.assertEqual(first["phone_e164"], "+14155550123")
        self.assertFalse(first["cached"])
        self.assertEqual(len(first["matches"]), 1)
        m = first["matches"][0]
        self.assertEqual((m["type"], m["id"], m["name"]), ("Contact", CONTACT["Id"],
                                                           "Ada Lovelace"))
        self.assertTrue(m["url"].endswith("/lightning/r/Contact/%s/view" % CONTACT["Id"]), m)
        n = self.searches()
        self.assertEqual(n, 1)
        for fmt in ("+14155550123", "415.555.0123", "+1 (415) 555 0123"):
            again = self.lookup(fmt)
            self.assertTrue(again["cached"], fmt)
            self.assertEqual(again["matches"], first["matches"])
        self.assertEqual(self.searches(), n)  # every hit answered from Redis

    def test_formats_stored_in_the_crm(self):
        self.sb.seed({"Lead": [LEAD]})
        r = self.lookup("+44 20 7183 8750")
        self.assertEqual([(m["type"], m["company"]) for m in r["matches"]], [("Lead", "Navy")])

    def test_negative_caching(self):
        r = self.lookup("+12125550000")
        self.assertEqual((r["matches"], r["cached"]), ([], False))
        n = self.searches()
        r = self.lookup("212-555-0000")
        self.assertEqual((r["matches"], r["cached"]), ([], True))
        self.assertEqual(self.searches(), n)

    def test_twenty_concurrent_misses_one_search(self):
        self.wait_connected()
        self.sb.faults(latency_ms=300)  # keep the first search in flight while the rest arrive
        before = self.searches()
        out = []

        def one():
            r = self.daemon.get("/api/lookup?phone=%2B14155550123")
            out.append((r.status, len(r.body["matches"]) if r.status == 200 else r))
        threads = [threading.Thread(target=one) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(out, [(200, 1)] * 20)
        self.assertEqual(self.searches() - before, 1)

    def test_most_recent_of_several(self):
        self.sb.seed({"Contact": [OLDER]})
        r = self.lookup("+14155550123")
        self.assertEqual([m["id"] for m in r["matches"]], [CONTACT["Id"]])

    def test_bad_input_changes_nothing(self):
        before = self.searches()
        d = self.daemon
        cases = [
            ("/api/lookup", 400, "invalid_query"),
            ("/api/lookup?phone=", 400, "invalid_query"),
            ("/api/lookup?phone=" + "1" * 65, 400, "invalid_query"),
            ("/api/lookup?phone=hello", 422, "invalid_phone"),
            ("/api/lookup?phone=555-0123", 422, "invalid_phone"),  # local-only number
            ("/api/lookup?phone=%2B999", 422, "invalid_phone"),
            ("/api/lookup?phone=%00%01", 400, "invalid_query"),  # NUL ends the value
            ("/api/lookup?phone=%01%02", 422, "invalid_phone"),
            ("/api/lookup?phone=%27%3B--", 422, "invalid_phone"),
        ]
        for target, status, code in cases:
            with self.subTest(target=target):
                self.assertError(d.get(target), status, code)
        self.assertError(d.get("/api/lookup?phone=4155550123", token=None), 401, "unauthorized")
        self.assertError(d.get("/api/lookup?phone=4155550123", token="cbk_nope_nope"), 401,
                         "unauthorized")
        self.assertError(d.post("/api/lookup?phone=4155550123", {}), 405, "method_not_allowed")
        self.assertEqual(self.searches(), before)

    def test_crm_down_is_502_not_cached(self):
        self.wait_connected()
        self.sb.faults(error_rate=1.0)
        self.assertError(self.daemon.get("/api/lookup?phone=4155550123"), 502,
                         "upstream_unavailable")
        self.sb.faults(error_rate=0.0)
        r = self.lookup("4155550123")
        self.assertEqual((len(r["matches"]), r["cached"]), (1, False))


class TestLookupPolicies(SalesforceCase):
    salesforce = {"multi_match": "all"}
    extra = {"redis": {"lookup_ttl_s": 1, "lookup_negative_ttl_s": 1}}

    def test_all_matches_and_ttl_expiry(self):
        self.sb.seed({"Contact": [OLDER]})
        r = self.lookup("+14155550123")
        self.assertEqual([m["id"] for m in r["matches"]], [CONTACT["Id"], OLDER["Id"]])
        self.assertFalse(r["cached"])
        # Poll until the 1 s TTL has run out: the next lookup asks Salesforce again.
        wait_for(lambda: not self.lookup("+14155550123")["cached"], 10, "the entry to expire")
        self.assertGreaterEqual(self.sb.count("salesforce.search"), 2)


class TestLookupLocalCopy(SalesforceCase):
    """Two instances share Redis. A number unknown to the CRM is cached as unknown (in Redis and
    in each instance's copy); then a record is created for it and its cached lookup cleared, as
    crm.log_call does after creating a Lead: the other instance sees the record within
    [redis] lookup_local_ms."""
    extra = {"redis": {"lookup_ttl_s": 300, "lookup_negative_ttl_s": 300,
                       "lookup_local_ms": 1000}}
    NUMBER = "+13125550142"

    def create_record_and_clear(self, number):
        self.sb.seed({"Contact": [{"Id": "003000000000077AAA", "FirstName": "New",
                                   "LastName": "Customer", "Phone": number}]})
        redis_command(self.daemon.redis_url, "DEL", "%slookup:%s" % (self.sb.key_prefix, number))

    def other_instance(self):
        return self.start_daemon(harness.merge_config(self.sb.daemon_config(**self.salesforce),
                                                      self.extra), db=self.daemon.db)

    def test_record_created_is_seen_within_the_bound(self):
        other = self.other_instance()
        self.assertEqual(self.lookup(self.NUMBER, other)["matches"], [])
        for d in (other, self.daemon):
            r = self.lookup(self.NUMBER, d)
            self.assertEqual((r["matches"], r["cached"]), ([], True))
        metrics = other.get("/metrics", token=None).raw.decode()
        self.assertRegex(metrics, r"callbridge_lookup_local_hits_total [1-9]")
        searches = self.sb.count("salesforce.search")
        self.create_record_and_clear(self.NUMBER)
        wait_for(lambda: self.lookup(self.NUMBER, other)["matches"], 10,
                 "the new record, once lookup_local_ms has passed")
        r = wait_for(lambda: self.lookup(self.NUMBER)["matches"], 10, "the same on the first")
        self.assertEqual(r[0]["id"], "003000000000077AAA")
        # One instance asked the CRM again; the other found its answer in Redis.
        self.assertEqual(self.sb.count("salesforce.search"), searches + 1)


class TestLookupNoLocalCopy(TestLookupLocalCopy):
    """lookup_local_ms = 0: nothing kept in-process, a cleared entry is seen at the next lookup."""
    extra = {"redis": {"lookup_ttl_s": 300, "lookup_negative_ttl_s": 300, "lookup_local_ms": 0}}
    NUMBER = "+13125550143"

    def test_record_created_is_seen_within_the_bound(self):
        self.assertEqual(self.lookup(self.NUMBER)["matches"], [])
        self.assertTrue(self.lookup(self.NUMBER)["cached"])
        self.create_record_and_clear(self.NUMBER)
        r = self.lookup(self.NUMBER)
        self.assertEqual(([m["id"] for m in r["matches"]], r["cached"]),
                         (["003000000000077AAA"], False))
        metrics = self.daemon.get("/metrics", token=None).raw.decode()
        self.assertIn("callbridge_lookup_local_hits_total 0", metrics)


class TestLookupRedisDown(SalesforceCase):
    def setUp(self):
        self.redis = RedisServer()
        self.addCleanup(self.redis.destroy)
        # No in-process copy: the lookups right after Redis stops must not find one.
        self.extra = {"redis": {"url": self.redis.url, "timeout_ms": 200, "lookup_local_ms": 0}}
        super().setUp()

    def test_lookups_answer_without_redis(self):
        self.assertFalse(self.lookup("+14155550123")["cached"])
        self.assertTrue(self.lookup("+14155550123")["cached"])
        self.redis.stop()
        for _ in range(3):
            r = self.lookup("+14155550123")
            self.assertEqual((len(r["matches"]), r["cached"]), (1, False))
        metrics = self.daemon.get("/metrics", token=None).raw.decode()
        self.assertRegex(metrics, r'callbridge_lookup_total\{outcome="degraded"\} [1-9]')
        self.redis.start()
        wait_for(lambda: self.lookup("+14155550123")["cached"] or None, 20,
                 "the cache to be used again")


if __name__ == "__main__":
    harness.main()
