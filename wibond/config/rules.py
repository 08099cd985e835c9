"""The rules across keys and bonds: what no single value can say.

reader.py reads the file (lines, configobj, the configspec's values, values.py) into Bonds;
this holds what follows from several keys at once: the defaults that depend on other keys
(a bond with radios waits for the handshake before failing back; ARP monitoring turns MII
off), the combinations the kernel or a radio cannot work with (a Wi-Fi slave with
fail_over_mac = none, MII and ARP monitoring together, an ARP target off the bond's
subnet), and what two bonds cannot share (a slave, a device two patterns match, a DUID).
The line drawn is netplan's between parse.c and validation.c.

Every problem is said through REPORT(severity, section, key, message): the reader turns it
into a Diagnostic with the file and the line.
"""

from __future__ import annotations

from . import match
from .model import ERROR, GATEWAY_TARGET, WARNING, Bond, Slave

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

    Report = Callable[..., None]

# Measured in the lab (tests/lab/scenarios/silent-*, README "Silent failures"): with "all" a
# backup counts only the active slave's ARP requests seen going by, which cross the LAN only
# while the active slave's path works, and the active slave only the targets' ARP.
ARP_VALIDATE_DEFAULT = "all"

# A radio's carrier comes up at association; the WPA handshake follows (~250 ms in the lab).
RADIO_UPDELAY_MS = 300


def resolve_defaults(bond: Bond, defaulted: set[str]) -> None:
    """The defaults that depend on other keys; DEFAULTED: the keys the file left out."""
    if bond.dhcp is None:
        bond.dhcp = [] if bond.address else ["ipv4"]
    if bond.primary is None and bond.slaves:
        wired = bond.wired_slaves
        bond.primary = (wired[0] if wired else bond.slaves[0]).name
    # arp_interval selects ARP monitoring; an unset miimon then means 0, except where it
    # watches the links until a DHCP lease names the gateway to probe.
    if bond.arp_interval and "miimon" in defaulted and not bond.arp_follows_lease:
        bond.miimon = 0
    if bond.arp_validate is None:
        bond.arp_validate = ARP_VALIDATE_DEFAULT if bond.arp_interval else "none"
    if bond.updelay is None:
        bond.updelay = 0
        if bond.wireless_slaves and bond.miimon:
            # Measured in the lab (tests/lab/scenarios/raspberry-pi): failing back to a radio
            # at carrier-up lost ~1 s of traffic; waiting 300 ms for the handshake lost none.
            bond.updelay = -(-RADIO_UPDELAY_MS // bond.miimon) * bond.miimon


def check_bond(bond: Bond, defaulted: set[str], has_sections: bool, report: Report) -> None:
    """BOND's keys together; HAS_SECTIONS: the file gave it slave sections (even broken ones)."""
    where = (bond.name,)
    names = [s.name for s in bond.slaves]
    wireless = [s.name for s in bond.wireless_slaves]
    if not bond.slaves and not has_sections:
        report(ERROR, where, None, "has no slaves; add one [[interface]] subsection per slave, "
               "with two brackets (a [name] in one bracket is a bond of its own)")
    if bond.name in names:
        report(ERROR, where + (bond.name,), None, "a bond cannot be its own slave")
    if wireless and bond.mode != "active-backup":
        report(ERROR, where, "mode",
               f"{bond.mode} cannot work with a wireless slave ({', '.join(wireless)}); "
               "a station uses one link at a time under its own MAC: use active-backup")
    if wireless and bond.fail_over_mac in ("none", "follow") and not bond.mac:
        report(ERROR, where, "fail_over_mac",
               f"{bond.fail_over_mac} cannot work with a wireless slave ({', '.join(wireless)}): "
               "a radio refuses another MAC while associated; use fail_over_mac = active, "
               "or set mac to give the bond and every slave one MAC")
    if bond.miimon and bond.arp_interval and not bond.arp_follows_lease:
        report(ERROR, where, "arp_interval",
               f"miimon ({bond.miimon}) and arp_interval ({bond.arp_interval}) are both set; "
               "the kernel monitors links one way at a time: set miimon = 0 for ARP monitoring")
    if bond.arp_follows_lease and not bond.miimon:
        report(ERROR, where, "miimon",
               "arp_ip_target = gateway waits for the DHCP lease to name the gateway; until "
               "then miimon watches the links and must be above 0 (default 100)")
    if bond.arp_interval and not bond.arp_ip_target:
        report(ERROR, where, "arp_ip_target", "ARP monitoring (arp_interval > 0) needs a target")
    if bond.arp_ip_target and not bond.arp_interval:
        report(WARNING, where, "arp_ip_target", "ignored while arp_interval is 0")
    if not bond.arp_interval:
        for key in ("arp_validate", "arp_all_targets", "arp_missed_max"):
            if key not in defaulted:
                report(WARNING, where, key, "ignored while arp_interval is 0")
    if not bond.miimon and not bond.arp_interval:
        report(WARNING, where, "miimon",
               "miimon and arp_interval are both 0: no link is watched and the bond never fails over")
    for key in ("updelay", "downdelay"):
        value = getattr(bond, key)
        if value and not bond.miimon:
            report(ERROR, where, key, f"{key} needs miimon > 0")
        elif value and value % bond.miimon:
            report(ERROR, where, key,
                   f"{value} is not a multiple of miimon ({bond.miimon})")
    if bond.primary and bond.primary not in names and has_sections:
        report(ERROR, where, "primary",
               f"{bond.primary} is not a slave of {bond.name} (slaves: {', '.join(names) or 'none'})")
    named_wireless = [s.name for s in bond.wireless_slaves if not s.dynamic]
    for slave in bond.slaves:
        if not slave.after or not slave.wireless:
            continue
        swhere = where + (slave.name,)
        if slave.dynamic:
            report(ERROR, swhere, "after",
                   "orders slaves named by interface; a pattern or labelled section cannot use it")
        elif slave.after == slave.name:
            report(ERROR, swhere, "after", "a slave cannot start after itself")
        elif slave.after not in named_wireless:
            report(ERROR, swhere, "after",
                   f"{slave.after} is not a wireless slave of {bond.name} named by interface")
    _check_after_cycles(bond, report)
    ipv4 = [a for a in bond.address if ":" not in a]
    ipv6 = [a for a in bond.address if ":" in a]
    if bond.gateway and not ipv4:
        report(ERROR, where, "gateway", "needs an IPv4 address in address")
    if bond.address and "ipv4" in bond.dhcp and ipv4:
        report(WARNING, where, "dhcp", "DHCPv4 runs beside the static IPv4 address")
    if bond.gateway6 and not ipv6 and "ipv6" not in bond.dhcp \
            and not bond.gateway6.lower().startswith("fe80:"):
        report(WARNING, where, "gateway6", "no IPv6 address in address to reach it through")
    if bond.dns and not bond.address:
        report(WARNING, where, "dns", "used beside what the DHCP server sends")
    if bond.arp_interval:
        _check_arp_targets(bond, ipv4, report)


def _check_arp_targets(bond: Bond, ipv4: list[str], report: Report) -> None:
    """The kernel asks for a target's own MAC, from the bond's IPv4 address, on the bond's
    link: a target off that link, or a bond without IPv4, never gets an answer."""
    import ipaddress

    where = (bond.name,)
    if not ipv4 and "ipv4" not in bond.dhcp:
        report(ERROR, where, "arp_interval",
               "ARP monitoring asks from the bond's IPv4 address and the bond has none "
               "(no IPv4 address in address, no ipv4 in dhcp): every slave would be down")
        return
    if GATEWAY_TARGET in bond.arp_ip_target and not bond.gateway and "ipv4" not in bond.dhcp:
        report(ERROR, where, "arp_ip_target",
               "gateway: the bond has no IPv4 gateway (set gateway, or dhcp with ipv4)")
    if not ipv4:
        return  # the DHCP lease decides the subnet: checked when it arrives
    networks = [ipaddress.ip_interface(a).network for a in ipv4]
    for target in bond.arp_targets():
        if not any(ipaddress.ip_address(target) in net for net in networks):
            report(ERROR, where, "arp_ip_target",
                   f"{target} is not on the bond's subnet ({', '.join(map(str, networks))}): "
                   "ARP asks for the target itself on the link, and only a host on it answers")


def _check_after_cycles(bond: Bond, report: Report) -> None:
    after = {s.name: s.after for s in bond.wireless_slaves if s.after and s.after != s.name}
    for start in after:
        seen = [start]
        node = after.get(start)
        while node in after:
            if node in seen:
                if node == start:
                    chain = " -> ".join(seen + [node])
                    report(ERROR, (bond.name, start), "after", f"a cycle: {chain}")
                break
            seen.append(node)
            node = after[node]


def check_across(bonds: list[Bond], report: Report) -> None:
    """What the bonds of one file cannot share."""
    _check_one_dhcpv6_duid(bonds, report)
    owner: dict[str, str] = {}
    names = {b.name for b in bonds}
    seen: list[tuple[Bond, Slave]] = []
    for bond in bonds:
        for slave in bond.dynamic_slaves:
            for other_bond, other in seen:
                if other_bond is bond:
                    continue
                how = match.overlap(slave, other)
                if how == match.CERTAIN:
                    report(ERROR, (bond.name, slave.name), None,
                           f"can match the same device as [{other_bond.name}] [[{other.name}]]; "
                           "a device can join one bond only")
                elif how == match.POSSIBLE:
                    report(WARNING, (bond.name, slave.name), None,
                           f"a device matching both this and [{other_bond.name}] [[{other.name}]] "
                           "would join neither bond")
            seen.append((bond, slave))
        for slave in bond.named_slaves:
            where = (bond.name, slave.name)
            if slave.name in names:
                report(ERROR, where, None, f"{slave.name} is a bond in this file, not a slave")
            elif slave.name in owner:
                report(ERROR, where, None,
                       f"{slave.name} is already a slave of {owner[slave.name]}; "
                       "a device can join one bond only")
            else:
                owner[slave.name] = bond.name


def _check_one_dhcpv6_duid(bonds: list[Bond], report: Report) -> None:
    # dhcp6c reads its DUID from one file for the whole machine.
    first: Bond | None = None
    for bond in bonds:
        if "ipv6" not in bond.dhcp:
            continue
        if first is None:
            first = bond
        elif bond.duid != first.duid:
            report(ERROR, (bond.name,), "duid",
                   f"{bond.duid} differs from [{first.name}]'s {first.duid}; bonds with DHCPv6 "
                   "share one DUID (dhcp6c, which dhcp_client = auto or dhclient may run, keeps "
                   "one per machine)")
