"""Recording links in a browser (issue 14, CONSOLE_CONTRACT B): /r/{id} without credentials
sends a browser to the console's sign-in and keeps 401 JSON for API clients; with a session
cookie a page load gets a player page and ?play=1 the audio (Range too) — for the call's own
agent, an admin, or a Salesforce user whom Salesforce lets read the call's Task
(UserRecordAccess, asked with that user's token); anyone else gets 403. Bearer and signed
links are unchanged."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import test_recordings as tr  # noqa: E402
from sessions import Browser  # noqa: E402
from test_salesforce_signin import REP, STRANGER, SignInCase  # noqa: E402

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
AUDIO = {"Accept": "audio/*,*/*;q=0.5"}


class RecordingLinkTest(SignInCase):
    def setUp(self):
        super().setUp()
        p = self.daemon.cli("agent", "add", "sam", "--crm-user-id", STRANGER["Id"], "-c",
                            self.daemon.conf_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.daemon.initiate({"to": tr.TO})
        self.assertEqual(r.status, 202, r)
        self.call_id = r.body["call_id"]
        self.audio = tr.wav(0.5)
        up = self.daemon.request("POST", "/api/call/record?call_id=" + self.call_id, self.audio,
                                 headers={"Content-Type": "audio/wav"})
        self.assertEqual(up.status, 201, up)
        self.rec = up.body["recording_id"]
        self.link = "/r/" + self.rec

        def logged():
            call = self.daemon.get("/api/calls/" + self.call_id).body
            return call["crm"]["log_id"]
        self.task = self.wait_for(logged, 30, "the call's Task in Salesforce")

    def test_no_credentials(self):
        r = self.daemon.get(self.link, token=None, headers=HTML)
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.headers["Location"], "/console/?return_to=" + self.link)
        self.assertError(self.daemon.get(self.link, token=None, headers=AUDIO), 401,
                         "unauthorized")
        self.assertError(self.daemon.get(self.link, token=None), 401, "unauthorized")
        # a session that ended: sign in again; an API client: 401
        forged = Browser(self.daemon, "A" * 43)
        self.assertEqual(forged.get(self.link, headers=HTML).status, 302)
        self.assertError(forged.get(self.link, headers=AUDIO), 401, "unauthorized")

    def test_own_call_player_and_audio(self):
        b = Browser(self.daemon)
        self.assertEqual(b.sign_in(self.daemon.token).status, 201)
        page = b.get(self.link, headers=HTML)
        self.assertEqual(page.status, 200, page)
        self.assertTrue(page.headers["Content-Type"].startswith("text/html"))
        self.assertIn("default-src 'none'", page.headers["Content-Security-Policy"])
        text = page.raw.decode()
        self.assertIn('<audio controls', text)
        self.assertIn('src="%s?play=1"' % self.link, text)
        self.assertIn("Call recording", text)
        whole = b.get(self.link + "?play=1", headers=HTML)
        self.assertEqual(whole.status, 200, whole)
        self.assertEqual(whole.raw, self.audio)
        part = b.get(self.link + "?play=1", headers={"Range": "bytes=0-99", **AUDIO})
        self.assertEqual(part.status, 206, part)
        self.assertEqual(part.raw, self.audio[:100])
        self.assertEqual(b.get(self.link, headers=AUDIO).raw, self.audio)
        missing = b.get("/r/0b7e4a5c-9a4f-4e3b-8341-498512345678", headers=HTML)
        self.assertEqual(missing.status, 404, missing)
        self.assertError(b.get("/r/0b7e4a5c-9a4f-4e3b-8341-498512345678", headers=AUDIO),
                         404, "not_found")

    def test_other_agent_and_admin(self):
        bob = Browser(self.daemon)
        self.assertEqual(bob.sign_in(self.daemon.apikey("bob")).status, 201)
        page = bob.get(self.link, headers=HTML)
        self.assertEqual(page.status, 403, page)
        self.assertTrue(page.headers["Content-Type"].startswith("text/html"))
        self.assertError(bob.get(self.link + "?play=1", headers=HTML), 403, "forbidden")
        admin = Browser(self.daemon)
        self.assertEqual(admin.sign_in(self.daemon.apikey("ops", admin=True)).status, 201)
        self.assertEqual(admin.get(self.link, headers=HTML).status, 200)
        self.assertEqual(admin.get(self.link, headers=AUDIO).raw, self.audio)

    def test_salesforce_user_who_can_read_the_task(self):
        self.sb.seed({"UserRecordAccess": [
            {"UserId": REP["Id"], "RecordId": self.task, "HasReadAccess": True},
            {"UserId": STRANGER["Id"], "RecordId": self.task, "HasReadAccess": False}]})
        _, rita = self.login.sign_in(REP["Username"], return_to=self.link)
        asked = self.sb.count("salesforce.query")
        page = rita.get(self.link, headers=HTML)
        self.assertEqual(page.status, 200, page)
        self.assertEqual(rita.get(self.link + "?play=1", headers=AUDIO).raw, self.audio)
        # asked once with rita's own token, then remembered
        self.assertEqual(self.sb.count("salesforce.query") - asked, 1)
        done, sam = self.login.sign_in(STRANGER["Username"])
        self.assertEqual(sam.get(self.link, headers=HTML).status, 403)
        self.assertError(sam.get(self.link, headers=AUDIO), 403, "forbidden")

    def test_bearer_and_signed_links_unchanged(self):
        self.assertEqual(self.daemon.get(self.link, headers=HTML).raw, self.audio)
        signed = self.daemon.post("/api/recordings/%s/link" % self.rec)
        self.assertEqual(signed.status, 200, signed)
        url = signed.body["url"]
        target = url[url.index("/r/"):]
        self.assertEqual(self.daemon.get(target, token=None, headers=HTML).raw, self.audio)
        bob = self.daemon.apikey("bob")
        self.assertError(self.daemon.get(self.link, token=bob), 404, "not_found")


if __name__ == "__main__":
    harness.main()
