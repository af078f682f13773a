#!/usr/bin/env python3
"""Helper of bench/pipeline.sh: one run at a given sandbox STT latency.

  pipeline.py CALLS RATE STT_MS   prints one markdown table row of p50 / p95 per stage (ms)

Makes every placed call record the sandbox's 4 s tone, seeds a sales transcript for its
SHA-256 (learnt from one warm-up call), places CALLS calls at RATE/s through POST /api/call/initiate, waits until each call's
transcript is written to the CRM, and reads the stage timings from PostgreSQL; the last cell is
the CPU time per call of callbridge and of the sandbox over the run (ms)."""

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

CB = urllib.parse.urlparse(os.environ["CALLBRIDGE_URL"])
SB = urllib.parse.urlparse(os.environ["SANDBOX_URL"])
KEY = os.environ["CALLBRIDGE_API_KEY"]
TEXT = ("Hi, this is Ada. We would love a demo of Callbridge Pro next week. How much is the "
        "enterprise plan? We are also looking at Dialpad. Please call me back tomorrow.")


def post(url, path, body, headers=None):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    c.request("POST", path, json.dumps(body), h)
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        sys.exit("%s %s: %d %s" % (path, body, r.status, data[:200]))
    return json.loads(data) if data else None


def psql(sql):
    out = subprocess.run(["psql", "-XAtq", "-c", sql], check=True, capture_output=True,
                         text=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def get(url, path):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    return json.loads(r.read())


def cpu_ms():
    """(callbridge, sandbox) CPU time so far in ms; None when unknown. callbridge's from its
    dev-stack pid file and /proc, the sandbox's from /__sandbox/summary's cpu_ms."""
    cb = None
    try:
        pidfile = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".dev", "run",
                               "callbridge.pid")
        with open(pidfile) as f, open("/proc/%d/stat" % int(f.read().strip())) as st:
            fields = st.read().rsplit(")", 1)[1].split()
        cb = (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    return cb, get(SB, "/__sandbox/summary").get("cpu_ms")


def per_call(before, after, calls):
    return "%.2f" % ((after - before) / calls) if before is not None and after is not None \
        else "?"


def main():
    calls, rate, stt_ms = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    # Every call's recording is the sandbox's generated 4 s tone, the same bytes each time:
    # one warm-up call tells its SHA-256, and the sales transcript is seeded for it.
    post(SB, "/__sandbox/twilio/outcome", {"to": "*", "status": "completed", "duration_s": 20,
                                            "recording_duration_s": 4})
    warm = post(CB, "/api/call/initiate", {"to": "+14155550123"},
                {"Authorization": "Bearer " + KEY})["call_id"]
    deadline = time.monotonic() + 60
    sha = []
    while not sha and time.monotonic() < deadline:
        sha = psql("SELECT sha256 FROM recordings WHERE call_id = '%s' AND state = 'stored'"
                   % warm)
        time.sleep(0.2)
    if not sha:
        sys.exit("the warm-up call's recording was not stored")
    post(SB, "/__sandbox/seed", {"transcripts": [{"sha256": sha[0][0], "text": TEXT}]})
    post(SB, "/__sandbox/stt", {"latency_ms": stt_ms})
    ids = []
    cpu0 = cpu_ms()
    start = time.monotonic()
    for i in range(calls):
        r = post(CB, "/api/call/initiate", {"to": "+14155550123"},
                 {"Authorization": "Bearer " + KEY})
        ids.append(r["call_id"])
        pause = start + (i + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # pacing the load generator
    lit = ",".join("'%s'" % c for c in ids)
    deadline = time.monotonic() + 300
    while True:
        done = int(psql("SELECT count(*) FROM transcripts WHERE call_id IN (%s)"
                        " AND crm_written_at IS NOT NULL" % lit)[0][0])
        if done == calls:
            break
        if time.monotonic() > deadline:
            sys.exit("only %d of %d transcripts written to the CRM" % (done, calls))
        time.sleep(0.5)
    cpu1 = cpu_ms()
    q = ("SELECT %s FROM transcripts t JOIN recordings r ON r.id = t.recording_id"
         " WHERE t.call_id IN (%s)")
    exprs = ["r.stored_at - r.created_at", "t.transcribed_at - r.stored_at",
             "t.analysed_at - t.transcribed_at", "t.crm_written_at - t.analysed_at",
             "t.crm_written_at - r.created_at",
             "t.crm_written_at - r.created_at - t.stt_ms * interval '1 millisecond'"]
    cells = []
    for e in exprs:
        v = psql(q % ("percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY "
                      "extract(epoch FROM %s) * 1000)" % e, lit))[0][0]
        p50, p95 = (float(x) for x in v.strip("{}").split(","))
        cells.append("%.0f / %.0f" % (p50, p95))
    cells.append("%s / %s" % (per_call(cpu0[0], cpu1[0], calls),
                              per_call(cpu0[1], cpu1[1], calls)))
    print("| %d ms | %s |" % (stt_ms, " | ".join(cells)))


if __name__ == "__main__":
    main()
