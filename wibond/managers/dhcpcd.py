"""dhcpcd.service, dhcpcd in manager mode on every interface (Arch's dhcpcd package, Debian's
dhcpcd): it reads no file under /run, but takes `--denyinterfaces PATTERNS` on its command
line. The generator gives the distribution's unit a drop-in that starts it as it would with
wibond's interfaces denied, so dhcpcd keeps managing the machine's other interfaces and no
slave gets an address, a route or a supplicant (its wpa_supplicant hook) of dhcpcd's.
Devices matched only by MAC, driver or USB id have no name to deny: `wibond check` says so.
"""

from __future__ import annotations

import os

from ..common import paths
from ..common.formats import network_word
from .base import Manager, Owned

UNIT = "dhcpcd.service"
DROPIN = f"{UNIT}.d/50-wibond.conf"  # boot.plan.DHCPCD_DROPIN: the generator writes it


class Dhcpcd(Manager):
    name = "dhcpcd"
    units = (UNIT,)

    def files(self, owned: Owned) -> dict[str, str]:
        return {}

    def exec_start(self) -> str | None:
        """The distribution's ExecStart= of dhcpcd.service (the first unit file found, as
        systemd finds it), when it is one plain command line."""
        for d in paths.UNIT_DIRS:
            path = paths.host(f"{d}/{UNIT}")
            if not os.path.isfile(path):
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = [ln.strip()[len("ExecStart="):].strip() for ln in f
                         if ln.strip().startswith("ExecStart=")]
            lines = [ln for ln in lines if ln]
            return lines[0] if len(lines) == 1 else None
        return None

    def deny_command(self, owned: Owned) -> str | None:
        """dhcpcd.service's command line with wibond's interfaces denied (the generator puts
        it in a drop-in when the unit is enabled), or None when there is no name to deny or
        no plain command line to add to."""
        command = self.exec_start()
        if not owned.names or not command or command.startswith(("-", "@", "+", "!", ":")):
            return None
        return f"{command} --denyinterfaces {','.join(network_word(n) for n in owned.names)}"

    def told(self, owned: Owned) -> list[str]:
        return [f"/run/systemd/generator/{DROPIN}"] if self.deny_command(owned) else []


DHCPCD = Dhcpcd()
