"""The Arch package: `make pkg` builds it from a `make dist` tarball with makepkg (as an
unprivileged user), it holds exactly what `make install` lays out plus the license, pacman
reads its dependencies, and `pacman -U --root` installs it into an image tree.

Needs makepkg and pacman (Debian: makepkg, pacman-package-manager, libarchive-tools, fakeroot,
zstd; .ci/run installs them). makepkg's check() runs the host tests as that user with the
system's python3 (python3-pytest, -configobj, -pyudev, -hypothesis)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest
from treeutil import read_tree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

pytestmark = pytest.mark.skipif(
    (shutil.which("makepkg") is None or shutil.which("pacman") is None
     or shutil.which("git") is None) and not os.environ.get("CI"),
    reason="makepkg and pacman are not installed")


def files(top: str) -> set[str]:
    out = set()
    for dirpath, _dirs, names in os.walk(top):
        out |= {os.path.relpath(os.path.join(dirpath, n), top) for n in names}
    return out


@pytest.fixture(scope="module")
def package():
    # makepkg runs as another user when we are root: a directory it can reach, not pytest's
    # (0700) temporary tree.
    build = tempfile.mkdtemp(prefix="wibond-pkg-")
    os.chmod(build, 0o755)
    try:
        proc = subprocess.run(["make", "-s", "-C", REPO, "pkg", f"PKGBUILDDIR={build}/b"],
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        found = [n for n in os.listdir(f"{build}/b") if n.endswith(".pkg.tar.zst")]
        assert len(found) == 1, found
        yield os.path.join(build, "b", found[0])
    finally:
        shutil.rmtree(build, ignore_errors=True)


def test_package_holds_what_make_install_lays_out_and_the_license(package, tmp_path) -> None:
    dest = tmp_path / "img"
    subprocess.run(["make", "-s", "-C", REPO, "install", f"DESTDIR={dest}"], check=True,
                   capture_output=True, timeout=120)
    want = files(str(dest)) | {"usr/share/licenses/wibond/LICENSE"}
    listing = subprocess.run(["bsdtar", "-tf", package], capture_output=True, text=True,
                             check=True).stdout.split("\n")
    got = {p for p in listing if p and not p.endswith("/") and not p.startswith(".")}
    # makepkg compresses man pages, as every Arch package's
    got = {re.sub(r"^(usr/share/man/.*)\.gz$", r"\1", p) for p in got}
    assert got == want


def test_pacman_reads_the_dependencies(package, tmp_path) -> None:
    db = tmp_path / "db"
    db.mkdir()
    info = subprocess.run(["pacman", "--dbpath", str(db), "-Qip", package],
                          capture_output=True, text=True, timeout=60).stdout
    fields: dict[str, str] = {}
    key = ""
    for line in info.splitlines():  # pacman wraps long fields onto indented lines
        m = re.match(r"^(\S[^:]*?)\s*: (.*)$", line)
        if m:
            key = m.group(1)
            fields[key] = m.group(2)
        elif key and line.startswith(" "):
            fields[key] += " " + line.strip()
    assert fields["Name"] == "wibond" and fields["Architecture"] == "any"
    assert fields["Licenses"] == "MIT"
    assert fields["Depends On"].split() == ["python", "python-configobj", "python-pyudev",
                                            "iproute2", "iw", "wpa_supplicant", "systemd"]
    assert fields["Optional Deps"].startswith("dhcpcd: ")
    assert "dhclient: " in info and "wide-dhcpv6: " in info


def test_pacman_installs_it_into_an_image_tree(package, tmp_path) -> None:
    root = tmp_path / "alarm"
    (root / "var/lib/pacman").mkdir(parents=True)
    proc = subprocess.run(["pacman", "-U", "--root", str(root), "--dbpath",
                           str(root / "var/lib/pacman"), "-dd", "--noscriptlet", "--noconfirm",
                           package], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for path in ("usr/lib/systemd/system-generators/wibond-generator", "usr/bin/wibond",
                 "usr/lib/wibond/units/dhcpcd@.service", "usr/share/licenses/wibond/LICENSE",
                 "usr/lib/udev/rules.d/90-wibond.rules"):
        assert (root / path).exists(), path
    assert os.access(root / "usr/lib/systemd/system-generators/wibond-generator", os.X_OK)
    # the installed generator runs from the image tree as it will at boot
    golden = os.path.join(HERE, "golden", "example-archwiki")
    host = tmp_path / "host"
    shutil.copytree(os.path.join(golden, "root"), host)
    os.unlink(host / "etc" / "wibond.conf")
    shutil.copy(os.path.join(REPO, "examples", "archwiki.conf"), host / "etc" / "wibond.conf")
    out = tmp_path / "out"
    out.mkdir()
    # sys.executable: a Python that has configobj, as the image's python has python-configobj
    # (the first python3 on PATH may be one without it, such as a pyenv build)
    gen = subprocess.run([sys.executable, str(root / "usr/lib/systemd/system-generators/wibond-generator"),
                          str(out)], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, WIBOND_ROOT=str(host),
                                  PYTHONPATH=str(root / "usr/lib/wibond/python")))
    assert gen.returncode == 0, gen.stderr
    assert read_tree(str(out)) == read_tree(os.path.join(golden, "expected"))


def test_srcinfo_is_made_from_the_pkgbuild_and_versions_agree(tmp_path) -> None:
    build = tempfile.mkdtemp(prefix="wibond-srcinfo-")
    os.chmod(build, 0o755)
    try:
        shutil.copy(os.path.join(REPO, "packaging", "arch", "PKGBUILD"), build)
        cmd = ["makepkg", "--printsrcinfo"]
        if os.geteuid() == 0:
            shutil.chown(build, "nobody")
            cmd = ["runuser", "-u", "nobody", "--", "env", f"HOME={build}"] + cmd
        made = subprocess.run(cmd, cwd=build, capture_output=True, text=True, timeout=60,
                              check=True).stdout
    finally:
        shutil.rmtree(build, ignore_errors=True)
    with open(os.path.join(REPO, "packaging", "arch", ".SRCINFO")) as f:
        assert f.read() == made, "run `make srcinfo` and commit packaging/arch/.SRCINFO"
    from wibond import __version__

    assert f"\tpkgver = {__version__}\n" in made
