"""One value at a time: the custom checks the configspec names, for configobj's validate
module (an interface name, an address, a MAC, a list of them). What follows from several
keys together is rules.py.

Each takes the raw value (a string, or a list where the value had commas) and
returns the checked value or raises a validate error whose text ends up in a
diagnostic naming file, line, section and key.
"""

from __future__ import annotations

import re

from validate import VdtTypeError, VdtValueError, VdtValueTooLongError

from ..common.names import ifname_problem, pattern_problem
from .model import GATEWAY_TARGET

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at boot (wibond/__init__.py)
    from typing import Any, Callable


class CheckError(VdtValueError):
    """A value error whose message is ours, not validate's generic one."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)


def _as_list(value: Any) -> list[str]:
    # A lone value is allowed where a list is, without a trailing comma, and
    # an empty value ("key =") is an empty list.
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    return [str(v).strip() for v in items if str(v).strip()]


def _scalar(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        raise CheckError("takes one value, not a list (remove the comma)")
    return str(value).strip()


def ifname(value: Any) -> str | None:
    text = _scalar(value)
    if not text:
        return None
    problem = ifname_problem(text)
    if problem:
        raise CheckError(problem)
    return text


def section_ref(value: Any) -> str | None:
    text = _scalar(value)
    if not text:
        return None
    problem = pattern_problem(text)
    if problem:
        raise CheckError(problem.replace("interface pattern", "slave name"))
    return text


_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


def mac(value: Any) -> str | None:
    text = _scalar(value)
    if not text:
        return None
    if not _MAC.match(text):
        raise CheckError(f"{text!r} is not a MAC address like 02:11:22:33:44:55")
    first = int(text[:2], 16)
    if first & 1:
        raise CheckError(f"{text} is a multicast MAC address; a link needs a unicast one")
    if text.lower() == "00:00:00:00:00:00":
        raise CheckError("00:00:00:00:00:00 is not a usable MAC address")
    return text.lower()


def _ip(text: str, version: int | None, scoped: bool = False) -> str:
    if "%" in text:
        # Python takes any text after '%' as an IPv6 scope id, newlines included: it must be
        # an interface name, and only where the consumer (resolv.conf) knows scopes.
        addr_part, _, scope = text.partition("%")
        if not scoped:
            raise CheckError(f"{text!r}: a scope id (%interface) is not used here; the bond "
                             "is the interface")
        problem = ifname_problem(scope)
        if problem:
            raise CheckError(f"{text!r}: the scope id must be an interface name: {problem}")
        if ":" not in addr_part:
            raise CheckError(f"{text!r}: only an IPv6 address takes a scope id")
    import ipaddress  # only for a config with addresses: the generator runs at every boot

    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        kind = {4: "an IPv4", 6: "an IPv6", None: "an IP"}[version]
        raise CheckError(f"{text!r} is not {kind} address") from None
    if version and addr.version != version:
        raise CheckError(f"{text} is not an IPv{version} address")
    return str(addr)


def ipv4(value: Any) -> str | None:
    text = _scalar(value)
    return _ip(text, 4) if text else None


def ipv6(value: Any) -> str | None:
    text = _scalar(value)
    return _ip(text, 6) if text else None


def ip_list(value: Any) -> list[str]:
    """DNS servers: an IPv6 link-local server may name its interface (fe80::1%bond0)."""
    return [_ip(t, None, scoped=True) for t in _as_list(value)]


def arp_target_list(value: Any, max: str | None = None) -> list[str]:
    """IPv4 addresses, or the word gateway (the bond's default gateway, resolved at run time)."""
    items = []
    for text in _as_list(value):
        item = text if text == GATEWAY_TARGET else _ip(text, 4)
        if item not in items:  # the kernel holds each target once
            items.append(item)
    if max is not None and len(items) > int(max):
        raise VdtValueTooLongError(items)
    return items


def ip_interface_list(value: Any) -> list[str]:
    import ipaddress

    out = []
    for text in _as_list(value):
        if "/" not in text:
            raise CheckError(f"{text!r} needs a prefix length, e.g. {text}/24")
        if "%" in text:
            raise CheckError(f"{text!r}: a scope id (%interface) is not used here; the bond "
                             "is the interface")
        try:
            iface = ipaddress.ip_interface(text)
        except ValueError:
            raise CheckError(f"{text!r} is not an address with prefix length") from None
        out.append(str(iface))
    return out


DHCP_FAMILIES = ("ipv4", "ipv6")


def dhcp_list(value: Any) -> list[str]:
    items = [t.lower() for t in _as_list(value)]
    if items == ["none"] or not items:
        return []
    if items == ["both"]:
        return list(DHCP_FAMILIES)
    for item in items:
        if item not in DHCP_FAMILIES:
            raise CheckError(f"{item!r} is not one of ipv4, ipv6, both, none")
    return [f for f in DHCP_FAMILIES if f in items]


_HOSTNAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


def hostname(value: Any) -> str | None:
    text = _scalar(value)
    if not text:
        return None
    if len(text) > 253 or not _HOSTNAME.match(text):
        raise CheckError(f"{text!r} is not a valid host name")
    return text


_HEX_DUID = re.compile(r"^[0-9a-fA-F]{2}([:-]?[0-9a-fA-F]{2})+$")


def duid(value: Any) -> str:
    text = _scalar(value)
    if not text or text.lower() == "auto":
        return "auto"
    if not _HEX_DUID.match(text):
        raise CheckError(f"{text!r} is not auto or a hex DUID like 00:02:00:00:ab:11:...")
    raw = bytes.fromhex(re.sub(r"[:-]", "", text))
    # RFC 8415 11.1: a 2-byte type and at most 128 bytes of identifier.
    if not 3 <= len(raw) <= 130:
        raise CheckError(f"a DUID is 3 to 130 bytes long; {text!r} is {len(raw)}")
    return ":".join(f"{b:02x}" for b in raw)


def abspath(value: Any) -> str | None:
    text = _scalar(value)
    if not text:
        return None
    if not text.startswith("/"):
        raise CheckError(f"{text!r} must be an absolute path")
    if any(c.isspace() or not c.isprintable() for c in text):
        raise CheckError(f"{text!r} contains white space or control characters")
    bad = sorted(set(text) & set(_PATH_UNSAFE))
    if bad:
        # It reaches an EnvironmentFile and wpa_supplicant's command line: a trailing
        # backslash would join the next line, quotes and $ change what systemd reads.
        raise CheckError(f"{text!r} contains {' '.join(bad)}; a path wibond passes on holds "
                         "none of " + " ".join(_PATH_UNSAFE))
    return text


_PATH_UNSAFE = "\\\"'$`%;"


_DRIVER = re.compile(r"^[a-z0-9_]+$")


def driver(value: Any) -> str:
    items = _as_list(value)
    if not items:
        raise CheckError("needs a driver name such as nl80211")
    for item in items:
        if not _DRIVER.match(item):
            raise CheckError(f"{item!r} is not a wpa_supplicant driver name")
    return ",".join(items)


_BITRATE_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]+$")


def bitrates(value: Any) -> str | None:
    if isinstance(value, (list, tuple)):
        raise CheckError("separate the bitrate words with spaces, not commas")
    text = " ".join(str(value).split())
    if not text:
        return None
    for token in text.split(" "):
        if not _BITRATE_TOKEN.match(token):
            raise CheckError(f"{token!r} is not a word `iw set bitrates` takes")
    return text


def mac_list(value: Any) -> list[str]:
    return [m for m in (mac(t) for t in _as_list(value)) if m]


def pattern_list(value: Any) -> list[str]:
    items = _as_list(value)
    for item in items:
        problem = pattern_problem(item)
        if problem:
            raise CheckError(problem.replace("interface pattern", "pattern"))
    return items


_USB_ID = re.compile(r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$")


def usb_id_list(value: Any) -> list[str]:
    items = _as_list(value)
    for item in items:
        if not _USB_ID.match(item):
            raise CheckError(f"{item!r} is not a USB vendor:product like 0bda:8179")
    return [i.lower() for i in items]


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "mac_list": mac_list,
    "section_ref": section_ref,
    "pattern_list": pattern_list,
    "usb_id_list": usb_id_list,
    "ifname": ifname,
    "mac": mac,
    "ipv4": ipv4,
    "ipv6": ipv6,
    "ip_list": ip_list,
    "arp_target_list": arp_target_list,
    "ip_interface_list": ip_interface_list,
    "dhcp_list": dhcp_list,
    "hostname": hostname,
    "duid": duid,
    "abspath": abspath,
    "driver": driver,
    "bitrates": bitrates,
}

__all__ = ["FUNCTIONS", "CheckError", "VdtTypeError"]
