"""NLP rules that match on the call's fields ({"call": {...}} in a rule's `when`) see the call
as the API shows it: the transcription job loads the typed call (cb_store_call_load) and hands
the rules cb_calls_to_json of it, which must keep the keys and values of GET /api/calls/{id}
(issue 12: the typed call replaced the JSON view; rules keep working unchanged)."""

import base64
import hashlib
import json
import os
import uuid

import harness
from harness import wait_for
from test_pipeline import TRANSCRIPT, PipelineCase, wav
from test_twilio_calls import CUSTOMER

# Tags whose only condition is the call's fields, as an API client reads them.
MATCHING = {"direction": "outbound", "status": "completed", "duration_s": 42, "to": CUSTOMER,
            "agent": "alice"}
RULE_TAGS = [
    {"name": "Call Fields Match", "when": {"call": MATCHING}},
    {"name": "Any Of The Statuses", "when": {"call": {"status": ["busy", "completed"]}}},
    {"name": "Inbound Only", "when": {"call": {"direction": "inbound"}}},
    {"name": "Other Length", "when": {"call": {"duration_s": 41}}},
]


class CallFieldsRuleTest(PipelineCase):

    def extra_config(self, sb):
        cfg = super().extra_config(sb)
        with open(os.path.join(harness.SOURCE_DIR, "config", "nlp-rules.json")) as f:
            rules = json.load(f)
        rules["tags"] += RULE_TAGS
        path = os.path.join(sb.keydir, "nlp-rules.json")
        with open(path, "w") as f:
            json.dump(rules, f)
        os.chmod(path, 0o644)
        cfg["nlp"] = {"rules_file": path}
        cfg["workers"]["debug_run_twice"] = False
        return cfg

    def test_rules_match_the_calls_api_fields(self):
        audio = wav(3.0)
        rsid = "RE" + uuid.uuid4().hex
        self.sb.seed({"recordings": [{"sid": rsid, "wav_base64": base64.b64encode(audio).decode()}],
                      "transcripts": [{"sha256": hashlib.sha256(audio).hexdigest(),
                                       "text": TRANSCRIPT}]})
        self.sb.outcome(to="*", status="completed", duration_s=42, recording_sid=rsid,
                        recording_duration_s=3)
        cid = self.dial()
        call = wait_for(lambda: (lambda c: c if c["transcripts"] else None)(self.call(cid)), 90,
                        "the transcript analysed")
        # What the rules matched on is what the API shows of the call.
        for key, value in MATCHING.items():
            self.assertEqual(call[key], value, key)
        tags = call["transcripts"][0]["tags"]
        self.assertIn("Call Fields Match", tags)
        self.assertIn("Any Of The Statuses", tags)
        self.assertNotIn("Inbound Only", tags)
        self.assertNotIn("Other Length", tags)
        self.assertIn("Hot Lead", tags)  # the shipped rules still apply


if __name__ == "__main__":
    harness.main()
