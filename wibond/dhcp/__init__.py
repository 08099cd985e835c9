"""DHCP on a bond: which client runs it, and the identity every client shares.

The clients are a small table of backends (one module each: how to tell it is
installed, its configuration text, its unit). `choose` picks, per bond, the
clients boot will start, from what is installed in the system the generator
runs in; the generator, `wibond check` and the helper all ask it, so they
cannot disagree.

    dhcp_client = dhclient   ISC dhclient for IPv4, WIDE dhcp6c for IPv6
                             (the ArchWiki page's pair; both end-of-life)
    dhcp_client = dhcpcd     dhcpcd for both families, one daemon
    dhcp_client = auto       the pair when every client the bond's `dhcp`
                             needs is installed, else dhcpcd when it is

Every client identifies the machine the same way (common/identity.py): the DUID
from /etc/machine-id, and for DHCPv4 a client identifier made of the IAID
and that DUID (RFC 4361), never the MAC, which changes on every failover.
What acts on the kernel for a client at run time (configure, wait for the
active slave, clean up) is runtime/dhcpsteps.py.
"""

from __future__ import annotations

from ..config.model import Bond
from .base import Client
from .dhclient import DHCLIENT
from .dhcp6c import DHCP6C
from .dhcpcd import DHCPCD

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and collections are not imported at boot (wibond/__init__.py)
    from collections.abc import Callable

IPV4, IPV6 = "ipv4", "ipv6"
FAMILIES = (IPV4, IPV6)

CLIENTS: dict[str, Client] = {c.name: c for c in (DHCLIENT, DHCP6C, DHCPCD)}

# dhcp_client -> the client serving each family
SETS: dict[str, dict[str, Client]] = {
    "dhclient": {IPV4: DHCLIENT, IPV6: DHCP6C},
    "dhcpcd": {IPV4: DHCPCD, IPV6: DHCPCD},
}
AUTO_ORDER = ("dhclient", "dhcpcd")
CHOICES = ("auto",) + tuple(SETS)


class Choice:
    """What runs DHCP on one bond: `clients` (each with the families it serves), or a
    `problem` saying what to install when nothing can."""

    __slots__ = ("clients", "problem")

    def __init__(self, clients: list[tuple[Client, list[str]]], problem: str | None = None) -> None:
        self.clients = clients
        self.problem = problem

    def describe(self) -> str:
        """For `wibond check`: which client serves which family."""
        if self.problem or not self.clients:
            return "none"
        return ", ".join(f"{c.name} ({'+'.join(f)})" for c, f in self.clients)

    def __repr__(self) -> str:
        return f"Choice({self.describe()!r}, problem={self.problem!r})"


def _needed(set_name: str, families: list[str]) -> list[tuple[Client, list[str]]]:
    out: list[tuple[Client, list[str]]] = []
    for family in families:
        client = SETS[set_name][family]
        for have, fams in out:
            if have is client:
                fams.append(family)
                break
        else:
            out.append((client, [family]))
    return out


def choose(bond: Bond, installed: Callable[[Client], bool]) -> Choice:
    """The clients for BOND; `installed(client)` says whether a client's program is there."""
    setting = bond.dhcp_client
    families = [f for f in FAMILIES if f in bond.dhcp]
    if not families:
        return Choice([])
    names = AUTO_ORDER if setting == "auto" else (setting,)
    missing: dict[str, list[Client]] = {}
    for name in names:
        needed = _needed(name, families)
        absent = [c for c, _f in needed if not installed(c)]
        if not absent:
            return Choice(needed)
        missing[name] = absent
    want = " and ".join(families)
    if setting == "auto":
        pair = " and ".join(c.program for c in missing["dhclient"])
        problem = (f"no DHCP client for {want} is installed (looked for {pair}, then dhcpcd); "
                   f"install dhcpcd: {DHCPCD.install_hint()}")
    else:
        absent = missing[setting]
        problem = (f"dhcp_client = {setting}, but {' and '.join(c.program for c in absent)} "
                   f"{'is' if len(absent) == 1 else 'are'} not installed; install "
                   + "; ".join(f"{c.program}: {c.install_hint()}" for c in absent))
        usable = [n for n in AUTO_ORDER if n != setting
                  and all(installed(c) for c, _f in _needed(n, families))]
        if usable:
            problem += f", or set dhcp_client = {usable[0]} (installed)"
    return Choice([], problem)


def choose_all(bonds: list[Bond]) -> dict[str, Choice]:
    """The choice for each bond, from what is installed here (under WIBOND_ROOT)."""
    seen: dict[str, bool] = {}

    def installed(c: Client) -> bool:
        if c.name not in seen:
            seen[c.name] = c.installed()
        return seen[c.name]

    return {b.name: choose(b, installed) for b in bonds}


def clients_here(bond: Bond) -> list[tuple[Client, list[str]]]:
    """The clients that run DHCP on BOND on this machine, each with its families (what the
    generator chose at boot, for the steps and commands that act on them later)."""
    return choose_all([bond])[bond.name].clients


def client(name: str) -> Client:
    return CLIENTS[name]


__all__ = ["CHOICES", "CLIENTS", "FAMILIES", "IPV4", "IPV6", "Choice", "Client", "choose", "choose_all",
           "client", "clients_here"]
