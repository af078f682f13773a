"""Stored data survives an ambiguous commit (issue 11, problem 2). When PostgreSQL commits
the row of a stored recording or transcript but its answer never reaches the daemon (it died
between COMMIT and the reply), the job sees an error. It must not remove the blob or the
document the committed row names: the recording still plays and the transcript has its text.

The lost answer is injected by [workers] debug_lost_commit_reply (the save commits, then the
job is told it failed): deterministic, unlike a proxy cutting the PostgreSQL connection, which
would have to find that one reply among the pool's traffic."""

import base64
import hashlib
import os
import uuid

import harness

from harness import wait_for
from test_pipeline import TRANSCRIPT, PipelineCase, wav


class LostCommitReplyTest(PipelineCase):

    def extra_config(self, sb):
        cfg = super().extra_config(sb)
        cfg["workers"] = {"debug_lost_commit_reply": True}
        return cfg

    def test_recording_and_transcript_survive_a_lost_commit_reply(self):
        audio = wav(3.0)
        rsid = "RE" + uuid.uuid4().hex
        self.sb.seed({"recordings": [{"sid": rsid, "wav_base64": base64.b64encode(audio).decode()}],
                      "transcripts": [{"sha256": hashlib.sha256(audio).hexdigest(),
                                       "text": TRANSCRIPT}]})
        self.sb.outcome(to="*", status="completed", duration_s=12, recording_sid=rsid,
                        recording_duration_s=3)
        cid = self.dial()

        def transcribed():
            c = self.call(cid)
            done = c["transcripts"] and all(
                j["state"] == "done" for j in c["jobs"]
                if j["kind"] in ("recording.fetch", "stt.transcribe"))
            return c if done else None
        call = wait_for(transcribed, 90, "the recording stored and transcribed")
        rec = call["recordings"][0]
        self.assertEqual(rec["state"], "stored")
        audio_reply = self.daemon.get("/api/calls/%s/recording/%s" % (cid, rec["recording_id"]),
                                      token=self.admin)
        self.assertStatus(audio_reply, 200)
        self.assertEqual(audio_reply.raw, audio)
        self.assertEqual(call["transcripts"][0]["text"], TRANSCRIPT)
        # The fault fired: each save was reported failed at least once.
        with open(self.daemon.log_path, errors="replace") as f:
            log = f.read()
        self.assertGreaterEqual(log.count("debug_lost_commit_reply"), 2, "both saves faulted")
        # Nothing the rows name is missing from storage.
        keys = [r[0] for r in self.daemon.sql(
            "SELECT storage_key FROM recordings UNION ALL SELECT storage_key FROM transcripts")]
        for key in keys:
            self.assertTrue(os.path.exists(os.path.join(self.sb.store, key)), key)
            # Noted before it was written (recording.fetch, stt.transcribe): a blob whose row
            # had not committed would be found by the retention sweep.
            self.assertEqual(self.daemon.count("storage_intents", "key = '%s'" % key), 1, key)

    def test_upload_keeps_its_blob_after_a_lost_commit_reply(self):
        """POST /api/call/record: the row committed, the answer was lost. The client gets 503
        (it cannot know); the blob stays, so the committed recording plays back, and its key
        was noted before the blob was written (the retention sweep will find the row)."""
        audio = wav(2.0)
        cid = self.dial()
        r = self.daemon.request("POST", "/api/call/record?call_id=%s" % cid, audio,
                                headers={"Content-Type": "audio/wav"}, token=self.admin)
        self.assertStatus(r, 503)
        self.assertEqual(r.body["error"]["code"], "db_unavailable")
        rows = self.daemon.sql("SELECT id, state, storage_key FROM recordings "
                               "WHERE call_id = '%s' AND provider = 'upload'" % cid)
        self.assertEqual(len(rows), 1, "the save committed")
        rid, state, key = rows[0]
        self.assertEqual(state, "stored")
        self.assertTrue(os.path.exists(os.path.join(self.sb.store, key)), "the blob is kept")
        self.assertEqual(self.daemon.count("storage_intents", "key = '%s'" % key), 1)
        played = self.daemon.get("/api/calls/%s/recording/%s" % (cid, rid), token=self.admin)
        self.assertStatus(played, 200)
        self.assertEqual(played.raw, audio)


class ReplacedTranscriptLostReplyTest(PipelineCase):
    """A forced transcription replaces the transcript, and the answer is lost: the job cannot
    know the old document is no longer named, so it keeps it. The replacement noted the old
    key in the same statement, so the retention sweep removes it — even when the old
    document's own intent was settled long ago."""

    def extra_config(self, sb):
        cfg = super().extra_config(sb)
        cfg["workers"] = {"debug_lost_commit_reply": True, "max_attempts": 2,
                          "backoff_base_ms": 1}
        return cfg

    def sweep(self):
        """Every intent past the grace, then one retention sweep until none is left."""
        self.daemon.sql("UPDATE storage_intents SET created_at = now() - interval '2 days'")
        self.daemon.insert_job("retention.sweep")
        wait_for(lambda: self.daemon.count("storage_intents") == 0, 30,
                 "the sweep settled every intent")

    def documents(self):
        d = os.path.join(self.sb.store, "transcripts")
        return {"transcripts/" + n for n in os.listdir(d) if ".tmp." not in n}

    def test_replaced_document_is_swept(self):
        audio = wav(2.0)
        rsid = "RE" + uuid.uuid4().hex
        self.sb.seed({"recordings": [{"sid": rsid, "wav_base64": base64.b64encode(audio).decode()}],
                      "transcripts": [{"sha256": hashlib.sha256(audio).hexdigest(),
                                       "text": TRANSCRIPT}]})
        self.sb.outcome(to="*", status="completed", duration_s=12, recording_sid=rsid,
                        recording_duration_s=2)
        cid = self.dial()

        def settled(kinds):
            def check():
                jobs = [j for j in self.call(cid)["jobs"] if j["kind"] in kinds]
                return jobs and all(j["state"] in ("done", "dead") for j in jobs)
            return check
        wait_for(lambda: self.call(cid)["transcripts"] and
                 settled(("recording.fetch", "stt.transcribe"))(), 90, "the first transcript")
        first = self.daemon.sql_value("SELECT storage_key FROM transcripts")
        self.sweep()  # the first document's intent is settled: a row names it
        self.assertEqual(self.documents(), {first})

        r = self.daemon.post("/api/call/transcribe", {"call_id": cid}, token=self.admin)
        self.assertStatus(r, 202)
        wait_for(lambda: self.daemon.count(
            "jobs", "kind = 'stt.transcribe' AND payload->>'force' = 'true' "
            "AND state IN ('done', 'dead')") == 1, 60, "the forced transcription gave up")
        now = self.daemon.sql_value("SELECT storage_key FROM transcripts")
        self.assertNotEqual(now, first, "the replacement committed")
        self.assertIn(first, self.documents(), "kept: the job could not know it was replaced")

        self.sweep()
        self.assertEqual(self.documents(), {now}, "only the document a row names is left")


if __name__ == "__main__":
    harness.main()
