"""Every golden output passes `systemd-analyze verify`.

The golden trees link to /usr/lib/wibond/units/ and run
/usr/lib/wibond/wibond-helper, which exist only once installed; here they
are pointed at this tree's units/ and helpers/ in a scratch directory, so
no root and no install is needed. wpa_supplicant, iw, dhclient, dhcp6c and
dhcpcd must be installed (.ci/run installs them): verify checks that they
exist, found by bare name in systemd's search path as at boot.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
GOLDEN = os.path.join(HERE, "golden")
SHIPPED_DIR = "/usr/lib/wibond/units/"
HELPER = "/usr/lib/wibond/wibond-helper"

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None and not os.environ.get("CI"),
                                reason="systemd-analyze is not installed")


def stage(golden: str, scratch: str) -> tuple[str, list[str]]:
    """Lay out a unit path for `golden`; return it and the units to verify."""
    units = os.path.join(scratch, "units")
    system = os.path.join(scratch, "system")
    gen = os.path.join(scratch, "gen")
    libexec = os.path.join(scratch, "libexec")
    for d in (units, system, libexec):
        os.makedirs(d)
    shutil.copy(os.path.join(REPO, "helpers", "wibond-helper"), libexec)
    for name in os.listdir(os.path.join(REPO, "units")):
        with open(os.path.join(REPO, "units", name)) as f:
            text = f.read().replace(HELPER, os.path.join(libexec, "wibond-helper"))
        dest = system if name in ("wibond@.service", "wibond-arp@.service", "wibond-managers.service") \
            else units
        with open(os.path.join(dest, name), "w") as f:
            f.write(text)
    shutil.copytree(golden, gen, symlinks=True)
    names = set()
    for dirpath, _dirs, files in os.walk(gen):
        for name in files + _dirs:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                target = os.readlink(path)
                if target.startswith(SHIPPED_DIR):
                    os.unlink(path)
                    os.symlink(os.path.join(units, target[len(SHIPPED_DIR):]), path)
            if name.endswith(".service") and "@." not in name:
                names.add(name)
            elif name.endswith("@.service") and dirpath == gen:
                names.add(name.replace("@.", "@verify0.", 1))  # any instance of a template
            if name.endswith(".service.d") and name.startswith("wibond@"):
                names.add(name[:-2])
                for dropin in os.listdir(path):  # what the bond pulls in from /usr/lib
                    with open(os.path.join(path, dropin)) as f:
                        names.update(line.split("=", 1)[1].strip() for line in f
                                     if line.startswith("Wants=wibond-arp@"))
    return f"{gen}:{system}:", sorted(names)


def verify(unit_path: str, units: list[str]) -> str:
    env = dict(os.environ, SYSTEMD_UNIT_PATH=unit_path, SYSTEMD_LOG_LEVEL="notice")
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no", *units],
                          env=env, capture_output=True, text=True, timeout=120)
    noise = ("Failed to read $container", "PR_SET_MM")
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines()
             if ln.strip() and not any(n in ln for n in noise)]
    return "\n".join(lines)


# Cases with units (hostile-names has only the snapshot, snapshot.REL: every bond refused).
CASES = [c for c in sorted(os.listdir(GOLDEN))
         if set(os.listdir(os.path.join(GOLDEN, c, "expected"))) - {"wibond"}]


@pytest.mark.parametrize("case", CASES)
def test_golden_output_verifies(case: str, tmp_path) -> None:
    unit_path, units = stage(os.path.join(GOLDEN, case, "expected"), str(tmp_path))
    assert units, "nothing to verify"
    assert verify(unit_path, units) == ""


def test_verify_catches_a_broken_unit(tmp_path) -> None:
    """The check above can fail: a bad key in a drop-in is reported."""
    unit_path, units = stage(os.path.join(GOLDEN, "example-archwiki", "expected"), str(tmp_path))
    dropin = tmp_path / "gen" / "bond0-supplicant@.service.d" / "50-wibond.conf"
    dropin.write_text(dropin.read_text() + "Bogus=1\n")
    assert "Bogus" in verify(unit_path, units)
