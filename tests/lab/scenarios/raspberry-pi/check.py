#!/usr/bin/env python3
"""Issue 3, scenario 2: the Raspberry Pi setup from /etc/wibond.conf alone (two radios, static
address, wlan1's supplicant after wlan0's).  Both radios associate, bond0 has the static address,
the default route with metric 100 and the DNS server; then wlan0's link is taken away three ways
(AP deauthenticates it, rfkill blocks it, the radio is removed) and traffic goes on over wlan1."""
from pathlib import Path

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Pinger, Results, bond_state, fixture, wait_for
from guest.failover import PING_MS, STEADY_REPLIES, failover, loss_figures
from guest.product import (DHCP_CLIENTS, default_routes, dhcp_units, failed_units, global_addrs,
                           processes, unit_props, unit_state, wait_unit, wibond_units, wpa_status)

BOND = "bond0"
GW = "192.168.77.1"

with Results() as res:
    far = fixture()
    (w0, w1) = (far.stations[0], far.stations[1])
    wlan0, wlan1 = w0["ifname"], w1["ifname"]
    units = ["wibond@bond0.service", f"bond0-supplicant@{wlan0}.service",
             f"bond0-supplicant@{wlan1}.service"]
    for u in units:
        wait_unit(u, "active", 180)
        res.check(f"{u} active after boot", unit_state(u) == "active", unit_state(u))
    res.check("no DHCP client for a static bond", dhcp_units(BOND) == [] and not any(
        u.split("@")[0] in DHCP_CLIENTS for u in wibond_units()), wibond_units())

    p0 = unit_props(units[1], "ActiveEnterTimestampMonotonic")
    p1 = unit_props(units[2], "InactiveExitTimestampMonotonic")
    a0, s1 = int(p0["ActiveEnterTimestampMonotonic"]), int(p1["InactiveExitTimestampMonotonic"])
    res.check("wlan1's supplicant starts after wlan0's is up (after = wlan0)", 0 < a0 <= s1,
              {"wlan0 active at": a0 / 1e6, "wlan1 started at": s1 / 1e6})

    for w in (w0, w1):
        wait_for(lambda: wpa_status(w["ifname"]).get("wpa_state") == "COMPLETED", 120,
                 f"{w['ifname']} COMPLETED")
    wait_for(lambda: {w0["mac"], w1["mac"]} <= set(far.ap_stations()), 60, "both radios at the AP")
    res.check("both radios associated", {w0["mac"], w1["mac"]} <= set(far.ap_stations()),
              far.ap_stations())
    st = wait_for(lambda: (lambda s: s if s and s["active_slave"] == wlan0 and len(s["slaves"]) == 2
                           else None)(bond_state(BOND)), 120, "both slaves, wlan0 active")
    res.check("bond0: both radios enslaved, wlan0 active", st["slaves"] == [wlan0, wlan1], st["slaves"])
    res.check("bond MAC is wlan0's", st["address"] == w0["mac"], st["address"])

    res.check("static address 192.168.77.150/24", global_addrs(BOND, 4) == ["192.168.77.150/24"],
              global_addrs(BOND, 4))
    dr = default_routes(BOND)
    res.check("default route via 192.168.77.1 metric 100",
              [(r.get("gateway"), r.get("metric")) for r in dr] == [(GW, 100)], dr)
    resolv = Path("/etc/resolv.conf").read_text()
    res.check("DNS server in /etc/resolv.conf", f"nameserver {GW}" in resolv, resolv)

    with Pinger(GW, interval=PING_MS / 1000) as p:
        wait_for(lambda: len(p.recv) >= STEADY_REPLIES, 60, "pinger steady")
        events = []
        # 1. the AP deauthenticates wlan0: wlan1 carries; wlan0 re-associates and takes over again
        events.append(failover(res, p, "AP deauth wlan0", lambda: far.deauth(w0["mac"]), wlan1))
        events.append(failover(res, p, "wlan0 re-associated (failback)", lambda: None, wlan0, timeout=120))
        # 2. rfkill blocks wlan0; unblocked, wpa_supplicant brings it back
        events.append(failover(res, p, "rfkill block wlan0", lambda: far.rfkill(wlan0, True), wlan1))
        events.append(failover(res, p, "rfkill unblock wlan0 (failback)", lambda: far.rfkill(wlan0, False),
                               wlan0, timeout=120))
        res.check("wlan0 supplicant still active after the rfkill block", unit_state(units[1]) == "active",
                  unit_state(units[1]))
        # 3. the radio disappears (driver unbind, USB pulled)
        events.append(failover(res, p, "radio wlan0 removed", lambda: far.del_radio(w0["radio_id"]), wlan1))
        wait_for(lambda: unit_state(units[1]) in ("inactive", "failed"), 60, "wlan0 supplicant stopped")
        res.check("wlan0's unit stops cleanly with its radio", unit_state(units[1]) == "inactive",
                  unit_state(units[1]))
        res.check("bond0 goes on with wlan1 alone", bond_state(BOND)["slaves"] == [wlan1],
                  bond_state(BOND)["slaves"])
        res.check("static address kept", global_addrs(BOND, 4) == ["192.168.77.150/24"],
                  global_addrs(BOND, 4))
        res.check("one wpa_supplicant left (wlan1's)",
                  len([x for x in processes("wpa_supplicant") if wlan1 in x]) == 1
                  and not [x for x in processes("wpa_supplicant") if f"-i{wlan0}" in x],
                  processes("wpa_supplicant"))
    for ev in events:
        loss_figures(res, p, ev)
    res.check("no failed units", not failed_units(), failed_units())
