"""Interface names and systemd unit-name escaping.

Interface names reach unit names, command lines and sysfs paths, so they are
checked strictly here, once, and everything else trusts them.
"""

from __future__ import annotations

IFNAMSIZ = 16  # the kernel's limit includes the terminating NUL

# Stricter than the kernel: every name udev's predictable naming produces
# (enp0s10, wlp3s0, wlx001122334455, wlan0, eth0) passes, and nothing that
# needs quoting in a unit file, a shell or a udev rule does.
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")

# Characters systemd leaves unescaped in unit names (src/basic/unit-name.c).
_UNIT_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.")


def ifname_problem(name: str) -> str | None:
    """Why `name` cannot be an interface name wibond uses, or None if it can."""
    if not name:
        return "an interface name cannot be empty"
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) > IFNAMSIZ - 1:
        return f"interface name {name!r} is {len(raw)} bytes long; the limit is {IFNAMSIZ - 1}"
    if name in (".", ".."):
        return f"{name!r} cannot be an interface name"
    for ch in name:
        if ch not in _SAFE:
            return (f"interface name {name!r} contains {_describe(ch)}; "
                    "use letters, digits, '.', '_' and '-'")
    return None


def _describe(ch: str) -> str:
    named = {" ": "a space", "\t": "a tab", "\n": "a newline", "/": "'/'"}
    if ch in named:
        return named[ch]
    if ch.isprintable():
        return repr(ch)
    return f"the byte {ord(ch):#04x}"


def _escape(text: str, path: bool) -> str:
    out = []
    for i, byte in enumerate(text.encode("utf-8", "surrogateescape")):
        ch = chr(byte)
        if path and ch == "/":
            out.append("-")
        elif ch in _UNIT_PLAIN and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


def escape_instance(text: str) -> str:
    """`systemd-escape TEXT`: the form of TEXT inside a unit name (%i)."""
    return _escape(text, path=False)


def escape_path(path: str) -> str:
    """`systemd-escape --path PATH`."""
    trimmed = "/".join(p for p in path.split("/") if p)
    return _escape(trimmed, path=True) if trimmed else "-"


def device_unit(ifname: str) -> str:
    """The device unit systemd makes for network interface `ifname`."""
    return escape_path(f"/sys/subsystem/net/devices/{ifname}") + ".device"
