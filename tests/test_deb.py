"""The Debian package: `make deb` builds it from the checkout with dpkg-buildpackage, it holds
what `make install` lays out in Debian's paths (no bytecode, no /etc/wibond.conf), lintian finds
no error, its dependencies are right for Debian 12, 13, sid and Raspberry Pi OS, and in a bare
Debian `apt install ./wibond_*.deb` pulls in what it needs, `wibond check` passes the examples
and `apt purge` leaves none of its files (tools/bare-machine-check deb).

Needs debhelper, dpkg-dev and lintian (tools/bootstrap test installs them); the bare Debian
needs root and mmdebstrap and runs in CI (or with WIBOND_BARE_DEB=1)."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from wibond import __version__

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

pytestmark = [
    pytest.mark.skipif(
        any(shutil.which(p) is None for p in ("dpkg-buildpackage", "dh", "lintian", "git"))
        and not os.environ.get("CI"), reason="debhelper, dpkg-dev or lintian is not installed"),
    pytest.mark.skipif(not os.path.isdir(os.path.join(REPO, ".git")),
                       reason="make deb builds from a git checkout's files"),
]


@pytest.fixture(scope="module")
def deb():
    build = tempfile.mkdtemp(prefix="wibond-deb-")
    try:
        proc = subprocess.run(["make", "-s", "-C", REPO, "deb", f"DEBBUILDDIR={build}/b",
                               f"DEBOUT={build}"], capture_output=True, text=True, timeout=600,
                              env=dict(os.environ, DEB_BUILD_OPTIONS="nocheck"))
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        path = os.path.join(build, f"wibond_{__version__}_all.deb")
        assert os.path.exists(path), os.listdir(build)
        yield path
    finally:
        shutil.rmtree(build, ignore_errors=True)


def field(deb: str, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_versions_agree() -> None:
    with open(os.path.join(REPO, "debian", "changelog"), encoding="utf-8") as f:
        assert re.match(rf"wibond \({re.escape(__version__)}\) ", f.readline())


def test_it_holds_what_make_install_lays_out(deb, tmp_path) -> None:
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                             check=True).stdout
    got = {line.split()[5].lstrip("./") for line in listing.splitlines()
           if not line.startswith("d")}
    img = tmp_path / "img"
    subprocess.run(["make", "-s", "-C", REPO, "install", f"DESTDIR={img}", "COMPILE=no",
                    f"HOST_PYTHON={sys.executable}"], check=True, capture_output=True, timeout=300)
    want = {os.path.relpath(os.path.join(d, f), img) for d, _s, fs in os.walk(img) for f in fs}
    # dh compresses the man pages and the README, and adds the changelog and the copyright
    got = {re.sub(r"^(usr/share/(man/.*|doc/wibond/README\.md))\.gz$", r"\1", p) for p in got}
    assert got - want == {"usr/share/doc/wibond/changelog.gz", "usr/share/doc/wibond/copyright",
                          "usr/share/lintian/overrides/wibond"}
    assert want - got == set()
    assert not any(p.endswith(".pyc") or p.startswith("etc/") for p in got)
    assert "usr/share/bash-completion/completions/wibond" in got
    assert "usr/share/doc/wibond/examples/wpa_supplicant.conf" in got


def test_its_dependencies(deb) -> None:
    depends = [d.strip() for d in field(deb, "Depends").split(",")]
    for need in ("python3", "python3-configobj", "python3-pyudev", "iproute2", "iw",
                 "wpasupplicant", "systemd", "udev"):
        assert need in depends, depends
    # wibond picks a DHCP client from what is installed (dhcp_client = auto): either serves
    assert field(deb, "Recommends") == "dhcpcd-base | isc-dhcp-client"
    assert field(deb, "Architecture") == "all"


def test_lintian_finds_no_error(deb) -> None:
    proc = subprocess.run(["lintian", "--fail-on", "error,warning", deb], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_man_pages_and_completion_are_current(deb, tmp_path) -> None:
    subprocess.run(["dpkg-deb", "-x", deb, str(tmp_path)], check=True)
    with gzip.open(tmp_path / "usr/share/man/man8/wibond.8.gz", "rt") as f:
        page = f.read()
    for command in ("check", "generate", "apply", "try", "confirm", "rollback", "status",
                    "monitor"):
        assert f"\\fB{command}\\fR" in page, command
    assert ".SH EXAMPLES" in page
    completion = (tmp_path / "usr/share/bash-completion/completions/wibond").read_text()
    assert "complete -F _wibond wibond" in completion


@pytest.mark.skipif(not (os.geteuid() == 0 and shutil.which("mmdebstrap")
                         and (os.environ.get("CI") or os.environ.get("WIBOND_BARE_DEB"))),
                    reason="a bare Debian needs root and mmdebstrap; CI or WIBOND_BARE_DEB=1")
def test_a_bare_debian_installs_checks_and_purges_it(deb) -> None:
    proc = subprocess.run([os.path.join(REPO, "tools", "bare-machine-check"), "bookworm", "deb",
                           deb], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = proc.stdout
    assert "wibond check /usr/share/doc/wibond/examples/archwiki.conf" in out
    assert re.search(r"purged; none of its \d+ paths left", out), out
