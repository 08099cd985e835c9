"""udev properties for the devices wibond's slave sections match by MAC, driver or USB id:
/run/udev/rules.d/90-wibond-managers.rules sets NM_UNMANAGED=1 (every NetworkManager) and
ID_NET_MANAGED_BY=io.wibond (NetworkManager 1.46+, systemd-networkd 255+) while udev handles
the device's event, so a dongle plugged later is marked before either manager sees it. Names
and patterns are told to each manager in its own files; properties are what a dongle
matched by USB id can only be known by.
"""

from __future__ import annotations

from ..common.formats import udev_value
from .base import MANAGED_BY, Manager, Owned, header

DIR = "/run/udev/rules.d"
PATH = f"{DIR}/90-wibond-managers.rules"


class UdevProperties(Manager):
    name = "udev"
    directory = DIR
    prefix = "90-wibond-managers"

    def present(self) -> str | None:
        return "udev"  # always there under systemd; the rule serves the managers above

    def files(self, owned: Owned) -> dict[str, str]:
        lines = []
        for m in owned.matches:
            match = ['SUBSYSTEM=="net"', 'ACTION!="remove"']
            if m.macs:
                match.append(f'ATTR{{address}}=="{"|".join(udev_value(a) for a in m.macs)}"')
            if m.drivers:
                match.append(f'ENV{{ID_NET_DRIVER}}=="{"|".join(udev_value(d) for d in m.drivers)}"')
            for usb in m.usb or [None]:
                rule = list(match)
                if usb:
                    vendor, product = usb.split(":")
                    rule += [f'ENV{{ID_VENDOR_ID}}=="{udev_value(vendor)}"',
                             f'ENV{{ID_MODEL_ID}}=="{udev_value(product)}"']
                lines.append(f"# [{m.bond}] [[{m.section}]]")
                lines.append(", ".join(rule + ['ENV{NM_UNMANAGED}="1"',
                                               f'ENV{{ID_NET_MANAGED_BY}}="{MANAGED_BY}"']))
        if not lines:
            return {}
        return {PATH: "\n".join([header(), *lines, ""])}


UDEV = UdevProperties()
