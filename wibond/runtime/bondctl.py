"""Bonds and slaves at run time: create, enslave, release, delete.

Every function reads the state first and changes only what differs, so
running it twice changes nothing the second time. What wibond did that it
must undo (a slave it enslaved, a MAC it replaced) is recorded under
/run/wibond/<bond>/, so stopping works from that record even when
wibond.conf has changed or broken since.
"""

from __future__ import annotations

from ..common import layout, paths
from ..config.model import Bond, Loaded, Slave
from .bondstate import (
    KERNEL_ARP_MISSED_MAX,
    NET,
    exists,
    is_bond,
    is_up,
    mac_of,
    master_of,
    option,
    slaves,
)
from .context import StepError
from .hostio import Host, HostError, RfkillBlocked

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

    from .hostio import Log

BONDING_MASTERS = f"{NET}/bonding_masters"

# The kernel takes these only while the bond has no slaves.
EMPTY_ONLY = ("mode", "fail_over_mac")
# Options that mean something in these modes only (writing them elsewhere fails).
_PRIMARY_MODES = ("active-backup", "balance-tlb", "balance-alb")


def owned(host: Host, bond: Bond) -> set[str]:
    """Interfaces wibond may take out of this bond: named in its section or enslaved by wibond."""
    return {s.name for s in bond.named_slaves} | set(host.listdir(layout.slaves_dir(bond.name)))


# -- the bond ----------------------------------------------------------------

def desired_options(bond: Bond, lease_gateway: str | None = None) -> list[tuple[str, str]]:
    """(sysfs attribute, value) in the order the kernel accepts them."""
    opts = [("mode", bond.mode)]
    if bond.mode == "active-backup":
        opts.append(("fail_over_mac", bond.fail_over_mac))
    opts += monitor_options(bond, lease_gateway)
    if bond.mode in _PRIMARY_MODES:
        opts.append(("primary_reselect", bond.primary_reselect))
    opts += [("num_grat_arp", str(bond.num_grat_arp)), ("num_unsol_na", str(bond.num_unsol_na))]
    return opts


def uses_arp(bond: Bond, lease_gateway: str | None = None) -> bool:
    """Whether the bond monitors its links by ARP now: configured to, and its targets known
    (a DHCP-learned gateway is known from LEASE_GATEWAY)."""
    return bool(bond.arp_interval) and (not bond.arp_follows_lease or bool(lease_gateway))


def monitor_options(bond: Bond, lease_gateway: str | None = None) -> list[tuple[str, str]]:
    """How the links are watched, in the order the kernel takes it: MII and ARP monitoring
    exclude each other, so the unused one is switched off first; the targets (not here, see
    set_monitoring) go in before arp_interval starts the ARP monitor."""
    if uses_arp(bond, lease_gateway):
        return [("miimon", "0"), ("arp_validate", bond.arp_validate),
                ("arp_all_targets", bond.arp_all_targets),
                ("arp_missed_max", str(bond.arp_missed_max)),
                ("arp_interval", str(bond.arp_interval))]
    opts = [("arp_interval", "0"), ("miimon", str(bond.miimon))]
    if bond.miimon:
        opts += [("updelay", str(bond.updelay)), ("downdelay", str(bond.downdelay))]
    return opts


def ensure_module(host: Host) -> None:
    if host.exists(BONDING_MASTERS):
        return
    # max_bonds=0: loading the module must not make a stray empty bond0.
    modprobe = host.program("modprobe") or "modprobe"
    try:
        host.run(modprobe, "bonding", "max_bonds=0")
    except HostError as e:
        raise StepError(f"cannot load the bonding module: {e}") from None


def create(host: Host, bond: Bond, log: Log) -> None:
    """Make the bond exist with every option set, before any slave joins; bring it up."""
    name = bond.name
    ensure_module(host)
    if not exists(host, name):
        try:
            host.ip("link", "add", name, "type", "bond")
        except HostError:
            if not exists(host, name):  # lost a race with another creator: fine
                raise
    if not is_bond(host, name):
        raise StepError(f"{name} exists and is not a bond; rename the bond in "
                          f"{paths.CONFIG} or remove the interface (ip link del {name})")
    present = slaves(host, name)
    foreign = [s for s in present if s not in owned(host, bond)]
    if foreign:
        raise StepError(
            f"{name} already has slaves wibond does not manage: {', '.join(foreign)}; "
            f"another tool (netctl, systemd-networkd, ifupdown?) runs this bond. Stop it, "
            f"or give wibond's bond another name")
    wanted = desired_options(bond)
    if present and any(option(host, name, a) != v for a, v in wanted if a in EMPTY_ONLY):
        log(f"{name}: releasing {', '.join(present)} left from an earlier run to change "
            f"{' and '.join(EMPTY_ONLY)}")
        for ifname in present:
            release(host, name, ifname, log)
    if option(host, name, "mode") != bond.mode and is_up(host, name):
        host.set_up(name, False)
    _apply(host, bond, wanted, None, log)
    if bond.mode in _PRIMARY_MODES:
        primary = bond.slave(bond.primary) if bond.primary else None
        if primary is not None and not primary.dynamic:
            set_option(host, name, "primary", primary.name)
    if bond.mac and mac_of(host, name) != bond.mac:
        _while_down(host, name, "address", bond.mac)
    _stable_secret(host, bond, log)
    if not is_up(host, name):
        host.set_up(name, True)
    host.save(layout.created_path(name), "")


def keep_record(host: Host, bond: str, loaded: Loaded) -> None:
    """The generator's snapshot the bond was made from, copied as it is (no JSON parsed or
    written: the start step stays cheap), and the text of LOADED's file while it still holds
    what LOADED was read from."""
    from ..boot.snapshot import PATH
    from ..config.model import stamp

    snapshot, text = host.read_bytes(PATH), host.read_bytes(loaded.path)
    if text is not None and stamp(text) != loaded.stamp:
        text = None   # edited since it was read: not what the bond runs
    for path, data in ((layout.record_path(bond), snapshot), (layout.config_record(bond), text)):
        if data is not None and host.read_bytes(path) != data:
            host.save_bytes(path, data)


def set_monitoring(host: Host, bond: Bond, lease_gateway: str | None, log: Log) -> None:
    """Watch BOND's links by ARP (its targets known, LEASE_GATEWAY the DHCP lease's router or
    None) or else by MII, changing only what differs."""
    _apply(host, bond, monitor_options(bond, lease_gateway), lease_gateway, log)


def _apply(host: Host, bond: Bond, options: list[tuple[str, str]], lease_gateway: str | None,
           log: Log) -> None:
    name = bond.name
    for attr, value in options:
        if attr == "arp_interval":
            _set_arp_targets(host, name, bond.arp_targets(lease_gateway) if value != "0" else [])
        if attr == "arp_missed_max" and not host.exists(f"{NET}/{name}/bonding/{attr}"):
            if value != KERNEL_ARP_MISSED_MAX:
                log(f"{name}: this kernel has no arp_missed_max (Linux 6.0 and later have): "
                    f"a slave is down after {KERNEL_ARP_MISSED_MAX} ARP intervals without an "
                    f"answer, not {value}")
            continue
        set_option(host, name, attr, value)


def set_option(host: Host, bond: str, attr: str, value: str) -> None:
    if option(host, bond, attr) == value:
        return
    try:
        # An empty primary is written as a newline: the kernel ignores an empty write.
        host.write(f"{NET}/{bond}/bonding/{attr}", value or "\n")
    except HostError as e:
        raise StepError(f"{bond}: cannot set {attr} = {value}: {e}") from None


def _set_arp_targets(host: Host, bond: str, targets: list[str]) -> None:
    current = (host.read(f"{NET}/{bond}/bonding/arp_ip_target") or "").split()
    for addr in current:
        if addr not in targets:
            host.write(f"{NET}/{bond}/bonding/arp_ip_target", f"-{addr}")
    for addr in targets:
        if addr not in current:
            host.write(f"{NET}/{bond}/bonding/arp_ip_target", f"+{addr}")


def _while_down(host: Host, ifname: str, *setting: str) -> None:
    """`ip link set IFNAME <setting>` with the link down, as MAC changes need."""
    was_up = is_up(host, ifname)
    if was_up:
        host.set_up(ifname, False)
    host.ip("link", "set", ifname, *setting)
    if was_up:
        host.set_up(ifname, True)


def _stable_secret(host: Host, bond: Bond, log: Log) -> None:
    """Give the bond a stable-privacy IPv6 link-local address that survives MAC changes."""
    if bond.ipv6_addr_gen != "stable-privacy":
        return
    path = f"/proc/sys/net/ipv6/conf/{bond.name}/stable_secret"
    if not host.exists(path):
        return  # IPv6 is off on this machine
    from ..common.identity import IdentityError, stable_secret

    try:
        secret = stable_secret(host, bond.name)
    except IdentityError as e:
        log(f"{bond.name}: no stable IPv6 link-local address: {e}")
        return
    if host.read(path) == secret:
        return
    # The link-local address is made when the link goes up: set the secret while down.
    was_up = is_up(host, bond.name)
    if was_up:
        host.set_up(bond.name, False)
    host.write(path, secret)
    if was_up:
        host.set_up(bond.name, True)


def delete(host: Host, name: str, log: Log) -> None:
    """Release what is left, delete the bond wibond created; leave nothing behind."""
    if exists(host, name) and is_bond(host, name):
        for ifname in slaves(host, name):
            release(host, name, ifname, log)
        host.ip("link", "del", name)
    for ifname in host.listdir(layout.slaves_dir(name)):
        release(host, name, ifname, log)  # slaves that left already: restore their MAC
    host.remove(layout.run_dir(name))


# -- slaves ------------------------------------------------------------------

def enslave(host: Host, bond: Bond, ifname: str, section: Slave, log: Log) -> None:
    """Down, flush, (one MAC), master, up: the only order the kernel takes."""
    name = bond.name
    if not exists(host, ifname):
        raise StepError(f"{ifname} does not exist (unplugged?)")
    if not exists(host, name) or not is_bond(host, name):
        raise StepError(f"bond {name} does not exist; wibond@{name}.service creates it "
                          f"(see `systemctl status wibond@{name}`)")
    master = master_of(host, ifname)
    if master not in (None, name):
        raise StepError(f"{ifname} is already a slave of {master}; wibond leaves it there. "
                          f"Release it (ip link set {ifname} nomaster) or remove it from "
                          f"[{name}] in {paths.CONFIG}")
    record = layout.slave_record(name, ifname)
    if master is None:
        original = mac_of(host, ifname) or ""
        if is_up(host, ifname):
            host.set_up(ifname, False)
        if host.has_addresses(ifname):
            host.ip("addr", "flush", "dev", ifname)
        if bond.mac and mac_of(host, ifname) != bond.mac:
            host.ip("link", "set", ifname, "address", bond.mac)
            host.save(record, original + "\n")
        elif not host.exists(record):
            host.save(record, "")
        _radio_step(host, ifname, lambda: host.set_master(ifname, name, join=True))
    elif not host.exists(record):
        host.save(record, "")
    if not is_up(host, ifname):  # the driver opens a new slave; one taken down later is not
        _radio_step(host, ifname, lambda: host.set_up(ifname, True))
    if section.wireless:
        from . import radioquirks

        radioquirks.apply(host, name, section, ifname, log)
    claim_primary(host, bond, section, ifname)


def dynamic_primary(bond: Bond) -> Slave | None:
    """The pattern or labelled section BOND's `primary` names, in a mode with a primary;
    None when the primary is an interface name (the kernel keeps that one itself)."""
    section = bond.slave(bond.primary) if bond.primary else None
    if section is None or not section.dynamic or bond.mode not in _PRIMARY_MODES:
        return None
    return section


def claim_primary(host: Host, bond: Bond, section: Slave | None, ifname: str) -> bool:
    """Make IFNAME, a slave of BOND, its primary when its section is the pattern or labelled
    section `primary` names and no other slave holds the role (the first [[wlx*]] dongle in,
    or the next one when the primary one leaves). True when IFNAME is the primary now."""
    if section is None or section is not dynamic_primary(bond):
        return False
    current = option(host, bond.name, "primary")
    if current in slaves(host, bond.name) and current != ifname:
        return False
    set_option(host, bond.name, "primary", ifname)
    return True


def _radio_step(host: Host, ifname: str, step: Callable[[], None]) -> None:
    """STEP (a link change of IFNAME), explaining an rfkill refusal instead of quoting it."""
    try:
        step()
    except RfkillBlocked:
        from .rfkill import blocked_message

        raise StepError(blocked_message(host, ifname)
                          or f"{ifname} is blocked by rfkill: `rfkill list` shows how") from None


def release(host: Host, bond: str, ifname: str, log: Log) -> None:
    """Take IFNAME out of BOND and give it back as wibond found it (its own MAC, its driver's
    settings, down)."""
    if host.exists(layout.quirk_record(bond, ifname)):
        from . import radioquirks

        radioquirks.undo(host, bond, ifname, log)
    record = layout.slave_record(bond, ifname)
    if not exists(host, ifname):
        host.remove(record)
        return
    master = master_of(host, ifname)
    if master not in (None, bond):
        log(f"{ifname} is a slave of {master}, not {bond}; left alone")
        host.remove(record)
        return
    if master == bond:
        host.set_master(ifname, bond, join=False)
    saved = (host.read(record) or "").strip() if host.exists(record) else ""
    if saved and mac_of(host, ifname) != saved:
        if is_up(host, ifname):
            host.set_up(ifname, False)
        host.ip("link", "set", ifname, "address", saved)
    if is_up(host, ifname) and (master == bond or host.exists(record)):
        host.set_up(ifname, False)
    host.remove(record)
