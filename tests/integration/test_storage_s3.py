"""Recording storage through the real cb_storage code (tests/tools/storage_probe): the `s3`
provider against the sandbox's S3 emulation (SigV4 verified, multipart, ranges, faults), the
sandbox's S3 answers to hand-signed requests (EntityTooSmall, InvalidPart, NoSuchUpload,
InvalidRange, NoSuchBucket, AccessDenied), and the same put/get/range/abort checks against the
`local` provider."""

import datetime
import hashlib
import hmac
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse

import harness

KEY_ID = "AKIACALLBRIDGETEST"
SECRET = "s3cr3t/For+Tests/0123456789abcdefghijklmn"
MIB = 1024 * 1024


def probe_bin():
    """tests/tools/storage_probe: $CB_STORAGE_PROBE, else beside the build's tests."""
    p = os.environ.get("CB_STORAGE_PROBE")
    if not p and os.environ.get("CB_BUILD_DIR"):
        p = os.path.join(os.environ["CB_BUILD_DIR"], "tests", "cb-storage-probe")
    if not p or not os.access(p, os.X_OK):
        p = harness.find_binary("CB_STORAGE_PROBE_UNSET", os.path.join("tests", "storage_probe"))
    return p


class ProbeMixin:
    """Run storage_probe against self.conf."""

    def probe(self, *args, data=None, conf=None):
        proc = subprocess.run([probe_bin(), "-c", conf or self.conf] + list(args), input=data,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")

    def put(self, key, data, **kw):
        rc, _, err = self.probe("put", key, data=data, **kw)
        self.assertEqual(rc, 0, err)

    def get(self, key, off, length):
        rc, out, err = self.probe("get", key, str(off), str(length))
        self.assertEqual(rc, 0, err)
        return out

    def size(self, key):
        rc, out, err = self.probe("size", key)
        self.assertIn(rc, (0, 3), err)
        return None if rc == 3 else int(out)

    def check_round_trip(self, key, data):
        self.put(key, data)
        self.assertEqual(self.size(key), len(data))
        self.assertEqual(self.get(key, 0, len(data)), data)
        self.assertEqual(self.get(key, 3, 5), data[3:8])

    def check_read_past_end_fails(self, key, data):
        rc, _, err = self.probe("get", key, str(len(data) - 2), "10")
        self.assertEqual(rc, 1)
        self.assertTrue(err.strip(), "no error message")


class S3Storage(ProbeMixin, unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cb-s3-")
        secret_file = os.path.join(self.dir, "secret")
        with open(secret_file, "w") as f:
            f.write(SECRET + "\n")
        self.sb = harness.Sandbox(args=["--s3-access-key-id", KEY_ID,
                                        "--s3-secret-access-key-file", secret_file,
                                        "--s3-bucket", "recs", "--s3-region", "eu-west-3"])
        self.addCleanup(self._stop)
        self.sb.start()
        self.conf = self.write_conf("cb.conf", secret_file)

    def write_conf(self, name, secret_file, region="eu-west-3", bucket="recs"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write("[storage]\nbackend = s3\ns3_endpoint = %s\ns3_region = %s\n"
                    "s3_bucket = %s\ns3_access_key_id = %s\ns3_secret_access_key_file = %s\n"
                    "s3_timeout_ms = 20000\n"
                    % (self.sb.base_url, region, bucket, KEY_ID, secret_file))
        return path

    def _stop(self):
        rc = self.sb.stop()
        reports = self.sb.sanitizer_reports()
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if rc not in (0, None) or reports or (result and (result.errors or result.failures)):
            print("\n---- sandbox log (%s) ----\n%s\n---- end ----" % (self.id(),
                                                                      self.sb.log_tail()))
        self.sb.remove_files()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.assertIn(rc, (0, None), "sandbox exit code on SIGTERM")
        self.assertEqual(reports, [], "sanitizer reports")

    def state(self):
        st = self.sb.control("state")
        counts = {k: v for k, v in st["requests"].items() if k.startswith("s3.")}
        return st["s3"], counts

    def objects(self):
        return {o["key"]: o for o in self.state()[0]["objects"]}

    # ---- through the provider

    def test_small_object_round_trip(self):
        data = b"RIFF small recording \x00\x01\x02" * 10
        self.check_round_trip("recordings/c1/r1", data)
        obj = self.objects()["recordings/c1/r1"]
        self.assertEqual(obj["size"], len(data))
        self.assertEqual(obj["sha256"], hashlib.sha256(data).hexdigest())
        s3, counts = self.state()
        self.assertEqual(counts.get("s3.put"), 1)
        self.assertNotIn("s3.multipart.create", counts)
        self.check_read_past_end_fails("recordings/c1/r1", data)

    def test_empty_object(self):
        self.put("recordings/c1/empty", b"")
        self.assertEqual(self.size("recordings/c1/empty"), 0)

    def test_multipart_20_mib(self):
        data = os.urandom(20 * MIB)
        self.put("recordings/c2/big", data)
        s3, counts = self.state()
        self.assertEqual(counts.get("s3.multipart.create"), 1)
        self.assertEqual(counts.get("s3.multipart.part"), 3)  # 8 + 8 + 4 MiB
        self.assertEqual(counts.get("s3.multipart.complete"), 1)
        self.assertEqual(s3["uploads"], 0)
        obj = self.objects()["recordings/c2/big"]
        self.assertEqual(obj["sha256"], hashlib.sha256(data).hexdigest())
        self.assertTrue(obj["etag"].endswith('-3"'), obj["etag"])
        self.assertEqual(self.size("recordings/c2/big"), len(data))
        for off, n in ((8 * MIB - 10, 20), (16 * MIB - 1, 2), (0, 1), (len(data) - 7, 7),
                       (5 * MIB, 6 * MIB)):
            self.assertEqual(self.get("recordings/c2/big", off, n), data[off:off + n],
                             "range %d+%d" % (off, n))

    def test_exactly_one_part_is_a_single_put(self):
        self.put("recordings/c2/eight", b"\x5a" * (8 * MIB))
        _, counts = self.state()
        self.assertEqual(counts.get("s3.put"), 1)
        self.assertNotIn("s3.multipart.create", counts)

    def test_remove(self):
        self.put("recordings/c3/r", b"to be removed")
        rc, _, err = self.probe("rm", "recordings/c3/r")
        self.assertEqual(rc, 0, err)
        self.assertIsNone(self.size("recordings/c3/r"))
        rc, _, err = self.probe("rm", "recordings/c3/r")  # missing is fine
        self.assertEqual(rc, 0, err)
        rc, _, err = self.probe("get", "recordings/c3/r", "0", "1")
        self.assertEqual(rc, 1)
        self.assertIn("NoSuchKey", err)

    def test_put_abort_leaves_nothing(self):
        rc, _, err = self.probe("put-abort", "recordings/c4/small", data=b"abc" * 100)
        self.assertEqual(rc, 0, err)
        rc, _, err = self.probe("put-abort", "recordings/c4/big", data=os.urandom(17 * MIB))
        self.assertEqual(rc, 0, err)
        s3, counts = self.state()
        self.assertEqual(s3["objects"], [])
        self.assertEqual(s3["uploads"], 0)
        self.assertEqual(counts.get("s3.multipart.create"), 1)
        self.assertEqual(counts.get("s3.multipart.part"), 2)
        self.assertEqual(counts.get("s3.multipart.abort"), 1)
        self.assertNotIn("s3.put", counts)
        self.assertNotIn("s3.multipart.complete", counts)

    def test_wrong_secret_is_refused(self):
        wrong = os.path.join(self.dir, "wrong")
        with open(wrong, "w") as f:
            f.write("not-the-secret\n")
        conf = self.write_conf("wrong.conf", wrong)
        rc, _, err = self.probe("put", "recordings/c5/r", data=b"x" * 1000, conf=conf)
        self.assertEqual(rc, 1)
        self.assertIn("SignatureDoesNotMatch", err)
        self.assertIn("403", err)
        self.assertNotIn("not-the-secret", err)
        rc, _, err = self.probe("put", "recordings/c5/r", data=os.urandom(9 * MIB), conf=conf)
        self.assertEqual(rc, 1)
        self.assertIn("SignatureDoesNotMatch", err)
        s3, _ = self.state()
        self.assertEqual((s3["objects"], s3["uploads"]), ([], 0))

    def test_wrong_region_and_bucket(self):
        secret_file = os.path.join(self.dir, "secret")
        rc, _, err = self.probe("put", "k", data=b"x",
                                conf=self.write_conf("region.conf", secret_file, region="us-east-1"))
        self.assertEqual(rc, 1)
        self.assertIn("AuthorizationHeaderMalformed", err)
        rc, _, err = self.probe("put", "k", data=b"x",
                                conf=self.write_conf("bucket.conf", secret_file, bucket="other"))
        self.assertEqual(rc, 1)
        self.assertIn("NoSuchBucket", err)

    def test_faults_fail_cleanly(self):
        self.put("recordings/c6/kept", b"kept")
        self.sb.control("faults", {"error_rate": 1.0})
        rc, _, err = self.probe("put", "recordings/c6/r", data=b"y" * 100)
        self.assertEqual(rc, 1)
        self.assertIn("InternalError", err)
        rc, _, err = self.probe("get", "recordings/c6/kept", "0", "4")
        self.assertEqual(rc, 1)
        self.assertIn("500", err)
        self.sb.control("faults", {"error_rate": 0.0, "rate_limit_rate": 1.0})
        rc, _, err = self.probe("size", "recordings/c6/kept")
        self.assertEqual(rc, 1)
        self.assertIn("503", err)
        self.sb.control("faults", {})
        self.assertEqual(list(self.objects()), ["recordings/c6/kept"])

    # ---- hand-signed requests (an independent SigV4 signer)

    def s3(self, method, key, query="", body=b"", headers=None, sign=True):
        """A SigV4-signed request on /recs/<key>?<query> (query already canonical)."""
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        host = "127.0.0.1:%d" % self.sb.port
        payload = hashlib.sha256(body).hexdigest()
        hdrs = {"host": host, "x-amz-date": now, "x-amz-content-sha256": payload}
        hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
        names = sorted(hdrs)
        path = "/recs/" + urllib.parse.quote(key)
        creq = "\n".join([method, path, query, "".join("%s:%s\n" % (n, hdrs[n]) for n in names),
                          ";".join(names), hdrs["x-amz-content-sha256"]])
        scope = "%s/eu-west-3/s3/aws4_request" % now[:8]
        sts = "\n".join(["AWS4-HMAC-SHA256", now, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        k = ("AWS4" + SECRET).encode()
        for part in (now[:8], "eu-west-3", "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        if sign:
            hdrs["authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                                     "Signature=%s" % (KEY_ID, scope, ";".join(names), sig))
        del hdrs["host"]
        target = path + ("?" + query if query else "")
        return self.sb.request(method, target, body, headers=hdrs)

    def code_of(self, resp):
        raw = resp.raw if isinstance(resp.raw, bytes) else resp.raw.encode()
        text = raw.decode("utf-8", "replace")
        return text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in text else None

    def upload(self, key):
        resp = self.s3("POST", key, "uploads=")
        self.assertEqual(resp.status, 200, resp)
        text = resp.raw.decode() if isinstance(resp.raw, bytes) else resp.raw
        return text.split("<UploadId>")[1].split("</UploadId>")[0]

    def part(self, key, uid, n, data):
        resp = self.s3("PUT", key, "partNumber=%d&uploadId=%s" % (n, uid), data)
        self.assertEqual(resp.status, 200, resp)
        return resp.headers["ETag"]

    def complete(self, key, uid, parts):
        xml = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
            "<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>" % p for p in parts)
        return self.s3("POST", key, "uploadId=" + uid, xml.encode())

    def test_sandbox_multipart_rules(self):
        uid = self.upload("m/small")
        e1 = self.part("m/small", uid, 1, b"a" * 1000)
        e2 = self.part("m/small", uid, 2, b"b" * 1000)
        self.assertEqual(self.code_of(self.complete("m/small", uid, [(1, e1), (2, e2)])),
                         "EntityTooSmall")
        self.assertEqual(self.code_of(self.complete("m/small", uid, [(1, '"0000"')])),
                         "InvalidPart")
        self.assertEqual(self.code_of(self.complete("m/small", uid, [(2, e2), (1, e1)])),
                         "InvalidPartOrder")
        for junk in ("2x", " 2", "+2"):  # a PartNumber is a whole number, nothing around it
            self.assertEqual(self.code_of(self.complete("m/small", uid, [(junk, e2)])),
                             "MalformedXML", junk)
        resp = self.complete("m/small", uid, [(2, e2)])  # one (last) part may be small
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.objects()["m/small"]["size"], 1000)
        self.assertEqual(self.code_of(self.complete("m/small", uid, [(2, e2)])), "NoSuchUpload")
        resp = self.s3("DELETE", "m/small", "uploadId=" + uid)
        self.assertEqual((resp.status, self.code_of(resp)), (404, "NoSuchUpload"))

    def test_sandbox_ranges_and_errors(self):
        self.assertEqual(self.s3("PUT", "r/obj", body=b"0123456789").status, 200)
        resp = self.s3("GET", "r/obj", headers={"Range": "bytes=2-4"})
        self.assertEqual((resp.status, resp.headers["Content-Range"]), (206, "bytes 2-4/10"))
        resp = self.s3("GET", "r/obj", headers={"Range": "bytes=-3"})
        self.assertEqual(resp.headers["Content-Range"], "bytes 7-9/10")
        resp = self.s3("GET", "r/obj", headers={"Range": "bytes=10-12"})
        self.assertEqual((resp.status, self.code_of(resp)), (416, "InvalidRange"))
        for bad in ("bytes=5", "bytes= 2-4", "bytes=+2-4", "bytes=2-+4", "bytes=--3"):
            resp = self.s3("GET", "r/obj", headers={"Range": bad})  # not a byte range
            self.assertEqual((resp.status, self.code_of(resp)), (416, "InvalidRange"), bad)
        self.assertEqual(resp.headers["Content-Range"], "bytes */10")
        resp = self.s3("HEAD", "r/obj")
        self.assertEqual((resp.status, resp.headers["Content-Length"]), (200, "10"))
        resp = self.s3("GET", "r/none")
        self.assertEqual((resp.status, self.code_of(resp)), (404, "NoSuchKey"))
        resp = self.s3("GET", "r/obj", sign=False)
        self.assertEqual((resp.status, self.code_of(resp)), (403, "AccessDenied"))
        resp = self.s3("PUT", "r/obj", body=b"x", headers={"x-amz-content-sha256": "0" * 64})
        self.assertEqual((resp.status, self.code_of(resp)), (400, "XAmzContentSHA256Mismatch"))
        self.assertEqual(self.objects()["r/obj"]["size"], 10)


class LocalStorage(ProbeMixin, unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cb-local-")
        self.root = os.path.join(self.dir, "store", "recordings")  # created by the provider
        self.conf = os.path.join(self.dir, "cb.conf")
        with open(self.conf, "w") as f:
            f.write("[storage]\nbackend = local\ndir = %s\n" % self.root)
        self.addCleanup(shutil.rmtree, self.dir, True)

    def files(self):
        out = []
        for base, _, names in os.walk(self.root):
            out += [os.path.relpath(os.path.join(base, n), self.root) for n in names]
        return sorted(out)

    def test_round_trip_and_ranges(self):
        data = os.urandom(3 * MIB + 17)
        self.check_round_trip("recordings/c1/r1", data)
        self.assertEqual(self.get("recordings/c1/r1", MIB - 3, 9), data[MIB - 3:MIB + 6])
        self.check_read_past_end_fails("recordings/c1/r1", data)
        self.assertEqual(self.files(), ["recordings/c1/r1"])
        mode = os.stat(os.path.join(self.root, "recordings/c1/r1")).st_mode & 0o777
        self.assertEqual(mode, 0o600)
        self.put("recordings/c1/r1", b"replaced")
        self.assertEqual(self.get("recordings/c1/r1", 0, 8), b"replaced")

    def test_abort_and_remove_leave_nothing(self):
        rc, _, err = self.probe("put-abort", "recordings/c2/r", data=os.urandom(MIB))
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.files(), [])
        self.assertIsNone(self.size("recordings/c2/r"))
        self.put("recordings/c2/r", b"x")
        self.assertEqual(self.probe("rm", "recordings/c2/r")[0], 0)
        self.assertEqual(self.probe("rm", "recordings/c2/r")[0], 0)
        self.assertEqual(self.files(), [])

    def test_symlink_is_not_followed_and_bad_keys(self):
        outside = os.path.join(self.dir, "outside")
        os.makedirs(outside)
        with open(os.path.join(outside, "secret"), "wb") as f:
            f.write(b"outside the store")
        self.put("a/keep", b"k")
        os.symlink(outside, os.path.join(self.root, "link"))
        rc, _, err = self.probe("get", "link/secret", "0", "4")
        self.assertEqual(rc, 1)
        rc, _, err = self.probe("put", "link/new", data=b"x")
        self.assertEqual(rc, 1)
        self.assertEqual(os.listdir(outside), ["secret"])
        for bad in ("../x", "/abs", "a//b", "a b", "caf\u00e9", "a/./b"):
            rc, _, err = self.probe("put", bad, data=b"x")
            self.assertEqual(rc, 1, bad)

    def test_unwritable_dir_is_a_clear_error(self):
        if os.geteuid() == 0:
            self.skipTest("root writes anywhere")
        ro = os.path.join(self.dir, "ro")
        os.makedirs(ro, 0o500)
        conf = os.path.join(self.dir, "ro.conf")
        with open(conf, "w") as f:
            f.write("[storage]\nbackend = local\ndir = %s\n" % os.path.join(ro, "sub"))
        rc, _, err = self.probe("size", "k", conf=conf)
        self.assertEqual(rc, 1)
        self.assertIn("cannot be created", err)


if __name__ == "__main__":
    harness.main()
