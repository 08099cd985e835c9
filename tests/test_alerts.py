"""examples/prometheus/wibond-alerts.yml: promtool accepts the rules, and its unit tests
(wibond-alerts.test.yml) show each alert firing on the series it is for and not on the
others. The metric names the rules use are the ones `wibond metrics` writes."""

from __future__ import annotations

import os
import re
import subprocess

from conftest import tool

from wibond.cli.metrics import FAMILIES

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(os.path.dirname(HERE), "examples", "prometheus")


def promtool() -> str:
    return tool("promtool", "tools/bootstrap test takes it from Debian's prometheus package")


def test_promtool_checks_the_rules_and_runs_their_tests() -> None:
    check = subprocess.run([promtool(), "check", "rules", "wibond-alerts.yml"], cwd=EXAMPLE,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "SUCCESS: 6 rules found" in check.stdout, check.stdout + check.stderr
    test = subprocess.run([promtool(), "test", "rules", "wibond-alerts.test.yml"], cwd=EXAMPLE,
                          capture_output=True, text=True, timeout=120)
    assert test.returncode == 0, test.stdout + test.stderr


def test_the_rules_name_only_metrics_wibond_writes() -> None:
    with open(os.path.join(EXAMPLE, "wibond-alerts.yml")) as f:
        used = set(re.findall(r"\bwibond_[a-z_]+", f.read()))
    assert used and used <= {name for name, _kind, _help in FAMILIES}, used
