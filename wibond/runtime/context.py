"""What a run-time step works in: the system, the config, where it speaks, and its error.

A step (wibond-helper's commands, and `wibond apply` and `wibond try`, which run the same
steps from the command line) is given a Context: the Host (hostio, the one door to the
kernel), the config in force (the generator's snapshot, read once when first asked, or a
Loaded the caller already has), its Output, and how to ask udev about a device. A step
that cannot be done raises StepError with words a person can act on.

This module sits below the steps and above the IO layer; helper.py, the entry point,
only builds a Context and dispatches.
"""

from __future__ import annotations

import os
import sys

from ..common import paths
from ..common.formats import printable
from ..config.model import Bond, Loaded, Slave
from .hostio import Host

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time (wibond/__init__.py)
    from typing import Callable, TextIO

    from ..config.match import Device

    Lookup = Callable[[str], "Device | None"]


# syslog priorities, understood by journald at the start of a line on stderr
_ERR, _WARNING, _INFO = 3, 4, 6


class StepError(Exception):
    """A step that cannot be done; the text says what, why and what to do."""


class ConfigError(StepError):
    """A step refused for a file only a person can mend (a radio's wpa_supplicant file):
    retrying cannot help."""


class Output:
    """Where a step speaks: stderr, with the journal's priority prefix under systemd."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.prefixed = "JOURNAL_STREAM" in os.environ

    def _say(self, priority: int, message: str) -> None:
        for line in message.splitlines():
            line = printable(line)  # an interface name from the kernel may hold escapes
            self.stream.write(f"<{priority}>{line}\n" if self.prefixed else f"wibond-helper: {line}\n")
        self.stream.flush()

    def info(self, message: str) -> None:
        self._say(_INFO, message)

    def warning(self, message: str) -> None:
        self._say(_WARNING, message)

    def error(self, message: str) -> None:
        self._say(_ERR, message)


class Context:
    """What a step needs: the system, the config (read once, when asked, unless LOADED is
    given) and the output. LOOKUP asks udev about a device (tests give a fake)."""

    def __init__(self, host: Host, out: Output, lookup: Lookup | None = None,
                 loaded: Loaded | None = None) -> None:
        self.host = host
        self.out = out
        self._loaded = loaded
        self._lookup = lookup

    @property
    def loaded(self) -> Loaded:
        """What the generator read from wibond.conf (snapshot.py); the file itself when
        there is no snapshot."""
        if self._loaded is None:
            from ..boot import snapshot

            in_force = paths.config_in_force()
            handed = snapshot.read(self.host, in_force)
            if handed is not None:
                self._loaded, changed = handed
                if changed:
                    self.out.warning(f"{in_force} has changed since the units were made "
                                     "from it; this step uses the settings they were made "
                                     "from: `wibond apply` applies the edit")
            else:
                site_packages()  # configobj: imported only when there is no snapshot
                from ..config import reader

                self._loaded = reader.load(paths.host(in_force), shown=in_force)
        return self._loaded

    def bond(self, name: str) -> Bond:
        bond = self.loaded.bond(name)
        if bond is not None:
            return bond
        errors = [d for d in self.loaded.errors if d.bond == name or not d.bond]
        if errors:
            raise StepError(f"{name}: {paths.CONFIG} has errors, so the bond is not set up:\n"
                            + "\n".join(str(d) for d in errors))
        raise StepError(f"{name} is not a bond in {paths.CONFIG}")

    def device(self, ifname: str) -> Device:
        from ..config.match import Device

        lookup = self._lookup
        if lookup is None:
            site_packages()
            from .devices import lookup
        try:
            dev = lookup(ifname)
        except Exception as e:  # no udev here: the name is all there is to go by
            self.out.warning(f"cannot ask udev about {ifname} ({e}); matching by name only")
            dev = None
        return dev or Device(ifname)

    def find(self, ifname: str) -> tuple[Bond, Slave] | None:
        """The (bond, section) IFNAME belongs to, or None; asks udev only when a pattern or
        labelled section could claim it."""
        from ..config import match

        for bond in self.loaded.bonds:
            for slave in bond.named_slaves:
                if slave.name == ifname:
                    return bond, slave
        if not any(bond.dynamic_slaves for bond in self.loaded.bonds):
            return None
        try:
            return match.find(self.loaded.bonds, self.device(ifname))
        except match.Conflict as e:
            raise StepError(str(e)) from None

    def section(self, bond: Bond, ifname: str) -> Slave:
        """The slave section of BOND that IFNAME belongs to."""
        found = self.find(ifname)
        if found is None:
            raise StepError(f"{ifname} matches no slave section of [{bond.name}] in "
                            f"{paths.CONFIG}")
        if found[0].name != bond.name:
            raise StepError(f"{ifname} belongs to [{found[0].name}] [[{found[1].name}]], "
                            f"not to [{bond.name}]")
        return found[1]

    def section_name(self, bond: Bond, ifname: str) -> str | None:
        """The name of BOND's section IFNAME belongs to; None when it belongs to none of
        BOND's or cannot be told."""
        try:
            found = self.find(ifname)
        except StepError:
            return None
        return found[1].name if found and found[0].name == bond.name else None


def site_packages() -> None:
    """Make the system's Python packages (configobj, pyudev) importable. wibond-helper starts
    without the site module (python3 -S), which costs a third of the interpreter's start and
    serves only the steps that need those packages."""
    if "site" not in sys.modules:
        import site

        site.main()
