"""The soak's own stack: a private PostgreSQL cluster and Redis (so both can be restarted),
the sandbox standing in for Twilio, Salesforce and OpenAI, and one callbridge daemon against
them. Built from the integration harness (tests/integration/harness.py)."""

import hashlib
import os
import signal
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness  # noqa: E402
from test_twilio_calls import TwilioStack  # noqa: E402

# A sales call: the NLP rules (config/nlp-rules.json) make follow-up tasks from it, so every
# call exercises the follow-up writes too.
TRANSCRIPT = ("Hi, this is Ada from Lovelace Labs. We would love a demo of Callbridge Pro next "
              "week. How much is the enterprise plan? We are comparing you with Dialpad, and the "
              "price needs to be under $5,000 per year. Please call me back tomorrow.")
RECORDING_S = 4
AGENT = "soak"


def tone_wav(seconds):
    """The bytes of the sandbox's generated recording (tw_media.c wav_tone): 8 kHz mono 16-bit
    PCM, a 400 Hz triangle. Every call records the same tone, so one seeded transcript (keyed
    by its SHA-256) serves them all."""
    n = seconds * 8000
    head = (b"RIFF" + struct.pack("<I", 36 + n * 2) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" +
            struct.pack("<I", n * 2))
    period = []
    for phase in range(20):
        v = (phase if phase < 10 else 20 - phase) * 1200 - 6000
        period.append(struct.pack("<h", v))
    body = b"".join(period) * (n // 20) + b"".join(period[:n % 20])
    return head + body


def settings(pairs):
    """--set SECTION.KEY=VALUE arguments as config overrides {section: {key: value}}."""
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        section, dot, key = name.partition(".")
        if not sep or not dot or not section or not key:
            raise ValueError("--set wants SECTION.KEY=VALUE, got %r" % pair)
        out.setdefault(section, {})[key] = value
    return out


class Stack:
    """Everything the soak runs against. `log` is called with one line per event."""

    def __init__(self, args, log):
        self.args = args
        self.log = log
        # An immediate shutdown must not lose commits callbridge was told about (fsync may stay
        # off: the machine does not crash, only PostgreSQL's processes die).
        self.pg = harness.PgCluster(durable=True)
        self.redis = harness.RedisServer()
        self.sb = TwilioStack()
        keyfile = os.path.join(self.sb.keydir, "openai-key")
        with open(keyfile, "w") as f:
            f.write("sk-sandbox-openai\n")
        os.chmod(keyfile, 0o644)
        self.sb.args += ["--openai-api-key-file", keyfile]
        tw = self.sb.twilio_config(timeout_ms=args.upstream_timeout_ms)
        overrides = harness.merge_config(tw, {
            "server": {"threads": 8, "drain_timeout_s": 5},
            "database": {"pool_size": 16},
            "workers": {"threads": args.workers, "max_attempts": 8, "lease_s": args.lease_s,
                        "poll_ms": 500, "backoff_base_ms": 500,
                        "backoff_max_ms": args.backoff_max_ms, "debug_kinds": False},
            "salesforce": {"timeout_ms": args.upstream_timeout_ms},
            # Calls end at once here: a call still not final after 20 s lost its webhooks, and
            # the reconciler (every 5 s, not every minute) must find it within the drain.
            "twilio": {"reconcile_after_s": 20, "reconcile_interval_s": 5},
            "stt": {"engine": "openai", "base_url": self.sb.url + "/v1", "api_key_file": keyfile,
                    "policy": "all"},
            "log": {"level": "info"},
        })
        overrides = harness.merge_config(overrides, settings(args.set))
        self.store = self.sb.store
        self.sb.start()
        self.sb.seed({"transcripts": [{"sha256": hashlib.sha256(tone_wav(RECORDING_S)).hexdigest(),
                                       "text": TRANSCRIPT}]})
        self.sb.control("salesforce/limits", {"used": 0, "max": args.sf_api_max})
        # Answered and ended at once: the sandbox plays calls on 4 threads, and any time a
        # call takes there caps the soak's rate (4 / (answer + talk) calls/s).
        self.sb.outcome(to="*", status="completed", duration_s=20, answer_ms=0, talk_ms=0,
                        recording_duration_s=RECORDING_S)
        self.daemon = harness.Daemon(overrides=overrides, pg=self.pg, redis_url=self.redis.url)
        self.daemon.migrate()
        self.daemon.token = self.daemon.apikey(AGENT)
        self.daemon.start(timeout=60)
        self.kills = 0

    # ---- faults and disruptions

    def faults(self, rate, latency_ms=0):
        """Upstream faults on every sandbox route: `rate` split into errors (half), 429s and
        timeouts (a quarter each); webhooks duplicated at `rate` and shuffled when rate > 0."""
        body = {"latency_ms": latency_ms}
        if rate > 0:
            body.update({"error_rate": rate / 2, "rate_limit_rate": rate / 4,
                         "timeout_rate": rate / 4,
                         "timeout_ms": self.args.upstream_timeout_ms + 1000,
                         "webhook_duplicate_rate": rate, "webhook_shuffle": True})
        return self.sb.control("faults", body)

    def kill_daemon(self, down_until=None, down_max_s=30):
        """kill -9 the daemon and start it again at once, or once `down_until()` is true (at
        most `down_max_s` later); returns the seconds it was away."""
        t0 = time.monotonic()
        self.daemon.kill(signal.SIGKILL)
        self.daemon.wait_exit(30)
        self.kills += 1
        if down_until is not None:
            try:
                harness.wait_for(down_until, down_max_s, "the moment to restart", interval=0.1)
            except AssertionError:
                self.log("restarting the daemon after %ds without the awaited moment"
                         % down_max_s)
        self.daemon.start(timeout=120)
        return time.monotonic() - t0

    def restart_pg(self, down_s=0.0):
        """pg_ctl stop -m immediate, `down_s` seconds of outage, start; returns the seconds it
        was away."""
        t0 = time.monotonic()
        self.pg.stop("immediate", timeout=60)
        if down_s > 0:
            time.sleep(down_s)
        self.pg.start(timeout=120)
        return time.monotonic() - t0

    def restart_redis(self):
        t0 = time.monotonic()
        self.redis.stop()
        self.redis.start()
        return time.monotonic() - t0

    # ---- reading

    def sql(self, query):
        return self.pg.rows(self.daemon.db, query)

    def owner_pid(self):
        """The pid of the running daemon (its workers' locked_by is "host:pid:nonce:N")."""
        return self.daemon.proc.pid if self.daemon.running() else None

    def logs(self):
        return {"daemon": self.daemon.log_path, "sandbox": self.sb.log_path,
                "postgres": self.pg.log_path, "redis": self.redis.log_path}

    def close(self):
        """Stop everything and remove its files (copy the logs first when they matter)."""
        for step in (self.daemon.close, self.daemon.remove_files, self.sb.close,
                     self.pg.destroy, self.redis.destroy):
            try:
                step()
            except Exception as e:  # noqa: BLE001 - cleanup goes on
                self.log("cleanup: %s failed: %s" % (step.__qualname__, e))
