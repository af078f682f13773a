"""Dead letters without psql (issue 11, item 3): `callbridge jobs list|retry` and the admin
API GET /api/admin/jobs, POST /api/admin/jobs/{id}/retry — listing by state and kind with
cursor paging, sending dead jobs back to the queue with attempts reset, and the bad-input
matrix (agent keys 403, unknown id 404, a job not dead 409, malformed queries 400), each
answered in the spec's error shape with nothing changed."""

import json

import harness
from harness import DaemonTestCase


class JobAdminTest(DaemonTestCase):

    def setUp(self):
        super().setUp()
        self.admin = self.daemon.apikey("root", admin=True)

    def dead_job(self, kind="debug.fail"):
        job = self.daemon.insert_job(kind, {"permanent": True})
        return self.daemon.wait_job_state(job, "dead", timeout=30) and job

    def cli(self, *args):
        return self.daemon.cli("jobs", *(list(args) + ["-c", self.daemon.conf_path]))

    def api(self, method, path, token=None):
        return self.daemon.request(method, path, token=token or self.admin)

    def finished_at(self, job):
        return self.daemon.sql_value("SELECT coalesce(finished_at::text, '') FROM jobs "
                                     "WHERE id = %d" % job)

    def wait_rerun(self, job, finished_before):
        """The retried job ran again: permanently failing, it is dead after one new attempt."""
        d = self.daemon
        self.wait_for(lambda: d.job(job)["state"] == "dead" and
                      self.finished_at(job) not in ("", finished_before), 30,
                      "job %d to run again" % job)
        self.assertEqual(d.job(job)["attempts"], 1)

    # ---- CLI

    def test_cli_lists_and_retries_dead_jobs(self):
        d = self.daemon
        dead = [self.dead_job() for _ in range(3)]
        done = d.insert_job("debug.sleep", {"ms": 1})
        d.wait_job_state(done, "done")

        p = self.cli("list", "--state", "dead", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual(sorted(r["id"] for r in rows), sorted(dead))
        for r in rows:
            self.assertEqual((r["kind"], r["state"], r["attempts"]), ("debug.fail", "dead", 1))
            self.assertIn("failing on purpose", r["last_error"])
            for key in ("call_id", "available_at"):
                self.assertIn(key, r)

        table = self.cli("list", "--kind", "debug.sleep")
        self.assertEqual(table.returncode, 0, table.stderr)
        self.assertIn("LAST_ERROR", table.stdout.splitlines()[0])
        self.assertEqual(len(table.stdout.splitlines()), 2, table.stdout)
        self.assertIn("debug.sleep", table.stdout)
        limited = self.cli("list", "--limit", "1", "--json")
        self.assertEqual(len(limited.stdout.splitlines()), 1, limited.stdout)

        before = self.finished_at(dead[0])
        one = self.cli("retry", str(dead[0]))
        self.assertEqual(one.returncode, 0, one.stderr)
        self.assertIn("1 dead job queued again", one.stdout)
        self.wait_rerun(dead[0], before)

        before = {j: self.finished_at(j) for j in dead}
        many = self.cli("retry", "--dead", "--kind", "debug.fail")
        self.assertEqual(many.returncode, 0, many.stderr)
        self.assertIn("3 dead jobs queued again", many.stdout)
        for j in dead:
            self.wait_rerun(j, before[j])
        none = self.cli("retry", "--dead", "--kind", "no.such")
        self.assertIn("0 dead jobs queued again", none.stdout)

    def test_cli_bad_input(self):
        d = self.daemon
        done = d.insert_job("debug.sleep", {"ms": 1})
        d.wait_job_state(done, "done")
        cases = [
            (("list", "--state", "zombie"), 2, "--state"),
            (("list", "--limit", "0"), 2, "--limit"),
            (("list", "--limit", "x"), 2, "--limit"),
            (("list", "--kind", "bad kind!"), 2, "--kind"),
            (("list", "7"), 2, "list takes"),
            (("retry",), 2, "retry takes"),
            (("retry", "1", "--dead"), 2, "retry takes"),
            (("retry", "abc"), 2, "positive integer"),
            (("frobnicate",), 2, "list or retry"),
            (("retry", "999999"), 1, "no job 999999"),
            (("retry", str(done)), 1, "is done; only dead jobs"),
        ]
        for args, rc, msg in cases:
            with self.subTest(args=args):
                p = self.cli(*args)
                self.assertEqual(p.returncode, rc, (p.stdout, p.stderr))
                self.assertIn(msg, p.stderr)
        self.assertEqual(d.job(done)["state"], "done")

    # ---- API

    def test_api_lists_pages_and_retries(self):
        d = self.daemon
        dead = [self.dead_job() for _ in range(3)]
        r = self.api("GET", "/api/admin/jobs?state=dead&limit=2")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([j["id"] for j in r.body["jobs"]], sorted(dead, reverse=True)[:2])
        self.assertIsNotNone(r.body["next_cursor"])
        r2 = self.api("GET", "/api/admin/jobs?state=dead&limit=2&cursor=" + r.body["next_cursor"])
        self.assertEqual([j["id"] for j in r2.body["jobs"]], [min(dead)])
        self.assertIsNone(r2.body["next_cursor"])
        j = r2.body["jobs"][0]
        for key in ("id", "kind", "call_id", "state", "attempts", "available_at", "last_error"):
            self.assertIn(key, j)
        self.assertEqual(self.api("GET", "/api/admin/jobs?kind=debug.sleep").body["jobs"], [])

        before = self.finished_at(dead[1])
        r = self.api("POST", "/api/admin/jobs/%d/retry" % dead[1])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, {"id": dead[1], "state": "queued"})
        self.wait_rerun(dead[1], before)
        self.assertEqual(d.job(dead[0])["state"], "dead")  # the others are left alone

    def test_api_bad_input(self):
        d = self.daemon
        dead = self.dead_job()
        done = d.insert_job("debug.sleep", {"ms": 1})
        d.wait_job_state(done, "done")
        before = d.sql("SELECT id, state, attempts, updated_at FROM jobs ORDER BY id")
        cases = [
            ("GET", "/api/admin/jobs", d.token, 403, "forbidden"),
            ("POST", "/api/admin/jobs/%d/retry" % dead, d.token, 403, "forbidden"),
            ("POST", "/api/admin/jobs/999999/retry", None, 404, "not_found"),
            ("POST", "/api/admin/jobs/abc/retry", None, 404, "not_found"),
            ("POST", "/api/admin/jobs/-1/retry", None, 404, "not_found"),
            ("POST", "/api/admin/jobs/%d/retry" % done, None, 409, "job_not_dead"),
            ("GET", "/api/admin/jobs?state=zombie", None, 400, "invalid_query"),
            ("GET", "/api/admin/jobs?state=", None, 400, "invalid_query"),
            ("GET", "/api/admin/jobs?kind=a%20b", None, 400, "invalid_query"),
            ("GET", "/api/admin/jobs?limit=0", None, 400, "invalid_query"),
            ("GET", "/api/admin/jobs?limit=501", None, 400, "invalid_query"),
            ("GET", "/api/admin/jobs?limit=ten", None, 400, "invalid_query"),
            ("GET", "/api/admin/jobs?cursor=xyz", None, 400, "invalid_cursor"),
            ("GET", "/api/admin/jobs?cursor=-5", None, 400, "invalid_cursor"),
        ]
        for method, path, token, status, code in cases:
            with self.subTest(method=method, path=path):
                self.assertError(self.api(method, path, token=token), status, code)
        r = d.request("GET", "/api/admin/jobs", token="")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(d.sql("SELECT id, state, attempts, updated_at FROM jobs ORDER BY id"),
                         before, "bad input changed a job")


if __name__ == "__main__":
    harness.main()
