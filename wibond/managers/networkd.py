"""systemd-networkd: a .network file under /run/systemd/network with `[Link] Unmanaged=yes`.

networkd takes the first .network file that matches a link, in lexical order of the names
across /etc, /run and /usr/lib: 10-wibond-*.network sorts before the en.network and
eth.network Arch Linux ARM ships (and before a distribution's 99-default.network), so the
cable, the radios and the bond are never matched by those, and networkd neither flushes their
addresses nor runs DHCP on them. Its other links it keeps managing.
"""

from __future__ import annotations

from ..common.formats import network_word
from .base import Manager, Owned, header

DIR = "/run/systemd/network"
PREFIX = "10-wibond"


def _file(match: list[str]) -> str:
    return "\n".join([header(), "", "[Match]", *match, "", "[Link]", "Unmanaged=yes", ""])


class Networkd(Manager):
    name = "systemd-networkd"
    units = ("systemd-networkd.service",)
    directory = DIR
    prefix = "10-wibond"

    def files(self, owned: Owned) -> dict[str, str]:
        out = {}
        if owned.names:
            out[f"{DIR}/{PREFIX}.network"] = _file(
                ["Name=" + " ".join(network_word(n) for n in owned.names)])
        for i, m in enumerate(owned.matches, 1):
            common = []
            if m.macs:
                # The permanent address: a slave of a bond may wear the bond's.
                common.append("PermanentMACAddress=" + " ".join(network_word(a) for a in m.macs))
            if m.drivers:
                common.append("Driver=" + " ".join(network_word(d) for d in m.drivers))
            # One file per USB id: the vendor and the product must both fit.
            for j, usb in enumerate(m.usb or [None], 1):
                match = list(common)
                if usb:
                    vendor, product = usb.split(":")
                    match.append(f"Property=ID_VENDOR_ID={network_word(vendor)} "
                                 f"ID_MODEL_ID={network_word(product)}")
                out[f"{DIR}/{PREFIX}-devices{i}-{j}.network"] = _file(match)
        return out

    def reload(self) -> list[str]:
        return ["networkctl", "reload"]


NETWORKD = Networkd()
