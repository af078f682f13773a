"""Recording security findings (issue 11): the URL form takes only our account's exact
recording URL and only a recording of the very call (Twilio says whose call it is, before
anything is stored); a multipart upload with two audio parts is refused, not joined; a WAV must
be a real RIFF/WAVE structure, not 12 magic bytes; a sealed blob copied over another
recording's does not play as that recording, and old (version 1) blobs still play."""

import hashlib
import http.client
import os
import shutil
import uuid

import harness
import test_recordings as tr
import test_twilio_calls as tc
from harness import wait_for

# The version 1 blob of tests/unit/test_blob_bind.c: plaintext "a version 1 blob" under this key.
V1_KEY_LINE = "k01020304 ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
V1_BLOB = bytes.fromhex(
    "4342424c4f423100" "01000000" "01020304" "00010000" "a0a1a2a3a4a5a6a7" "00000000"
    "89c87051f3b60c40fe513a86bc3c3f5296a4d776a3b9eed73461519bba3a558d")
V1_PLAIN = b"a version 1 blob"


def multipart(parts):
    """parts: (name, filename or None, content type or None, bytes, extra header lines)."""
    boundary = "cbb%s" % uuid.uuid4().hex
    body = b""
    for name, filename, ctype, data, extra in parts:
        disp = 'form-data; name="%s"' % name + ('; filename="%s"' % filename if filename else "")
        head = "--%s\r\nContent-Disposition: %s\r\n" % (boundary, disp)
        if ctype:
            head += "Content-Type: %s\r\n" % ctype
        head += "".join(line + "\r\n" for line in extra)
        body += head.encode() + b"\r\n" + data + b"\r\n"
    body += ("--%s--\r\n" % boundary).encode()
    return body, {"Content-Type": "multipart/form-data; boundary=" + boundary}


class UploadChecksTest(tr.RecordingCase):
    def post_form(self, parts):
        body, headers = multipart(parts)
        return self.daemon.request("POST", "/api/call/record", body, headers=headers)

    def assertNothingStored(self):
        self.assertEqual(self.files(), [])
        self.assertEqual(self.daemon.count("recordings"), 0)

    def test_two_audio_parts_are_refused_not_joined(self):
        cid = self.call()
        a, b = tr.wav(0.5, pattern=b"first-part-"), tr.wav(0.5, pattern=b"second-part-")
        cases = {
            "two audio parts": [("call_id", None, None, cid.encode(), []),
                                ("audio", "a.wav", "audio/wav", a, []),
                                ("audio", "b.wav", "audio/wav", b, [])],
            "audio, call_id, audio": [("audio", "a.wav", "audio/wav", a, []),
                                      ("call_id", None, None, cid.encode(), []),
                                      ("audio", "b.wav", "audio/wav", b, [])],
            "two call_id parts": [("call_id", None, None, cid[:18].encode(), []),
                                  ("call_id", None, None, cid[18:].encode(), []),
                                  ("audio", "a.wav", "audio/wav", a, [])],
            "base64 transfer encoding": [
                ("call_id", None, None, cid.encode(), []),
                ("audio", "a.wav", "audio/wav", a, ["Content-Transfer-Encoding: base64"])],
        }
        for what, parts in cases.items():
            with self.subTest(what):
                self.assertError(self.post_form(parts), 400, "invalid_body")
                self.assertNothingStored()
        # One of each still works.
        r = self.post_form([("call_id", None, None, cid.encode(), []),
                            ("note", None, None, b"ignored", []),
                            ("audio", "a.wav", "audio/wav", a, [])])
        self.assertStatus(r, 201)
        self.assertEqual(r.body["sha256"], hashlib.sha256(a).hexdigest())

    def test_wav_must_be_a_real_riff_wave(self):
        cid = self.call()
        good = tr.wav(1.0)
        fmt_garbage = good[:12] + b"fmt " + b"\x10\x00\x00\x00" + b"\x00" * 16 + good[36:]
        cases = {
            "magic then nonsense": b"RIFF\x24\x00\x00\x00WAVE" + b"just some text " * 40,
            "no fmt chunk": good[:12] + good[36:],
            "fmt of zeros": fmt_garbage,
            "RIFF size larger than the body": good[:-100],
            "RIFF size smaller than the body": good + b"\x00" * 100,
            "data before fmt": good[:12] + good[36:44] + good[12:36] + good[44:],
        }
        for what, body in cases.items():
            with self.subTest(what):
                self.assertError(self.upload(cid, body), 415, "unsupported_media_type")
                self.assertNothingStored()
        # A body larger than the sniffed prefix whose RIFF size disagrees at the end.
        long_wav = tr.wav(2.0)
        self.assertError(self.upload(cid, long_wav + b"\x00" * 10), 415,
                         "unsupported_media_type")
        self.assertNothingStored()
        self.assertStatus(self.upload(cid, good), 201)


class BlobBindingTest(tr.RecordingCase):
    def blob_path(self, rid):
        key = self.daemon.sql("SELECT storage_key FROM recordings WHERE id = '%s'" % rid)[0][0]
        return os.path.join(self.store, key)

    def test_blob_copied_over_another_is_refused(self):
        cid = self.call()
        a = tr.wav(1.0, pattern=b"audio-of-recording-a-")
        b = tr.wav(1.0, pattern=b"audio-of-recording-b-")
        self.assertEqual(len(a), len(b))  # the size alone cannot tell them apart
        ra = self.upload(cid, a).body["recording_id"]
        rb = self.upload(cid, b).body["recording_id"]
        shutil.copyfile(self.blob_path(ra), self.blob_path(rb))
        p = self.play(cid, rb)
        self.assertError(p, 503, "storage_unavailable")
        self.assertNotIn(b"audio-of-recording-a-", p.raw)
        self.assertIn("refused", self.daemon.log_tail(lines=50))
        # The signed public link refuses it too; the original still plays.
        self.assertEqual(self.play(cid, ra).raw, a)

    def test_whole_file_playback_checks_the_rows_sha256(self):
        cid = self.call()
        audio = tr.wav(3.0)
        rid = self.upload(cid, audio).body["recording_id"]
        self.daemon.sql("UPDATE recordings SET sha256 = '%s' WHERE id = '%s'"
                        % (hashlib.sha256(b"another recording").hexdigest(), rid))
        # The whole file never arrives complete: the response is cut where the hash fails.
        with self.assertRaises(http.client.IncompleteRead):
            self.play(cid, rid)
        self.assertIn("SHA-256 is not its row's", self.daemon.log_tail(lines=50))

    def test_old_format_blob_still_plays_and_is_checked_against_the_row(self):
        with open(self.keyfile) as f:
            current = f.read().strip()
        self.write_keys([V1_KEY_LINE, current])
        self.daemon.restart()
        cid = self.call()
        rid = self.upload(cid, tr.wav(1.0)).body["recording_id"]
        with open(self.blob_path(rid), "wb") as f:
            f.write(V1_BLOB)  # an old, unbound blob in its place
        # The row does not describe it: refused (size).
        self.assertError(self.play(cid, rid), 503, "storage_unavailable")
        # A row that does (as for a recording stored before blobs were bound): it plays.
        self.daemon.sql("UPDATE recordings SET bytes = %d, sha256 = '%s' WHERE id = '%s'"
                        % (len(V1_PLAIN), hashlib.sha256(V1_PLAIN).hexdigest(), rid))
        p = self.play(cid, rid)
        self.assertStatus(p, 200)
        self.assertEqual(p.raw, V1_PLAIN)
        # Same size, another hash: an old blob swapped in is refused.
        self.daemon.sql("UPDATE recordings SET sha256 = '%s' WHERE id = '%s'"
                        % (hashlib.sha256(b"another recording").hexdigest(), rid))
        self.assertError(self.play(cid, rid), 503, "storage_unavailable")


class UrlIngestTest(tc.TwilioCallCase):
    """POST /api/call/record {"call_id", "recording_url"} against the sandbox's Twilio."""

    def recording_url(self, sid, base=None):
        return "%s/2010-04-01/Accounts/%s/Recordings/%s" % (base or self.sb.url, tc.ACCOUNT, sid)

    def ingest(self, cid, url, token=None):
        return self.daemon.post("/api/call/record", {"call_id": cid, "recording_url": url},
                                token=token or self.daemon.token)

    def recordings(self, cid):
        rows = self.daemon.sql("SELECT id, state, provider_sid, storage_key, last_error "
                               "FROM recordings WHERE call_id = '%s' ORDER BY created_at" % cid)
        return [dict(zip(("id", "state", "provider_sid", "storage_key", "error"), r))
                for r in rows]

    def stored_sid(self, cid):
        """The provider sid of the call's recording once the callback's copy is stored."""
        def stored():
            recs = [r for r in self.recordings(cid) if r["provider_sid"]]
            return recs[0]["provider_sid"] if recs and recs[0]["state"] == "stored" else None
        return wait_for(stored, 60, "the recording of %s stored" % cid)

    def test_anything_but_our_recording_url_is_422_at_once(self):
        self.sb.outcome(to="*", status="completed", duration_s=4, recording_duration_s=2)
        cid = self.dial()
        self.wait_final(cid)
        sid = self.stored_sid(cid)
        base = self.sb.url
        host_port = base.split("://", 1)[1]
        path = "/2010-04-01/Accounts/%s/Recordings/" % tc.ACCOUNT
        bad = [
            "https://evil.example.com" + path + sid,
            "http://evil.example.com@" + host_port + path + sid,
            base.replace("127.0.0.1", "localhost") + path + sid,
            base + "0" + path + sid,  # another port
            "ftp://" + host_port + path + sid,
            base + "/2010-04-01/Accounts/%s/Calls/../Recordings/%s" % (tc.ACCOUNT, sid),
            base + "/2010-04-01/Accounts/%s/Recordings/%%2e%%2e/Recordings/%s" % (tc.ACCOUNT, sid),
            base + "/2010-04-01/Accounts/AC%s/Recordings/%s" % ("0" * 32, sid),
            base + path + sid + ".json",
            base + path + sid + "?RequestedChannels=2",
            base + path + sid + "#fragment",
            base + path + "RE1234",
            base + path + "RE" + "g" * 32,
            base + "/2010-04-01/Accounts/%s/Calls/%s" % (tc.ACCOUNT, self.call(cid)["telephony"]
                                                         ["call_id"]),
        ]
        before = self.recordings(cid)
        for url in bad:
            with self.subTest(url):
                self.assertError(self.ingest(cid, url), 422, "invalid_field")
        self.assertEqual(self.recordings(cid), before, "nothing stored, no row, no job")
        # A call without a Twilio call cannot own a Twilio recording.
        unplaced = self.daemon.sql(
            "INSERT INTO calls (id, agent, direction, to_e164, status, telephony, crm)"
            " VALUES ('%s', 'alice', 'outbound', '+14155550123', 'completed', 'none', 'none')"
            " RETURNING id" % uuid.uuid4())[0][0]
        self.assertError(self.ingest(unplaced, self.recording_url(sid)), 422, "invalid_field")
        self.assertEqual(self.recordings(unplaced), [])

    def test_another_agents_recording_is_not_fetched(self):
        self.sb.outcome(to="*", status="completed", duration_s=4, recording_duration_s=2)
        alice_call = self.dial()
        self.wait_final(alice_call)
        alice_sid = self.stored_sid(alice_call)
        bob = self.daemon.apikey("bob")
        r = self.daemon.initiate({"to": tc.CUSTOMER}, token=bob)
        self.assertStatus(r, 202)
        bob_call = r.body["call_id"]
        self.wait_final(bob_call)
        bob_sid = self.stored_sid(bob_call)
        blobs_before = len([n for _, _, names in os.walk(self.sb.store) for n in names])

        # Bob names Alice's recording for his own call: accepted for checking, then refused.
        r = self.ingest(bob_call, self.recording_url(alice_sid), token=bob)
        self.assertStatus(r, 202)
        rid = r.body["recording_id"]

        def failed():
            rec = [x for x in self.recordings(bob_call) if x["id"] == rid][0]
            return rec if rec["state"] != "pending" else None
        rec = wait_for(failed, 60, "the stolen recording's fetch to end")
        self.assertEqual(rec["state"], "failed", rec)
        self.assertIn(rec["storage_key"], ("", None))
        self.assertIn("another call", rec["error"])
        self.assertEqual(len([n for _, _, names in os.walk(self.sb.store) for n in names]),
                         blobs_before, "no blob stored")
        attach = self.daemon.sql("SELECT count(*) FROM jobs WHERE kind = 'crm.attach_recording'"
                                 " AND payload->>'recording_id' = '%s'" % rid)
        self.assertEqual(attach, [["0"]], "nothing linked in the CRM")
        self.assertError(self.daemon.get("/api/calls/%s/recording/%s" % (bob_call, rid),
                                         token=bob), 404, "not_found")

        # His own call's recording, by URL, is fetched and stored.
        r = self.ingest(bob_call, self.recording_url(bob_sid) + ".wav", token=bob)
        self.assertStatus(r, 202)
        own = r.body["recording_id"]

        def stored():
            rec = [x for x in self.recordings(bob_call) if x["id"] == own][0]
            return rec if rec["state"] != "pending" else None
        self.assertEqual(wait_for(stored, 60, "his own recording fetched")["state"], "stored")
        audio = self.daemon.get("/api/calls/%s/recording/%s" % (bob_call, own), token=bob)
        self.assertStatus(audio, 200)
        self.assertTrue(audio.raw.startswith(b"RIFF"))


if __name__ == "__main__":
    harness.main()
