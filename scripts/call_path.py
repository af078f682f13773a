"""The measuring half of scripts/call-path (run it through that script, which builds first).

Starts the stack with tests/integration's harness (private PostgreSQL and Redis, the sandbox as
Twilio and Salesforce, the daemon built with --coverage), then measures two windows of the
same length in the running daemon by resetting and dumping its gcov counters (through the
control thread of scripts/call-path-ctl.c): one
outbound call from POST /api/call/initiate to the Salesforce Task upsert, and an idle window.
Prints the src/ files with executed lines in each. Python standard library only.

Only the daemon's counters are measured: every other instrumented process (the sandbox, the
`callbridge migrate` and `apikey` commands) writes its .gcda files under a throwaway
GCOV_PREFIX. Completion is polled in the database, not through GET /api/calls/{id}, so the
read path's handler is not counted as part of the call.
"""

import argparse
import errno
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

CALL_DEADLINE_S = 90


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True, help="the checkout whose src/ is measured")
    ap.add_argument("--build", required=True, help="its build tree, made with --coverage")
    ap.add_argument("--harness", required=True, help="tests/integration of the driving tree")
    ap.add_argument("--settle", type=float, default=3.0,
                    help="seconds to wait after /readyz before measuring")
    ap.add_argument("--idle", type=float, default=5.0,
                    help="the idle window lasts as long as the call, and at least this many s")
    ap.add_argument("--json", help="also write the result to this file")
    return ap.parse_args()


class Control:
    """The control thread scripts/call-path-ctl.c links into the daemon: two FIFOs in a
    directory the daemon gets as $CB_GCOV_CTL."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory)
        for name in ("cmd", "ack"):
            os.mkfifo(os.path.join(directory, name))

    def send(self, word, timeout=60):
        """Have the daemon run `word` (reset or dump); return when it says it is done. Raises
        after `timeout` s (no control thread: not built by scripts/call-path, or it died)."""
        deadline = time.monotonic() + timeout
        ack = os.open(os.path.join(self.dir, "ack"), os.O_RDONLY | os.O_NONBLOCK)
        try:
            while True:  # the write end opens only once the thread waits on it
                try:
                    cmd = os.open(os.path.join(self.dir, "cmd"), os.O_WRONLY | os.O_NONBLOCK)
                    break
                except OSError as e:
                    if e.errno != errno.ENXIO or time.monotonic() > deadline:
                        raise RuntimeError("no gcov control thread in the daemon: %s" % e)
                    time.sleep(0.05)
            os.write(cmd, (word + "\n").encode())
            os.close(cmd)
            got = b""
            while not got.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([ack], [], [], left)[0]:
                    raise RuntimeError("the daemon did not acknowledge %r" % word)
                got += os.read(ack, 64)
        finally:
            os.close(ack)


class Window:
    """The daemon's counters between a reset and a dump, copied to a directory of their own."""

    def __init__(self, ctl, prefix, keep):
        self.ctl, self.prefix, self.keep = ctl, prefix, keep

    def start(self):
        shutil.rmtree(self.prefix, ignore_errors=True)  # a dump merges into existing files
        os.makedirs(self.prefix)
        self.ctl.send("reset")
        self.t0 = time.monotonic()

    def stop(self):
        self.seconds = time.monotonic() - self.t0
        self.ctl.send("dump")
        shutil.rmtree(self.keep, ignore_errors=True)
        shutil.copytree(self.prefix, self.keep)
        return self.seconds


def executed_files(snapshot, workdir):
    """{absolute source path: executed line count} from the .gcda files under `snapshot`
    (a GCOV_PREFIX tree: snapshot + the object's absolute path). Each .gcda gets its .gcno
    copied beside it from the build tree, then `gcov --json-format --stdout` reads the pair."""
    out = {}
    for dirpath, _, names in os.walk(snapshot):
        for name in names:
            if not name.endswith(".gcda"):
                continue
            gcda = os.path.join(dirpath, name)
            gcno_src = gcda[len(snapshot.rstrip("/")):][:-len(".gcda")] + ".gcno"
            if not os.path.exists(gcno_src):
                continue
            shutil.copy(gcno_src, gcda[:-len(".gcda")] + ".gcno")
            p = subprocess.run(["gcov", "--json-format", "--stdout", gcda],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               cwd=workdir, timeout=120)
            for doc in p.stdout.splitlines():
                doc = doc.strip()
                if not doc.startswith("{"):
                    continue
                data = json.loads(doc)
                cwd = data.get("current_working_directory", workdir)
                for f in data.get("files", []):
                    ran = sum(1 for ln in f.get("lines", []) if ln.get("count", 0) > 0)
                    if ran:
                        path = os.path.realpath(os.path.join(cwd, f["file"]))
                        out[path] = out.get(path, 0) + ran
    return out


def under(files, root):
    """The paths of `files` inside `root`, relative to it."""
    root = os.path.realpath(root) + "/"
    return {p[len(root):]: n for p, n in files.items() if p.startswith(root)}


def run_stack(args, prefix, scratch):
    """Start the stack, measure the call window and the idle window; return both Windows."""
    sys.path.insert(0, args.harness)
    import harness  # noqa: E402 (the driving tree's harness, found through --harness)
    from test_twilio_calls import CONTACT, CUSTOMER, OWNER, TwilioStack

    sb = TwilioStack()
    daemon = None
    try:
        sb.start()
        sb.seed({"User": [OWNER], "Contact": [CONTACT]})
        sb.outcome(to="*", status="completed", duration_s=42)
        daemon = harness.Daemon(sb.twilio_config(record=False))
        daemon.migrate()
        daemon.token = daemon.apikey("alice")
        daemon.env["GCOV_PREFIX"] = prefix  # only the daemon's own counters land there
        ctl = Control(os.path.join(scratch, "ctl"))
        daemon.env["CB_GCOV_CTL"] = ctl.dir
        daemon.start()
        time.sleep(args.settle)  # startup work (pool, first job poll) is not the call's
        call = Window(ctl, prefix, os.path.join(scratch, "call"))
        call.start()
        r = daemon.initiate({"to": CUSTOMER})
        if r.status != 202:
            raise RuntimeError("POST /api/call/initiate answered %r" % (r,))
        cid = r.body["call_id"]

        def synced():
            row = daemon.sql(
                "SELECT c.status, c.crm_state, (SELECT count(*) FROM jobs j WHERE j.call_id = "
                "c.id AND j.state <> 'done') FROM calls c WHERE c.id = '%s'" % cid)
            return row and row[0][0] == "completed" and row[0][1] == "synced" \
                and row[0][2] == "0"
        harness.wait_for(synced, CALL_DEADLINE_S, "call %s completed and synced" % cid)
        call.stop()
        tasks = sb.tasks_of(cid)
        if len(tasks) != 1:
            raise RuntimeError("expected one Salesforce Task for the call, got %r" % (tasks,))
        time.sleep(args.settle)  # late webhooks of the call are not the idle window's
        idle = Window(ctl, prefix, os.path.join(scratch, "idle"))
        idle.start()
        time.sleep(max(call.seconds, args.idle))
        idle.stop()
        return call, idle
    except BaseException:
        if daemon is not None:
            sys.stderr.write("---- daemon log ----\n%s\n" % daemon.log_tail(60))
        raise
    finally:
        if daemon is not None:
            daemon.close()
            daemon.remove_files()
        sb.close()


def report(args, call_files, idle_files, call_s, idle_s):
    src = os.path.join(args.source, "src")
    ran = under(call_files, src)
    idle = under(idle_files, src)
    commit = subprocess.run(["git", "-C", args.source, "log", "-1", "--format=%h %s"],
                            stdout=subprocess.PIPE, text=True).stdout.strip()
    only = sorted(f for f in ran if f not in idle)
    print("call-path: %s (%s)" % (args.source, commit[:72]))
    print("one call, POST /api/call/initiate to the Salesforce Task upsert: %.1f s; "
          "idle window: %.1f s" % (call_s, idle_s))
    print("src/ files with executed lines during the call (* = ran when idle too):")
    last_dir = None
    for f in sorted(ran, key=lambda p: (os.path.dirname(p), p)):
        d = os.path.dirname(f) or "."
        if d != last_dir:
            print("  src/%s/" % d if d != "." else "  src/")
            last_dir = d
        print("    %s %-28s %5d lines" % ("*" if f in idle else " ", os.path.basename(f), ran[f]))
    print("files: %d ran for the call, %d of them only for the call (not when idle), "
          "%d ran when idle too" % (len(ran), len(only), len(ran) - len(only)))
    if args.json:
        with open(args.json, "w") as fp:
            json.dump({"source": args.source, "commit": commit, "call_seconds": call_s, "idle_seconds": idle_s,
                       "call": ran, "idle": idle, "call_only": only}, fp, indent=1)


def main():
    args = parse_args()
    args.source = os.path.realpath(args.source)
    scratch = tempfile.mkdtemp(prefix="cb-call-path-")
    try:
        # Every instrumented process but the daemon writes its counters here, out of the way.
        os.environ["GCOV_PREFIX"] = os.path.join(scratch, "others")
        prefix = os.path.join(scratch, "daemon")
        call, idle = run_stack(args, prefix, scratch)
        call_files = executed_files(call.keep, args.build)
        idle_files = executed_files(idle.keep, args.build)
        if not call_files:
            raise RuntimeError("no executed lines in the call window: is %s built with "
                               "--coverage?" % args.build)
        report(args, call_files, idle_files, call.seconds, idle.seconds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
