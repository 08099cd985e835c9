"""A bond's state as the kernel holds it, read from sysfs: the one reader.

The steps (bondctl's writes read first and change only what differs), `wibond apply`,
`wibond try`'s check and `wibond status`/`monitor` all read a bond here, through the Host
(so WIBOND_ROOT moves sysfs under a test root). Nothing here writes.
"""

from __future__ import annotations

import os

from ..common import paths
from .hostio import Host

NET = paths.SYSFS_NET
# What a kernel before 6.0 (no arp_missed_max) always uses.
KERNEL_ARP_MISSED_MAX = "2"


# -- one fact at a time (the steps ask only what they need) -------------------------

def exists(host: Host, ifname: str) -> bool:
    return host.exists(f"{NET}/{ifname}")


def is_bond(host: Host, ifname: str) -> bool:
    return host.exists(f"{NET}/{ifname}/bonding")


def ifindex(host: Host, ifname: str) -> int | None:
    """IFNAME's interface index, None when there is no such interface: a bond deleted and
    made again under its name has a new one."""
    value = host.read(f"{NET}/{ifname}/ifindex")
    return int(value) if value and value.isdigit() else None


def master_of(host: Host, ifname: str) -> str | None:
    target = host.readlink(f"{NET}/{ifname}/master")
    return os.path.basename(target) if target else None


def is_up(host: Host, ifname: str) -> bool:
    flags = host.read(f"{NET}/{ifname}/flags")
    return bool(flags) and int(flags, 16) & 0x1 == 0x1


def mac_of(host: Host, ifname: str) -> str | None:
    value = host.read(f"{NET}/{ifname}/address")
    return value.lower() if value else None


def is_radio(host: Host, ifname: str) -> bool:
    return host.exists(f"{NET}/{ifname}/phy80211") or host.exists(f"{NET}/{ifname}/wireless")


def slaves(host: Host, bond: str) -> list[str]:
    return (host.read(f"{NET}/{bond}/bonding/slaves") or "").split()


def option(host: Host, bond: str, attr: str) -> str:
    """A bonding option as sysfs shows it, its first word ("active-backup 1" -> "active-backup")."""
    value = host.read(f"{NET}/{bond}/bonding/{attr}") or ""
    return value.split()[0] if value.split() else ""


def active_slave(host: Host, bond: str) -> str:
    """The slave carrying BOND's traffic, "" for none."""
    return option(host, bond, "active_slave")


def has_carrier(host: Host, ifname: str) -> bool:
    return host.read(f"{NET}/{ifname}/carrier") == "1"


def mii_status(host: Host, ifname: str) -> str | None:
    """The bond's verdict on slave IFNAME's link ("up", "down", ...): from the carrier under
    MII monitoring, from the ARP answers under ARP monitoring."""
    return host.read(f"{NET}/{ifname}/bonding_slave/mii_status")


# -- the whole bond at once (status, monitor) -----------------------------------------

def _number(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


class SlaveState:
    __slots__ = ("name", "mac", "mii", "operstate", "wireless", "failures")

    def __init__(self, host: Host, name: str) -> None:
        base = f"{NET}/{name}"
        self.name = name
        self.mac = host.read(f"{base}/address")
        self.mii = mii_status(host, name)
        failures = host.read(f"{base}/bonding_slave/link_failure_count")
        self.failures = int(failures) if failures and failures.isdigit() else None
        self.operstate = host.read(f"{base}/operstate")
        self.wireless = is_radio(host, name)


class BondState:
    __slots__ = ("name", "exists", "mode", "active", "primary", "mac", "carrier", "slaves",
                 "fail_over_mac", "miimon", "arp_interval", "arp_targets", "arp_validate",
                 "arp_missed_max")

    def __init__(self, host: Host, name: str) -> None:
        self.name = name
        self.exists = is_bond(host, name)
        self.mode = option(host, name, "mode") or None
        self.fail_over_mac = option(host, name, "fail_over_mac") or None
        self.active = active_slave(host, name) or None
        self.primary = option(host, name, "primary") or None
        self.mac = host.read(f"{NET}/{name}/address")
        self.carrier = has_carrier(host, name)
        self.slaves = [SlaveState(host, n) for n in slaves(host, name)]
        self.miimon = _number(option(host, name, "miimon"))
        self.arp_interval = _number(option(host, name, "arp_interval"))
        self.arp_targets = (host.read(f"{NET}/{name}/bonding/arp_ip_target") or "").split()
        self.arp_validate = option(host, name, "arp_validate") or None
        # Absent before Linux 6.0, which always uses 2.
        self.arp_missed_max = (_number(option(host, name, "arp_missed_max"))
                               or int(KERNEL_ARP_MISSED_MAX))

    @property
    def carries_traffic(self) -> bool:
        """The bond exists and traffic can flow: the carrier and, where one slave carries it
        (active-backup), that slave."""
        return self.exists and self.carrier and (bool(self.active) or self.mode != "active-backup")

    @property
    def monitor(self) -> str:
        """How the bond watches its links, for people: "ARP 200 ms ..." or "MII 100 ms"."""
        if self.arp_interval:
            return (f"ARP every {self.arp_interval} ms to {', '.join(self.arp_targets) or 'no target'}"
                    f" (validate {self.arp_validate}, down after {self.arp_missed_max} missed)")
        if self.miimon:
            return f"MII every {self.miimon} ms"
        return "none (no link is watched)"

    def summary(self) -> dict:
        """The comparable part, for noticing changes."""
        return {
            "exists": self.exists,
            "active": self.active,
            "mac": self.mac,
            "carrier": self.carrier,
            "slaves": {s.name: (s.mii, s.operstate, s.failures) for s in self.slaves},
            "monitor": self.monitor,
            "arp": bool(self.arp_interval),
        }
