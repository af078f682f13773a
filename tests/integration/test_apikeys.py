"""`callbridge apikey list | revoke` (issue 11, operators' tools): a listing that shows ids,
never secrets; a revocation every instance honours within a second although each caches
verified keys for [auth] cache_ttl_s."""

import harness
from harness import DaemonTestCase

CONFIG = {"auth": {"cache_ttl_s": 300}}


def listing(daemon, *extra):
    p = daemon.cli("apikey", "list", "-c", daemon.conf_path, *extra)
    if p.returncode != 0:
        raise AssertionError("apikey list failed (exit %d): %s" % (p.returncode, p.stderr))
    lines = p.stdout.splitlines()
    head = lines[0].split()
    rows = [dict(zip(head, line.split())) for line in lines[1:]]
    return p.stdout, rows


class ApiKeysTest(DaemonTestCase):
    config = CONFIG

    def test_list_shows_ids_never_secrets(self):
        admin = self.daemon.apikey("root", admin=True)
        text, rows = listing(self.daemon)
        self.assertNotIn(self.key.split("_", 2)[2], text, "a secret is listed")
        self.assertNotIn(admin.split("_", 2)[2], text, "a secret is listed")
        by_id = {r["KEY_ID"]: r for r in rows}
        alice = by_id[self.key.split("_")[1]]
        self.assertEqual((alice["AGENT"], alice["ADMIN"], alice["REVOKED"]), ("alice", "no", "-"))
        self.assertEqual(by_id[admin.split("_")[1]]["ADMIN"], "yes")
        _, only_root = listing(self.daemon, "--agent", "root")
        self.assertEqual([r["AGENT"] for r in only_root], ["root"])
        # use is recorded (in batches)
        self.assertStatus(self.daemon.get("/api/calls"), 200)
        self.wait_for(lambda: [r for r in listing(self.daemon)[1]
                               if r["AGENT"] == "alice" and r["LAST_USED"] != "-"],
                      15, "alice's key to show a last use", interval=0.5)

    def test_revocation_reaches_every_instance_within_a_second(self):
        other = self.new_daemon(self.config, db=self.daemon.db)
        other.token = self.key
        other.start()
        bob = self.daemon.apikey("bob")
        # both instances have verified (and cached) the key
        for d in (self.daemon, other):
            self.assertStatus(d.get("/api/calls"), 200)
            self.assertStatus(d.get("/api/calls"), 200)
        key_id = self.key.split("_")[1]
        p = self.daemon.cli("apikey", "revoke", key_id, "-c", self.daemon.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        for d in (self.daemon, other):
            self.wait_for(lambda: d.get("/api/calls").status == 401, 3,
                          "the revoked key to be refused on port %d" % d.port)
        # other keys still work; the listing says revoked; revoking again is an error
        self.assertStatus(other.get("/api/calls", token=bob), 200)
        revoked = [r for r in listing(self.daemon)[1] if r["KEY_ID"] == key_id]
        self.assertNotEqual(revoked[0]["REVOKED"], "-")
        p = self.daemon.cli("apikey", "revoke", key_id, "-c", self.daemon.conf_path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        p = self.daemon.cli("apikey", "revoke", "0000000000000000", "-c", self.daemon.conf_path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        p = self.daemon.cli("apikey", "revoke", "not-a-key", "-c", self.daemon.conf_path)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)


if __name__ == "__main__":
    harness.main()
