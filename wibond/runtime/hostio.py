"""The one door from the run-time helpers to the kernel and the system.

Reads come from sysfs/procfs and `ip -j` (JSON); writes go to sysfs or
through `ip`, and every write is logged, so the journal shows exactly what
wibond did to a machine. Tests hand the helpers a fake with the same
methods (tests/fakehost.py) that keeps the kernel's rules.

Every path is a host path and goes through paths.host(), so WIBOND_ROOT
moves the files (not the `ip` commands) under a test root.
"""

from __future__ import annotations

import errno
import os

from ..common import paths

# Imports (wibond/__init__.py): shutil where it is used; subprocess (spawn), json
# (jsonread) and typing not at all.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    Log = Callable[[str], None]


IFF_UP = 0x1
TMP_SUFFIX = ".wibond-tmp"  # hostio's unfinished saves
SIOCGIFADDR = 0x8915
NETLINK_ROUTE = 0
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40


class HostError(Exception):
    """A write or a command the system refused; the text says what and why."""


class RfkillBlocked(HostError):
    """The link could not come up (or join a bond, which opens it): its radio is blocked."""


def find_program(name: str) -> str | None:
    """The program to run on this machine (whatever WIBOND_ROOT says); what the configured
    system has installed is paths.installed_program's."""
    for directory in paths.BIN_DIRS:
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            return path
    import shutil

    return shutil.which(name)


class Host:
    """The real system."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self._ip = find_program("ip") or "ip"
        self._links = None

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

    def has_addresses(self, name: str) -> bool:
        """Whether NAME holds an IPv4 or IPv6 address, asked without an `ip` process: the
        kernel's list of IPv6 addresses in procfs, and SIOCGIFADDR for IPv4 (it fails with
        EADDRNOTAVAIL when there is none)."""
        for line in (self.read("/proc/net/if_inet6") or "").splitlines():
            if line.split()[-1:] == [name]:
                return True
        import _socket  # socket.py would add enum and selectors for nothing
        import fcntl

        request = name.encode()[:15].ljust(40, b"\0")  # struct ifreq
        sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
        try:
            fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)
        except OSError as e:
            if e.errno in (errno.EADDRNOTAVAIL, errno.ENODEV):
                return False
            raise HostError(f"cannot read the IPv4 address of {name}: {e.strerror}") from None
        finally:
            sock.close()
        return True

    def unit_messages(self, units: list[str], since: float) -> str:
        """The messages UNITS (exact names) logged since SINCE (epoch seconds), a line each;
        "" when the journal cannot be read (it is a hint here, never a verdict of its own)."""
        journalctl = find_program("journalctl")
        if not journalctl or not units:
            return ""
        argv = [journalctl, f"--since=@{int(since)}", "-o", "cat", "--no-pager", "-q"]
        for unit in units:
            argv += ["-u", unit]
        try:
            code, out, _err = spawn(argv)
        except OSError:
            return ""
        return out if code == 0 else ""

    def routes(self, name: str, family: int) -> list[dict[str, Any]]:
        return self._ip_json(f"-{family}", "route", "show", "dev", name)

    def _ip_json(self, *args: str) -> list[dict[str, Any]]:
        from ..common.jsonread import loads

        try:
            code, out, _err = spawn([self._ip, "-j", *args])
        except OSError:
            return []
        if code != 0 or not out.strip():
            return []
        try:
            return loads(out)
        except ValueError:
            return []

    # -- waiting for the kernel -------------------------------------------------
    def watch_links(self, groups: int = RTMGRP_LINK) -> None:
        """Start hearing the kernel's link changes (rtnetlink's link group: up, down, carrier,
        MAC, a bond's active slave; GROUPS may add others, such as IPv4 addresses and
        routes), for wait_link_change."""
        if self._links is None:
            import _socket  # socket.py would add enum and selectors for nothing

            sock = _socket.socket(_socket.AF_NETLINK, _socket.SOCK_RAW, NETLINK_ROUTE)
            sock.bind((0, groups))
            self._links = sock

    def wait_link_change(self, timeout: float | None) -> None:
        """Return when the kernel announces a change (of what watch_links asked for), or after
        TIMEOUT seconds; what changed is for the caller to read."""
        self.watch_links()
        sock = self._links
        sock.settimeout(timeout)
        try:
            sock.recv(65536)
            sock.settimeout(0)
            while True:  # the rest of a burst, so one change is not waited for twice
                sock.recv(65536)
        except OSError:  # the timeout, or nothing more to read
            pass

    # -- writes -------------------------------------------------------------
    def write(self, path: str, value: str) -> None:
        self.log(f"write {path}: {value.strip() or '(empty)'}")
        self._write(path, value)

    def _write(self, path: str, value: str) -> None:
        try:
            with open(paths.host(path), "w", encoding="utf-8") as f:
                f.write(value)
        except OSError as e:
            if e.errno == errno.ERFKILL:
                raise RfkillBlocked(f"cannot write {value.strip()!r} to {path}: blocked by "
                                    "rfkill") from None
            reason = os.strerror(e.errno) if e.errno else str(e)
            raise HostError(f"cannot write {value.strip()!r} to {path}: {reason}") from None

    # -- links through sysfs: what `ip link set` does, without starting an `ip` (a tenth of
    # a second each in the lab's guests). The kernel runs the same functions either way.
    def set_up(self, ifname: str, up: bool) -> None:
        """`ip link set IFNAME up|down`: dev_change_flags through .../IFNAME/flags."""
        path = f"{paths.SYSFS_NET}/{ifname}/flags"
        flags = self.read(path)
        if flags is None:
            raise HostError(f"{ifname} does not exist")
        value = int(flags, 16) | IFF_UP if up else int(flags, 16) & ~IFF_UP
        self.log(f"ip link set {ifname} {'up' if up else 'down'} (sysfs flags {value:#x})")
        self._write(path, f"{value:#x}")

    def set_master(self, ifname: str, bond: str, join: bool) -> None:
        """`ip link set IFNAME master BOND` (JOIN) or `nomaster`: the bond's sysfs slaves
        file calls the bonding driver's enslave and release as rtnetlink does."""
        self.log(f"ip link set {ifname} {'master ' + bond if join else 'nomaster'} (sysfs)")
        try:
            self._write(f"{paths.SYSFS_NET}/{bond}/bonding/slaves",
                        f"{'+' if join else '-'}{ifname}")
        except RfkillBlocked:
            raise
        except HostError as e:
            raise HostError(f"{e} (the kernel log says why: journalctl -k)") from None

    def ip(self, *args: str) -> None:
        self.run(self._ip, *args)

    def run(self, program: str, *args: str, input: str | None = None) -> str:
        """Run a program that changes the system; its stdout, or HostError with its message."""
        argv = [program, *args]
        self.log(" ".join(argv))
        try:
            code, out, err = spawn(argv, input)
        except OSError as e:
            raise HostError(f"cannot run {program}: {e.strerror}") from None
        if code != 0:
            message = (err or out).strip() or f"exit status {code}"
            raise HostError(f"`{' '.join(argv)}` failed: {message}")
        return out

    def systemctl(self, *args: str) -> str:
        return self.run(self.program("systemctl") or "systemctl", *args)

    def program(self, name: str) -> str | None:
        """The path of an optional program (resolvconf, systemctl), None if not installed."""
        return find_program(name)

    # -- run-time state files (under /run/wibond) ---------------------------
    def save(self, path: str, text: str) -> None:
        self.save_bytes(path, text.encode("utf-8"))

    def save_bytes(self, path: str, data: bytes, mode: int = 0o644, durable: bool = False) -> None:
        """Replace a file atomically, making its directory if needed: a reader sees the old
        file or the new, never half of one.

        The data goes to a temporary file of a name no other process uses, created with
        O_EXCL (never a planted link followed, never two writers of one file in each other's
        way), gets MODE whatever the umask, and is renamed over PATH (a link there is
        replaced, not followed). DURABLE: on the disk before the rename, so a power cut
        leaves the old file or the new (a config on a Pi's SD card), not an empty one."""
        if not path.startswith((paths.RUN_DIR + "/", paths.TRY_DIR + "/")):
            self.log(f"write {path}")  # wibond's own bookkeeping is not news
        full = paths.host(path)
        directory = os.path.dirname(full)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        fd, tmp = _exclusive(directory, os.path.basename(full))
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), mode)
                f.write(data)
                if durable:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, full)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def remove(self, path: str) -> None:
        """Remove PATH, and what an unfinished save of it left: a step killed between
        writing the temporary file and renaming it (a dongle pulled mid-step, SIGTERM) leaves
        `.NAME.<pid>.<n>.wibond-tmp` beside it."""
        full = paths.host(path)
        try:
            if os.path.isdir(full) and not os.path.islink(full):
                import shutil

                shutil.rmtree(full)
            else:
                os.unlink(full)
        except FileNotFoundError:
            pass
        directory, base = os.path.split(full)
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for name in names:
            if name.startswith(f".{base}.") and name.endswith(TMP_SUFFIX):
                try:
                    os.unlink(os.path.join(directory, name))
                except FileNotFoundError:
                    pass


def spawn(argv: list[str], input: str | None = None) -> tuple[int, str, str]:
    """Run ARGV with INPUT on its stdin (else /dev/null): (exit code, stdout, stderr); OSError
    when it cannot be started. subprocess.run does this and imports threading, selectors,
    locale and re to do it: a fifth of a step's start."""
    import select

    pipes = [os.pipe(), os.pipe()]  # stdout, stderr; not inherited but for the dup2 below
    actions = [(os.POSIX_SPAWN_DUP2, pipes[0][1], 1), (os.POSIX_SPAWN_DUP2, pipes[1][1], 2)]
    stdin = os.pipe() if input is not None else None
    if stdin:
        actions.append((os.POSIX_SPAWN_DUP2, stdin[0], 0))
    else:
        actions.append((os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0))
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    except OSError:
        for r_w in pipes + ([stdin] if stdin else []):
            os.close(r_w[0])
            os.close(r_w[1])
        raise
    for r_w in pipes + ([stdin] if stdin else []):
        os.close(r_w[0] if r_w is stdin else r_w[1])  # the child's ends
    if stdin:
        with open(stdin[1], "wb") as f:
            try:
                f.write(input.encode())  # type: ignore[union-attr]
            except BrokenPipeError:
                pass
    chunks: dict[int, list[bytes]] = {pipes[0][0]: [], pipes[1][0]: []}
    poll = select.poll()
    for fd in chunks:
        poll.register(fd, select.POLLIN)
    open_fds = len(chunks)
    while open_fds:
        for fd, _event in poll.poll():
            data = os.read(fd, 65536)
            if data:
                chunks[fd].append(data)
            else:
                poll.unregister(fd)
                os.close(fd)
                open_fds -= 1
    _pid, status = os.waitpid(pid, 0)
    out, err = (b"".join(chunks[p[0]]).decode("utf-8", "replace") for p in pipes)
    return os.waitstatus_to_exitcode(status), out, err


def _exclusive(directory: str, base: str) -> tuple[int, str]:
    """A new file in DIRECTORY for BASE's replacement, created with O_EXCL: (fd, path).
    tempfile.mkstemp does the same and costs a step a twentieth of a second to import."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for attempt in range(100):
        tmp = os.path.join(directory, f".{base}.{os.getpid()}.{attempt}{TMP_SUFFIX}")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue  # left by a process of this pid that was killed
    raise FileExistsError(errno.EEXIST, "no free temporary name", directory)
