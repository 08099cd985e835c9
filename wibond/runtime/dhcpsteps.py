"""The DHCP units' steps: write a client's files, wait for the bond to settle, clean up.

A client must not start before the bond has an active slave and has taken
its MAC: `wait_active` waits for that state, never for a fixed time.
"""

from __future__ import annotations

from ..config.model import Bond
from ..dhcp import FAMILIES, IPV4, IPV6, Client
from . import bondstate
from .context import StepError
from .hostio import Host

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

    from .hostio import Log


def configure(host: Host, bond: Bond, client: Client) -> None:
    """Write CLIENT's files for BOND (the configuration, and a DUID file where it keeps one)."""
    from ..common import identity  # hashlib: not for the steps that only clean up

    try:
        duid = identity.duid(host, bond.duid)
    except identity.IdentityError as e:
        raise StepError(str(e)) from None
    families = [f for f in FAMILIES if f in bond.dhcp and f in client.families]
    if not families:
        raise StepError(f"{bond.name}: dhcp = {', '.join(bond.dhcp) or 'none'} asks "
                          f"{client.name} for nothing; `systemctl daemon-reload` after editing "
                          "the config")
    for path, content in client.files(bond, duid, families).items():
        if host.read_bytes(path) != content:
            host.save_bytes(path, content)
    for path in client.stale_files(bond.name):
        if host.exists(path):
            host.remove(path)


def settled(host: Host, bond: str) -> str | None:
    """None once BOND has an active slave with link and has taken its MAC; else what is missing."""
    if not bondstate.is_bond(host, bond):
        return "the bond does not exist"
    active = bondstate.active_slave(host, bond)
    if not active:
        return "no slave has link yet"
    if not bondstate.has_carrier(host, bond):
        return "the bond has no carrier yet"
    if bondstate.option(host, bond, "fail_over_mac") == "active" and \
            bondstate.mac_of(host, bond) != bondstate.mac_of(host, active):
        return f"the bond has not taken {active}'s MAC yet"
    return None


def wait_active(host: Host, bond: str, log: Log, sleep: Callable[[float], None] | None = None,
                recheck: float = 1.0) -> None:
    """Return once BOND has settled (an active slave with link, its MAC). Between checks it
    sleeps until the kernel announces a link change (host.wait_link_change), at most RECHECK
    seconds: a poll every tenth of a second cost a DHCP unit's step most of its CPU."""
    wait = sleep or host.wait_link_change
    host.watch_links()  # before the first check, so no change between it and the wait is lost
    said = None
    while True:
        missing = settled(host, bond)
        if missing is None:
            log(f"{bond}: active slave {bondstate.active_slave(host, bond)}, "
                f"MAC {bondstate.mac_of(host, bond)}")
            return
        if missing == "the bond does not exist":
            raise StepError(f"{bond} does not exist; wibond@{bond}.service creates it")
        if missing != said:
            log(f"{bond}: waiting before DHCP: {missing}")
            said = missing
        wait(recheck)


def clean(host: Host, bond: str, client: Client, families: list[str]) -> None:
    """Take back what CLIENT put on the bond for FAMILIES; keep the static setup."""
    from .addressing import static_record

    if bondstate.exists(host, bond):
        static = static_record(host, bond)
        keep = set(static.get("addresses", []))
        gateways = set(static.get("gateways", []))
        for family in families:
            _clean_family(host, bond, family, keep, gateways)
    for path in client.run_files(bond):
        host.remove(path)


def _clean_family(host: Host, bond: str, family: str, keep: set[str], gateways: set[str]) -> None:
    inet = "inet" if family == IPV4 else "inet6"
    for addr in host.addresses(bond):
        if addr.get("family") != inet or addr.get("scope") != "global":
            continue
        cidr = f"{addr['local']}/{addr['prefixlen']}"
        # DHCPv6 addresses are /128 with lifetimes; SLAAC's belong to the kernel.
        if cidr in keep or (family == IPV6 and not (addr.get("dynamic")
                                                    and addr.get("prefixlen") == 128)):
            continue
        host.ip("addr", "del", cidr, "dev", bond)
    version = 4 if family == IPV4 else 6
    for route in host.routes(bond, version):
        if route.get("dst") == "default" and route.get("gateway") not in gateways:
            args = ["route", "del", "default"]
            if route.get("gateway"):
                args += ["via", route["gateway"]]
            args += ["dev", bond]
            if "metric" in route:
                args += ["metric", str(route["metric"])]
            host.ip(f"-{version}", *args)
