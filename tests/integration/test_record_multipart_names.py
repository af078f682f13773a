"""POST /api/call/record with multipart parts that have no name="..." (name=call_id unquoted,
or no Content-Disposition at all): libmicrohttpd hands such a part to the part handler with a
NULL name, and the handler compared it with strcmp, so one request took the daemon down
(found by tests/fuzz/fuzz_multipart). Now such parts are ignored like unknown fields: the
upload is refused for its missing call_id (422), nothing is stored, the daemon keeps serving."""

import os
import tempfile

import harness
from harness import DaemonTestCase

WAV = (b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00"
       b"\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x08\x00\x00" + b"\x01\x02" * 1024)


class NamelessPartTest(DaemonTestCase):
    autostart = False

    def setUp(self):
        self.store = tempfile.mkdtemp(prefix="cb-rec-")
        os.chmod(self.store, 0o777)  # the daemon may run as another user under scripts/test
        keydir = tempfile.mkdtemp(prefix="cb-key-")
        self.keyfile = os.path.join(keydir, "keys")
        self.daemon = self.new_daemon(
            {"storage": {"backend": "local", "dir": self.store, "key_file": self.keyfile}})
        line = self.daemon.cli("keygen", check=True).stdout.strip()
        os.chmod(keydir, 0o755)
        with open(self.keyfile, "w") as f:
            f.write(line + "\n")
        os.chmod(self.keyfile, 0o600)
        self.daemon.migrate()
        self.daemon.token = self.daemon.apikey(self.agent)
        self.daemon.start()

    def post(self, body, boundary):
        return self.daemon.request(
            "POST", "/api/call/record", body,
            headers={"Content-Type": "multipart/form-data; boundary=" + boundary})

    def test_nameless_parts_are_ignored(self):
        r = self.daemon.initiate({"to": "+14155550123"})
        self.assertStatus(r, 202)
        cid = r.body["call_id"]
        b = "cbfuzzregress"
        audio = ("--%s\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.wav\"\r\n"
                 "Content-Type: audio/wav\r\n\r\n" % b).encode() + WAV + b"\r\n"
        cases = {
            "name unquoted": ("--%s\r\nContent-Disposition: form-data; name=call_id\r\n\r\n%s\r\n"
                              % (b, cid)).encode() + audio + ("--%s--\r\n" % b).encode(),
            "no disposition": ("--%s\r\nContent-Type: text/plain\r\n\r\n%s\r\n"
                               % (b, cid)).encode() + audio + ("--%s--\r\n" % b).encode(),
        }
        for what, body in cases.items():
            with self.subTest(what):
                self.assertError(self.post(body, b), 422, "missing_field")
                self.assertTrue(self.daemon.running())
        self.assertEqual(self.daemon.count("recordings"), 0)
        self.assertEqual([n for _, _, ns in os.walk(self.store) for n in ns], [])
        # And the daemon still takes a well-formed upload.
        good = ("--%s\r\nContent-Disposition: form-data; name=\"call_id\"\r\n\r\n%s\r\n"
                % (b, cid)).encode() + audio + ("--%s--\r\n" % b).encode()
        self.assertStatus(self.post(good, b), 201)


if __name__ == "__main__":
    harness.main()
