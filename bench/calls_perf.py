#!/usr/bin/env python3
"""Where the two cores' time goes during bench/calls.sh, per component (perf).

  calls_perf.py map OUT.json CLIENT_PID   who is who: the dev stack's processes, callbridge's
                                          threads by role (one `gdb -batch` backtrace of every
                                          thread: a pause of about a second, taken before the
                                          feed), PostgreSQL's backends, the client
  calls_perf.py report PERF.DATA MAP.json prints a markdown table: share of the 2 cores per
                                          component, then the top symbols of the biggest

The profile is `perf record -e cpu-clock -F 999 -a -g` (bench/calls.py takes it): a timer
sample on every CPU, idle ones included (swapper), so a component's share of all samples is
its share of the box. Processes not in the map are the box's other work (other dev stacks,
builds), shown by command name."""

import collections
import json
import os
import re
import subprocess
import sys

ROLES = [  # (function in a thread's backtrace, role): the first match names the thread
    ("worker_main", "job workers"), ("cb_jobs_listener_main", "jobs LISTEN thread"),
    ("batcher_main", "batcher"), ("subscriber_main", "events (Redis subscriber)"),
    ("listen_loop", "events (Redis subscriber)"), ("heartbeat_main", "events heartbeat"),
    ("sync_main", "rate limiter"), ("watch_main", "key watcher"), ("watch", "conn guard"),
    ("task_main", "voice route tasks"), ("warmup", "CRM warm-up"),
    ("main", "main thread"),
]


def thread_roles(pid):
    """{tid: role} of callbridge's threads from one gdb backtrace of each. Batcher threads are
    told apart by their struct cb_batcher's name ("call", "status event")."""
    out = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt"],
                         capture_output=True, text=True, timeout=120).stdout
    roles, tid, batchers = {}, None, {}
    for line in out.splitlines():
        m = re.match(r'Thread \d+ \(Thread 0x[0-9a-f]+ \(LWP (\d+)\) "([^"]*)"\)', line)
        if m:
            tid = int(m.group(1))
            roles[tid] = "MHD (HTTP)" if m.group(2).startswith("MHD") else "other threads"
            continue
        if tid is None or roles.get(tid) not in ("other threads",):
            continue
        if "src/stt/pool.c" in line:
            roles[tid] = "STT pool"
            continue
        for fn, role in ROLES:
            if re.search(r"\b%s \(" % fn, line):
                roles[tid] = role
                if fn == "batcher_main":
                    a = re.search(r"arg=(0x[0-9a-f]+)", line)
                    batchers.setdefault(a.group(1) if a else "?", []).append(tid)
                break
    if batchers:
        cmds = []
        for addr in batchers:
            cmds += ["-ex", "print ((struct cb_batcher *)%s)->name" % addr]
        names = subprocess.run(["gdb", "-p", str(pid), "-batch"] + cmds, capture_output=True,
                               text=True, timeout=120).stdout
        found = re.findall(r'^\$\d+ = 0x[0-9a-f]+ "([^"]*)"', names, re.M)
        for (addr, tids), name in zip(batchers.items(), found):
            for t in tids:
                roles[t] = "%s batcher" % name
    return roles


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid) as f:
            return f.read().replace("\0", " ").strip()
    except OSError:
        return ""


def make_map(out, client_pid):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import benchlib
    import calls
    procs = {}  # pid: component
    cb = benchlib.pid_of("callbridge")
    for name, label in (("sandbox", "sandbox"), ("redis", "redis")):
        p = benchlib.pid_of(name)
        if p:
            procs[p] = label
    for i, p in enumerate(calls.pg_pids()):  # the postmaster first, then its children
        c = cmdline(p)
        procs[p] = ("postgres backends" if i and ("[local]" in c or "127.0.0.1" in c)
                    else "postgres (other processes)")
    procs[client_pid] = "client (bench/calls.py)"
    for p in children(client_pid):
        procs[p] = "client (bench/calls.py)"  # its psql sampler
    json.dump({"callbridge": cb, "threads": thread_roles(cb) if cb else {},
               "procs": procs}, open(out, "w"))


def samples(path):
    """(comm, pid, tid, leaf "sym (dso)", first callbridge frame or None) per sample."""
    p = subprocess.Popen(["perf", "script", "-i", path, "-F", "comm,pid,tid,ip,sym,dso"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    head, frames = None, []
    for line in p.stdout:
        line = line.rstrip("\n")
        if not line.strip():
            if head:
                yield head + (frames,)
            head, frames = None, []
        elif not line.startswith("\t"):
            m = re.match(r"^\s*(.*?)\s+(-?\d+)/(\d+)\s*$", line)
            if m:
                head, frames = (m.group(1), int(m.group(2)), int(m.group(3))), []
        else:
            m = re.match(r"^\s*[0-9a-f]+ (.*) \((.*)\)$", line)
            if m:
                frames.append((m.group(1), os.path.basename(m.group(2))))
    if head:
        yield head + (frames,)


def component(mp, comm, pid, tid):
    if pid == 0:
        return "idle"
    if pid == mp["callbridge"]:
        return "callbridge: " + mp["threads"].get(str(tid), "other threads")
    c = mp["procs"].get(str(pid))
    if c == "sandbox":
        return "sandbox: MHD (HTTP)" if comm.startswith("MHD") else "sandbox: call senders"
    return c or "other work on the box: " + comm


def report(path, map_path):
    mp = json.load(open(map_path))
    count, total = collections.Counter(), 0
    leaf = collections.defaultdict(collections.Counter)
    ours = collections.defaultdict(collections.Counter)
    for comm, pid, tid, frames in samples(path):
        total += 1
        comp = component(mp, comm, pid, tid)
        count[comp] += 1
        if frames:
            sym, dso = frames[0]
            leaf[comp]["%s (%s)" % (sym if sym != "[unknown]" else "?", dso)] += 1
            own = next((s for s, d in frames if d in ("callbridge", "callbridge-sandbox",
                                                       "postgres") and s != "[unknown]"), None)
            if own:
                ours[comp][own] += 1
    if not total:
        sys.exit("no samples in " + path)
    print("| component | cores (of 2) | share of the box |")
    print("|---|---:|---:|")
    for comp, n in count.most_common():
        if n / total >= 0.005:
            print("| %s | %.2f | %.1f %% |" % (comp, 2.0 * n / total, 100.0 * n / total))
    print("\nTop symbols (leaf; then the innermost frame in our own binary or postgres, when"
          " the frame-pointer-less stack allows) of the biggest components, % of that"
          " component's samples:\n")
    for comp, n in count.most_common(6):
        if comp == "idle":
            continue
        top = ", ".join("%s %.0f%%" % (s, 100.0 * k / n) for s, k in leaf[comp].most_common(6))
        own = ", ".join("%s %.0f%%" % (s, 100.0 * k / n) for s, k in ours[comp].most_common(5))
        print("- **%s** (%.2f cores): %s%s" % (comp, 2.0 * n / total, top,
                                             ("; in ours: " + own) if own else ""))


if __name__ == "__main__":
    if sys.argv[1] == "map":
        make_map(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
