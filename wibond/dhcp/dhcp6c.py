"""WIDE dhcp6c for DHCPv6 (the ArchWiki page's client; last release 2008, AUR-only on Arch,
x86 only in its PKGBUILD)."""

from __future__ import annotations

import struct

from ..common import paths
from ..common.formats import conf_word
from ..common.layout import client_file
from ..config.model import Bond
from .base import Client


def duid_file(duid: bytes) -> bytes:
    """dhcp6c's DUID file: the length as a native 16-bit integer, then the DUID."""
    return struct.pack("=H", len(duid)) + duid


class Dhcp6c(Client):
    name = "dhcp6c"
    program = "dhcp6c"
    families = ("ipv6",)
    packages = (("Arch", "the AUR package wide-dhcpv6"), ("Debian", "apt install wide-dhcpv6-client"))

    def conf(self, bond: Bond) -> str:
        from ..common import identity  # hashlib: off the generator's path

        ia = conf_word(identity.iaid(bond.name))
        return "\n".join([
            self.header(bond),
            f"interface {conf_word(bond.name)} {{",
            f"\tsend ia-na {ia};",
            "\trequest domain-name-servers, domain-name;",
            "};",
            f"id-assoc na {ia} {{",
            "};",
            "",
        ])

    def files(self, bond: Bond, duid: bytes, families: list[str]) -> dict[str, bytes]:
        # dhcp6c reads its DUID from one file for the whole machine (config.py refuses bonds
        # with different DUIDs).
        return {client_file(bond.name, "dhcp6c.conf"): self.conf(bond).encode(),
                paths.DHCP6C_DUID: duid_file(duid)}

    def run_files(self, bond: str) -> list[str]:
        return [client_file(bond, "dhcp6c.conf")]


DHCP6C = Dhcp6c()
