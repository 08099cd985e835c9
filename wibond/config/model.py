"""What a checked wibond.conf says: bonds and their slaves, defaults resolved.

Plain classes rather than dataclasses: the generator runs at boot and every
import counts (see benchmarks/generator.py).
"""

from __future__ import annotations

from ..common.formats import printable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

WIRED = "wired"
WIRELESS = "wireless"

DEFAULT_WPA_DIR = "/etc/wpa_supplicant"


# How a slave section picks its interface.
BY_NAME = "name"        # [[wlan0]]
BY_PATTERN = "pattern"  # [[wlx*]]
BY_MATCH = "match"      # [[dongle]] with match_mac / match_driver / match_usb

# arp_ip_target's word for the bond's default gateway (static, or the DHCP lease's router).
GATEWAY_TARGET = "gateway"


class Slave:
    __slots__ = ("name", "type", "wpa_conf", "driver", "bitrates", "after", "line",
                 "kind", "match_mac", "match_driver", "match_usb", "power_save", "promiscuous")

    def __init__(self, name: str, type: str, wpa_conf: str | None = None,
                 driver: str = "nl80211", bitrates: str | None = None,
                 after: str | None = None, line: int | None = None,
                 kind: str = BY_NAME, match_mac: list[str] | None = None,
                 match_driver: list[str] | None = None,
                 match_usb: list[str] | None = None, power_save: str = "off",
                 promiscuous: str = "auto") -> None:
        self.name = name
        self.type = type
        self.kind = kind
        self.match_mac = match_mac or []
        self.match_driver = match_driver or []
        self.match_usb = match_usb or []
        # None means "decide when the radio comes up" (see wpa_conf_for).
        self.wpa_conf = wpa_conf
        self.driver = driver
        self.bitrates = bitrates
        self.after = after
        self.line = line
        # What the radio's driver quirks call for (config/quirks.py) and these allow.
        self.power_save = power_save
        self.promiscuous = promiscuous

    @property
    def wireless(self) -> bool:
        return self.type == WIRELESS

    @property
    def dynamic(self) -> bool:
        """True when the interface is not known by name until it appears."""
        return self.kind != BY_NAME

    def __repr__(self) -> str:
        return f"Slave({self.name!r}, {self.type!r})"


class Bond:
    OPTIONS = ("mode", "primary", "primary_reselect",
                 "fail_over_mac", "miimon", "updelay", "downdelay",
                 "arp_interval", "arp_ip_target", "arp_validate", "arp_all_targets",
                 "arp_missed_max", "num_grat_arp", "num_unsol_na",
                 "mac", "address", "gateway", "gateway6", "metric", "dns",
                 "dhcp", "dhcp_client", "hostname", "duid", "ipv6_addr_gen")
    __slots__ = ("name", "slaves", "line") + OPTIONS

    mode: str
    primary: str | None
    primary_reselect: str
    fail_over_mac: str
    miimon: int
    updelay: int
    downdelay: int
    arp_interval: int
    arp_ip_target: list[str]
    arp_validate: str
    arp_all_targets: str
    arp_missed_max: int
    num_grat_arp: int
    num_unsol_na: int
    mac: str | None
    address: list[str]
    gateway: str | None
    gateway6: str | None
    metric: int
    dns: list[str]
    dhcp: list[str]
    dhcp_client: str
    hostname: str | None
    duid: str
    ipv6_addr_gen: str

    def __init__(self, name: str, slaves: list[Slave], **options: object) -> None:
        self.name = name
        self.slaves = slaves
        self.line: int | None = None
        for key, value in options.items():
            setattr(self, key, value)

    def slave(self, name: str) -> Slave | None:
        """The section called `name` (an interface name, pattern or label)."""
        for slave in self.slaves:
            if slave.name == name:
                return slave
        return None

    @property
    def named_slaves(self) -> list[Slave]:
        return [s for s in self.slaves if not s.dynamic]

    @property
    def dynamic_slaves(self) -> list[Slave]:
        return [s for s in self.slaves if s.dynamic]

    @property
    def wireless_slaves(self) -> list[Slave]:
        return [s for s in self.slaves if s.wireless]

    @property
    def wired_slaves(self) -> list[Slave]:
        return [s for s in self.slaves if not s.wireless]

    @property
    def arp_follows_lease(self) -> bool:
        """ARP monitoring of the gateway a DHCP lease names: MII monitoring until it is known."""
        return (bool(self.arp_interval) and GATEWAY_TARGET in self.arp_ip_target
                and not self.gateway and "ipv4" in self.dhcp)

    def monitoring(self) -> str:
        """How the links are watched, for people."""
        if self.arp_interval:
            targets = ", ".join(self.arp_targets(lease_gateway="the DHCP lease's router"))
            until = f" (MII every {self.miimon} ms until the lease)" if self.arp_follows_lease else ""
            return (f"ARP every {self.arp_interval} ms to {targets}, validate {self.arp_validate}"
                    f"{until}")
        return f"MII every {self.miimon} ms" if self.miimon else "none"

    def arp_targets(self, lease_gateway: str | None = None) -> list[str]:
        """The ARP targets to set: `gateway` is the static gateway, else LEASE_GATEWAY (left
        out while there is none)."""
        gateway = self.gateway or lease_gateway
        out = []
        for target in self.arp_ip_target:
            if target == GATEWAY_TARGET:
                target = gateway or ""
            if target and target not in out:
                out.append(target)
        return out

    def __repr__(self) -> str:
        return f"Bond({self.name!r}, {self.slaves!r})"


# -- what was said about the file, and what passed --

ERROR = "error"
WARNING = "warning"
NOTE = "note"       # worth knowing, nothing wrong


class Diagnostic:
    __slots__ = ("severity", "path", "line", "section", "key", "message")

    def __init__(self, severity: str, path: str, message: str, line: int | None = None,
                 section: tuple[str, ...] = (), key: str | None = None) -> None:
        self.severity = severity
        self.path = path
        self.line = line
        self.section = section
        self.key = key
        self.message = message

    @property
    def bond(self) -> str | None:
        return self.section[0] if self.section else None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        parts = [where + ":", self.severity + ":"]
        if self.section:
            parts.append(" ".join("[" * (i + 1) + name + "]" * (i + 1)
                                  for i, name in enumerate(self.section)))
        text = " ".join(parts)
        if self.key:
            text += f" {self.key}:"
        return printable(f"{text} {self.message}")

    def __repr__(self) -> str:
        return f"Diagnostic({str(self)!r})"


class Loaded:
    """The bonds that passed every check, what was said about the file, and the stamp of
    the content they were read from (None when not read from a file)."""

    def __init__(self, path: str, bonds: list[Bond], diagnostics: list[Diagnostic],
                 stamp: list[int] | None = None) -> None:
        self.path = path
        self.bonds = bonds
        self.diagnostics = diagnostics
        self.stamp = stamp

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    def bond(self, name: str) -> Bond | None:
        for bond in self.bonds:
            if bond.name == name:
                return bond
        return None


def stamp(raw: bytes | None) -> list[int] | None:
    """What tells one content of a file from another: [size, CRC-32]; None for no file."""
    import zlib

    return None if raw is None else [len(raw), zlib.crc32(raw)]


def default_type(ifname: str) -> str:
    return WIRELESS if ifname.startswith("wl") else WIRED


def wpa_conf_for(slave: Slave, ifname: str, exists: Callable[[str], bool]) -> str:
    """The wpa_supplicant config radio IFNAME of section SLAVE uses; `exists(path)` looks
    at the host."""
    if slave.wpa_conf:
        return slave.wpa_conf
    own = f"{DEFAULT_WPA_DIR}/wpa_supplicant-{ifname}.conf"
    if exists(own):
        return own
    return f"{DEFAULT_WPA_DIR}/wpa_supplicant.conf"
