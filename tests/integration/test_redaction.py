"""PII redaction (issue 15 point 4, [nlp] redact): card numbers, SSNs, e-mail addresses and
phone numbers, written and spoken, are masked in the speech engine's text before anything
stores, analyses or sends it. A seeded recording transcribed by the sandbox's engine reaches
the API, the Task and the transcript record in the sandbox's Salesforce with the tokens only;
live transcription segments are stored, streamed (SSE) and assembled masked too; the daemon's
log never holds them; /metrics counts the redactions by kind."""

import base64
import hashlib
import json
import re
import uuid

import harness
from harness import wait_for
from sse import SseStream
from test_pipeline import PipelineCase, wav
from test_twilio_calls import CUSTOMER

SPOKEN = ("Sure, my card is 4111 1111 1111 1111, my social is 123-45-6789, mail me at "
          "ada.lovelace@example.com or call (415) 555-0142. Again: four one one one one one "
          "one one one one one one one one one one, or ada at example dot org. We need fifty "
          "seats by 10:30 on Tuesday at $49.99 each.")
MASKED = ("Sure, my card is [card], my social is [ssn], mail me at [email] or call [phone]. "
          "Again: [card], or [email]. We need fifty seats by 10:30 on Tuesday at $49.99 each.")
SECRETS = ["4111", "1111 1111", "123-45-6789", "6789", "lovelace", "ada at example",
           "555-0142", "0142", "four one one one", "example dot org", "example.com"]


class RedactCase(PipelineCase):

    def extra_config(self, sb):
        cfg = super().extra_config(sb)
        cfg["nlp"] = {"redact": "cards, ssn, email, phone", "redact_keep_original": True}
        cfg["workers"]["debug_run_twice"] = False
        return cfg

    def assertClean(self, what, value):
        text = value if isinstance(value, str) else json.dumps(value)
        for s in SECRETS:
            self.assertNotIn(s, text, "%s holds %r" % (what, s))

    def assertLogClean(self):
        with open(self.daemon.log_path, errors="replace") as f:
            log = f.read()
        # Request ids are random hex ("41111608def2..." once held a card's first digits).
        log = re.sub(r'"request_id":"[0-9a-f]+"', '"request_id":""', log)
        self.assertClean("the daemon's log", log)

    def redactions(self):
        text = self.daemon.get("/metrics", token=None).raw.decode()
        return {kind: int(float(line.rsplit(" ", 1)[1]))
                for line in text.splitlines()
                for kind in ("cards", "ssn", "email", "phone")
                if line.startswith('callbridge_redactions_total{kind="%s"}' % kind)}


class BatchRedactionTest(RedactCase):

    def test_transcript_masked_before_store_analysis_and_crm(self):
        audio = wav(3.0)
        rsid = "RE" + uuid.uuid4().hex
        self.sb.seed({"recordings": [{"sid": rsid, "wav_base64": base64.b64encode(audio).decode()}],
                      "transcripts": [{"sha256": hashlib.sha256(audio).hexdigest(),
                                       "text": SPOKEN}]})
        self.sb.outcome(to="*", status="completed", duration_s=42, recording_sid=rsid,
                        recording_duration_s=3)
        cid = self.dial()

        def written():
            c = self.call(cid)
            t = c["transcripts"]
            return c if t and t[0]["timings"]["crm_written"] else None
        call = wait_for(written, 90, "the transcript analysed and written to the CRM")
        t = call["transcripts"][0]
        self.assertEqual(t["text"], MASKED)
        for s in t.get("segments") or []:
            self.assertClean("a segment", s)
        self.assertIn("[card]", t["clean_text"])
        self.assertClean("GET /api/calls/{id}", call)
        # The analysis saw the masked text only (its summary, entities, keywords).
        self.assertClean("the analysis", {k: t.get(k) for k in
                                          ("summary", "entities", "keywords", "clean_text")})
        # What the sandbox's Salesforce received: the Task and the transcript record.
        self.wait_final(cid)
        task = self.wait_task(cid)
        self.assertClean("the Task", task)
        parts = self.sb.records("Callbridge_Transcript__c")
        self.assertTrue(parts, "the transcript reached the CRM")
        self.assertTrue(any("[card]" in json.dumps(p) for p in parts), parts)
        self.assertClean("the transcript record", parts)
        self.assertClean("every Salesforce record", self.sb.records("Task"))
        counts = self.redactions()
        self.assertEqual(counts, {"cards": 2, "ssn": 1, "email": 2, "phone": 1})
        self.assertLogClean()


class NoRedactionTest(RedactCase):
    """redact = none: the text is the engine's, unchanged."""

    def extra_config(self, sb):
        cfg = super().extra_config(sb)
        cfg["nlp"] = {"redact": "none"}
        return cfg

    def test_nothing_masked(self):
        audio = wav(2.0)
        rsid = "RE" + uuid.uuid4().hex
        self.sb.seed({"recordings": [{"sid": rsid, "wav_base64": base64.b64encode(audio).decode()}],
                      "transcripts": [{"sha256": hashlib.sha256(audio).hexdigest(),
                                       "text": SPOKEN}]})
        self.sb.outcome(to="*", status="completed", duration_s=42, recording_sid=rsid,
                        recording_duration_s=2)
        cid = self.dial()
        call = wait_for(lambda: (lambda c: c if c["transcripts"] else None)(self.call(cid)), 90,
                        "the transcript analysed")
        self.assertEqual(call["transcripts"][0]["text"], SPOKEN)
        self.assertEqual(self.redactions(), {"cards": 0, "ssn": 0, "email": 0, "phone": 0})


LIVE = [
    ("outbound_track", "Hello, this is Alice. Can I take a card number?"),
    ("inbound_track", "Yes, it's four one one one one one one one one one one one one one one one."),
    ("inbound_track", "And my email is ada at example dot org, phone 415 555 0142."),
]
LIVE_MASKED = [
    "Hello, this is Alice. Can I take a card number?",
    "Yes, it's [card].",
    "And my email is [email], phone [phone].",
]


class LiveRedactionTest(RedactCase):

    def extra_config(self, sb):
        cfg = super().extra_config(sb)
        cfg["stt"].update({"source": "live", "live_grace_s": 1})
        return harness.merge_config(cfg, {"twilio": {"live_transcription": True}})

    def setUp(self):
        super().setUp()
        self.sb.seed({"conversations": [{"to": CUSTOMER, "segments": [
            {"track": t, "text": x} for t, x in LIVE]}]})
        self.sb.outcome(to="*", status="completed", duration_s=20, talk_ms=800,
                        recording_duration_s=2)

    def test_live_segments_masked_in_store_events_and_transcript(self):
        stream = SseStream(self.daemon.port, self.daemon.token)
        self.addCleanup(stream.close)
        cid = self.dial()
        finals = []
        while len(finals) < len(LIVE):
            ev = stream.next_event(timeout=30, skip_types=(
                "call_status", "transcript_ready", "agent_status", "screen_pop"))
            data = json.loads(ev["data"])
            self.assertClean("an SSE %s" % ev["event"], data)
            if ev["event"] == "transcript_final":
                finals.append(data["text"])
        self.assertEqual(finals, LIVE_MASKED)
        rows = self.daemon.sql("SELECT text FROM transcript_segments WHERE call_id = '%s'"
                               " ORDER BY sequence" % cid)
        self.assertEqual([r[0] for r in rows], LIVE_MASKED)

        def written():
            t = [x for x in self.call(cid)["transcripts"] if x["source"] == "live"]
            return t[0] if t and t[0]["timings"]["crm_written"] else None
        t = wait_for(written, 60, "the live transcript written to the CRM")
        self.assertIn("[card]", t["text"])
        self.assertClean("the live transcript", t)
        self.wait_final(cid)
        self.assertClean("the Task", self.wait_task(cid))
        self.assertClean("the transcript record", self.sb.records("Callbridge_Transcript__c"))
        self.assertLogClean()


if __name__ == "__main__":
    harness.main()
