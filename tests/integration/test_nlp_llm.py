"""The LLM analysis engine ([nlp] engine = llm) end to end: a recorded call's transcript goes
to the sandbox's OpenAI-compatible /v1/chat/completions with a strict json_schema whose tags
are the rules' tag set; a good answer becomes the analysis (tags, intent, summary on the Task,
action items as follow-up tasks); a malformed answer, a tag outside the set and a slow answer
(past [llm] timeout_ms) each fall back to the rules engine for that call — the CRM still gets
an analysis, callbridge_nlp_fallbacks_total{reason} counts it — and a transcript longer than
max_chars_per_part is summarised in parts first. Tokens and latency per call are in /metrics."""

import base64
import hashlib
import json
import re
import uuid

import harness
from harness import wait_for
from test_pipeline import TRANSCRIPT, PipelineCase, wav

TAG_SET = ["Hot Lead", "Follow-Up Required", "Customer Issue", "Churn Risk"]
MAX_PART = 400
LONG = " ".join(["Hi, this is Ada from Lovelace Labs and we would love a demo of Callbridge Pro."]
                + ["We talked about the rollout plan for team %d and the training it needs." % i
                   for i in range(20)]
                + ["This looks really great, please call me back tomorrow."])


class LlmCase(PipelineCase):

    def extra_config(self, sb):
        cfg = super().extra_config(sb)
        cfg["nlp"] = {"engine": "llm"}
        cfg["llm"] = {"base_url": sb.url + "/v1", "model": "gpt-4o-mini", "timeout_ms": 1000,
                      "max_chars_per_part": MAX_PART, "cost_per_1m_prompt_tokens": "50000",
                      "cost_per_1m_completion_tokens": "0"}
        return cfg

    def llm_state(self):
        r = self.sb.request("GET", "/__sandbox/llm")
        self.assertEqual(r.status, 200)
        return r.body

    def metrics(self):
        return self.daemon.get("/metrics", token=None).raw.decode()

    def metric(self, text, name):
        m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
        self.assertIsNotNone(m, name)
        return float(m.group(1))

    def analysed_call(self, text):
        audio = wav(3.0)
        rsid = "RE" + uuid.uuid4().hex
        self.sb.seed({"recordings": [{"sid": rsid, "wav_base64": base64.b64encode(audio).decode()}],
                      "transcripts": [{"sha256": hashlib.sha256(audio).hexdigest(),
                                       "text": text}]})
        self.sb.outcome(to="*", status="completed", duration_s=42, recording_sid=rsid,
                        recording_duration_s=3)
        cid = self.dial()

        def written():
            c = self.call(cid)
            t = c["transcripts"]
            return c if t and t[0]["timings"]["crm_written"] else None
        call = wait_for(written, 90, "the transcript analysed and written to the CRM")
        return cid, call["transcripts"][0]

    def follow_up_keys(self, cid):
        return sorted(x["Callbridge_Followup_Key__c"] for x in self.sb.records("Task")
                      if (x.get("Callbridge_Followup_Key__c") or "").startswith(cid + ":"))

    def assert_fallback(self, reason):
        cid, t = self.analysed_call(TRANSCRIPT)
        # The rules engine's analysis reached the CRM: its tags and its follow-up rules.
        self.assertIn("Hot Lead", t["tags"])
        self.assertNotIn("VIP Unicorn", t["tags"])
        self.assertIn("demo", [f["rule"] for f in t["follow_ups"]])
        self.assertFalse([f for f in t["follow_ups"] if f["rule"].startswith("llm-")])
        task = self.wait_task(cid, Status="Completed")
        self.assertIn("Hot Lead", task.get("Callbridge_Tags__c", ""))
        self.assertNotIn("VIP Unicorn", task.get("Callbridge_Tags__c", ""))
        self.assertIn(cid + ":demo", wait_for(
            lambda: (lambda k: k if cid + ":demo" in k else None)(self.follow_up_keys(cid)), 30,
            "the rules' follow-up"))
        text = self.metrics()
        self.assertEqual(self.metric(text, 'callbridge_nlp_fallbacks_total{reason="%s"}' % reason),
                         1)
        self.assertGreaterEqual(self.metric(text, "callbridge_llm_call_seconds_count"), 1)
        self.assertIn("the LLM engine failed (%s" % reason, self.daemon.log_tail(2000))
        return cid


class LlmEngineTest(LlmCase):

    def test_good_answer_becomes_the_analysis(self):
        cid, t = self.analysed_call(TRANSCRIPT)
        # What the sandbox's model derived from the transcript, within the tag set.
        self.assertEqual(sorted(t["tags"]), ["Follow-Up Required", "Hot Lead"])
        self.assertEqual(t["intent"], "demo_request")
        self.assertEqual(t["sentiment_label"], "positive")
        rules = [(f["rule"], f["subject"], f.get("due"), f["priority"]) for f in t["follow_ups"]]
        self.assertEqual(rules, [("llm-1", "Schedule the demo", "next_business_day", "High"),
                                 ("llm-2", "Send the quote", "+2d", "Normal")])
        # The model's products and competitors join the rules' entities, each once.
        self.assertEqual([e["text"] for e in t["entities"] if e["type"] == "product"],
                         ["Callbridge Pro"])
        self.assertEqual([e["text"] for e in t["entities"] if e["type"] == "competitor"],
                         ["Dialpad"])
        # The request: strict json_schema, the rules' tags as the only choices.
        reqs = self.llm_state()["requests"]
        self.assertEqual([r["schema"] for r in reqs], ["call_analysis"])
        self.assertTrue(reqs[0]["strict"])
        self.assertEqual(reqs[0]["tags"], TAG_SET)
        self.assertEqual(reqs[0]["model"], "gpt-4o-mini")
        # The CRM: the LLM's summary on the Task, its action items as follow-up tasks.
        task = self.wait_task(cid, Status="Completed")
        self.assertEqual(task.get("Callbridge_Summary__c"),
                         "The customer is enthusiastic and wants to move forward.")
        self.assertIn("Hot Lead", task.get("Callbridge_Tags__c", ""))
        keys = wait_for(lambda: (lambda k: k if len(k) >= 2 else None)(self.follow_up_keys(cid)),
                        30, "the follow-up tasks")
        self.assertEqual(keys, [cid + ":llm-1", cid + ":llm-2"])
        subjects = sorted(x.get("Subject") for x in self.sb.records("Task")
                          if (x.get("Callbridge_Followup_Key__c") or "").startswith(cid + ":"))
        self.assertEqual(subjects, ["Schedule the demo", "Send the quote"])
        # Cost and latency in /metrics; no fallback.
        text = self.metrics()
        prompt = self.metric(text, 'callbridge_llm_tokens_total{kind="prompt"}')
        self.assertGreater(prompt, 0)
        # $0.05 a prompt token, completion free.
        self.assertAlmostEqual(self.metric(text, "callbridge_llm_cost_usd_total"), prompt * 0.05)
        self.assertGreater(self.metric(text, 'callbridge_llm_tokens_total{kind="completion"}'), 0)
        self.assertEqual(self.metric(text, 'callbridge_llm_requests_total{outcome="ok"}'), 1)
        self.assertEqual(self.metric(text, "callbridge_llm_call_seconds_count"), 1)
        for reason in ("timeout", "malformed", "schema", "tag"):
            self.assertEqual(
                self.metric(text, 'callbridge_nlp_fallbacks_total{reason="%s"}' % reason), 0)

    def test_malformed_answer_falls_back_to_the_rules(self):
        self.sb.control("llm", {"mode": "malformed"})
        self.assert_fallback("malformed")

    def test_tag_outside_the_set_falls_back_to_the_rules(self):
        self.sb.control("llm", {"mode": "bad_tag"})
        self.assert_fallback("tag")

    def test_slow_answer_times_out_and_falls_back(self):
        self.sb.control("llm", {"latency_ms": 4000})
        self.assert_fallback("timeout")

    def test_long_transcript_is_summarised_in_parts(self):
        self.assertGreater(len(LONG), 3 * MAX_PART)
        cid, t = self.analysed_call(LONG)
        reqs = self.llm_state()["requests"]
        names = [r["schema"] for r in reqs]
        self.assertGreaterEqual(names.count("call_part_summary"), 3)
        self.assertEqual(names[-1], "call_analysis")
        self.assertEqual(names.count("call_analysis"), 1)
        for r in reqs[:-1]:
            self.assertLessEqual(len(r["user"].encode()), MAX_PART)
        final = reqs[-1]["user"]
        self.assertTrue(final.startswith("Summaries of the consecutive parts"), final)
        self.assertIn("Part 1: Hi, this is Ada", final)
        # The combined answer is the analysis (the demo from part 1, the call-back from the last).
        self.assertEqual(sorted(t["tags"]), ["Follow-Up Required", "Hot Lead"])
        self.assertEqual(t["follow_ups"][0]["rule"], "llm-1")
        text = self.metrics()
        self.assertEqual(self.metric(text, "callbridge_llm_call_seconds_count"), 1)
        self.assertEqual(self.metric(text, 'callbridge_llm_requests_total{outcome="ok"}'),
                         len(reqs))

    def _the_model_sees_only_redacted_text(self):
        # [nlp] redact (default cards, ssn; all here) runs before any engine: what the model
        # server received, and what reached the CRM, hold the tokens, never the numbers.
        text = ("We would love a demo. My card is 4111 1111 1111 1111 and my social is "
                "123-45-6789, write to grace at acme dot com or call 415 555 0142.")
        cid, t = self.analysed_call(text)
        reqs = self.llm_state()["requests"]
        self.assertEqual([r["schema"] for r in reqs], ["call_analysis"])
        sent = reqs[0]["user"]
        for token in ("[card]", "[ssn]", "[email]", "[phone]"):
            self.assertIn(token, sent)
        for secret in ("4111", "1111 1111", "123-45-6789", "6789", "acme", "0142"):
            self.assertNotIn(secret, sent)
        task = self.wait_task(cid, Status="Completed")
        self.assertNotIn("4111", json.dumps(task))
        self.assertNotIn("123-45-6789", json.dumps(task))


class LlmRedactAllTest(LlmCase):
    """The same engine with [nlp] redact = all."""

    def extra_config(self, sb):
        cfg = super().extra_config(sb)
        cfg["nlp"]["redact"] = "all"
        return cfg

    test_the_model_sees_only_redacted_text = LlmEngineTest._the_model_sees_only_redacted_text


if __name__ == "__main__":
    harness.main()
