"""The one door from the run-time helpers to the kernel and the system.

Reads come from sysfs/procfs and `ip -j` (JSON); writes go to sysfs or
through `ip`, and every write is logged, so the journal shows exactly what
wibond did to a machine. Tests hand the helpers a fake with the same
methods (tests/fakehost.py) that keeps the kernel's rules.

Every path is a host path and goes through paths.host(), so WIBOND_ROOT
moves the files (not the `ip` commands) under a test root.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
import tempfile
from typing import Any, Callable

from . import paths

Log = Callable[[str], None]


class HostError(Exception):
    """A write or a command the system refused; the text says what and why."""


def find_program(name: str) -> str | None:
    """The program to run (on this machine, whatever WIBOND_ROOT says)."""
    for directory in paths.BIN_DIRS:
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            return path
    return shutil.which(name)


class Host:
    """The real system."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self._ip = find_program("ip") or "ip"

    # -- reads --------------------------------------------------------------
    def read(self, path: str) -> str | None:
        """A sysfs/procfs value without its trailing newline; None if absent or unreadable."""
        try:
            with open(paths.host(path), encoding="utf-8", errors="replace") as f:
                return f.read().strip()
        except OSError:
            return None

    def read_bytes(self, path: str) -> bytes | None:
        """A whole file as it is (configuration and state files); None if absent."""
        try:
            with open(paths.host(path), "rb") as f:
                return f.read()
        except OSError:
            return None

    def exists(self, path: str) -> bool:
        return os.path.lexists(paths.host(path))

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(paths.host(path)))
        except OSError:
            return []

    def readlink(self, path: str) -> str | None:
        try:
            return os.readlink(paths.host(path))
        except OSError:
            return None

    def link(self, name: str) -> dict[str, Any] | None:
        """`ip -j -d link show dev NAME`, or None when there is no such interface."""
        found = self._ip_json("-d", "link", "show", "dev", name)
        return found[0] if found else None

    def addresses(self, name: str) -> list[dict[str, Any]]:
        """The addr_info entries of `ip -j addr show dev NAME` ([] when it is gone)."""
        found = self._ip_json("addr", "show", "dev", name)
        return found[0].get("addr_info", []) if found else []

    def routes(self, name: str, family: int) -> list[dict[str, Any]]:
        return self._ip_json(f"-{family}", "route", "show", "dev", name)

    def _ip_json(self, *args: str) -> list[dict[str, Any]]:
        proc = subprocess.run([self._ip, "-j", *args], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0 or not proc.stdout.strip():
            return []
        try:
            return json.loads(proc.stdout)
        except ValueError:
            return []

    # -- writes -------------------------------------------------------------
    def write(self, path: str, value: str) -> None:
        self.log(f"write {path}: {value.strip() or '(empty)'}")
        try:
            with open(paths.host(path), "w", encoding="utf-8") as f:
                f.write(value)
        except OSError as e:
            reason = os.strerror(e.errno) if e.errno else str(e)
            if e.errno == errno.ERFKILL:
                reason = "blocked by rfkill"
            raise HostError(f"cannot write {value.strip()!r} to {path}: {reason}") from None

    def ip(self, *args: str) -> None:
        self.run(self._ip, *args)

    def run(self, program: str, *args: str, input: str | None = None) -> str:
        """Run a program that changes the system; its stdout, or HostError with its message."""
        argv = [program, *args]
        self.log(" ".join(argv))
        try:
            proc = subprocess.run(argv, input=input, capture_output=True, text=True, check=False)
        except OSError as e:
            raise HostError(f"cannot run {program}: {e.strerror}") from None
        if proc.returncode != 0:
            message = (proc.stderr or proc.stdout).strip() or f"exit status {proc.returncode}"
            raise HostError(f"`{' '.join(argv)}` failed: {message}")
        return proc.stdout

    def systemctl(self, *args: str) -> str:
        return self.run(self.program("systemctl") or "systemctl", *args)

    def program(self, name: str) -> str | None:
        """The path of an optional program (resolvconf, systemctl), None if not installed."""
        return find_program(name)

    # -- run-time state files (under /run/wibond) ---------------------------
    def save(self, path: str, text: str) -> None:
        self.save_bytes(path, text.encode("utf-8"))

    def save_bytes(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Replace a file atomically, making its directory if needed.

        The data goes to a temporary file of a unique name created with O_EXCL (never a
        planted link followed, never two writers of one file in each other's way), gets
        MODE whatever the umask, and is renamed over PATH (a link there is replaced, not
        followed)."""
        if not path.startswith(paths.RUN_DIR + "/"):  # wibond's own bookkeeping is not news
            self.log(f"write {path}")
        full = paths.host(path)
        directory = os.path.dirname(full)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(full)}.", suffix=".wibond-tmp",
                                   dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), mode)
                f.write(data)
            os.replace(tmp, full)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def remove(self, path: str) -> None:
        full = paths.host(path)
        try:
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.unlink(full)
        except FileNotFoundError:
            pass
