#!/usr/bin/env python3
"""Merge OpenAPI fragments (docs/openapi-fragments/<name>.yaml) into docs/openapi.yaml.

    tools/openapi/merge_fragment.py [--check] FRAGMENT.yaml... [--into docs/openapi.yaml]

A fragment holds `paths:` entries and `components:` entries (schemas, responses, parameters,
headers, securitySchemes), in the description's own terms (refs as
'#/components/schemas/Error'). Each entry is appended as text at the end of its section, so
the description keeps its comments and layout; a path, a method of a path, or a component
that already exists is refused (nothing is written), as is a fragment with other top-level
keys. --check only says what would be added. Then: run `npm run lint` in tools/openapi and the
tests (openapi.routes, the integration tests) — and delete the merged fragment.
Needs PyYAML (python3-yaml)."""
import argparse
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECTIONS = ("schemas", "responses", "parameters", "headers", "securitySchemes")
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def dump(key, value, indent):
    text = yaml.safe_dump({key: value}, sort_keys=False, default_flow_style=False,
                          allow_unicode=True, width=100)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def section_end(lines, header, indent):
    """Index of the line after the section that starts with `header` at `indent`."""
    start = None
    for i, line in enumerate(lines):
        if start is None:
            if line.rstrip("\n") == " " * indent + header:
                start = i
            continue
        stripped = line.lstrip(" ")
        if stripped.strip() and not stripped.startswith("#") and \
                len(line) - len(stripped) <= indent:
            return i
    if start is None:
        return None
    return len(lines)


def insert(lines, at, text):
    # Keep a blank line between the previous entry and this one, none before the next section.
    while at > 0 and not lines[at - 1].strip():
        at -= 1
    block = ["\n"] + text.splitlines(True)
    lines[at:at] = block


def merge(doc, lines, frag, name):
    problems = []
    unknown = set(frag) - {"paths", "components"}
    if unknown:
        problems.append("%s: top-level keys other than paths/components: %s"
                        % (name, ", ".join(sorted(unknown))))
    adds = []
    for path, item in (frag.get("paths") or {}).items():
        old = doc["paths"].get(path)
        if old is not None:
            clash = [m for m in METHODS if m in item and m in old]
            if clash:
                problems.append("%s: %s %s is already described" % (name, ",".join(clash), path))
                continue
            problems.append("%s: %s exists; add its new methods by hand" % (name, path))
            continue
        adds.append(("paths:", 0, dump(path, item, 2), "path " + path))
    for section, entries in (frag.get("components") or {}).items():
        if section not in SECTIONS:
            problems.append("%s: components.%s is not merged by this script" % (name, section))
            continue
        have = doc.get("components", {}).get(section, {})
        for key, value in (entries or {}).items():
            if key in have:
                if have[key] == value:
                    continue  # the same component twice (shared by two fragments): fine
                problems.append("%s: components.%s.%s exists (and differs)"
                                % (name, section, key))
                continue
            adds.append(("%s:" % section, 2, dump(key, value, 4),
                         "components.%s.%s" % (section, key)))
    if problems:
        return problems, []
    for header, indent, text, what in adds:
        at = section_end(lines, header, indent)
        if at is None:
            return ["%s: docs/openapi.yaml has no `%s` section" % (name, header.rstrip(":"))], []
        insert(lines, at, text)
    return [], [what for *_, what in adds]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fragments", nargs="+")
    ap.add_argument("--into", default=os.path.join(ROOT, "docs", "openapi.yaml"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    with open(args.into, encoding="utf-8") as f:
        lines = f.readlines()
    added = []
    for path in args.fragments:
        doc = yaml.safe_load("".join(lines))
        with open(path, encoding="utf-8") as f:
            frag = yaml.safe_load(f) or {}
        problems, what = merge(doc, lines, frag, os.path.basename(path))
        if problems:
            sys.exit("merge_fragment: nothing written:\n  " + "\n  ".join(problems))
        added += what
    yaml.safe_load("".join(lines))  # still YAML
    print("\n".join("add " + w for w in added) or "nothing to add")
    if not args.check:
        with open(args.into, "w", encoding="utf-8") as f:
            f.writelines(lines)


if __name__ == "__main__":
    main()
