"""Agents as first-class records (issue 13, item 2): `callbridge agent add|set|list`, the admin
API (/api/admin/agents, /api/agent) with its bad-input matrix, admin rights that follow the
agent (agents.admin) on every key within a second, rows made for existing keys and calls by
migration 010 and by `apikey create`; the agent's Salesforce User id owning the call's Task and
its follow-up Task; and an inbound call ringing the agent mapped to the caller's record owner
through agents.crm_user_id (15/18-character ids alike), not the agent named like the owner."""

import json
import os
import uuid

import harness
import sfstack
import test_twilio_calls as tw
from harness import DaemonTestCase, wait_for
from sse import SseStream
from twilio_sign import form_request

BOB_USER = {"Id": "005Dn000001AbCdIAK", "Username": "bob.sf@callbridge.test", "Name": "Bob SF",
            "Email": "bob.sf@callbridge.test", "IsActive": True}
BOB_CONTACT = {"Id": "003000000000002AAA", "FirstName": "Grace", "LastName": "Hopper",
               "Phone": "(212) 555-0142", "LastModifiedDate": "2026-11-02T10:00:00.000+0000",
               "OwnerId": BOB_USER["Id"]}
BOB_CALLER = "+12125550142"


class AgentCase(DaemonTestCase):
    """The agents' CRM user ids are the CRM provider's (its user_id_canon): these tests run
    with Salesforce (the sandbox), whose User ids come in 15- and 18-character forms."""

    autostart = False

    def setUp(self):
        super().setUp()
        self.sb = sfstack.Sandbox().start()
        self.addCleanup(self.sb.close)
        self.daemon = self.new_daemon(harness.merge_config(self.config, self.sb.daemon_config()))
        self.daemon.migrate()
        self.key = self.daemon.token = self.daemon.apikey(self.agent)
        self.daemon.start()
        self.admin = self.daemon.apikey("root", admin=True)

    def cli(self, *args):
        return self.daemon.cli("agent", *(list(args) + ["-c", self.daemon.conf_path]))

    def api(self, method, path, body=None, token=None, headers=None):
        return self.daemon.request(method, path, body, headers=headers,
                                   token=token or self.admin)

    def agents(self):
        r = self.api("GET", "/api/admin/agents")
        self.assertStatus(r, 200)
        return {a["name"]: a for a in r.body["agents"]}

    def is_admin(self, token):
        return self.daemon.get("/api/admin/agents", token=token).status == 200


class AgentCliTest(AgentCase):

    def test_add_set_list(self):
        p = self.cli("add", "bob", "--display-name", "Bob Builder", "--crm-user-id",
                     "005dn000001abcdiak", "--phone", "(415) 555-0123")
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "added bob"), p.stderr)
        rows = {r["name"]: r for r in map(json.loads,
                                          self.cli("list", "--json").stdout.splitlines())}
        self.assertEqual(sorted(rows), ["alice", "bob", "root"])  # keys made alice and root
        bob = rows["bob"]
        self.assertEqual((bob["display_name"], bob["crm_user_id"], bob["phone"], bob["admin"]),
                         ("Bob Builder", "005Dn000001AbCdIAK", "+14155550123", False))
        self.assertTrue(rows["root"]["admin"])
        self.assertFalse(rows["alice"]["admin"])
        table = self.cli("list")
        self.assertEqual(table.returncode, 0, table.stderr)
        lines = table.stdout.splitlines()
        self.assertTrue(lines[0].startswith("NAME"), lines)
        self.assertIn("CRM_USER_ID", lines[0])
        bob_line = [ln for ln in lines if ln.startswith("bob ")]
        self.assertEqual(len(bob_line), 1, lines)
        for part in ("Bob Builder", "005Dn000001AbCdIAK", "+14155550123", "no"):
            self.assertIn(part, bob_line[0])

        p = self.cli("set", "bob", "--admin", "--clear", "phone", "--display-name", "Robert")
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "updated bob"), p.stderr)
        bob = self.agents()["bob"]
        self.assertEqual((bob["display_name"], bob["crm_user_id"], bob["phone"], bob["admin"]),
                         ("Robert", "005Dn000001AbCdIAK", None, True))
        self.assertEqual(self.cli("set", "bob", "--no-admin", "--clear", "crm-user-id")
                         .returncode, 0)
        bob = self.agents()["bob"]
        self.assertEqual((bob["crm_user_id"], bob["admin"]), (None, False))

    def test_bad_input(self):
        self.assertEqual(self.cli("add", "bob", "--crm-user-id", "005Dn000001AbCd").returncode, 0)
        before = self.agents()
        cases = [
            (("add",), 2, "which agent"),
            (("add", "b o b"), 2, "name:"),
            (("add", "carol", "--crm-user-id", "003000000000001"), 2, "crm_user_id"),
            (("add", "carol", "--crm-user-id", "005Dn000001AbCdIA6"), 2, "crm_user_id"),
            (("add", "carol", "--phone", "not a phone"), 2, "phone"),
            (("add", "carol", "--display-name", ""), 2, "display_name"),
            (("add", "carol", "--display-name", "a\nb"), 2, "display_name"),
            (("add", "carol", "--no-admin"), 2, "add takes"),
            (("add", "carol", "--bogus"), 2, "unknown option"),
            (("add", "carol", "--phone"), 2, "needs a value"),
            (("add", "carol", "dave"), 2, "too many"),
            (("set", "bob"), 2, "set needs something"),
            (("set", "bob", "--admin", "--no-admin"), 2, "not both"),
            (("set", "bob", "--clear", "name"), 2, "--clear takes"),
            (("set", "bob", "--json", "--admin"), 2, "set takes no --json"),
            (("list", "bob"), 2, "list takes"),
            (("frobnicate",), 2, "add, set or list"),
            ((), 2, "add, set or list"),
            (("add", "bob"), 1, "agent bob exists"),
            (("set", "nobody", "--admin"), 1, "no agent nobody"),
            (("add", "carol", "--crm-user-id", "005DN000001ABCDIAK"), 1,
             "another agent has CRM user id 005Dn000001AbCdIAK"),
            (("set", "alice", "--crm-user-id", "005dn000001abcdIAK"), 1,
             "another agent has CRM user id"),
        ]
        for args, rc, msg in cases:
            with self.subTest(args=args):
                p = self.cli(*args)
                self.assertEqual(p.returncode, rc, (p.stdout, p.stderr))
                self.assertIn(msg, p.stderr)
                self.assertEqual(p.stdout, "")
        self.assertEqual(self.agents(), before)  # nothing written

    def test_apikey_create_makes_the_agent_and_rights_follow_it(self):
        d = self.daemon
        self.assertFalse(self.is_admin(self.key))
        d.apikey("dave")
        self.assertEqual(self.agents()["dave"]["admin"], False)
        # An admin key makes its agent an admin: every key of the agent has the rights.
        second = d.apikey("alice", admin=True)
        self.assertTrue(self.agents()["alice"]["admin"])
        self.assertTrue(self.is_admin(second))
        wait_for(lambda: self.is_admin(self.key), 10, "alice's first key to be an admin's")
        keys = [ln for ln in d.cli("apikey", "list", "--agent", "alice", "-c", d.conf_path)
                .stdout.splitlines()[1:]]
        self.assertEqual(len(keys), 2)
        self.assertTrue(all(" yes " in ln for ln in keys), keys)
        # Taking the rights away reaches the cached keys too, within a second or so.
        self.assertEqual(self.cli("set", "alice", "--no-admin").returncode, 0)
        wait_for(lambda: not self.is_admin(self.key) and not self.is_admin(second), 10,
                 "alice's keys to lose admin rights")
        # A plain key never demotes.
        d.apikey("root")
        self.assertTrue(self.agents()["root"]["admin"])


class AgentApiTest(AgentCase):

    def test_create_get_patch_list(self):
        r = self.api("POST", "/api/admin/agents",
                     {"name": "bob", "display_name": "Bob", "crm_user_id": "005Dn000001AbCd",
                      "phone": "+1 415 555 0123", "admin": False})
        self.assertStatus(r, 201)
        bob = r.body
        self.assertEqual({k: bob[k] for k in ("name", "display_name", "crm_user_id", "phone",
                                              "admin")},
                         {"name": "bob", "display_name": "Bob",
                          "crm_user_id": "005Dn000001AbCdIAK", "phone": "+14155550123",
                          "admin": False})
        self.assertRegex(bob["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        self.assertEqual(self.api("GET", "/api/admin/agents/bob").body, bob)
        self.assertEqual(sorted(self.agents()), ["alice", "bob", "root"])
        minimal = self.api("POST", "/api/admin/agents", {"name": "carol@example.com"})
        self.assertStatus(minimal, 201)
        self.assertEqual([minimal.body[k] for k in ("display_name", "crm_user_id", "phone",
                                                    "admin")], [None, None, None, False])
        self.assertStatus(self.api("GET", "/api/admin/agents/carol%40example.com"), 200)

        r = self.api("PATCH", "/api/admin/agents/bob", {"phone": None, "display_name": "Robert"})
        self.assertStatus(r, 200)
        self.assertEqual((r.body["phone"], r.body["display_name"], r.body["crm_user_id"]),
                         (None, "Robert", "005Dn000001AbCdIAK"))
        self.assertGreaterEqual(r.body["updated_at"], bob["updated_at"])
        same = self.api("PATCH", "/api/admin/agents/bob", {})
        self.assertEqual((same.status, same.body), (200, r.body))
        r = self.api("PATCH", "/api/admin/agents/bob",
                     {"admin": True, "crm_user_id": "005dn000001abcd", "phone": "(212) 555-0142"})
        self.assertEqual((r.body["admin"], r.body["crm_user_id"], r.body["phone"]),
                         (True, "005dn000001abcdAAA", "+12125550142"))
        r = self.api("PATCH", "/api/admin/agents/bob", {"crm_user_id": None})
        self.assertIsNone(r.body["crm_user_id"])

        # Every agent sees its own record.
        me = self.daemon.get("/api/agent")
        self.assertStatus(me, 200)
        self.assertEqual((me.body["name"], me.body["admin"]), ("alice", False))
        bob_key = self.daemon.apikey("bob")
        me = self.daemon.get("/api/agent", token=bob_key)
        self.assertEqual((me.body["name"], me.body["display_name"], me.body["admin"]),
                         ("bob", "Robert", True))

    def test_bad_input(self):
        self.assertStatus(self.api("POST", "/api/admin/agents",
                                   {"name": "bob", "crm_user_id": "005Dn000001AbCd"}), 201)
        before = self.agents()
        post = "/api/admin/agents"
        bob = "/api/admin/agents/bob"
        text = {"Content-Type": "text/plain"}
        cases = [
            ("POST", post, "{", None, 400, "malformed_json"),
            ("POST", post, "[]", None, 400, "invalid_body"),
            ("POST", post, "", None, 400, "malformed_json"),
            ("POST", post, '{"name":"x"}', text, 415, "unsupported_media_type"),
            ("POST", post, {"name": "x" * 5000}, None, 413, "payload_too_large"),
            ("POST", post, {}, None, 422, "missing_field"),
            ("POST", post, {"name": None}, None, 422, "invalid_field"),
            ("POST", post, {"name": 5}, None, 422, "invalid_field"),
            ("POST", post, {"name": "b o b"}, None, 422, "invalid_field"),
            ("POST", post, {"name": "a" * 128}, None, 422, "invalid_field"),
            ("POST", post, {"name": "carol", "role": "boss"}, None, 422, "invalid_field"),
            ("POST", post, {"name": "carol", "display_name": 5}, None, 422, "invalid_field"),
            ("POST", post, {"name": "carol", "display_name": ""}, None, 422, "invalid_field"),
            ("POST", post, {"name": "carol", "display_name": "a\u0000b"}, None, 400,
             "malformed_json"),
            ("POST", post, {"name": "carol", "display_name": "a\u0007b"}, None, 422,
             "invalid_field"),
            ("POST", post, {"name": "carol", "crm_user_id": "003000000000001"}, None, 422,
             "invalid_field"),
            ("POST", post, {"name": "carol", "crm_user_id": "005Dn000001AbCdIA6"}, None, 422,
             "invalid_field"),
            ("POST", post, {"name": "carol", "crm_user_id": ["005Dn000001AbCd"]}, None, 422,
             "invalid_field"),
            ("POST", post, {"name": "carol", "phone": "call me"}, None, 422, "invalid_phone"),
            ("POST", post, {"name": "carol", "phone": 4155550123}, None, 422, "invalid_field"),
            ("POST", post, {"name": "carol", "admin": "yes"}, None, 422, "invalid_field"),
            ("POST", post, {"name": "carol", "admin": None}, None, 422, "invalid_field"),
            ("POST", post, {"name": "bob"}, None, 409, "agent_exists"),
            ("POST", post, {"name": "carol", "crm_user_id": "005DN000001ABCDIAK"}, None, 409,
             "crm_user_id_taken"),
            ("PATCH", bob, "{", None, 400, "malformed_json"),
            ("PATCH", bob, '{"admin":true}', text, 415, "unsupported_media_type"),
            ("PATCH", bob, {"name": "robert"}, None, 422, "invalid_field"),
            ("PATCH", bob, {"admin": 1}, None, 422, "invalid_field"),
            ("PATCH", bob, {"phone": "x"}, None, 422, "invalid_phone"),
            ("PATCH", bob, {"crm_user_id": "garbage"}, None, 422, "invalid_field"),
            ("PATCH", bob, {"colour": "blue"}, None, 422, "invalid_field"),
            ("PATCH", "/api/admin/agents/alice", {"crm_user_id": "005Dn000001AbCd"}, None, 409,
             "crm_user_id_taken"),
            ("PATCH", "/api/admin/agents/nobody", {"admin": True}, None, 404, "not_found"),
            ("PATCH", "/api/admin/agents/a%20b", {"admin": True}, None, 404, "not_found"),
            ("GET", "/api/admin/agents/nobody", None, None, 404, "not_found"),
            ("GET", "/api/admin/agents/a%2Fb", None, None, 404, "route_not_found"),
            ("DELETE", bob, None, None, 405, "method_not_allowed"),
            ("PUT", post, {"name": "x"}, None, 405, "method_not_allowed"),
        ]
        for method, path, body, headers, status, code in cases:
            with self.subTest(method=method, path=path, body=body):
                self.assertError(self.api(method, path, body, headers=headers), status, code)
        self.assertEqual(self.agents(), before)  # nothing written

    def test_non_admins_are_forbidden(self):
        before = self.agents()
        for method, path, body in [("GET", "/api/admin/agents", None),
                                   ("POST", "/api/admin/agents", {"name": "mallory"}),
                                   ("POST", "/api/admin/agents", "{"),
                                   ("GET", "/api/admin/agents/root", None),
                                   ("GET", "/api/admin/agents/nobody", None),
                                   ("PATCH", "/api/admin/agents/alice", {"admin": True}),
                                   ("PATCH", "/api/admin/agents/nobody", {"admin": True})]:
            with self.subTest(method=method, path=path):
                r = self.api(method, path, body, token=self.key)
                if body == "{":  # the body is read before the handler: malformed is malformed
                    self.assertError(r, 400, "malformed_json")
                else:
                    self.assertError(r, 403, "forbidden")
                self.assertError(self.daemon.request(method, path, body, token=None), 401,
                                 "unauthorized")
        self.assertEqual(self.agents(), before)
        self.assertFalse(self.agents()["alice"]["admin"])


class AgentMigrationTest(DaemonTestCase):
    autostart = False

    def test_migration_makes_rows_for_existing_keys_and_calls(self):
        d = self.new_daemon()
        d.migrate()
        # Back to the schema before migration 010, with keys and calls made meanwhile.
        d.sql("DROP TABLE agents")
        d.sql("INSERT INTO api_keys (key_id, key_hash, agent, admin, revoked_at) VALUES"
              " ('00000000000000a1', '\\x00', 'ann', false, NULL),"
              " ('00000000000000a2', '\\x00', 'ann', true, NULL),"
              " ('00000000000000b1', '\\x00', 'ben', false, NULL),"
              " ('00000000000000c1', '\\x00', 'cat', true, now())")
        for agent in ("ann", "zoe", "unassigned"):
            d.sql("INSERT INTO calls (id, agent, direction, to_e164, status, telephony, crm,"
                  " crm_state) VALUES ('%s', '%s', 'outbound', '+14155550123', 'queued',"
                  " 'none', 'none', 'local')" % (uuid.uuid4(), agent))
        # Migration 010 again, as `callbridge migrate` runs it (later ones stay applied).
        with open(os.path.join(harness.SOURCE_DIR, "src", "store", "sql", "010_agents.sql")) as f:
            d.sql(f.read())
        rows = d.sql("SELECT name, admin, crm_user_id IS NULL FROM agents ORDER BY name")
        self.assertEqual([tuple(r) for r in rows],
                         [("ann", "t", "t"), ("ben", "f", "t"), ("cat", "f", "t"),
                          ("zoe", "f", "t")])


class OwnerCase(tw.TwilioCallCase):
    """Salesforce and Twilio in the sandbox; alice dials, desk takes what nobody else does."""
    twilio = {"fallback_agent": "desk"}

    def setUp(self):
        super().setUp()
        self.sb.seed({"User": [BOB_USER], "Contact": [BOB_CONTACT]})

    def agent_cli(self, *args):
        p = self.daemon.cli("agent", *(list(args) + ["-c", self.daemon.conf_path]))
        self.assertEqual(p.returncode, 0, p.stderr)

    def inbound(self, sid, caller, status=None):
        params = {"CallSid": sid, "AccountSid": tw.ACCOUNT, "From": caller,
                  "To": tw.OUR_NUMBER, "Direction": "inbound", "CallStatus": "ringing"}
        path = "/webhooks/twilio/voice"
        if status is not None:
            path = "/webhooks/twilio/status"
            params.update(CallStatus=status, CallDuration="0")
        data, hdrs = form_request(tw.TOKEN, self.daemon.base_url, path, params)
        return self.daemon.request("POST", path, data, headers=hdrs, token=None)


class TaskOwnerTest(OwnerCase):

    def test_the_agents_crm_user_owns_the_task(self):
        # alice is mapped to the Contact's owner (given in its 15-character form).
        self.agent_cli("set", "alice", "--crm-user-id", tw.OWNER["Id"][:15])
        self.sb.outcome(to="*", status="completed", duration_s=7)
        cid = self.dial()
        self.wait_final(cid)
        task = self.wait_task(cid, Status="Completed")
        self.assertEqual(task["OwnerId"], tw.OWNER["Id"])
        # An agent without a CRM user id: the integration user owns it, as before.
        carol = self.daemon.apikey("carol")
        r = self.daemon.initiate({"to": tw.CUSTOMER}, token=carol)
        self.assertStatus(r, 202)
        other = r.body["call_id"]
        self.wait_final(other)
        self.assertEqual(self.wait_task(other, Status="Completed")["OwnerId"], sfstack.USER_ID)

    def test_an_owner_the_org_refuses_still_gets_the_task_written(self):
        # A User id of the right shape that this org does not have (a typo, another org).
        self.agent_cli("set", "alice", "--crm-user-id", "005000000000077")
        self.sb.outcome(to="*", status="completed", duration_s=3)
        cid = self.dial()
        self.wait_final(cid)
        task = self.wait_task(cid, Status="Completed")
        self.assertEqual(task["OwnerId"], sfstack.USER_ID)
        self.assertEqual(len(self.sb.tasks_of(cid)), 1)


class InboundOwnerTest(OwnerCase):

    def test_inbound_rings_the_agent_mapped_to_the_owner(self):
        # bob is mapped to the Contact's owner (18 characters, in capitals); an agent named
        # like the owner's Salesforce username is online too, and must not be rung.
        self.agent_cli("add", "bob", "--crm-user-id", BOB_USER["Id"].upper())
        bob = SseStream(self.daemon.port, self.daemon.apikey("bob"))
        self.addCleanup(bob.close)
        namesake = SseStream(self.daemon.port, self.daemon.apikey(BOB_USER["Username"]))
        self.addCleanup(namesake.close)

        sid = "CA" + uuid.uuid4().hex
        r = self.inbound(sid, BOB_CALLER)
        self.assertStatus(r, 200)
        self.assertIn(b"<Identity>bob</Identity>", r.raw)
        ev = bob.next_event(timeout=10, skip_types=("call_status", "agent_status"))
        self.assertEqual(ev["event"], "screen_pop")
        pop = json.loads(ev["data"])
        self.assertEqual([m["id"] for m in pop["matches"]], [BOB_CONTACT["Id"]])
        self.assertEqual(pop["matches"][0]["owner_id"], BOB_USER["Id"])
        row = self.daemon.sql("SELECT id, agent FROM calls WHERE provider_call_id = '%s'" % sid)
        self.assertEqual(row[0][1], "bob")

        # Nobody answers: the call log and the follow-up Task are bob's CRM user's.
        self.assertStatus(self.inbound(sid, BOB_CALLER, status="no-answer"), 204)
        cid = row[0][0]
        self.wait_final(cid, "no-answer")
        log = self.wait_task(cid, Status="Completed", CallType="Inbound")
        self.assertEqual((log["OwnerId"], log["WhoId"]), (BOB_USER["Id"], BOB_CONTACT["Id"]))

        def follow_up():
            t = [t for t in self.sb.records("Task")
                 if (t.get("Subject") or "").startswith("Call back")]
            return t or None
        tasks = wait_for(follow_up, 30, "the follow-up Task")
        self.assertEqual(len(tasks), 1)
        self.assertEqual((tasks[0]["OwnerId"], tasks[0]["WhoId"]),
                         (BOB_USER["Id"], BOB_CONTACT["Id"]))

    def test_owner_without_an_agent_or_offline_gets_the_fallback(self):
        # Nobody is mapped to the owner yet.
        r = self.inbound("CA" + uuid.uuid4().hex, BOB_CALLER)
        self.assertIn(b"<Identity>desk</Identity>", r.raw)
        # Mapped, but bob has no softphone open.
        self.agent_cli("add", "bob", "--crm-user-id", BOB_USER["Id"])
        r = self.inbound("CA" + uuid.uuid4().hex, BOB_CALLER)
        self.assertIn(b"<Identity>desk</Identity>", r.raw)


if __name__ == "__main__":
    harness.main()
