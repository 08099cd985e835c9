"""NetworkManager: /run/NetworkManager/conf.d/90-wibond.conf, a [device-wibond] section with
match-device and managed=0 (read since NetworkManager 1.6; a [device-*] section outranks
udev's NM_UNMANAGED and cannot be overruled with nmcli). NetworkManager then neither runs its
automatic wired connection nor the Raspberry Pi Imager's preconfigured Wi-Fi connection on
wibond's interfaces, and does not ask its D-Bus wpa_supplicant to drive wibond's radios. USB
ids it cannot match: the udev rule (udevprops.py) covers those with NM_UNMANAGED.
"""

from __future__ import annotations

from ..common.formats import nm_spec
from .base import Manager, Owned, header

DIR = "/run/NetworkManager/conf.d"
PATH = f"{DIR}/90-wibond.conf"


class NetworkManager(Manager):
    name = "NetworkManager"
    units = ("NetworkManager.service",)
    directory = DIR
    prefix = "90-wibond"

    def files(self, owned: Owned) -> dict[str, str]:
        specs = [f"interface-name:{nm_spec(n)}" for n in owned.names]
        for m in owned.matches:
            if m.macs and not m.drivers:
                specs += [f"mac:{nm_spec(a)}" for a in m.macs]
            elif m.drivers and not m.macs:
                specs += [f"driver:{nm_spec(d)}" for d in m.drivers]
        if not specs:
            return {}
        return {PATH: "\n".join([header(), "", "[device-wibond]",
                                 "match-device=" + ";".join(specs), "managed=0", ""])}

    def reload(self) -> list[str]:
        return ["nmcli", "general", "reload", "conf"]


NETWORK_MANAGER = NetworkManager()
