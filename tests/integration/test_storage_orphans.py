"""Orphan blobs (issue 11, problem 2): every writer notes a blob's key in storage_intents before
it writes the blob. A blob whose row never committed (a lost COMMIT reply, a process killed
between blob and row) is then still known: the retention sweep removes it once the intent is
older than [retention] orphan_grace_s and no recording or transcript row names it, and forgets
the intent; a key a row names keeps its blob (only the intent goes); a younger intent waits."""

import os
import re
import uuid

import harness
from harness import wait_for
from test_recordings import RecordingCase, wav

PAST = "now() - interval '2 days'"  # past the default grace of 86400 s


class OrphanSweepTest(RecordingCase):

    def intent(self, key):
        return self.daemon.count("storage_intents", "key = '%s'" % key)

    def stray(self, key):
        """A blob at `key` that no row names, with its intent (made now)."""
        path = os.path.join(self.store, key)
        with open(path, "wb") as f:
            f.write(b"CBBLOB1\x00not a row's blob")
        os.chmod(path, 0o644)  # the daemon may run as another user under scripts/test
        self.daemon.sql("INSERT INTO storage_intents (key) VALUES ('%s')" % key)
        return path

    def test_sweep_removes_orphans_and_keeps_referenced_blobs(self):
        # Two real uploads: each writer noted its key before writing.
        kept_cid = self.call()
        kept_audio = wav(1.0, pattern=b"referenced-blob-")
        kept = self.upload(kept_cid, kept_audio)
        self.assertStatus(kept, 201)
        kept_key = self.daemon.sql_value(
            "SELECT storage_key FROM recordings WHERE id = '%s'" % kept.body["recording_id"])
        gone_cid = self.call()
        gone = self.upload(gone_cid, wav(1.0, pattern=b"orphaned-blob---"))
        self.assertStatus(gone, 201)
        gone_id = gone.body["recording_id"]
        gone_key = self.daemon.sql_value(
            "SELECT storage_key FROM recordings WHERE id = '%s'" % gone_id)
        self.assertEqual(self.intent(kept_key), 1, "the upload noted its key")
        self.assertEqual(self.intent(gone_key), 1, "the upload noted its key")
        # The second one's row "never committed": the blob is named by no row.
        self.daemon.sql("DELETE FROM jobs WHERE payload->>'recording_id' = '%s'" % gone_id)
        self.daemon.sql("DELETE FROM recordings WHERE id = '%s'" % gone_id)
        gone_path = os.path.join(self.store, gone_key)
        self.assertTrue(os.path.exists(gone_path))
        # A blob left by a writer killed before its row, written by hand; and a young one.
        stray_key = "stray-%s" % uuid.uuid4()
        stray_path = self.stray(stray_key)
        young_key = "young-%s" % uuid.uuid4()
        young_path = self.stray(young_key)
        # All three pass the grace at once (the sweep also runs every second on its own).
        self.daemon.sql("UPDATE storage_intents SET created_at = %s WHERE key IN "
                        "('%s', '%s', '%s')" % (PAST, kept_key, gone_key, stray_key))

        self.daemon.insert_job("retention.sweep")
        wait_for(lambda: self.daemon.count(
            "storage_intents", "key IN ('%s', '%s', '%s')" % (kept_key, gone_key, stray_key))
            == 0, 30, "the sweep handled the intents past the grace")

        self.assertFalse(os.path.exists(gone_path), "the orphan upload is removed")
        self.assertFalse(os.path.exists(stray_path), "the stray blob is removed")
        self.assertTrue(os.path.exists(os.path.join(self.store, kept_key)))
        played = self.play(kept_cid, kept.body["recording_id"])
        self.assertStatus(played, 200)
        self.assertEqual(played.raw, kept_audio)
        self.assertTrue(os.path.exists(young_path), "an intent within the grace waits")
        self.assertEqual(self.intent(young_key), 1)
        metrics = self.daemon.get("/metrics", token=None).raw.decode()
        m = re.search(r"^callbridge_storage_orphans_removed_total (\d+)$", metrics, re.M)
        self.assertIsNotNone(m, "the counter is exported")
        self.assertEqual(int(m.group(1)), 2)
        with open(self.daemon.log_path, errors="replace") as f:
            logged = re.findall(r"removed (\d+) orphan blobs", f.read())
        self.assertEqual(sum(int(n) for n in logged), 2, "the sweep logs what it removed")

    def test_upload_without_its_note_writes_nothing(self):
        """The key cannot be noted (a constraint makes every insert fail): 503 db_unavailable
        before any blob is written, in both forms; nothing is left, and then uploads work."""
        cid = self.call()
        self.daemon.sql("ALTER TABLE storage_intents ADD CONSTRAINT refuse CHECK (key = '')")
        raw = self.upload(cid, wav(0.5))
        self.assertError(raw, 503, "db_unavailable")
        boundary = "cbtest" + uuid.uuid4().hex
        form = ("--%s\r\nContent-Disposition: form-data; name=\"call_id\"\r\n\r\n%s\r\n"
                "--%s\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.wav\"\r\n"
                "Content-Type: audio/wav\r\n\r\n" % (boundary, cid, boundary)).encode()
        form += wav(0.5) + ("\r\n--%s--\r\n" % boundary).encode()
        multi = self.upload(cid, form, ctype="multipart/form-data; boundary=" + boundary)
        self.assertError(multi, 503, "db_unavailable")
        self.assertEqual(self.files(), [], "no blob, not even a temporary one")
        self.assertEqual(self.daemon.count("recordings"), 0)
        self.assertEqual(self.daemon.count("storage_intents"), 0)
        self.daemon.sql("ALTER TABLE storage_intents DROP CONSTRAINT refuse")
        self.assertStatus(self.upload(cid, wav(0.5)), 201)
        self.assertEqual(self.daemon.count("storage_intents"), 1)


if __name__ == "__main__":
    harness.main()
