#!/usr/bin/env python3
"""callbridge's chaos soak (issue 11): N calls from many client threads against a stack of its
own, with upstream faults on every sandbox route, two kill -9 of the daemon, a Redis restart and
a PostgreSQL immediate restart while the calls are placed; then the backlog drains and the
invariants of tests/soak/invariants.py are checked from the outside. Prints a human summary and
a JSON report (also written to --report); exits 1 on any violation, 2 when the soak could not
run. Python standard library only. See tests/soak/README.md."""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid

import invariants
from stack import Stack
import harness

FAULT_OFF = 0.0


class Soak:
    def __init__(self, args):
        self.args = args
        self.t0 = time.monotonic()
        self.rng = random.Random(args.seed)
        self.lock = threading.Lock()
        self.accepted = {}      # idempotency key -> call_id
        self.rejected = []      # (key, status, body) answers that are neither accept nor retry
        self.retries = 0
        self.answers = {}       # status or error class -> count
        self.inflight = 0
        self.next_index = 0
        self.events = []        # disruptions and phases, with timestamps
        self.stop = threading.Event()
        self.chaos_error = None
        self.inflight_at_disruption = 0
        self.dials_on_the_wire = 0
        self.creates_base = 0
        self.last_accept = None
        # Keys and numbers come from the seed, so a run can be repeated call for call.
        self.keys = [str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
                     for _ in range(args.calls)]

    def log(self, msg):
        line = "[%7.1fs] %s" % (time.monotonic() - self.t0, msg)
        print(line, flush=True)

    def event(self, name, **detail):
        e = {"event": name, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "t_s": round(time.monotonic() - self.t0, 2)}
        e.update(detail)
        with self.lock:
            self.events.append(e)
        self.log("%s %s" % (name, json.dumps(detail, sort_keys=True)))

    # ---- clients

    def number(self, i):
        return "+1415%07d" % (6000000 + i)   # one customer per call, exchange 6xx

    def count(self, what):
        with self.lock:
            self.answers[what] = self.answers.get(what, 0) + 1

    def initiate(self, i):
        """POST /api/call/initiate for call i until accepted, with the same key on every try."""
        key, body = self.keys[i], {"to": self.number(i)}
        deadline = time.monotonic() + self.args.accept_timeout
        tries = []   # what each attempt met, for the report
        while not self.stop.is_set():
            with self.lock:
                self.inflight += 1
            try:
                r = self.stack.daemon.request("POST", "/api/call/initiate", body,
                                              headers={"Idempotency-Key": key}, timeout=30)
            except OSError as e:
                r = None
                self.count(type(e).__name__)
                tries.append(type(e).__name__)
            finally:
                with self.lock:
                    self.inflight -= 1
            if r is not None:
                self.count(r.status)
                tries.append(r.status)
                answer = r.body if isinstance(r.body, dict) else {}
                if r.status in (200, 201, 202) and answer.get("call_id"):
                    with self.lock:
                        self.accepted[key] = answer["call_id"]
                        self.last_accept = time.monotonic()
                    return
                if r.status not in (429, 500, 502, 503, 504):
                    with self.lock:
                        self.rejected.append({"key": key, "status": r.status,
                                              "tries": tries[-20:],
                                              "request_id": r.headers.get("X-Request-Id"),
                                              "body": r.raw[:300].decode("utf-8", "replace")})
                    return
            if time.monotonic() > deadline:
                with self.lock:
                    self.rejected.append({"key": key, "status": "never accepted",
                                          "tries": tries[-20:]})
                return
            with self.lock:
                self.retries += 1
            self.stop.wait(0.1 + self.rng.random() * 0.2)   # retry backoff, not a sync wait

    def client(self):
        while not self.stop.is_set():
            with self.lock:
                i = self.next_index
                if i >= self.args.calls:
                    return
                self.next_index += 1
            if self.args.rate > 0:   # open-loop pacing: call i is due at start + i / rate
                due = self.start + i / self.args.rate
                if self.stop.wait(max(0.0, due - time.monotonic())):
                    return
            self.initiate(i)

    def progress(self):
        with self.lock:
            return len(self.accepted) / self.args.calls

    # ---- chaos

    def busy(self):
        """Jobs claimed and, while clients still initiate, an initiate on the wire: a kill now
        lands mid-claim / mid-commit. An initiate takes a few ms, so the counter is watched
        closely for up to a second (it is in memory) before the answer is "not yet"."""
        rows = self.stack.sql("SELECT count(*) FROM jobs WHERE state = 'running'")
        if int(rows[0][0]) == 0:
            return False
        if self.clients_done():
            return True
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            with self.lock:
                self.inflight_at_disruption = self.inflight
            if self.inflight_at_disruption > 0:
                return True
            time.sleep(0.001)   # polling an in-memory counter
        return False

    def sandbox_summary(self):
        r = self.stack.sb.request("GET", "/__sandbox/summary")
        if r.status != 200:
            raise AssertionError("GET /__sandbox/summary: %r" % (r,))
        return r.body

    def creates_pending(self, sm=None):
        """Calls.json creates the sandbox received but has not answered (with faults off, each
        ends as a placed call), less those of the baseline."""
        sm = sm or self.sandbox_summary()
        return (int(sm["requests"].get("twilio.calls.create", 0)) - int(sm["twilio"]["calls"])
                - self.creates_base)

    def dialled_calls_ended(self):
        """Every create on the wire landed and every call at Twilio ended: all their callbacks
        went to no daemon."""
        sm = self.sandbox_summary()
        return self.creates_pending(sm) <= 0 and int(sm["twilio"]["calls_live"]) == 0

    def dial_in_flight(self):
        """A Calls.json create is on the wire, held by the sandbox's latency: it will be placed
        after the kill, with no daemon waiting for the answer."""
        self.dials_on_the_wire = self.creates_pending()
        return self.dials_on_the_wire > 0

    def wait_moment(self, what, predicate, timeout=20):
        try:
            harness.wait_for(predicate, timeout, what, interval=0.05)
            return True
        except AssertionError:
            return False   # disrupt anyway, and say the moment was not seen

    def chaos(self):
        try:
            self.disrupt()
        except Exception as e:  # noqa: BLE001 - the soak goes on and reports it
            self.chaos_error = "%s: %s" % (type(e).__name__, e)
            self.event("chaos failed", error=self.chaos_error)

    def disrupt(self):
        # PostgreSQL goes last: a later kill would end the process whose heartbeat keeps the
        # leases of jobs it could not settle alive (issue 11, item 1) and so hide that.
        plan = [(0.2, "kill -9 daemon (mid-claim/commit)"), (0.4, "kill -9 daemon (mid-dial)"),
                (0.6, "Redis restart"), (0.8, "PostgreSQL immediate restart")]
        for frac, name in plan:
            harness.wait_for(lambda: self.progress() >= frac or self.stop.is_set()
                             or self.clients_done(), 24 * 3600, name, interval=0.05)
            if self.stop.is_set():
                return
            at = round(self.progress() * 100, 1)
            if name.startswith("kill -9 daemon (mid-dial"):
                # Latency without faults, so the create on the wire surely lands.
                self.stack.faults(FAULT_OFF, latency_ms=1500)
                self.creates_base = 0
                self.creates_base = self.creates_pending()   # faulted creates of the past
                seen = self.wait_moment("a dial in flight", self.dial_in_flight)
                until = None if self.args.mid_dial_restart_at_once else self.dialled_calls_ended
                away = self.stack.kill_daemon(until)
                self.stack.faults(self.args.fault_rate)
                self.event(name, progress_pct=at, dial_in_flight=seen, away_s=round(away, 2),
                           dials_on_the_wire=self.dials_on_the_wire)
            elif name.startswith("kill"):
                seen = self.wait_moment("initiates and jobs in flight", self.busy)
                away = self.stack.kill_daemon()
                self.event(name, progress_pct=at, busy=seen, away_s=round(away, 2),
                           initiates_on_the_wire=self.inflight_at_disruption)
            elif name.startswith("PostgreSQL"):
                seen = self.wait_moment("initiates and jobs in flight", self.busy)
                away = self.stack.restart_pg(self.args.pg_down_s)
                self.event(name, progress_pct=at, busy=seen, down_s=round(away, 2),
                           initiates_on_the_wire=self.inflight_at_disruption)
            else:
                away = self.stack.restart_redis()
                self.event(name, progress_pct=at, down_s=round(away, 2))

    def clients_done(self):
        return all(not t.is_alive() for t in self.threads)

    # ---- drain

    def pending(self):
        rows = self.stack.sql(
            "SELECT (SELECT count(*) FROM jobs WHERE state IN ('queued', 'running') AND kind "
            "<> 'retention.sweep'), (SELECT count(*) FROM calls WHERE status NOT IN "
            "('completed', 'busy', 'no-answer', 'failed', 'canceled')), (SELECT "
            "coalesce(max(updated_at), now())::text FROM jobs), (SELECT "
            "coalesce(max(updated_at), now())::text FROM calls)")
        return int(rows[0][0]), int(rows[0][1]), rows[0][2] + rows[0][3]

    def drain(self):
        """Poll until every job is terminal and every call final, the deadline passes, or
        nothing has changed for --stall-timeout seconds (work that will never finish)."""
        deadline = time.monotonic() + self.args.drain_timeout
        last_change, last_mark, last_log = time.monotonic(), None, 0.0
        while True:
            try:
                jobs, calls, mark = self.pending()
            except RuntimeError as e:   # psql failed: PostgreSQL may still be recovering
                jobs, calls, mark = -1, -1, str(e)
            now = time.monotonic()
            if jobs == 0 and calls == 0:
                return "drained"
            if mark != last_mark:
                last_mark, last_change = mark, now
            if now - last_log > 10:
                self.log("draining: %d jobs pending, %d calls not final" % (jobs, calls))
                last_log = now
            if now > deadline:
                return "drain timeout (%d jobs pending, %d calls not final)" % (jobs, calls)
            if now - last_change > self.args.stall_timeout:
                return "stalled %ds (%d jobs pending, %d calls not final)" % (
                    self.args.stall_timeout, jobs, calls)
            time.sleep(0.5)   # polling interval of a deadline loop

    # ---- run

    def run(self):
        a = self.args
        self.stack = Stack(a, self.log)
        self.event("stack up", daemon_port=self.stack.daemon.port, db=self.stack.daemon.db)
        self.stack.faults(a.fault_rate)
        self.event("faults on", fault_rate=a.fault_rate)
        self.start = time.monotonic()
        self.threads = [threading.Thread(target=self.client, daemon=True)
                        for _ in range(a.clients)]
        for t in self.threads:
            t.start()
        # The disruptions run on this thread: the harness ties each child process's life to
        # the thread that started it (PR_SET_PDEATHSIG), so a restarted daemon, PostgreSQL or
        # Redis must be started by a thread that lives until the end.
        self.chaos()
        for t in self.threads:
            t.join()
        accepted_at = self.last_accept or time.monotonic()
        self.event("initiates done", accepted=len(self.accepted), rejected=len(self.rejected),
                   retries=self.retries)
        self.stack.faults(FAULT_OFF)
        self.event("faults off")
        drained = self.drain()
        end = time.monotonic()
        self.event("drain", result=drained)
        report = invariants.check(self.stack, self.accepted)
        if not self.stack.daemon.running():
            report["violations"]["daemon_exited"] = {
                "count": 1, "calls": ["exit code %s" % self.stack.daemon.proc.returncode]}
        for name, path in (("daemon", self.stack.daemon.log_path),
                           ("sandbox", self.stack.sb.log_path)):
            lines = harness.sanitizer_lines(path)
            if lines:
                report["violations"]["sanitizer_" + name] = {"count": len(lines),
                                                              "calls": lines[:5]}
        if self.chaos_error:
            report["violations"]["soak_error"] = {"count": 1, "calls": [self.chaos_error]}
        for r in self.rejected:
            report["violations"].setdefault("initiate_not_accepted", {"count": 0, "calls": []})
            report["violations"]["initiate_not_accepted"]["count"] += 1
            report["violations"]["initiate_not_accepted"]["calls"].append(r)
        n = len(self.accepted)
        report.update({
            "command": " ".join(sys.argv), "seed": a.seed, "calls": a.calls,
            "clients": a.clients, "fault_rate": a.fault_rate, "accepted": n,
            "initiate_answers": {str(k): v for k, v in sorted(self.answers.items(), key=str)},
            "initiate_retries": self.retries, "drain": drained,
            "initiate_s": round(accepted_at - self.start, 1),
            "total_s": round(end - self.start, 1),
            "initiate_calls_per_s": round(n / max(accepted_at - self.start, 1e-9), 1),
            "end_to_end_calls_per_s": round(n / max(end - self.start, 1e-9), 2),
            "events": self.events, "ok": not report["violations"],
        })
        return report


def summary(report):
    out = ["", "==== callbridge chaos soak: %s ====" % ("PASS" if report["ok"] else "FAIL"),
           "%d calls accepted of %d (%d clients, fault rate %.2f, seed %s), %d initiate retries"
           % (report["accepted"], report["calls"], report["clients"], report["fault_rate"],
              report["seed"], report["initiate_retries"]),
           "initiates %.1f s (%.1f calls/s); through drain %.1f s (%.2f calls/s); %s"
           % (report["initiate_s"], report["initiate_calls_per_s"], report["total_s"],
              report["end_to_end_calls_per_s"], report["drain"])]
    for e in report["events"]:
        out.append("  %7.1fs %s %s" % (e["t_s"], e["at"], e["event"]))
    info = report["info"]
    out.append("calls by status %s; jobs by state %s"
               % (info["call_status"], info["jobs_by_state"]))
    for d in info["jobs_dead_by_kind_and_reason"]:
        out.append("  dead %5d %-24s %s" % (d["count"], d["kind"], d["reason"]))
    if report["ok"]:
        out.append("every invariant holds")
    for name, v in sorted(report["violations"].items()):
        key = "calls" if "calls" in v else "jobs"
        out.append("VIOLATION %-28s %5d  e.g. %s" % (name, v["count"],
                                                  json.dumps(v[key][:3])[:400]))
    return "\n".join(out)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--clients", type=int, default=32, help="client threads")
    p.add_argument("--rate", type=float, default=25.0,
                   help="initiates per second over all clients (0: as fast as answered)")
    p.add_argument("--fault-rate", type=float, default=0.2,
                   help="share of upstream requests faulted (errors, 429s, timeouts) and of "
                        "webhooks duplicated")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--workers", type=int, default=8, help="[workers] threads")
    p.add_argument("--lease-s", type=int, default=10, help="[workers] lease_s")
    p.add_argument("--backoff-max-ms", type=int, default=10000, help="[workers] backoff_max_ms")
    p.add_argument("--upstream-timeout-ms", type=int, default=2000,
                   help="[twilio] and [salesforce] timeout_ms")
    p.add_argument("--sf-api-max", type=int, default=0,
                   help="sandbox Salesforce daily allowance (0: 60 per call + 10,000)")
    p.add_argument("--mid-dial-restart-at-once", action="store_true",
                   help="restart the daemon at once after the mid-dial kill; by default it stays "
                        "down until the Calls.json create on the wire has landed and every call "
                        "at Twilio has ended, so their callbacks find no daemon (a slow restart)")
    p.add_argument("--pg-down-s", type=float, default=2.0,
                   help="seconds PostgreSQL stays down after its immediate stop (crash "
                        "recovery and a supervisor's restart take seconds)")
    p.add_argument("--accept-timeout", type=float, default=300,
                   help="seconds one call may be retried before it counts as not accepted")
    p.add_argument("--drain-timeout", type=float, default=900)
    p.add_argument("--stall-timeout", type=float, default=120,
                   help="stop draining when nothing changed for this long")
    p.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                   help="a daemon setting over the soak's (repeatable), e.g. "
                        "--set workers.lease_s=30")
    p.add_argument("--report", help="write the JSON report here")
    p.add_argument("--logs", help="copy the daemon/sandbox/PostgreSQL/Redis logs here "
                   "(always on failure: default a new /tmp/cb-soak-* directory)")
    p.add_argument("--short", action="store_true",
                   help="the scripts/test run: 150 calls, 8 clients, 15 calls/s, drain 240 s")
    a = p.parse_args(argv)
    if a.short:
        a.calls, a.clients, a.rate = 150, 8, 15.0
        a.drain_timeout, a.stall_timeout, a.accept_timeout = 240, 60, 120
    if a.sf_api_max <= 0:
        a.sf_api_max = 60 * a.calls + 10000
    return a


def keep_logs(stack, where):
    """Copy the logs, callbridge's tables (CSV) and the sandbox's state (JSON) to `where`."""
    os.makedirs(where, exist_ok=True)
    for name, path in stack.logs().items():
        try:
            shutil.copy(path, os.path.join(where, name + ".log"))
        except OSError:
            pass
    for table in ("calls", "call_events", "jobs", "recordings", "transcripts"):
        try:
            out = stack.pg.psql(stack.daemon.db, "COPY (SELECT * FROM %s) TO STDOUT WITH CSV "
                                "HEADER" % table).stdout
            with open(os.path.join(where, table + ".csv"), "w") as f:
                f.write(out)
        except Exception:  # noqa: BLE001 - keep what can be kept
            pass
    try:
        with open(os.path.join(where, "sandbox-state.json"), "w") as f:
            json.dump(stack.sb.state(), f)
    except Exception:  # noqa: BLE001
        pass
    return where


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    soak = Soak(args)
    report, rc = None, 2
    try:
        report = soak.run()
        rc = 0 if report["ok"] else 1
    except BaseException as e:  # noqa: BLE001 - report and clean up whatever happened
        soak.log("soak aborted: %s: %s" % (type(e).__name__, e))
        soak.stop.set()
        if isinstance(e, KeyboardInterrupt):
            rc = 130
    stack = getattr(soak, "stack", None)
    if stack is not None:
        if rc != 0 or args.logs:
            where = keep_logs(stack, args.logs or tempfile.mkdtemp(prefix="cb-soak-"))
            soak.log("logs kept in %s" % where)
            if rc != 0:
                for name in ("daemon", "sandbox"):
                    sys.stderr.write("\n---- %s log, last lines ----\n%s\n"
                                     % (name, harness._tail(stack.logs()[name], 60)))
        stack.close()
    if report is not None:
        text = json.dumps(report, indent=1, sort_keys=True)
        if args.report:
            with open(args.report, "w") as f:
                f.write(text + "\n")
        print(text)
        print(summary(report))
    return rc


if __name__ == "__main__":
    sys.exit(main())
