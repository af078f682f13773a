"""The command line: --check-config and its messages, environment overrides, migrate,
apikey create, keygen, --version, --help and usage errors (SPEC §5, issue 2 items 4-5)."""

import base64
import os
import tempfile
import signal

import harness
from harness import DaemonTestCase

# --check-config must fail and print one line naming all of `needles` (section, key and,
# for a bad value, the value itself).
BAD_CONFIGS = [
    ("integer not a number", {"server": {"threads": "abc"}}, ["[server]", "threads", "abc"]),
    ("integer below range", {"server": {"threads": "0"}}, ["[server]", "threads", "0"]),
    ("integer above range", {"workers": {"max_attempts": "100000"}},
     ["[workers]", "max_attempts", "100000"]),
    ("negative integer", {"database": {"pool_size": "-4"}}, ["[database]", "pool_size", "-4"]),
    ("bad boolean", {"database": {"auto_migrate": "maybe"}},
     ["[database]", "auto_migrate", "maybe"]),
    ("bad enum", {"log": {"level": "loud"}}, ["[log]", "level", "loud"]),
    ("listen without port", {"server": {"listen": "127.0.0.1"}}, ["[server]", "listen"]),
    ("listen port out of range", {"server": {"listen": "127.0.0.1:70000"}},
     ["[server]", "listen", "70000"]),
    ("listen garbage", {"server": {"listen": "not-an-address"}},
     ["[server]", "listen", "not-an-address"]),
    ("redis url wrong scheme", {"redis": {"url": "http://127.0.0.1:6379"}},
     ["[redis]", "url", "http://127.0.0.1:6379"]),
    ("unknown region", {"server": {"default_region": "XX"}},
     ["[server]", "default_region", "XX"]),
    ("unknown key", {"server": {"bogus_key": "1"}}, ["[server]", "bogus_key"]),
    ("unknown section", {"bogus_section": {"some_key": "1"}}, ["bogus_section", "some_key"]),
]


class CliTest(DaemonTestCase):
    autostart = False

    def setUp(self):
        super().setUp()
        self.d = self.new_daemon()

    def check_config(self, env=None):
        return self.d.cli("--check-config", "-c", self.d.conf_path, env=env)

    def assertLineNames(self, text, needles, context):
        lines = [ln for ln in text.splitlines() if all(n in ln for n in needles)]
        self.assertTrue(lines, "%s: no line of stderr names all of %r; stderr was:\n%s"
                        % (context, needles, text))

    # ---- crm check|setup

    def test_crm_setup_without_a_setup_step_says_where_it_is(self):
        """The test config runs no CRM (the none provider has no set-up step): `crm check` and
        `crm setup` say so and exit 1, changing nothing."""
        for verb in ("check", "setup"):
            p = self.d.cli("crm", verb, "-c", self.d.conf_path)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("no CRM is configured", p.stderr)
        p = self.d.cli("crm", "-c", self.d.conf_path)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("usage: callbridge crm check", p.stderr)

    # ---- --check-config

    def test_check_config_accepts_the_test_config(self):
        p = self.check_config()
        self.assertEqual(p.returncode, 0, "valid config refused:\n%s%s" % (p.stdout, p.stderr))

    def test_check_config_reports_each_bad_value(self):
        base = dict(self.d.config)
        for name, overrides, needles in BAD_CONFIGS:
            with self.subTest(name):
                self.d.config = harness.merge_config(base, overrides)
                self.d.write_config()
                p = self.check_config()
                self.assertEqual(p.returncode, 1, "%s: exit %d, stderr:\n%s"
                                 % (name, p.returncode, p.stderr))
                self.assertLineNames(p.stderr, needles, name)

    def test_check_config_reports_every_problem_on_its_own_line(self):
        self.d.write_config({"server": {"threads": "abc"}, "log": {"level": "loud"},
                             "workers": {"bogus_key": "1"}})
        p = self.check_config()
        self.assertEqual(p.returncode, 1, p.stderr)
        for needles in (["[server]", "threads", "abc"], ["[log]", "level", "loud"],
                        ["[workers]", "bogus_key"]):
            self.assertLineNames(p.stderr, needles, "three problems")
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        self.assertGreaterEqual(len(lines), 3, "expected one line per problem:\n" + p.stderr)

    def test_check_config_crm_policies_both_spellings(self):
        """The CRM policies are [crm] keys; the [salesforce] spellings still work with a
        warning; both spellings disagreeing is refused, naming both."""
        self.d.write_config({"crm": {"write_mode": "single", "unknown": "create_lead"}})
        p = self.check_config()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("deprecated", p.stderr)
        self.d.write_config({"crm": {"write_mode": "staged", "unknown": "ignore"},
                             "salesforce": {"multi_match": "all"}})
        p = self.check_config()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertLineNames(p.stderr, ["warning", "[salesforce] multi_match", "deprecated",
                                        "[crm] multi_match"], "old spelling")
        self.d.write_config({"salesforce": {"write_mode": "single"}})
        p = self.check_config()
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertLineNames(p.stderr, ["[salesforce] write_mode", "single", "[crm] write_mode",
                                        "staged"], "conflict")

    def test_check_config_missing_file(self):
        missing = self.d.dir + "/does-not-exist.conf"
        p = self.d.cli("--check-config", "-c", missing)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(missing, p.stderr)

    def test_environment_overrides_file_value_bad(self):
        p = self.check_config(env={"CALLBRIDGE_SERVER_THREADS": "abc"})
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertLineNames(p.stderr, ["[server]", "threads", "abc"], "env override")
        p = self.check_config(env={"CALLBRIDGE_LOG_LEVEL": "loud"})
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertLineNames(p.stderr, ["[log]", "level", "loud"], "env override")

    def test_environment_overrides_file_value_good(self):
        # The file says listen on port A; the environment says port B: the daemon must
        # answer on B.
        other = harness.free_port()
        self.d.env["CALLBRIDGE_SERVER_LISTEN"] = "127.0.0.1:%d" % other
        self.d.migrate()
        file_port = self.d.port
        self.d.port = other  # request() and wait_ready() talk to the overridden port
        try:
            self.d.start()
            self.assertStatus(self.d.get("/healthz", token=None), 200)
        finally:
            self.d.port = file_port
        with self.assertRaises(OSError, msg="daemon also listens on the file's port"):
            harness.http_request("127.0.0.1", file_port, "GET", "/healthz",
                                 {"Host": "x", "Connection": "close"}, timeout=5)
        self.assertEqual(self.d.stop(), 0)

    def test_daemon_refuses_to_start_with_bad_config(self):
        self.d.write_config({"server": {"threads": "abc"}})
        p = self.d.cli("-c", self.d.conf_path, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertLineNames(p.stdout + p.stderr, ["[server]", "threads", "abc"], "run")

    # ---- migrate, apikey

    def test_migrate_is_idempotent(self):
        for attempt in (1, 2):
            p = self.d.cli("migrate", "-c", self.d.conf_path)
            self.assertEqual(p.returncode, 0, "migrate #%d: %s%s" % (attempt, p.stdout, p.stderr))
        for table in ("api_keys", "calls", "call_events", "jobs"):
            self.assertEqual(self.d.count(table), 0, table)

    def test_apikey_create(self):
        self.d.migrate()
        keys = {}
        for agent, admin in (("bob", False), ("boss", True)):
            args = ["apikey", "create", "--agent", agent] + (["--admin"] if admin else [])
            p = self.d.cli(*(args + ["-c", self.d.conf_path]))
            self.assertEqual(p.returncode, 0, p.stderr)
            out = p.stdout.strip()
            self.assertEqual(len(p.stdout.strip().splitlines()), 1, "key alone: %r" % p.stdout)
            self.assertRegex(out, r"^\S{16,}$", "key alone on stdout")
            keys[agent] = out
            # Stored as SHA-256 of the whole key, mapped to the agent.
            rows = self.d.sql("SELECT agent, admin FROM api_keys WHERE key_hash = "
                              "sha256(convert_to('%s', 'UTF8'))" % out.replace("'", "''"))
            self.assertEqual(rows, [[agent, "t" if admin else "f"]])
            # The secret is not stored in clear anywhere in the row.
            self.assertEqual(self.d.count("api_keys a", "strpos(a::text, '%s') > 0"
                                          % out.replace("'", "''")), 0)
        self.assertNotEqual(keys["bob"], keys["boss"])

    def test_apikey_create_requires_agent(self):
        self.d.migrate()
        p = self.d.cli("apikey", "create", "-c", self.d.conf_path)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(self.d.count("api_keys"), 0)

    # ---- keygen, version, help, usage

    def test_keygen(self):
        seen = set()
        for _ in range(2):
            p = self.d.cli("keygen")
            self.assertEqual(p.returncode, 0, p.stderr)
            lines = p.stdout.strip().splitlines()
            self.assertEqual(len(lines), 1, p.stdout)
            fields = lines[0].split()
            self.assertEqual(len(fields), 2, "expected '<key_id> <base64 key>': %r" % lines[0])
            # the key file line format of include/callbridge/blob.h and docs/blob-format.md
            self.assertRegex(lines[0], r"^k[0-9a-f]{8} [A-Za-z0-9+/]{43}=$")
            key = base64.b64decode(fields[1], validate=True)
            self.assertEqual(len(key), 32)
            seen.add(fields[1])
        self.assertEqual(len(seen), 2, "two keygen runs printed the same key")

    def test_check_config_checks_the_recording_keys(self):
        line = self.d.cli("keygen").stdout.strip()
        d = tempfile.mkdtemp(prefix="cb-keys-")
        path = os.path.join(d, "keys")
        with open(path, "w") as f:
            f.write(line + "\n")
        os.chmod(path, 0o600)
        self.d.write_config({"storage": {"key_file": path}})
        p = self.d.cli("--check-config", "-c", self.d.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        os.chmod(path, 0o644)
        p = self.d.cli("--check-config", "-c", self.d.conf_path)
        self.assertEqual(p.returncode, 1)
        self.assertIn("[storage] key_file", p.stderr)
        with open(path, "w") as f:
            f.write("k1234 not-a-key\n")
        os.chmod(path, 0o600)
        p = self.d.cli("--check-config", "-c", self.d.conf_path)
        self.assertEqual(p.returncode, 1)
        self.assertIn("line 1", p.stderr)
        self.assertNotIn("not-a-key", p.stderr)

    def test_check_config_checks_the_stt_policy(self):
        for policy, ok in (("all", True), ("min_duration_s=30,record_type=Lead", True),
                           ("min_duration_s=30,record_kind=lead", True),
                           ("record_kind=Lead", False),
                           ("direction=inbound", True), ("colour=red", False),
                           ("min_duration_s", False)):
            with self.subTest(policy):
                self.d.write_config({"stt": {"policy": policy}})
                p = self.d.cli("--check-config", "-c", self.d.conf_path)
                self.assertEqual(p.returncode, 0 if ok else 1, p.stderr)
                if not ok:
                    self.assertIn("[stt] policy", p.stderr)

    def test_version(self):
        p = self.d.cli("--version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"\d+\.\d+")

    def test_help(self):
        p = self.d.cli("--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("--check-config", p.stdout + p.stderr)
        self.assertIn("migrate", p.stdout + p.stderr)

    def test_help_config_lists_every_setting_of_the_example(self):
        p = self.d.cli("--help-config")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout
        example = os.path.join(harness.SOURCE_DIR, "config", "callbridge.conf.example")
        section = None
        keys = []
        with open(example) as f:
            for line in f:
                line = line.strip().lstrip(";#").strip()
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1]
                elif section and "=" in line and line.split("=")[0].strip().isidentifier():
                    keys.append((section, line.split("=")[0].strip()))
        self.assertGreater(len(keys), 50)
        for section, key in keys:
            with self.subTest(key="%s.%s" % (section, key)):
                self.assertIn("\n%s = " % key, "\n" + out)
                self.assertIn("CALLBRIDGE_%s_%s" % (section.upper(), key.upper()), out)
        self.assertIn("[workers]\n", out)
        self.assertIn("reloaded on SIGHUP", out)

    def test_unknown_flag(self):
        for args in (["--bogus-flag"], ["--bogus-flag", "-c", self.d.conf_path]):
            with self.subTest(args=args):
                p = self.d.cli(*args, timeout=30)
                self.assertEqual(p.returncode, 2, "stdout %r stderr %r" % (p.stdout, p.stderr))
                self.assertIn("usage", p.stderr.lower())

    def test_sigterm_idle_exits_zero(self):
        self.d.migrate()
        self.d.start()
        self.d.kill(signal.SIGTERM)
        self.assertEqual(self.d.wait_exit(20), 0)


if __name__ == "__main__":
    harness.main()
