"""The speech-to-text engines through the real cb_stt code (tests/tools/stt_probe) against
the sandbox's OpenAI and Google emulations: request shapes as the sandbox validates and
records them (multipart fields, Google config), a > 25 MiB WAV cut for OpenAI and joined in
order, > 60 s cut into 55 s chunks recognised in parallel for Google, 429 with Retry-After
→ WAIT with the seconds, wrong keys → FAIL with the engine's message, the service-account
token flow, and the sandbox's own answers (413, bad format, sync input too long)."""

import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import unittest

import harness

OPENAI_KEY = "sk-sandbox-test-key-0123456789"
GOOGLE_KEY = "AIzaSandboxTestKey0123456789"
MIB = 1024 * 1024


def probe_bin():
    """tests/tools/stt_probe: $CB_STT_PROBE, else beside the build's tests."""
    p = os.environ.get("CB_STT_PROBE")
    if not p and os.environ.get("CB_BUILD_DIR"):
        p = os.path.join(os.environ["CB_BUILD_DIR"], "tests", "cb-stt-probe")
    if not p or not os.access(p, os.X_OK):
        p = harness.find_binary("CB_STT_PROBE_UNSET", os.path.join("tests", "cb-stt-probe"))
    return p


def wav_header(rate, channels, bits, data_len):
    align = channels * bits // 8
    return (b"RIFF" + struct.pack("<I", 36 + data_len) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * align, align, bits) +
            b"data" + struct.pack("<I", data_len))


def pcm(n_bytes, seed=1):
    """Deterministic, non-repeating sample bytes (so every chunk hashes differently)."""
    out = bytearray()
    i = 0
    while len(out) < n_bytes:
        out += hashlib.sha256(b"%d:%d" % (seed, i)).digest() * 64
        i += 1
    return bytes(out[:n_bytes])


def chunk_sha12(rate, channels, bits, data):
    return hashlib.sha256(wav_header(rate, channels, bits, len(data)) + data).hexdigest()[:12]


class SttEngines(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cb-stt-")
        cls.openai_key = cls.write("openai-key", OPENAI_KEY + "\n")
        cls.google_key = cls.write("google-key", GOOGLE_KEY + "\n")
        cls.wrong_key = cls.write("wrong-key", "sk-wrong-key-000000\n")
        cls.sa_cert, cls.sa_json = None, None
        key = os.path.join(cls.dir, "sa.key")
        cert = os.path.join(cls.dir, "sa.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", cert, "-days", "2", "-subj", "/CN=stt-sa"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.sa_cert, cls.sa_key = cert, key
        cls.sb = harness.Sandbox(args=["--openai-api-key-file", cls.openai_key,
                                       "--google-api-key-file", cls.google_key,
                                       "--google-sa-cert-file", cert, "--threads", "8"])
        cls.sb.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.sb.stop()
        reports = cls.sb.sanitizer_reports()
        if rc not in (0, None) or reports:
            print("\n---- sandbox log ----\n%s\n---- end ----" % cls.sb.log_tail())
        cls.sb.remove_files()
        shutil.rmtree(cls.dir, ignore_errors=True)
        assert rc in (0, None), "sandbox exit code on SIGTERM: %r" % rc
        assert reports == [], "sanitizer reports: %r" % reports

    @classmethod
    def write(cls, name, data):
        path = os.path.join(cls.dir, name)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    def setUp(self):
        self.sb.control("reset")

    # ---- helpers

    def conf(self, engine, **stt):
        lines = ["[log]", "level = warn", "[stt]", "engine = %s" % engine]
        if engine == "openai":
            stt.setdefault("base_url", self.sb.base_url + "/v1")
            stt.setdefault("api_key_file", self.openai_key)
        if engine == "google":
            stt.setdefault("google_base_url", self.sb.base_url + "/v1")
            if "google_credentials_file" not in stt:
                stt.setdefault("api_key_file", self.google_key)
        lines += ["%s = %s" % kv for kv in stt.items()]
        return self.write("%s-%d.conf" % (engine, abs(hash(tuple(lines)))), "\n".join(lines) + "\n")

    def probe(self, conf, audio, *args, ctype="audio/wav"):
        path = audio if isinstance(audio, str) else self.write("audio.bin", audio)
        proc = subprocess.run([probe_bin(), "-c", conf, "-t", ctype] + list(args) + [path],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
        err = proc.stderr.decode("utf-8", "replace")
        lines = proc.stdout.decode("utf-8").splitlines()
        runs = [json.loads(l) for l in lines if l.startswith("{")]
        metrics = [l for l in lines if not l.startswith("{")]
        self.assertTrue(runs, "no output; rc %d, stderr:\n%s" % (proc.returncode, err))
        self.assertNotIn("Sanitizer", err, "sanitizer report from the probe")
        return proc.returncode, runs, metrics, err

    def state(self):
        st = self.sb.control("state")
        return st["stt"], st["requests"]

    def seed(self, data, text):
        self.sb.control("seed", {"transcripts": [{"sha256": hashlib.sha256(data).hexdigest(),
                                                  "text": text}]})

    # ---- openai

    def test_openai_request_shape_and_seeded_text(self):
        data = pcm(16000 * 2 * 2)
        wav = wav_header(16000, 1, 16, len(data)) + data
        self.seed(wav, "Hello, this is Acme support.")
        rc, runs, _, err = self.probe(self.conf("openai", model="whisper-1", language="en"), wav,
                                      "-p", "Acme", "-p", "Pro plan")
        self.assertEqual(rc, 0, err)
        t = runs[0]["transcript"]
        self.assertEqual(t["text"], "Hello, this is Acme support.")
        self.assertEqual(t["engine"], "openai")
        self.assertEqual(t["model"], "whisper-1")
        self.assertEqual(t["language"], "en")
        self.assertEqual(t["chunks"], 1)
        self.assertAlmostEqual(t["duration_s"], 2.0, places=3)
        self.assertEqual(t["segments"], [{"start": 0.0, "end": 2.0,
                                          "text": "Hello, this is Acme support."}])
        stt, counts = self.state()
        self.assertEqual(counts.get("openai.transcriptions"), 1)
        req = stt["recent"][-1]
        self.assertEqual(req["api"], "openai")
        self.assertEqual(req["fields"], {"model": "whisper-1", "language": "en",
                                         "response_format": "verbose_json",
                                         "prompt": "Acme, Pro plan"})
        self.assertEqual(req["timestamp_granularities"], ["segment"])
        self.assertEqual(req["filename"], "audio.wav")
        self.assertEqual(req["content_type"], "audio/wav")
        self.assertEqual(req["file_bytes"], len(wav))
        self.assertEqual(req["sha256"], hashlib.sha256(wav).hexdigest())

    def test_openai_non_wav_sent_whole_with_its_extension(self):
        mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + pcm(5000)
        rc, runs, _, err = self.probe(self.conf("openai"), mp3, ctype="audio/mpeg")
        self.assertEqual(rc, 0, err)
        self.assertEqual(runs[0]["transcript"]["text"],
                         "Thank you for calling. This is the sandbox transcript.")
        req = self.state()[0]["recent"][-1]
        self.assertEqual((req["filename"], req["content_type"]), ("audio.mp3", "audio/mpeg"))

    def test_openai_over_25_mib_is_cut_and_joined_in_order(self):
        rate, step = 8000, 24 * MIB - 44  # data bytes per chunk: 24 MiB files, whole frames
        data = pcm(26 * MIB, seed=7)
        wav = wav_header(rate, 1, 16, len(data)) + data
        self.sb.control("stt", {"unseeded": "sha"})
        rc, runs, metrics, err = self.probe(self.conf("openai"), wav, "-m")
        self.assertEqual(rc, 0, err)
        t = runs[0]["transcript"]
        parts = [data[:step], data[step:]]
        self.assertEqual(t["chunks"], 2)
        self.assertEqual(t["text"], " ".join("chunk " + chunk_sha12(rate, 1, 16, p)
                                             for p in parts))
        self.assertEqual([s["text"] for s in t["segments"]], t["text"].replace(" chunk", "\nchunk")
                         .split("\n"))
        self.assertAlmostEqual(t["segments"][1]["start"], step / 2 / rate, places=3)
        self.assertAlmostEqual(t["duration_s"], len(data) / 2 / rate, places=3)
        stt, counts = self.state()
        self.assertEqual(counts.get("openai.transcriptions"), 2)
        sizes = sorted(r["file_bytes"] for r in stt["recent"])
        self.assertEqual(sizes, sorted([44 + len(p) for p in parts]))
        self.assertTrue(all(r["request_bytes"] <= 26214400 for r in stt["recent"]))
        self.assertTrue(all(r["wav"]["data_bytes"] % 2 == 0 for r in stt["recent"]))
        text = "\n".join(metrics)
        self.assertIn('cb_stt_chunks_total{engine="openai"} 2', text)
        self.assertIn('cb_stt_transcriptions_total{engine="openai",result="ok"} 1', text)
        self.assertIn('cb_stt_cost_usd_total{engine="openai"}', text)

    def test_openai_over_25_mib_not_wav_fails(self):
        big = self.write("big.mp3", b"ID3" + b"\x00" * (25 * MIB + 10))
        rc, runs, _, _ = self.probe(self.conf("openai"), big, ctype="audio/mpeg")
        self.assertEqual(rc, 1)
        self.assertIn("only PCM WAV can be cut", runs[0]["error"])
        self.assertNotIn("openai.transcriptions", self.state()[1])

    def test_openai_rate_limit_retry_after(self):
        data = pcm(3200)
        wav = wav_header(8000, 1, 16, len(data)) + data
        self.sb.control("faults", {"rate_limit_rate": 1.0})
        self.sb.control("stt", {"retry_after_s": 7})
        rc, runs, _, _ = self.probe(self.conf("openai"), wav)
        self.assertEqual(rc, 3)
        self.assertEqual(runs[0]["result"], "wait")
        self.assertEqual(runs[0]["retry_after_s"], 7)
        self.assertIn("Rate limit reached", runs[0]["error"])
        self.sb.control("stt", {"retry_after_s": 0, "retry_after_ms": 2500})
        rc, runs, _, _ = self.probe(self.conf("openai"), wav)
        self.assertEqual((rc, runs[0]["retry_after_s"]), (3, 3))
        self.sb.control("faults", {"error_rate": 1.0})
        rc, runs, _, _ = self.probe(self.conf("openai"), wav)
        self.assertEqual((rc, runs[0]["retry_after_s"]), (3, 0))
        self.assertIn("openai answered 500", runs[0]["error"])

    def test_openai_wrong_key_fails_with_openai_message(self):
        data = pcm(3200)
        wav = wav_header(8000, 1, 16, len(data)) + data
        rc, runs, _, _ = self.probe(self.conf("openai", api_key_file=self.wrong_key), wav)
        self.assertEqual(rc, 1)
        self.assertIn("openai answered 401: Incorrect API key provided: sk-***0000",
                      runs[0]["error"])
        self.assertIn("invalid_api_key", runs[0]["error"])

    # ---- google

    def test_google_request_shape(self):
        data = pcm(16000 * 2 * 2 * 3)  # 3 s of 16 kHz stereo: mixed to mono
        wav = wav_header(16000, 2, 16, len(data)) + data
        rc, runs, _, err = self.probe(self.conf("google"), wav, "-p", "Acme", "-l", "fr")
        self.assertEqual(rc, 0, err)
        t = runs[0]["transcript"]
        self.assertEqual(t["engine"], "google")
        self.assertEqual(t["language"], "fr")
        self.assertEqual(t["chunks"], 1)
        self.assertAlmostEqual(t["duration_s"], 3.0, places=3)
        self.assertEqual(t["segments"][0]["end"], 3.0)
        stt, counts = self.state()
        self.assertEqual(counts.get("google.recognize"), 1)
        req = stt["recent"][-1]
        self.assertEqual(req["auth"], "key")
        self.assertEqual(req["config"], {
            "encoding": "LINEAR16", "sampleRateHertz": 16000, "audioChannelCount": 1,
            "languageCode": "fr-FR", "enableAutomaticPunctuation": True,
            "enableWordTimeOffsets": False, "speechContexts": [{"phrases": ["Acme"]}]})
        self.assertEqual(req["audio_bytes"], 44 + len(data) // 2)

    def test_google_over_60_s_chunks_in_parallel_joined_in_order(self):
        rate = 8000
        data = pcm(rate * 2 * 130, seed=3)  # 130 s: 55 + 55 + 20
        wav = wav_header(rate, 1, 16, len(data)) + data
        step = rate * 2 * 55
        parts = [data[i:i + step] for i in range(0, len(data), step)]
        self.sb.control("stt", {"unseeded": "sha", "latency_ms": 600})
        conf = self.conf("google", parallel=4)
        t0 = time.monotonic()
        rc, runs, _, err = self.probe(conf, wav)
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, err)
        t = runs[0]["transcript"]
        self.assertEqual(t["chunks"], 3)
        self.assertEqual(t["text"], " ".join("chunk " + chunk_sha12(rate, 1, 16, p)
                                             for p in parts))
        self.assertEqual([(s["start"], s["end"]) for s in t["segments"]],
                         [(0.0, 55.0), (55.0, 110.0), (110.0, 130.0)])
        self.assertLess(elapsed, 3 * 0.6, "chunks were not recognised in parallel")
        stt, counts = self.state()
        self.assertEqual(counts.get("google.recognize"), 3)
        self.assertTrue(all(r["seconds"] <= 55.0 for r in stt["recent"]))
        # One at a time: the same text, three latencies long.
        self.sb.control("reset")
        self.sb.control("stt", {"unseeded": "sha", "latency_ms": 300})
        t0 = time.monotonic()
        rc, runs2, _, err = self.probe(self.conf("google", parallel=1), wav)
        self.assertEqual(rc, 0, err)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        self.assertEqual(runs2[0]["transcript"]["text"], t["text"])

    def test_google_rate_limit_and_wrong_key(self):
        data = pcm(3200)
        wav = wav_header(8000, 1, 16, len(data)) + data
        self.sb.control("faults", {"rate_limit_rate": 1.0})
        self.sb.control("stt", {"retry_after_s": 12})
        rc, runs, _, _ = self.probe(self.conf("google"), wav)
        self.assertEqual((rc, runs[0]["retry_after_s"]), (3, 12))
        self.assertIn("RESOURCE_EXHAUSTED", runs[0]["error"])
        self.sb.control("faults", {})
        rc, runs, _, _ = self.probe(self.conf("google", api_key_file=self.wrong_key), wav)
        self.assertEqual(rc, 1)
        self.assertEqual(runs[0]["error"], "google answered 400: API key not valid. Please pass "
                                           "a valid API key. (INVALID_ARGUMENT)")

    def test_google_service_account_token_cached(self):
        with open(self.sa_key) as f:
            pem = f.read()
        creds = self.write("sa.json", json.dumps({
            "type": "service_account", "client_email": "stt@proj.iam.gserviceaccount.com",
            "private_key": pem, "token_uri": self.sb.base_url + "/google/oauth2/token"}))
        data = pcm(3200)
        wav = wav_header(8000, 1, 16, len(data)) + data
        rc, runs, _, err = self.probe(self.conf("google", google_credentials_file=creds), wav,
                                      "-n", "3")
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["result"] for r in runs], ["ok"] * 3)
        stt, counts = self.state()
        self.assertEqual(counts.get("google.token"), 1)
        self.assertEqual(counts.get("google.recognize"), 3)
        self.assertEqual({r["auth"] for r in stt["recent"]}, {"bearer"})
        # A key the sandbox does not know: the token endpoint refuses, the engine FAILs.
        other = os.path.join(self.dir, "other.key")
        subprocess.run(["openssl", "genrsa", "-out", other, "2048"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(other) as f:
            bad = self.write("bad.json", json.dumps({
                "client_email": "x@y", "private_key": f.read(),
                "token_uri": self.sb.base_url + "/google/oauth2/token"}))
        rc, runs, _, _ = self.probe(self.conf("google", google_credentials_file=bad), wav)
        self.assertEqual(rc, 1)
        self.assertIn("invalid_grant: Invalid JWT Signature.", runs[0]["error"])

    def test_google_refuses_non_wav(self):
        rc, runs, _, _ = self.probe(self.conf("google"), b"OggS" + pcm(100), ctype="audio/ogg")
        self.assertEqual(rc, 1)
        self.assertIn("only WAV", runs[0]["error"])

    def test_none_engine(self):
        rc, runs, _, _ = self.probe(self.conf("none"), b"RIFF")
        self.assertEqual(rc, 1)
        self.assertIn("no speech-to-text engine is configured", runs[0]["error"])

    # ---- the sandbox's own answers, by hand

    def multipart(self, fields, filename, data):
        b = "cbtestboundary"
        out = b""
        for k, v in fields:
            out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (b, k, v)).encode()
        out += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n" % (b, filename)).encode()
        out += data + ("\r\n--%s--\r\n" % b).encode()
        return out, {"Content-Type": "multipart/form-data; boundary=" + b}

    def test_sandbox_openai_answers(self):
        body, hdrs = self.multipart([("model", "whisper-1")], "notes.txt", b"hello")
        r = self.sb.request("POST", "/v1/audio/transcriptions", body, hdrs, token=OPENAI_KEY)
        self.assertEqual(r.status, 400)
        self.assertEqual(r.body["error"]["message"],
                         "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', "
                         "'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']")
        body, hdrs = self.multipart([], "a.wav", b"RIFF")
        r = self.sb.request("POST", "/v1/audio/transcriptions", body, hdrs, token=OPENAI_KEY)
        self.assertEqual((r.status, r.body["error"]["message"]),
                         (400, "you must provide a model parameter"))
        data = pcm(16000)
        wav = wav_header(8000, 1, 16, len(data)) + data
        for fmt, want in (("text", b"Thank you for calling. This is the sandbox transcript.\n"),
                          ("srt", b"1\n00:00:00,000 --> 00:00:01,000\n"),
                          ("vtt", b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n")):
            body, hdrs = self.multipart([("model", "whisper-1"), ("response_format", fmt)],
                                        "a.wav", wav)
            r = self.sb.request("POST", "/v1/audio/transcriptions", body, hdrs, token=OPENAI_KEY)
            self.assertEqual(r.status, 200)
            self.assertTrue(r.raw.startswith(want), r)
        big = b"\x00" * (25 * MIB + 100)
        body, hdrs = self.multipart([("model", "whisper-1")], "a.wav", big)
        r = self.sb.request("POST", "/v1/audio/transcriptions", body, hdrs, token=OPENAI_KEY,
                            timeout=60)
        self.assertEqual(r.status, 413)
        self.assertEqual(r.body, {"error": {
            "message": "Maximum content size limit (26214400) exceeded (%d bytes read)"
                       % len(body), "type": "server_error", "param": None, "code": None}})

    def test_sandbox_google_answers(self):
        data = pcm(8000 * 2 * 61)
        wav = wav_header(8000, 1, 16, len(data)) + data
        req = {"config": {"encoding": "LINEAR16", "sampleRateHertz": 8000,
                          "languageCode": "en-US"},
               "audio": {"content": base64.b64encode(wav).decode()}}
        path = "/v1/speech:recognize?key=" + GOOGLE_KEY
        r = self.sb.request("POST", path, req)
        self.assertEqual(r.status, 400)
        self.assertEqual(r.body, {"error": {
            "code": 400, "status": "INVALID_ARGUMENT",
            "message": "Sync input too long. For audio longer than 1 min use "
                       "LongRunningRecognize with a 'uri' parameter."}})
        short = wav_header(8000, 1, 16, 16000) + data[:16000]
        req["audio"]["content"] = base64.b64encode(short).decode()
        req["config"]["sampleRateHertz"] = 16000
        r = self.sb.request("POST", path, req)
        self.assertEqual(r.status, 400)
        self.assertIn("must either be unspecified or match the value in the WAV header (8000)",
                      r.body["error"]["message"])
        del req["config"]["languageCode"]
        req["config"]["sampleRateHertz"] = 8000
        r = self.sb.request("POST", path, req)
        self.assertEqual(r.status, 400)
        req["config"]["languageCode"] = "en-US"
        req["config"]["encoding"] = "MP3"
        r = self.sb.request("POST", path, req)
        self.assertEqual(r.status, 400)
        self.assertIn("config.encoding", r.body["error"]["message"])
        req["config"]["encoding"] = "LINEAR16"
        r = self.sb.request("POST", "/v1/speech:recognize", req)
        self.assertEqual((r.status, r.body["error"]["status"]), (403, "PERMISSION_DENIED"))
        r = self.sb.request("POST", "/v1/speech:recognize", req, token="ya29.made-up")
        self.assertEqual((r.status, r.body["error"]["status"]), (401, "UNAUTHENTICATED"))
        r = self.sb.request("POST", path, req)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body["results"][0]["resultEndTime"], "1.000s")


if __name__ == "__main__":
    unittest.main(verbosity=2)
