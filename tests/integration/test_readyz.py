"""/readyz follows its dependencies: it answers 503 naming PostgreSQL (or Redis) while that
is down and 200 again once it is back, without restarting callbridge, which then works
normally (SPEC §4, issue 2 item 10). Uses a private PostgreSQL cluster and a private Redis,
never the shared ones, since it stops them."""

import harness
from harness import DaemonTestCase, PgCluster, RedisServer

TO = "+14155550123"


class ReadyzTest(DaemonTestCase):
    autostart = False

    def setUp(self):
        super().setUp()
        self.pg = PgCluster()
        self.addCleanup(self.pg.destroy)
        self.redis = RedisServer()
        self.addCleanup(self.redis.destroy)
        # Cleanups run last-in first-out: the daemon goes before its servers.
        self.daemon = self.new_daemon(pg=self.pg, redis_url=self.redis.url)
        self.daemon.migrate()
        self.daemon.token = self.daemon.apikey(self.agent)
        self.daemon.start()

    def readyz(self):
        return self.daemon.get("/readyz", token=None, timeout=15)

    def wait_not_ready(self, check):
        last = []

        def down():
            resp = self.readyz()
            last[:] = [resp]
            if resp.status == 200:
                return False
            self.assertStatus(resp, 503)
            return resp
        try:
            resp = self.wait_for(down, 30, "/readyz 503 naming %s" % check, interval=0.1)
        except AssertionError as e:
            raise AssertionError("%s; last response %r" % (e, last[:1])) from None
        body = resp.body
        self.assertIsInstance(body, dict, repr(resp))
        self.assertNotEqual(body.get("status"), "ready", repr(resp))
        checks = body.get("checks")
        self.assertIsInstance(checks, dict, "503 without checks: %r" % (resp,))
        self.assertNotEqual(checks.get(check, "ok"), "ok", repr(resp))
        self.assertIn(check, checks, repr(resp))
        return body

    def wait_ready_again(self):
        self.wait_for(lambda: self.readyz().status == 200, 30, "/readyz 200 again",
                      interval=0.1)
        self.assertEqual(self.readyz().body.get("checks"),
                         {"postgres": "ok", "redis": "ok", "migrations": "ok"})

    def assertWorks(self):
        resp = self.daemon.initiate({"to": TO})
        self.assertStatus(resp, 202)
        call_id = resp.body["call_id"]
        self.assertStatus(self.daemon.get("/api/calls/" + call_id), 200)
        self.wait_for(lambda: self.daemon.count("jobs", "call_id = '%s' AND state = 'done'"
                                                % call_id) == 2,
                      30, "the new call's jobs to be done (workers reconnected)")

    def test_postgres_down_and_back(self):
        self.assertStatus(self.readyz(), 200)
        self.assertWorks()
        pid = self.daemon.proc.pid

        self.pg.stop("fast")
        body = self.wait_not_ready("postgres")
        self.assertEqual(body["checks"].get("redis"), "ok", body)
        self.assertStatus(self.daemon.get("/healthz", token=None), 200)
        # Requests needing the database fail cleanly, not with a 500 or a hang.
        self.assertError(self.daemon.initiate({"to": TO}, timeout=30), 503, "db_unavailable")

        self.pg.start()
        self.wait_ready_again()
        self.assertTrue(self.daemon.running())
        self.assertEqual(self.daemon.proc.pid, pid, "callbridge was restarted")
        self.assertWorks()

    def test_redis_down_and_back(self):
        self.assertStatus(self.readyz(), 200)
        self.redis.stop()
        body = self.wait_not_ready("redis")
        self.assertEqual(body["checks"].get("postgres"), "ok", body)
        self.redis.start()
        self.wait_ready_again()
        self.assertTrue(self.daemon.running())
        self.assertWorks()


if __name__ == "__main__":
    harness.main()
