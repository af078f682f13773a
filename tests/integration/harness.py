"""Integration-test harness: real PostgreSQL, real Redis, the callbridge daemon on loopback.

Python standard library only. Under `scripts/test` (ctest) PostgreSQL and Redis are shared
and described by CB_TEST_* variables; run by hand, the harness starts a throwaway
PostgreSQL cluster and Redis of its own and removes them at exit. Every test gets its own
database (cb_<random>), config file, log file and daemon on a free loopback port.

Synchronisation is always by polling with a deadline (`wait_for`), never by bare sleeps.
When a test fails, the tail of each of its daemons' logs is printed to stderr.
"""

import atexit
import ctypes
import fcntl
import http.client
import json
import os
import pwd
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import weakref

import openapi_check

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("CB_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
PG_BINDIR_DEFAULT = "/usr/lib/postgresql/15/bin"

# Kinds the daemon enqueues for a call (SPEC §3, issue 2).
KIND_PLACE_CALL = "telephony.place_call"
KIND_LOG_CALL = "crm.log_call"

# Lines a sanitizer build prints when it finds a bug.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")

DEFAULT = object()  # "use the daemon's default token" marker for Daemon.request


# --------------------------------------------------------------------------- utilities

def wait_for(predicate, timeout, what, interval=0.05):
    """Poll `predicate` every `interval` s until it returns a truthy value, which is
    returned. After `timeout` s fail with an AssertionError naming `what` and the last
    value seen. Exceptions raised by the predicate propagate (fail fast)."""
    deadline = time.monotonic() + timeout
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %gs waiting for %s (last value: %r)"
                                 % (timeout, what, last))
        time.sleep(interval)


# Ports handed out by free_port() stay reserved for the life of this process: an flock on
# <tmp>/cb-test-ports/<port>, released by the kernel when the process exits (even on kill -9).
_PORT_DIR = os.path.join(tempfile.gettempdir(), "cb-test-ports")
_port_locks = []


def _ephemeral_low():
    """The first port of the kernel's ephemeral range (bind-to-0, outgoing connections)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A TCP port on 127.0.0.1 for a server this test process starts.

    Bind-to-0 is not enough when ctest runs test programs in parallel: the kernel may hand
    the same port to two of them between the probe and the daemon's bind (CI once saw a
    test's readiness probe answered by another test's daemon). So the port is taken below
    the kernel's ephemeral range (no outgoing connection or bind-to-0 elsewhere lands there),
    reserved across processes with a lock file held until this process exits, and checked
    bindable. Raises if nothing is free after many tries."""
    os.makedirs(_PORT_DIR, mode=0o777, exist_ok=True)
    lo, hi = 20000, min(_ephemeral_low(), 32768) - 1
    rng = secrets.SystemRandom()
    for _ in range(2000):
        port = rng.randrange(lo, hi)
        fd = os.open(os.path.join(_PORT_DIR, str(port)), os.O_CREAT | os.O_RDWR, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                os.close(fd)  # in use outside the test suite: leave it
                continue
        _port_locks.append(fd)
        return port
    raise AssertionError("no free loopback port in %d-%d" % (lo, hi))


def _listener_pid_owns(pid, port):
    """True when process `pid` has an fd on the TCP socket listening on 127.0.0.1:`port`
    (from /proc/net/tcp and /proc/PID/fd; False when either cannot be read)."""
    want = "0100007F:%04X" % port
    inodes = set()
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                col = line.split()
                if col[1] == want and col[3] == "0A":  # 0A: LISTEN
                    inodes.add("socket:[%s]" % col[9])
        if not inodes:
            return False
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in inodes:
                    return True
            except OSError:
                pass
    except OSError:
        return False
    return False


_libc = None


def _die_with_parent(sig):
    """preexec_fn: deliver `sig` to the child when this process dies, so a test runner
    killed by a timeout does not leave daemons, PostgreSQL or Redis behind. Runs after the
    uid switch of subprocess (which would otherwise clear the setting)."""
    def preexec():
        global _libc
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl(1, int(sig))  # PR_SET_PDEATHSIG
    return preexec


def _on_sigterm(signum, frame):
    # Like Ctrl-C: unittest lets KeyboardInterrupt through (it would record SystemExit as
    # a test error and go on), test cleanups and atexit handlers then stop what we started.
    raise KeyboardInterrupt("SIGTERM")


if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
    signal.signal(signal.SIGTERM, _on_sigterm)


def _run(cmd, timeout=120, check=True, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("command failed (exit %d): %s\nstdout: %s\nstderr: %s"
                           % (p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return p


def _pg_runas():
    """The user PostgreSQL server tools run as: $CB_TEST_PG_RUNAS when scripts/test set it
    (empty: ourselves), else `postgres` when we are root (PostgreSQL refuses to run as
    root), else ourselves."""
    if "CB_TEST_PG_RUNAS" in os.environ:
        return os.environ["CB_TEST_PG_RUNAS"]
    return "postgres" if os.geteuid() == 0 else ""


def _as_postgres():
    """Command prefix that runs a PostgreSQL server tool as _pg_runas()."""
    user = _pg_runas()
    return ["runuser", "-u", user, "--"] if user else []


def _chown_postgres(path):
    user = _pg_runas()
    if user:
        pw = pwd.getpwnam(user)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def _kill_proc(proc, grace=10.0):
    """SIGTERM, then SIGKILL after `grace` s; reap. Ignores processes already gone."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    except ProcessLookupError:
        pass


def _scratch_dir():
    """Where private PostgreSQL/Redis directories go: $CB_TEST_SCRATCH (scripts/test makes
    it writable by the PostgreSQL user), else /var/tmp (short socket paths, and reachable
    by `postgres` unlike a root-owned home)."""
    d = os.environ.get("CB_TEST_SCRATCH")
    return d if d and os.path.isdir(d) else "/var/tmp"


OWNER_FILE = "harness.pid"


def _make_dir(prefix, parent):
    """A new private directory marked with our pid, after removing any left by harness
    processes that died without cleaning up (SIGKILL, e.g. a ctest timeout)."""
    for p in ("cb-pg-", "cb-redis-", "cb-it-"):
        _sweep_stale(parent, p)
    d = tempfile.mkdtemp(prefix=prefix, dir=parent)
    with open(os.path.join(d, OWNER_FILE), "w") as f:
        f.write("%d\n" % os.getpid())
    return d


def _sweep_stale(parent, prefix):
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in entries:
        if not entry.startswith(prefix):
            continue
        path = os.path.join(parent, entry)
        try:
            with open(os.path.join(path, OWNER_FILE)) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            continue  # not ours, or still being created
        try:
            os.kill(pid, 0)
            continue  # owner alive
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        if prefix == "cb-pg-":
            pidfile = os.path.join(path, "data", "postmaster.pid")
            if os.path.exists(pidfile):
                subprocess.run(_as_postgres() + [os.path.join(PG_BINDIR_DEFAULT, "pg_ctl"),
                                                 "stop", "-D", os.path.dirname(pidfile),
                                                 "-m", "immediate"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=60, cwd="/")
        shutil.rmtree(path, ignore_errors=True)


def sanitizer_lines(path):
    """Lines of the log at `path` where ASan/UBSan/LSan reported a problem."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [ln.rstrip() for ln in f if any(m in ln for m in SANITIZER_MARKERS)]
    except OSError:
        return []


def _tail(path, lines):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "(no log: %s)" % e
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


# --------------------------------------------------------------------------- PostgreSQL

class PgServer:
    """A PostgreSQL server reached through a Unix socket directory (`host`) and `port`
    as superuser `user`. Runs psql for assertions and creates/drops test databases."""

    def __init__(self, host, port, user, bindir=None):
        self.host = host
        self.port = int(port)
        self.user = user
        self.bindir = bindir or PG_BINDIR_DEFAULT
        psql = os.path.join(self.bindir, "psql")
        self.psql_bin = psql if os.access(psql, os.X_OK) else (shutil.which("psql") or "psql")

    def url(self, dbname):
        """libpq URI for `dbname` as the daemon's [database] url."""
        q = urllib.parse.urlencode({"host": self.host, "port": self.port, "user": self.user},
                                   safe="/")
        return "postgresql:///%s?%s" % (dbname, q)

    def psql(self, dbname, query, check=True, timeout=60):
        """Run one SQL command string; return the CompletedProcess."""
        cmd = [self.psql_bin, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
               "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", dbname,
               "-c", query]
        env = dict(os.environ, PGCONNECT_TIMEOUT="5")
        return _run(cmd, timeout=timeout, check=check, env=env)

    def rows(self, dbname, query):
        """Rows of `query` as lists of strings (NULL reads as '')."""
        out = self.psql(dbname, query).stdout
        return [line.split("\t") for line in out.splitlines()]

    def reachable(self):
        return self.psql("postgres", "SELECT 1", check=False, timeout=10).returncode == 0

    def create_database(self):
        name = "cb_" + secrets.token_hex(6)
        self.psql("postgres", "CREATE DATABASE %s" % name)
        return name

    def drop_database(self, name):
        self.psql("postgres", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name, check=False)


class PgCluster(PgServer):
    """A throwaway PostgreSQL cluster of our own: initdb in a /var/tmp directory owned by
    `postgres`, the server listening only on a Unix socket in that directory. stop() and
    start() keep data and port, so a test can take the database away and bring it back.
    It trades durability for speed (fsync and synchronous_commit off) unless `durable`: a test
    that kills PostgreSQL (`stop("immediate")`) and counts what survived needs every commit it
    was told about to survive (synchronous_commit on; fsync may stay off, the machine does not
    crash)."""

    def __init__(self, bindir=None, durable=False):
        bindir = bindir or os.environ.get("CB_TEST_PG_BINDIR") or PG_BINDIR_DEFAULT
        self.dir = _make_dir("cb-pg-", _scratch_dir())
        _chown_postgres(self.dir)
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "postgres.log")
        self.proc = None
        super().__init__(self.dir, free_port(), "postgres", bindir)
        _owned.add(self)
        _run(_as_postgres() + [os.path.join(self.bindir, "initdb"), "-D", self.data,
                               "-U", "postgres", "--auth=trust", "-E", "UTF8",
                               "--no-sync", "--no-instructions"], cwd=self.dir)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# callbridge integration tests\n"
                    "listen_addresses = ''\n"
                    "port = %d\n"
                    "unix_socket_directories = '%s'\n"
                    "max_connections = 200\n"
                    "fsync = off\nsynchronous_commit = %s\nfull_page_writes = off\n"
                    % (self.port, self.dir, "on" if durable else "off"))
        self.start()

    def start(self, timeout=60):
        if self.proc is not None and self.proc.poll() is None:
            return
        log = open(self.log_path, "ab")
        kw = {}
        user = _pg_runas()
        if user:
            pw = pwd.getpwnam(user)
            kw = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        try:
            # The postmaster runs in the foreground as our child (not daemonised by pg_ctl)
            # so that it dies with us; stop() still uses pg_ctl.
            self.proc = subprocess.Popen(
                [os.path.join(self.bindir, "postgres"), "-D", self.data],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                preexec_fn=_die_with_parent(signal.SIGQUIT), **kw)
        finally:
            log.close()

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited with %d:\n%s"
                                   % (self.proc.returncode, _tail(self.log_path, 30)))
            return self.reachable()
        wait_for(up, timeout, "private PostgreSQL to accept connections", interval=0.1)

    def stop(self, mode="fast", timeout=60):
        """pg_ctl stop -m MODE and wait for the postmaster to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        _run(_as_postgres() + [os.path.join(self.bindir, "pg_ctl"), "stop", "-D", self.data,
                               "-m", mode, "-w", "-t", str(timeout)], cwd=self.dir,
             timeout=timeout + 10)
        self.proc.wait(timeout)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def destroy(self):
        if self.running():
            try:
                self.stop("immediate", timeout=20)
            except Exception:  # noqa: BLE001 - cleanup must go on
                pass
            _kill_proc(self.proc, grace=5)
        shutil.rmtree(self.dir, ignore_errors=True)
        _owned.discard(self)


# --------------------------------------------------------------------------- Redis

class RedisServer:
    """A throwaway redis-server on a free loopback port, no persistence. stop()/start()
    keep the port."""

    def __init__(self):
        self.dir = _make_dir("cb-redis-", _scratch_dir())
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "redis.log")
        self.proc = None
        _owned.add(self)
        self.start()

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self, timeout=30):
        if self.running():
            return
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
                 "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", self.dir, "--daemonize", "no"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                preexec_fn=_die_with_parent(signal.SIGKILL))
        finally:
            log.close()

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited with %d:\n%s"
                                   % (self.proc.returncode, _tail(self.log_path, 30)))
            return redis_ping(self.port)
        wait_for(up, timeout, "private Redis to answer PING")

    def stop(self, timeout=30):
        if self.running():
            self.proc.terminate()
            self.proc.wait(timeout)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def destroy(self):
        _kill_proc(self.proc, grace=5)
        shutil.rmtree(self.dir, ignore_errors=True)
        _owned.discard(self)


def redis_ping(port, host="127.0.0.1"):
    """True when a Redis server answers PING on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


# --------------------------------------------------------------------------- shared infra

_owned = set()          # PgCluster / RedisServer objects we started
_live_daemons = weakref.WeakSet()


class Infra:
    """The PostgreSQL and Redis every test of this process uses unless it brings its own:
    the shared ones described by CB_TEST_* (scripts/test), else private ones started on
    first use and removed at exit."""

    def __init__(self):
        self._pg = None
        self._redis_url = None
        self.redis = None   # the private RedisServer, if we started one

    @property
    def pg(self):
        if self._pg is None:
            env = os.environ
            if env.get("CB_TEST_PGHOST"):
                self._pg = PgServer(env["CB_TEST_PGHOST"], env.get("CB_TEST_PGPORT", "5432"),
                                    env.get("CB_TEST_PGUSER", "postgres"),
                                    env.get("CB_TEST_PG_BINDIR"))
            else:
                self._pg = PgCluster()
        return self._pg

    @property
    def redis_url(self):
        if self._redis_url is None:
            if os.environ.get("CB_TEST_REDIS_URL"):
                self._redis_url = os.environ["CB_TEST_REDIS_URL"]
            else:
                self.redis = RedisServer()
                self._redis_url = self.redis.url
        return self._redis_url


_infra = None


def infra():
    """The process-wide Infra, created on first use."""
    global _infra
    if _infra is None:
        _infra = Infra()
    return _infra


def _cleanup_at_exit():
    for d in list(_live_daemons):
        try:
            d.close()
            d.remove_files()
        except Exception:  # noqa: BLE001
            pass
    for o in list(_owned):
        try:
            o.destroy()
        except Exception:  # noqa: BLE001
            pass


atexit.register(_cleanup_at_exit)


# --------------------------------------------------------------------------- HTTP

class Response(tuple):
    """(status, headers, body): headers is case-insensitive (`.get`), body the parsed JSON
    when the response is application/json and parses, else the raw bytes (`.raw`)."""

    def __new__(cls, status, headers, raw):
        body = raw
        ctype = (headers.get("Content-Type") or "").lower()
        if ctype.startswith("application/json"):
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body = raw
        self = tuple.__new__(cls, (status, headers, body))
        self.raw = raw
        return self

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    body = property(lambda self: self[2])

    def __repr__(self):
        hdrs = "; ".join("%s: %s" % kv for kv in self.headers.items())
        raw = self.raw if len(self.raw) <= 2000 else self.raw[:2000] + b"..."
        return "<HTTP %d [%s] %r>" % (self.status, hdrs, raw)


def local_request(port, method, path, hdrs, body=None, headers=None, timeout=30):
    """A request to 127.0.0.1:`port` with base headers `hdrs`: body dict/list is sent as JSON,
    str/bytes as is (JSON content type unless `headers` says otherwise); `headers` are added
    last, a value of None removing a header."""
    data = None
    if body is not None:
        if isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = json.dumps(body).encode("utf-8")
        hdrs["Content-Type"] = "application/json"
    if data is not None or method in ("POST", "PUT", "PATCH"):
        hdrs["Content-Length"] = str(len(data or b""))
    for k, v in (headers or {}).items():
        for existing in [h for h in hdrs if h.lower() == k.lower()]:
            del hdrs[existing]
        if v is not None:
            hdrs[k] = v
    return http_request("127.0.0.1", port, method, path, hdrs, data, timeout)


def http_request(host, port, method, target, headers, data=None, timeout=30):
    """One HTTP/1.1 exchange on a fresh connection. The request target is sent exactly as
    given. A large body is sent in chunks and sending stops as soon as the server answers
    (an early 413 and close is read, not turned into a broken pipe)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        head = "%s %s HTTP/1.1\r\n" % (method, target)
        head += "".join("%s: %s\r\n" % (k, v) for k, v in headers.items()) + "\r\n"
        try:
            sock.sendall(head.encode("latin-1"))
            if data:
                view = memoryview(data)
                off = 0
                while off < len(data):
                    readable, _, _ = select.select([sock], [], [], 0)
                    if readable:
                        break
                    off += sock.send(view[off:off + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        raw = resp.read()
        return Response(resp.status, resp.headers, raw)
    finally:
        sock.close()


# --------------------------------------------------------------------------- daemon

def find_binary(env_var, name):
    """A program of this project: $`env_var`, else the newest build*/`name` in the source
    tree. RuntimeError when there is none."""
    b = os.environ.get(env_var)
    if not b:
        cands = []
        for entry in os.listdir(SOURCE_DIR):
            p = os.path.join(SOURCE_DIR, entry, name)
            if entry.startswith("build") and os.access(p, os.X_OK):
                cands.append(p)
        if cands:
            b = max(cands, key=os.path.getmtime)
    if not b or not os.access(b, os.X_OK):
        raise RuntimeError("%s not found: build it and set %s (got %r)" % (name, env_var, b))
    return os.path.abspath(b)


def cb_bin():
    """The daemon binary: $CB_BIN, else the newest build*/callbridge."""
    return find_binary("CB_BIN", "callbridge")


# Every test program shares one Redis (scripts/test starts it) and ctest runs programs in
# parallel: each gets a key prefix (and so an events channel) of its own, or another program's
# agent "alice" would get this one's events, cached lookups and presence.
REDIS_KEY_PREFIX = "cbt%s:" % os.urandom(4).hex()


def base_config(port, db_url, redis_url):
    """The default test configuration: {section: {key: value}}."""
    return {
        "server": {"listen": "127.0.0.1:%d" % port, "public_url": "http://127.0.0.1:%d" % port,
                   "threads": 4, "max_body_bytes": 1048576, "default_region": "US",
                   "drain_timeout_s": 10},
        "database": {"url": db_url, "pool_size": 8, "auto_migrate": True},
        "redis": {"url": redis_url, "key_prefix": REDIS_KEY_PREFIX},
        # Tests send bursts on one key and bad tokens from one address; the limits are tested
        # on their own (test_security_auth.py).
        "auth": {"rate_limit_per_s": 0, "unauth_per_ip_per_min": 0},
        "workers": {"threads": 2, "max_attempts": 5, "lease_s": 2, "poll_ms": 200,
                    "backoff_base_ms": 100, "backoff_max_ms": 1000, "debug_kinds": True},
        # A call's end queues its agent's wrap-up end for wrap_up_s later (30 by default):
        # tests waiting for every job of a call would wait that long.
        "agents": {"wrap_up_s": 1},
        "salesforce": {"enabled": False},
        "twilio": {"enabled": False},
        "stt": {"engine": "none"},
        "nlp": {"rules_file": os.path.join(SOURCE_DIR, "config", "nlp-rules.json"),
                "lexicon_file": os.path.join(SOURCE_DIR, "config", "sentiment-lexicon.tsv")},
        "log": {"level": "debug"},
    }


def merge_config(base, overrides):
    """`base` updated by `overrides` ({section: {key: value}}); a value of None removes the
    key. Returns a new dict."""
    out = {s: dict(kv) for s, kv in base.items()}
    for section, kv in (overrides or {}).items():
        dst = out.setdefault(section, {})
        for k, v in kv.items():
            if v is None:
                dst.pop(k, None)
            else:
                dst[k] = v
    return out


def render_ini(config):
    def fmt(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)
    lines = []
    for section, kv in config.items():
        lines.append("[%s]" % section)
        lines.extend("%s = %s" % (k, fmt(v)) for k, v in kv.items())
        lines.append("")
    return "\n".join(lines)


class Daemon:
    """One callbridge instance with its own database, config file, log and port."""

    def __init__(self, overrides=None, pg=None, redis_url=None, db=None, label="callbridge"):
        self.bin = cb_bin()
        self.pg = pg or infra().pg
        self.redis_url = redis_url or infra().redis_url
        self.label = label
        self.dir = _make_dir("cb-it-", tempfile.gettempdir())
        self.owns_db = db is None
        self.db = db or self.pg.create_database()
        self.dropped = False
        self.port = free_port()
        self.conf_path = os.path.join(self.dir, "callbridge.conf")
        self.log_path = os.path.join(self.dir, "callbridge.log")
        self.proc = None
        self.token = None   # default bearer token for request()
        self.env = {}       # extra environment for every command and the daemon
        self.starts = 0
        self.config = merge_config(base_config(self.port, self.pg.url(self.db), self.redis_url),
                                   overrides)
        self.write_config()
        _live_daemons.add(self)

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def write_config(self, overrides=None, text=None):
        """(Re)write the config file from self.config merged with `overrides`, or write
        `text` verbatim."""
        if overrides:
            self.config = merge_config(self.config, overrides)
        with open(self.conf_path, "w") as f:
            f.write(text if text is not None else render_ini(self.config))

    def child_env(self, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBRIDGE_")}
        env.update(self.env)
        env.update(extra or {})
        return env

    # ---- CLI

    def cli(self, *args, env=None, timeout=60, check=False):
        """Run `callbridge ARGS...`; return the CompletedProcess (text stdout/stderr)."""
        return _run([self.bin] + [str(a) for a in args], timeout=timeout, check=check,
                    env=self.child_env(env), cwd=self.dir, stdin=subprocess.DEVNULL)

    def migrate(self):
        p = self.cli("migrate", "-c", self.conf_path)
        if p.returncode != 0:
            raise AssertionError("migrate failed (exit %d): %s%s"
                                 % (p.returncode, p.stdout, p.stderr))
        return p

    def apikey(self, agent, admin=False):
        """Create an API key for `agent` with the CLI; return the key."""
        args = ["apikey", "create", "--agent", agent] + (["--admin"] if admin else [])
        p = self.cli(*(args + ["-c", self.conf_path]))
        key = p.stdout.strip()
        if p.returncode != 0 or not key or len(key.split()) != 1:
            raise AssertionError("apikey create failed (exit %d): stdout %r stderr %r"
                                 % (p.returncode, p.stdout, p.stderr))
        return key

    # ---- process

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait=True, timeout=30):
        assert not self.running(), "daemon already running"
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(b"==== harness: start #%d ====\n" % self.starts)
            log.flush()
            self.proc = subprocess.Popen(
                [self.bin, "-c", self.conf_path], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.dir, env=self.child_env(),
                preexec_fn=_die_with_parent(signal.SIGKILL))
        if wait:
            self.wait_ready(timeout)
        return self

    def owns_port(self):
        """True when this daemon's process holds the listening socket on self.port: a 200 from
        /readyz alone could come from another process on the port if ours failed to bind."""
        return _listener_pid_owns(self.proc.pid, self.port)

    def wait_ready(self, timeout=30):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("callbridge exited with code %d before /readyz answered 200"
                                     % self.proc.returncode)
            if not self.owns_port():
                return False
            try:
                return self.request("GET", "/readyz", token=None, timeout=5).status == 200
            except OSError:
                return False
        wait_for(ready, timeout, "GET /readyz 200 on %s" % self.base_url)

    def kill(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=30):
        """Wait for the process to exit; return its exit code (negative: killed by a signal)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("callbridge did not exit within %gs" % timeout) from None

    def stop(self, timeout=30):
        """SIGTERM and wait; return the exit code (None if it was not running)."""
        if not self.running():
            return None
        self.kill(signal.SIGTERM)
        return self.wait_exit(timeout)

    def restart(self, wait=True, timeout=30):
        """Stop (SIGTERM) if running, then start again with the same config and database."""
        self.stop()
        return self.start(wait=wait, timeout=timeout)

    def close(self):
        """Stop the daemon if still running (SIGTERM; SIGKILL after drain_timeout_s + 5 s)
        and drop its database. Log and config stay until remove_files() so a failing test
        can print them. Returns the exit code of that stop: None when it was not running,
        "killed" when SIGTERM was not enough."""
        rc = None
        if self.running():
            self.proc.terminate()
            try:
                rc = self.proc.wait(int(self.config["server"].get("drain_timeout_s", 10)) + 5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                rc = "killed"
        if self.owns_db and not self.dropped:
            self.dropped = True
            try:
                self.pg.drop_database(self.db)
            except Exception:  # noqa: BLE001
                pass
        return rc

    def sanitizer_reports(self):
        """Lines of the log where ASan/UBSan/LSan reported a problem."""
        return sanitizer_lines(self.log_path)

    def remove_files(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines=150):
        return _tail(self.log_path, lines)

    # ---- HTTP

    def request(self, method, path, body=None, headers=None, token=DEFAULT, timeout=30):
        """One request; returns Response (status, headers, body).

        body: dict/list (sent as JSON), str or bytes (sent as is); any body gets
        Content-Type: application/json unless `headers` says otherwise. headers: extra
        headers; a value of None removes a default header. token: bearer token, DEFAULT
        for self.token, None for no Authorization header."""
        hdrs = {"Host": "127.0.0.1:%d" % self.port, "Connection": "close"}
        if token is DEFAULT:
            token = self.token
        if token is not None:
            hdrs["Authorization"] = "Bearer %s" % token
        resp = local_request(self.port, method, path, hdrs, body, headers, timeout)
        # Every answer must be what docs/openapi.yaml says (CB_OPENAPI_CHECK=report: report).
        openapi_check.check_response(self.bin, method, path, resp)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def initiate(self, body, **kw):
        return self.request("POST", "/api/call/initiate", body, **kw)

    # ---- database

    def sql(self, query):
        """Rows of `query` in the test database, as lists of strings (NULL reads as '')."""
        return self.pg.rows(self.db, query)

    def sql_value(self, query):
        rows = self.sql(query)
        if len(rows) != 1 or len(rows[0]) != 1:
            raise AssertionError("expected one value from %r, got %r" % (query, rows))
        return rows[0][0]

    def count(self, table, where="true"):
        return int(self.sql_value("SELECT count(*) FROM %s WHERE %s" % (table, where)))

    def insert_job(self, kind, payload=None, notify=True, call_id=None):
        """INSERT a job directly (as later issues' code would), for `call_id` when given, and
        NOTIFY cb_jobs; return its id."""
        lit = json.dumps(payload or {}).replace("'", "''")
        call = "NULL" if call_id is None else "'%s'" % call_id.replace("'", "''")
        job_id = int(self.sql_value(
            "INSERT INTO jobs (kind, call_id, payload) VALUES ('%s', %s, '%s') RETURNING id"
            % (kind.replace("'", "''"), call, lit)))
        if notify:
            self.sql("NOTIFY cb_jobs")
        return job_id

    def job(self, job_id):
        """{state, attempts, last_error, locked_by} of a job."""
        row = self.sql("SELECT state, attempts, coalesce(last_error, ''), "
                       "coalesce(locked_by, ''), finished_at IS NOT NULL "
                       "FROM jobs WHERE id = %d" % job_id)
        if not row:
            raise AssertionError("job %d does not exist" % job_id)
        state, attempts, last_error, locked_by, finished = row[0]
        return {"state": state, "attempts": int(attempts), "last_error": last_error,
                "locked_by": locked_by, "finished": finished == "t"}

    def wait_job_state(self, job_id, states, timeout=30):
        states = (states,) if isinstance(states, str) else tuple(states)
        last = {}

        def check():
            last.update(self.job(job_id))
            return last["state"] in states and dict(last)
        try:
            return wait_for(check, timeout, "job %d to reach %s" % (job_id, "|".join(states)))
        except AssertionError as e:
            raise AssertionError("%s; job now %r" % (e, last)) from None


# --------------------------------------------------------------------------- sandbox

def sandbox_bin():
    """The sandbox binary: $CB_SANDBOX_BIN, else the newest build*/callbridge-sandbox."""
    return find_binary("CB_SANDBOX_BIN", "callbridge-sandbox")


class Sandbox:
    """One callbridge-sandbox on a free loopback port with its own log. `sf_client_id`,
    `sf_cert_file`, `sf_client_secret_file`, `twilio_account_sid`, `twilio_auth_token_file`
    become the matching --options; `args` are extra arguments."""

    def __init__(self, sf_client_id=None, sf_cert_file=None, sf_client_secret_file=None,
                 twilio_account_sid=None, twilio_auth_token_file=None, args=()):
        self.bin = sandbox_bin()
        self.dir = _make_dir("cb-it-", tempfile.gettempdir())
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "sandbox.log")
        self.proc = None
        self.args = ["--listen", "127.0.0.1:%d" % self.port]
        for opt, val in (("--sf-client-id", sf_client_id), ("--sf-cert-file", sf_cert_file),
                         ("--sf-client-secret-file", sf_client_secret_file),
                         ("--twilio-account-sid", twilio_account_sid),
                         ("--twilio-auth-token-file", twilio_auth_token_file)):
            if val is not None:
                self.args += [opt, str(val)]
        self.args += list(args)

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=30):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([self.bin] + self.args, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                                         preexec_fn=_die_with_parent(signal.SIGKILL))

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("sandbox exited with %d:\n%s"
                                     % (self.proc.returncode, self.log_tail(30)))
            if not _listener_pid_owns(self.proc.pid, self.port):
                return False
            try:
                return self.request("GET", "/__sandbox/health", timeout=5).status == 200
            except OSError:
                return False
        wait_for(up, timeout, "sandbox /__sandbox/health on %s" % self.base_url)
        return self

    def stop(self, timeout=30):
        """SIGTERM and wait; the exit code, or None when it was not running."""
        if not self.running():
            return None
        self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return "killed"

    def sanitizer_reports(self):
        return sanitizer_lines(self.log_path)

    def log_tail(self, lines=100):
        return _tail(self.log_path, lines)

    def remove_files(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, body=None, headers=None, token=None, timeout=30):
        """One request; body dict/list is sent as JSON, str/bytes as is (JSON content type
        unless `headers` says otherwise); token: a bearer token or None."""
        hdrs = {"Host": "127.0.0.1:%d" % self.port, "Connection": "close"}
        if token is not None:
            hdrs["Authorization"] = "Bearer %s" % token
        return local_request(self.port, method, path, hdrs, body, headers, timeout)

    def control(self, path, body=None):
        """POST /__sandbox/<path> (GET when body is None and path is "state"); asserts 200
        and returns the JSON body."""
        if body is None and path in ("state", "faults"):
            resp = self.request("GET", "/__sandbox/" + path)
        else:
            resp = self.request("POST", "/__sandbox/" + path, body if body is not None else {})
        if resp.status != 200:
            raise AssertionError("control %s failed: %r" % (path, resp))
        return resp.body


# --------------------------------------------------------------------------- test case

class DaemonTestCase(unittest.TestCase):
    """Base class: setUp starts a daemon (self.daemon) with agent key self.key ('alice',
    the default token) unless `autostart` is False. `config` holds per-class overrides.
    When a test fails, the logs of every daemon it made are printed to stderr."""

    config = {}
    autostart = True
    agent = "alice"

    def setUp(self):
        if self.autostart:
            self.daemon = self.new_daemon(self.config)
            self.daemon.migrate()
            self.key = self.daemon.apikey(self.agent)
            self.daemon.token = self.key
            self.daemon.start()

    def new_daemon(self, overrides=None, **kw):
        d = Daemon(overrides=overrides, **kw)
        self.__dict__.setdefault("_daemons", []).append(d)
        self.addCleanup(self._teardown_daemon, d)
        return d

    def _teardown_daemon(self, d):
        """Every test ends with a graceful stop: it must exit 0, and a sanitizer build must
        not have reported anything."""
        rc = d.close()
        problems = []
        if rc not in (None, 0):
            problems.append("exit code %r on SIGTERM at the end of the test" % (rc,))
        reports = d.sanitizer_reports()
        if reports:
            problems.append("sanitizer reports in the log:\n  " + "\n  ".join(reports[:20]))
        if problems:
            self.fail("callbridge on port %d: %s" % (d.port, "; ".join(problems)))

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        before = len(result.errors) + len(result.failures)
        try:
            return super().run(result)
        finally:
            daemons = self.__dict__.pop("_daemons", [])
            if len(result.errors) + len(result.failures) > before:
                for d in daemons:
                    sys.stderr.write("\n---- %s log (%s, db %s, port %d), last lines ----\n%s\n"
                                     "---- end of log ----\n"
                                     % (self.id(), d.log_path, d.db, d.port, d.log_tail()))
                sys.stderr.flush()
            for d in daemons:
                d.close()
                d.remove_files()

    # ---- assertions

    def assertError(self, resp, status, code):
        """resp is the JSON error {"error":{"code":code,"message":...}} with `status`."""
        self.assertEqual(resp.status, status, "wrong status: %r" % (resp,))
        ctype = (resp.headers.get("Content-Type") or "").lower()
        self.assertTrue(ctype.startswith("application/json"),
                        "error without application/json: %r" % (resp,))
        body = resp.body
        self.assertIsInstance(body, dict, "error body is not a JSON object: %r" % (resp,))
        err = body.get("error")
        self.assertIsInstance(err, dict, "no error object: %r" % (resp,))
        self.assertEqual(err.get("code"), code, "wrong error code: %r" % (resp,))
        self.assertIsInstance(err.get("message"), str, "no message: %r" % (resp,))
        self.assertTrue(err["message"], "empty message: %r" % (resp,))
        self.assertTrue(resp.headers.get("X-Request-Id"), "no X-Request-Id: %r" % (resp,))

    def assertStatus(self, resp, status):
        self.assertEqual(resp.status, status, "unexpected response %r" % (resp,))

    def wait_for(self, predicate, timeout, what, interval=0.05):
        return wait_for(predicate, timeout, what, interval)


def main():
    unittest.main(verbosity=2)
