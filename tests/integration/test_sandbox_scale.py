"""The sandbox with thousands of records (issue 17): lookups by Id and by External ID keep
their answers as the state grows and changes (upsert by External ID, case-insensitive; unique
values; a changed External ID; deletes; a rolled-back composite; SOQL pinning a field, and
UserRecordAccess by RecordId), SOSL phone searches keep
theirs (suffixes, several phone fields, changed and deleted records), GET /__sandbox/state pages
one object at a time (?object=&limit=&after=) and ?summary=1 gives the counters with the record
counts and the sandbox's CPU time. Behaviour only: how long any of it takes is bench/sandbox.sh's
business."""

import os
import tempfile
import unittest
import urllib.parse

import harness

CLIENT_ID = "3MVG9sandboxClientId.callbridge"
CLIENT_SECRET = "s3cr3t-C0nsumer"
V = "/services/data/v60.0"
USER = {"Id": "0058d000000AgntAAA", "Username": "agent@example.com", "Name": "Ada Agent",
        "Email": "agent@example.com", "IsActive": True}
N = 3000


def task_id(i):
    return "00T8d00000%05dAAA" % i


class SandboxScaleTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cb-sb-scale-")
        secret = os.path.join(self.dir, "secret")
        with open(secret, "w") as f:
            f.write(CLIENT_SECRET + "\n")
        self.sb = harness.Sandbox(sf_client_id=CLIENT_ID, sf_client_secret_file=secret)
        self.addCleanup(self._stop)
        self.sb.start()
        self.sb.control("seed", {"User": [USER], "Task": [
            {"Id": task_id(i), "Subject": "Call %d" % i, "Callbridge_Call_Id__c": "call-%d" % i}
            for i in range(N)]})
        resp = self.sb.request("POST", "/services/oauth2/token", urllib.parse.urlencode(
            {"grant_type": "client_credentials", "client_id": CLIENT_ID,
             "client_secret": CLIENT_SECRET}),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(resp.status, 200, repr(resp))
        self.token = resp.body["access_token"]

    def _stop(self):
        rc = self.sb.stop()
        reports = self.sb.sanitizer_reports()
        self.sb.remove_files()
        self.assertIn(rc, (0, None), "sandbox exit code on SIGTERM")
        self.assertEqual(reports, [], "sanitizer reports")

    def rest(self, method, path, body=None):
        return self.sb.request(method, V + path, body, token=self.token)

    def upsert(self, key, body):
        return self.rest("PATCH", "/sobjects/Task/Callbridge_Call_Id__c/" + key, body)

    def soql(self, q):
        resp = self.rest("GET", "/query?q=" + urllib.parse.quote(q, safe=""))
        self.assertEqual(resp.status, 200, repr(resp))
        return [r.get("Id", r.get("RecordId")) for r in resp.body["records"]]

    def page(self, **query):
        return self.sb.request("GET", "/__sandbox/state?" + urllib.parse.urlencode(query))

    def test_lookups_after_thousands_of_records(self):
        # By External ID: the seeded record, whatever the case of the value.
        for i in (0, 1500, N - 1):
            resp = self.upsert("call-%d" % i, {"CallDisposition": "Connected"})
            self.assertEqual((resp.status, resp.body["id"], resp.body["created"]),
                             (200, task_id(i), False), repr(resp))
        resp = self.upsert("CALL-2999", {"Description": "case"})
        self.assertEqual((resp.status, resp.body["id"]), (200, task_id(2999)), repr(resp))
        # By Id.
        resp = self.rest("GET", "/sobjects/Task/" + task_id(2999))
        self.assertEqual((resp.status, resp.body["CallDisposition"], resp.body["Description"]),
                         (200, "Connected", "case"), repr(resp))
        # A new value creates one record, found by its Id and its value afterwards.
        made = self.upsert("call-new", {"Subject": "New"})
        self.assertEqual((made.status, made.body["created"]), (201, True), repr(made))
        again = self.upsert("call-new", {"Subject": "Again"})
        self.assertEqual((again.status, again.body["id"]), (200, made.body["id"]), repr(again))
        self.assertEqual(self.rest("GET", "/sobjects/Task/" + made.body["id"]).body["Subject"],
                         "Again")
        # A unique value held by another record: DUPLICATE_VALUE, on create and on update.
        dup = self.rest("POST", "/sobjects/Task", {"Subject": "x",
                                                   "Callbridge_Call_Id__c": "call-7"})
        self.assertEqual((dup.status, dup.body[0]["errorCode"]), (400, "DUPLICATE_VALUE"))
        self.assertIn(task_id(7), dup.body[0]["message"])
        dup = self.rest("PATCH", "/sobjects/Task/" + task_id(8), {"Callbridge_Call_Id__c": "call-7"})
        self.assertEqual((dup.status, dup.body[0]["errorCode"]), (400, "DUPLICATE_VALUE"))
        # A record whose External ID changed is found by its new value only.
        resp = self.rest("PATCH", "/sobjects/Task/" + task_id(10),
                         {"Callbridge_Call_Id__c": "call-renamed"})
        self.assertEqual(resp.status, 204, repr(resp))
        resp = self.upsert("call-renamed", {})
        self.assertEqual((resp.status, resp.body["id"]), (200, task_id(10)), repr(resp))
        resp = self.upsert("call-10", {"Subject": "reborn"})
        self.assertEqual((resp.status, resp.body["created"]), (201, True), repr(resp))
        self.assertNotEqual(resp.body["id"], task_id(10))
        # A deleted record is gone by Id and by value; its value may be used again.
        self.assertEqual(self.rest("DELETE", "/sobjects/Task/" + task_id(20)).status, 204)
        self.assertEqual(self.rest("GET", "/sobjects/Task/" + task_id(20)).status, 404)
        self.assertEqual(self.rest("DELETE", "/sobjects/Task/" + task_id(20)).status, 404)
        resp = self.upsert("call-20", {})
        self.assertEqual((resp.status, resp.body["created"]), (201, True), repr(resp))
        # A seed updating a record's External ID moves it too.
        self.sb.control("seed", {"Task": [{"Id": task_id(30), "Callbridge_Call_Id__c": "seeded"}]})
        resp = self.upsert("seeded", {})
        self.assertEqual((resp.status, resp.body["id"]), (200, task_id(30)), repr(resp))
        # An all-or-none composite that fails rolls back; lookups see the state as it was.
        resp = self.rest("POST", "/composite", {"allOrNone": True, "compositeRequest": [
            {"method": "PATCH", "url": V + "/sobjects/Task/Callbridge_Call_Id__c/call-rolled",
             "referenceId": "a", "body": {"Subject": "rolled back"}},
            {"method": "POST", "url": V + "/sobjects/Task", "referenceId": "b",
             "body": {"Callbridge_Call_Id__c": "call-40"}}]})
        self.assertEqual(resp.status, 200, repr(resp))
        resp = self.upsert("call-rolled", {})
        self.assertEqual((resp.status, resp.body["created"]), (201, True), repr(resp))
        resp = self.upsert("call-41", {})
        self.assertEqual((resp.status, resp.body["id"]), (200, task_id(41)), repr(resp))
        # SOQL pinning a field to values: the same records as a scan would find, in order.
        self.assertEqual(self.soql("SELECT Id FROM Task WHERE Callbridge_Call_Id__c = 'CALL-42'"),
                         [task_id(42)])
        self.assertEqual(self.soql("SELECT Id FROM Task WHERE Id IN ('%s', '%s', '%s') AND "
                                   "Subject != 'Call 9'" % (task_id(9), task_id(2), task_id(3))),
                         [task_id(2), task_id(3)])
        self.assertEqual(self.soql("SELECT Id FROM Task WHERE Callbridge_Call_Id__c = "
                                   "'call-renamed'"), [task_id(10)])
        self.assertEqual(self.soql("SELECT Id FROM Task WHERE Callbridge_Call_Id__c = 'call-20' "
                                   "AND Subject = 'Call 20'"), [])  # the seeded one is deleted
        self.assertEqual(len(self.soql("SELECT Id FROM Task WHERE Callbridge_Call_Id__c = null")), 0)
        access = "SELECT RecordId, HasReadAccess FROM UserRecordAccess WHERE UserId = '%s' AND " \
                 "RecordId = '%s'"
        resp = self.rest("GET", "/query?q=" + urllib.parse.quote(
            access % (USER["Id"], made.body["id"]), safe=""))
        self.assertEqual(resp.body["records"][0]["HasReadAccess"], True, repr(resp))
        self.assertEqual(self.soql(access % (USER["Id"], task_id(50))), [])  # no owner
        # Four made (call-new, call-10, call-20, call-rolled), one deleted.
        self.assertEqual(self.page(summary=1).body["records"]["Task"], N + 3)

    def search(self, term):
        sosl = "FIND {%s} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)" % term
        resp = self.rest("GET", "/search?q=" + urllib.parse.quote(sosl, safe=""))
        self.assertEqual(resp.status, 200, repr(resp))
        return [r["Id"] for r in resp.body["searchRecords"]]

    def test_phone_search_after_thousands_of_records(self):
        def cid(i):
            return "0038d00000%05dAAA" % i
        self.sb.control("seed", {"Contact": [
            {"Id": cid(i), "LastName": "C%d" % i, "Phone": "+1 (415) 7%02d-%04d" % (i // 10000, i),
             "MobilePhone": "415.900.%04d" % i} for i in range(N)]})
        self.assertEqual(self.search("+14157001234"), [cid(1234)])
        self.assertEqual(self.search("7001234"), [cid(1234)])  # a suffix of 7 digits
        self.assertEqual(self.search("(415) 900-0042"), [cid(42)])  # the other phone field
        self.assertEqual(self.search("001234"), [])  # 6 digits never match
        self.assertEqual(self.search("+14157009999"), [])
        # A phone changed by an update: found by the new number only.
        resp = self.rest("PATCH", "/sobjects/Contact/" + cid(5), {"Phone": "+1 650 555 0199"})
        self.assertEqual(resp.status, 204, repr(resp))
        self.assertEqual(self.search("6505550199"), [cid(5)])
        self.assertEqual(self.search("4157000005"), [])
        # Several records with one number, in their order, Contacts then Leads; a deleted one
        # is gone.
        lead = self.rest("POST", "/sobjects/Lead", {"LastName": "L", "Company": "Co",
                                                    "Phone": "650-555-0199"})
        self.assertEqual(lead.status, 201, repr(lead))
        self.assertEqual(self.rest("PATCH", "/sobjects/Contact/" + cid(2),
                                   {"MobilePhone": "16505550199"}).status, 204)
        self.assertEqual(self.search("+16505550199"), [cid(2), cid(5), lead.body["id"]])
        self.assertEqual(self.rest("DELETE", "/sobjects/Contact/" + cid(2)).status, 204)
        self.assertEqual(self.search("+16505550199"), [cid(5), lead.body["id"]])

    def test_state_pages_one_object(self):
        seen, after, pages = [], None, 0
        while True:
            query = {"object": "Task", "limit": 1000}
            if after:
                query["after"] = after
            resp = self.page(**query)
            self.assertEqual(resp.status, 200, repr(resp))
            self.assertEqual((resp.body["object"], resp.body["total"]), ("Task", N))
            seen += [r["Id"] for r in resp.body["records"]]
            pages += 1
            after = resp.body.get("next")
            if not after:
                break
            self.assertEqual(after, seen[-1])
        self.assertEqual((pages, seen), (3, [task_id(i) for i in range(N)]))
        resp = self.page(object="Task", limit=2, after=task_id(5))
        self.assertEqual([r["Id"] for r in resp.body["records"]], [task_id(6), task_id(7)])
        self.assertEqual(resp.body["records"][0]["Callbridge_Call_Id__c"], "call-6")
        self.assertEqual(self.page(object="Task").body["next"], task_id(99))  # default 100
        empty = self.page(object="Lead")
        self.assertEqual((empty.status, empty.body["records"], empty.body["total"]), (200, [], 0))
        self.assertNotIn("next", empty.body)
        calls = self.page(object="twilio_calls", limit=5)
        self.assertEqual((calls.status, calls.body["records"]), (200, []))
        for bad in ({"object": "Task", "after": "00T8d00000nopeAAA"},
                    {"object": "Task", "limit": 0}, {"object": "Task", "limit": 1001},
                    {"object": ""}):
            resp = self.page(**bad)
            self.assertEqual((resp.status, resp.body["error"]["code"]), (400, "invalid_field"),
                             bad)
        # The whole state still answers as before.
        self.assertEqual(len(self.sb.control("state")["Task"]), N)

    def test_summary_counts_records_and_cpu(self):
        first = self.page(summary=1)
        self.assertEqual(first.status, 200, repr(first))
        self.assertEqual(first.body["records"]["Task"], N)
        self.assertIsInstance(first.body["cpu_ms"], int)
        self.assertGreaterEqual(first.body["cpu_ms"], 0)
        self.assertIn("twilio", first.body)
        self.upsert("call-new", {})
        second = self.sb.request("GET", "/__sandbox/summary").body
        self.assertEqual(second["records"]["Task"], N + 1)
        self.assertGreaterEqual(second["cpu_ms"], first.body["cpu_ms"])


if __name__ == "__main__":
    harness.main()
