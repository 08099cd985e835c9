"""dhcpcd for DHCPv4 and DHCPv6, one daemon per bond (official on Arch and ALARM, Debian's
dhcpcd-base; the only client Debian sid still ships).

wibond runs its own instance on the bond only, with a configuration of its own
(dhcpcd -f): the distribution's /etc/dhcpcd.conf is for the distribution's
dhcpcd.service and is not read.
"""

from __future__ import annotations

from ..common import paths
from ..common.formats import conf_word
from ..common.layout import client_file
from ..config.model import Bond
from .base import Client

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time (wibond/__init__.py)
    from .leases import Lease


class Dhcpcd(Client):
    name = "dhcpcd"
    program = "dhcpcd"
    families = ("ipv4", "ipv6")
    packages = (("Arch", "pacman -S dhcpcd"), ("Debian", "apt install dhcpcd-base"))

    def conf(self, bond: Bond, duid: bytes, families: list[str]) -> str:
        from ..common import identity  # hashlib: off the generator's path

        lines = [
            self.header(bond),
            # The bond only: never a slave, never another interface.
            f"allowinterfaces {conf_word(bond.name)}",
            # The DUID of both families; with the IAID below it makes the DHCPv4 client
            # identifier (RFC 4361), the same bytes dhclient and dhcp6c send.
            f"duid {conf_word(identity.hexcolon(duid))}",
            # wibond runs the supplicants; the host name is the administrator's.
            "nohook hostname, wpa_supplicant",
            "option domain_name_servers, domain_name, domain_search",
            "require dhcp_server_identifier",
            f"metric {conf_word(bond.metric)}",
            # Keep asking however long the server is away (default: give up after 30 s).
            "timeout 0",
            # No ARP probe or defence of the address. On a failover the bond takes the new
            # active slave's MAC and announces the address with it (num_grat_arp); dhcpcd,
            # still knowing the old MAC, reads that as another host claiming the address and
            # drops it (seen in the lab: "10 second defence failed", 60 s without IPv4).
            # Also no IPv4LL: a 169.254 address would hide that DHCP failed.
            "noarp",
        ]
        if bond.arp_interval:
            # ARP monitoring declares every slave down for a moment when it starts (no slave
            # has ARP evidence yet) and, in a quiet LAN, at a fault of the active slave's path
            # (the backups' evidence was its requests): the bond's carrier drops for about a
            # second. dhcpcd drops the lease at every carrier loss; seen in the lab, the
            # address and the route to the ARP target went with it, again and again. Like
            # dhclient, ignore the bond's carrier: the kernel's monitor decides about links.
            lines.append("nolink")
        if bond.hostname:
            lines.append(f"hostname {conf_word(bond.hostname)}")
        if families == ["ipv4"]:
            lines.append("ipv4only")
        elif families == ["ipv6"]:
            lines.append("ipv6only")
        if "ipv6" in families:
            # dhcpcd does SLAAC itself: RFC 7217 addresses do not change with the MAC.
            lines.append("slaac private" if bond.ipv6_addr_gen == "stable-privacy"
                         else "slaac hwaddr")
        lines += [
            f"interface {conf_word(bond.name)}",
            # dhcpcd's default IAID is the MAC's last 4 bytes: the MAC of a bond changes on
            # every failover, the IAID must not.
            f"\tiaid {conf_word(identity.iaid(bond.name))}",
        ]
        if "ipv6" in families:
            lines.append("\tia_na")
        return "\n".join(lines) + "\n"

    def files(self, bond: Bond, duid: bytes, families: list[str]) -> dict[str, bytes]:
        return {client_file(bond.name, "dhcpcd.conf"): self.conf(bond, duid, families).encode()}

    def run_files(self, bond: str) -> list[str]:
        return [client_file(bond, "dhcpcd.conf")]

    def stale_files(self, bond: str) -> list[str]:
        # The IPv4 lease dhcpcd saved. Started with one (every boot, every restart) dhcpcd
        # asks for it again (INIT-REBOOT) and arms its ARP defence of the address whatever
        # noarp says; the next failover's gratuitous ARP, from the new active slave's MAC,
        # then "claims" the address, and dhcpcd answers with its old MAC and drops the
        # address (seen in silent-archwiki: "10 second defence failed"). Without it dhcpcd
        # asks anew (DISCOVER); the server knows the client identifier: the same address.
        return [f"{paths.DHCPCD_DBDIR}/{bond}.lease"]

    def lease(self, bond: str) -> Lease | None:
        from .leases import read_bootp

        return read_bootp(f"{paths.DHCPCD_DBDIR}/{bond}.lease")


DHCPCD = Dhcpcd()
