"""`make install DESTDIR=...` lays out an image tree; `make uninstall` takes it back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from treeutil import read_tree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

EXPECTED = [
    "usr/bin/wibond",
    "usr/lib/systemd/system-generators/wibond-generator",
    "usr/lib/systemd/system/wibond@.service",
    "usr/lib/systemd/system/wibond-arp@.service",
    "usr/lib/systemd/system/wibond-managers.service",
    "usr/lib/wibond/wibond-helper",
    "usr/lib/wibond/python/wibond/boot/generator.py",
    "usr/lib/wibond/python/wibond/config/configspec.ini",
    "usr/lib/wibond/units/bond-supplicant@.service",
    "usr/lib/wibond/units/bond-wired@.service",
    "usr/lib/wibond/units/dhclient@.service",
    "usr/lib/wibond/units/dhcp6c@.service",
    "usr/lib/wibond/units/dhcpcd@.service",
    "usr/lib/wibond/python/wibond/dhcp/__init__.py",
    "usr/lib/wibond/python/wibond/dhcp/dhcpcd.py",
    "usr/share/man/man5/wibond.conf.5",
    "usr/share/man/man8/wibond.8",
    "usr/share/doc/wibond/examples/archwiki.conf",
    "usr/share/doc/wibond/examples/raspberry-pi.conf",
]


def make(*args: str) -> None:
    subprocess.run(["make", "-s", "-C", REPO, *args], check=True, capture_output=True, timeout=120)


def files(top: str) -> list[str]:
    out = []
    for dirpath, _dirs, names in os.walk(top):
        out += [os.path.relpath(os.path.join(dirpath, n), top) for n in names]
    return sorted(out)


def test_install_layout_and_uninstall(tmp_path) -> None:
    dest = str(tmp_path / "img")
    make("install", f"DESTDIR={dest}")
    present = files(dest)
    for path in EXPECTED:
        assert path in present, path
    for name in os.listdir(os.path.join(REPO, "udev")):
        if name.endswith(".rules"):
            assert f"usr/lib/udev/rules.d/{name}" in present
    for exe in ("usr/bin/wibond", "usr/lib/wibond/wibond-helper",
                "usr/lib/systemd/system-generators/wibond-generator"):
        assert os.access(os.path.join(dest, exe), os.X_OK)
    with open(os.path.join(dest, "usr/share/man/man5/wibond.conf.5")) as f:
        page = f.read()
    assert "\\fBfail_over_mac\\fR" in page and "@" not in page.split(".SH BOND KEYS")[1][:20]
    make("uninstall", f"DESTDIR={dest}")
    assert files(dest) == []


def test_installed_generator_runs_from_its_own_package(tmp_path) -> None:
    dest = tmp_path / "img"
    make("install", f"DESTDIR={dest}")
    root = tmp_path / "root"
    # The golden case's host: its DHCP clients installed, as in the image booted.
    shutil.copytree(os.path.join(HERE, "golden", "example-archwiki", "root"), root)
    os.unlink(root / "etc" / "wibond.conf")
    shutil.copy(os.path.join(REPO, "examples", "archwiki.conf"), root / "etc" / "wibond.conf")
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, WIBOND_ROOT=str(root),
               PYTHONPATH=str(dest / "usr/lib/wibond/python"))
    subprocess.run([sys.executable, str(dest / "usr/lib/systemd/system-generators/wibond-generator"),
                    str(out), str(out), str(out)], cwd="/", env=env, check=True, timeout=60)
    expected = read_tree(os.path.join(HERE, "golden", "example-archwiki", "expected"))
    assert read_tree(str(out)) == expected


def test_overridden_directories_reach_units_and_code(tmp_path) -> None:
    dest = tmp_path / "img"
    make("install", f"DESTDIR={dest}", "PREFIX=/usr/local", "LIBEXECDIR=/opt/wibond")
    with open(dest / "opt/wibond/units/bond-supplicant@.service") as f:
        assert "ExecStartPre=/opt/wibond/wibond-helper join" in f.read()
    with open(dest / "usr/local/lib/systemd/system/wibond@.service") as f:
        assert "/opt/wibond/wibond-helper start %I" in f.read()
    with open(dest / "opt/wibond/python/wibond/common/paths.py") as f:
        text = f.read()
    assert 'UNIT_TEMPLATE_DIR = "/opt/wibond/units"' in text
    with open(dest / "usr/local/lib/systemd/system-generators/wibond-generator") as f:
        assert 'PKGDIR = "/opt/wibond/python"' in f.read()
