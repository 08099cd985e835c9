"""`wibond check` and `wibond generate`: the config as boot will see it."""

from __future__ import annotations

import argparse
import os
import sys

from ..boot.writer import WriteError, write_plan
from ..common import paths
from ..config import reader
from .base import EXIT_ERROR, EXIT_OK, EXIT_USAGE, print_diagnostics


def cmd_check(args: argparse.Namespace) -> int:
    path = args.file or paths.host(paths.CONFIG)
    loaded = reader.load(path)
    print_diagnostics(loaded)
    if loaded.errors:
        errors, warnings = len(loaded.errors), len(loaded.diagnostics) - len(loaded.errors)
        print(f"{path}: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
        return EXIT_ERROR
    from ..boot.generator import boot_bonds, dhcp_notes

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


def _wpa_trust(loaded: reader.Loaded) -> list[str]:
    """Who may change the wpa_supplicant files the radios named in the config will use."""
    from ..common.trust import problems
    from ..config.model import wpa_conf_for

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
    from ..boot.generator import boot_plan

    # The machine's own config is named as boot names it, so the files are the same.
    own = os.path.abspath(args.config) == os.path.abspath(paths.host(paths.CONFIG))
    loaded = reader.load(args.config, shown=paths.CONFIG if own else None)
    print_diagnostics(loaded)
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
