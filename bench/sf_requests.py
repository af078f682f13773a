#!/usr/bin/env python3
"""Helper of bench/sf_requests.sh: Salesforce API requests per call at one rate.

  sf_requests.py CALLS RATE   prints one markdown table row

Places CALLS calls at RATE/s through POST /api/call/initiate (every call answered, recorded
and transcribed by the sandbox with a sales transcript whose analysis makes two follow-up
tasks, as bench/pipeline.py sets it up), waits until every CRM job of
those calls is terminal (done or dead), and divides the sandbox's Salesforce request counters
(GET /__sandbox/state "requests", read before and after) by CALLS."""

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


def req(url, method, path, body=None, headers=None):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    c.request(method, path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        sys.exit("%s %s: %d %s" % (method, path, r.status, data[:200]))
    return json.loads(data) if data else None


# CRM=hubspot (bench/sf_requests.sh) counts the sandbox's HubSpot requests instead.
CRM = os.environ.get("CRM", "salesforce")
TOKEN_KEYS = ("salesforce.token", "hubspot POST /oauth/v1/token")


def counters():
    reqs = req(SB, "GET", "/__sandbox/state")["requests"]
    prefix = "hubspot " if CRM == "hubspot" else "salesforce."
    return {k[len(prefix):]: v for k, v in reqs.items()
            if k.startswith(prefix) and k not in TOKEN_KEYS}


def psql(sql):
    out = subprocess.run(["psql", "-XAtq", "-c", sql], check=True, capture_output=True,
                         text=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def seed_transcript():
    """Every call's recording is the sandbox's 4 s tone: one warm-up call tells its SHA-256,
    and a sales transcript (its analysis asks for follow-up tasks) is seeded for it."""
    warm = req(CB, "POST", "/api/call/initiate", {"to": "+14155550099"},
               {"Authorization": "Bearer " + KEY})["call_id"]
    deadline = time.monotonic() + 60
    sha = []
    while not sha and time.monotonic() < deadline:
        sha = psql("SELECT sha256 FROM recordings WHERE call_id = '%s' AND state = 'stored'"
                   % warm)
        time.sleep(0.2)
    if not sha:
        sys.exit("the warm-up call's recording was not stored")
    req(SB, "POST", "/__sandbox/seed", {"transcripts": [{"sha256": sha[0][0], "text": TEXT}]})
    deadline = time.monotonic() + 60
    while int(psql("SELECT count(*) FROM jobs WHERE call_id = '%s' AND state NOT IN"
                   " ('done','dead')" % warm)[0][0]) and time.monotonic() < deadline:
        time.sleep(0.2)  # its writes are not counted


def main():
    calls, rate = int(sys.argv[1]), float(sys.argv[2])
    if CRM == "hubspot" and os.environ.get("HS_MAX_PER_10S"):
        # HubSpot's 10-second limit (190 by default) set aside: requests per call, not waits.
        req(SB, "POST", "/__sandbox/hubspot/limits",
            {"max_per_10s": int(os.environ["HS_MAX_PER_10S"])})
    req(SB, "POST", "/__sandbox/twilio/outcome", {"to": "*", "status": "completed",
                                                  "duration_s": 20, "recording_duration_s": 4})
    seed_transcript()
    before = counters()
    ids = []
    start = time.monotonic()
    for i in range(calls):
        # A few distinct numbers, as a team calls back its leads: lookups hit the cache.
        r = req(CB, "POST", "/api/call/initiate", {"to": "+1415555%04d" % (100 + i % 50)},
                {"Authorization": "Bearer " + KEY})
        ids.append(r["call_id"])
        pause = start + (i + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # pacing the load generator
    lit = ",".join("'%s'" % c for c in ids)
    deadline = time.monotonic() + 600
    while True:
        written = int(psql("SELECT count(*) FROM transcripts WHERE call_id IN (%s)"
                           " AND crm_written_at IS NOT NULL" % lit)[0][0])
        open_jobs = int(psql("SELECT count(*) FROM jobs WHERE call_id IN (%s) AND kind LIKE"
                             " 'crm.%%' AND state NOT IN ('done','dead')" % lit)[0][0])
        if written == calls and open_jobs == 0:
            break
        if time.monotonic() > deadline:
            sys.exit("only %d of %d transcripts written to the CRM" % (written, calls))
        time.sleep(0.5)
    after = counters()
    diff = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    total = sum(diff.values())
    dead = int(psql("SELECT count(*) FROM jobs WHERE call_id IN (%s) AND state = 'dead'"
                    % lit)[0][0])
    detail = ", ".join("%s %d" % (k, v) for k, v in sorted(diff.items()) if v)
    print("| %g | %d | %d | %.2f | %s | %d |" % (rate, calls, total, total / calls, detail, dead))


if __name__ == "__main__":
    main()
