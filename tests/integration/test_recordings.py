"""Recordings (issue 5): POST /api/call/record in its three forms streams audio through the
sealed-blob writer into storage; playback with Range; signed /r links; retention; key
rotation; a 1 GiB upload in flat memory; a 413 mid-stream or a wrong type leaves nothing; the
provider download from the sandbox's Twilio (Basic auth, redirect) and the deletion there only
after our copy is durable."""

import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import subprocess
import tempfile
import time
import uuid

import harness
from harness import DaemonTestCase, wait_for

TO = "+14155550123"
LINK_LABEL = b"callbridge recording links v1"


def wav(seconds=1.0, rate=8000, pattern=b""):
    """A PCM WAV: a recognisable pattern repeated, so the store can be searched for it."""
    n = int(seconds * rate) * 2
    body = (pattern or b"callbridge-plain-") * (n // len(pattern or b"callbridge-plain-") + 1)
    body = body[:n]
    head = b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", len(body))
    return head + body


MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400


def new_key(daemon):
    out = daemon.cli("keygen", check=True).stdout.strip()
    kid, b64 = out.split()
    return kid, base64.b64decode(b64), out


class RecordingCase(DaemonTestCase):
    autostart = False
    storage = {}

    def setUp(self):
        self.store = tempfile.mkdtemp(prefix="cb-rec-")
        os.chmod(self.store, 0o777)  # the daemon may run as another user under scripts/test
        self.keyfile = os.path.join(tempfile.mkdtemp(prefix="cb-key-"), "keys")
        self.daemon = self.new_daemon(self.overrides())
        self.kid, self.key, line = new_key(self.daemon)
        self.write_keys([line])
        self.daemon.migrate()
        self.daemon.token = self.daemon.apikey(self.agent)
        self.admin = self.daemon.apikey("ops", admin=True)
        self.daemon.start()

    def overrides(self):
        st = {"backend": "local", "dir": self.store, "key_file": self.keyfile}
        st.update(self.storage)
        return {"storage": st, "retention": {"sweep_interval_s": 1}}

    def write_keys(self, lines):
        os.chmod(os.path.dirname(self.keyfile), 0o755)
        with open(self.keyfile, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.keyfile, 0o600)

    def call(self, token=None):
        r = self.daemon.initiate({"to": TO}, token=token or self.daemon.token)
        self.assertStatus(r, 202)
        return r.body["call_id"]

    def upload(self, call_id, data, ctype="audio/wav", token=None, headers=None):
        h = {"Content-Type": ctype}
        h.update(headers or {})
        return self.daemon.request("POST", "/api/call/record?call_id=%s" % call_id, data,
                                   headers=h, token=token or self.daemon.token)

    def files(self):
        out = []
        for root, _, names in os.walk(self.store):
            out += [os.path.join(root, n) for n in names]
        return out

    def play(self, call_id, rid, headers=None, token=None):
        return self.daemon.request("GET", "/api/calls/%s/recording/%s" % (call_id, rid),
                                   headers=headers, token=token or self.daemon.token)


class UploadTest(RecordingCase):
    def test_raw_upload_is_sealed_and_plays_back(self):
        cid = self.call()
        audio = wav(3.0)
        r = self.upload(cid, audio)
        self.assertStatus(r, 201)
        self.assertEqual(r.body["bytes"], len(audio))
        self.assertEqual(r.body["sha256"], hashlib.sha256(audio).hexdigest())
        self.assertEqual(r.body["content_type"], "audio/wav")
        rid = r.body["recording_id"]
        blobs = self.files()
        self.assertEqual(len(blobs), 1)
        sealed = open(blobs[0], "rb").read()
        self.assertTrue(sealed.startswith(b"CBBLOB1\x00"))
        for i in range(0, len(audio) - 16, 997):
            self.assertNotIn(audio[i:i + 16], sealed, "plaintext found at %d" % i)
        p = self.play(cid, rid)
        self.assertStatus(p, 200)
        self.assertEqual(p.raw, audio)
        self.assertEqual(p.headers.get("Content-Type"), "audio/wav")
        self.assertEqual(p.headers.get("Accept-Ranges"), "bytes")
        view = self.daemon.get("/api/calls/%s" % cid).body["recordings"]
        self.assertEqual([(v["recording_id"], v["state"], v["bytes"]) for v in view],
                         [(rid, "stored", len(audio))])
        self.assertTrue(view[0]["link"].endswith("/r/" + rid))

    def test_range_requests(self):
        cid = self.call()
        audio = wav(10.0)  # 160 kB: three 64 KiB chunks
        rid = self.upload(cid, audio).body["recording_id"]
        n = len(audio)
        for rng, first, last in (("bytes=0-99", 0, 99), ("bytes=65530-65545", 65530, 65545),
                                 ("bytes=100000-", 100000, n - 1), ("bytes=-10", n - 10, n - 1),
                                 ("bytes=5-%d" % (n + 500), 5, n - 1)):
            with self.subTest(rng):
                p = self.play(cid, rid, headers={"Range": rng})
                self.assertStatus(p, 206)
                self.assertEqual(p.raw, audio[first:last + 1])
                self.assertEqual(p.headers.get("Content-Range"),
                                 "bytes %d-%d/%d" % (first, last, n))
        p = self.play(cid, rid, headers={"Range": "bytes=%d-" % n})
        self.assertError(p, 416, "range_not_satisfiable")
        self.assertEqual(p.headers.get("Content-Range"), "bytes */%d" % n)
        p = self.play(cid, rid, headers={"Range": "lines=1-2"})
        self.assertStatus(p, 200)
        self.assertEqual(len(p.raw), n)

    def test_multipart_upload(self):
        cid = self.call()
        audio = wav(1.0)
        boundary = "cbboundary%s" % uuid.uuid4().hex
        body = ("--%s\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.wav\"\r\n"
                "Content-Type: audio/wav\r\n\r\n" % boundary).encode() + audio + (
            "\r\n--%s\r\nContent-Disposition: form-data; name=\"call_id\"\r\n\r\n%s\r\n--%s--\r\n"
            % (boundary, cid, boundary)).encode()
        r = self.daemon.request("POST", "/api/call/record", body,
                                headers={"Content-Type": "multipart/form-data; boundary=" +
                                         boundary})
        self.assertStatus(r, 201)
        self.assertEqual(r.body["sha256"], hashlib.sha256(audio).hexdigest())
        self.assertEqual(self.play(cid, r.body["recording_id"]).raw, audio)

    def test_bad_uploads_leave_nothing(self):
        cid = self.call()
        other = self.call(token=self.daemon.apikey("bob"))
        cases = [
            ("text", self.upload(cid, b"hello", ctype="text/plain"), 415,
             "unsupported_media_type"),
            ("mp3 declared wav", self.upload(cid, MP3), 415, "unsupported_media_type"),
            ("not audio", self.upload(cid, b"\x00" * 1000, ctype="audio/ogg"), 415,
             "unsupported_media_type"),
            ("empty", self.upload(cid, b""), 415, "unsupported_media_type"),
            ("unknown call", self.upload(str(uuid.uuid4()), wav()), 404, "not_found"),
            ("another agent's call", self.upload(other, wav()), 404, "not_found"),
            ("no call id", self.daemon.request("POST", "/api/call/record", wav(),
                                               headers={"Content-Type": "audio/wav"}),
             400, "invalid_query"),
            ("url form, not ours", self.daemon.post("/api/call/record", {
                "call_id": cid, "recording_url": "https://evil.example.com/x.wav"}), 422,
             "invalid_field"),
        ]
        for what, resp, status, code in cases:
            with self.subTest(what):
                self.assertError(resp, status, code)
        self.assertEqual(self.files(), [])
        self.assertEqual(self.daemon.count("recordings"), 0)


class LimitTest(RecordingCase):
    storage = {"max_upload_mb": 1}

    def test_413_on_content_length_and_mid_stream_leave_nothing(self):
        cid = self.call()
        r = self.upload(cid, wav(70.0))  # 1.12 MB with Content-Length
        self.assertError(r, 413, "payload_too_large")
        # Chunked, no Content-Length: the cap is hit while it streams.
        sock = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=30)
        head = ("POST /api/call/record?call_id=%s HTTP/1.1\r\nHost: x\r\n"
                "Authorization: Bearer %s\r\nContent-Type: audio/wav\r\n"
                "Transfer-Encoding: chunked\r\n\r\n" % (cid, self.daemon.token)).encode()
        sock.sendall(head)
        data = wav(70.0)
        answer = b""
        try:
            for i in range(0, len(data), 65536):
                part = data[i:i + 65536]
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the daemon may close once it answered
        sock.settimeout(30)
        try:
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        finally:
            sock.close()
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:200])
        wait_for(lambda: self.files() == [], 10, "no blob or temp file left")
        self.assertEqual(self.daemon.count("recordings"), 0)


class LinkTest(RecordingCase):
    def sign(self, rid, exp):
        derived = hmac.new(self.key, LINK_LABEL, hashlib.sha256).digest()
        return hmac.new(derived, ("%s:%d" % (rid, exp)).encode(), hashlib.sha256).hexdigest()

    def test_signed_and_authenticated_links(self):
        cid = self.call()
        audio = wav(1.0)
        rid = self.upload(cid, audio).body["recording_id"]
        r = self.daemon.post("/api/recordings/%s/link" % rid)
        self.assertStatus(r, 200)
        target = r.body["url"][r.body["url"].index("/r/"):]
        self.assertEqual(self.daemon.get(target, token=None).raw, audio)
        exp = int(time.time()) + 60
        self.assertEqual(self.daemon.get("/r/%s?exp=%d&sig=%s" % (rid, exp, self.sign(rid, exp)),
                                         token=None).raw, audio)
        past = int(time.time()) - 5
        self.assertError(self.daemon.get("/r/%s?exp=%d&sig=%s" % (rid, past, self.sign(rid, past)),
                                         token=None), 403, "forbidden")
        bad = self.sign(rid, exp)[:-1] + ("0" if self.sign(rid, exp)[-1] != "0" else "1")
        self.assertError(self.daemon.get("/r/%s?exp=%d&sig=%s" % (rid, exp, bad), token=None),
                         403, "forbidden")
        self.assertError(self.daemon.get("/r/%s?exp=%d&sig=%s" % (rid, exp + 1,
                                                                  self.sign(rid, exp)),
                                         token=None), 403, "forbidden")
        self.assertError(self.daemon.get("/r/%s" % rid, token=None), 401, "unauthorized")
        self.assertEqual(self.daemon.get("/r/%s" % rid).raw, audio)
        self.assertError(self.daemon.get("/r/%s" % rid, token=self.daemon.apikey("eve")), 404,
                         "not_found")
        self.assertEqual(self.daemon.get("/r/%s" % rid, token=self.admin).raw, audio)
        p = self.daemon.request("GET", "/r/%s" % rid, headers={"Range": "bytes=0-3"})
        self.assertEqual((p.status, p.raw), (206, b"RIFF"))


class RetentionTest(RecordingCase):
    def test_sweep_removes_exactly_the_expired(self):
        ids = {}
        for name in ("old", "held", "new"):
            cid = self.call()
            ids[name] = (cid, self.upload(cid, wav(0.5)).body["recording_id"])
        self.daemon.sql("UPDATE recordings SET created_at = now() - interval '91 days' "
                        "WHERE id IN ('%s', '%s')" % (ids["old"][1], ids["held"][1]))
        self.daemon.sql("UPDATE calls SET legal_hold = true WHERE id = '%s'" % ids["held"][0])
        wait_for(lambda: self.daemon.sql_value(
            "SELECT state FROM recordings WHERE id = '%s'" % ids["old"][1]) == "deleted", 30,
            "the sweep deleted the old recording")
        states = dict(self.daemon.sql("SELECT id, state FROM recordings"))
        self.assertEqual(states, {ids["old"][1]: "deleted", ids["held"][1]: "stored",
                                  ids["new"][1]: "stored"})
        self.assertEqual(len(self.files()), 2)
        self.assertEqual(self.daemon.sql("SELECT recording_id FROM retention_log"),
                         [[ids["old"][1]]])
        self.assertError(self.daemon.get("/r/%s" % ids["old"][1]), 410, "gone")
        self.assertError(self.play(*ids["old"]), 410, "gone")
        self.assertStatus(self.play(*ids["held"]), 200)


class RotationTest(RecordingCase):
    def test_old_blobs_open_after_rotation(self):
        cid = self.call()
        old_audio = wav(1.0, pattern=b"before-rotation-")
        old = self.upload(cid, old_audio).body["recording_id"]
        kid2, _, line2 = new_key(self.daemon)
        with open(self.keyfile) as f:
            first = f.read().strip()
        self.write_keys([first, line2])
        self.daemon.restart()
        new_audio = wav(1.0, pattern=b"after-rotation-")
        new = self.upload(cid, new_audio).body["recording_id"]
        keys = dict(self.daemon.sql("SELECT id, key_id FROM recordings"))
        self.assertEqual(keys, {old: self.kid, new: kid2})
        self.assertEqual(self.play(cid, old).raw, old_audio)
        self.assertEqual(self.play(cid, new).raw, new_audio)
        self.write_keys([line2])  # the old key removed: its blobs no longer open
        self.daemon.restart()
        self.assertError(self.play(cid, old), 503, "storage_unavailable")
        self.assertEqual(self.play(cid, new).raw, new_audio)


class S3Test(RecordingCase):
    """The same upload and playback with backend = s3 against the sandbox's S3 (real SigV4):
    a 20 MiB recording goes up as a multipart upload, only sealed bytes reach the bucket."""

    def overrides(self):
        d = tempfile.mkdtemp(prefix="cb-s3-")
        os.chmod(d, 0o755)
        secret = os.path.join(d, "secret")
        with open(secret, "w") as f:
            f.write("sandbox-s3-secret\n")
        os.chmod(secret, 0o644)
        self.sb = harness.Sandbox(args=["--s3-access-key-id", "AKIDCALLBRIDGE",
                                        "--s3-secret-access-key-file", secret,
                                        "--s3-bucket", "recs", "--s3-region", "eu-west-3"])
        self.sb.start()
        self.addCleanup(self.sb.stop)
        return {"storage": {"backend": "s3", "s3_endpoint": self.sb.base_url,
                            "s3_region": "eu-west-3", "s3_bucket": "recs",
                            "s3_access_key_id": "AKIDCALLBRIDGE",
                            "s3_secret_access_key_file": secret, "key_file": self.keyfile}}

    def test_upload_and_play_through_s3(self):
        cid = self.call()
        audio = wav(655.0)  # 10.5 MB of 8 kHz PCM: two 8 MiB parts
        r = self.upload(cid, audio)
        self.assertStatus(r, 201)
        rid = r.body["recording_id"]
        state = self.sb.control("state")
        objects = state["s3"]["objects"]
        self.assertEqual([o["key"] for o in objects], ["recordings/" + rid])
        self.assertGreater(objects[0]["size"], len(audio))
        self.assertNotEqual(objects[0]["sha256"], hashlib.sha256(audio).hexdigest())
        self.assertEqual(state["requests"].get("s3.multipart.complete"), 1)
        p = self.play(cid, rid, headers={"Range": "bytes=8388000-8389000"})
        self.assertStatus(p, 206)
        self.assertEqual(p.raw, audio[8388000:8389001])
        self.assertEqual(self.play(cid, rid).raw, audio)
        self.assertEqual(self.files(), [])


class BigUploadTest(RecordingCase):
    def rss_hwm_kb(self):
        with open("/proc/%d/status" % self.daemon.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def sanitized(self):
        with open("/proc/%d/maps" % self.daemon.proc.pid) as f:
            return "libasan" in f.read()

    def test_one_gibibyte_in_flat_memory(self):
        cid = self.call()
        size = 1 << 30
        head = b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt " + struct.pack(
            "<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", size)
        block = os.urandom(1 << 20)
        before = self.rss_hwm_kb()
        sha = hashlib.sha256(head)
        sock = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=120)
        sock.sendall(("POST /api/call/record?call_id=%s HTTP/1.1\r\nHost: x\r\n"
                      "Authorization: Bearer %s\r\nContent-Type: audio/wav\r\n"
                      "Content-Length: %d\r\nConnection: close\r\n\r\n"
                      % (cid, self.daemon.token, len(head) + size)).encode() + head)
        for _ in range(size >> 20):
            sock.sendall(block)
            sha.update(block)
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        sock.close()
        self.assertTrue(answer.startswith(b"HTTP/1.1 201"), answer[:300])
        body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        self.assertEqual(body["bytes"], len(head) + size)
        self.assertEqual(body["sha256"], sha.hexdigest())
        growth_mb = (self.rss_hwm_kb() - before) / 1024
        if not self.sanitized():
            self.assertLess(growth_mb, 20, "peak RSS grew by %.1f MB" % growth_mb)
        blob = self.files()[0]
        self.assertGreater(os.path.getsize(blob), size)


if __name__ == "__main__":
    harness.main()
