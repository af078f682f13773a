"""Live transcription (issue 13 item 5): with [twilio] live_transcription the bridge TwiML
starts Twilio's real-time transcription; the sandbox's Twilio plays a seeded conversation as
signed transcription callbacks; the agent's event stream gets transcript_partial and
transcript_final segments in order, with speakers, keyword hits and a running sentiment;
final segments are stored once in sequence order (duplicated and shuffled callbacks too); with
[stt] source = live the assembled live transcript is the call's transcript, analysed and
written to the CRM, and no request reaches a speech-to-text engine. POST
/webhooks/twilio/transcription is signature-checked and refuses bad input with a 4xx,
storing nothing."""

import json
import os
import uuid

import harness
from harness import wait_for
from sse import SseStream
from test_pipeline import PipelineCase
from test_twilio_calls import ACCOUNT as ACCOUNT_E2E, CUSTOMER, TOKEN as TOKEN_E2E
from twilio_sign import form_request
from test_twilio_webhooks import ACCOUNT, PUBLIC, TOKEN, WebhookCase, call_sid, twilio_config

# Twilio's tracks as the customer's leg sees them: inbound is the customer, outbound the agent.
CONVERSATION = [
    ("outbound_track", "Hello, this is Alice from Callbridge."),
    ("inbound_track", "Hi Alice. We want a quote for the pricing of fifty seats."),
    ("outbound_track", "Happy to help, I can offer a discount on the annual contract."),
    ("inbound_track", "Great, we are also talking to Aircall but this sounds excellent."),
]
SPEAKER = {"inbound_track": "customer", "outbound_track": "agent"}


class LiveCase(PipelineCase):
    """The Twilio call stack, the sandbox's OpenAI engine, live transcription on."""
    source = "live"

    def extra_config(self, sb):
        cfg = super().extra_config(sb)
        cfg["workers"]["debug_run_twice"] = True
        cfg["stt"].update({"source": self.source, "live_grace_s": 1})
        return harness.merge_config(cfg, {"twilio": {"live_transcription": True}})

    def setUp(self):
        super().setUp()
        self.sb.seed({"conversations": [{"to": CUSTOMER, "segments": [
            {"track": t, "text": x} for t, x in CONVERSATION]}]})
        self.sb.outcome(to="*", status="completed", duration_s=20, talk_ms=800,
                        recording_duration_s=2)

    def segments(self, cid):
        return [(int(s), w, t) for s, w, t in self.daemon.sql(
            "SELECT sequence, speaker, text FROM transcript_segments WHERE call_id = '%s'"
            " ORDER BY sequence" % cid)]

    def wait_transcript(self, cid):
        def written():
            t = [x for x in self.call(cid)["transcripts"] if x["source"] == "live"]
            return t[0] if t and t[0]["timings"]["crm_written"] else None
        return wait_for(written, 60, "the live transcript written to the CRM")

    def wait_jobs_done(self, cid):
        wait_for(lambda: all(j["state"] == "done" for j in self.call(cid)["jobs"]) and any(
            j["kind"] == "stt.transcribe" for j in self.call(cid)["jobs"]), 60,
            "every job of the call done")


class LiveTranscriptTest(LiveCase):

    def test_segments_stream_and_become_the_transcript(self):
        stream = SseStream(self.daemon.port, self.daemon.token)
        self.addCleanup(stream.close)
        cid = self.dial()
        finals, partials, order = [], [], []
        while len(finals) < len(CONVERSATION):
            ev = stream.next_event(timeout=30, skip_types=("call_status", "transcript_ready", "agent_status"))
            data = json.loads(ev["data"])
            self.assertEqual(data["call_id"], cid)
            self.assertIn(ev["event"], ("transcript_partial", "transcript_final"))
            self.assertEqual(data["final"], ev["event"] == "transcript_final")
            self.assertIn(data["sentiment"]["label"], ("positive", "neutral", "negative"))
            self.assertTrue(-1 <= data["sentiment"]["score"] <= 1)
            order.append(data["sequence"])
            (finals if data["final"] else partials).append(data)
        # In order, each final after its partial, speakers from the tracks (click-to-dial: the
        # customer's leg started the transcription).
        self.assertEqual(order, sorted(order))
        self.assertEqual([(f["speaker"], f["text"]) for f in finals],
                         [(SPEAKER[t], x) for t, x in CONVERSATION])
        for p in partials:
            self.assertTrue(any(f["text"].startswith(p["text"]) and f["sequence"] > p["sequence"]
                                for f in finals), p)
        hits = {(k["keyword"].lower(), k["rule"]) for k in finals[1]["keywords"]}
        self.assertTrue({("quote", "pricing"), ("pricing", "pricing")} <= hits, hits)
        self.assertIn(("aircall", "competitor"),
                      {(k["keyword"].lower(), k["rule"]) for k in finals[3]["keywords"]})
        self.assertEqual(finals[0]["keywords"][0]["rule"], "product")
        self.assertEqual(finals[-1]["sentiment"]["label"], "positive")

        # The TwiML asked for it, with our callback URL.
        call = self.wait_final(cid)
        placed = [c for c in self.sb.state()["twilio_calls"]
                  if c["sid"] == call["telephony"]["call_id"]][0]
        self.assertIn('<Start><Transcription name="callbridge" statusCallbackUrl="', placed["twiml"])
        self.assertIn("/webhooks/twilio/transcription?call_id=%s" % cid, placed["twiml"])
        self.assertIn('track="both_tracks" partialResults="true"', placed["twiml"])

        # source = live: the transcript is the live one, labelled; no engine was asked.
        t = self.wait_transcript(cid)
        self.assertEqual(t["engine"], "twilio-live")
        self.assertIsNone(t["recording_id"])
        lines = ["%s: %s" % ("Agent" if SPEAKER[tr] == "agent" else "Customer", x)
                 for tr, x in CONVERSATION]
        self.assertEqual(t["text"], "\n".join(lines))
        self.assertEqual([(s["speaker"], s["text"]) for s in t["segments"]],
                         [(SPEAKER[tr], x) for tr, x in CONVERSATION])
        self.assertIn("pricing", t["keywords"])
        self.wait_jobs_done(cid)
        self.assertEqual(self.sb.count("openai.transcriptions"), 0)
        self.assertEqual(self.sb.count("google.recognize"), 0)
        self.assertEqual(self.daemon.count("transcripts", "call_id = '%s'" % cid), 1)
        wait_for(lambda: self.daemon.count(
            "recordings", "call_id = '%s' AND state = 'stored'" % cid) == 1, 30,
            "the recording still stored")
        parts = " ".join(json.dumps(r) for r in self.sb.records("Callbridge_Transcript__c"))
        self.assertIn("Customer: Hi Alice. We want a quote", parts)
        self.assertIn("Agent: Hello, this is Alice from Callbridge.", parts)
        task = self.wait_task(cid, Status="Completed")
        self.assertEqual(task.get("Callbridge_Sentiment_Label__c"), "positive")

        # A final segment later than the grace still lands in its place: the transcript is
        # assembled again (one per call) and written back again.
        target = "/webhooks/twilio/transcription?call_id=%s" % cid
        late = {"AccountSid": ACCOUNT_E2E, "CallSid": call["telephony"]["call_id"],
                "TranscriptionEvent": "transcription-content", "SequenceId": "1000",
                "Track": "outbound_track", "Final": "true",
                "TranscriptionData": json.dumps({"transcript": "Talk soon, bye."})}
        body, hdrs = form_request(TOKEN_E2E, self.daemon.config["server"]["public_url"], target,
                                  late)
        self.assertStatus(self.daemon.request("POST", target, body, headers=hdrs, token=None),
                          204)
        t = wait_for(lambda: [x for x in self.call(cid)["transcripts"]
                              if (x["text"] or "").endswith("\nAgent: Talk soon, bye.")
                              and x["timings"]["crm_written"]], 60,
                     "the late segment in the transcript")[0]
        self.assertEqual(len(t["segments"]), len(CONVERSATION) + 1)
        self.assertEqual(self.daemon.count("transcripts", "call_id = '%s'" % cid), 1)
        wait_for(lambda: "Agent: Talk soon, bye." in " ".join(
            json.dumps(r) for r in self.sb.records("Callbridge_Transcript__c")), 30,
            "the late segment in the CRM")

    def test_duplicated_and_shuffled_callbacks_store_each_segment_once_in_order(self):
        self.sb.faults(webhook_duplicate_rate=1.0, webhook_shuffle=True)
        cid = self.dial()
        self.wait_final(cid)
        wait_for(lambda: len(self.segments(cid)) == len(CONVERSATION), 30,
                 "every final segment stored")
        segs = self.segments(cid)
        self.assertEqual([(w, x) for _, w, x in segs],
                         [(SPEAKER[t], x) for t, x in CONVERSATION])
        self.assertEqual([s for s, _, _ in segs], sorted({s for s, _, _ in segs}))
        t = self.wait_transcript(cid)
        self.assertEqual([s["text"] for s in t["segments"]], [x for _, x in CONVERSATION])
        sent = [w for w in self.sb.state()["twilio_webhooks"] if w["kind"] == "transcription"]
        self.assertGreater(len(sent), 2 * len(CONVERSATION), "callbacks were sent twice")
        self.assertTrue(all(w["http_status"] == 204 for w in sent), sent)
        self.wait_jobs_done(cid)
        self.assertEqual(self.sb.count("openai.transcriptions"), 0)


class SandboxConversationSeedTest(LiveCase):
    """The sandbox's seed refuses a malformed conversation (400) and keeps what it had."""

    def test_bad_conversations_are_refused(self):
        bad = [{"conversations": {}},
               {"conversations": [{"segments": []}]},
               {"conversations": [{"to": 5, "segments": [{"track": "inbound_track",
                                                          "text": "x"}]}]},
               {"conversations": [{"segments": [{"track": "both_tracks", "text": "x"}]}]},
               {"conversations": [{"segments": [{"track": "inbound_track", "text": ""}]}]},
               {"conversations": [{"segments": [{"track": "inbound_track", "text": "x"}],
                                   "extra": 1}]}]
        for body in bad:
            with self.subTest(body):
                r = self.sb.request("POST", "/__sandbox/seed", body)
                self.assertEqual(r.status, 400, r)
        stream = SseStream(self.daemon.port, self.daemon.token)
        self.addCleanup(stream.close)
        cid = self.dial()
        ev = stream.next_event(timeout=30, skip_types=("call_status", "transcript_partial", "agent_status"))
        self.assertEqual(json.loads(ev["data"])["text"], CONVERSATION[0][1])
        self.wait_final(cid)


class LiveRetentionTest(LiveCase):
    """The retention sweep deletes live transcripts (they have no recording) and their
    segments, by when the transcription started; calls under legal hold keep theirs."""

    def extra_config(self, sb):
        return harness.merge_config(super().extra_config(sb),
                                    {"retention": {"sweep_interval_s": 1}})

    def test_sweep_deletes_old_live_transcripts(self):
        old, held = self.dial(), self.dial()
        for cid in (old, held):
            self.wait_transcript(cid)
        keys = {cid: self.daemon.sql_value("SELECT storage_key FROM transcripts WHERE call_id ="
                                           " '%s' AND source = 'live'" % cid)
                for cid in (old, held)}
        self.daemon.sql("UPDATE calls SET legal_hold = true WHERE id = '%s'" % held)
        self.daemon.sql("UPDATE live_transcriptions SET started_at = now() - interval '91 days'")
        wait_for(lambda: self.call(old)["transcripts"][0]["deleted"], 30,
                 "the old live transcript deleted")
        self.assertIsNone(self.call(old)["transcripts"][0]["text"])
        self.assertEqual(self.daemon.count("transcript_segments", "call_id = '%s'" % old), 0)
        self.assertEqual(self.daemon.count("transcript_segments", "call_id = '%s'" % held),
                         len(CONVERSATION))
        self.assertFalse(self.call(held)["transcripts"][0]["deleted"])
        self.assertIsNotNone(self.call(held)["transcripts"][0]["text"])
        self.assertFalse(os.path.exists(os.path.join(self.sb.store, keys[old])))
        self.assertTrue(os.path.exists(os.path.join(self.sb.store, keys[held])))


class LiveConferenceTest(LiveCase):
    """[twilio] conference = true: the customer's leg starts the transcription, then joins the
    conference; its tracks are still the customer (inbound) and the agent (outbound)."""

    def extra_config(self, sb):
        return harness.merge_config(super().extra_config(sb), {"twilio": {"conference": True}})

    def test_conference_bridge_transcribes(self):
        stream = SseStream(self.daemon.port, self.daemon.token)
        self.addCleanup(stream.close)
        cid = self.dial()
        finals = []
        while len(finals) < len(CONVERSATION):
            ev = stream.next_event(timeout=30, skip_types=(
                "call_status", "transcript_partial", "transcript_ready", "call_control",
                "agent_status"))
            finals.append(json.loads(ev["data"]))
        self.assertEqual([(f["speaker"], f["text"]) for f in finals],
                         [(SPEAKER[t], x) for t, x in CONVERSATION])
        call = self.wait_final(cid)
        twiml = [c for c in self.sb.state()["twilio_calls"]
                 if c["sid"] == call["telephony"]["call_id"]][0]["twiml"]
        self.assertRegex(twiml, r"<Response><Start><Transcription [^>]*/></Start><Dial>"
                                r"<Conference ")
        t = self.wait_transcript(cid)
        self.assertEqual(len(t["segments"]), len(CONVERSATION))


class BatchSourceTest(LiveCase):
    """[stt] source = batch (the default): live segments still reach the agent, and the
    recording is transcribed by the engine as before."""
    source = "batch"

    def test_batch_still_transcribes(self):
        stream = SseStream(self.daemon.port, self.daemon.token)
        self.addCleanup(stream.close)
        cid = self.dial()
        ev = stream.next_event(timeout=30, skip_types=("call_status", "transcript_partial", "agent_status"))
        self.assertEqual(ev["event"], "transcript_final")
        self.wait_final(cid)

        def batch():
            t = self.call(cid)["transcripts"]
            return t if t and t[0]["timings"]["crm_written"] else None
        t = wait_for(batch, 60, "the batch transcript")
        self.assertEqual([x["source"] for x in t], ["batch"])
        self.assertEqual(self.sb.count("openai.transcriptions"), 1)


class TranscriptionWebhookTest(WebhookCase):
    """The webhook alone (PUBLIC as public_url, signed here): bad input is a 4xx and stores
    nothing; callbacks for calls we do not know are 204 and ignored."""
    config = twilio_config({"twilio": {"live_transcription": True},
                            "stt": {"source": "live", "live_grace_s": 0}})

    def tx(self, cid, sid, event, target=None, **extra):
        params = {"AccountSid": ACCOUNT, "CallSid": sid, "TranscriptionSid": "GT" + "1" * 32,
                  "Timestamp": "2026-12-07T12:00:00.000Z", "TranscriptionEvent": event}
        params.update(extra)
        return self.webhook(target or "/webhooks/twilio/transcription?call_id=%s" % cid, params)

    def content(self, cid, sid, seq, text, track="inbound_track", final="true", target=None):
        return self.tx(cid, sid, "transcription-content", target=target, SequenceId=str(seq),
                       Track=track, Final=final, LanguageCode="en-US",
                       TranscriptionData=json.dumps({"transcript": text, "confidence": 0.9}))

    def stored(self):
        return [self.daemon.count(t) for t in ("transcript_segments", "live_transcriptions",
                                               "jobs")]

    def test_callbacks_store_segments(self):
        sid = call_sid()
        cid = self.new_call(sid=sid)
        self.assertStatus(self.tx(cid, sid, "transcription-started", SequenceId="1",
                                  Track="both_tracks"), 204)
        self.assertEqual(self.daemon.count("jobs", "kind = 'stt.live_transcript'"), 1)
        self.assertStatus(self.content(cid, sid, 3, "second", track="outbound_track"), 204)
        self.assertStatus(self.content(cid, sid, 2, "first"), 204)
        self.assertStatus(self.content(cid, sid, 2, "first"), 204)  # a duplicate
        self.assertStatus(self.content(cid, sid, 4, "par", final="false"), 204)  # not stored
        # By CallSid alone (the URL of an inbound call's TwiML may not name the call), and a
        # softphone's own leg: its inbound track is the agent.
        self.assertStatus(self.content(None, sid, 5, "third",
                                       target="/webhooks/twilio/transcription?leg=agent"), 204)
        rows = self.daemon.sql("SELECT sequence, speaker, text FROM transcript_segments"
                               " WHERE call_id = '%s' ORDER BY sequence" % cid)
        self.assertEqual([tuple(r) for r in rows], [("2", "customer", "first"),
                                                    ("3", "agent", "second"),
                                                    ("5", "agent", "third")])
        metrics = self.daemon.get("/metrics", token=None).raw.decode()
        self.assertIn('callbridge_webhooks_total{outcome="duplicate"} 1\n', metrics)
        self.assertIn('callbridge_webhooks_total{outcome="recorded"} 3\n', metrics)
        self.assertStatus(self.tx(cid, sid, "transcription-stopped", SequenceId="6"), 204)
        self.assertEqual(self.daemon.count("live_transcriptions",
                                           "stopped_at IS NOT NULL AND call_id = '%s'" % cid), 1)

    def test_a_segment_before_started_makes_the_call_live(self):
        sid = call_sid()
        cid = self.new_call(sid=sid)
        self.assertStatus(self.content(cid, sid, 2, "first"), 204)
        self.assertStatus(self.tx(cid, sid, "transcription-started", SequenceId="1"), 204)
        self.assertEqual(self.daemon.count("live_transcriptions", "call_id = '%s'" % cid), 1)
        self.assertEqual(self.daemon.count(
            "jobs", "kind = 'stt.live_transcript' AND call_id = '%s'" % cid), 1)

    def test_unknown_calls_and_events_are_ignored(self):
        before = self.stored()
        self.assertStatus(self.content(str(uuid.uuid4()), call_sid(), 2, "hello"), 204)
        self.assertStatus(self.content(None, call_sid(), 2, "hello",
                                       target="/webhooks/twilio/transcription"), 204)
        sid = call_sid()
        cid = self.new_call(sid=sid)
        self.assertStatus(self.tx(cid, sid, "transcription-something-new"), 204)
        # The URL names a call whose provider id is another: not that call.
        self.assertStatus(self.content(cid, call_sid(), 2, "hello"), 204)
        self.assertEqual(self.stored(), before)

    def test_signature_and_bad_input(self):
        sid = call_sid()
        cid = self.new_call(sid=sid)
        target = "/webhooks/twilio/transcription?call_id=%s" % cid
        good = {"AccountSid": ACCOUNT, "CallSid": sid, "TranscriptionEvent":
                "transcription-content", "SequenceId": "2", "Track": "inbound_track",
                "Final": "true", "TranscriptionData": json.dumps({"transcript": "hi"})}
        before = self.stored()
        self.assertError(self.webhook(target, good, token="not-the-token"), 403,
                         "invalid_signature")
        r = self.daemon.request("POST", target, b"CallSid=" + sid.encode(), token=None,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertError(r, 400, "missing_signature")

        def without(*keys):
            return {k: v for k, v in good.items() if k not in keys}

        def with_(**kv):
            return dict(good, **kv)
        bad = [
            (without("CallSid"), 422, "missing_field"),
            (without("TranscriptionEvent"), 422, "missing_field"),
            (without("TranscriptionData"), 422, "missing_field"),
            (without("Track"), 422, "missing_field"),
            (without("SequenceId"), 422, "missing_field"),
            (without("Final"), 422, "missing_field"),
            (with_(CallSid="XX123"), 422, "invalid_field"),
            (with_(TranscriptionSid="nope"), 422, "invalid_field"),
            (with_(Track="both"), 422, "invalid_field"),
            (with_(Final="yes"), 422, "invalid_field"),
            (with_(SequenceId="-1"), 422, "invalid_field"),
            (with_(SequenceId="two"), 422, "invalid_field"),
            (with_(TranscriptionData="{not json"), 422, "invalid_field"),
            (with_(TranscriptionData="[]"), 422, "invalid_field"),
            (with_(TranscriptionData='{"transcript": 5}'), 422, "invalid_field"),
            (with_(TranscriptionData='{"transcript": "a", "confidence": "high"}'), 422,
             "invalid_field"),
            (with_(TranscriptionData=json.dumps({"transcript": "x" * 20000})), 422,
             "invalid_field"),
        ]
        for params, status, code in bad:
            with self.subTest(params):
                self.assertError(self.webhook(target, params), status, code)
        for q in ("?call_id=nope", "?call_id=%s&leg=boss" % cid):
            with self.subTest(q):
                self.assertError(self.webhook("/webhooks/twilio/transcription" + q, good), 400,
                                 "invalid_query")
        r = self.webhook(target, good, body=b"%zz=1")
        self.assertStatus(r, 400)
        self.assertEqual(self.stored(), before, "nothing stored")
        # The same callback, well formed and signed, is taken.
        self.assertStatus(self.webhook(target, good), 204)
        self.assertEqual(self.daemon.count("transcript_segments"), before[0] + 1)

    def test_twiml_starts_the_transcription(self):
        sid = call_sid()
        cid = str(uuid.uuid4())
        r = self.webhook("/webhooks/twilio/voice?call_id=%s&agent=alice" % cid,
                         {"CallSid": sid, "AccountSid": ACCOUNT, "From": "+14155550100",
                          "To": CUSTOMER, "CallStatus": "in-progress"})
        self.assertStatus(r, 200)
        body = r.raw.decode()
        self.assertIn('<Response><Start><Transcription name="callbridge" statusCallbackUrl="'
                      + PUBLIC + '/webhooks/twilio/transcription?call_id=' + cid +
                      '#rc=3&amp;rp=all" statusCallbackMethod="POST" track="both_tracks" partialResults="true"/>'
                      '</Start><Dial', body)
        # A softphone dialling out: its own leg is the agent's (leg=agent in the URL).
        r = self.webhook("/webhooks/twilio/voice", {"CallSid": call_sid(), "AccountSid": ACCOUNT,
                                                    "From": "client:alice", "To": CUSTOMER})
        self.assertStatus(r, 200)
        self.assertIn("leg=agent", r.raw.decode())
        self.assertIn("<Number>", r.raw.decode())


if __name__ == "__main__":
    harness.main()
