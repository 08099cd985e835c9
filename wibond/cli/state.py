"""What the kernel says about a bond right now, read from sysfs (read-only).

Used by `wibond status` and `wibond monitor`; the run-time helpers that change
things go through hostio.py.
"""

from __future__ import annotations

import os

from ..common import paths
from ..runtime.bondctl import KERNEL_ARP_MISSED_MAX


def _read(path: str) -> str | None:
    try:
        with open(paths.host(path), encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def _word(value: str | None) -> str | None:
    # sysfs writes some options as "active-backup 1": keep the name.
    return value.split()[0] if value else None


class SlaveState:
    __slots__ = ("name", "mac", "mii", "operstate", "wireless", "failures")

    def __init__(self, name: str) -> None:
        base = f"{paths.SYSFS_NET}/{name}"
        self.name = name
        self.mac = _read(f"{base}/address")
        # The bond's verdict on the link: from the carrier under MII monitoring, from the
        # ARP answers under ARP monitoring (a carrier can be up with no answer).
        self.mii = _read(f"{base}/bonding_slave/mii_status")
        failures = _read(f"{base}/bonding_slave/link_failure_count")
        self.failures = int(failures) if failures and failures.isdigit() else None
        self.operstate = _read(f"{base}/operstate")
        self.wireless = os.path.isdir(paths.host(f"{base}/wireless")) or \
            os.path.exists(paths.host(f"{base}/phy80211"))

    def as_tuple(self) -> tuple:
        return (self.name, self.mac, self.mii, self.operstate)


class BondState:
    __slots__ = ("name", "exists", "mode", "active", "primary", "mac", "carrier", "slaves",
                 "fail_over_mac", "miimon", "arp_interval", "arp_targets", "arp_validate",
                 "arp_missed_max")

    def __init__(self, name: str) -> None:
        base = f"{paths.SYSFS_NET}/{name}"
        bonding = f"{base}/bonding"
        self.name = name
        self.exists = os.path.isdir(paths.host(bonding))
        self.mode = _word(_read(f"{bonding}/mode"))
        self.fail_over_mac = _word(_read(f"{bonding}/fail_over_mac"))
        self.active = _read(f"{bonding}/active_slave") or None
        self.primary = _read(f"{bonding}/primary") or None
        self.mac = _read(f"{base}/address")
        self.carrier = _read(f"{base}/carrier") == "1"
        names = (_read(f"{bonding}/slaves") or "").split()
        self.slaves = [SlaveState(n) for n in names]
        self.miimon = _number(_read(f"{bonding}/miimon"))
        self.arp_interval = _number(_read(f"{bonding}/arp_interval"))
        self.arp_targets = (_read(f"{bonding}/arp_ip_target") or "").split()
        self.arp_validate = _word(_read(f"{bonding}/arp_validate"))
        # Absent before Linux 6.0, which always uses 2.
        self.arp_missed_max = (_number(_read(f"{bonding}/arp_missed_max"))
                               or int(KERNEL_ARP_MISSED_MAX))

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


def _number(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def interfaces() -> list[str]:
    try:
        return sorted(os.listdir(paths.host(paths.SYSFS_NET)))
    except OSError:
        return []
