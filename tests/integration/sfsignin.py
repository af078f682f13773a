"""Sign in with Salesforce in tests: what a browser does between the daemon and the sandbox's
authorize page (follow the redirect, pick the user's "Log In" form, post it, follow the
redirect back to the daemon's callback)."""

import html
import re
import urllib.parse

from sessions import Browser, cookie_of

SF_LOGIN_HEADERS = {"Accept": "text/html,application/xhtml+xml"}


def split_url(url):
    u = urllib.parse.urlsplit(url)
    return u.port, u.path + ("?" + u.query if u.query else "")


def forms(page):
    """[(fields dict, button name/value)] of each <form> on an HTML page."""
    out = []
    for body in re.findall(r"<form[^>]*>(.*?)</form>", page, re.S):
        fields = {html.unescape(n): html.unescape(v) for n, v in
                  re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', body)}
        button = re.search(r'<button name="([^"]*)" value="([^"]*)"', body)
        if button:
            fields[button.group(1)] = button.group(2)
        out.append(fields)
    return out


class SalesforceLogin:
    """One sign-in attempt: login → authorize page → its answer → the daemon's callback."""

    def __init__(self, daemon, sandbox):
        self.d = daemon
        self.sb = sandbox

    def start(self, return_to="/console/", hint=None):
        """GET /auth/salesforce/login; returns the daemon's answer (302 to authorize)."""
        q = {"return_to": return_to}
        if hint:
            q["login_hint"] = hint
        return self.d.get("/auth/salesforce/login?" + urllib.parse.urlencode(q), token=None,
                          headers=SF_LOGIN_HEADERS)

    def authorize(self, location, username, action="login"):
        """Open the authorize page and press the user's button (or Deny); returns the
        sandbox's 302 answer."""
        port, target = split_url(location)
        page = self.sb.request("GET", target)
        assert page.status == 200, page
        chosen = None
        for f in forms(page.raw.decode()):
            if action == "deny" and f.get("action") == "deny":
                chosen = f
            elif action == "login" and f.get("username", "").lower() == username.lower():
                chosen = f
        assert chosen is not None, "no %s form for %s on %r" % (action, username, page.raw)
        return self.sb.request("POST", "/services/oauth2/authorize",
                               urllib.parse.urlencode(chosen),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})

    def callback(self, location):
        """GET the daemon's callback the sandbox redirected to."""
        port, target = split_url(location)
        assert port == self.d.port, location
        return self.d.get(target, token=None, headers=SF_LOGIN_HEADERS)

    def sign_in(self, username, return_to="/console/"):
        """The whole dance; returns (callback answer, Browser with the cookie or None)."""
        r = self.start(return_to, hint=username)
        assert r.status == 302, r
        back = self.authorize(r.headers["Location"], username)
        assert back.status == 302, back
        done = self.callback(back.headers["Location"])
        b = None
        if done.status == 302 and cookie_of(done):
            b = Browser(self.d, cookie_of(done))
            s = b.get("/auth/session")
            b.csrf = s.body["csrf_token"] if s.status == 200 else None
        return done, b
