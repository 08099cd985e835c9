"""`wibond check` and `wibond generate`: the config as boot will see it on this machine."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..boot.writer import WriteError, write_plan
from ..common import paths
from ..config import reader
from ..config.model import ERROR, NOTE, WARNING, Bond, Diagnostic
from .base import EXIT_ERROR, EXIT_OK, EXIT_USAGE, config_path, print_json, shown


def cmd_check(args: argparse.Namespace) -> int:
    from ..boot.generator import boot_bonds, dhcp_notes, left_out
    from ..config import wpafile

    path = config_path(args)
    loaded = reader.load(path, shown=shown(path))
    diagnostics = list(loaded.diagnostics)
    bonds: list[Bond] = []
    choices: dict[str, Any] = {}
    notes: list[str] = []
    if not loaded.errors:
        bonds, choices, problems = boot_bonds(loaded.bonds)
        diagnostics += left_out(loaded.path, problems)
        notes = dhcp_notes(bonds, choices) + quirk_notes(loaded.bonds)
        # What this machine shows of the radios: absent, and their wpa_supplicant files.
        diagnostics += wpafile.for_config(loaded.bonds, loaded.path)
    diagnostics.sort(key=lambda d: (d.line or 0, d.severity))
    errors = [d for d in diagnostics if d.severity == ERROR]
    summary = [_bond_summary(b, choices) for b in loaded.bonds] if not loaded.errors else []
    if args.json:
        print_json({"config": loaded.path, "ok": not errors,
                    "diagnostics": [_diag_json(d) for d in diagnostics]
                    + [{"severity": NOTE, "file": loaded.path, "line": None, "section": [],
                        "key": None, "message": n} for n in notes],
                    "bonds": summary})
        return EXIT_ERROR if errors else EXIT_OK
    for diag in diagnostics:
        print(diag, file=sys.stderr)
    for note in notes:
        print(f"{loaded.path}: note: {note}", file=sys.stderr)
    if errors:
        print(f"{loaded.path}: {len(errors)} error(s), "
              f"{sum(d.severity == WARNING for d in diagnostics)} warning(s)", file=sys.stderr)
        return EXIT_ERROR
    for b in summary:
        slaves = ", ".join(f"{s['name']} ({s['type']})" for s in b["slaves"])
        dhcp = ", ".join(b["dhcp"]) or "none"
        if b["dhcp"]:
            dhcp += " by " + (b["dhcp_clients"] or "no client (not installed)")
        print(f"{b['bond']}: {b['mode']}, primary {b['primary']}, slaves {slaves}; "
              f"dhcp {dhcp}; static {', '.join(b['address']) or 'none'}; "
              f"monitoring {b['monitoring']}")
    return EXIT_OK


def quirk_notes(bonds: list[Bond]) -> list[str]:
    """What wibond will do about the quirks of the radios present on this machine."""
    from fnmatch import fnmatchcase

    from ..config import quirks
    from ..runtime import bondstate, radioquirks
    from ..runtime.hostio import Host

    host = Host(lambda _line: None)   # reads only
    present = [n for n in host.listdir(paths.SYSFS_NET) if bondstate.is_radio(host, n)]
    notes = []
    for bond in bonds:
        for slave in bond.wireless_slaves:
            for ifname in [n for n in present if n == slave.name or
                           (slave.kind == "pattern" and fnmatchcase(n, slave.name))]:
                driver, usb = radioquirks.identity(host, ifname)
                actions = quirks.wanted_actions(slave.power_save, slave.promiscuous, driver, usb)
                for q in quirks.quirks_for(driver, usb):
                    if q.action and q.action not in actions:
                        continue   # turned off by the section's key
                    off = f" ({q.key} turns it off)" if q.key else ""
                    notes.append(f"[{bond.name}] {ifname} ({driver or 'unknown driver'}): "
                                 f"{q.name}: {q.does}{off}")
    return notes


def _bond_summary(bond: Bond, choices: dict[str, Any]) -> dict[str, Any]:
    choice = choices.get(bond.name)
    return {"bond": bond.name, "mode": bond.mode, "primary": bond.primary,
            "slaves": [{"name": s.name, "type": s.type} for s in bond.slaves],
            "dhcp": list(bond.dhcp),
            "dhcp_clients": choice.describe() if choice and not choice.problem else None,
            "address": list(bond.address), "monitoring": bond.monitoring()}


def _diag_json(d: Diagnostic) -> dict[str, Any]:
    return {"severity": d.severity, "file": d.path, "line": d.line, "section": list(d.section),
            "key": d.key, "message": d.message}


def cmd_generate(args: argparse.Namespace) -> int:
    outdir = args.outdir
    if os.path.isdir(outdir) and os.listdir(outdir):
        print(f"wibond generate: {outdir} is not empty; give a new or empty directory",
              file=sys.stderr)
        return EXIT_USAGE
    from ..boot.generator import boot_plan, left_out

    path = config_path(args)
    loaded = reader.load(path, shown=shown(path))
    plan, _bonds, _choices, problems = boot_plan(loaded)
    for diag in sorted(loaded.diagnostics + left_out(loaded.path, problems),
                       key=lambda d: (d.line or 0, d.severity)):
        print(diag, file=sys.stderr)
    try:
        os.makedirs(outdir, exist_ok=True)
        write_plan(plan, outdir)
    except (WriteError, OSError) as e:
        print(f"wibond generate: {e}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_ERROR if loaded.errors or problems else EXIT_OK
