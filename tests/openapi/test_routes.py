#!/usr/bin/env python3
"""Every route of src/http/routes.c is described in docs/openapi.yaml, and every operation the
description has is a route: a route added without its description (or a description left
behind by a removed route) fails here (ctest openapi.routes).

The description is read as the build embeds it ($CB_OPENAPI_JSON, else
$CB_BUILD_DIR/generated/openapi.json), else from the YAML (PyYAML)."""
import json
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("CB_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
# ROUTE("METHOD", "/pattern", handler, ...): the macro of src/http/routes.c.
ROUTE_RX = re.compile(r'ROUTE\(\s*"([A-Z]+)"\s*,\s*"([^"]+)"')


def routes():
    with open(os.path.join(SOURCE_DIR, "src", "http", "routes.c"), encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    return {(m, p) for m, p in ROUTE_RX.findall(text)}


def description():
    path = os.environ.get("CB_OPENAPI_JSON")
    if not path and os.environ.get("CB_BUILD_DIR"):
        path = os.path.join(os.environ["CB_BUILD_DIR"], "generated", "openapi.json")
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    import yaml
    with open(os.path.join(SOURCE_DIR, "docs", "openapi.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def operations(doc):
    """(METHOD, pattern) per operation, with "{name}" written as routes.c's "{}"."""
    out = set()
    for template, item in doc["paths"].items():
        pattern = re.sub(r"\{[^/}]+\}", "{}", template)
        out |= {(m.upper(), pattern) for m in METHODS if m in item}
    return out


class RoutesDescribed(unittest.TestCase):
    def test_routes_c_parses(self):
        self.assertGreaterEqual(len(routes()), 10, "ROUTE(...) entries not found in routes.c")

    def test_every_route_is_described(self):
        missing = sorted(routes() - operations(description()))
        self.assertEqual(missing, [], "routes of src/http/routes.c missing from "
                         "docs/openapi.yaml (describe them; see README, The HTTP interface)")

    def test_every_operation_is_a_route(self):
        extra = sorted(operations(description()) - routes())
        self.assertEqual(extra, [], "operations of docs/openapi.yaml that src/http/routes.c "
                         "does not have")


if __name__ == "__main__":
    unittest.main(verbosity=2)
