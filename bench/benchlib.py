"""What the Python helpers of bench/*.sh share (pipeline.py, sf_requests.py, calls.py).

The dev stack's environment (bench_env in bench/lib.sh sources .dev/env): CALLBRIDGE_URL,
CALLBRIDGE_API_KEY, SANDBOX_URL, CALLBRIDGE_CONFIG and PG* for psql.

  CB, SB                 callbridge's and the sandbox's URLs (urllib.parse results)
  request(url, method, path, body=None, headers=None)
                         one HTTP request on a new connection; JSON in and out; exits the
                         script on a status >= 300
  post(url, path, body, headers=None), get(url, path)
  initiate(to)           POST /api/call/initiate with the dev key; the response
  psql(sql)              rows of one statement (a psql process each time)
  Psql                   one psql process kept open, for sampling every second
  cpu_ms()               (callbridge, sandbox) CPU time so far in ms, None when unknown
  per_call(a, b, calls)  "%.2f" of (b - a) / calls, "?" when either is unknown
  pcts(sql_expr, where)  p50 and p95 of a PostgreSQL expression over transcripts/recordings
  seed_transcript(to, wait_jobs)
                         a warm-up call tells the SHA-256 of the sandbox's recording and the
                         sales transcript TEXT is seeded for it"""

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
AUTH = {"Authorization": "Bearer " + KEY}
# A sales conversation: its analysis finds a demo request, pricing, a competitor and a
# call-back, and asks for two follow-up tasks.
TEXT = ("Hi, this is Ada. We would love a demo of Callbridge Pro next week. How much is the "
        "enterprise plan? We are also looking at Dialpad. Please call me back tomorrow.")


def request(url, method, path, body=None, headers=None):
    """JSON body of the answer (None when empty); exits the script on a status >= 300."""
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    c.request(method, path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status >= 300:
        sys.exit("%s %s %s: %d %s" % (method, path, body, r.status, data[:200]))
    return json.loads(data) if data else None


def post(url, path, body, headers=None):
    return request(url, "POST", path, body, headers)


def get(url, path):
    return request(url, "GET", path)


def initiate(to):
    return post(CB, "/api/call/initiate", {"to": to}, AUTH)


def initiate_paced(calls, rate, number):
    """Place `calls` calls through POST /api/call/initiate at `rate` per second, the i-th to
    number(i); their call ids, in order."""
    ids = []
    start = time.monotonic()
    for i in range(calls):
        ids.append(initiate(number(i))["call_id"])
        pause = start + (i + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # pacing the load generator
    return ids


def psql(sql):
    out = subprocess.run(["psql", "-XAtq", "-c", sql], check=True, capture_output=True,
                         text=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


class Psql:
    """One psql process for many statements (sampling without a process per sample). A
    failed statement raises RuntimeError; close() ends the process."""

    MARK = "__benchlib_end__"

    def __init__(self):
        self.p = subprocess.Popen(["psql", "-XAtq", "-v", "ON_ERROR_STOP=0"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, bufsize=1)

    def rows(self, sql):
        self.p.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo " + self.MARK + "\n")
        self.p.stdin.flush()
        out = []
        for line in self.p.stdout:
            line = line.rstrip("\n")
            if line == self.MARK:
                break
            if line.startswith(("ERROR:", "FATAL:", "psql:")):
                raise RuntimeError(line)
            if line:
                out.append(line.split("|"))
        return out

    def value(self, sql):
        return self.rows(sql)[0][0]

    def close(self):
        self.p.stdin.close()
        self.p.wait(10)


def pid_of(name):
    """The dev stack's pid of `name` (callbridge, sandbox, redis) from its run/ directory
    beside CALLBRIDGE_CONFIG; None when unknown."""
    conf = os.environ.get("CALLBRIDGE_CONFIG")
    base = os.path.dirname(conf) if conf else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", ".dev")
    try:
        with open(os.path.join(base, "run", name + ".pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def proc_cpu_ms(pid):
    """utime + stime of process `pid` in ms (/proc/PID/stat); None when unknown."""
    try:
        with open("/proc/%d/stat" % pid) as st:
            fields = st.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None


def rss_mb(pid):
    """(VmRSS, VmHWM) of `pid` in MB; None each when unknown."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line[:5]] = int(line.split()[1]) / 1024
    except (OSError, TypeError):
        pass
    return out.get("VmRSS"), out.get("VmHWM")


def cpu_ms():
    """(callbridge, sandbox) CPU time so far in ms; None when unknown. callbridge's from its
    dev-stack pid file and /proc, the sandbox's from /__sandbox/summary's cpu_ms."""
    return proc_cpu_ms(pid_of("callbridge")), get(SB, "/__sandbox/summary").get("cpu_ms")


def per_call(before, after, calls):
    return "%.2f" % ((after - before) / calls) if before is not None and after is not None \
        and calls else "?"


def pcts(expr, where, query=None):
    """(p50, p95) in ms of `expr` (an interval) over transcripts t JOIN recordings r WHERE
    `where`, or over `query` (a FROM ... WHERE ... clause) when given; None when no rows."""
    q = query or "transcripts t JOIN recordings r ON r.id = t.recording_id WHERE " + where
    v = psql("SELECT percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY "
             "extract(epoch FROM %s) * 1000) FROM %s" % (expr, q))
    if not v or not v[0][0]:
        return None
    return tuple(float(x) for x in v[0][0].strip("{}").split(","))


def seed_transcript(to, wait_jobs=False):
    """Every call's recording is the sandbox's tone, the same bytes each time: one warm-up
    call to `to` tells its SHA-256, and TEXT is seeded for it. wait_jobs: also wait until
    every job of the warm-up call is done or dead (its CRM writes then fall before any count
    taken afterwards). Exits the script when the recording is not stored within 60 s."""
    warm = initiate(to)["call_id"]
    deadline = time.monotonic() + 60
    sha = []
    while not sha and time.monotonic() < deadline:
        sha = psql("SELECT sha256 FROM recordings WHERE call_id = '%s' AND state = 'stored'"
                   % warm)
        time.sleep(0.2)
    if not sha:
        sys.exit("the warm-up call's recording was not stored")
    post(SB, "/__sandbox/seed", {"transcripts": [{"sha256": sha[0][0], "text": TEXT}]})
    if not wait_jobs:
        return warm
    deadline = time.monotonic() + 60
    while int(psql("SELECT count(*) FROM jobs WHERE call_id = '%s' AND state NOT IN"
                   " ('done','dead')" % warm)[0][0]) and time.monotonic() < deadline:
        time.sleep(0.2)  # its writes are not counted
    return warm
