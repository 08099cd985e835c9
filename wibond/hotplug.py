"""Devices that appear at any time: start the slave unit of the section they match.

udev/90-wibond.rules hands each new interface to wibond-match@<iface>.service
(only while some section is a pattern or a label); that unit runs this. An
interface named in wibond.conf needs none of it: its device unit pulls in its
slave unit directly.
"""

from __future__ import annotations

from . import match, paths
from .bondctl import HelperError
from .names import escape_instance
from .plan import slave_template


def offer(rt, ifname: str) -> None:  # type: ignore[no-untyped-def]
    dev = rt.device(ifname)
    try:
        found = match.find(rt.loaded.bonds, dev)
    except match.Conflict as e:
        raise HelperError(str(e)) from None
    if found is None:
        rt.out.info(f"{ifname}: no section of {paths.CONFIG} matches it; left alone")
        return
    bond, section = found
    if not section.dynamic:
        return  # named in the file: its device unit starts its slave unit
    unit = slave_template(bond.name, section).replace("@.", f"@{escape_instance(ifname)}.", 1)
    rt.out.info(f"{ifname} matches [{bond.name}] [[{section.name}]]: starting {unit}")
    systemctl = rt.host.program("systemctl") or "systemctl"
    # --no-block: this runs inside a unit's start job; waiting for another job would deadlock.
    rt.host.run(systemctl, "start", "--no-block", unit)
