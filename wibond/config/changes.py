"""What changes between the configuration a system runs and a new one, and how each change
can be made: the plan `wibond apply --dry-run` prints and `wibond apply` and `wibond try`
carry out (runtime/apply.py).

Pure: two lists of bonds in, a list of changes out. How much each change disturbs follows
what the kernel and the units can do live:

    set      an option the kernel takes on a live bond (primary, the monitor's keys, ...) or
             one wibond's own steps apply to a live bond (addresses, routes, DNS): no slave
             flapped, no unit restarted
    dhcp     the bond's DHCP client is restarted (its configuration is written at its start)
    slave    one slave's unit is started, stopped or restarted, one at a time
    recreate the bond is deleted and made again: the kernel takes mode and fail_over_mac only
             on a bond without slaves, and wibond sets the bond's MAC only at its creation
    add / remove   a bond new to the file, or gone from it
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

from .model import Bond, Slave


class Kind(str, Enum):
    """What a change takes (the module's docstring says how much each disturbs)."""

    ADD = "add"
    REMOVE = "remove"
    RECREATE = "recreate"
    SET = "set"
    DHCP = "dhcp"
    SLAVE_ADD = "slave-add"
    SLAVE_REMOVE = "slave-remove"
    SLAVE_RESTART = "slave-restart"

    def __str__(self) -> str:
        return self.value


# Options of [bond] sections by what changing one on a running bond takes.
RECREATE = ("mode", "fail_over_mac", "mac")
LIVE = ("primary", "primary_reselect", "miimon", "updelay", "downdelay", "arp_interval",
        "arp_ip_target", "arp_validate", "arp_all_targets", "arp_missed_max", "num_grat_arp",
        "num_unsol_na", "address", "gateway", "gateway6", "metric", "dns")
DHCP = ("dhcp", "dhcp_client", "hostname", "duid", "ipv6_addr_gen")
# The LIVE keys that make up the link monitor: applied together, in the kernel's order.
MONITOR = ("miimon", "updelay", "downdelay", "arp_interval", "arp_ip_target", "arp_validate",
           "arp_all_targets", "arp_missed_max")
# The LIVE keys wibond's static step applies (addresses, default routes, DNS): together too.
STATIC = ("address", "gateway", "gateway6", "metric", "dns")
_CLIENT_RESTARTS = "its DHCP client restarts (its address is gone until the new client has it again)"


# What a DHCP change's `what` is when no key changed but the client's own configuration
# would be written otherwise (a bond option it holds: dhcpcd's nolink, dhclient's metric).
CLIENT_CONFIGURATION = "configuration"


@dataclass
class Change:
    bond: str
    kind: Kind
    what: str = ""          # the option or the slave section
    old: object = None
    new: object = None
    why: str = ""

    def describe(self) -> str:
        """The change for people, in the words `wibond status` uses."""
        return f"{self.bond}: {_DESCRIBE[self.kind](self)}"


def _describe_dhcp(c: Change) -> str:
    if c.what == CLIENT_CONFIGURATION:
        return f"its DHCP client's configuration changes ({c.why}): {_CLIENT_RESTARTS}"
    return f"{c.what} {_show(c.old)} -> {_show(c.new)}: {_CLIENT_RESTARTS}"


_DESCRIBE: dict[Kind, Callable[[Change], str]] = {
    Kind.ADD: lambda c: "new bond, created with its slaves",
    Kind.REMOVE: lambda c: "not in the file any more, deleted (its slaves go back as they were)",
    Kind.RECREATE: lambda c: f"re-created ({c.why}): every connection over it drops once",
    Kind.SET: lambda c: f"{c.what} {_show(c.old)} -> {_show(c.new)}, set in place",
    Kind.DHCP: _describe_dhcp,
    Kind.SLAVE_ADD: lambda c: f"[[{c.what}]] added: joins when present",
    Kind.SLAVE_REMOVE: lambda c: f"[[{c.what}]] removed: leaves the bond{c.why}",
    Kind.SLAVE_RESTART: lambda c: f"[[{c.what}]] {c.why}: its unit restarts",
}


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [c.describe() for c in self.changes]
        out += [f"{name}: unchanged, not touched" for name in self.unchanged]
        return out


def _show(value: object) -> str:
    if value in (None, "", []):
        return "(none)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


_SLAVE_KEYS = ("type", "wpa_conf", "driver", "bitrates", "after", "kind", "match_mac",
               "match_driver", "match_usb", "power_save", "promiscuous")


def _slave_key(slave: Slave) -> tuple:
    return tuple(getattr(slave, k) for k in _SLAVE_KEYS)


def plan(running: list[Bond], wanted: list[Bond]) -> Plan:
    """The changes that bring RUNNING's bonds to WANTED's: bonds removed first (their slaves
    may be wanted by another), then each bond's changes, slaves added before slaves removed
    so the bond always has somewhere to send traffic."""
    out = Plan()
    old = {b.name: b for b in running}
    new = {b.name: b for b in wanted}
    for name in old:
        if name not in new:
            out.changes.append(Change(name, Kind.REMOVE))
    for name, bond in new.items():
        if name not in old:
            out.changes.append(Change(name, Kind.ADD))
            continue
        before = old[name]
        changes: list[Change] = []
        recreate = [k for k in RECREATE if getattr(before, k) != getattr(bond, k)]
        if recreate:
            why = ", ".join(f"{k} {_show(getattr(before, k))} -> {_show(getattr(bond, k))}"
                            for k in recreate)
            out.changes.append(Change(name, Kind.RECREATE, why=why))
            continue
        for key in LIVE:
            if getattr(before, key) != getattr(bond, key):
                changes.append(Change(name, Kind.SET, key, getattr(before, key), getattr(bond, key)))
        for key in DHCP:
            if getattr(before, key) != getattr(bond, key):
                changes.append(Change(name, Kind.DHCP, key, getattr(before, key), getattr(bond, key)))
        was = {s.name: s for s in before.slaves}
        now = {s.name: s for s in bond.slaves}
        for sname, slave in now.items():
            if sname not in was:
                changes.append(Change(name, Kind.SLAVE_ADD, sname))
            elif _slave_key(was[sname]) != _slave_key(slave):
                keys = [k for k in _SLAVE_KEYS if getattr(was[sname], k) != getattr(slave, k)]
                changes.append(Change(name, Kind.SLAVE_RESTART, sname,
                                      why=f"{', '.join(keys)} changed"))
        for sname in was:
            if sname not in now:
                moved = " (traffic moves to another slave first)" if now else ""
                changes.append(Change(name, Kind.SLAVE_REMOVE, sname, why=moved))
        if changes:
            out.changes += changes
        else:
            out.unchanged.append(name)
    return out
