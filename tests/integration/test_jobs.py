"""The durable job queue: retries with backoff until dead, permanent failures, leases that
outlive a SIGKILLed worker, lease renewal for long jobs, SIGTERM draining, and several
instances sharing one queue (SPEC §3, issue 2 items 9 and 12).

Runs with [workers] threads = 2, max_attempts = 5, lease_s = 2, backoff 100..1000 ms and
the debug.sleep / debug.fail kinds registered."""

import signal

import harness
from harness import DaemonTestCase

MAX_ATTEMPTS = 5


class JobsTest(DaemonTestCase):

    def states(self, ids):
        rows = self.daemon.sql("SELECT id, state, attempts FROM jobs WHERE id IN (%s) ORDER BY id"
                               % ",".join(str(i) for i in ids))
        return {int(r[0]): (r[1], int(r[2])) for r in rows}

    def test_failing_job_is_retried_until_dead(self):
        job = self.daemon.insert_job("debug.fail", {"permanent": False})
        final = self.daemon.wait_job_state(job, ("done", "dead"), timeout=60)
        self.assertEqual(final["state"], "dead", final)
        self.assertEqual(final["attempts"], MAX_ATTEMPTS, final)
        self.assertTrue(final["last_error"], "dead job without last_error: %r" % final)
        self.assertTrue(final["finished"], "dead job without finished_at: %r" % final)

    def test_permanent_failure_is_dead_after_one_attempt(self):
        job = self.daemon.insert_job("debug.fail", {"permanent": True})
        final = self.daemon.wait_job_state(job, ("done", "dead"), timeout=30)
        self.assertEqual((final["state"], final["attempts"]), ("dead", 1), final)
        self.assertTrue(final["last_error"], final)

    def test_job_outliving_its_lease_runs_once(self):
        # 4 s of work under a 2 s lease: the worker must keep its lease alive, so the
        # other worker never claims the job while it runs.
        job = self.daemon.insert_job("debug.sleep", {"ms": 4000})
        final = self.daemon.wait_job_state(job, ("done", "dead"), timeout=30)
        self.assertEqual((final["state"], final["attempts"]), ("done", 1), final)

    def test_sigkill_mid_job_job_runs_again_after_lease_expiry(self):
        d = self.daemon
        job = d.insert_job("debug.sleep", {"ms": 4000})
        running = d.wait_job_state(job, "running", timeout=15)
        self.assertEqual(running["attempts"], 1, running)
        d.kill(signal.SIGKILL)
        self.assertEqual(d.wait_exit(10), -signal.SIGKILL)
        self.assertEqual(d.job(job)["state"], "running", "the dead worker's claim is still there")

        d.start()
        final = d.wait_job_state(job, ("done", "dead"), timeout=30)
        self.assertEqual((final["state"], final["attempts"]), ("done", 2), final)

    def test_sigterm_drains_running_jobs(self):
        d = self.daemon
        jobs = [d.insert_job("debug.sleep", {"ms": 500}, notify=False) for _ in range(8)]
        d.sql("NOTIFY cb_jobs")

        def some_running():
            return [j for j, (state, _) in self.states(jobs).items() if state == "running"]
        running = self.wait_for(some_running, 15, "a debug.sleep job to be running")
        d.kill(signal.SIGTERM)
        self.assertEqual(d.wait_exit(20), 0, "SIGTERM must exit 0")

        after = self.states(jobs)
        self.assertEqual([j for j, (s, _) in after.items() if s == "running"], [],
                         "jobs left running after drain: %r" % after)
        # A worker claims jobs in batches: the job in its hands is finished, the claimed
        # ones it had not started go back to the queue untouched (attempts 0).
        self.assertTrue(any(after[j] == ("done", 1) for j in running),
                        "the job in hand at SIGTERM must be finished: %r" % after)
        for j in running:
            self.assertIn(after[j], (("done", 1), ("queued", 0)),
                          "job %d was claimed at SIGTERM: %r" % (j, after))
        for j, (state, attempts) in after.items():
            if state == "queued":
                self.assertEqual(attempts, 0, "queued job %d was started: %r" % (j, after))
            else:
                self.assertEqual((state, attempts), ("done", 1), after)

        d.start()
        self.wait_for(lambda: all(s == "done" for s, _ in self.states(jobs).values()), 30,
                      "every job to be done after the restart")
        final = self.states(jobs)
        self.assertEqual(len(final), len(jobs))
        self.assertEqual({a for _, a in final.values()}, {1}, "a job ran twice: %r" % final)

    def test_sigterm_with_calls_in_flight_loses_nothing(self):
        d = self.daemon
        calls = []
        for i in range(10):
            resp = d.initiate({"to": "+1415555%04d" % i})
            self.assertStatus(resp, 202)
            calls.append(resp.body["call_id"])
        d.kill(signal.SIGTERM)
        self.assertEqual(d.wait_exit(20), 0)
        self.assertEqual(d.count("jobs", "state = 'running'"), 0)
        d.start()
        self.wait_for(lambda: d.count("jobs", "state <> 'done'") == 0, 30,
                      "every call's jobs to be done after the restart")
        self.assertEqual(d.count("jobs"), 2 * len(calls))
        self.assertEqual(d.count("jobs", "attempts <> 1"), 0)
        self.assertEqual(d.count("calls", "crm_state = 'local'"), len(calls))

    def test_two_instances_share_the_queue_without_running_a_job_twice(self):
        other = self.new_daemon(db=self.daemon.db)
        other.start()
        jobs = [self.daemon.insert_job("debug.sleep", {"ms": 50}, notify=False)
                for _ in range(30)]
        self.daemon.sql("NOTIFY cb_jobs")
        self.wait_for(lambda: all(s == "done" for s, _ in self.states(jobs).values()), 60,
                      "all 30 jobs done by two instances")
        self.assertEqual({a for _, a in self.states(jobs).values()}, {1})
        self.assertTrue(self.daemon.running() and other.running())


if __name__ == "__main__":
    harness.main()
