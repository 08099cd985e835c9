"""Which slave section an interface belongs to.

A section named exactly like the interface wins. Otherwise the first section,
in file order, whose pattern or match_ keys fit the device claims it. A
device that fits sections of two different bonds joins neither: that is
reported, never guessed. `wibond check` refuses the overlaps it can see in
the file; this catches the rest (say a driver in one bond and a USB id in
another) when the device appears.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from .model import BY_MATCH, BY_NAME, BY_PATTERN, Bond, Slave


class Device:
    """What matching needs to know about an interface."""

    __slots__ = ("name", "mac", "driver", "usb")

    def __init__(self, name: str, mac: str | None = None, driver: str | None = None,
                 usb: str | None = None) -> None:
        self.name = name
        self.mac = mac.lower() if mac else None
        self.driver = driver
        self.usb = usb.lower() if usb else None  # "vvvv:pppp"

    def __repr__(self) -> str:
        return f"Device({self.name!r}, mac={self.mac!r}, driver={self.driver!r}, usb={self.usb!r})"


def fits(slave: Slave, dev: Device) -> bool:
    return _FITS[slave.kind](slave, dev)


def _fits_labels(slave: Slave, dev: Device) -> bool:
    """Every match_ key the section sets fits the device."""
    if slave.match_mac and dev.mac not in slave.match_mac:
        return False
    if slave.match_driver and not (dev.driver and any(fnmatchcase(dev.driver, p)
                                                       for p in slave.match_driver)):
        return False
    if slave.match_usb and dev.usb not in slave.match_usb:
        return False
    return True


# How a section of each kind (model.BY_*) picks its interface.
_FITS = {
    BY_NAME: lambda slave, dev: slave.name == dev.name,
    BY_PATTERN: lambda slave, dev: fnmatchcase(dev.name, slave.name),
    BY_MATCH: _fits_labels,
}


class Conflict(Exception):
    """The device fits sections of more than one bond."""


def find(bonds: list[Bond], dev: Device) -> tuple[Bond, Slave] | None:
    """The (bond, section) `dev` joins, None if none; Conflict if two bonds want it."""
    for bond in bonds:
        for slave in bond.named_slaves:
            if slave.name == dev.name:
                return bond, slave
    claims = []
    for bond in bonds:
        for slave in bond.dynamic_slaves:
            if fits(slave, dev):
                claims.append((bond, slave))
                break
    if len(claims) > 1:
        where = ", ".join(f"[{b.name}] [[{s.name}]]" for b, s in claims)
        raise Conflict(f"{dev.name} fits {where}; a device can join one bond only, "
                       "so it joins none: make the sections exclusive")
    return claims[0] if claims else None


CERTAIN = "certain"
POSSIBLE = "possible"


def overlap(a: Slave, b: Slave) -> str | None:
    """Whether two dynamic sections of different bonds can claim one device, as
    far as the file shows: CERTAIN, POSSIBLE (only the device can tell) or None."""
    if a.kind == BY_PATTERN and b.kind == BY_PATTERN:
        return CERTAIN if fnmatchcase(a.name, b.name) or fnmatchcase(b.name, a.name) else None
    if a.kind == BY_MATCH and b.kind == BY_MATCH:
        shared = False
        for key in ("match_mac", "match_driver", "match_usb"):
            va, vb = getattr(a, key), getattr(b, key)
            if va and vb:
                if not set(va) & set(vb):
                    return None
                shared = True
        return CERTAIN if shared else POSSIBLE
    return POSSIBLE
