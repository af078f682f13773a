#!/usr/bin/env python3
"""docs/openapi.yaml -> the JSON the daemon serves at GET /openapi.json, as C (build step).

    embed.py OPENAPI_YAML OUT_C OUT_JSON

OUT_C defines cb_openapi_json (the compact JSON, NUL-terminated), cb_openapi_json_len and
cb_openapi_etag (a strong ETag: the first 32 hex digits of the JSON's SHA-256, quoted).
OUT_JSON is the same JSON, for the integration tests (tests/integration/openapi_check.py).
Needs PyYAML (Debian: python3-yaml). Exits non-zero, saying why, when the YAML does not load or
is not an OpenAPI 3.1 document with paths."""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from embed_util import write_if_changed  # noqa: E402

try:
    import yaml
except ImportError:
    sys.exit("embed.py: PyYAML is missing (apt install python3-yaml)")


def load(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3.1"):
        sys.exit("embed.py: %s is not an OpenAPI 3.1 document" % path)
    if not isinstance(doc.get("paths"), dict) or not doc["paths"]:
        sys.exit("embed.py: %s has no paths" % path)
    return doc



def c_source(data, etag):
    lines = ["/* Generated from docs/openapi.yaml by tools/openapi/embed.py. Do not edit. */",
             "#include <stddef.h>", "",
             "const char cb_openapi_json[] = {"]
    for i in range(0, len(data), 16):
        lines.append("    " + "".join("0x%02x," % b for b in data[i:i + 16]))
    lines += ["    0x00};",
              "const size_t cb_openapi_json_len = %d;" % len(data),
              'const char cb_openapi_etag[] = "\\"%s\\"";' % etag, ""]
    return "\n".join(lines).encode("ascii")


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    doc = load(argv[1])
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    etag = hashlib.sha256(data).hexdigest()[:32]
    write_if_changed(argv[2], c_source(data, etag))
    write_if_changed(argv[3], data)


if __name__ == "__main__":
    main(sys.argv)
