"""Browser sessions in tests: sign in with an API key and carry the `cb_session` cookie and
its CSRF token the way a browser (and the console) does."""

import re


def cookie_of(resp):
    """The cb_session value a Set-Cookie of `resp` sets, or None ('' when it clears it)."""
    for v in resp.headers.get_all("Set-Cookie") or []:
        m = re.match(r"\s*cb_session=([^;]*)", v)
        if m:
            return m.group(1)
    return None


class Browser:
    """A browser's view of one daemon: its session cookie and CSRF token."""

    def __init__(self, daemon, cookie=None, csrf=None):
        self.d = daemon
        self.cookie = cookie
        self.csrf = csrf

    def sign_in(self, key):
        r = self.d.post("/auth/session", {"api_key": key}, token=None)
        if r.status == 201:
            self.cookie = cookie_of(r)
            self.csrf = r.body["csrf_token"]
        return r

    def request(self, method, path, body=None, csrf=True, headers=None, **kw):
        h = {"Cookie": "cb_session=%s" % self.cookie} if self.cookie else {}
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        kw.setdefault("token", None)
        return self.d.request(method, path, body, headers=h, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)
