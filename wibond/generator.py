"""wibond-generator: systemd.generator(7) entry.

Runs early at boot, synchronously: imports only the standard library and
configobj/validate, writes only into the directory systemd gives it, talks
to no process, logs to /dev/kmsg. A bond whose section is wrong is skipped
with a message; the others still come up.
"""

from __future__ import annotations

import os
import sys

from . import config, paths
from .plan import plan_all
from .writer import WriteError, write_plan

# syslog priorities for /dev/kmsg
ERR, WARNING, NOTICE, INFO = 3, 4, 5, 6

# Templates a distribution may ship that our instances take precedence over.
_DISTRO_TEMPLATES = ("dhclient@.service", "dhcp6c@.service")
_UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system",
              "/lib/systemd/system")


class KmsgLog:
    def __init__(self) -> None:
        self.stream = None
        try:
            self.stream = open(paths.host(paths.KMSG), "w", encoding="utf-8")
        except OSError:
            pass

    def __call__(self, priority: int, message: str) -> None:
        for line in message.splitlines() or [""]:
            text = f"<{priority}>wibond-generator[{os.getpid()}]: {line}\n"
            if self.stream is not None:
                try:
                    self.stream.write(text)
                    self.stream.flush()
                    continue
                except OSError:
                    pass
            sys.stderr.write(text[3:])


def generate(config_path: str, outdir: str, log) -> int:  # type: ignore[no-untyped-def]
    """Check the config, write units for every good bond. 0, or 1 if some bond was skipped."""
    if not os.path.exists(config_path):
        return 0  # installed, not configured: nothing to do
    loaded = config.load(config_path, shown=paths.CONFIG)
    for diag in loaded.diagnostics:
        log(ERR if diag.severity == config.ERROR else WARNING, str(diag))
    skipped = sorted({d.bond for d in loaded.errors if d.bond})
    for name in skipped:
        log(ERR, f"{name}: not brought up because of the errors above; `wibond check` lists them")
    plan = plan_all(loaded.bonds, paths.CONFIG)
    try:
        write_plan(plan, outdir)
    except (WriteError, OSError) as e:
        log(ERR, f"cannot write units: {e}")
        return 1
    for bond in loaded.bonds:
        log(INFO, f"{bond.name}: units for {len(bond.slaves)} slave(s): "
                  + ", ".join(s.name for s in bond.slaves))
    _note_shadowed(loaded.bonds, log)
    return 1 if loaded.errors else 0


def _note_shadowed(bonds, log) -> None:  # type: ignore[no-untyped-def]
    """Say so when our dhclient@<bond> / dhcp6c@<bond> take over from a shipped template."""
    for template in _DISTRO_TEMPLATES:
        client = template.split("@")[0]
        users = [b.name for b in bonds if ("ipv4" if client == "dhclient" else "ipv6") in b.dhcp]
        if not users:
            continue
        for unit_dir in _UNIT_DIRS:
            if os.path.exists(paths.host(f"{unit_dir}/{template}")):
                log(NOTICE, f"{unit_dir}/{template} exists; wibond's units take precedence for "
                            f"{', '.join(f'{client}@{u}.service' for u in users)} only")
                break


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    log = KmsgLog()
    if os.environ.get("SYSTEMD_IN_INITRD") == "1":
        return 0
    if len(args) not in (1, 3):
        log(ERR, "expects 1 or 3 output directories (see systemd.generator(7))")
        return 2
    try:
        return generate(paths.host(paths.CONFIG), args[0], log)
    except Exception as e:  # never a traceback at boot
        log(ERR, f"internal error, no units written: {type(e).__name__}: {e}")
        return 1
