"""Twilio request signing for tests, written from Twilio's documented algorithm (not from
callbridge's code): base64(HMAC-SHA1(auth token, URL + each POST parameter sorted by name,
name then value)). JSON bodies are signed over the URL alone, which carries bodySHA256."""

import base64
import hashlib
import hmac
import urllib.parse


def signature(token, url, params=()):
    data = url + "".join(k + v for k, v in sorted(set(params)))
    mac = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def form_request(token, public_url, target, params):
    """(body bytes, headers) of a signed form webhook POSTed to `target`."""
    params = list(params.items()) if isinstance(params, dict) else list(params)
    body = urllib.parse.urlencode(params).encode()
    sig = signature(token, public_url + target, params)
    return body, {"Content-Type": "application/x-www-form-urlencoded",
                  "X-Twilio-Signature": sig}


def json_request(token, public_url, path, body_bytes):
    """(target, headers) of a signed JSON webhook: bodySHA256 goes into the query."""
    target = path + ("&" if "?" in path else "?") + "bodySHA256=" + \
        hashlib.sha256(body_bytes).hexdigest()
    sig = signature(token, public_url + target)
    return target, {"Content-Type": "application/json", "X-Twilio-Signature": sig}
