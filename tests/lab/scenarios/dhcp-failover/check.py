#!/usr/bin/env python3
"""Issue 3, scenario 3: DHCP across failover.  The server gives 2-minute leases (renewal every
minute).  The machine boots with the cable out, so the radio associates first and the bond asks
with the radio's MAC; then the cable goes in (the bond takes the wire's MAC) and out again.  After
each switch the next renewal must succeed with the same IPv4 address, and the server must hold
one lease for the host, not one per MAC: the client identifies itself by a client identifier made
of the DUID (RFC 4361), and DHCPv6 uses that same DUID.  Finally the bond is restarted with the
wire up, so the other slave comes first: the same address again.

The config names no client (dhclient+dhcp6c where the image has both, dhcpcd on sid);
dhcp-failover-dhcpcd runs this same check with dhcp_client = dhcpcd."""
import ipaddress

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Pinger, Results, bond_state, fixture, mac_of, sh, wait_for
from guest.failover import PING_MS, STEADY_REPLIES, failover, loss_figures
from guest.product import (dhcp_client_name, dhcp_units, failed_units, global_addrs, leftovers,
                           wait_unit)

BOND = "bond0"
RENEW_WAIT = 150   # T1 of a 2-minute lease is 60 s; a client adds up to a few seconds


def v4_leases(far):
    return [x for x in far.leases() if x["family"] == 4]


def v6_leases(far):
    return [x for x in far.leases() if x["family"] == 6]


def dhcp6_addr():
    pool = ipaddress.ip_network("fd77::/64")
    return [a for a in global_addrs(BOND, 6) if ipaddress.ip_interface(a).ip in pool
            and a.endswith("/128")]


def renewed(res, far, label, after_expiry, want_ip, want_mac):
    """Wait for the next DHCPv4 renewal (the lease's expiry moves on) and check it."""
    lease = wait_for(lambda: (lambda ls: ls[0] if len(ls) == 1 and ls[0]["expiry"] > after_expiry
                              else None)(v4_leases(far)), RENEW_WAIT, f"{label}: DHCPv4 renewal")
    leases = v4_leases(far)
    res.check(f"{label}: renewal keeps {want_ip}", lease["ip"] == want_ip.split("/")[0]
              and global_addrs(BOND, 4) == [want_ip], {"lease": lease, "bond": global_addrs(BOND, 4)})
    res.check(f"{label}: the server holds one IPv4 lease for the host", len(leases) == 1, leases)
    # dhclient keeps the chaddr it read at start: the server's record shows that MAC, not the
    # active slave's; the client identifier, not the MAC, ties the lease to the host.
    # (dhcpcd follows the interface's MAC.)
    res.figure(f"{label}: MAC in the server's lease (bond's now {want_mac})", lease["mac"], "")
    return lease


with Results() as res:
    far = fixture()
    wlan, wired = far.stations[0]["ifname"], far.wired
    wlan_mac, wired_mac = far.stations[0]["mac"], mac_of(wired)

    wait_unit("wibond@bond0.service", "active", 180)
    clients = dhcp_units(BOND)
    res.note(f"DHCP by {dhcp_client_name(BOND)}: {clients}")
    res.figure("DHCP client", dhcp_client_name(BOND), "")
    res.check("a DHCP client for IPv4 and IPv6", len(clients) in (1, 2), clients)
    for u in clients:
        wait_unit(u, "active", 180)
    st = wait_for(lambda: (lambda s: s if s and s["active_slave"] == wlan else None)(bond_state(BOND)),
                  180, "radio active (cable out at boot)")
    res.check("booted with the cable out: the radio is the active slave, the bond has its MAC",
              st["active_slave"] == wlan and st["address"] == wlan_mac, st)
    a4 = wait_for(lambda: global_addrs(BOND, 4), 180, "DHCPv4 address over the radio")[0]
    a6 = wait_for(dhcp6_addr, 180, "DHCPv6 address")
    lease = wait_for(lambda: (lambda ls: ls[0] if len(ls) == 1 else None)(v4_leases(far)), 30, "v4 lease")
    res.check("first lease is for the radio's MAC", lease["mac"] == wlan_mac, lease)
    res.figure("DHCPv4 address", a4, "")

    # One DUID for both families: client id = 0xff, IAID (4 bytes), DUID (RFC 4361).
    cid = lease["client_id"].lower().split(":")
    l6 = wait_for(lambda: v6_leases(far), 60, "v6 lease")
    duid6 = l6[0]["duid"].lower()
    res.check("DHCPv4 client id is RFC 4361 (ff, IAID, DUID)", cid[0] == "ff" and len(cid) > 5, cid)
    res.check("DHCPv4 and DHCPv6 send the same DUID", ":".join(cid[5:]) == duid6,
              {"v4 client id": lease["client_id"], "v6 duid": duid6})
    res.check("the DUID is systemd's DUID-EN from /etc/machine-id (00:02:00:00:ab:11:...)",
              duid6.startswith("00:02:00:00:ab:11:"), duid6)
    res.check("DHCPv4 IAID = DHCPv6 IAID", int("".join(cid[1:5]), 16) == int(l6[0]["iaid"]),
              {"v4": cid[1:5], "v6": l6[0]["iaid"]})
    res.check("one DHCPv6 lease", len(v6_leases(far)) == 1, v6_leases(far))

    with Pinger(far.ip4.split("/")[0], interval=PING_MS / 1000) as p:
        wait_for(lambda: len(p.recv) >= STEADY_REPLIES, 60, "pinger steady")
        plug = failover(res, p, "cable plugged in", far.wire_restore, wired)
    loss_figures(res, p, plug)
    res.check("bond MAC is now the wire's", bond_state(BOND)["address"] == wired_mac, bond_state(BOND))
    lease = renewed(res, far, "after failover to the wire", lease["expiry"], a4, wired_mac)

    with Pinger(far.ip4.split("/")[0], interval=PING_MS / 1000) as p:
        wait_for(lambda: len(p.recv) >= STEADY_REPLIES, 60, "pinger steady")
        cut = failover(res, p, "cable pulled", far.wire_cut, wlan)
    loss_figures(res, p, cut)
    lease = renewed(res, far, "after failover back to the radio", lease["expiry"], a4, wlan_mac)
    res.check("DHCPv6 address kept across both failovers", set(a6) <= set(dhcp6_addr()), dhcp6_addr())
    res.check("still one DHCPv6 lease", len(v6_leases(far)) == 1, v6_leases(far))

    # The other order at boot: the wire is up when the bond starts, so it comes first.
    far.wire_restore()
    sh(["systemctl", "restart", "wibond@bond0.service"])
    for u in clients:
        wait_unit(u, "active", 180)
    st = wait_for(lambda: (lambda s: s if s and s["active_slave"] == wired else None)(bond_state(BOND)),
                  120, "wire active after restart")
    got = wait_for(lambda: global_addrs(BOND, 4), 180, "DHCPv4 address after restart")
    res.check("restarted with the wire first: same IPv4 address", got == [a4], got)
    res.check("restarted: one IPv4 lease, now for the wire's MAC",
              [x["mac"] for x in v4_leases(far)] == [wired_mac], v4_leases(far))
    res.check("no failed units", not failed_units(), failed_units())

    # The client's stop takes back what it configured: nothing of the bond is left.
    sh(["systemctl", "stop", "wibond@bond0.service"], timeout=180)
    left = wait_for(lambda: not leftovers(BOND, [wired, wlan]), 60, "stopped: nothing left",
                    raise_on_timeout=False)
    res.check(f"stop: nothing left behind by {'+'.join(u.split('@')[0] for u in clients)}",
              left, leftovers(BOND, [wired, wlan]))
    res.check("stop: no failed units", not failed_units(), failed_units())
