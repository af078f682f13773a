#!/usr/bin/env python3
"""src/console/ -> the files the daemon serves under /console/, as C (build step).

    embed.py OUT_C CONSOLE_DIR SDK_FILE

Every *.html, *.css and *.js directly in CONSOLE_DIR (flat: no sub-directories, no
node_modules), plus SDK_FILE as "twilio.min.js" when that file exists (the pinned
@twilio/voice-sdk dist file, there once `npm ci` ran in src/console; without it the console
says "audio unavailable"). OUT_C defines cb_console_files[] (name, content type, bytes, length,
strong ETag: the first 32 hex digits of the content's SHA-256, quoted) and
cb_console_files_count, for src/http/handlers/console.c. OUT_C is rewritten only when its
content changes, so a run that finds nothing new rebuilds nothing. Stdlib only."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from embed_util import write_if_changed  # noqa: E402

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
SDK_NAME = "twilio.min.js"



def collect(console_dir, sdk_file):
    files = []
    for name in sorted(os.listdir(console_dir)):
        ext = os.path.splitext(name)[1]
        path = os.path.join(console_dir, name)
        if ext in TYPES and os.path.isfile(path):
            if name == SDK_NAME:
                sys.exit("embed.py: %s is reserved for the Voice SDK" % path)
            files.append((name, TYPES[ext], path))
    if os.path.isfile(sdk_file):
        files.append((SDK_NAME, TYPES[".js"], sdk_file))
    if not any(f[0] == "index.html" for f in files):
        sys.exit("embed.py: %s has no index.html" % console_dir)
    return files


def c_source(files):
    out = ["/* Generated from src/console by tools/console/embed.py. Do not edit. */",
           '#include "console_files.h"', ""]
    table = []
    for i, (name, ctype, path) in enumerate(files):
        with open(path, "rb") as f:
            data = f.read()
        etag = hashlib.sha256(data).hexdigest()[:32]
        out.append("/* %s */" % name)
        out.append("static const unsigned char f%d[] = {" % i)
        for j in range(0, len(data), 20):
            out.append("    " + "".join("0x%02x," % b for b in data[j:j + 20]))
        out.append("    0x00};")
        table.append('    {"%s", "%s", f%d, %d, "\\"%s\\""},' % (name, ctype, i, len(data), etag))
    out += ["", "const struct cb_console_file cb_console_files[] = {"] + table + ["};",
            "const size_t cb_console_files_count = %d;" % len(files), ""]
    return "\n".join(out).encode("ascii")


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    write_if_changed(argv[1], c_source(collect(argv[2], argv[3])))


if __name__ == "__main__":
    main(sys.argv)
