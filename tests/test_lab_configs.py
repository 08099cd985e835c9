"""The lab boots the bundled examples: each lab scenario that stands for an example has the
example file as its /etc/wibond.conf, with only the lab's names and addresses put in.  This
keeps `make demo` (the archwiki scenario) showing the example users copy."""

from __future__ import annotations

import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# example -> (lab scenario, [(example text, lab text)])
CASES = {
    "archwiki.conf": ("archwiki", [("enp0s10", "eth0"), ("wlp3s0", "wlan0")]),
    "raspberry-pi.conf": ("raspberry-pi", [("192.168.43.", "192.168.77.")]),
}


def lab_config(example: str) -> str:
    scenario, subs = CASES[example]
    with open(os.path.join(REPO, "examples", example)) as f:
        text = f.read()
    for old, new in subs:
        assert old in text, f"{old!r} is not in examples/{example} any more"
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("example", sorted(CASES))
def test_lab_scenario_boots_the_example(example):
    scenario = CASES[example][0]
    path = os.path.join(REPO, "tests", "lab", "scenarios", scenario, "etc", "wibond.conf")
    with open(path) as f:
        assert f.read() == lab_config(example), (
            f"{path} is not examples/{example} with the lab's names; regenerate it with\n"
            f"  python3 -c 'import tests.test_lab_configs as t; print(t.lab_config(\"{example}\"), end=\"\")' > {path}")
