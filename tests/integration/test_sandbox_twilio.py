"""The sandbox's Twilio emulation (SPEC §7), driven alone: Basic auth, Calls.json validation
codes and Call JSON, list filters, the call driver's status/voice/recording webhooks (every
X-Twilio-Signature checked independently here with hmac/sha1), outcomes, recording media
behind auth and a signed redirect, delete, and the webhook duplicate/shuffle faults; the
StartTime filters as Twilio's OpenAPI defines them, connection-override redeliveries, a
call's Recordings.json, the bounded summary and call pages."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import struct
import tempfile
import threading
import time
import unittest
import urllib.parse

import harness

AC = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-auth-token-for-tests"
API = "/2010-04-01/Accounts/%s" % AC
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>hello</Say></Response>'
RFC2822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
                     r"Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$")
ALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


def expected_signature(url, params):
    """Twilio's algorithm, written from its documentation: URL + each POST parameter sorted
    by name, name then value; HMAC-SHA1 with the auth token; base64."""
    data = url + "".join(k + v for k, v in sorted(params))
    mac = hmac.new(TOKEN.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(mac).decode("ascii")


class Receiver:
    """A threading HTTP server on 127.0.0.1:0 that records every webhook and checks its
    signature. /voice* answers TwiML, everything else an empty 200."""

    def __init__(self):
        self.hooks = []
        self.fail_first = {}  # path -> how many more deliveries answer 503
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # the sandbox's senders keep connections alive

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                params = urllib.parse.parse_qsl(body, keep_blank_values=True)
                url = "http://127.0.0.1:%d%s" % (outer.port, self.path)
                hook = {"path": self.path, "params": dict(params), "headers": dict(self.headers),
                        "signature_ok": hmac.compare_digest(
                            self.headers.get("X-Twilio-Signature", ""),
                            expected_signature(url, params))}
                with outer.lock:
                    outer.hooks.append(hook)
                    failing = outer.fail_first.get(self.path.split("?")[0], 0)
                    if failing:
                        outer.fail_first[self.path.split("?")[0]] = failing - 1
                answer = TWIML.encode() if self.path.startswith("/voice") else b""
                status = 200
                if failing:
                    status = 503
                elif self.path.startswith("/gone"):
                    status = 404
                self.send_response(status)
                self.send_header("Content-Type", "text/xml" if answer else "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def received(self, call_sid=None, path_prefix=""):
        with self.lock:
            return [h for h in self.hooks
                    if (call_sid is None or h["params"].get("CallSid") == call_sid)
                    and h["path"].startswith(path_prefix)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class TwilioSandboxTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cb-tw-")
        token_file = os.path.join(self.dir, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        self.rx = Receiver()
        self.sb = harness.Sandbox(twilio_account_sid=AC, twilio_auth_token_file=token_file)
        self.addCleanup(self._stop)
        self.sb.start()

    def _stop(self):
        rc = self.sb.stop()
        reports = self.sb.sanitizer_reports()
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if rc not in (0, None) or reports or (result and (result.errors or result.failures)):
            print("\n---- sandbox log (%s) ----\n%s\n---- end ----" % (self.id(),
                                                                      self.sb.log_tail()))
        self.sb.remove_files()
        self.rx.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.assertIn(rc, (0, None), "sandbox exit code on SIGTERM")
        self.assertEqual(reports, [], "sanitizer reports")

    # ---- helpers

    def auth(self, user=AC, password=TOKEN):
        cred = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        return {"Authorization": "Basic " + cred}

    def twilio(self, method, path, form=None, auth=True, headers=None):
        hdrs = dict(FORM) if form is not None else {}
        if auth is True:
            hdrs.update(self.auth())
        elif auth:
            hdrs.update(auth)
        hdrs.update(headers or {})
        body = urllib.parse.urlencode(form, doseq=True) if form is not None else None
        return self.sb.request(method, path, body, headers=hdrs)

    def create(self, to="+14155550123", events=None, **extra):
        form = {"To": to, "From": "+14155550100", "Url": self.rx.url("/voice"),
                "StatusCallback": self.rx.url("/status?tenant=t1")}
        if events is not None:
            form["StatusCallbackEvent"] = events
        form.update(extra)
        form = {k: v for k, v in form.items() if v is not None}
        resp = self.twilio("POST", API + "/Calls.json", form)
        self.assertEqual(resp.status, 201, repr(resp))
        return resp.body

    def assertTwilioError(self, resp, status, code):
        self.assertEqual(resp.status, status, repr(resp))
        self.assertEqual(sorted(resp.body), ["code", "message", "more_info", "status"], repr(resp))
        self.assertEqual(resp.body["code"], code, repr(resp))
        self.assertEqual(resp.body["status"], status)
        self.assertEqual(resp.body["more_info"], "https://www.twilio.com/docs/errors/%d" % code)

    def wait_status(self, sid, n, what):
        return harness.wait_for(lambda: (lambda h: h if len(h) >= n else None)(
            self.rx.received(sid, "/status")), 20, what)

    def wait_final(self, sid):
        def done():
            calls = [c for c in self.sb.control("state")["twilio_calls"] if c["sid"] == sid]
            return calls and calls[0]["end_time"] and calls[0]
        try:
            return harness.wait_for(done, 20, "call %s to end" % sid)
        except AssertionError as e:
            state = self.sb.control("state")
            raise AssertionError("%s\nwebhooks logged: %s\nreceived: %s" % (
                e, json.dumps(state["twilio_webhooks"]),
                [(h["path"], h["params"].get("CallStatus")) for h in self.rx.received()]))

    def wait_log(self, sid, n):
        """The call's twilio_webhooks entries once there are at least `n` (a delivery is
        logged when its answer has come back, just after our receiver saw it)."""
        def entries():
            log = [w for w in self.sb.control("state")["twilio_webhooks"]
                   if w["call_sid"] == sid]
            return log if len(log) >= n else None
        return harness.wait_for(entries, 10, "%d logged webhooks of %s" % (n, sid))

    def assertSigned(self, hooks):
        for h in hooks:
            self.assertTrue(h["signature_ok"], h)
            self.assertEqual(h["headers"].get("User-Agent"), "TwilioProxy/1.1")
            self.assertEqual(h["headers"].get("Content-Type"), "application/x-www-form-urlencoded")
            self.assertTrue(h["headers"].get("I-Twilio-Idempotency-Token"), h)

    # ---- auth and validation

    def test_auth_failures_answer_20003(self):
        form = {"To": "+14155550123", "From": "+14155550100", "Url": self.rx.url("/voice")}
        other = "AC" + "f" * 32
        cases = [("no credentials", API, False), ("wrong token", API, self.auth(password="x")),
                 ("wrong user", API, self.auth(user=other)),
                 ("path of another account", "/2010-04-01/Accounts/%s" % other, True),
                 ("bearer", API, {"Authorization": "Bearer " + TOKEN})]
        for name, base, auth in cases:
            with self.subTest(name):
                resp = self.twilio("POST", base + "/Calls.json", form, auth=auth)
                self.assertEqual(resp.body, {"code": 20003, "message": "Authenticate",
                                             "more_info": "https://www.twilio.com/docs/errors/20003",
                                             "status": 401})
                self.assertEqual(resp.status, 401)
        self.assertTwilioError(self.twilio("GET", API + "/Calls.json", auth=False), 401, 20003)
        self.assertEqual(self.sb.control("state")["twilio_calls"], [])

    def test_validation_codes(self):
        url = self.rx.url("/voice")
        base = {"To": "+14155550123", "From": "+14155550100", "Url": url}
        cases = [
            ("no To", {"To": None}, 21201), ("empty From", {"From": ""}, 21213),
            ("no instructions", {"Url": None}, 21205),
            ("Url and Twiml", {"Twiml": TWIML}, 21205),
            ("relative Url", {"Url": "/voice"}, 21205),
            ("ftp Url", {"Url": "ftp://example.com/x"}, 21205),
            ("bad Method", {"Method": "PUT"}, 21209),
            ("bad StatusCallback", {"StatusCallback": "example.com/cb"}, 21609),
            ("bad StatusCallbackMethod", {"StatusCallbackMethod": "DELETE"}, 21209),
            ("bad event", {"StatusCallbackEvent": ["ringing", "hangup"]}, 21626),
            ("bad Record", {"Record": "yes"}, 20001),
            ("bad RecordingStatusCallback", {"RecordingStatusCallback": "nope"}, 13256),
        ]
        for name, change, code in cases:
            with self.subTest(name):
                form = dict(base)
                form.update(change)
                form = {k: v for k, v in form.items() if v is not None}
                self.assertTwilioError(self.twilio("POST", API + "/Calls.json", form), 400, code)
        self.assertEqual(self.sb.control("state")["twilio_calls"], [])

    # ---- Call JSON, fetch, list

    def test_create_answers_the_call_json(self):
        call = self.create(events=None, StatusCallback=None)
        self.assertRegex(call["sid"], r"^CA[0-9a-f]{32}$")
        want = {"account_sid": AC, "to": "+14155550123", "from": "+14155550100",
                "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01",
                "price": None, "price_unit": "USD", "duration": None, "start_time": None,
                "end_time": None, "answered_by": None, "parent_call_sid": None,
                "to_formatted": "(415) 555-0123", "from_formatted": "(415) 555-0100",
                "uri": "%s/Calls/%s.json" % (API, call["sid"])}
        self.assertEqual({k: call.get(k, "MISSING") for k in want}, want)
        self.assertRegex(call["date_created"], RFC2822)
        self.assertEqual(call["subresource_uris"]["recordings"],
                         "%s/Calls/%s/Recordings.json" % (API, call["sid"]))
        for key in ("twiml", "sandbox", "recording_sid"):
            self.assertNotIn(key, call)
        final = self.wait_final(call["sid"])
        resp = self.twilio("GET", API + "/Calls/%s.json" % call["sid"])
        self.assertEqual(resp.status, 200, repr(resp))
        self.assertEqual((resp.body["status"], resp.body["duration"]), ("completed", "7"))
        self.assertEqual(final["twiml"], TWIML)  # fetched from Url even without callbacks
        self.assertRegex(resp.body["start_time"], RFC2822)
        missing = API + "/Calls/CA%s.json" % ("0" * 32)
        self.assertTwilioError(self.twilio("GET", missing), 404, 20404)
        counts = self.sb.control("state")["requests"]
        self.assertEqual((counts["twilio.calls.create"], counts["twilio.calls.fetch"]), (1, 2))

    def test_list_filters(self):
        a = self.create(to="+14155550111", StatusCallback=None)
        b = self.create(to="+14155550222", StatusCallback=None)
        today = time.strftime("%Y-%m-%d", time.gmtime())
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))

        def sids(query):
            resp = self.twilio("GET", API + "/Calls.json?" + urllib.parse.urlencode(query))
            self.assertEqual(resp.status, 200, repr(resp))
            return [c["sid"] for c in resp.body["calls"]], resp.body

        got, page = sids({})
        self.assertEqual(got, [b["sid"], a["sid"]])  # newest first
        self.assertEqual((page["page"], page["page_size"], page["next_page_uri"]), (0, 50, None))
        self.assertEqual(sids({"To": "+14155550111"})[0], [a["sid"]])
        self.assertEqual(sids({"To": "+14155550111", "StartTime>=": today})[0], [a["sid"]])
        self.assertEqual(sids({"StartTime>=": yesterday, "From": "+14155550100"})[0],
                         [b["sid"], a["sid"]])
        self.assertEqual(sids({"StartTime": yesterday})[0], [])
        self.assertEqual(sids({"StartTime<": today})[0], [])
        got, page = sids({"PageSize": 1})
        self.assertEqual(got, [b["sid"]])
        self.assertIn("Page=1", page["next_page_uri"])
        self.assertEqual(sids({"PageSize": 1, "Page": 1})[0], [a["sid"]])
        self.assertTwilioError(self.twilio("GET", API + "/Calls.json?StartTime=yesterday"),
                               400, 20001)
        # Every field has its digits: no sign, space or short field.
        for bad in ("%2B202-01-01", "2026-%2B1-01", "2026-01-%201", "2026-01-01T1:2:3Z",
                    "2026-01-01T01:02:%203Z"):
            self.assertTwilioError(self.twilio("GET", API + "/Calls.json?StartTime=" + bad),
                                   400, 20001)

    # ---- the call driver

    def test_status_callbacks_in_order_and_twiml_stored(self):
        call = self.create(events=ALL_EVENTS)
        hooks = self.wait_status(call["sid"], 4, "four status callbacks")
        final = self.wait_final(call["sid"])
        self.assertSigned(self.rx.received(call["sid"]))
        got = [(h["params"]["CallStatus"], h["params"]["SequenceNumber"]) for h in hooks]
        self.assertEqual(got, [("initiated", "0"), ("ringing", "1"), ("in-progress", "2"),
                               ("completed", "3")])
        for h in hooks:
            p = h["params"]
            self.assertEqual(h["path"], "/status?tenant=t1")
            self.assertEqual((p["AccountSid"], p["ApiVersion"], p["Direction"], p["Called"],
                              p["Caller"], p["CallbackSource"]),
                             (AC, "2010-04-01", "outbound-api", "+14155550123", "+14155550100",
                              "call-progress-events"))
            self.assertRegex(p["Timestamp"], RFC2822)
        self.assertNotIn("CallDuration", hooks[0]["params"])
        self.assertEqual((hooks[3]["params"]["CallDuration"], hooks[3]["params"]["Duration"]),
                         ("7", "1"))
        voice = self.rx.received(call["sid"], "/voice")
        self.assertEqual(len(voice), 1)
        self.assertEqual(voice[0]["params"]["CallStatus"], "in-progress")
        self.assertEqual((final["twiml"], final["status"], final["duration"]),
                         (TWIML, "completed", "7"))
        log = self.wait_log(call["sid"], 5)
        self.assertEqual([(w["kind"], w.get("status")) for w in log],
                         [("status", "initiated"), ("status", "ringing"),
                          ("status", "in-progress"), ("voice", None), ("status", "completed")])
        self.assertTrue(all(w["http_status"] == 200 for w in log), log)
        self.assertEqual(log[0]["url"], self.rx.url("/status?tenant=t1"))

    def test_default_is_completed_only_and_outcome_durations(self):
        self.sb.control("twilio/outcome", {"to": "*", "status": "completed", "duration_s": 61,
                                           "answer_ms": 20, "talk_ms": 20})
        call = self.create()
        hooks = self.wait_status(call["sid"], 1, "the completed callback")
        final = self.wait_final(call["sid"])
        self.assertEqual([h["params"]["CallStatus"] for h in hooks], ["completed"])
        self.assertEqual((hooks[0]["params"]["SequenceNumber"], hooks[0]["params"]["CallDuration"],
                          hooks[0]["params"]["Duration"]), ("0", "61", "2"))
        self.assertEqual(final["duration"], "61")

    def test_busy_has_no_in_progress_and_zero_duration(self):
        out = self.sb.control("twilio/outcome", {"to": "+14155550999", "status": "busy"})
        self.assertEqual((out["status"], out["duration_s"]), ("busy", 0))
        call = self.create(to="+14155550999", events=ALL_EVENTS, Record="true",
                           RecordingStatusCallback=self.rx.url("/rec"))
        final = self.wait_final(call["sid"])
        hooks = self.wait_status(call["sid"], 3, "three status callbacks")
        self.assertEqual([h["params"]["CallStatus"] for h in hooks],
                         ["initiated", "ringing", "busy"])
        self.assertEqual((hooks[-1]["params"]["CallDuration"], hooks[-1]["params"]["Duration"]),
                         ("0", "0"))
        self.assertEqual(self.rx.received(call["sid"], "/voice"), [])
        self.assertEqual(self.rx.received(call["sid"], "/rec"), [])
        self.assertEqual((final["status"], final["duration"], final["twiml"],
                          final["recording_sid"]), ("busy", "0", None, None))
        # other numbers keep the default outcome
        other = self.create(events=["completed"])
        self.assertEqual(self.wait_final(other["sid"])["status"], "completed")

    def test_outcome_validation_and_reset(self):
        for body in ({"status": "busy"}, {"to": "*", "status": "ringing"},
                     {"to": "*", "duration_s": -1}, {"to": "*", "colour": "red"}):
            with self.subTest(body):
                resp = self.sb.request("POST", "/__sandbox/twilio/outcome", body)
                self.assertEqual(resp.status, 400, repr(resp))
        self.sb.control("twilio/outcome", {"to": "*", "status": "failed"})
        self.sb.control("reset")
        call = self.create()
        self.assertEqual(self.wait_final(call["sid"])["status"], "completed")

    def test_reset_abandons_calls_in_flight_and_stop_is_prompt(self):
        self.sb.control("twilio/outcome", {"to": "*", "talk_ms": 60000})
        first = self.create(events=ALL_EVENTS)
        self.wait_status(first["sid"], 3, "the call to be answered")
        second = self.create(events=ALL_EVENTS)  # still talking when the sandbox stops
        self.wait_status(second["sid"], 3, "the second call to be answered")
        self.sb.control("reset")
        state = self.sb.control("state")
        self.assertEqual((state["twilio_calls"], state["twilio_webhooks"]), ([], []))
        started = time.monotonic()
        self.assertEqual(self.sb.stop(), 0)
        self.assertLess(time.monotonic() - started, 10, "stop waited for the talking calls")
        self.assertEqual(len(self.rx.received(first["sid"], "/status")), 3)

    # ---- recordings

    def test_recording_callback_media_and_delete(self):
        self.sb.control("twilio/outcome", {"to": "*", "duration_s": 5, "recording_duration_s": 3})
        call = self.create(Record="true", RecordingStatusCallback=self.rx.url("/rec"))
        rec = harness.wait_for(lambda: self.rx.received(call["sid"], "/rec"), 10,
                               "the recording callback")
        self.assertSigned(rec)
        self.assertEqual(len(rec), 1)
        p = rec[0]["params"]
        self.assertRegex(p["RecordingSid"], r"^RE[0-9a-f]{32}$")
        path = "%s/Recordings/%s" % (API, p["RecordingSid"])
        self.assertEqual(p["RecordingUrl"], self.sb.base_url + path)
        self.assertEqual((p["AccountSid"], p["RecordingStatus"], p["RecordingDuration"],
                          p["RecordingChannels"], p["RecordingSource"], p["ErrorCode"]),
                         (AC, "completed", "3", "1", "OutboundAPI", "0"))
        self.assertRegex(p["RecordingStartTime"], RFC2822)
        # the recording callback comes after the final status callback
        hooks = self.rx.received(call["sid"])
        self.assertEqual(hooks[-1]["path"], "/rec")
        self.assertEqual(hooks[-2]["params"].get("CallStatus"), "completed")
        self.assertEqual(self.wait_final(call["sid"])["recording_sid"], p["RecordingSid"])

        self.assertTwilioError(self.twilio("GET", path, auth=False), 401, 20003)
        self.assertTwilioError(self.twilio("GET", path + ".wav", auth=self.auth(password="no")),
                               401, 20003)
        for suffix in ("", ".wav"):
            resp = self.twilio("GET", path + suffix)
            self.assertEqual(resp.status, 302, repr(resp))
            location = resp.headers["Location"]
            self.assertTrue(location.startswith(self.sb.base_url + "/__media/"), location)
            media = self.sb.request("GET", location[len(self.sb.base_url):])
            self.assertEqual(media.status, 200, repr(media))
            self.assertEqual(media.headers["Content-Type"], "audio/x-wav")
            self.assertWav(media.raw, 3)
        tampered = location[:-4] + ("0000" if not location.endswith("0000") else "1111")
        self.assertEqual(self.sb.request("GET", tampered[len(self.sb.base_url):]).status, 403)
        self.assertTwilioError(self.twilio("GET", path + ".mp3"), 404, 20404)

        meta = self.twilio("GET", path + ".json")
        self.assertEqual(meta.status, 200, repr(meta))
        self.assertEqual((meta.body["sid"], meta.body["call_sid"], meta.body["duration"],
                          meta.body["status"], meta.body["channels"], meta.body["source"]),
                         (p["RecordingSid"], call["sid"], "3", "completed", 1, "OutboundAPI"))
        self.assertEqual(meta.body["uri"], path + ".json")

        self.assertTwilioError(self.twilio("DELETE", path + ".json", auth=False), 401, 20003)
        resp = self.twilio("DELETE", path + ".json")
        self.assertEqual((resp.status, resp.raw), (204, b""), repr(resp))
        self.assertTwilioError(self.twilio("GET", path + ".json"), 404, 20404)
        self.assertTwilioError(self.twilio("GET", path), 404, 20404)
        self.assertTwilioError(self.twilio("DELETE", path + ".json"), 404, 20404)
        self.assertEqual(self.sb.request("GET", location[len(self.sb.base_url):]).status, 404)
        counts = self.sb.control("state")["requests"]
        self.assertEqual((counts["twilio.recordings.media"], counts["twilio.recordings.delete"]),
                         (6, 3))

    def test_start_time_filters_follow_the_openapi(self):
        # twilio-oai: StartTime "started on this date", StartTime< "before this date",
        # StartTime> "started on or after this date" (YYYY-MM-DD in UTC; date-time allowed).
        a = self.create(StatusCallback=None)

        def started():  # a queued call has no start_time and matches no StartTime filter
            r = self.twilio("GET", API + "/Calls/%s.json" % a["sid"])
            return r.status == 200 and r.body.get("start_time")
        harness.wait_for(started, 30, "the call to start")
        now = time.time()
        today = time.strftime("%Y-%m-%d", time.gmtime(now))
        tomorrow = time.strftime("%Y-%m-%d", time.gmtime(now + 86400))

        def sids(name, value):
            resp = self.twilio("GET", API + "/Calls.json?" + urllib.parse.urlencode({name: value}))
            self.assertEqual(resp.status, 200, repr(resp))
            return [c["sid"] for c in resp.body["calls"]]
        self.assertEqual(sids("StartTime>", today), [a["sid"]], "on or after today")
        self.assertEqual(sids("StartTime>", tomorrow), [])
        self.assertEqual(sids("StartTime<", tomorrow), [a["sid"]])
        self.assertEqual(sids("StartTime<", today), [])
        self.assertEqual(sids("StartTime", today), [a["sid"]])
        iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        self.assertEqual(sids("StartTime>", iso(now - 120)), [a["sid"]])
        self.assertEqual(sids("StartTime>", iso(now + 120)), [])
        self.assertTwilioError(self.twilio("GET", API + "/Calls.json?StartTime%3E=2026-13-01"),
                               400, 20001)

    def test_connection_overrides_redeliver_what_the_policy_covers(self):
        self.rx.fail_first["/flaky"] = 2
        url = self.rx.url("/flaky") + "#rc=3&rp=5xx"
        call = self.create(StatusCallback=url, events=["completed"])
        hooks = harness.wait_for(
            lambda: (lambda h: h if len(h) >= 3 else None)(self.rx.received(call["sid"], "/flaky")),
            20, "the completed callback delivered on its third try")
        self.assertEqual(len({h["headers"]["I-Twilio-Idempotency-Token"] for h in hooks}), 1)
        for h in hooks:  # signed over the URL as given, fragment included
            self.assertEqual(h["headers"]["X-Twilio-Signature"],
                             expected_signature(url, sorted(h["params"].items())))
        log = [w for w in self.wait_log(call["sid"], 4) if w["kind"] == "status"]
        self.assertEqual([(w["http_status"], w.get("retry", 0)) for w in log],
                         [(503, 0), (503, 1), (200, 2)])
        # 4xx is outside rp=5xx: initiated is not redelivered (completed follows it in order).
        gone = self.rx.url("/gone") + "#rc=3&rp=5xx"
        call = self.create(StatusCallback=gone, events=["initiated", "completed"])
        log = [w for w in self.wait_log(call["sid"], 3) if w["kind"] == "status"]
        self.assertEqual([(w.get("status"), w["http_status"]) for w in log],
                         [("initiated", 404), ("completed", 404)])

    def test_call_recordings_summary_and_call_pages(self):
        self.sb.control("twilio/outcome", {"to": "*", "duration_s": 5, "recording_duration_s": 3})
        call = self.create(Record="true", RecordingStatusCallback=self.rx.url("/rec"))
        other = self.create(to="+14155550999", StatusCallback=None)
        harness.wait_for(lambda: self.rx.received(call["sid"], "/rec"), 10, "the recording")
        resp = self.twilio("GET", "%s/Calls/%s/Recordings.json" % (API, call["sid"]))
        self.assertEqual(resp.status, 200, repr(resp))
        recs = resp.body["recordings"]
        self.assertEqual(len(recs), 1)
        self.assertEqual((recs[0]["call_sid"], recs[0]["status"], recs[0]["duration"]),
                         (call["sid"], "completed", "3"))
        self.assertEqual(recs[0]["uri"], "%s/Calls/%s/Recordings/%s.json" % (
            API, call["sid"], recs[0]["sid"]))
        self.assertTwilioError(self.twilio("GET", "%s/Calls/CA%s/Recordings.json" % (
            API, "0" * 32)), 404, 20404)
        self.wait_final(call["sid"])
        self.wait_final(other["sid"])
        summary = self.sb.request("GET", "/__sandbox/summary").body["twilio"]
        self.assertEqual((summary["calls"], summary["calls_by_status"], summary["calls_live"],
                          summary["recordings"]), (2, {"completed": 2}, 0, 1))
        state = self.sb.request("GET", "/__sandbox/state?twilio=summary").body
        self.assertEqual(state["twilio"], summary)
        self.assertNotIn("twilio_calls", state)
        self.assertNotIn("twilio_webhooks", state)
        page = self.sb.request("GET", "/__sandbox/twilio/calls?PageSize=1&Page=1").body
        self.assertEqual(([c["sid"] for c in page["calls"]], page["total"]), ([other["sid"]], 2))
        page = self.sb.request("GET", "/__sandbox/twilio/calls?To=%2B14155550999").body
        self.assertEqual([c["sid"] for c in page["calls"]], [other["sid"]])

    def test_seeded_recording_is_served(self):
        sid = "RE" + "ab" * 16
        wav = b"RIFF" + struct.pack("<I", 40) + b"WAVEseeded-audio-bytes-for-the-test!"
        self.sb.control("seed", {"recordings": [{"sid": sid,
                                                 "wav_base64": base64.b64encode(wav).decode()}]})
        self.sb.control("twilio/outcome", {"to": "*", "recording_sid": sid})
        call = self.create(Record="true")

        def recorded():
            calls = [c for c in self.sb.control("state")["twilio_calls"]
                     if c["sid"] == call["sid"]]
            return calls[0]["recording_sid"]  # stored just after the call ends
        self.assertEqual(harness.wait_for(recorded, 10, "the recording"), sid)
        resp = self.twilio("GET", "%s/Recordings/%s" % (API, sid))
        self.assertEqual(resp.status, 302, repr(resp))
        media = self.sb.request("GET", resp.headers["Location"][len(self.sb.base_url):])
        self.assertEqual(media.raw, wav)

    def assertWav(self, data, seconds):
        self.assertEqual(data[:4], b"RIFF")
        self.assertEqual(data[8:16], b"WAVEfmt ")
        fmt, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[20:36])
        self.assertEqual((fmt, channels, rate, bits), (1, 1, 8000, 16))
        self.assertEqual(data[36:40], b"data")
        self.assertEqual(struct.unpack("<I", data[40:44])[0], seconds * 16000)
        self.assertEqual(len(data), 44 + seconds * 16000)
        self.assertEqual(struct.unpack("<I", data[4:8])[0], len(data) - 8)

    # ---- faults

    def test_duplicate_rate_sends_every_webhook_twice(self):
        self.sb.control("faults", {"webhook_duplicate_rate": 1.0})
        call = self.create(events=ALL_EVENTS, Record="true",
                           RecordingStatusCallback=self.rx.url("/rec"))
        harness.wait_for(lambda: len(self.rx.received(call["sid"], "/rec")) == 2, 10,
                         "the recording callback twice")
        hooks = self.rx.received(call["sid"])
        self.assertSigned(hooks)
        self.assertEqual(len(hooks), 2 * (4 + 1 + 1), [h["path"] for h in hooks])
        by_token = {}
        for h in hooks:
            by_token.setdefault(h["headers"]["I-Twilio-Idempotency-Token"], []).append(h)
        self.assertEqual(sorted(len(v) for v in by_token.values()), [2] * 6)
        for pair in by_token.values():
            self.assertEqual(pair[0]["params"], pair[1]["params"])
        self.assertEqual(len(self.wait_log(call["sid"], 12)), 12)

    def test_shuffle_delivers_every_event_once(self):
        self.sb.control("faults", {"webhook_shuffle": True})
        seen_orders = set()
        for _ in range(6):
            call = self.create(events=ALL_EVENTS)
            hooks = self.wait_status(call["sid"], 4, "four status callbacks")
            self.wait_final(call["sid"])
            self.assertSigned(hooks)
            self.assertEqual(len(self.rx.received(call["sid"], "/status")), 4)
            by_seq = sorted(hooks, key=lambda h: int(h["params"]["SequenceNumber"]))
            self.assertEqual([h["params"]["CallStatus"] for h in by_seq],
                             ["initiated", "ringing", "in-progress", "completed"])
            seen_orders.add(tuple(h["params"]["SequenceNumber"] for h in hooks))
        self.assertGreater(len(seen_orders), 1, "six shuffled calls all came in one order")

    def test_create_faults_in_twilio_dialect(self):
        self.sb.control("faults", {"error_rate": 1.0})
        form = {"To": "+14155550123", "From": "+14155550100", "Url": self.rx.url("/voice")}
        self.assertTwilioError(self.twilio("POST", API + "/Calls.json", form), 500, 20500)
        self.sb.control("faults", {"rate_limit_rate": 1.0})
        self.assertTwilioError(self.twilio("POST", API + "/Calls.json", form), 429, 20429)
        self.sb.control("faults", {})
        self.assertEqual(self.sb.control("state")["twilio_calls"], [])
        self.assertEqual(self.sb.control("state")["requests"]["twilio.calls.create"], 2)
        self.assertTwilioError(self.twilio("GET", API + "/Queues.json"), 404, 20404)


if __name__ == "__main__":
    harness.main()
