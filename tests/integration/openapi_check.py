"""Every response the integration tests get from the daemon, checked against the OpenAPI
description (docs/openapi.yaml), so the description cannot drift from what the daemon does.

harness.Daemon.request calls check_response() for each exchange, and sse.SseStream
check_event() for each event it reads. A response fails the test (AssertionError naming the
request, the answer and what the description says) when:
  - its (method, path) is not documented, unless the daemon refused it as the router does for
    an unknown path (404) or method (405, with Allow listing exactly the documented methods);
  - its status is not documented for that operation;
  - its Content-Type is not one the response documents, or it has a body where none is
    documented;
  - its JSON body does not match the response's schema (JSON Schema 2020-12, $refs into
    components resolved).

CB_OPENAPI_CHECK: "strict" (default) fails the test; "report" prints the finding to stderr
(and appends it to the file $CB_OPENAPI_REPORT when set) and goes on, for debugging; "off"
skips the checks. $CB_OPENAPI_SEEN names a file to append "METHOD template status" to for
each checked response (which answers the tests exercise).

The description is the JSON the build embeds (<build>/generated/openapi.json, next to the
daemon binary the tests run), else $CB_OPENAPI_JSON, else docs/openapi.yaml (PyYAML).
Needs python3-jsonschema (Debian; 4.10 or newer, which has Draft 2020-12)."""

import json
import os
import re
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("CB_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
YAML_PATH = os.path.join(SOURCE_DIR, "docs", "openapi.yaml")
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")

_lock = threading.Lock()
_spec = None
_validators = {}


class OpenApiMismatch(AssertionError):
    pass


def mode():
    m = os.environ.get("CB_OPENAPI_CHECK", "strict").strip().lower()
    return m if m in ("strict", "report", "off") else "strict"


def spec_path(binary=None):
    """Where the description is read from: the JSON built with `binary`, $CB_OPENAPI_JSON, or
    the YAML source."""
    env = os.environ.get("CB_OPENAPI_JSON")
    if env:
        return env
    binary = binary or os.environ.get("CB_BIN")
    if binary:
        p = os.path.join(os.path.dirname(binary), "generated", "openapi.json")
        if os.path.exists(p):
            return p
    return YAML_PATH


def load(binary=None):
    """The description (loaded once per process)."""
    global _spec
    with _lock:
        if _spec is None:
            path = spec_path(binary)
            with open(path, encoding="utf-8") as f:
                if path.endswith((".yaml", ".yml")):
                    import yaml
                    _spec = yaml.safe_load(f)
                else:
                    _spec = json.load(f)
            _spec["_paths"] = [(re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+",
                                                         re.escape(p)) + "$"), p)
                               for p in _spec["paths"]]
        return _spec


def resolve(spec, node):
    """Follow a local $ref ("#/components/...") to what it names."""
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        target = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def template_of(spec, path):
    """The documented path template `path` matches, or None. Literal templates win."""
    hits = [t for rx, t in spec["_paths"] if rx.match(path)]
    hits.sort(key=lambda t: t.count("{"))
    return hits[0] if hits else None


def validator(spec, key, schema):
    """A Draft 2020-12 validator for `schema`, whose "#/components/..." refs resolve: the
    schema is checked as a document that also holds the description's components."""
    with _lock:
        v = _validators.get(key)
        if v is None:
            try:
                import jsonschema
            except ImportError:
                raise OpenApiMismatch("openapi_check needs jsonschema (apt install "
                                      "python3-jsonschema), or set CB_OPENAPI_CHECK=off")
            doc = {"allOf": [schema], "components": spec.get("components", {})}
            v = jsonschema.Draft202012Validator(doc)
            _validators[key] = v
        return v


def media_type(ctype):
    return (ctype or "").split(";")[0].strip().lower()


def _refusal(spec, where, method, body, raw):
    """A refusal outside any operation (unknown path or method, framing): the Error shape."""
    if method == "HEAD":
        return []
    if not isinstance(body, (dict, list)):
        return ["%s: the refusal's body is not the Error JSON: %r" % (where, raw[:200])]
    schema = {"$ref": "#/components/schemas/Error"}
    return _schema_errors(spec, ("Error",), schema, body, where)


def _schema_errors(spec, key, schema, body, where):
    errors = sorted(validator(spec, key, schema).iter_errors(body), key=lambda e: list(e.path))
    if not errors:
        return []
    out = []
    for e in errors[:5]:
        at = "/".join(str(p) for p in e.absolute_path) or "(the body)"
        out.append("%s: at %s: %s" % (where, at, e.message))
    return out


def findings(spec, method, target, status, headers, body, raw):
    """What is wrong with this exchange by the description: a list of sentences (empty: ok)."""
    method = method.upper()
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return []
    op_method = "get" if method == "HEAD" else method.lower()
    ctype = headers.get("Content-Type") if headers is not None else None
    json_body = isinstance(body, (dict, list))
    template = template_of(spec, path)
    where = "%s %s -> %d" % (method, target if len(target) < 200 else target[:200] + "...",
                             status)
    if template is None:
        # The router's own answers for an unknown path (404), or refusals made before routing.
        if status in (400, 404, 414):
            return _refusal(spec, where, method, body, raw)
        return ["%s: no path of docs/openapi.yaml matches %s" % (where, path)]
    item = spec["paths"][template]
    documented = [m for m in METHODS if m in item]
    if op_method not in item:
        if status == 405:
            allow = sorted(a.strip().upper() for a in (headers.get("Allow") or "").split(",")
                           if a.strip())
            want = sorted({m.upper() for m in documented} |
                          ({"HEAD"} if "get" in documented else set()))
            if allow != want:
                return ["%s: Allow is %s, but docs/openapi.yaml documents %s for %s"
                        % (where, ", ".join(allow), ", ".join(want), template)]
            return _refusal(spec, where, method, body, raw)
        if status in (400, 414):
            return _refusal(spec, where, method, body, raw)
        return ["%s: docs/openapi.yaml has no %s operation on %s (it documents %s)"
                % (where, method, template, ", ".join(m.upper() for m in documented))]
    op = item[op_method]
    responses = op.get("responses", {})
    resp = responses.get(str(status)) or responses.get("%dXX" % (status // 100))
    if resp is None:
        return ["%s: status %d is not documented for %s %s (documented: %s)"
                % (where, status, op_method.upper(), template, ", ".join(sorted(responses)))]
    resp = resolve(spec, resp)
    content = resp.get("content") or {}
    if method == "HEAD" or status == 304:
        return []
    if not content:
        if raw:
            return ["%s: a %d body (%s, %d bytes) where docs/openapi.yaml documents none"
                    % (where, status, ctype, len(raw))]
        return []
    mt = media_type(ctype)
    media = content.get(mt)
    if media is None:
        media = content.get(mt.split("/")[0] + "/*") or content.get("*/*")
    if media is None:
        return ["%s: Content-Type %r is not documented for %s %s %d (documented: %s)"
                % (where, ctype, op_method.upper(), template, status, ", ".join(content))]
    schema = media.get("schema")
    if schema is None or not (mt == "application/json" or mt.endswith("+json")):
        return []
    if not json_body:
        return ["%s: the body is not JSON: %r" % (where, raw[:200])]
    return _schema_errors(spec, (template, op_method, status, mt), schema, body, where)


def _complain(problems):
    text = ("the response does not match docs/openapi.yaml (fix the description, or the "
            "daemon; CB_OPENAPI_CHECK=report only reports):\n  " + "\n  ".join(problems))
    if mode() == "report":
        sys.stderr.write("openapi_check: " + text + "\n")
        if os.environ.get("CB_OPENAPI_REPORT"):
            with _lock, open(os.environ["CB_OPENAPI_REPORT"], "a", encoding="utf-8") as f:
                f.write("%s: %s\n" % (os.path.basename(sys.argv[0]), "\n  ".join(problems)))
        return
    raise OpenApiMismatch(text)


def _seen(spec, method, target, status):
    """With $CB_OPENAPI_SEEN, append "METHOD template status" per checked response: which
    documented answers the tests exercise."""
    path = os.environ.get("CB_OPENAPI_SEEN")
    if not path:
        return
    template = template_of(spec, target.split("?", 1)[0]) or "(no path)"
    with _lock, open(path, "a", encoding="utf-8") as f:
        f.write("%s %s %d\n" % (method.upper(), template, status))


def check_response(binary, method, target, response):
    """Check one exchange with the daemon (harness.Response); see the module doc."""
    if mode() == "off":
        return
    spec = load(binary)
    problems = findings(spec, method, target, response.status, response.headers, response.body,
                        response.raw)
    _seen(spec, method, target, response.status)
    if problems:
        _complain(problems)


class _Headers(dict):
    """Header names compared case-insensitively (for clients that keep a plain dict)."""

    def get(self, name, default=None):
        for k, v in self.items():
            if k.lower() == name.lower():
                return v
        return default


def check_head(binary, method, target, status, headers, body):
    """Check a response known by its head (and its body when it is complete, else b""): the
    raw-socket clients (sse.SseStream)."""
    if mode() == "off":
        return
    parsed = body
    if media_type(_Headers(headers).get("Content-Type")) == "application/json":
        try:
            parsed = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            pass
    problems = findings(load(binary), method, target, status, _Headers(headers), parsed, body)
    if problems:
        _complain(problems)


def check_event(binary, block):
    """Check one event block of GET /api/events (a dict of its fields) against SseEvent."""
    if mode() == "off" or "event" not in block:
        return
    spec = load(binary)
    where = "GET /api/events: event %r" % block.get("event")
    try:
        data = json.loads(block.get("data", ""))
    except ValueError:
        _complain(["%s: data is not JSON: %r" % (where, block.get("data"))])
        return
    ev = {"event": block["event"], "data": data}
    if block.get("id"):
        ev["id"] = block["id"]
    problems = _schema_errors(spec, ("SseEvent",), {"$ref": "#/components/schemas/SseEvent"},
                              ev, where)
    if problems:
        _complain(problems[:1] + ["(the event: %s)" % json.dumps(ev)[:400]])
