"""The agent console in a real browser (issue 14): starts the whole product as the dev stack
runs it — the sandbox as Salesforce (seeded Users, Accounts, Contacts, Leads; its OAuth
authorize page), Twilio (calls played with live transcription, conference bridge) and the
speech-to-text engine, and callbridge against it with PostgreSQL and Redis (tests/integration/
harness.py) — then runs `node tests/browser/console.test.mjs`, which drives Debian's chromium
headless through playwright-core. The stack is described to it in CB_BROWSER_FIXTURE (JSON).

Registered in ctest as browser.console (label browser). Needs `chromium` (Debian) and
tests/browser/node_modules (scripts/test runs `npm ci` there); without them the test is
skipped with a message (exit 77) — except under CI (CI=true), where that is a failure.
Screenshots go to ${CMAKE_BINARY_DIR}/artifacts/console/.
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import harness  # noqa: E402
from test_twilio_calls import ACCOUNT, OUR_NUMBER, TOKEN, TwilioStack  # noqa: E402

SKIP = 77
API_KEY_SID = "SK" + "b" * 32
ALICE_USER = {"Id": "005DV0000000002YAA", "Username": "alice@callbridge.test",
              "Name": "Alice Agent", "Email": "alice@callbridge.test", "IsActive": True}
BOB_USER = {"Id": "005DV0000000003YAA", "Username": "bob@callbridge.test",
            "Name": "Bob Builder", "Email": "bob@callbridge.test", "IsActive": True}
ACME = {"Id": "001DV0000000001AAA", "Name": "Acme Corporation", "Phone": "+1 415-555-0100",
        "Industry": "Manufacturing", "BillingCountry": "US", "OwnerId": ALICE_USER["Id"]}
ADA = {"Id": "003DV0000000001AAA", "FirstName": "Ada", "LastName": "Lovelace",
       "Phone": "(415) 555-0123", "Email": "ada@acme.example", "AccountId": ACME["Id"],
       "OwnerId": ALICE_USER["Id"]}
GRACE = {"Id": "003DV0000000002AAA", "FirstName": "Grace", "LastName": "Hopper",
         "Phone": "14155550142", "Email": "grace@acme.example", "AccountId": ACME["Id"],
         "OwnerId": ALICE_USER["Id"]}
LINUS = {"Id": "00QDV0000000001AAA", "FirstName": "Linus", "LastName": "Pauling",
         "Company": "Pauling Labs", "Phone": "+1 (212) 555-0175", "Status": "Open - Not Contacted",
         "OwnerId": ALICE_USER["Id"]}

# Who is called: Ada talks (the live transcript) until hung up; the keyboard test's number is
# busy; Linus answers briefly (Open CTI click-to-dial).
ADA_NUMBER = "+14155550123"
GRACE_NUMBER = "+14155550142"
BUSY_NUMBER = "+14155550199"
LINUS_NUMBER = "+12125550175"

# A sales conversation with words of the NLP rules (config/nlp-rules.json), then quiet
# acknowledgements so the call goes on until the test hangs up (the sandbox spreads the talk
# time evenly over the segments and their partial results).
CONVERSATION = [
    ("outbound_track", "Hello, this is Alice from Callbridge."),
    ("inbound_track", "Hi Alice. We want a quote for the pricing of fifty seats."),
    ("outbound_track", "Happy to help, I can offer a discount on the annual contract."),
    ("inbound_track", "Great, we are also talking to Aircall but this sounds excellent."),
    ("outbound_track", "Shall I book a demo for Friday?"),
    ("inbound_track", "Yes please, a demo on Friday works."),
] + [("inbound_track", "Mm-hmm.")] * 40
TALK_MS = 150000


def fail_or_skip(why):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        print("browser.console: FAILED under CI: %s" % why, file=sys.stderr)
        return 1
    print("browser.console: SKIPPED: %s" % why, file=sys.stderr)
    return SKIP


def chromium_path():
    for p in (os.environ.get("CB_CHROMIUM"), shutil.which("chromium"),
              shutil.which("chromium-browser")):
        if p and os.access(p, os.X_OK):
            return p
    return None


def start_stack():
    sb = TwilioStack()
    key = os.path.join(sb.keydir, "openai-key")
    with open(key, "w") as f:
        f.write("sk-sandbox-openai\n")
    os.chmod(key, 0o644)
    sb.args += ["--openai-api-key-file", key]
    # Softphone tokens need an API key and a TwiML app (the stub Device never checks them).
    secret = os.path.join(sb.keydir, "twilio-api-key-secret")
    with open(secret, "w") as f:
        f.write("browser-test-api-key-secret\n")
    os.chmod(secret, 0o644)
    sb.args += ["--twilio-api-key-sid", API_KEY_SID, "--twilio-api-key-secret-file", secret]
    sb.start()
    sb.seed({"User": [ALICE_USER, BOB_USER], "Account": [ACME],
             "Contact": [ADA, GRACE], "Lead": [LINUS],
             "conversations": [{"to": ADA_NUMBER, "segments": [
                 {"track": t, "text": x} for t, x in CONVERSATION]}]})
    sb.outcome(to=ADA_NUMBER, status="completed", duration_s=60, answer_ms=1500,
               talk_ms=TALK_MS, recording_duration_s=3)
    sb.outcome(to=BUSY_NUMBER, status="busy")
    sb.outcome(to="*", status="completed", duration_s=20, answer_ms=500, talk_ms=60000,
               recording_duration_s=2)
    cfg = sb.twilio_config(conference=True, live_transcription=True, fallback_agent="alice",
                           api_key_sid=API_KEY_SID, api_key_secret_file=secret,
                           twiml_app_sid="AP" + "c" * 32)
    cfg = harness.merge_config(cfg, {
        "salesforce": {"client_secret_file": os.path.join(sb.keydir, "sf-secret")},
        "server": {"sse_heartbeat_s": 1},
        "stt": {"engine": "openai", "base_url": sb.url + "/v1", "api_key_file": key,
                "policy": "all", "source": "live", "live_grace_s": 1},
        "agents": {"wrap_up_s": 1, "disposition_required": True},
        "log": {"level": "info"},
    })
    daemon = harness.Daemon(cfg)
    daemon.migrate()
    agent_key = daemon.apikey("alice")
    admin_key = daemon.apikey("ops", admin=True)
    daemon.apikey("bob")
    for name, display, user in (("alice", "Alice Agent", ALICE_USER["Id"]),
                                ("bob", "Bob Builder", BOB_USER["Id"])):
        p = daemon.cli("agent", "set", name, "--display-name", display, "--crm-user-id", user,
                       "-c", daemon.conf_path)
        if p.returncode != 0:
            raise AssertionError("agent set %s: %s%s" % (name, p.stdout, p.stderr))
    daemon.start()
    return sb, daemon, agent_key, admin_key


def stop_stack(sb, daemon, rc):
    """Stop both; a daemon or sandbox that does not exit 0 on SIGTERM, or whose (sanitizer)
    build reported anything, fails the test too. Logs are printed on failure and kept."""
    problems = []
    for what, obj, stop in (("callbridge", daemon, lambda: daemon.close()),
                            ("sandbox", sb, lambda: sb.stop())):
        if obj is None:
            continue
        code = stop()
        if code not in (None, 0):
            problems.append("%s exit code %r on SIGTERM" % (what, code))
        reports = obj.sanitizer_reports()
        if reports:
            problems.append("%s sanitizer reports:\n  %s" % (what, "\n  ".join(reports[:20])))
    if problems:
        sys.stderr.write("browser.console: %s\n" % "; ".join(problems))
        rc = rc or 1
    for what, obj in (("callbridge", daemon), ("sandbox", sb)):
        if obj is None:
            continue
        if rc != 0:
            sys.stderr.write("\n---- %s log (%s), last lines ----\n%s\n" % (
                what, obj.log_path, obj.log_tail(80)))
        else:
            obj.remove_files()
    if sb is not None and rc == 0:
        shutil.rmtree(sb.keydir, ignore_errors=True)
    return rc


def main():
    chromium = chromium_path()
    if chromium is None:
        return fail_or_skip("Debian's chromium is not installed (apt-get install chromium)")
    node = shutil.which("node")
    if node is None:
        return fail_or_skip("node is not installed")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        return fail_or_skip("tests/browser/node_modules is missing (cd tests/browser && npm ci)")
    build = os.environ.get("CB_BUILD_DIR") or os.getcwd()
    artifacts = os.path.join(build, "artifacts", "console")
    os.makedirs(artifacts, exist_ok=True)
    sb = daemon = None
    rc = 1
    try:
        sb, daemon, agent_key, admin_key = start_stack()
        fixture = {
            "url": daemon.base_url, "sandbox_url": sb.url, "api_key": agent_key,
            "admin_key": admin_key, "agent": "alice", "display_name": "Alice Agent",
            "twilio": {"account_sid": ACCOUNT, "auth_token": TOKEN, "our_number": OUR_NUMBER},
            "sf_user": {"id": ALICE_USER["Id"], "username": ALICE_USER["Username"]},
            "numbers": {"ada": ADA_NUMBER, "grace": GRACE_NUMBER, "busy": BUSY_NUMBER,
                        "linus": LINUS_NUMBER},
            "records": {"ada": ADA, "grace": GRACE, "acme": ACME, "linus": LINUS},
            "owner_name": ALICE_USER["Name"],
            "chromium": chromium, "artifacts": artifacts,
        }
        env = dict(os.environ, CB_BROWSER_FIXTURE=json.dumps(fixture))
        args = [node, "--test", "--test-reporter=spec", os.path.join(HERE, "console.test.mjs")]
        if os.environ.get("CB_BROWSER_ONLY"):  # a regex of test names, for iterating
            args[2:2] = ["--test-name-pattern=" + os.environ["CB_BROWSER_ONLY"]]
        rc = subprocess.run(args, cwd=HERE, env=env, stdin=subprocess.DEVNULL,
                            timeout=780).returncode
    finally:
        rc = stop_stack(sb, daemon, rc)
    return rc


if __name__ == "__main__":
    sys.exit(main())
