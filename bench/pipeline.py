#!/usr/bin/env python3
"""Helper of bench/pipeline.sh: one run at a given sandbox STT latency.

  pipeline.py CALLS RATE STT_MS   prints one markdown table row of p50 / p95 per stage (ms)

Makes every placed call record the sandbox's 4 s tone, seeds a sales transcript for its
SHA-256 (learnt from one warm-up call), places CALLS calls at RATE/s through POST /api/call/initiate, waits until each call's
transcript is written to the CRM, and reads the stage timings from PostgreSQL; the last cell is
the CPU time per call of callbridge and of the sandbox over the run (ms)."""

import sys
import time

from benchlib import SB, cpu_ms, initiate_paced, pcts, per_call, post, psql, seed_transcript

# The stages of bench/pipeline.sh's table, as intervals over transcripts t and recordings r.
STAGES = ["r.stored_at - r.created_at", "t.transcribed_at - r.stored_at",
          "t.analysed_at - t.transcribed_at", "t.crm_written_at - t.analysed_at",
          "t.crm_written_at - r.created_at",
          "t.crm_written_at - r.created_at - t.stt_ms * interval '1 millisecond'"]


def main():
    calls, rate, stt_ms = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    post(SB, "/__sandbox/twilio/outcome", {"to": "*", "status": "completed", "duration_s": 20,
                                            "recording_duration_s": 4})
    seed_transcript("+14155550123")
    post(SB, "/__sandbox/stt", {"latency_ms": stt_ms})
    cpu0 = cpu_ms()
    ids = initiate_paced(calls, rate, lambda i: "+14155550123")
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
    cells = []
    for e in STAGES:
        p50, p95 = pcts(e, "t.call_id IN (%s)" % lit)
        cells.append("%.0f / %.0f" % (p50, p95))
    cells.append("%s / %s" % (per_call(cpu0[0], cpu1[0], calls),
                              per_call(cpu0[1], cpu1[1], calls)))
    print("| %d ms | %s |" % (stt_ms, " | ".join(cells)))


if __name__ == "__main__":
    main()
