"""What wibond owns, and what every other network manager's backend is."""

from __future__ import annotations

import os

from ..common import paths
from ..config.model import BY_MATCH, BY_NAME, BY_PATTERN, Bond

HEADER = "# Written by wibond from {source}: these interfaces are wibond's; edit that file, not this one."
# What wibond sets ID_NET_MANAGED_BY to: any value but a manager's own makes it keep off
# (systemd-networkd 255+: io.systemd.Network; NetworkManager 1.46+: its D-Bus name).
MANAGED_BY = "io.wibond"


class Match:
    """One slave section that matches devices by properties: MACs, drivers, USB ids (each a
    list of alternatives; the kinds given must all fit)."""

    __slots__ = ("bond", "section", "macs", "drivers", "usb")

    def __init__(self, bond: str, section: str, macs: list[str], drivers: list[str],
                 usb: list[str]) -> None:
        self.bond, self.section = bond, section
        self.macs, self.drivers, self.usb = macs, drivers, usb


class Owned:
    """Every interface wibond owns: the bonds, the slaves by name, the patterns that claim the
    interfaces that appear later, and the sections that match devices by properties."""

    def __init__(self, bonds: list[Bond]) -> None:
        self.names: list[str] = []      # bonds and slaves by name, then patterns (globs)
        self.matches: list[Match] = []
        for bond in bonds:
            self._add(bond.name)
            for slave in bond.slaves:
                if slave.kind in (BY_NAME, BY_PATTERN):
                    self._add(slave.name)
                elif slave.kind == BY_MATCH:
                    self.matches.append(Match(bond.name, slave.name, list(slave.match_mac),
                                              list(slave.match_driver), list(slave.match_usb)))

    def _add(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)

    def parts(self) -> list[str]:
        """The interfaces, one entry each, as `wibond check` and `wibond status` name them."""
        parts = list(self.names)
        for m in self.matches:
            what = [f"MAC {' or '.join(m.macs)}" if m.macs else "",
                    f"driver {' or '.join(m.drivers)}" if m.drivers else "",
                    f"USB {' or '.join(m.usb)}" if m.usb else ""]
            parts.append(f"[[{m.section}]] ({', '.join(w for w in what if w)})")
        return parts

    def describe(self) -> str:
        return ", ".join(self.parts())


class Manager:
    """Another program that configures interfaces, and how wibond tells it to keep off."""

    name = ""
    units: tuple[str, ...] = ()   # its services; enabled or running means present
    # Where its files go, and the name they start with: what wibond wrote there before and no
    # longer writes is removed by that prefix.
    directory = ""
    prefix = ""

    def present(self) -> str | None:
        """How it was found on the system under the root ("systemd-networkd.service enabled"),
        or None."""
        for unit in self.units:
            if enabled(unit):
                return f"{unit} enabled"
        return None

    def files(self, owned: Owned) -> dict[str, str]:
        """Host path under /run -> content that makes it leave OWNED alone (empty: nothing)."""
        raise NotImplementedError

    def told(self, owned: Owned) -> list[str]:
        """Where wibond's word to it is (host paths), as `wibond status` checks them."""
        return list(self.files(owned))

    def reload(self) -> list[str] | None:
        """The command that makes a running manager read those files again, or None."""
        return None

    def __repr__(self) -> str:
        return f"Manager({self.name!r})"


def enabled(unit: str) -> str | None:
    """The link that enables UNIT (in some *.wants/ or *.requires/ of the unit directories
    under the root), or None; None too when /etc masks it."""
    etc = paths.host(f"/etc/systemd/system/{unit}")
    if os.path.islink(etc) and os.readlink(etc) == "/dev/null":
        return None
    for d in paths.UNIT_DIRS:
        try:
            entries = sorted(os.listdir(paths.host(d)))
        except OSError:
            continue
        for entry in entries:
            link = f"{d}/{entry}/{unit}"
            if entry.endswith((".wants", ".requires")) and os.path.lexists(paths.host(link)):
                return link
    return None


def header() -> str:
    return HEADER.format(source=paths.CONFIG)
