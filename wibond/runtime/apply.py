"""`wibond apply`: bring the running bonds to an edited wibond.conf, touching only what changed.

What runs is known from a record, not from regenerated files: each bond's start (the
`start` step) keeps the generator's snapshot it was started from in
/run/wibond/<bond>/applied.json, and apply rewrites it once it has applied a change. The
plan (config/changes.py) says what each change takes; this carries it out:

  1. before systemd reloads (the units a reload drops must be stopped while systemd still
     has them): bonds gone from the file stopped, slaves gone from a section moved off
     (traffic to another slave first when the bond has one) and stopped, DHCP clients no
     longer wanted stopped;
  2. `systemctl daemon-reload`: the generator writes the units and the snapshot anew;
  3. after: options the kernel takes live written to sysfs (only what differs), addresses,
     routes and DNS brought in line, DHCP clients restarted, new slaves' units started,
     changed slaves' units restarted one at a time, bonds re-created or created;
  4. the other network managers told (the same step as a bond's start), the records
     rewritten.

An unchanged bond is not touched: no sysfs write, no unit started or stopped.
"""

from __future__ import annotations

from ..boot import snapshot
from ..common import layout, paths
from ..common.names import escape_instance
from ..config import changes
from ..config.changes import Kind
from ..config.model import Bond, Loaded
from . import bondctl, bondstate
from .bondctl import keep_record
from .context import Context, Output
from .hostio import Host, HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .context import Lookup
    from .hostio import Log


def running(host: Host) -> tuple[dict[str, Bond], list[str]]:
    """The bonds as wibond started them (from their records) and the names of bonds that run
    without one (started by a wibond before records, or by hand)."""
    found: dict[str, Bond] = {}
    unknown: list[str] = []
    for name in host.listdir(paths.RUN_DIR):
        raw = host.read_bytes(layout.record_path(name))
        if raw is None:
            if bondstate.is_bond(host, name):
                unknown.append(name)
            continue
        loaded = snapshot.loads(raw)
        bond = loaded.bond(name) if loaded else None
        if bond is not None and bondstate.is_bond(host, name):
            found[name] = bond
    return found, unknown


def running_text(host: Host) -> bytes | None:
    """The text of the config the running bonds were started or last applied from (their
    records); None when no running bond kept it or two kept different texts."""
    texts = {host.read_bytes(layout.config_record(name)) for name in running(host)[0]}
    return texts.pop() if len(texts) == 1 else None


def plan(host: Host, wanted: Loaded) -> tuple[changes.Plan, dict[str, Bond]]:
    """The changes from what runs to WANTED, and the running bonds (from their records)."""
    bonds, unknown = running(host)
    the_plan = changes.plan(list(bonds.values()), [b for b in wanted.bonds if b.name not in unknown])
    by_bond: dict[str, list[changes.Change]] = {}
    for c in the_plan.changes:
        by_bond.setdefault(c.bond, []).append(c)
    for name, mine in by_bond.items():
        if any(c.kind in (Kind.ADD, Kind.REMOVE, Kind.RECREATE, Kind.DHCP) for c in mine):
            continue
        changed = _client_files_changed(host, wanted.bond(name))   # type: ignore[arg-type]
        if changed:
            # A bond option the client's configuration holds (arp_interval: dhcpcd's nolink;
            # metric: dhclient's): the running client was started with the old one.
            the_plan.changes.append(changes.Change(name, Kind.DHCP, changes.CLIENT_CONFIGURATION,
                                                   why=changed))
    for name in unknown:
        if wanted.bond(name):
            the_plan.changes.append(changes.Change(
                name, Kind.RECREATE, why="it runs without wibond's record of how it was made"))
    return the_plan, bonds


def _client_files_changed(host: Host, bond: Bond) -> str | None:
    """The first file of BOND's DHCP clients that would be written otherwise than the running
    client's (written at its start), or None."""
    from .. import dhcp
    from ..common import identity

    try:
        duid = identity.duid(host, bond.duid)
    except identity.IdentityError:
        return None
    for client, families in dhcp.clients_here(bond):
        for path, content in client.files(bond, duid, families).items():
            if host.read_bytes(path) != content:
                return path
    return None


def _dhcp_units(bond: Bond) -> set[str]:
    from .. import dhcp

    return {c.unit(escape_instance(bond.name)) for c, _f in dhcp.clients_here(bond)}


class Applier:
    """Carries out one plan; every step said through LOG."""

    def __init__(self, host: Host, old: dict[str, Bond], old_ctx: Context, log: Log) -> None:
        self.host = host
        self.old = old
        self.old_ctx = old_ctx   # finds which section of the running config an interface is in
        self.log = log

    # -- before the reload ---------------------------------------------------
    def before(self, the_plan: changes.Plan, wanted: Loaded) -> None:
        for c in the_plan.changes:
            if c.kind == Kind.REMOVE:
                self.host.systemctl("stop", layout.bond_unit(c.bond))
            elif c.kind == Kind.SLAVE_REMOVE:
                self._remove_slave(self.old[c.bond], c.what)
        for name, old in self.old.items():
            new = wanted.bond(name)
            if new is None:
                continue
            gone = sorted(_dhcp_units(old) - _dhcp_units(new))
            if gone:
                self.host.systemctl("stop", *gone)

    def _remove_slave(self, bond: Bond, section_name: str) -> None:
        from .hotplug import unit_for

        section = bond.slave(section_name)
        if section is None:
            return
        enslaved = bondstate.slaves(self.host, bond.name)
        leaving = [i for i in enslaved if self.old_ctx.section_name(bond, i) == section_name]
        for ifname in leaving:
            if bondstate.active_slave(self.host, bond.name) == ifname:
                others = [i for i in enslaved if i not in leaving and
                          bondstate.mii_status(self.host, i) == "up"]
                if others:
                    # Traffic moves before the slave goes: one switch, not a loss of link.
                    self.log(f"{bond.name}: active slave {ifname} -> {others[0]} before "
                             f"{ifname} leaves")
                    bondctl.set_option(self.host, bond.name, "active_slave", others[0])
            self.host.systemctl("stop", unit_for(bond, section, ifname))

    # -- after the reload ----------------------------------------------------
    def after(self, the_plan: changes.Plan, ctx: Context) -> None:
        self._done: set[tuple[str, str]] = set()
        for c in the_plan.changes:
            step = _AFTER_RELOAD.get(c.kind)   # removals were done before the reload
            if step is not None:
                step(self, ctx, c)

    def _once(self, bond: str, what: str) -> bool:
        """True the first time BOND's WHAT comes up: the monitor's keys, the static setup and
        a DHCP client's restart go to the kernel once for all the changes that need them."""
        if (bond, what) in self._done:
            return False
        self._done.add((bond, what))
        return True

    def _add(self, ctx: Context, c: changes.Change) -> None:
        self.host.systemctl("start", layout.bond_unit(c.bond))

    def _recreate(self, ctx: Context, c: changes.Change) -> None:
        self.log(f"{c.bond}: re-created: {c.why}")
        self.host.systemctl("restart", layout.bond_unit(c.bond))

    def _set_live(self, ctx: Context, c: changes.Change) -> None:
        bond = ctx.bond(c.bond)
        if c.what in changes.MONITOR:
            if self._once(c.bond, "monitor"):
                self._monitor(bond)
        elif c.what in changes.STATIC:
            if self._once(c.bond, "static"):
                self._static(bond)
        else:
            self._set(ctx, bond, c)

    def _restart_dhcp(self, ctx: Context, c: changes.Change) -> None:
        bond = ctx.bond(c.bond)
        units = sorted(_dhcp_units(bond))
        if self._once(c.bond, "dhcp") and units:
            self.host.systemctl("restart", *units)

    def _add_slave(self, ctx: Context, c: changes.Change) -> None:
        from . import hotplug

        hotplug.start_present(ctx, ctx.bond(c.bond))

    def _restart_slave(self, ctx: Context, c: changes.Change) -> None:
        from . import hotplug

        bond = ctx.bond(c.bond)
        section = bond.slave(c.what)
        if section is None:
            return
        for ifname in bondstate.slaves(self.host, bond.name):
            if ctx.section_name(bond, ifname) == c.what:
                self.host.systemctl("restart", hotplug.unit_for(bond, section, ifname))

    def _static(self, bond: Bond) -> None:
        """Addresses, default routes and DNS as the new config has them: what the old one
        added and the new one does not is taken away first."""
        from . import addressing

        name, old = bond.name, self.old[bond.name]
        for addr in old.address:
            if addr not in bond.address:
                self._ip("addr", "del", addr, "dev", name)
        new_routes = [(f, g) for f, g, _o in addressing.default_routes(bond)]
        for family, gateway, _onlink in addressing.default_routes(old):
            if (family, gateway) not in new_routes or old.metric != bond.metric:
                self._ip(f"-{family}", "route", "del", "default", "via", gateway, "dev", name,
                         "metric", str(old.metric))
        addressing.apply(self.host, bond, self.log)

    def _set(self, ctx: Context, bond: Bond, c: changes.Change) -> None:
        name = bond.name
        if c.what == "primary":
            bondctl.set_option(self.host, name, "primary", self._primary(ctx, bond))
            return
        if c.what in ("primary_reselect", "num_grat_arp", "num_unsol_na"):
            bondctl.set_option(self.host, name, c.what, str(getattr(bond, c.what)))
            return
        raise AssertionError(f"no way to set {c.what}")

    def _monitor(self, bond: Bond) -> None:
        from . import leasearp

        name = bond.name
        # The link monitor: the lease-following unit decides when the router is known.
        arp_unit = layout.arp_unit(name)
        if bond.arp_follows_lease:
            self.host.systemctl("restart", arp_unit)
        else:
            if self.old[name].arp_follows_lease:
                self.host.systemctl("stop", arp_unit)
            gateway, _why = leasearp.lease_gateway(self.host, name) if bond.arp_interval \
                else (None, "")
            bondctl.set_monitoring(self.host, bond, gateway, self.log)

    def _primary(self, ctx: Context, bond: Bond) -> str:
        if not bond.primary:
            return ""
        section = bond.slave(bond.primary)
        if section is None or not section.dynamic:
            return bond.primary
        for ifname in bondstate.slaves(self.host, bond.name):
            if ctx.section_name(bond, ifname) == bond.primary:
                return ifname
        return ""

    def _ip(self, *args: str) -> None:
        try:
            self.host.ip(*args)
        except HostError as e:
            self.log(f"{' '.join(args)}: {e} (already gone)")


# What each kind of change does once systemd has the new units (a removal is done before).
_AFTER_RELOAD = {
    Kind.ADD: Applier._add,
    Kind.RECREATE: Applier._recreate,
    Kind.SET: Applier._set_live,
    Kind.DHCP: Applier._restart_dhcp,
    Kind.SLAVE_ADD: Applier._add_slave,
    Kind.SLAVE_RESTART: Applier._restart_slave,
}


def apply(host: Host, wanted: Loaded, log: Log, dry_run: bool = False,
          lookup: Lookup | None = None,
          planned: tuple[changes.Plan, dict[str, Bond]] | None = None) -> changes.Plan:
    """Carry out the plan from the running bonds to WANTED (a config without errors):
    PLANNED, what plan() returned (a caller that printed it first), else plan() now.
    LOOKUP: how the steps ask udev about a device (tests give a fake)."""
    the_plan, old = planned or plan(host, wanted)
    if dry_run or not the_plan.changes:
        return the_plan
    old_ctx = Context(host, Output(), lookup, Loaded(wanted.path, list(old.values()), [], None))
    applier = Applier(host, old, old_ctx, log)
    applier.before(the_plan, wanted)
    host.systemctl("daemon-reload")
    # After the reload the generator's snapshot is the new config: the steps' view of it.
    applier.after(the_plan, Context(host, Output(), lookup, wanted))
    from . import handoff

    handoff.apply(host, wanted.bonds, log)
    for bond in wanted.bonds:
        if bondstate.is_bond(host, bond.name) and not any(
                c.bond == bond.name and c.kind in (Kind.ADD, Kind.RECREATE) for c in the_plan.changes):
            keep_record(host, bond.name, wanted)   # add/recreate: the bond's own start keeps it
    for c in the_plan.changes:
        if c.kind == Kind.REMOVE:
            host.remove(layout.record_path(c.bond))
    return the_plan
