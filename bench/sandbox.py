#!/usr/bin/env python3
"""Helper of bench/sandbox.sh: the sandbox alone, driven as callbridge drives it.

  sandbox.py SANDBOX_BIN CALLS CLIENTS [TALK_MS [SENDERS]]   prints one markdown table row

Starts SANDBOX_BIN on a free loopback port (Twilio account and Salesforce client of its own)
and a trivial webhook sink (a separate process answering every request 200 "<Response/>"),
then CLIENTS threads place CALLS calls on the sandbox's Calls.json — every status event, the
TwiML fetched from Url, recorded, with a recording status callback, answered at once with no
talk time — and for each call upsert a Task by Callbridge_Call_Id__c twice (create, then
update), as callbridge's call log does. It waits until every call has ended and every webhook
was delivered, then reports: calls/s from the first placement to the last webhook, webhooks/s,
the mean upsert latency of the first and the last tenth of the calls (flat when lookups do not
slow down as records pile up), the full-state, summary and one 1000-Task page answer times at the end, and the
sandbox's CPU time per call (utime + stime of its process, /proc/PID/stat). The sandbox's log
goes to $CB_BENCH_SANDBOX_LOG when set (e.g. to read a sanitizer build's reports)."""

import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ACCOUNT = "AC" + "0" * 31 + "1"
TOKEN = "bench-token"
CLIENT_ID = "bench-client"
SECRET = "bench-secret"
USER = {"Id": "0058d000000AgntAAA", "Username": "agent@example.com", "Name": "Ada Agent",
        "Email": "agent@example.com", "IsActive": True}

SINK = r'''
import asyncio, sys
REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 11\r\n\r\n"
         b"<Response/>")
class Sink(asyncio.Protocol):
    def connection_made(self, t):
        self.t, self.buf = t, b""
    def data_received(self, data):
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].lower()
            n = 0
            for line in head.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    n = int(line.split(b":")[1])
            if len(self.buf) < end + 4 + n:
                return
            self.buf = self.buf[end + 4 + n:]
            self.t.write(REPLY)
async def main():
    srv = await asyncio.get_running_loop().create_server(Sink, "127.0.0.1", int(sys.argv[1]))
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    """One keep-alive connection to the sandbox."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body, hdrs)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, json.loads(data) if data else None
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise


def main():
    binary, calls, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    talk_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    senders = sys.argv[5:6]
    tmp = tempfile.mkdtemp(prefix="cb-bench-sb-")
    for name, val in (("token", TOKEN), ("secret", SECRET)):
        with open(os.path.join(tmp, name), "w") as f:
            f.write(val + "\n")
    port, sink_port = free_port(), free_port()
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(sink_port)])
    sb = subprocess.Popen([binary, "--listen", "127.0.0.1:%d" % port,
                           "--twilio-account-sid", ACCOUNT, "--twilio-auth-token-file",
                           os.path.join(tmp, "token"), "--sf-client-id", CLIENT_ID,
                           "--sf-client-secret-file", os.path.join(tmp, "secret")]
                          + (["--twilio-senders", senders[0]] if senders else []),
                          stdout=subprocess.DEVNULL,
                          stderr=open(os.environ.get("CB_BENCH_SANDBOX_LOG", os.devnull), "ab"))
    try:
        run(sb, port, sink_port, calls, clients, talk_ms, senders[0] if senders else "64")
    finally:
        sb.terminate()
        sink.terminate()
        sb.wait(30)
        sink.wait(30)


def run(sb, port, sink_port, calls, clients, talk_ms, senders):
    c = None
    for _ in range(100):  # the sink listens before any call is placed
        try:
            socket.create_connection(("127.0.0.1", sink_port), 1).close()
            break
        except OSError:
            time.sleep(0.1)
    for _ in range(100):
        try:
            c = Client(port)
            if c.request("GET", "/__sandbox/health")[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    c.request("POST", "/__sandbox/seed", {"User": [USER]})
    c.request("POST", "/__sandbox/salesforce/limits", {"used": 0, "max": 100000000})
    c.request("POST", "/__sandbox/twilio/outcome", {"to": "*", "status": "completed",
                                                    "duration_s": 5, "talk_ms": talk_ms})
    st, tok = c.request("POST", "/services/oauth2/token", urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET}),
        {"Content-Type": "application/x-www-form-urlencoded"})
    assert st == 200, tok
    bearer = {"Authorization": "Bearer " + tok["access_token"]}
    basic = {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (ACCOUNT, TOKEN)).encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded"}
    sink_url = "http://127.0.0.1:%d" % sink_port
    upsert_ms = [0.0] * calls
    errors = []
    cpu0 = cpu_s(sb.pid)

    def worker(k):
        cl = Client(port)
        for i in range(k, calls, clients):
            form = urllib.parse.urlencode([
                ("To", "+1415600%04d" % (i % 10000)), ("From", "+14155550100"),
                ("Url", sink_url + "/voice"), ("StatusCallback", sink_url + "/status"),
                ("StatusCallbackEvent", "initiated ringing answered completed"),
                ("Record", "true"), ("RecordingStatusCallback", sink_url + "/recording")])
            st, body = cl.request("POST", "/2010-04-01/Accounts/%s/Calls.json" % ACCOUNT,
                                  form, basic)
            if st != 201:
                errors.append((st, body))
                continue
            path = "/services/data/v60.0/sobjects/Task/Callbridge_Call_Id__c/" + body["sid"]
            t = time.perf_counter()
            for doc in ({"Subject": "Call", "CallType": "Outbound"},
                        {"CallDisposition": "Connected", "Status": "Completed"}):
                st, res = cl.request("PATCH", path, doc, bearer)
                if st not in (200, 201):
                    errors.append((st, res))
            upsert_ms[i] = (time.perf_counter() - t) * 1000 / 2

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    placed = time.perf_counter() - t0
    want = calls * 6  # initiated, ringing, answered, TwiML, completed, recording
    while True:
        s = c.request("GET", "/__sandbox/summary")[1]["twilio"]
        if s["calls_live"] == 0 and s["webhooks"] >= want:
            break
        time.sleep(0.05)
    played = time.perf_counter() - t0
    cpu = cpu_s(sb.pid) - cpu0
    t = time.perf_counter()
    c.request("GET", "/__sandbox/summary")
    summary_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    c.request("GET", "/__sandbox/state")
    state_ms = (time.perf_counter() - t) * 1000
    page_ms = "-"
    st, first_page = c.request("GET", "/__sandbox/state?object=Task&limit=1000")
    if st == 200 and first_page.get("next"):  # the second page of 1000 (a sandbox with paging)
        t = time.perf_counter()
        c.request("GET", "/__sandbox/state?object=Task&limit=1000&after=" + first_page["next"])
        page_ms = "%.0f" % ((time.perf_counter() - t) * 1000)
    bad = {k: n for k, n in s["webhooks_by_outcome"].items() if not k.endswith("2xx")}
    if errors or bad:
        sys.exit("%d errors (first %r), webhooks not answered 2xx: %r"
                 % (len(errors), errors[:1], bad))
    tenth = max(1, calls // 10)
    first = sum(upsert_ms[:tenth]) / tenth
    last = sum(upsert_ms[-tenth:]) / tenth
    print("| %d | %d | %d / %s | %.1f | %.0f | %.0f | %.2f / %.2f | %.1f | %.0f | %s | %.2f |" % (
        calls, clients, talk_ms, senders, placed, calls / played, s["webhooks"] / played, first,
        last, summary_ms, state_ms, page_ms, cpu * 1000 / calls))


if __name__ == "__main__":
    main()
