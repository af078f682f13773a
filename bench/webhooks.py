#!/usr/bin/env python3
"""Helper of bench/webhooks.sh (run it through that script).

  webhooks.py requests CALLS OUT  create CALLS twilio calls in the dev database and write
                                  their signed initiated, ringing and in-progress status
                                  callbacks to OUT for bench/webhooks.lua
  webhooks.py latency CALLS RATE  send a signed "completed" callback for CALLS new calls (to a
                                  number the CRM knows), RATE per second, wait until every
                                  crm.log_call job is done, print p50/p95/p99/max of
                                  (job finished - webhook received) in ms

Signing follows Twilio's documented algorithm (base64 HMAC-SHA1 of URL + sorted params).
Environment: the dev stack's .dev/env (CALLBRIDGE_URL, CALLBRIDGE_PUBLIC_URL,
TWILIO_AUTH_TOKEN, TWILIO_ACCOUNT_SID, PG*)."""

import base64
import hashlib
import hmac
import http.client
import os
import subprocess
import sys
import time
import urllib.parse
import uuid

TOKEN = os.environ["TWILIO_AUTH_TOKEN"]
ACCOUNT = os.environ["TWILIO_ACCOUNT_SID"]
PUBLIC = os.environ["CALLBRIDGE_PUBLIC_URL"].rstrip("/")
CB = urllib.parse.urlparse(os.environ["CALLBRIDGE_URL"])
KNOWN = "+14155550123"  # seeded Contact of the dev stack


def psql(sql):
    out = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def create_calls(n, crm):
    rows = psql("INSERT INTO calls (id, agent, direction, to_e164, from_e164, status,"
                " telephony, crm) SELECT gen_random_uuid(), 'alice', 'outbound', '%s',"
                " '+14155550100', 'queued', 'twilio', '%s' FROM generate_series(1, %d)"
                " RETURNING id" % (KNOWN, crm, n))
    return [r[0] for r in rows]


def signed(cid, sid, status, extra=()):
    target = "/webhooks/twilio/status?call_id=" + cid
    params = [("AccountSid", ACCOUNT), ("CallSid", sid), ("CallStatus", status),
              ("From", "+14155550100"), ("To", KNOWN), ("Direction", "outbound-api")]
    params += list(extra)
    data = PUBLIC + target + "".join(k + v for k, v in sorted(params))
    sig = base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest())
    return target, urllib.parse.urlencode(params), sig.decode()


def requests(n, path):
    """One signed callback per line: target, body, signature (tab separated)."""
    calls = create_calls(n, "none")
    with open(path, "w") as f:
        for st in ("initiated", "ringing", "in-progress"):
            for cid in calls:
                t, body, sig = signed(cid, "CA" + uuid.UUID(cid).hex, st)
                f.write("%s\t%s\t%s\n" % (t, body, sig))


def latency(n, rate):
    calls = create_calls(n, "salesforce")
    conn = http.client.HTTPConnection(CB.hostname, CB.port, timeout=30)
    start = time.monotonic()
    for i, cid in enumerate(calls):
        sid = "CA" + uuid.UUID(cid).hex
        t, body, sig = signed(cid, sid, "completed", [("CallDuration", "42")])
        conn.request("POST", t, body, {"Content-Type": "application/x-www-form-urlencoded",
                                       "X-Twilio-Signature": sig})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 204:
            sys.exit("completed webhook answered %d" % resp.status)
        pause = start + (i + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # pacing the load generator, not synchronising a test
    ids = ",".join("'%s'" % c for c in calls)
    deadline = time.monotonic() + 120
    while True:
        left = psql("SELECT count(*) FROM jobs WHERE call_id IN (%s) AND kind = 'crm.log_call'"
                    " AND state <> 'done'" % ids)[0][0]
        if left == "0":
            break
        if time.monotonic() > deadline:
            sys.exit("%s crm.log_call jobs still not done after 120 s" % left)
        time.sleep(0.2)
    q = ("SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY ms), max(ms),"
         " count(*) FROM (SELECT extract(epoch FROM j.finished_at - e.at) * 1000 AS ms"
         " FROM jobs j JOIN call_events e ON e.call_id = j.call_id AND e.status = 'completed'"
         " WHERE j.call_id IN (%s) AND j.kind = 'crm.log_call') x" % ids)
    pcts, mx, count = psql(q)[0]
    p50, p95, p99 = (float(v) for v in pcts.strip("{}").split(","))
    tasks = psql("SELECT count(*) FROM calls WHERE id IN (%s) AND crm_state = 'synced'" % ids)
    print("RESULT p50=%.1f p95=%.1f p99=%.1f max=%.1f n=%s synced=%s"
          % (p50, p95, p99, float(mx), count, tasks[0][0]))


if __name__ == "__main__":
    if sys.argv[1] == "requests":
        requests(int(sys.argv[2]), sys.argv[3])
    else:
        latency(int(sys.argv[2]), float(sys.argv[3]))
