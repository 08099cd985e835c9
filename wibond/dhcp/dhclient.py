"""ISC dhclient for DHCPv4 (the ArchWiki page's client; end-of-life upstream since 2022)."""

from __future__ import annotations

from ..common import paths
from ..common.formats import conf_string, conf_word, env_file
from ..common.layout import client_file
from ..config.model import Bond
from .base import Client

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time (wibond/__init__.py)
    from .leases import Lease


class Dhclient(Client):
    name = "dhclient"
    program = "dhclient"
    families = ("ipv4",)
    packages = (("Arch", "pacman -S dhclient"), ("Debian", "apt install isc-dhcp-client"))

    def conf(self, bond: Bond, duid: bytes) -> str:
        from ..common import identity  # hashlib: off the generator's path

        cid = identity.hexcolon(identity.client_id(bond.name, duid))
        lines = [self.header(bond), f"send dhcp-client-identifier {conf_word(cid)};"]
        if bond.hostname:
            lines.append(f"send host-name {conf_string(bond.hostname)};")
        lines += [
            "request subnet-mask, broadcast-address, time-offset, routers,",
            "        domain-name, domain-name-servers, domain-search, host-name, interface-mtu;",
            # dhclient's defaults give up after 60 s and wait 5 minutes: a server
            # that was down at boot would leave the bond without an address for long.
            "timeout 30;",
            "retry 10;",
            "",
        ]
        return "\n".join(lines)

    def files(self, bond: Bond, duid: bytes, families: list[str]) -> dict[str, bytes]:
        return {
            client_file(bond.name, "dhclient.conf"): self.conf(bond, duid).encode(),
            # The unit's EnvironmentFile=: dhclient-script reads IF_METRIC.
            client_file(bond.name, "dhclient.env"): env_file([("METRIC", str(bond.metric))]).encode(),
        }

    def run_files(self, bond: str) -> list[str]:
        return [client_file(bond, "dhclient.conf"), client_file(bond, "dhclient.env")]

    def lease(self, bond: str) -> Lease | None:
        from .leases import read_dhclient

        # The unit's -lf.
        return read_dhclient(f"{paths.STATE_DIR}/dhclient-{bond}.leases")


DHCLIENT = Dhclient()
