"""`wibond status` and `wibond monitor`: the bonds as the kernel runs them."""

from __future__ import annotations

import argparse
import os
import sys

from ..common import paths
from .base import EXIT_DOWN, EXIT_ERROR, EXIT_OK, load_quiet, print_json, unknown_bonds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..config.model import Bond


def cmd_status(args: argparse.Namespace) -> int:
    from ..runtime import devices, trial
    from .report import report

    loaded = load_quiet(args.config or paths.host(paths.config_in_force()))
    missing = unknown_bonds(loaded, args.bond)
    if missing:
        print(f"wibond status: {', '.join(missing)}: no such bond in {loaded.path} (bonds: "
              f"{', '.join(b.name for b in loaded.bonds) or 'none'})", file=sys.stderr)
        return EXIT_ERROR
    bonds = [b for b in loaded.bonds if not args.bond or b.name in args.bond]
    try:
        present = devices.present()
    except Exception as e:  # pyudev missing or no udev: say so, show the rest
        print(f"wibond status: cannot list devices from udev: {e}", file=sys.stderr)
        present = []
    data = report(bonds, loaded.bonds, present, managers=lambda: _managers(loaded.bonds))
    data["try"] = trial.pending()
    if args.json:
        print_json(data)
    else:
        for line in render(data):
            print(line)
    if loaded.errors:
        return EXIT_ERROR
    return EXIT_DOWN if any(not b["carries_traffic"] for b in data["bonds"]) else EXIT_OK


def render(data: dict) -> list[str]:
    """The report for people (the same content as --json)."""
    out: list[str] = []
    pending = data.get("try")
    if pending:
        import time

        left = f" (in {_ago(max(0, pending['deadline'] - time.time()))})" \
            if pending.get("deadline") else ""
        when = _clock(pending["deadline"]) if pending.get("deadline") else "?"
        out.append(f"a `wibond try` is pending: {pending['config']}"
                   + (f" (from {pending['source']})" if pending.get("source") else "")
                   + f" is in force; it rolls back at {when}{left} unless `wibond confirm`")
    for b in data["bonds"]:
        out += _render_bond(b)
    if data.get("managers"):
        out.append("other network managers (told to keep off "
                   f"{', '.join(data['managers'][0]['owned'])}):")
        for m in data["managers"]:
            told = ", ".join(m["files"]) or "nothing to tell"
            missing = f"; MISSING {', '.join(m['missing'])}: systemctl restart wibond-managers" \
                if m["missing"] else ""
            out.append(f"  {m['name']} ({m['found']}): {told}{missing}")
    return out


def _render_bond(b: dict) -> list[str]:
    name = b["bond"]
    if not b["exists"]:
        out = [f"{name}: not created (no slave unit running)"]
    else:
        out = [f"{name}: {b['mode']}, {'carrier' if b['carrier'] else 'no carrier'}, "
               f"active {b['active'] or '-'}, primary {b['primary'] or '-'}, MAC {b['mac']}",
               f"  monitoring: {b['monitoring']}"]
    out += [f"  {p}" for p in b["problems"]]
    for s in b["slaves"]:
        if s["section"] is None:
            out.append(f"  {s['name']:16s} enslaved, but no section of {name} matches it")
            continue
        if s["enslaved"]:
            mark = "*" if s["active"] else " "
            out.append(f" {mark}{s['name']:16s} {s['type']:9s} {s['link']:26s} [[{s['section']}]]")
        else:
            out.append(f"  {s['name']:16s} {s['type']:9s} not enslaved  [[{s['section']}]]")
        if s["radio"] is not None:
            from .radio import describe

            out.append(f"  {'':16s} {describe(s['radio'])}")
        if s["hardware"] is not None:
            out.append(f"  {'':16s} {_hardware(s['hardware'])}")
    if b["absent"]:
        out.append(f"  absent: {', '.join(b['absent'])}")
    if not b["exists"]:
        return out
    for i, a in enumerate(b["addresses"] or [None]):
        head = "  addresses: " if i == 0 else " " * 13
        out.append(head + (_address(a) if a else "none"))
    for d in b["dhcp"]:
        if d["state"] not in (None, "active"):
            out.append(f"  DHCP: {d['unit']} is {d['state']}")
    last = b.get("last_failover")
    if last:
        out.append(f"  last failover: {_clock(last['at'])} ({_ago(last['ago_s'])} ago) "
                   f"{last['from'] or 'none'} -> {last['to'] or 'none'}: {last['why']}")
    elif b.get("last_failover_error"):
        out.append(f"  last failover: unknown ({b['last_failover_error']})")
    else:
        out.append("  last failover: none this boot")
    return out


def _hardware(h: dict) -> str:
    """'driver brcmfmac (firmware 7.45.98), power save off; wibond: power save off, ...'."""
    from ..config.quirks import POWER_SAVE_OFF, PROMISCUOUS

    text = f"driver {h['driver'] or 'unknown'}"
    if h["usb"]:
        text += f" (USB {h['usb']})"
    if h["firmware"]:
        text += f", firmware {h['firmware']}"
    text += f", power save {h['power_save'] or 'unknown'}"
    names = {POWER_SAVE_OFF: "power save off", PROMISCUOUS: "promiscuous (firmware ARP offload)"}
    if h["quirks"]:
        text += "; wibond set: " + ", ".join(names.get(q, q) for q in h["quirks"])
    return text


def _address(a: dict) -> str:
    text = a["address"]
    if a["source"] == "static":
        text += " static (wibond.conf)"
    elif a["source"] == "slaac":
        text += " from router advertisements (SLAAC)"
    elif a["source"] == "dhcp":
        text += f" DHCP by {a['unit']}"
        lease = a.get("lease")
        if lease:
            length = f"{_ago(lease['seconds'])} lease" if lease.get("seconds") is not None else "lease"
            text += f": {length} obtained {_clock(lease['obtained'])} ({_ago(lease['ago_s'])} ago)"
            if lease["left_s"] is not None:
                text += f", {_ago(lease['left_s'])} left"
            if lease.get("server"):
                text += f", server {lease['server']}"
            return text
    if a["valid_s"] is not None:
        text += f", valid {_ago(a['valid_s'])} more"
    return text


def _clock(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def _ago(seconds: float) -> str:
    """A duration for people: 45 s, 3 min 20 s, 2 h 5 min, 3 d 4 h."""
    s = int(round(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min" + (f" {s % 60} s" if s % 60 and s < 600 else "")
    if s < 172800:
        return f"{s // 3600} h" + (f" {s % 3600 // 60} min" if s % 3600 // 60 else "")
    return f"{s // 86400} d" + (f" {s % 86400 // 3600} h" if s % 86400 // 3600 else "")


def _managers(bonds: list[Bond]) -> list[dict]:
    """The other network managers found, and whether wibond's word to each is in place."""
    from .. import managers

    out = []
    owned = managers.Owned(bonds)
    for manager, how in managers.found():
        files = manager.told(owned)
        out.append({"name": manager.name, "found": how, "files": files,
                    "missing": [p for p in files if not os.path.exists(paths.host(p))],
                    "owned": owned.parts()})
    return out


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

    from ..runtime.bondstate import BondState
    from ..runtime.hostio import Host

    host = Host(lambda _line: None)   # reads only
    loaded = load_quiet(args.config or paths.host(paths.config_in_force()))
    missing = unknown_bonds(loaded, args.bond)
    if missing:
        print(f"wibond monitor: {', '.join(missing)}: no such bond in {loaded.path}",
              file=sys.stderr)
        return EXIT_ERROR
    names = [b.name for b in loaded.bonds if not args.bond or b.name in args.bond]
    if not names:
        print("wibond monitor: no bond to watch", file=sys.stderr)
        return EXIT_ERROR
    monitor = None
    try:
        import pyudev

        monitor = pyudev.Monitor.from_netlink(pyudev.Context())
        monitor.filter_by("net")
        monitor.start()
    except Exception as e:  # still useful without udev events: sysfs shows the bond
        print(f"wibond monitor: no udev events ({e}); watching sysfs only", file=sys.stderr)
        monitor = None
    last = {n: BondState(host, n).summary() for n in names}
    for name in names:
        st = BondState(host, name)
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
                now = BondState(host, name).summary()
                for line in bond_changes(name, last[name], now):
                    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)
                last[name] = now
    except KeyboardInterrupt:
        pass
    return EXIT_OK
