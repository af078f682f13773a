#!/usr/bin/env python3
"""The CRM seam (issue 16): outside the providers (src/crm/salesforce*, sf_*, soql.c;
src/crm/hubspot*, hs_*) no C code knows which CRM runs — no Salesforce names, id prefixes,
objects, fields, URLs or [salesforce] configuration reads. Comments may name Salesforce as an
example; code (identifiers and strings) may not, except for the few ALLOWED lines below, each
with the reason it must stay. An ALLOWED entry that no longer matches fails too, so the list
only shrinks. Adding a CRM? docs/adding-a-crm.md."""
import os
import re
import sys
import unittest

ROOT = os.environ.get("CB_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# A file of a provider: the only place its names belong.
PROVIDER_FILE = re.compile(r"^src/crm/(salesforce|sf_|sf\.h|soql\.c|hubspot|hs_|hs\.h)")

# Salesforce-only tokens, matched in code with comments removed.
TOKENS = [
    ("salesforce", re.compile(r"salesforce", re.I)),
    # (libsndfile's sf_* in src/stt are not Salesforce's)
    ("sf_ prefix", re.compile(r"\b(cb_sf|CB_SF|sfdc|sfid)|\bsf_(token|user|login|session|id)")),
    ("SOQL/SOSL", re.compile(r"soql|sosl", re.I)),
    ("custom field suffix __c", re.compile(r"\w__c\b")),
    ("Salesforce field", re.compile(
        r"\b(WhoId|WhatId|OwnerId|AccountId|CallDisposition|ActivityDate|"
        r"CallDurationInSeconds|HasReadAccess|UserRecordAccess|IsActive)\b")),
    ("Salesforce object in a string", re.compile(
        r'"(Lead|Contact|Account|Opportunity|Task|User)"')),
    ("Salesforce id prefix in a string", re.compile(r'"(00[1-9A-Z]|005|003|001)[0-9A-Za-z]*"')),
    ("Salesforce URL", re.compile(r"/services/(oauth2|data)|lightning/r/|Sforce-Limit-Info|"
                                  r"REQUEST_LIMIT_EXCEEDED|my\.salesforce\.com")),
]

# (path, token name, what the line contains) -> why it stays. Keep this short.
ALLOWED = {
    ("src/crm/crm.c", "salesforce", "cb_crm_salesforce"):
        "the provider list names each provider once",
    ("include/callbridge/crm.h", "salesforce", "cb_crm_salesforce"):
        "each provider's ops are declared with the interface",
    ("src/crm/crm.c", "salesforce", "cfg->salesforce.enabled"):
        "the provider selection reads whether [salesforce] is on ([crm] provider, issue 16)",
    ("src/http/routes.c", "salesforce", "/auth/salesforce/"):
        "the sign-in routes keep the paths registered as the Connected App's callback",
    ("src/http/session_crm.c", "sf_ prefix", "sessions/sf_token"):
        "the sealing binding of the kept credential: renaming it would lock out live sessions",
    ("src/store/sessions.c", "sf_ prefix", "sf_"):
        "the columns of migration 014 (sf_user_id, sf_token): a rename would break the "
        "previous version's instances during a rolling upgrade",
}

# Whole files, and why. The configuration's home declares every provider's section (SPEC §5:
# one settings table, its cross-checks, the struct they fill; [salesforce] is declared there,
# read only by the provider).
ALLOWED_FILES = {
    "src/config/settings.c": "the settings table declares every section, [salesforce] too",
    "src/config/checks.c": "the cross-checks of each section's keys",
    "include/callbridge/config.h": "the struct the settings table fills",
    "include/callbridge/soql.h": "the provider's escaping helper (src/crm/soql.c), public for "
                                 "its unit test tests/unit/test_soql.c",
}

# The CLI's help may name the providers' id formats as examples for the admin who types them.
HELP_LINES = {
    ("src/cli/agent.c", "(Salesforce: its User id"),
}


def strip_comments(text):
    """C text with /* */ and // comments blanked (newlines kept), strings left alone."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def sources():
    for top in ("src", "include"):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    path = os.path.relpath(os.path.join(d, f), ROOT)
                    if not PROVIDER_FILE.match(path):
                        yield path


def findings():
    """(path, line number, token name, line) of every match outside the providers."""
    for path in sources():
        with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as f:
            code = strip_comments(f.read())
        for no, line in enumerate(code.splitlines(), 1):
            for name, rx in TOKENS:
                if rx.search(line):
                    yield path, no, name, line.strip()


def allowed_by(path, name, line):
    if path in ALLOWED_FILES:
        return ("file", path)
    for key in HELP_LINES:
        if key[0] == path and key[1] in line:
            return key
    for key in ALLOWED:
        if key[0] == path and key[1] == name and key[2] in line:
            return key
    return None


class CrmSeamTest(unittest.TestCase):

    def test_no_salesforce_names_outside_the_providers(self):
        leaks, used = [], set()
        for path, no, name, line in findings():
            key = allowed_by(path, name, line)
            if key is None:
                leaks.append("%s:%d: %s: %s" % (path, no, name, line))
            else:
                used.add(key)
        self.assertEqual(leaks, [], "Salesforce names outside src/crm's providers (move them "
                         "behind a crm op, see docs/adding-a-crm.md):\n" + "\n".join(leaks))
        stale = [k for k in ALLOWED if k not in used]
        self.assertEqual(stale, [], "ALLOWED entries that match nothing any more: drop them")

    def test_the_checker_sees_a_leak(self):
        code = strip_comments('/* Salesforce WhoId */ x = "00Q"; y = cfg->salesforce.unknown;'
                              ' // WhatId\n')
        names = {n for n, rx in TOKENS if rx.search(code)}
        self.assertEqual(names, {"salesforce", "Salesforce id prefix in a string"})
        self.assertIsNone(allowed_by("src/jobs/log_call.c", "salesforce", code))

    def test_the_providers_are_where_the_names_are(self):
        self.assertTrue(PROVIDER_FILE.match("src/crm/sf_records.c"))
        self.assertTrue(PROVIDER_FILE.match("src/crm/hubspot_calls.c"))
        self.assertFalse(PROVIDER_FILE.match("src/crm/lookup.c"))
        self.assertTrue(any(True for _ in sources()))


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])
