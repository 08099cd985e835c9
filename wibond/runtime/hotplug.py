"""Interfaces and their slave units: which unit serves a device, and starting it.

A slave named in wibond.conf is started by its device unit (the generator's
.wants link), at boot and whenever it is plugged. An interface that a
pattern or labelled section claims is handed by udev/90-wibond.rules to
wibond-match@<iface>.service, which calls `offer`. `start_present` serves
`systemctl start wibond@<bond>` after a stop: the devices are there already,
so no device event will start their slave units. `hand_on_primary` runs
when a slave leaves: two dongles of the primary's [[wlx*]], pull the
primary one, and the other becomes primary.
"""

from __future__ import annotations

from ..boot.plan import slave_template
from ..common import paths
from ..common.names import escape_instance
from ..config.model import Bond, Slave
from . import bondctl


def unit_for(bond: Bond, section: Slave, ifname: str) -> str:
    return slave_template(bond.name, section).replace("@.", f"@{escape_instance(ifname)}.", 1)


def _start(rt, units: list[str]) -> None:  # type: ignore[no-untyped-def]
    # --no-block: this runs inside a unit's start job; waiting for another job would deadlock.
    rt.host.systemctl("start", "--no-block", *units)


def offer(rt, ifname: str) -> None:  # type: ignore[no-untyped-def]
    found = rt.find(ifname)
    if found is None:
        rt.out.info(f"{ifname}: no section of {paths.CONFIG} matches it; left alone")
        return
    bond, section = found
    if not section.dynamic:
        return  # named in the file: its device unit starts its slave unit
    unit = unit_for(bond, section, ifname)
    rt.out.info(f"{ifname} matches [{bond.name}] [[{section.name}]]: starting {unit}")
    _start(rt, [unit])


def start_present(rt, bond: Bond) -> None:  # type: ignore[no-untyped-def]
    units = []
    for ifname in rt.host.listdir(paths.SYSFS_NET):
        # bonding_masters lives there too; interfaces have an ifindex.
        if ifname == "lo" or not rt.host.exists(f"{paths.SYSFS_NET}/{ifname}/ifindex") or \
                bondctl.is_bond(rt.host, ifname):
            continue
        try:
            found = rt.find(ifname)
        except bondctl.HelperError as e:
            rt.out.warning(str(e))
            continue
        if found is not None and found[0].name == bond.name:
            units.append(unit_for(bond, found[1], ifname))
    if units:
        _start(rt, units)


def hand_on_primary(rt, bond_name: str) -> None:  # type: ignore[no-untyped-def]
    """When the bond's primary is a pattern or labelled section and no slave holds it any
    more, make the first slave that matches that section primary. Cheap when nothing is
    to do: sysfs first, the config only when the primary is vacant."""
    host = rt.host
    if not bondctl.is_bond(host, bond_name):
        return
    present = bondctl.slaves(host, bond_name)
    if not present or bondctl.option(host, bond_name, "primary") in present:
        return
    try:
        bond = rt.bond(bond_name)
    except bondctl.HelperError:
        return  # a broken or changed config must not stop a slave from leaving
    if bondctl.dynamic_primary(bond) is None:
        return  # no device lookups when the primary is named: most releases stop here
    for ifname in present:
        try:
            found = rt.find(ifname)
        except bondctl.HelperError:
            continue
        if found is not None and found[0] is bond \
                and bondctl.claim_primary(host, bond, found[1], ifname):
            rt.out.info(f"{bond_name}: {ifname} ([[{found[1].name}]]) is the primary now")
            return
