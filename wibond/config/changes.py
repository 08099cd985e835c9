"""What changes between the configuration a system runs and a new one, and how each change
can be made: the plan `wibond apply --dry-run` prints (issue 20's first step).

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

from .model import Bond, Slave

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


@dataclass
class Change:
    bond: str
    kind: str               # add, remove, recreate, set, dhcp, slave-add, slave-remove, slave-restart
    what: str = ""          # the option or the slave section
    old: object = None
    new: object = None
    why: str = ""

    def describe(self) -> str:
        """The change for people, in the words `wibond status` uses."""
        if self.kind == "add":
            return f"{self.bond}: new bond, created with its slaves"
        if self.kind == "remove":
            return f"{self.bond}: not in the file any more, deleted (its slaves go back as they were)"
        if self.kind == "recreate":
            return f"{self.bond}: re-created ({self.why}): every connection over it drops once"
        if self.kind == "set":
            return f"{self.bond}: {self.what} {_show(self.old)} -> {_show(self.new)}, set in place"
        if self.kind == "dhcp" and self.what == "configuration":
            return f"{self.bond}: its DHCP client's configuration changes ({self.why}): {_CLIENT_RESTARTS}"
        if self.kind == "dhcp":
            return f"{self.bond}: {self.what} {_show(self.old)} -> {_show(self.new)}: {_CLIENT_RESTARTS}"
        if self.kind == "slave-add":
            return f"{self.bond}: [[{self.what}]] added: joins when present"
        if self.kind == "slave-remove":
            return f"{self.bond}: [[{self.what}]] removed: leaves the bond{self.why}"
        if self.kind == "slave-restart":
            return f"{self.bond}: [[{self.what}]] {self.why}: its unit restarts"
        return f"{self.bond}: {self.kind} {self.what}"


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
               "match_driver", "match_usb")


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
            out.changes.append(Change(name, "remove"))
    for name, bond in new.items():
        if name not in old:
            out.changes.append(Change(name, "add"))
            continue
        before = old[name]
        changes: list[Change] = []
        recreate = [k for k in RECREATE if getattr(before, k) != getattr(bond, k)]
        if recreate:
            why = ", ".join(f"{k} {_show(getattr(before, k))} -> {_show(getattr(bond, k))}"
                            for k in recreate)
            out.changes.append(Change(name, "recreate", why=why))
            continue
        for key in LIVE:
            if getattr(before, key) != getattr(bond, key):
                changes.append(Change(name, "set", key, getattr(before, key), getattr(bond, key)))
        for key in DHCP:
            if getattr(before, key) != getattr(bond, key):
                changes.append(Change(name, "dhcp", key, getattr(before, key), getattr(bond, key)))
        was = {s.name: s for s in before.slaves}
        now = {s.name: s for s in bond.slaves}
        for sname, slave in now.items():
            if sname not in was:
                changes.append(Change(name, "slave-add", sname))
            elif _slave_key(was[sname]) != _slave_key(slave):
                keys = [k for k in _SLAVE_KEYS if getattr(was[sname], k) != getattr(slave, k)]
                changes.append(Change(name, "slave-restart", sname,
                                      why=f"{', '.join(keys)} changed"))
        for sname in was:
            if sname not in now:
                moved = " (traffic moves to another slave first)" if now else ""
                changes.append(Change(name, "slave-remove", sname, why=moved))
        if changes:
            out.changes += changes
        else:
            out.unchanged.append(name)
    return out
