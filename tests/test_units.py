"""The shipped units find every program on both layouts wibond is installed on: Arch (all in
/usr/bin, /usr/sbin a link to it) and Debian (wpa_supplicant, iw, dhclient, dhcpcd in
/usr/sbin, /sbin on an unmerged system), without relying on Arch's /usr/sbin link."""

from __future__ import annotations

import os
import re

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
UNITS = os.path.join(REPO, "units")
HELPER = "/usr/lib/wibond/wibond-helper"
WIBOND = "/usr/bin/wibond"   # wibond-metrics.service; `make install` rewrites both paths
OWN = (HELPER, WIBOND)

# systemd (>= 239) runs a bare program name from this fixed path (man systemd.service,
# "Command lines"); builds for unmerged systems add /sbin and /bin.
SYSTEMD_EXEC_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
# Where each program is on each layout.
LAYOUTS = {
    "arch": {"wpa_supplicant": "/usr/bin", "iw": "/usr/bin", "dhclient": "/usr/bin",
             "dhcp6c": "/usr/bin", "dhcpcd": "/usr/bin", "kill": "/usr/bin"},
    "debian": {"wpa_supplicant": "/usr/sbin", "iw": "/usr/sbin", "dhclient": "/usr/sbin",
               "dhcp6c": "/usr/sbin", "dhcpcd": "/usr/sbin", "kill": "/usr/bin"},
    "debian-unmerged": {"wpa_supplicant": "/sbin", "iw": "/sbin", "dhclient": "/sbin",
                        "dhcp6c": "/usr/sbin", "dhcpcd": "/sbin", "kill": "/bin"},
}


def commands() -> list[tuple[str, str]]:
    out = []
    for name in sorted(os.listdir(UNITS)):
        with open(os.path.join(UNITS, name)) as f:
            for line in f:
                m = re.match(r"^Exec\w+=([-@:+!]*)(\S+)", line)
                if m:
                    out.append((name, m.group(2)))
    return out


def test_units_run_wibond_by_its_path_and_other_programs_by_name() -> None:
    seen = set()
    for unit, program in commands():
        if program in OWN:
            continue
        assert "/" not in program, f"{unit}: {program} is a path; name the program bare"
        seen.add(program)
    assert seen == set(LAYOUTS["arch"]), seen


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_program_is_on_systemds_exec_path_in_each_layout(layout) -> None:
    for unit, program in commands():
        if program in OWN:
            continue
        assert LAYOUTS[layout][program] in SYSTEMD_EXEC_PATH, (layout, unit, program)
