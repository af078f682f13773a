#!/usr/bin/env python3
"""Helper of bench/calls.sh: whole calls at one fixed rate, open loop.

  calls.py run RATE SECONDS OUT.json   feed calls, drain, measure; one JSON object to OUT.json
  calls.py row OUT.json                its markdown table row (bench/calls.sh's table)

Every call is answered by the sandbox's Twilio, talks TALK_MS (default 1000), is recorded
(the sandbox's 4 s tone, a sales transcript seeded for its SHA-256 by one warm-up call),
transcribed (the sandbox's STT at 0 ms), analysed and written to the sandbox's Salesforce
(staged mode). CLIENTS threads (default 32), each with its own keep-alive connection, POST
/api/call/initiate at exactly RATE/s for SECONDS: call i is due at start + i / RATE and is sent
by whichever thread is free, so a slow answer never delays the calls after it (open loop);
how late each send was (the client's own lag) is measured and reported.

Every second a sampler reads the job backlog (jobs queued and due, plus running), the
sandbox's calls in flight, callbridge's RSS and the box's CPU. After the feed the run waits up
to DRAIN_S (default 60) for every fed call to complete end to end — its transcript and tags
written to the CRM and every CRM job of it done — then until the jobs the calls left behind
(wrap-up ends, 30 s after each call) are done too (up to SETTLE_S, default 90), so the next
rate starts on an idle stack.
Latencies come from PostgreSQL's timestamps: completed → Task (the "completed" status event
→ the crm.log_call job it queued finished) and recording → transcript and tags in the CRM
minus the engine's time (as bench/pipeline.py). PERF_OUT=FILE: `perf record -a -g` for
PERF_S (10) seconds from PERF_AT (20) seconds into the feed, into FILE."""

import json
import os
import subprocess
import sys
import threading
import time
import http.client

import benchlib
from benchlib import CB, SB, AUTH, Psql, get, post

TO = "+14155550123"  # the dev stack's seeded Contact (the lookup comes from Redis)
PERIODIC = "('retention.sweep','telephony.reconcile')"


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def slope(points):
    """Least-squares slope of [(t, y)] per second; 0 with fewer than two points."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (y - my) for t, y in points) / var if var else 0.0


def box_cpu():
    """(busy, total) jiffies of the whole box (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def pg_pids():
    """The dev stack's PostgreSQL processes: the postmaster (PGHOST's lock file) and its
    children."""
    try:
        with open(os.path.join(os.environ["PGHOST"], ".s.PGSQL.%s.lock"
                               % os.environ["PGPORT"])) as f:
            master = int(f.readline())
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
        return [master] + [int(p) for p in out.stdout.split()]
    except (OSError, ValueError, KeyError):
        return []


def group_cpu_ms(pids):
    return sum(benchlib.proc_cpu_ms(p) or 0 for p in pids)


class Feeder:
    """CLIENTS threads sending call i at start + i / rate (whichever is free); per send: lag
    (s late), answer time, status."""

    def __init__(self, rate, seconds, clients):
        self.rate, self.n, self.clients = rate, int(rate * seconds), clients
        self.next = 0
        self.lock = threading.Lock()
        self.lag, self.latency, self.errors = [], [], []
        self.accepted = 0

    def take(self):
        with self.lock:
            i = self.next
            self.next += 1
        return i if i < self.n else None

    def worker(self):
        conn = http.client.HTTPConnection(CB.hostname, CB.port, timeout=30)
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(AUTH)
        body = json.dumps({"to": TO})
        lag, lat, errors, ok = [], [], [], 0
        while (i := self.take()) is not None:
            due = self.start + i / self.rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # pacing the load generator (open loop)
            t = time.monotonic()
            lag.append(t - due)
            try:
                conn.request("POST", "/api/call/initiate", body, hdrs)
                r = conn.getresponse()
                r.read()
                if r.status == 202:
                    ok += 1
                else:
                    errors.append(r.status)
            except (http.client.HTTPException, OSError) as e:
                errors.append(type(e).__name__)
                conn.close()
                conn = http.client.HTTPConnection(CB.hostname, CB.port, timeout=30)
            lat.append(time.monotonic() - t)
        with self.lock:
            self.lag += lag
            self.latency += lat
            self.errors += errors
            self.accepted += ok

    def run(self):
        self.start = time.monotonic() + 0.2
        threads = [threading.Thread(target=self.worker) for _ in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.monotonic() - self.start


class Sampler:
    """Every second: job backlog (due queued + running), sandbox calls in flight, callbridge
    RSS, box CPU busy share, until stop()."""

    def __init__(self, cb_pid):
        self.cb_pid, self.samples, self.stopping = cb_pid, [], threading.Event()
        self.db = Psql()

    def loop(self):
        t0 = time.monotonic()
        busy0, total0 = box_cpu()
        while not self.stopping.wait(1.0):
            q, r = self.db.rows("SELECT count(*) FILTER (WHERE state = 'queued' AND"
                                " available_at <= now()), count(*) FILTER (WHERE state ="
                                " 'running') FROM jobs WHERE state IN ('queued', 'running')")[0]
            live = get(SB, "/__sandbox/summary")["twilio"]["calls_live"]
            busy, total = box_cpu()
            self.samples.append({"t": round(time.monotonic() - t0, 2), "queued": int(q),
                                 "running": int(r), "sandbox_live": live,
                                 "rss_mb": benchlib.rss_mb(self.cb_pid)[0],
                                 "box_busy": (busy - busy0) / max(1, total - total0)})
            busy0, total0 = busy, total

    def start(self):
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self.db.close()


def completed(db, t0, t1):
    """Calls created in [t0, t1] complete end to end: transcript and tags in the CRM, every
    CRM job done."""
    return int(db.value(
        "SELECT count(*) FROM calls c JOIN transcripts t ON t.call_id = c.id"
        " WHERE c.created_at BETWEEN '%s' AND '%s' AND t.crm_written_at IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.call_id = c.id AND j.kind LIKE 'crm.%%'"
        " AND j.state <> 'done')" % (t0, t1)))


def latencies(t0, t1):
    window = "c.created_at BETWEEN '%s' AND '%s'" % (t0, t1)
    task = benchlib.pcts(
        "j.finished_at - e.at", None,
        "jobs j JOIN call_events e ON e.call_id = j.call_id AND e.status = 'completed'"
        " AND e.source = 'twilio' JOIN calls c ON c.id = j.call_id WHERE " + window +
        " AND j.kind = 'crm.log_call' AND j.state = 'done' AND j.created_at >= e.at")
    ours = benchlib.pcts(
        "t.crm_written_at - r.created_at - t.stt_ms * interval '1 millisecond'", None,
        "transcripts t JOIN recordings r ON r.id = t.recording_id JOIN calls c ON"
        " c.id = t.call_id WHERE t.crm_written_at IS NOT NULL AND " + window)
    return task, ours


def perf_record(path, at, seconds):
    time.sleep(at)
    subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-a", "-g", "-o",
                    path, "--", "sleep", str(seconds)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def settle(db, bound, ahead_s):
    """Wait (up to `bound` s) until no job other than the periodic ones is queued or running
    that is due within `ahead_s` seconds. False when some still are."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if db.value("SELECT count(*) FROM jobs WHERE state IN ('queued','running') AND kind"
                    " NOT IN %s AND available_at <= now() + interval '%d s'"
                    % (PERIODIC, ahead_s)) == "0":
            return True
        time.sleep(1)
    return False


def run(rate, seconds, out):
    talk_ms = int(os.environ.get("TALK_MS", "1000"))
    drain_s = float(os.environ.get("DRAIN_S", "60"))
    clients = int(os.environ.get("CLIENTS", "32"))
    post(SB, "/__sandbox/twilio/outcome", {"to": "*", "status": "completed", "duration_s": 20,
                                            "talk_ms": talk_ms, "recording_duration_s": 4})
    post(SB, "/__sandbox/stt", {"latency_ms": 0})
    # A large org's daily API allowance: requests per call are bench/sf_requests.sh's subject;
    # here an exhausted allowance would make CRM jobs wait and hide the pipeline's pace.
    post(SB, "/__sandbox/salesforce/limits", {"used": 0, "max": 100000000})
    benchlib.seed_transcript(TO)
    db = Psql()
    settle(db, 90, 1)
    cb_pid, pgs = benchlib.pid_of("callbridge"), pg_pids()
    redis = [p for p in [benchlib.pid_of("redis")] if p]
    sampler = Sampler(cb_pid)
    feeder = Feeder(rate, seconds, clients)
    if os.environ.get("PERF_OUT"):  # who is who first: gdb pauses callbridge for a second
        subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(
            __file__)), "calls_perf.py"), "map", os.environ["PERF_OUT"] + ".map.json",
            str(os.getpid())], check=True)
        threading.Thread(target=perf_record, daemon=True, args=(
            os.environ["PERF_OUT"], float(os.environ.get("PERF_AT", "20")),
            float(os.environ.get("PERF_S", "10")))).start()
    cpu0 = benchlib.cpu_ms() + (group_cpu_ms(pgs), group_cpu_ms(redis), os.times())
    t0 = db.value("SELECT clock_timestamp()")
    sampler.start()
    fed_s = feeder.run()
    t1 = db.value("SELECT clock_timestamp()")
    at_end = completed(db, t0, t1)
    drain_start = time.monotonic()
    while True:
        done = completed(db, t0, t1)
        if done >= feeder.accepted or time.monotonic() - drain_start > drain_s:
            break
        time.sleep(0.5)
    drained_s = time.monotonic() - drain_start
    sampler.stop()
    cpu1 = benchlib.cpu_ms() + (group_cpu_ms(pgs), group_cpu_ms(redis), os.times())
    task, ours = latencies(t0, t1)
    # The jobs the calls left for later (wrap-up ends, 30 s on) run before the next rate.
    settled = settle(db, float(os.environ.get("SETTLE_S", "90")), 3600)
    dead = int(db.value("SELECT count(*) FROM jobs j JOIN calls c ON c.id = j.call_id WHERE"
                        " c.created_at BETWEEN '%s' AND '%s' AND j.state = 'dead'" % (t0, t1)))
    db.close()
    samples = sampler.samples
    feed = [s for s in samples if s["t"] <= fed_s]
    last = [(s["t"], s["queued"] + s["running"]) for s in feed if s["t"] > fed_s - 30]
    live = [(s["t"], s["sandbox_live"]) for s in feed if s["t"] > fed_s - 30]
    n = max(1, feeder.accepted)
    client_cpu = (cpu1[4].user + cpu1[4].system - cpu0[4].user - cpu0[4].system) * 1000
    res = {
        "rate": rate, "seconds": seconds, "talk_ms": talk_ms, "clients": clients,
        "fed": feeder.n, "accepted": feeder.accepted, "errors": len(feeder.errors),
        "error_kinds": sorted(set(map(str, feeder.errors)))[:5], "fed_s": fed_s,
        "lag_ms": [1000 * (pct(feeder.lag, p) or 0) for p in (50, 99, 100)],
        "initiate_ms": [1000 * (pct(feeder.latency, p) or 0) for p in (50, 99)],
        "completed_at_end": at_end, "completed": done, "drain_s": drained_s,
        "drain_bound_s": drain_s, "settled": settled, "dead": dead,
        "backlog_max": max((s["queued"] + s["running"] for s in feed), default=0),
        "backlog_slope": slope(last), "sandbox_live_max": max(
            (s["sandbox_live"] for s in feed), default=0), "sandbox_live_slope": slope(live),
        "task_ms": task, "ours_ms": ours,
        "cpu_ms_per_call": {k: (b - a) / n if a is not None and b is not None else None
                            for k, a, b in zip(("callbridge", "sandbox", "postgres", "redis"),
                                               cpu0[:4], cpu1[:4])},
        "client_cpu_ms_per_call": client_cpu / n,
        "rss_mb_max": max((s["rss_mb"] or 0 for s in samples), default=0),
        "vmhwm_mb": benchlib.rss_mb(cb_pid)[1],
        "box_busy": sum(s["box_busy"] for s in feed) / max(1, len(feed)),
        "samples": samples,
    }
    res["verdict"], res["why"] = verdict(res)
    with open(out, "w") as f:
        json.dump(res, f)


def verdict(r):
    """(sustained?, why): every call accepted, the client on time, the backlog bounded, every
    call complete within the drain bound, the SPEC §8 latencies met."""
    why = []
    if r["errors"] or r["accepted"] < r["fed"]:
        why.append("%d initiates not accepted" % (r["fed"] - r["accepted"]))
    if r["lag_ms"][1] > 100:
        why.append("client late (p99 %.0f ms): rate not offered" % r["lag_ms"][1])
    # Bounded: over the last 30 s of the feed the backlog grows by less than 2 % of the jobs
    # fed (about 11 jobs a call) a second, and the sandbox's calls in flight do not pile up.
    if r["backlog_slope"] > max(2.0, 0.02 * 11 * r["rate"]):
        why.append("backlog grows %.0f jobs/s" % r["backlog_slope"])
    if r["sandbox_live_slope"] > max(2.0, 0.02 * r["rate"]):
        why.append("sandbox calls in flight grow %.0f/s" % r["sandbox_live_slope"])
    if r["completed"] < r["accepted"]:
        why.append("%d calls not complete %.0f s after the feed" %
                   (r["accepted"] - r["completed"], r["drain_bound_s"]))
    if not r["task_ms"] or r["task_ms"][1] > 50:
        why.append("completed → Task p95 %s ms > 50" % fmt_p(r["task_ms"], 1))
    if not r["ours_ms"] or r["ours_ms"][1] > 100:
        why.append("recording → CRM p95 %s ms > 100" % fmt_p(r["ours_ms"], 1))
    return (not why), ("; ".join(why) if why else "all met")


def fmt_p(p, i):
    return "%.0f" % p[i] if p else "?"


def row(path):
    r = json.load(open(path))
    c = r["cpu_ms_per_call"]

    def f(v):
        return "%.2f" % v if v is not None else "?"
    print("| %g | %d / %d | %d + %d (%.0f s) | %d / %+.1f | %d / %+.1f | %s / %s | %s / %s "
          "| %s / %s / %s / %s | %.2f | %.0f / %.0f | %.0f / %.0f / %.0f | %.0f / %.0f | %.0f %% "
          "| %s: %s |" % (
              r["rate"], r["fed"], r["accepted"], r["completed_at_end"],
              r["completed"] - r["completed_at_end"], r["drain_s"], r["backlog_max"],
              r["backlog_slope"], r["sandbox_live_max"], r["sandbox_live_slope"],
              fmt_p(r["task_ms"], 0), fmt_p(r["task_ms"], 1), fmt_p(r["ours_ms"], 0),
              fmt_p(r["ours_ms"], 1), f(c["callbridge"]), f(c["sandbox"]), f(c["postgres"]),
              f(c["redis"]), r["client_cpu_ms_per_call"], r["rss_mb_max"], r["vmhwm_mb"] or 0,
              r["lag_ms"][0], r["lag_ms"][1], r["lag_ms"][2], r["initiate_ms"][0],
              r["initiate_ms"][1], 100 * r["box_busy"],
              "**sustained**" if r["verdict"] else "not sustained", r["why"]))


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(float(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "row":
        row(sys.argv[2])
    else:
        sys.exit("usage: calls.py run RATE SECONDS OUT.json | row OUT.json")
