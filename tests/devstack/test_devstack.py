"""The dev stack itself, end to end (issue 16): `scripts/dev --detach [--crm hubspot]` started
as a newcomer would (README "Two commands"), but private — its state in a temporary
CB_DEV_DIR, its binaries from the ctest tree (CB_DEV_BUILD, CB_DEV_SKIP_BUILD=1), free ports —
then one call placed with POST /api/call/initiate to the seeded demo contact Ada Lovelace, as the
start-up hint shows. The call must end in the sandbox's CRM as ONE call record carrying its
recording link, one transcript note and the follow-up task(s) of config/nlp-rules.json, all on
Ada's record; then `scripts/dev stop` stops everything (it also runs in cleanup, with
`scripts/dev clean`, so a failing test leaves nothing running).

    test_devstack.py hubspot      the stack with --crm hubspot (ctest devstack.hubspot)
    test_devstack.py salesforce   plain scripts/dev --detach: the default CRM (ctest
                                  devstack.salesforce)

Needs CB_SOURCE_DIR and CB_BUILD_DIR (set by tests/CMakeLists.txt). Deadlines are generous
(the ASan tree is slow); nothing is timed."""

import base64
import hashlib
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from harness import wait_for  # noqa: E402

CRM = sys.argv.pop(1) if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "hubspot"
ROOT = os.environ.get("CB_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("CB_BUILD_DIR", "")
DEV = os.path.join(ROOT, "scripts", "dev")

ADA_PHONE = "(415) 555-0123"  # README's example call: Ada Lovelace in the demo data
ADA_HUBSPOT = "7001"        # scripts/dev seed_hubspot
ADA_SALESFORCE = "003DV0000000001AAA"  # scripts/dev seed_sandbox
# Says "demo" (rule demo) and "call me back" (rule callback): two follow-up tasks.
TRANSCRIPT = ("Hi, this is Ada from Acme. We would love a demo of Callbridge Pro next week. "
              "This looks really great, please call me back tomorrow.")
START_S = 900   # scripts/dev start: PostgreSQL initdb, migrations, ASan binaries
WRITTEN_S = 300  # the call recorded, transcribed, analysed and written to the CRM


def wav(seconds, rate=8000):
    body = bytes((i * 11) % 251 for i in range(int(seconds * rate) * 2))
    return (b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" +
            struct.pack("<I", len(body)) + body)


def http(method, url, body=None, token=None, headers=None, timeout=30):
    """(status, parsed JSON or None) of one request; HTTP errors are answers, not raises."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


class DevStack:
    """scripts/dev run against a private directory, build tree and ports."""

    def __init__(self, crm):
        self.crm = crm
        # Under the scratch dir scripts/test made (the postgres user can reach it when we
        # are root): scripts/dev runs its PostgreSQL cluster there.
        parent = harness._scratch_dir()
        self.sweep(parent)
        self.dir = tempfile.mkdtemp(prefix="cb-devstack-", dir=parent)
        os.chmod(self.dir, 0o755)
        with open(os.path.join(self.dir, harness.OWNER_FILE), "w") as f:
            f.write("%d\n" % os.getpid())
        self.home = os.path.join(self.dir, "dev")  # CB_DEV_DIR; `clean` deletes it
        self.out = os.path.join(self.dir, "scripts-dev.out")  # what scripts/dev printed
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CB_DEV_", "CALLBRIDGE_"))}
        env.update({
            "CB_DEV_DIR": self.home, "CB_DEV_BUILD": BUILD,
            "CB_DEV_SKIP_INSTALL": "1", "CB_DEV_SKIP_BUILD": "1",
            "CB_DEV_PORT": str(harness.free_port()),
            "CB_DEV_SANDBOX_PORT": str(harness.free_port()),
            "CB_DEV_PG_PORT": str(harness.free_port()),
            "CB_DEV_REDIS_PORT": str(harness.free_port()),
            "CB_DEV_READY_TIMEOUT": "600",
            "CB_DEV_PG_SHARED_BUFFERS": "128MB"})
        self.env = env
        self.vars = {}

    @staticmethod
    def sweep(parent):
        """`scripts/dev clean` the stacks of test processes that died without cleaning up
        (SIGKILL: a ctest timeout), then delete their directories."""
        for entry in os.listdir(parent):
            path = os.path.join(parent, entry)
            if not entry.startswith("cb-devstack-"):
                continue
            try:
                with open(os.path.join(path, harness.OWNER_FILE)) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                continue  # not ours, or still being created
            try:
                os.kill(pid, 0)
                continue  # its owner is alive
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            if os.path.isdir(os.path.join(path, "dev")):
                subprocess.run([DEV, "clean"], env=dict(os.environ, CB_DEV_DIR=os.path.join(
                    path, "dev")), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, timeout=180)
            shutil.rmtree(path, ignore_errors=True)

    def run(self, *args, timeout=START_S):
        """scripts/dev ARGS; output appended to self.out (never a pipe: the daemons it
        starts must not hold one open). Returns the exit status."""
        with open(self.out, "a") as out:
            out.write("\n$ scripts/dev %s\n" % " ".join(args))
            out.flush()
            return subprocess.run([DEV] + list(args), env=self.env, cwd=self.dir,
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                  timeout=timeout).returncode

    def output(self):
        try:
            with open(self.out, encoding="utf-8", errors="replace") as f:
                return f.read()[-6000:]
        except OSError:
            return ""

    def start(self):
        """scripts/dev --detach [--crm hubspot] (salesforce: the default, no option)."""
        args = ["--detach"] + (["--crm", self.crm] if self.crm != "salesforce" else [])
        rc = self.run(*args)
        if rc != 0:
            raise AssertionError("scripts/dev %s exited %d:\n%s\n%s"
                                 % (" ".join(args), rc, self.output(), self.log_tails()))
        with open(os.path.join(self.home, "env")) as f:
            for line in f:
                words = shlex.split(line, comments=True)
                if len(words) == 2 and words[0] == "export" and "=" in words[1]:
                    k, v = words[1].split("=", 1)
                    self.vars[k] = v
        return self

    def log_tails(self):
        return "\n".join("--- %s\n%s" % (n, harness._tail(os.path.join(self.home, "log", n), 30))
                         for n in ("callbridge.log", "sandbox.log"))

    def sanitizer_lines(self):
        return [ln for n in ("callbridge.log", "sandbox.log")
                for ln in harness.sanitizer_lines(os.path.join(self.home, "log", n))]

    def close(self):
        """Stop and delete everything (idempotent; cleanup of a failed test too)."""
        if os.path.isdir(self.home):
            self.run("clean", timeout=180)
        shutil.rmtree(self.dir, ignore_errors=True)

    # The running stack, through .dev/env's variables.
    def sandbox(self, method, path, body=None):
        return http(method, self.vars["SANDBOX_URL"] + path, body)

    def api(self, method, path, body=None, admin=False, headers=None):
        key = self.vars["CALLBRIDGE_ADMIN_KEY" if admin else "CALLBRIDGE_API_KEY"]
        return http(method, self.vars["CALLBRIDGE_URL"] + path, body, token=key,
                    headers=headers)


class DevStackCallTest(unittest.TestCase):

    def setUp(self):
        if not BUILD or not os.access(os.path.join(BUILD, "callbridge"), os.X_OK):
            self.fail("CB_BUILD_DIR names no build tree with callbridge: %r" % BUILD)
        self.stack = DevStack(CRM)
        self.addCleanup(self.stack.close)
        self.stack.start()

    def state(self):
        status, body = self.stack.sandbox("GET", "/__sandbox/state")
        self.assertEqual(status, 200, body)
        return body

    def control(self, path, body):
        status, answer = self.stack.sandbox("POST", "/__sandbox/" + path, body)
        self.assertIn(status, (200, 201, 204), (path, answer))

    def place_call(self):
        """Every call recorded as a known 4 s recording whose transcript is TRANSCRIPT, then
        one call to Ada as the README shows; returns its call id."""
        audio = wav(4.0)
        rsid = "RE" + uuid.uuid4().hex
        self.control("seed", {
            "recordings": [{"sid": rsid, "wav_base64": base64.b64encode(audio).decode()}],
            "transcripts": [{"sha256": hashlib.sha256(audio).hexdigest(), "text": TRANSCRIPT}]})
        self.control("twilio/outcome", {"to": "*", "status": "completed", "duration_s": 42,
                                        "recording_sid": rsid, "recording_duration_s": 4})
        status, body = self.stack.api("POST", "/api/call/initiate", {"to": ADA_PHONE},
                                      headers={"Idempotency-Key": "demo-1"})
        self.assertEqual(status, 202, body)
        return body["call_id"]

    def wait_done(self, cid):
        """The call's row says written to the CRM, transcribed, every job done."""
        def done():
            status, c = self.stack.api("GET", "/api/calls/%s" % cid, admin=True)
            self.assertEqual(status, 200, c)
            t = c.get("transcripts") or []
            ok = (c["crm"]["state"] == "synced" and t and t[0]["timings"]["crm_written"]
                  and all(j["state"] == "done" for j in c["jobs"]))
            return c if ok else None
        try:
            return wait_for(done, WRITTEN_S, "call %s written to the CRM, every job done" % cid,
                            interval=0.5)
        except AssertionError as e:
            raise AssertionError("%s\n%s" % (e, self.stack.log_tails())) from None

    def test_call_ends_in_the_crm(self):
        cid = self.place_call()
        call = self.wait_done(cid)
        self.assertEqual(call["status"], "completed")
        self.assertEqual(call["crm"]["provider"], CRM)
        rec = [r for r in call["recordings"] if r["state"] == "stored"]
        self.assertEqual(len(rec), 1, call["recordings"])
        link = "%s/r/%s" % (self.stack.vars["CALLBRIDGE_URL"], rec[0]["recording_id"])
        if CRM == "hubspot":
            self.check_hubspot(cid, link)
        else:
            self.check_salesforce(cid, link)

        self.assertEqual(self.stack.run("stop", timeout=180), 0, self.stack.output())
        self.assertIn("stopped", self.stack.output().splitlines()[-1])
        for name in ("callbridge", "sandbox", "redis"):
            pidfile = os.path.join(self.stack.home, "run", name + ".pid")
            self.assertFalse(os.path.exists(pidfile), "%s still has a pid file" % name)
        self.assertEqual(self.stack.sanitizer_lines(), [])

    def check_hubspot(self, cid, link):
        hs = self.state()["hubspot"]

        def on_ada(kind, obj, type_id):
            return any(a["from_type"] == kind and str(a["from_id"]) == str(obj["id"])
                       and a["to_type"] == "contacts" and str(a["to_id"]) == ADA_HUBSPOT
                       and a["type_id"] == type_id for a in hs["associations"])

        calls = [c for c in hs["calls"] if c["properties"].get("callbridge_call_id") == cid]
        self.assertEqual(len(calls), 1, calls)
        self.assertEqual(len(hs["calls"]), 1, hs["calls"])
        self.assertEqual(calls[0]["properties"].get("hs_call_recording_url"), link)
        self.assertEqual(calls[0]["properties"].get("hubspot_owner_id"), "900002")  # alice
        self.assertTrue(on_ada("calls", calls[0], 194), hs["associations"])

        notes = [n for n in hs["notes"]
                 if n["properties"].get("callbridge_note_key") == cid + ":transcript"]
        self.assertEqual(len(notes), 1, hs["notes"])
        self.assertIn("demo of Callbridge Pro", notes[0]["properties"].get("hs_note_body", ""))
        self.assertTrue(on_ada("notes", notes[0], 202), hs["associations"])

        tasks = {t["properties"]["callbridge_task_key"]: t for t in hs["tasks"]
                 if (t["properties"].get("callbridge_task_key") or "").startswith(cid + ":")}
        self.assertEqual(sorted(tasks), [cid + ":callback", cid + ":demo"], hs["tasks"])
        self.assertEqual(len(hs["tasks"]), 2, hs["tasks"])
        for t in tasks.values():
            self.assertEqual(t["properties"].get("hs_task_status"), "NOT_STARTED")
            self.assertTrue(on_ada("tasks", t, 204), hs["associations"])

    def check_salesforce(self, cid, link):
        st = self.state()
        logs = [t for t in st.get("Task", []) if t.get("Callbridge_Call_Id__c") == cid]
        self.assertEqual(len(logs), 1, logs)
        self.assertEqual(logs[0].get("Callbridge_Recording_URL__c"), link)
        self.assertEqual(logs[0].get("WhoId"), ADA_SALESFORCE)

        parts = [p for p in st.get("Callbridge_Transcript__c", []) if p.get("Call_Id__c") == cid]
        self.assertEqual(len(parts), 1, parts)
        self.assertIn("demo of Callbridge Pro", parts[0].get("Text__c", ""))
        self.assertEqual(parts[0].get("Contact__c"), ADA_SALESFORCE)

        follow = {t["Callbridge_Followup_Key__c"]: t for t in st.get("Task", [])
                  if (t.get("Callbridge_Followup_Key__c") or "").startswith(cid + ":")}
        self.assertEqual(sorted(follow), [cid + ":callback", cid + ":demo"], follow)
        for t in follow.values():
            self.assertEqual(t.get("WhoId"), ADA_SALESFORCE)


if __name__ == "__main__":
    unittest.main(verbosity=2)
