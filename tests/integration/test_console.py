"""GET /console/: the agent console built into the binary from src/console/ (issue 14): the
page and its modules with their content types, strong ETags (304), Cache-Control, the
Content-Security-Policy from [console] frame_ancestors, HEAD, the /console redirect, 404 for
files it does not have (path traversal included), the Voice SDK or the 404 that says it was
not built in, [console] enabled = false, and --check-config on frame_ancestors."""

import re

import harness
from harness import DaemonTestCase

CSP_DEFAULT = ("default-src 'self'; connect-src 'self' wss://*.twilio.com https://*.twilio.com; "
               "media-src 'self' blob:; img-src 'self' data:; frame-ancestors 'self'")
TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}


def media(resp):
    return (resp.headers.get("Content-Type") or "").split(";")[0].strip()


class ConsoleTest(DaemonTestCase):
    def get(self, path, **kw):
        return self.daemon.get(path, token=None, **kw)

    def test_page_is_public_html_with_its_headers(self):
        resp = self.get("/console/")
        self.assertStatus(resp, 200)
        self.assertEqual(media(resp), "text/html")
        self.assertIn("charset=utf-8", resp.headers.get("Content-Type"))
        self.assertIn(b"Sign in to callbridge", resp.raw)
        self.assertRegex(resp.headers.get("ETag", ""), r'^"[0-9a-f]{32}"$')
        self.assertEqual(resp.headers.get("Cache-Control"), "no-cache")
        self.assertEqual(resp.headers.get("Content-Security-Policy"), CSP_DEFAULT)
        self.assertEqual(resp.headers.get("X-Content-Type-Options"), "nosniff")
        self.assertEqual(self.get("/console/index.html").raw, resp.raw)

    def test_every_file_the_page_and_modules_name_is_served_with_its_type(self):
        """index.html's stylesheet and scripts, and each module's imports, transitively."""
        page = self.get("/console/").raw.decode()
        todo = re.findall(r'(?:href|src)="([a-z0-9_.-]+\.(?:css|js))"', page)
        self.assertIn("app.js", todo)
        self.assertIn("app.css", todo)
        seen = set()
        while todo:
            name = todo.pop()
            if name in seen or name == "twilio.min.js":
                continue
            seen.add(name)
            resp = self.get("/console/" + name)
            self.assertStatus(resp, 200)
            self.assertEqual(media(resp), TYPES[name[name.rindex("."):]], name)
            self.assertEqual(resp.headers.get("Cache-Control"), "no-cache", name)
            if name.endswith(".js"):
                todo += re.findall(r"from '\./([a-z0-9_.-]+\.js)'", resp.raw.decode())
        self.assertGreaterEqual(len(seen), 10, seen)

    def test_if_none_match_answers_304_without_a_body(self):
        for path in ("/console/", "/console/app.js", "/console/app.css"):
            etag = self.get(path).headers["ETag"]
            for given in (etag, "W/" + etag, '"other", ' + etag, "*"):
                resp = self.get(path, headers={"If-None-Match": given})
                self.assertEqual((resp.status, resp.raw), (304, b""), (path, given))
                self.assertEqual(resp.headers.get("ETag"), etag)
                self.assertEqual(resp.headers.get("Cache-Control"), "no-cache")
            self.assertStatus(self.get(path, headers={"If-None-Match": '"x"'}), 200)
        self.assertNotEqual(self.get("/console/app.js").headers["ETag"],
                            self.get("/console/app.css").headers["ETag"])

    def test_head_has_the_headers_and_no_body(self):
        full = self.get("/console/app.js")
        resp = self.daemon.request("HEAD", "/console/app.js", token=None)
        self.assertEqual((resp.status, resp.raw), (200, b""))
        self.assertEqual(resp.headers.get("Content-Length"), str(len(full.raw)))
        self.assertEqual(resp.headers.get("ETag"), full.headers.get("ETag"))
        self.assertEqual(media(resp), "text/javascript")

    def test_console_without_slash_redirects_keeping_the_query(self):
        resp = self.get("/console")
        self.assertEqual(resp.status, 301)
        self.assertEqual(resp.headers.get("Location"), "/console/")
        resp = self.get("/console?sfdcIframeOrigin=https%3A%2F%2Fx.lightning.force.com&mode=x")
        self.assertEqual(resp.status, 301)
        self.assertEqual(resp.headers.get("Location"),
                         "/console/?sfdcIframeOrigin=https%3A%2F%2Fx.lightning.force.com&mode=x")

    def test_unknown_files_and_traversal_are_404(self):
        for path in ("/console/nope.js", "/console/package.json", "/console/app.JS",
                     "/console/..%2fREADME.md", "/console/..%2f", "/console/%2e%2e",
                     "/console/%2e%2e%2fCMakeLists.txt", "/console/../openapi.json",
                     "/console/sub/app.js", "/console/app.js%00", "/console/.%2fapp.js",
                     "/console/%2fetc%2fpasswd"):
            with self.subTest(path):
                resp = self.get(path)
                self.assertEqual(resp.status, 404, path)
                self.assertIn(resp.body["error"]["code"], ("not_found", "route_not_found"))
                self.assertNotIn(b"cmake_minimum_required", resp.raw)
                self.assertNotIn(b"root:", resp.raw)

    def test_wrong_method_is_405(self):
        self.assertError(self.daemon.post("/console/", {}, token=None), 405, "method_not_allowed")
        self.assertError(self.daemon.post("/console/app.js", {}, token=None), 405,
                         "method_not_allowed")

    def test_the_voice_sdk_or_a_404_that_says_why(self):
        resp = self.get("/console/twilio.min.js")
        if resp.status == 200:
            self.assertEqual(media(resp), "text/javascript")
            self.assertEqual(resp.headers.get("Cache-Control"), "public, max-age=86400")
            self.assertIn(b"Twilio", resp.raw[:200000])
            self.assertGreater(len(resp.raw), 100000)
        else:
            self.assertError(resp, 404, "not_found")
            self.assertIn("npm ci", resp.body["error"]["message"])


class ConsoleFramedTest(DaemonTestCase):
    config = {"console": {"frame_ancestors":
                          "'self' https://*.lightning.force.com https://acme.my.salesforce.com:443"}}

    def test_frame_ancestors_and_their_scripts_in_the_policy(self):
        resp = self.daemon.get("/console/", token=None)
        self.assertStatus(resp, 200)
        self.assertEqual(resp.headers.get("Content-Security-Policy"),
                         "default-src 'self'; script-src 'self' https://*.lightning.force.com "
                         "https://acme.my.salesforce.com:443; connect-src 'self' "
                         "wss://*.twilio.com https://*.twilio.com; media-src 'self' blob:; "
                         "img-src 'self' data:; frame-ancestors 'self' "
                         "https://*.lightning.force.com https://acme.my.salesforce.com:443")


class ConsoleOffTest(DaemonTestCase):
    config = {"console": {"enabled": "false"}}

    def test_every_console_path_is_404(self):
        for path in ("/console", "/console/", "/console/app.js", "/console/twilio.min.js"):
            with self.subTest(path):
                self.assertError(self.daemon.get(path, token=None), 404, "route_not_found")


class ConsoleConfigTest(DaemonTestCase):
    autostart = False

    def test_check_config_refuses_bad_frame_ancestors(self):
        d = self.new_daemon()
        for bad in ("'self'; script-src *", "*", "https://", "'none' 'self'", "javascript:x",
                    "https://a.com/path", "'unsafe-inline'", " "):
            with self.subTest(bad):
                d.write_config({"console": {"frame_ancestors": bad}})
                p = d.cli("--check-config", "-c", d.conf_path)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("[console] frame_ancestors", p.stderr)
        for good in ("'none'", "'self' https://*.force.com http://localhost:8080"):
            with self.subTest(good):
                d.write_config({"console": {"frame_ancestors": good}})
                p = d.cli("--check-config", "-c", d.conf_path)
                self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    harness.main()
