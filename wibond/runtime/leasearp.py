"""ARP monitoring of the router a DHCP lease names (arp_ip_target = gateway, with DHCP).

The router is known only once the DHCP client holds a lease, and the bond needs link
monitoring before that to get a lease at all: ARP monitoring asks from the bond's IPv4
address, so a bond without one would find every slave silent and never carry the DHCP
request. The bond therefore starts with MII monitoring (bondctl.uses_arp); this step runs
beside the DHCP client (wibond-arp@<bond>.service), reads the default route the client puts
on the bond and the bond's address, switches to ARP monitoring of that router once both are
there, follows a new router, and goes back to MII monitoring when the lease is gone. It reads
what the kernel holds, not a client's hook, so it works alike with every DHCP client wibond
runs (dhclient, dhcpcd).
"""

from __future__ import annotations

import time

from ..config.model import Bond
from . import bondctl, bondstate
from .context import StepError
from .hostio import RTMGRP_IPV4_IFADDR, RTMGRP_IPV4_ROUTE, RTMGRP_LINK, Host, HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

    from .hostio import Log

# A recheck however quiet the kernel is (a missed netlink message must not pin a state).
RECHECK_S = 30.0


def lease_gateway(host: Host, bond: str) -> tuple[str | None, str]:
    """(router, "") when BOND has a default IPv4 route through a router on the subnet of one of
    its IPv4 addresses; else (None, why not)."""
    import ipaddress

    routes = [r for r in host.routes(bond, 4) if r.get("dst") == "default" and r.get("gateway")]
    if not routes:
        return None, "no default route on the bond (no DHCP lease yet)"
    gateway = min(routes, key=lambda r: r.get("metric", 0))["gateway"]
    nets = [ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}").network
            for a in host.addresses(bond) if a.get("family") == "inet"]
    if not nets:
        return None, "no IPv4 address on the bond"
    if not any(ipaddress.ip_address(gateway) in net for net in nets):
        return None, (f"the router {gateway} is not on the bond's subnet "
                      f"({', '.join(map(str, nets))}): ARP cannot ask it")
    return gateway, ""


# follow()'s state before its first step: neither a router nor None (no router).
UNKNOWN = ""
# How long the router stays monitored after its route went: a client rebinding (dhclient's
# REBOOT, dhcpcd after the bond's carrier dropped) takes it away for a moment, and going back
# to MII for that would switch to ARP again, which the kernel pays with a round of every
# slave declared down.
GRACE_S = 10.0


def step(host: Host, bond: Bond, current: str | None, log: Log, now: float,
         lost_at: float | None = None) -> tuple[str | None, float | None]:
    """Bring the bond's monitoring in line with its lease once. CURRENT: the router monitored
    so far (None for none, UNKNOWN at first); LOST_AT: when its route went, if it did.
    Returns the router now monitored (or None) and when its route went (or None)."""
    gateway, why = lease_gateway(host, bond.name)
    if gateway is None and current not in (None, UNKNOWN):
        if lost_at is None:
            log(f"{bond.name}: {why}; ARP monitoring of {current} kept for {GRACE_S:.0f} s")
            return current, now
        if now - lost_at < GRACE_S:
            return current, lost_at
    if gateway != current or gateway is None:
        # Also without a router: what is set is read first and only a difference written.
        bondctl.set_monitoring(host, bond, gateway, log)
    if gateway != current:
        if gateway:
            log(f"{bond.name}: ARP monitoring of {', '.join(bond.arp_targets(gateway))} "
                f"every {bond.arp_interval} ms (router from the DHCP lease)")
        else:
            log(f"{bond.name}: MII monitoring every {bond.miimon} ms: {why}")
    elif gateway and lost_at is not None:
        log(f"{bond.name}: the route to {gateway} is back")
    return gateway, None


def follow(host: Host, bond: Bond, log: Log,
           clock: Callable[[], float] = time.monotonic) -> None:
    """step() at every change of the bond's links, addresses or routes (and when a grace
    ends), until the bond is gone."""
    host.watch_links(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE)
    current: str | None = UNKNOWN
    lost_at: float | None = None
    while bondstate.is_bond(host, bond.name):
        try:
            current, lost_at = step(host, bond, current, log, clock(), lost_at)
        except (StepError, HostError):
            # The bond deleted between the look and the write (its unit stopping): done.
            if bondstate.is_bond(host, bond.name):
                raise
            break
        wait = RECHECK_S if lost_at is None else max(0.1, lost_at + GRACE_S - clock())
        host.wait_link_change(wait)
