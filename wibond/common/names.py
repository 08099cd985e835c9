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


GLOB_CHARS = frozenset("*?[]!")

# Names wibond cannot hand to `ip`, sysfs or the kernel as an interface: iproute2 reads them as
# keywords where a device name stands (`ip link set master ...`), the kernel refuses them or
# they are not interfaces to bond (lo, the bonding control file).
RESERVED = frozenset("""
    lo all default bonding_masters dev master nomaster up down type name help address
    broadcast mtu netns link group vrf alias index txqueuelen qlen arp multicast dynamic
    promisc allmulticast trailers carrier protodown state vf xdp nohelp
""".split())


def ifname_problem(name: str) -> str | None:
    """Why `name` cannot be an interface name wibond uses, or None if it can."""
    problem = _name_problem(name, "interface name", IFNAMSIZ - 1, frozenset())
    if problem is None and name.startswith("."):
        # systemd escapes a leading '.' in an instance (\x2e) but not inside a device path, so
        # the BindsTo= of the slave unit would name a device unit that never appears.
        return f"interface name {name!r} starts with '.'; wibond's units cannot follow it"
    if problem is None and name.startswith("-"):
        # wpa_supplicant, iw and ip would read it as an option
        return f"interface name {name!r} starts with '-'; programs would read it as an option"
    if problem is None and name in RESERVED:
        return (f"{name!r} cannot be an interface wibond bonds: `ip` reads it as a keyword, "
                "or it is not a network device")
    return problem


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be a shell pattern for interface names, or None."""
    return _name_problem(pattern, "interface pattern", 64, GLOB_CHARS)


def label_problem(label: str) -> str | None:
    """Why `label` cannot name a section that matches by match_ keys, or None."""
    return _name_problem(label, "label", 64, frozenset())


def is_pattern(name: str) -> bool:
    return any(ch in GLOB_CHARS for ch in name)


def _name_problem(name: str, what: str, limit: int, extra: frozenset) -> str | None:
    if not name:
        return f"an {what} cannot be empty" if what[0] in "aeiou" else f"a {what} cannot be empty"
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) > limit:
        return f"{what} {name!r} is {len(raw)} bytes long; the limit is {limit}"
    if name in (".", ".."):
        return f"{name!r} cannot be an {what}"
    for ch in name:
        if ch not in _SAFE and ch not in extra:
            allowed = "letters, digits, '.', '_' and '-'"
            if extra:
                allowed = "letters, digits, '.', '_', '-' and " + " ".join(sorted(extra))
            return f"{what} {name!r} contains {_describe(ch)}; use {allowed}"
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
