"""The `wibond` command: check a config, show what boot will generate."""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__, config, paths
from .writer import WriteError, write_plan

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def _print_diagnostics(loaded: config.Loaded) -> None:
    for diag in sorted(loaded.diagnostics, key=lambda d: (d.line or 0, d.severity)):
        print(diag, file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    path = args.file or paths.host(paths.CONFIG)
    loaded = config.load(path)
    _print_diagnostics(loaded)
    if loaded.errors:
        errors, warnings = len(loaded.errors), len(loaded.diagnostics) - len(loaded.errors)
        print(f"{path}: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
        return EXIT_ERROR
    from .generator import boot_bonds, dhcp_notes

    bonds, choices, problems = boot_bonds(loaded.bonds)
    # Said as a warning: the config may be checked on another machine than the one it boots.
    for name, problem in problems:
        print(f"{path}: warning: [{name}] dhcp_client: {problem}; boot will not bring "
              f"{name} up here", file=sys.stderr)
    for note in dhcp_notes(bonds, choices):
        print(f"{path}: note: {note}", file=sys.stderr)
    for problem in _wpa_trust(loaded):
        print(f"{path}: warning: {problem}", file=sys.stderr)
    for bond in loaded.bonds:
        slaves = ", ".join(f"{s.name} ({s.type})" for s in bond.slaves)
        dhcp = ", ".join(bond.dhcp) or "none"
        if bond.dhcp:
            choice = choices[bond.name]
            dhcp += " by " + ("no client (not installed)" if choice.problem
                              else choice.describe())
        static = ", ".join(bond.address) or "none"
        print(f"{bond.name}: {bond.mode}, primary {bond.primary}, slaves {slaves}; "
              f"dhcp {dhcp}; static {static}; monitoring {bond.monitoring()}")
    return EXIT_OK


def _wpa_trust(loaded: config.Loaded) -> list[str]:
    """Who may change the wpa_supplicant files the radios named in the config will use."""
    from .model import wpa_conf_for
    from .trust import problems

    seen: set[str] = set()
    out = []
    for bond in loaded.bonds:
        for slave in bond.wireless_slaves:
            conf = slave.wpa_conf if slave.dynamic else wpa_conf_for(
                slave, slave.name, lambda p: os.path.exists(paths.host(p)))
            if conf and conf not in seen:
                seen.add(conf)
                out += [f"[{bond.name}] [[{slave.name}]] {p}"
                        for p in problems(paths.host(conf), conf)]
    return out


def cmd_generate(args: argparse.Namespace) -> int:
    outdir = args.outdir
    if os.path.isdir(outdir) and os.listdir(outdir):
        print(f"wibond generate: {outdir} is not empty; give a new or empty directory",
              file=sys.stderr)
        return EXIT_USAGE
    from .generator import boot_plan

    # The machine's own config is named as boot names it, so the files are the same.
    own = os.path.abspath(args.config) == os.path.abspath(paths.host(paths.CONFIG))
    loaded = config.load(args.config, shown=paths.CONFIG if own else None)
    _print_diagnostics(loaded)
    plan, _bonds, _choices, problems = boot_plan(loaded)
    for name, problem in problems:
        print(f"{loaded.path}: error: [{name}] dhcp_client: {problem}", file=sys.stderr)
    try:
        os.makedirs(outdir, exist_ok=True)
        write_plan(plan, outdir)
    except (WriteError, OSError) as e:
        print(f"wibond generate: {e}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_ERROR if loaded.errors or problems else EXIT_OK


def _load_quiet(path: str) -> config.Loaded:
    loaded = config.load(path)
    for diag in loaded.errors:
        print(diag, file=sys.stderr)
    return loaded


def cmd_status(args: argparse.Namespace) -> int:
    from . import devices, match
    from .state import BondState

    loaded = _load_quiet(args.config or paths.host(paths.CONFIG))
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
    return EXIT_ERROR if loaded.errors else EXIT_OK


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

    loaded = _load_quiet(args.config or paths.host(paths.CONFIG))
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wibond", description=__doc__)
    parser.add_argument("--version", action="version", version=f"wibond {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = sub.add_parser("check", help="check a config and print every error and warning")
    check.add_argument("file", nargs="?", help=f"the config (default {paths.CONFIG})")
    check.set_defaults(func=cmd_check)
    gen = sub.add_parser("generate", help="write what the generator would write at boot")
    gen.add_argument("--config", required=True, help="the config to read")
    gen.add_argument("outdir", help="a new or empty directory")
    gen.set_defaults(func=cmd_generate)
    status = sub.add_parser("status", help="show each bond, its slaves and matching devices")
    status.add_argument("--config", help=f"the config (default {paths.CONFIG})")
    status.add_argument("bond", nargs="*", help="only these bonds")
    status.set_defaults(func=cmd_status)
    mon = sub.add_parser("monitor", help="print slave and failover changes as they happen")
    mon.add_argument("--config", help=f"the config (default {paths.CONFIG})")
    mon.add_argument("--interval", type=float, default=0.2, help="seconds between looks (0.2)")
    mon.add_argument("--duration", type=float, help="stop after this many seconds")
    mon.add_argument("bond", nargs="*", help="only these bonds")
    mon.set_defaults(func=cmd_monitor)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
