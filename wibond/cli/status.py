"""`wibond status` and `wibond monitor`: the bonds as the kernel runs them."""

from __future__ import annotations

import argparse
import os
import sys

from ..common import paths
from .base import EXIT_ERROR, EXIT_OK, load_quiet


def cmd_status(args: argparse.Namespace) -> int:
    from ..config import match
    from ..runtime import devices
    from .state import BondState

    loaded = load_quiet(args.config or paths.host(paths.CONFIG))
    bonds = [b for b in loaded.bonds if not args.bond or b.name in args.bond]
    try:
        present = devices.present()
    except Exception as e:  # pyudev missing or no udev: say so, show the rest
        print(f"wibond status: cannot list devices from udev: {e}", file=sys.stderr)
        present = []
    for bond in bonds:
        st = BondState(bond.name)
        if not st.exists:
            print(f"{bond.name}: not created (no slave unit running)")
        else:
            print(f"{bond.name}: {st.mode}, {'carrier' if st.carrier else 'no carrier'}, "
                  f"active {st.active or '-'}, primary {st.primary or '-'}, MAC {st.mac}")
            print(f"  monitoring: {st.monitor}")
        by_name = {d.name: d for d in present}
        enslaved = {s.name: s for s in st.slaves}
        for name in sorted(set(enslaved) | set(by_name)):
            dev = by_name.get(name) or match.Device(name)
            try:
                found = match.find(loaded.bonds, dev)
            except match.Conflict as e:
                print(f"  {name}: {e}")
                continue
            slave = enslaved.get(name)
            if found is None or found[0] is not bond:
                if slave:
                    print(f"  {name:16s} enslaved, but no section of {bond.name} matches it")
                continue
            section = found[1]
            if slave:
                mark = "*" if st.active == name else " "
                print(f" {mark}{name:16s} {section.type:9s} {slave_verdict(st, slave):26s} "
                      f"[[{section.name}]]")
            else:
                print(f"  {name:16s} {section.type:9s} not enslaved  [[{section.name}]]")
        missing = [s.name for s in bond.named_slaves
                   if s.name not in by_name and s.name not in enslaved]
        if missing:
            print(f"  absent: {', '.join(missing)}")
    _print_managers(loaded.bonds)
    return EXIT_ERROR if loaded.errors else EXIT_OK


def _print_managers(bonds) -> None:  # type: ignore[no-untyped-def]
    """The other network managers found, and whether wibond's word to each is in place."""
    from .. import managers

    found = managers.found()
    if not found:
        return
    owned = managers.Owned(bonds)
    print(f"other network managers (told to keep off {owned.describe()}):")
    for manager, how in found:
        files = manager.told(owned)
        missing = [p for p in files if not os.path.exists(paths.host(p))]
        told = ", ".join(files) or "nothing to tell"
        print(f"  {manager.name} ({how}): {told}"
              + (f"; MISSING {', '.join(missing)}: systemctl restart wibond-managers" if missing else ""))


def slave_verdict(st, slave) -> str:  # type: ignore[no-untyped-def]
    """What the bond thinks of SLAVE: under ARP monitoring whether the targets answer on it
    (validated), with how often it failed."""
    failures = f", {slave.failures} failure{'s' if slave.failures != 1 else ''}" \
        if slave.failures is not None else ""
    if st.arp_interval:
        verdict = "arp ok" if slave.mii == "up" else "arp silent"
        if slave.mii != "up" and slave.operstate == "up":
            verdict += " (carrier up)"
    else:
        verdict = f"mii {slave.mii or '?'}"
    return verdict + failures


def bond_changes(name: str, old: dict, new: dict) -> list[str]:
    """What changed between two BondState.summary()s, as lines for people."""
    out = []
    if old["exists"] != new["exists"]:
        out.append(f"{name}: {'created' if new['exists'] else 'deleted'}")
    for slave in sorted(set(new["slaves"]) - set(old["slaves"])):
        out.append(f"{name}: {slave} joined")
    for slave in sorted(set(old["slaves"]) - set(new["slaves"])):
        out.append(f"{name}: {slave} left")
    if old.get("monitor") != new.get("monitor") and old["exists"] and new["exists"]:
        out.append(f"{name}: monitoring {old.get('monitor')} -> {new.get('monitor')}")
    for slave in sorted(set(old["slaves"]) & set(new["slaves"])):
        link, operstate, failures = new["slaves"][slave]
        if old["slaves"][slave][0] == link:
            continue
        if new.get("arp") and link != "up":
            # The ARP monitor's verdict: with the carrier still up, a silent failure MII
            # monitoring would not have seen.
            out.append(f"{name}: {slave} link down: no ARP answer"
                       + (" while its carrier is up" if operstate == "up" else "")
                       + (f" (failure {failures})" if failures is not None else ""))
        elif new.get("arp"):
            out.append(f"{name}: {slave} link up: ARP answers")
        else:
            out.append(f"{name}: {slave} link {link}")
    if old["active"] != new["active"]:
        out.append(f"{name}: active slave {old['active'] or '-'} -> {new['active'] or '-'}")
    if old["mac"] != new["mac"] and new["exists"] and old["exists"]:
        out.append(f"{name}: MAC {old['mac']} -> {new['mac']}")
    if old["carrier"] != new["carrier"] and new["exists"]:
        out.append(f"{name}: {'carrier' if new['carrier'] else 'no carrier'}")
    return out


def cmd_monitor(args: argparse.Namespace) -> int:
    import time

    from .state import BondState

    loaded = load_quiet(args.config or paths.host(paths.CONFIG))
    names = [b.name for b in loaded.bonds if not args.bond or b.name in args.bond]
    monitor = None
    try:
        import pyudev

        monitor = pyudev.Monitor.from_netlink(pyudev.Context())
        monitor.filter_by("net")
        monitor.start()
    except Exception as e:  # still useful without udev events: sysfs shows the bond
        print(f"wibond monitor: no udev events ({e}); watching sysfs only", file=sys.stderr)
        monitor = None
    last = {n: BondState(n).summary() for n in names}
    for name in names:
        st = BondState(name)
        print(f"{name}: {'active ' + (st.active or '-') if st.exists else 'not created'}; "
              f"slaves {', '.join(s.name for s in st.slaves) or '-'}", flush=True)
    deadline = time.monotonic() + args.duration if args.duration else None
    try:
        while deadline is None or time.monotonic() < deadline:
            if monitor is not None:
                event = monitor.poll(timeout=args.interval)
                if event is not None and event.action in ("add", "remove", "move"):
                    print(f"{time.strftime('%H:%M:%S')} {event.sys_name}: {event.action}", flush=True)
            else:
                time.sleep(args.interval)
            for name in names:
                now = BondState(name).summary()
                for line in bond_changes(name, last[name], now):
                    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)
                last[name] = now
    except KeyboardInterrupt:
        pass
    return EXIT_OK
