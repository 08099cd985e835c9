"""The cached guest image (built by host/build-image), and whether a lab run can work here."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from catalog import DEFAULT_ARCH, DEFAULT_CACHE, DEFAULT_SUITE, LAB

BUILD_IMAGE = LAB / "host" / "build-image"


_image_checked = {}


def image_dir(cache=DEFAULT_CACHE, build=True, suite=DEFAULT_SUITE, arch=DEFAULT_ARCH):
    """The current cached image of SUITE; runs build-image first (once per process and suite)
    so a changed build-image or package list is never silently ignored (a no-op takes a few
    seconds)."""
    cache = str(cache)
    if build and (cache, suite, arch) not in _image_checked:
        r = subprocess.run([sys.executable, str(BUILD_IMAGE), "--cache", cache,
                            "--suite", suite, "--arch", arch],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"build-image --suite {suite} failed (rc={r.returncode}):\n"
                               f"{r.stdout[-4000:]}")
        _image_checked[(cache, suite, arch)] = r.stdout
    cur = Path(cache) / (f"current-{suite}" if arch == "amd64" else f"current-{suite}-{arch}")
    if not (cur / "complete").exists() or not (cur / "root.img").exists():
        raise FileNotFoundError(f"no {suite} lab image in {cache}; run tests/lab/host/build-image "
                                f"--suite {suite}")
    return cur.resolve()


def lab_available():
    """True when a run can work here: root, and qemu present or installable with apt-get."""
    return os.geteuid() == 0 and (shutil.which("qemu-system-x86_64") is not None
                                  or shutil.which("apt-get") is not None)
