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

from ..common import layout, paths
from ..config.model import Bond, Slave
from . import bondctl, bondstate
from .context import Context, StepError


def unit_for(bond: Bond, section: Slave, ifname: str) -> str:
    """The unit that runs IFNAME as a slave of BOND under SECTION."""
    return layout.slave_unit(bond.name, section.wireless, ifname)


def _start(ctx: Context, units: list[str]) -> None:
    # --no-block: this runs inside a unit's start job; waiting for another job would deadlock.
    ctx.host.systemctl("start", "--no-block", *units)


def offer(ctx: Context, ifname: str) -> None:
    found = ctx.find(ifname)
    if found is None:
        ctx.out.info(f"{ifname}: no section of {paths.CONFIG} matches it; left alone")
        return
    bond, section = found
    if not section.dynamic:
        return  # named in the file: its device unit starts its slave unit
    unit = unit_for(bond, section, ifname)
    ctx.out.info(f"{ifname} matches [{bond.name}] [[{section.name}]]: starting {unit}")
    _start(ctx, [unit])


def start_present(ctx: Context, bond: Bond) -> None:
    units = []
    for ifname in ctx.host.listdir(paths.SYSFS_NET):
        # bonding_masters lives there too; interfaces have an ifindex.
        if ifname == "lo" or not ctx.host.exists(f"{paths.SYSFS_NET}/{ifname}/ifindex") or \
                bondstate.is_bond(ctx.host, ifname):
            continue
        try:
            found = ctx.find(ifname)
        except StepError as e:
            ctx.out.warning(str(e))
            continue
        if found is not None and found[0].name == bond.name:
            units.append(unit_for(bond, found[1], ifname))
    if units:
        _start(ctx, units)


def hand_on_primary(ctx: Context, bond_name: str) -> None:
    """When the bond's primary is a pattern or labelled section and no slave holds it any
    more, make the first slave that matches that section primary. Cheap when nothing is
    to do: sysfs first, the config only when the primary is vacant."""
    host = ctx.host
    if not bondstate.is_bond(host, bond_name):
        return
    present = bondstate.slaves(host, bond_name)
    if not present or bondstate.option(host, bond_name, "primary") in present:
        return
    try:
        bond = ctx.bond(bond_name)
    except StepError:
        return  # a broken or changed config must not stop a slave from leaving
    if bondctl.dynamic_primary(bond) is None:
        return  # no device lookups when the primary is named: most releases stop here
    for ifname in present:
        try:
            found = ctx.find(ifname)
        except StepError:
            continue
        if found is not None and found[0] is bond \
                and bondctl.claim_primary(host, bond, found[1], ifname):
            ctx.out.info(f"{bond_name}: {ifname} ([[{found[1].name}]]) is the primary now")
            return
