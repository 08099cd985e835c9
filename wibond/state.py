"""What the kernel says about a bond right now, read from sysfs (read-only).

Used by `wibond status` and `wibond monitor`; the run-time helpers that change
things go through hostio.py.
"""

from __future__ import annotations

import os

from . import paths


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
    __slots__ = ("name", "mac", "mii", "operstate", "wireless")

    def __init__(self, name: str) -> None:
        base = f"{paths.SYSFS_NET}/{name}"
        self.name = name
        self.mac = _read(f"{base}/address")
        self.mii = _read(f"{base}/bonding_slave/mii_status")
        self.operstate = _read(f"{base}/operstate")
        self.wireless = os.path.isdir(paths.host(f"{base}/wireless")) or \
            os.path.exists(paths.host(f"{base}/phy80211"))

    def as_tuple(self) -> tuple:
        return (self.name, self.mac, self.mii, self.operstate)


class BondState:
    __slots__ = ("name", "exists", "mode", "active", "primary", "mac", "carrier", "slaves",
                 "fail_over_mac")

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

    def summary(self) -> dict:
        """The comparable part, for noticing changes."""
        return {
            "exists": self.exists,
            "active": self.active,
            "mac": self.mac,
            "carrier": self.carrier,
            "slaves": {s.name: (s.mii, s.operstate) for s in self.slaves},
        }


def interfaces() -> list[str]:
    try:
        return sorted(os.listdir(paths.host(paths.SYSFS_NET)))
    except OSError:
        return []
