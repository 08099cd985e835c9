"""The other network managers on the machine, and what wibond tells each to keep off its
interfaces (the bonds, their slaves by name and by pattern, the devices slave sections match
by MAC, driver or USB id).

Each manager is a backend (one module each): how to tell it is on this system, the files
under /run it reads that make it leave an interface alone (the hand-off it documents; nothing
under /etc is edited, no manager is stopped, each keeps managing its own interfaces), and how
a running one reads them again. The files are a pure function of the config; the run-time
step that writes them (runtime/handoff.py) runs before the managers start at boot
(wibond-managers.service) and at every start of a bond, so an interface the config no longer
names goes back to its manager.

What no file under /run can say is settled where the units are, by the generator
(boot/generator.py): dhcpcd.service gets a drop-in that denies it wibond's interfaces on its
command line; another unit's supplicant on a radio (`conflicts`) is stopped by wibond's
(Conflicts=), and an enabled iwd is named with its fix.
"""

from __future__ import annotations

from ..config.model import Bond
from .base import Manager, Owned, enabled
from .dhcpcd import DHCPCD
from .dhcpcd import DROPIN as DHCPCD_DROPIN
from .dhcpcd import UNIT as DHCPCD_UNIT
from .networkd import NETWORKD
from .networkmanager import NETWORK_MANAGER
from .udevprops import UDEV

MANAGERS: tuple[Manager, ...] = (NETWORKD, NETWORK_MANAGER, DHCPCD, UDEV)


def files(bonds: list[Bond]) -> dict[str, str]:
    """Every file every manager gets for BONDS. Written whether or not a manager is found:
    one installed later, or started by hand, keeps off all the same."""
    owned = Owned(bonds)
    out: dict[str, str] = {}
    for manager in MANAGERS:
        out.update(manager.files(owned))
    return out


def found() -> list[tuple[Manager, str]]:
    """The managers present on this system, with how each was found."""
    return [(m, how) for m in MANAGERS if (how := m.present()) and m is not UDEV]


def conflicts(bonds: list[Bond]) -> list[tuple[str, str, str]]:
    """Units of other programs that would drive a radio wibond drives: (bond, unit, what
    wibond does about it)."""
    out = []
    for bond in bonds:
        for slave in bond.named_slaves:
            if not slave.wireless:
                continue
            for unit in (f"wpa_supplicant@{slave.name}.service",
                         f"wpa_supplicant-nl80211@{slave.name}.service",
                         f"netctl-auto@{slave.name}.service"):
                if enabled(unit):
                    out.append((bond.name, unit, f"{slave.name} is wibond's radio"))
        if any(s.wireless for s in bond.slaves) and enabled("iwd.service"):
            out.append((bond.name, "iwd.service", "iwd drives every radio it finds"))
    return out


def dhcpcd_command(bonds: list[Bond]) -> str | None:
    """dhcpcd.service's command line with wibond's interfaces denied, when it is enabled (the
    generator puts it in a drop-in), else None."""
    return DHCPCD.deny_command(Owned(bonds)) if DHCPCD.present() else None


__all__ = ["DHCPCD", "DHCPCD_DROPIN", "DHCPCD_UNIT", "MANAGERS", "Manager", "Owned", "conflicts",
           "dhcpcd_command", "enabled", "files", "found"]
