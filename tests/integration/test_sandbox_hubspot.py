"""The sandbox's HubSpot emulation (SPEC §7, issue 16), driven alone: private-app and OAuth
refresh-token authentication (401 INVALID/EXPIRED_AUTHENTICATION), account info, search
(filterGroups OR of AND groups, operators, the calculated phone properties, sorts, paging,
properties), objects create/get/idProperty/patch, batch upsert by a unique property (200, 207,
400 VALIDATION_ERROR), v4 default associations, properties (201/409), owners, rate limits
(headers, 429 TEN_SECONDLY_ROLLING / SECONDLY / DAILY), schema drift, faults, request counts
and the state/summary views."""

import os
import shutil
import tempfile
import unittest
import urllib.parse

import harness

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
CLIENT_ID = "hs-client-0001"
CLIENT_SECRET = "hs-secret-0001"
REFRESH = "hs-refresh-0001"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
OWNER = {"id": "77001", "email": "ada@example.com", "firstName": "Ada", "lastName": "Agent"}
CONTACTS = [
    {"id": "501", "properties": {"firstname": "Ann", "lastname": "Lee", "email": "ann@example.com",
                                 "phone": "+1 (415) 555-0100", "jobtitle": "Head of Sales"}},
    {"id": "502", "properties": {"firstname": "Bob", "lastname": "Ray", "email": "bob@example.com",
                                 "mobilephone": "+44 20 7946 0958"}},
    {"id": "503", "properties": {"firstname": "Cy", "lastname": "Lee",
                                 "phone": "415-555-0100", "hubspot_owner_id": "77001"}},
]
COMPANY = {"id": "901", "properties": {"name": "Acme", "domain": "acme.example",
                                       "phone": "+1 212 555 0199"}}
DIR = None


def setUpModule():
    global DIR
    DIR = tempfile.mkdtemp(prefix="cb-hs-")
    for name, value in (("token", TOKEN), ("secret", CLIENT_SECRET), ("refresh", REFRESH)):
        with open(os.path.join(DIR, name), "w") as f:
            f.write(value + "\n")


def tearDownModule():
    shutil.rmtree(DIR, ignore_errors=True)


class HubSpotSandboxTest(unittest.TestCase):

    def setUp(self):
        self.sb = harness.Sandbox(args=(
            "--hs-access-token-file", os.path.join(DIR, "token"),
            "--hs-client-id", CLIENT_ID,
            "--hs-client-secret-file", os.path.join(DIR, "secret"),
            "--hs-refresh-token-file", os.path.join(DIR, "refresh")))
        self.addCleanup(self._stop)
        self.sb.start()
        self.sb.control("seed", {"hubspot": {"owners": [OWNER], "contacts": CONTACTS,
                                             "companies": [COMPANY]}})
        # Many searches a second here; the limit tests set their own budgets.
        self.sb.control("hubspot/limits", {"search_per_s": 1000})

    def _stop(self):
        rc = self.sb.stop()
        reports = self.sb.sanitizer_reports()
        if rc not in (0, None) or reports:
            print("\n---- sandbox log (%s) ----\n%s" % (self.id(), self.sb.log_tail()))
        self.sb.remove_files()
        self.assertIn(rc, (0, None), "sandbox exit code on SIGTERM")
        self.assertEqual(reports, [], "sanitizer reports")

    # ---- helpers

    def api(self, method, path, body=None, token=TOKEN):
        return self.sb.request(method, path, body, token=token)

    def search(self, obj, body, token=TOKEN):
        return self.api("POST", "/crm/v3/objects/%s/search" % obj, body, token)

    def ids(self, resp):
        self.assertEqual(resp.status, 200, repr(resp))
        return [r["id"] for r in resp.body["results"]]

    def where(self, *groups, **extra):
        body = {"filterGroups": [{"filters": list(g)} for g in groups]}
        body.update(extra)
        return body

    def token_request(self, **form):
        full = {"grant_type": "refresh_token", "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET, "refresh_token": REFRESH}
        full.update(form)
        full = {k: v for k, v in full.items() if v is not None}
        return self.sb.request("POST", "/oauth/v1/token", urllib.parse.urlencode(full),
                               headers=FORM)

    def assertHsError(self, resp, status, category, message=None):
        self.assertEqual(resp.status, status, repr(resp))
        self.assertEqual(resp.body["status"], "error", repr(resp))
        self.assertEqual(resp.body["category"], category, repr(resp))
        self.assertTrue(resp.body["correlationId"], repr(resp))
        if message is not None:
            self.assertIn(message, resp.body["message"], repr(resp))

    def upsert(self, obj, inputs):
        return self.api("POST", "/crm/v3/objects/%s/batch/upsert" % obj, {"inputs": inputs})

    def state(self):
        return self.sb.control("state")["hubspot"]

    # ---- authentication

    def test_private_app_token_and_401s(self):
        resp = self.api("GET", "/crm/v3/objects/contacts/501")
        self.assertEqual(resp.status, 200, repr(resp))
        for token in (None, "wrong"):
            resp = self.api("GET", "/crm/v3/objects/contacts/501", token=token)
            self.assertHsError(resp, 401, "INVALID_AUTHENTICATION",
                               "Authentication credentials not found")

    def test_oauth_refresh_grant_and_expiry(self):
        for form, status in (({"refresh_token": "nope"}, "BAD_REFRESH_TOKEN"),
                             ({"client_id": "other"}, "BAD_CLIENT_ID"),
                             ({"client_secret": "bad"}, "BAD_CLIENT_SECRET"),
                             ({"grant_type": "authorization_code"}, "BAD_GRANT_TYPE")):
            resp = self.token_request(**form)
            self.assertEqual(resp.status, 400, repr(resp))
            self.assertEqual(resp.body["status"], status, repr(resp))
        resp = self.token_request()
        self.assertEqual(resp.status, 200, repr(resp))
        self.assertEqual(resp.body["token_type"], "bearer")
        self.assertEqual(resp.body["refresh_token"], REFRESH)
        self.assertEqual(resp.body["expires_in"], 1800)
        access = resp.body["access_token"]
        self.assertNotEqual(access, TOKEN)
        self.assertEqual(self.api("GET", "/crm/v3/objects/contacts/501", token=access).status, 200)
        # Expired: EXPIRED_AUTHENTICATION; a new refresh gives a working token again.
        self.assertEqual(self.sb.control("hubspot/expire", {"expires_in": 60})["expired"], 1)
        resp = self.api("GET", "/crm/v3/objects/contacts/501", token=access)
        self.assertHsError(resp, 401, "EXPIRED_AUTHENTICATION")
        resp = self.token_request()
        self.assertEqual(resp.body["expires_in"], 60)
        self.assertNotEqual(resp.body["access_token"], access)
        self.assertEqual(self.api("GET", "/crm/v3/objects/contacts/501",
                                  token=resp.body["access_token"]).status, 200)
        # The private app token keeps working throughout.
        self.assertEqual(self.api("GET", "/crm/v3/objects/contacts/501").status, 200)

    def test_account_info(self):
        resp = self.api("GET", "/account-info/v3/details")
        self.assertEqual(resp.status, 200, repr(resp))
        self.assertEqual(resp.body["portalId"], 62515)
        self.assertEqual(resp.body["uiDomain"], "app.hubspot.com")
        self.assertEqual(resp.body["dataHostingLocation"], "na1")
        self.assertIn("timeZone", resp.body)

    # ---- search

    def test_search_calculated_phone_numbers(self):
        # Both contacts whose phone is 415 555 0100 however written; the mobile one by its
        # national digits (the UK country code dropped).
        calc = "hs_searchable_calculated_phone_number"
        resp = self.search("contacts", self.where(
            [{"propertyName": calc, "operator": "EQ", "value": "4155550100"}]))
        self.assertEqual(sorted(self.ids(resp)), ["501", "503"])
        self.assertEqual(resp.body["total"], 2)
        resp = self.search("contacts", self.where(
            [{"propertyName": "hs_searchable_calculated_mobile_number", "operator": "EQ",
              "value": "2079460958"}]))
        self.assertEqual(self.ids(resp), ["502"])
        state = {c["id"]: c for c in self.state()["contacts"]}
        self.assertEqual(state["501"]["properties"][calc], "4155550100")
        # Calculated properties are read-only.
        resp = self.api("PATCH", "/crm/v3/objects/contacts/501", {"properties": {calc: "1"}})
        self.assertHsError(resp, 400, "VALIDATION_ERROR", calc)
        # Companies by phone, in an OR with a contact-less group.
        resp = self.search("companies", self.where(
            [{"propertyName": "phone", "operator": "EQ", "value": "+1 212 555 0199"}]))
        self.assertEqual(self.ids(resp), ["901"])
        # The phone index follows updates.
        self.api("PATCH", "/crm/v3/objects/contacts/503", {"properties": {"phone": "+1 650 555 0000"}})
        resp = self.search("contacts", self.where(
            [{"propertyName": calc, "operator": "EQ", "value": "4155550100"}]))
        self.assertEqual(self.ids(resp), ["501"])
        resp = self.search("contacts", self.where(
            [{"propertyName": calc, "operator": "IN", "values": ["6505550000", "2079460958"]}],
            [{"propertyName": "hs_searchable_calculated_mobile_number", "operator": "IN",
              "values": ["2079460958"]}]))
        self.assertEqual(sorted(self.ids(resp)), ["502", "503"])

    def test_search_operators_groups_sorts_paging(self):
        lee = {"propertyName": "lastname", "operator": "EQ", "value": "lee"}
        self.assertEqual(sorted(self.ids(self.search("contacts", self.where([lee])))),
                         ["501", "503"])
        # AND within a group, OR between groups.
        ann = {"propertyName": "firstname", "operator": "EQ", "value": "Ann"}
        bob = {"propertyName": "email", "operator": "EQ", "value": "BOB@example.com"}
        self.assertEqual(self.ids(self.search("contacts", self.where([lee, ann]))), ["501"])
        self.assertEqual(sorted(self.ids(self.search("contacts", self.where([lee, ann], [bob])))),
                         ["501", "502"])
        cases = [
            ({"propertyName": "lastname", "operator": "NEQ", "value": "Lee"}, ["502"]),
            ({"propertyName": "firstname", "operator": "IN", "values": ["ann", "cy"]},
             ["501", "503"]),
            ({"propertyName": "firstname", "operator": "NOT_IN", "values": ["ann", "cy"]},
             ["502"]),
            ({"propertyName": "phone", "operator": "HAS_PROPERTY"}, ["501", "503"]),
            ({"propertyName": "phone", "operator": "NOT_HAS_PROPERTY"}, ["502"]),
            ({"propertyName": "jobtitle", "operator": "CONTAINS_TOKEN", "value": "sales"},
             ["501"]),
            ({"propertyName": "jobtitle", "operator": "CONTAINS_TOKEN", "value": "sal*"},
             ["501"]),
            ({"propertyName": "jobtitle", "operator": "CONTAINS_TOKEN", "value": "ale"}, []),
            ({"propertyName": "hubspot_owner_id", "operator": "EQ", "value": "77001"}, ["503"]),
            ({"propertyName": "hs_object_id", "operator": "IN", "values": ["502", "999"]},
             ["502"]),
            ({"propertyName": "hs_object_id", "operator": "GT", "value": "501"}, ["502", "503"]),
        ]
        for flt, want in cases:
            with self.subTest(flt=flt):
                self.assertEqual(sorted(self.ids(self.search("contacts", self.where([flt])))),
                                 want)
        # Sorts, limit/after paging and the selected properties.
        body = self.where([{"propertyName": "email", "operator": "HAS_PROPERTY"}],
                          [{"propertyName": "phone", "operator": "HAS_PROPERTY"}],
                          sorts=[{"propertyName": "firstname", "direction": "DESCENDING"}],
                          properties=["phone", "firstname"], limit=2)
        resp = self.search("contacts", body)
        self.assertEqual(self.ids(resp), ["503", "502"])
        self.assertEqual(resp.body["total"], 3)
        self.assertEqual(resp.body["paging"]["next"]["after"], "2")
        first = resp.body["results"][0]
        self.assertEqual(first["properties"]["phone"], "415-555-0100")
        self.assertIsNone(resp.body["results"][1]["properties"]["phone"])
        self.assertFalse(first["archived"])
        self.assertIn("createdAt", first)
        self.assertIn("updatedAt", first)
        body["after"] = resp.body["paging"]["next"]["after"]
        resp = self.search("contacts", body)
        self.assertEqual(self.ids(resp), ["501"])
        self.assertNotIn("paging", resp.body)
        # Search answers carry no rate-limit headers.
        self.assertIsNone(resp.headers.get("X-HubSpot-RateLimit-Remaining"))

    def test_search_errors(self):
        bad = [
            self.where([{"propertyName": "lastname", "operator": "LIKE", "value": "x"}]),
            self.where([{"propertyName": "no_such_prop", "operator": "EQ", "value": "x"}]),
            self.where(*([[{"propertyName": "lastname", "operator": "EQ", "value": "x"}]] * 6)),
            self.where([{"propertyName": "lastname", "operator": "EQ", "value": "x"}] * 7),
            {"limit": 201},
        ]
        for body in bad:
            with self.subTest(body=body):
                self.assertHsError(self.search("contacts", body), 400, "VALIDATION_ERROR")
        resp = self.search("contacts", {})
        self.assertEqual(resp.body["total"], 3)

    # ---- objects

    def test_create_get_patch(self):
        resp = self.api("POST", "/crm/v3/objects/contacts", {"properties": {
            "firstname": "Unknown caller", "lastname": "+1 415 ***-**99", "phone": "+14155550199",
            "hs_lead_status": "NEW", "callbridge_phone": "+14155550199"}})
        self.assertEqual(resp.status, 201, repr(resp))
        cid = resp.body["id"]
        self.assertEqual(resp.body["properties"]["hs_lead_status"], "NEW")
        self.assertEqual(resp.body["properties"]["hs_object_id"], cid)
        resp = self.api("GET", "/crm/v3/objects/contacts/%s?properties=phone,callbridge_phone,"
                               "hs_searchable_calculated_phone_number,mobilephone" % cid)
        self.assertEqual(resp.status, 200, repr(resp))
        props = resp.body["properties"]
        self.assertEqual(props["hs_searchable_calculated_phone_number"], "4155550199")
        self.assertIsNone(props["mobilephone"])
        # By a unique property.
        resp = self.api("GET", "/crm/v3/objects/contacts/%2B14155550199?idProperty=callbridge_phone")
        self.assertEqual(resp.body["id"], cid, repr(resp))
        resp = self.api("GET", "/crm/v3/objects/contacts/x?idProperty=firstname")
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "firstname")
        # A second contact with the same unique value: 409.
        resp = self.api("POST", "/crm/v3/objects/contacts",
                        {"properties": {"callbridge_phone": "+14155550199"}})
        self.assertHsError(resp, 409, "CONFLICT", cid)
        resp = self.api("POST", "/crm/v3/objects/contacts",
                        {"properties": {"email": "ANN@example.com"}})
        self.assertHsError(resp, 409, "CONFLICT", "Existing ID: 501")
        # Patch, then read back.
        resp = self.api("PATCH", "/crm/v3/objects/contacts/%s" % cid,
                        {"properties": {"firstname": "Zed", "hs_lead_status": "OPEN"}})
        self.assertEqual(resp.status, 200, repr(resp))
        resp = self.api("GET", "/crm/v3/objects/contacts/%s?properties=firstname" % cid)
        self.assertEqual(resp.body["properties"]["firstname"], "Zed")
        # Errors: unknown object, unknown property, bad option, unknown owner, missing type.
        self.assertHsError(self.api("GET", "/crm/v3/objects/contacts/999999"), 404,
                           "OBJECT_NOT_FOUND")
        self.assertHsError(self.api("PATCH", "/crm/v3/objects/calls/999999",
                                    {"properties": {}}), 404, "OBJECT_NOT_FOUND")
        resp = self.api("POST", "/crm/v3/objects/calls", {"properties": {"bogus": "1"}})
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "bogus")
        self.assertEqual(resp.body["errors"][0]["code"], "PROPERTY_DOESNT_EXIST")
        self.assertEqual(resp.body["errors"][0]["context"]["propertyName"], ["bogus"])
        resp = self.api("POST", "/crm/v3/objects/calls", {"properties": {"hs_call_status": "X"}})
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "hs_call_status")
        resp = self.api("POST", "/crm/v3/objects/tasks", {"properties": {"hubspot_owner_id": "1"}})
        self.assertHsError(resp, 400, "VALIDATION_ERROR")
        self.assertEqual(resp.body["errors"][0]["code"], "INVALID_OWNER_ID")
        resp = self.api("POST", "/crm/v3/objects/notes",
                        {"properties": {"hs_note_body": "x" * 65537}})
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "hs_note_body")
        self.assertHsError(self.api("GET", "/crm/v3/objects/deals/1"), 400, "VALIDATION_ERROR",
                           "Unable to infer object type")

    def test_create_with_associations_and_v4_put(self):
        resp = self.api("POST", "/crm/v3/objects/calls", {
            "properties": {"hs_timestamp": "2026-12-07T10:00:00Z", "hs_call_title": "Call",
                           "hs_call_direction": "INBOUND", "hs_call_status": "COMPLETED",
                           "hs_call_duration": "61000", "hubspot_owner_id": "77001"},
            "associations": [{"to": {"id": "501"}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}]}]})
        self.assertEqual(resp.status, 201, repr(resp))
        call = resp.body["id"]
        resp = self.api("PUT", "/crm/v4/objects/calls/%s/associations/default/companies/901" % call)
        self.assertEqual(resp.status, 200, repr(resp))
        self.assertEqual(resp.body["results"][0]["associationSpec"]["associationTypeId"], 182)
        self.api("PUT", "/crm/v4/objects/calls/%s/associations/default/companies/901" % call)
        assocs = sorted((a["to_type"], a["to_id"], a["type_id"])
                        for a in self.state()["associations"] if a["from_id"] == call)
        self.assertEqual(assocs, [("companies", "901", 182), ("contacts", "501", 194)])
        # Errors: a missing target, a type id of another object, a missing object in v4.
        resp = self.api("POST", "/crm/v3/objects/calls", {"properties": {}, "associations": [
            {"to": {"id": "424242"}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                "associationTypeId": 194}]}]})
        self.assertHsError(resp, 400, "VALIDATION_ERROR")
        resp = self.api("POST", "/crm/v3/objects/notes", {"properties": {}, "associations": [
            {"to": {"id": "501"}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                             "associationTypeId": 194}]}]})
        self.assertHsError(resp, 400, "VALIDATION_ERROR")
        resp = self.api("PUT", "/crm/v4/objects/calls/%s/associations/default/contacts/1" % call)
        self.assertHsError(resp, 400, "VALIDATION_ERROR")

    # ---- batch upsert

    def test_batch_upsert_exactly_once(self):
        inp = {"idProperty": "callbridge_call_id", "id": "CA-1",
               "properties": {"hs_call_title": "first", "hs_call_status": "COMPLETED"}}
        resp = self.upsert("calls", [inp])
        self.assertEqual(resp.status, 200, repr(resp))
        self.assertEqual(resp.body["status"], "COMPLETE")
        first = resp.body["results"][0]
        self.assertTrue(first["new"])
        self.assertEqual(first["properties"]["callbridge_call_id"], "CA-1")
        self.assertIn("startedAt", resp.body)
        self.assertIn("completedAt", resp.body)
        inp["properties"]["hs_call_title"] = "second"
        resp = self.upsert("calls", [inp])
        self.assertEqual(resp.status, 200, repr(resp))
        self.assertFalse(resp.body["results"][0]["new"])
        self.assertEqual(resp.body["results"][0]["id"], first["id"])
        calls = self.state()["calls"]
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0]["properties"]["hs_call_title"], "second")
        # Search finds it by the unique property.
        resp = self.search("calls", self.where(
            [{"propertyName": "callbridge_call_id", "operator": "EQ", "value": "CA-1"}]))
        self.assertEqual(self.ids(resp), [first["id"]])

    def test_batch_upsert_partial_and_refused(self):
        good = {"idProperty": "callbridge_task_key", "id": "T-1",
                "properties": {"hs_task_subject": "Call back", "hs_task_status": "NOT_STARTED"}}
        bad = {"idProperty": "callbridge_task_key", "id": "T-2",
               "properties": {"hs_task_priority": "URGENT"}}
        resp = self.upsert("tasks", [good, bad])
        self.assertEqual(resp.status, 207, repr(resp))
        self.assertEqual(len(resp.body["results"]), 1)
        self.assertEqual(resp.body["numErrors"], 1)
        self.assertEqual(resp.body["errors"][0]["category"], "VALIDATION_ERROR")
        self.assertEqual(resp.body["errors"][0]["context"]["ids"], ["T-2"])
        self.assertEqual(len(self.state()["tasks"]), 1)
        resp = self.upsert("tasks", [bad])
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "URGENT")
        # Whole-request refusals: a non-unique idProperty, an unknown property, a repeated id.
        resp = self.upsert("tasks", [dict(good, idProperty="hs_task_subject")])
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "hs_task_subject")
        self.assertEqual(resp.body["errors"][0]["context"]["propertyName"], ["hs_task_subject"])
        resp = self.upsert("tasks", [dict(good, properties={"nope": "1"})])
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "nope")
        self.assertEqual(resp.body["errors"][0]["context"]["propertyName"], ["nope"])
        resp = self.upsert("tasks", [good, dict(good)])
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "Duplicate")
        self.assertHsError(self.upsert("tasks", []), 400, "VALIDATION_ERROR")
        self.assertEqual(len(self.state()["tasks"]), 1)
        # Another unique value held by another object: that input fails with CONFLICT.
        resp = self.upsert("contacts", [{"idProperty": "callbridge_phone", "id": "+14155550100",
                                         "properties": {"email": "bob@example.com"}}])
        self.assertHsError(resp, 409, "CONFLICT", "Existing ID: 502")
        self.assertEqual(resp.body["errors"][0]["category"], "CONFLICT")
        self.assertEqual(len(self.state()["contacts"]), 3)

    def test_batch_upsert_many_and_limits(self):
        inputs = [{"idProperty": "callbridge_call_id", "id": "CA-%d" % i,
                   "properties": {"hs_call_title": "Call %d" % i}} for i in range(100)]
        resp = self.upsert("calls", inputs)
        self.assertEqual(resp.status, 200, repr(resp))
        self.assertEqual(sorted(r["properties"]["callbridge_call_id"]
                                for r in resp.body["results"]),
                         sorted("CA-%d" % i for i in range(100)))
        # 101 inputs: the whole request refused, nothing written.
        resp = self.upsert("calls", inputs + [dict(inputs[0], id="CA-100")])
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "1 to 100")
        self.assertEqual(len(self.state()["calls"]), 100)
        # Text over 65,536 characters: that input only.
        resp = self.upsert("calls", [inputs[0], dict(inputs[1], properties={
            "hs_call_body": "x" * 65537})])
        self.assertEqual(resp.status, 207, repr(resp))
        self.assertEqual(resp.body["errors"][0]["context"]["ids"], ["CA-1"])
        self.assertEqual(resp.body["errors"][0]["errors"][0]["context"]["propertyName"],
                         ["hs_call_body"])

    def test_batch_read_by_unique_property(self):
        made = self.upsert("tasks", [
            {"idProperty": "callbridge_task_key", "id": "K-%d" % i,
             "properties": {"hs_task_subject": "Task %d" % i}} for i in range(3)]).body
        ids = {r["properties"]["callbridge_task_key"]: r["id"] for r in made["results"]}
        body = {"idProperty": "callbridge_task_key", "properties": ["callbridge_task_key"],
                "inputs": [{"id": "K-0"}, {"id": "K-2"}]}
        resp = self.api("POST", "/crm/v3/objects/tasks/batch/read", body)
        self.assertEqual(resp.status, 200, repr(resp))
        self.assertEqual(sorted((r["properties"]["callbridge_task_key"], r["id"])
                                for r in resp.body["results"]),
                         [("K-0", ids["K-0"]), ("K-2", ids["K-2"])])
        # Some not found: 207 naming them; by object id without idProperty.
        body["inputs"] = [{"id": "K-1"}, {"id": "K-9"}, {"id": "K-8"}]
        resp = self.api("POST", "/crm/v3/objects/tasks/batch/read", body)
        self.assertEqual(resp.status, 207, repr(resp))
        self.assertEqual([r["id"] for r in resp.body["results"]], [ids["K-1"]])
        self.assertEqual(resp.body["errors"][0]["category"], "OBJECT_NOT_FOUND")
        self.assertEqual(resp.body["errors"][0]["context"]["ids"], ["K-9", "K-8"])
        resp = self.api("POST", "/crm/v3/objects/tasks/batch/read",
                        {"inputs": [{"id": ids["K-1"]}]})
        self.assertEqual(resp.status, 200, repr(resp))
        # Refused: not a unique property, no inputs, over 100.
        resp = self.api("POST", "/crm/v3/objects/tasks/batch/read",
                        {"idProperty": "hs_task_subject", "inputs": [{"id": "Task 1"}]})
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "hs_task_subject")
        resp = self.api("POST", "/crm/v3/objects/tasks/batch/read", {"inputs": []})
        self.assertHsError(resp, 400, "VALIDATION_ERROR")
        resp = self.api("POST", "/crm/v3/objects/tasks/batch/read",
                        {"inputs": [{"id": str(i)} for i in range(101)]})
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "1 to 100")

    def test_batch_associate_default(self):
        calls = [r["id"] for r in self.upsert("calls", [
            {"idProperty": "callbridge_call_id", "id": "CA-%d" % i, "properties": {}}
            for i in range(2)]).body["results"]]
        path = "/crm/v4/associations/calls/contacts/batch/associate/default"
        resp = self.api("POST", path, {"inputs": [
            {"from": {"id": c}, "to": {"id": "501"}} for c in calls]})
        self.assertEqual(resp.status, 200, repr(resp))
        self.assertEqual(sorted((r["from"]["id"], r["to"]["id"],
                                 r["associationSpec"]["associationTypeId"])
                                for r in resp.body["results"]),
                         sorted((c, "501", 194) for c in calls))
        # Again (idempotent), with one pair naming a contact that does not exist: 207.
        resp = self.api("POST", path, {"inputs": [
            {"from": {"id": calls[0]}, "to": {"id": "501"}},
            {"from": {"id": calls[1]}, "to": {"id": "424242"}}]})
        self.assertEqual(resp.status, 207, repr(resp))
        self.assertEqual([r["from"]["id"] for r in resp.body["results"]], [calls[0]])
        self.assertEqual(resp.body["numErrors"], 1)
        self.assertEqual(resp.body["errors"][0]["context"]["toObjectId"], ["424242"])
        assocs = [a for a in self.state()["associations"] if a["from_type"] == "calls"]
        self.assertEqual(sorted((a["from_id"], a["to_id"]) for a in assocs),
                         sorted((c, "501") for c in calls))
        # None made, no default type between the two, no inputs: 400.
        resp = self.api("POST", path, {"inputs": [{"from": {"id": "1"}, "to": {"id": "2"}}]})
        self.assertHsError(resp, 400, "VALIDATION_ERROR")
        resp = self.api("POST", "/crm/v4/associations/notes/calls/batch/associate/default",
                        {"inputs": [{"from": {"id": "1"}, "to": {"id": calls[0]}}]})
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "No default association type")
        self.assertHsError(self.api("POST", path, {"inputs": []}), 400, "VALIDATION_ERROR")
        self.assertEqual(self.sb.control("state")["requests"][
            "hubspot POST /crm/v4/associations/{type}/{type}/batch/associate/default"], 5)

    def test_schema_drop_makes_writes_fail(self):
        self.sb.control("hubspot/schema", {"drop": [{"object": "notes",
                                                     "property": "callbridge_note_key"}]})
        resp = self.upsert("notes", [{"idProperty": "callbridge_note_key", "id": "N-1",
                                      "properties": {"hs_note_body": "<p>hi</p>"}}])
        self.assertHsError(resp, 400, "VALIDATION_ERROR", "callbridge_note_key")
        resp = self.api("GET", "/crm/v3/properties/notes/callbridge_note_key")
        self.assertHsError(resp, 404, "OBJECT_NOT_FOUND")
        resp = self.sb.request("POST", "/__sandbox/hubspot/schema",
                               {"drop": [{"object": "notes", "property": "callbridge_note_key"}]})
        self.assertEqual(resp.status, 400, repr(resp))

    # ---- properties and owners

    def test_properties(self):
        resp = self.api("GET", "/crm/v3/properties/calls")
        self.assertEqual(resp.status, 200, repr(resp))
        byname = {p["name"]: p for p in resp.body["results"]}
        self.assertTrue(byname["callbridge_call_id"]["hasUniqueValue"])
        self.assertFalse(byname["hs_call_title"]["hasUniqueValue"])
        for key in ("label", "type", "fieldType", "groupName"):
            self.assertIn(key, byname["hs_call_status"])
        new = {"name": "callbridge_extra", "label": "Extra", "type": "string",
               "fieldType": "text", "groupName": "callinformation", "hasUniqueValue": True}
        resp = self.api("POST", "/crm/v3/properties/calls", new)
        self.assertEqual(resp.status, 201, repr(resp))
        self.assertTrue(resp.body["hasUniqueValue"])
        self.assertHsError(self.api("POST", "/crm/v3/properties/calls", new), 409,
                           "OBJECT_ALREADY_EXISTS", "callbridge_extra")
        resp = self.api("GET", "/crm/v3/properties/calls/callbridge_extra")
        self.assertEqual(resp.body["name"], "callbridge_extra", repr(resp))
        # The new unique property works as an idProperty at once.
        resp = self.upsert("calls", [{"idProperty": "callbridge_extra", "id": "E-1",
                                      "properties": {}}])
        self.assertEqual(resp.status, 200, repr(resp))
        resp = self.api("POST", "/crm/v3/properties/calls", {"name": "Bad Name", "label": "x"})
        self.assertHsError(resp, 400, "VALIDATION_ERROR")
        # Property groups (what `callbridge crm setup` files its properties under).
        group = {"name": "callbridge", "label": "callbridge"}
        resp = self.api("POST", "/crm/v3/properties/calls/groups", group)
        self.assertEqual(resp.status, 201, repr(resp))
        self.assertEqual(resp.body["name"], "callbridge")
        self.assertHsError(self.api("POST", "/crm/v3/properties/calls/groups", group), 409,
                           "OBJECT_ALREADY_EXISTS")
        resp = self.api("GET", "/crm/v3/properties/calls/groups")
        self.assertIn("callbridge", [g["name"] for g in resp.body["results"]])

    def test_owners(self):
        resp = self.api("GET", "/crm/v3/owners/77001")
        self.assertEqual(resp.status, 200, repr(resp))
        for key in ("id", "email", "firstName", "lastName", "userId"):
            self.assertIn(key, resp.body)
        self.assertEqual(resp.body["email"], "ada@example.com")
        self.assertHsError(self.api("GET", "/crm/v3/owners/1"), 404, "OBJECT_NOT_FOUND")
        resp = self.api("GET", "/crm/v3/owners?email=ADA@example.com")
        self.assertEqual([o["id"] for o in resp.body["results"]], ["77001"])

    # ---- rate limits, faults, counters, state

    def test_ten_second_limit(self):
        self.sb.control("hubspot/limits", {"max_per_10s": 3})
        seen = []
        for _ in range(3):
            resp = self.api("GET", "/crm/v3/objects/contacts/501")
            self.assertEqual(resp.status, 200, repr(resp))
            self.assertEqual(resp.headers.get("X-HubSpot-RateLimit-Max"), "3")
            self.assertEqual(resp.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"),
                             "10000")
            seen.append(int(resp.headers.get("X-HubSpot-RateLimit-Remaining")))
        self.assertEqual(seen, [2, 1, 0])
        resp = self.api("GET", "/crm/v3/objects/contacts/501")
        self.assertEqual(resp.status, 429, repr(resp))
        self.assertEqual(resp.body["policyName"], "TEN_SECONDLY_ROLLING")
        self.assertEqual(resp.body["errorType"], "RATE_LIMIT")
        self.assertIn("ten_secondly_rolling", resp.body["message"])
        self.assertEqual(resp.headers.get("X-HubSpot-RateLimit-Remaining"), "0")
        # Search has its own budget.
        self.assertEqual(self.search("contacts", {}).status, 200)

    def test_search_and_daily_limits(self):
        self.sb.control("hubspot/limits", {"search_per_s": 1})
        self.assertEqual(self.search("contacts", {}).status, 200)
        resp = self.search("contacts", {})
        self.assertEqual(resp.status, 429, repr(resp))
        self.assertIsNone(resp.headers.get("X-HubSpot-RateLimit-Remaining"))
        self.sb.control("reset")
        self.sb.control("seed", {"hubspot": {"contacts": CONTACTS}})
        self.sb.control("hubspot/limits", {"daily": 3})
        resp = self.search("contacts", {})  # the default search budget is back after reset
        self.assertEqual(resp.status, 200, repr(resp))
        resp = self.api("GET", "/crm/v3/objects/contacts/501")
        self.assertEqual(resp.headers.get("X-HubSpot-RateLimit-Daily"), "3")
        self.assertEqual(resp.headers.get("X-HubSpot-RateLimit-Daily-Remaining"), "1")
        self.api("GET", "/crm/v3/objects/contacts/501")
        resp = self.api("GET", "/crm/v3/objects/contacts/501")
        self.assertEqual(resp.status, 429, repr(resp))
        self.assertEqual(resp.body["policyName"], "DAILY")
        resp = self.sb.request("POST", "/__sandbox/hubspot/limits", {"daily": 0})
        self.assertEqual(resp.status, 400, repr(resp))

    def test_faults_in_hubspot_dialect_and_counters(self):
        self.sb.control("faults", {"rate_limit_rate": 1.0})
        resp = self.upsert("calls", [{"idProperty": "callbridge_call_id", "id": "F-1"}])
        self.assertEqual(resp.status, 429, repr(resp))
        self.assertEqual(resp.body["policyName"], "TEN_SECONDLY_ROLLING")
        self.sb.control("faults", {"error_rate": 1.0})
        resp = self.upsert("calls", [{"idProperty": "callbridge_call_id", "id": "F-1"}])
        self.assertGreaterEqual(resp.status, 500, repr(resp))
        self.assertEqual(resp.body["status"], "error", repr(resp))
        self.sb.control("faults", {})
        self.assertEqual(self.state()["calls"], [])
        requests = self.sb.control("state")["requests"]
        self.assertEqual(requests["hubspot POST /crm/v3/objects/calls/batch/upsert"], 2)

    def test_state_summary_and_reset(self):
        self.upsert("calls", [{"idProperty": "callbridge_call_id", "id": "S-1"}])
        resp = self.sb.request("GET", "/__sandbox/state?summary=1")
        hs = resp.body["hubspot"]
        self.assertEqual((hs["contacts"], hs["companies"], hs["calls"]), (3, 1, 1))
        resp = self.sb.request("GET", "/__sandbox/summary")
        self.assertEqual(resp.body["hubspot"]["calls"], 1)
        self.sb.control("reset")
        hs = self.state()
        self.assertEqual((hs["contacts"], hs["calls"], hs["owners"]), ([], [], []))
        # A bad seed changes nothing.
        for seed in ({"hubspot": {"contacts": [{"properties": {"nope": "x"}}]}},
                     {"hubspot": {"deals": []}},
                     {"hubspot": {"owners": [{"email": "x@example.com"}]}}):
            resp = self.sb.request("POST", "/__sandbox/seed", seed)
            self.assertEqual(resp.status, 400, repr(resp))
        self.assertEqual(self.state()["contacts"], [])


if __name__ == "__main__":
    unittest.main()
