"""wibond-generator: systemd.generator(7) entry.

Runs early at boot, synchronously: imports only the standard library and
configobj/validate, writes only into the directory systemd gives it, talks
to no process, logs to /dev/kmsg. A bond whose section is wrong is skipped
with a message; the others still come up. Beside the units it leaves the
checked config for their steps (snapshot.py).
"""

from __future__ import annotations

import os
import sys

from .. import dhcp, managers
from ..common import paths
from ..common.formats import printable
from ..common.names import escape_instance
from ..config import model, reader
from ..config.diagnostics import diagnostic
from ..config.model import Bond, Diagnostic
from . import snapshot
from .plan import File, Plan, plan_all
from .writer import WriteError, write_plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

# syslog priorities for /dev/kmsg, and the one of each diagnostic's severity
ERR, WARNING, NOTICE, INFO = 3, 4, 5, 6
PRIORITY = {model.ERROR: ERR, model.WARNING: WARNING, model.NOTE: NOTICE}


class KmsgLog:
    def __init__(self) -> None:
        self.stream = None
        try:
            self.stream = open(paths.host(paths.KMSG), "w", encoding="utf-8")
        except OSError:
            pass

    def __call__(self, priority: int, message: str) -> None:
        for line in message.splitlines() or [""]:
            text = f"<{priority}>wibond-generator[{os.getpid()}]: {printable(line)}\n"
            if self.stream is not None:
                try:
                    self.stream.write(text)
                    self.stream.flush()
                    continue
                except OSError:
                    pass
            sys.stderr.write(text[3:])


def generate(config_path: str, outdir: str, log: Callable[[int, str], None],
             shown: str = paths.CONFIG) -> int:
    """Check the config, write units for every good bond. 0, or 1 if some bond was skipped.
    SHOWN: the config's path in messages."""
    if not os.path.lexists(config_path):
        return 0  # installed, not configured: nothing to do (a dangling link is reported)
    loaded = reader.load(config_path, shown=shown)
    for diag in loaded.diagnostics:
        log(PRIORITY[diag.severity], str(diag))
    skipped = sorted({d.bond for d in loaded.errors if d.bond})
    for name in skipped:
        log(ERR, f"{name}: not brought up because of the errors above; `wibond check` lists them")
    plan, bonds, choices, problems = boot_plan(loaded)
    for diag in left_out(loaded.path, problems):
        log(PRIORITY[diag.severity], str(diag))
    try:
        write_plan(plan, outdir)
    except (WriteError, OSError) as e:
        log(ERR, f"cannot write units: {e}")
        return 1
    for bond in bonds:
        clients = choices[bond.name].describe()
        log(INFO, f"{bond.name}: units for {len(bond.slaves)} slave(s): "
                  + ", ".join(s.name for s in bond.slaves)
                  + (f"; DHCP: {clients}" if bond.dhcp else ""))
    for note in dhcp_notes(bonds, choices):
        log(NOTICE, note)
    return 1 if loaded.errors or problems else 0


def boot_plan(loaded: reader.Loaded) -> tuple[Plan, list[Bond], dict[str, dhcp.Choice],
                                              list[tuple[str, str]]]:
    """What boot writes for LOADED: the plan (units and the snapshot of the checked config
    their steps read), the bonds brought up, their DHCP clients, and (bond, why) for those
    left out."""
    bonds, choices, problems = boot_bonds(loaded.bonds)
    plan = plan_all(bonds, paths.CONFIG, choices, dhcpcd_command=managers.dhcpcd_command(bonds))
    plan[snapshot.REL] = File(snapshot.dumps(loaded, bonds,
                                             loaded.errors + left_out(loaded.path, problems)))
    return plan, bonds, choices, problems


def left_out(config: str, problems: list[tuple[str, str]]) -> list[Diagnostic]:
    """The bonds boot leaves out for want of a DHCP client, as check and the journal say it."""
    return [diagnostic("dhcp-client-missing", config, (name,), problem=problem, bond=name)
            for name, problem in problems]


def boot_bonds(bonds: list[Bond]) -> tuple[list[Bond], dict[str, dhcp.Choice],
                                           list[tuple[str, str]]]:
    """The bonds boot brings up, the DHCP clients of each, and (bond, why) for those left out
    because no DHCP client they need is installed: a unit for a missing client would fail
    and restart forever."""
    choices = dhcp.choose_all(bonds)
    problems = [(b.name, choices[b.name].problem) for b in bonds if choices[b.name].problem]
    left_out = {name for name, _p in problems}
    return [b for b in bonds if b.name not in left_out], choices, problems  # type: ignore[misc]


def dhcp_notes(bonds: list[Bond], choices: dict[str, dhcp.Choice]) -> list[str]:
    """What a person should know about the DHCP clients' neighbours in this system."""
    notes = []
    used: dict[str, list[str]] = {}
    for bond in bonds:
        for client, _families in choices[bond.name].clients:
            used.setdefault(client.name, []).append(client.unit(escape_instance(bond.name)))
    for name, units in sorted(used.items()):
        template = f"{name}@.service"
        for unit_dir in paths.UNIT_DIRS:
            if os.path.exists(paths.host(f"{unit_dir}/{template}")):
                notes.append(f"{unit_dir}/{template} exists; wibond's units take precedence "
                             f"for {', '.join(units)} only")
                break
    if bonds:
        enabled = managers.enabled(managers.DHCPCD_UNIT)
        owned = managers.Owned(bonds)
        if enabled and managers.dhcpcd_command(bonds):
            notes.append(f"{enabled} enables {managers.DHCPCD_UNIT}, which runs dhcpcd on every "
                         f"interface: wibond's drop-in ({managers.DHCPCD_DROPIN}) starts it with "
                         f"--denyinterfaces {','.join(owned.names)}")
        elif enabled:
            notes.append(f"{enabled} enables {managers.DHCPCD_UNIT}, which runs dhcpcd on every "
                         "interface, bonds and slaves included, and wibond cannot read its "
                         "command line to add to it; add `denyinterfaces "
                         + " ".join(owned.names) + "` to /etc/dhcpcd.conf or disable it "
                         "(README: Beside other network managers)")
        if enabled and owned.matches:
            notes.append(f"{managers.DHCPCD_UNIT}: the slaves matched by MAC, driver or USB id "
                         f"({', '.join('[[' + m.section + ']]' for m in owned.matches)}) have no "
                         "name to deny it; give them a pattern section (wlx*) or disable it")
    for manager, how in managers.found():
        if manager is managers.DHCPCD:
            continue  # said above
        notes.append(f"{manager.name} ({how}) keeps off wibond's interfaces: it reads "
                     f"wibond's files in {manager.directory} (wibond-managers.service)")
    for bond, unit, why in managers.conflicts(bonds):
        if unit == "iwd.service":
            notes.append(f"[{bond}] {unit} is enabled and {why}, the radios of {bond} too: "
                         "two supplicants would fight for them; disable it "
                         "(systemctl disable --now iwd) or start it with --nointerfaces "
                         "for wibond's radios")
        else:
            notes.append(f"[{bond}] {unit} is enabled and {why}: wibond's supplicant unit "
                         f"conflicts with it, so systemd stops it when wibond's starts; "
                         f"`systemctl disable {unit}` silences this")
    return notes


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    log = KmsgLog()
    if os.environ.get("SYSTEMD_IN_INITRD") == "1":
        return 0
    if len(args) not in (1, 3):
        log(ERR, "expects 1 or 3 output directories (see systemd.generator(7))")
        return 2
    try:
        in_force = paths.config_in_force()
        if in_force != paths.CONFIG:
            log(INFO, f"a `wibond try` is pending: units made from {in_force}, not "
                      f"{paths.CONFIG} (`wibond confirm` keeps it, `wibond rollback` drops it)")
        return generate(paths.host(in_force), args[0], log, shown=in_force)
    except Exception as e:  # never a traceback at boot
        log(ERR, f"internal error, no units written: {type(e).__name__}: {e}")
        return 1
