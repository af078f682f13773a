"""The offline speech engine (src/stt/offline.c) on real audio, through cb-stt-offline-probe:
espeak-ng speaks a sales sentence, sox makes other shapes of it (stereo 44.1 kHz, FLAC, 8 kHz
mu-law, silence, a pause between two sentences), and the engine must decode each through
libsndfile/libsamplerate into PocketSphinx: key words in the text or spotted, segments timed
from the start of the recording, unknown keywords reported as skipped, bad audio refused.

Skips (with the reason) when this build has no PocketSphinx or espeak-ng/sox are missing.
Needs no database: the engine is driven directly."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SENTENCE = "we would like a demo of the pricing next week"
PHRASES = ["demo", "pricing", "discount", "Acme Widgetron"]


def probe_bin():
    """$CB_STT_OFFLINE_PROBE, else beside the build's tests, else the newest build*/tests."""
    p = os.environ.get("CB_STT_OFFLINE_PROBE")
    if not p and os.environ.get("CB_BUILD_DIR"):
        p = os.path.join(os.environ["CB_BUILD_DIR"], "tests", "cb-stt-offline-probe")
    if not p or not os.access(p, os.X_OK):
        p = harness.find_binary("CB_STT_OFFLINE_PROBE",
                                os.path.join("tests", "cb-stt-offline-probe"))
    return p


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, **kw)


class OfflineSttTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("espeak-ng", "sox"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest("%s is not installed (apt install espeak-ng sox)" % tool)
        try:
            cls.probe = probe_bin()
        except RuntimeError as e:
            raise unittest.SkipTest(str(e))
        p = run([cls.probe, "/dev/null"])
        if p.returncode == 77:
            raise unittest.SkipTest("callbridge was built without PocketSphinx: "
                                    + p.stderr.strip())
        cls.dir = tempfile.mkdtemp(prefix="cb-stt-offline-")
        cls.wav = cls.path("sentence.wav")
        run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", cls.wav, SENTENCE], check=True)
        # A recording is never digitally silent: a little line noise (-49 dBFS RMS).
        cls.sox("-m", "-v", "1", cls.wav, "-v", "1",
                "|sox %s -p synth whitenoise vol 0.006" % cls.wav, cls.path("noisy.wav"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(getattr(cls, "dir", ""), ignore_errors=True)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    @classmethod
    def sox(cls, *args):
        run(["sox", "-q"] + list(args), check=True)

    def transcribe(self, *files, phrases=PHRASES, ok=True):
        """Run the probe; the JSON line of each file, in order."""
        cmd = [self.probe]
        for ph in phrases or []:
            cmd += ["-k", ph]
        p = run(cmd + list(files))
        bad = [ln for ln in p.stderr.splitlines()
               if any(m in ln for m in harness.SANITIZER_MARKERS)]
        self.assertFalse(bad, "sanitizer report:\n" + p.stderr)
        if ok:
            self.assertEqual(p.returncode, 0, "probe failed:\n%s%s" % (p.stdout, p.stderr))
        lines = [json.loads(ln) for ln in p.stdout.splitlines()]
        self.assertEqual(len(lines), len(files), p.stdout + p.stderr)
        return lines, p.stderr

    def assertKeyWords(self, result, words=("demo", "pricing")):
        spotted = {k["word"] for k in result.get("keywords_spotted", [])}
        text = result["text"].split()
        for w in words:
            self.assertTrue(w in text or w in spotted,
                            "%r neither in the text nor spotted: %s" % (w, json.dumps(result)))

    def assertShape(self, result, duration):
        self.assertEqual(result["engine"], "offline")
        self.assertEqual(result["language"], "en")
        self.assertAlmostEqual(result["duration_s"], duration, delta=0.05)
        last = 0.0
        for seg in result["segments"]:
            self.assertLessEqual(last, seg["start"] + 1e-6, result["segments"])
            self.assertLess(seg["start"], seg["end"])
            self.assertLessEqual(seg["end"], duration + 0.05)
            self.assertTrue(seg["text"].strip())
            last = seg["end"]
        self.assertEqual(result["text"], " ".join(s["text"] for s in result["segments"]))
        for k in result.get("keywords_spotted", []):
            self.assertIn(k["word"], [p.lower() for p in PHRASES])
            self.assertTrue(0 <= k["start"] < k["end"] <= duration + 0.05, k)

    def duration(self, path):
        out = run(["soxi", "-D", path], check=True).stdout
        return float(out)

    # ---- tests

    def test_sentence_key_words_and_shapes(self):
        """22 kHz mono, stereo 44.1 kHz, FLAC: the key words come through every one."""
        noisy = self.path("noisy.wav")
        stereo, flac = self.path("stereo44.wav"), self.path("sentence.flac")
        self.sox(noisy, "-r", "44100", "-c", "2", stereo)
        self.sox(noisy, flac)
        lines, stderr = self.transcribe(noisy, stereo, flac)
        for line, f in zip(lines, (noisy, stereo, flac)):
            with self.subTest(os.path.basename(f)):
                self.assertIn("result", line, line)
                self.assertShape(line["result"], self.duration(f))
                self.assertKeyWords(line["result"])
        # "Acme Widgetron" has a word the dictionary lacks: skipped, said so, not an error.
        self.assertEqual(lines[0]["result"]["keywords_skipped"], ["acme widgetron"])
        self.assertIn("widgetron", stderr)

    def test_clean_synthetic_speech(self):
        """espeak-ng's own output, digital silence between words: PocketSphinx does much worse
        on it than with a noise floor (docs/benchmarks.md), so one key word of the two is all
        that is asserted."""
        lines, _ = self.transcribe(self.wav)
        r = lines[0]["result"]
        self.assertShape(r, self.duration(self.wav))
        found = set(r["text"].split()) | {k["word"] for k in r["keywords_spotted"]}
        self.assertTrue(found & {"demo", "pricing"}, r)

    def test_same_audio_same_result(self):
        """A decoder carries nothing from one recording to the next (CMN is reset)."""
        noisy = self.path("noisy.wav")
        lines, _ = self.transcribe(noisy, self.wav, noisy)
        self.assertEqual(lines[0]["result"], lines[2]["result"])

    def test_worker_threads(self):
        """Two threads, a decoder each (made lazily, freed as each thread exits): the same
        results as one thread, file by file."""
        noisy = self.path("noisy.wav")
        files = [noisy, self.wav, noisy, self.wav]
        one, _ = self.transcribe(*files)
        p = run([self.probe, "-j", "2", "-k", "demo", "-k", "pricing", "-k", "discount",
                 "-k", "Acme Widgetron"] + files)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse([ln for ln in p.stderr.splitlines()
                          if any(m in ln for m in harness.SANITIZER_MARKERS)], p.stderr)
        self.assertEqual(p.stderr.count("decoder loaded"), 2, p.stderr)
        two = [json.loads(ln) for ln in p.stdout.splitlines()]
        key = lambda line: (line["file"], json.dumps(line["result"], sort_keys=True))
        self.assertEqual(sorted(map(key, one)), sorted(map(key, two)))

    def test_segments_follow_the_pauses(self):
        """Two sentences 2 s apart: two segments, the second timed after the pause."""
        noisy, pause, two = self.path("noisy.wav"), self.path("pause.wav"), self.path("two.wav")
        self.sox("-n", "-r", "22050", "-c", "1", pause, "synth", "2", "whitenoise", "vol",
                 "0.006")
        self.sox(noisy, pause, noisy, two)
        first = self.duration(noisy)
        lines, _ = self.transcribe(two)
        r = lines[0]["result"]
        self.assertShape(r, self.duration(two))
        self.assertGreaterEqual(len(r["segments"]), 2, r)
        self.assertLess(r["segments"][0]["end"], first + 0.3, r)
        self.assertGreater(r["segments"][-1]["start"], first + 1.5, r)
        spotted = [k for k in r.get("keywords_spotted", []) if k["word"] == "pricing"]
        self.assertTrue(any(k["start"] > first + 2 for k in spotted) or
                        "pricing" in r["segments"][-1]["text"], r)

    def test_telephone_audio_decodes(self):
        """8 kHz mu-law (Twilio's recordings): decoded and resampled; accuracy is not asserted
        (the 16 kHz model does poorly on the phone band, see docs/benchmarks.md)."""
        phone = self.path("phone.wav")
        self.sox(self.path("noisy.wav"), "-r", "8000", "-e", "mu-law", phone)
        lines, _ = self.transcribe(phone)
        self.assertShape(lines[0]["result"], self.duration(phone))

    def test_silence_gives_no_words(self):
        silence = self.path("silence.wav")
        self.sox("-n", "-r", "16000", "-c", "1", "-b", "16", silence, "trim", "0", "3")
        lines, _ = self.transcribe(silence)
        r = lines[0]["result"]
        self.assertEqual(r["text"], "")
        self.assertEqual(r["segments"], [])
        self.assertEqual(r["keywords_spotted"], [])
        self.assertAlmostEqual(r["duration_s"], 3.0, delta=0.01)

    def test_without_phrases_no_keyword_pass(self):
        lines, _ = self.transcribe(self.path("noisy.wav"), phrases=None)
        self.assertNotIn("keywords_spotted", lines[0]["result"])

    def test_undecodable_audio_fails(self):
        junk, webm = self.path("junk.wav"), self.path("call.webm")
        with open(junk, "wb") as f:
            f.write(b"RIFF\x10\x00\x00\x00WAVEjunk" + os.urandom(4000))
        with open(webm, "wb") as f:
            f.write(b"\x1a\x45\xdf\xa3" + os.urandom(4000))
        lines, _ = self.transcribe(junk, webm, ok=False)
        for line in lines:
            self.assertEqual(line.get("outcome"), "fail", line)
            self.assertIn("cannot decode", line["error"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
