"""Leases after a PostgreSQL restart (issue 11, problem 1): a worker that cannot record a
job's outcome lets go of it, and the lease heartbeat renews only the jobs workers hold in
hand, so every such job runs again once its lease runs out and ends `done`; none stays
`running` while its instance lives. Uses a private PostgreSQL cluster, restarted with
`pg_ctl -m immediate` while jobs run ([workers] lease_s = 2 in the test config)."""

import harness
from harness import DaemonTestCase, PgCluster

JOBS = 80


class JobLeaseTest(DaemonTestCase):
    autostart = False

    def setUp(self):
        super().setUp()
        self.pg = PgCluster(durable=True)  # jobs inserted before the kill must survive it
        self.addCleanup(self.pg.destroy)
        self.daemon = self.new_daemon({"workers": {"threads": 4, "batch": 8}}, pg=self.pg)
        self.daemon.migrate()
        self.daemon.token = self.daemon.apikey(self.agent)
        self.daemon.start()

    def counts(self):
        rows = self.daemon.sql("SELECT state, count(*) FROM jobs WHERE kind = 'debug.sleep' "
                               "GROUP BY state")
        return {state: int(n) for state, n in rows}

    def test_jobs_finish_after_postgres_immediate_restart(self):
        d = self.daemon
        for _ in range(JOBS):
            d.insert_job("debug.sleep", {"ms": 150}, notify=False)
        d.sql("NOTIFY cb_jobs")

        # Restart while workers hold finished jobs and claimed ones: some done, some not.
        self.wait_for(lambda: self.counts().get("done", 0) >= 4 and
                      self.counts().get("running", 0) > 0, 30,
                      "some jobs done and some running")
        self.pg.stop("immediate")
        self.pg.start()

        last = {}

        def all_done():
            last.clear()
            last.update(self.counts())
            return last.get("done", 0) == JOBS
        try:
            # Leases are 2 s: a job whose outcome was lost is claimed again within a few.
            self.wait_for(all_done, 60, "every job done after the restart")
        except AssertionError:
            stuck = d.sql("SELECT id, state, attempts, locked_by, available_at > now() "
                          "FROM jobs WHERE state <> 'done' ORDER BY id LIMIT 10")
            raise AssertionError("jobs not done: %r; e.g. %r" % (last, stuck)) from None
        self.assertEqual(d.count("jobs", "state = 'running'"), 0)


if __name__ == "__main__":
    harness.main()
