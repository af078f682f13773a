"""The example Prometheus alert rules (config/callbridge-alerts.yml) are valid
(`promtool check rules`), fire on the series they are meant for and stay quiet otherwise
(`promtool test rules callbridge-alerts.test.yml`), and name only metrics callbridge exports.
The promtool checks are skipped, saying why, when promtool (Debian package `prometheus`) is
not installed."""

import os
import re
import shutil
import subprocess
import unittest

import harness
from harness import DaemonTestCase

RULES = os.path.join(harness.SOURCE_DIR, "config", "callbridge-alerts.yml")
RULE_TESTS = os.path.join(harness.SOURCE_DIR, "tests", "integration", "callbridge-alerts.test.yml")
# Exported only with Salesforce configured; checked against the provider's source instead.
SALESFORCE_ONLY = {"callbridge_crm_allowance_exhausted"}


class AlertRulesTest(DaemonTestCase):

    def promtool(self, *args):
        promtool = shutil.which("promtool")
        if promtool is None:
            raise unittest.SkipTest("promtool not installed (Debian package prometheus); "
                                    "the alert rules were not checked")
        p = subprocess.run([promtool] + list(args), capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("SUCCESS", p.stdout + p.stderr)

    def test_promtool_accepts_the_rules(self):
        self.promtool("check", "rules", RULES)

    def test_alerts_fire_when_they_should(self):
        self.promtool("test", "rules", RULE_TESTS)

    def test_rules_name_exported_metrics(self):
        with open(RULES) as f:
            exprs = [line.split("expr:", 1)[1] for line in f if "expr:" in line]
        names = {n for e in exprs for n in re.findall(r"\b(callbridge_[a-z_]+)", e)}
        self.assertIn("callbridge_jobs", names)
        metrics = self.daemon.get("/metrics", token=None).raw.decode()
        with open(os.path.join(harness.SOURCE_DIR, "src", "crm", "salesforce.c")) as f:
            sf_source = f.read()
        for name in sorted(names):
            with self.subTest(metric=name):
                if name in SALESFORCE_ONLY:
                    self.assertIn(name + " %d", sf_source)
                else:
                    self.assertIn("# TYPE %s " % name, metrics)


if __name__ == "__main__":
    harness.main()
