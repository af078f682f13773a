#!/usr/bin/env python3
"""Helper of bench/sf_requests.sh: Salesforce API requests per call at one rate.

  sf_requests.py CALLS RATE   prints one markdown table row

Places CALLS calls at RATE/s through POST /api/call/initiate (every call answered, recorded
and transcribed by the sandbox with a sales transcript whose analysis makes two follow-up
tasks, as bench/pipeline.py sets it up), waits until every CRM job of
those calls is terminal (done or dead), and divides the sandbox's Salesforce request counters
(GET /__sandbox/state "requests", read before and after) by CALLS."""

import os
import sys
import time

from benchlib import SB, get, initiate_paced, post, psql, seed_transcript


# CRM=hubspot (bench/sf_requests.sh) counts the sandbox's HubSpot requests instead.
CRM = os.environ.get("CRM", "salesforce")
TOKEN_KEYS = ("salesforce.token", "hubspot POST /oauth/v1/token")


def counters():
    reqs = get(SB, "/__sandbox/state")["requests"]
    prefix = "hubspot " if CRM == "hubspot" else "salesforce."
    return {k[len(prefix):]: v for k, v in reqs.items()
            if k.startswith(prefix) and k not in TOKEN_KEYS}


def main():
    calls, rate = int(sys.argv[1]), float(sys.argv[2])
    if CRM == "hubspot" and os.environ.get("HS_MAX_PER_10S"):
        # HubSpot's 10-second limit (190 by default) set aside: requests per call, not waits.
        post(SB, "/__sandbox/hubspot/limits", {"max_per_10s": int(os.environ["HS_MAX_PER_10S"])})
    post(SB, "/__sandbox/twilio/outcome", {"to": "*", "status": "completed",
                                            "duration_s": 20, "recording_duration_s": 4})
    seed_transcript("+14155550099", wait_jobs=True)
    before = counters()
    # A few distinct numbers, as a team calls back its leads: lookups hit the cache.
    ids = initiate_paced(calls, rate, lambda i: "+1415555%04d" % (100 + i % 50))
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
