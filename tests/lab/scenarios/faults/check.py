#!/usr/bin/env python3
"""Issue 3, scenario 5: faults, from one cold boot.

At boot: /etc/wibond.conf has a good bond0 (wlan0 primary, wlan1) and a broken bond1; the DHCP
server is down; wlan1 is rfkill-blocked.  Then, in turn: the DHCP server comes up (bond0 gets its
address), wlan1 is unblocked (it joins the bond: systemd issue #15257 is a radio that never
does), wlan0's wpa_supplicant is killed (restarted, re-associates, primary again), the access
point goes away and comes back (both radios re-associate, the address is kept)."""
import os
import signal

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Pinger, Results, bond_state, fixture, wait_for
from guest.failover import PING_MS, STEADY_REPLIES, failover, loss_figures
from guest.product import (dhcp_units, failed_units, global_addrs, journal, unit_props,
                           unit_state, uptime, wait_unit, wpa_status)

BOND = "bond0"


def slaves():
    st = bond_state(BOND)
    return st["slaves"] if st else None


with Results() as res:
    far = fixture()
    w0, w1 = far.stations
    wlan0, wlan1 = w0["ifname"], w1["ifname"]
    u0, u1 = f"bond0-supplicant@{wlan0}.service", f"bond0-supplicant@{wlan1}.service"
    gw = far.ip4.split("/")[0]

    # -- the broken bond1: skipped, named in the journal; bond0 comes up
    wait_unit("wibond@bond0.service", "active", 180)
    wait_unit(u0, "active", 180)
    log = journal(grep="wibond")
    res.check("bond1's error is in the journal with file, line and key",
              "/etc/wibond.conf:11: error: [bond1] mode: balance-rr" in log, log[-1500:])
    res.check("the journal says bond1 is not brought up", "bond1: not brought up" in log, log[-800:])
    res.check("bond1 does not exist, eth0 is left alone",
              bond_state("bond1") is None and not os.path.exists(f"/sys/class/net/{far.wired}/master"),
              bond_state("bond1"))

    # -- wlan1 blocked at boot: its unit waits, saying why; bond0 runs on wlan0
    res.check("wlan1's unit waits for the unblock (activating, not failed)",
              unit_state(u1) == "activating", unit_state(u1))
    ulog = journal(unit=u1)
    res.check("wlan1's journal names the rfkill block and the command to lift it",
              "rfkill" in ulog and "unblock" in ulog, ulog[-600:])
    res.check("bond0 runs on wlan0 alone", wait_for(lambda: slaves() == [wlan0], 60, "wlan0 enslaved"),
              slaves())
    wait_for(lambda: wpa_status(wlan0).get("wpa_state") == "COMPLETED", 120, "wlan0 associated")

    # -- DHCP server down at boot: no address yet; up later: an address
    res.check("no address while the DHCP server is down", not global_addrs(BOND, 4),
              global_addrs(BOND, 4))
    dhcp4 = dhcp_units(BOND)[0]
    res.check(f"{dhcp4.split('@')[0]} keeps trying (unit active)", unit_state(dhcp4) == "active",
              unit_state(dhcp4))
    t = uptime()
    far.dhcp_start()
    a4 = wait_for(lambda: global_addrs(BOND, 4), 120, "DHCPv4 address once the server is up")
    res.check("an address once the DHCP server is up", bool(a4), a4)
    res.figure("DHCP server up -> address on bond0", round(uptime() - t, 1), "s")

    # -- unblock wlan1: it joins
    t = uptime()
    far.rfkill(wlan1, False)
    wait_unit(u1, "active", 120)
    ok = wait_for(lambda: slaves() == [wlan0, wlan1], 60, "wlan1 enslaved", raise_on_timeout=False)
    res.check("unblocked wlan1 joins the bond", ok, slaves())
    wait_for(lambda: wpa_status(wlan1).get("wpa_state") == "COMPLETED", 120, "wlan1 associated")
    res.check("wlan1 associates", w1["mac"] in far.ap_stations(), far.ap_stations())
    res.figure("rfkill unblock -> wlan1 associated", round(uptime() - t, 1), "s")
    wait_for(lambda: bond_state(BOND)["active_slave"] == wlan0, 30, "wlan0 active")

    with Pinger(gw, interval=PING_MS / 1000) as p:
        wait_for(lambda: len(p.recv) >= STEADY_REPLIES, 60, "pinger steady")
        # -- kill wlan0's wpa_supplicant: traffic over wlan1, then the unit restarts it
        pid = int(unit_props(u0, "MainPID")["MainPID"])
        kill = failover(res, p, "wpa_supplicant on wlan0 killed", lambda: os.kill(pid, signal.SIGKILL), wlan1)
        back = failover(res, p, "wlan0's supplicant restarted (failback)", lambda: None, wlan0, timeout=120)
        npid = int(unit_props(u0, "MainPID")["MainPID"])
        res.check("systemd restarted the killed wpa_supplicant", unit_state(u0) == "active"
                  and npid not in (0, pid), {"old": pid, "new": npid, "state": unit_state(u0)})
        res.check("wlan0 re-enslaved and re-associated", sorted(slaves()) == sorted([wlan0, wlan1])
                  and wpa_status(wlan0).get("wpa_state") == "COMPLETED", slaves())

        # -- the access point goes away and comes back
        t_stop = p.now()
        far.ap_stop()
        wait_for(lambda: not bond_state(BOND)["carrier"], 60, "bond without carrier")
        res.check("AP gone: the bond loses carrier, units stay up",
                  unit_state(u0) == "active" and unit_state(u1) == "active", [unit_state(u0), unit_state(u1)])
        t_start = p.now()
        far.ap_start()
        wait_for(lambda: p.replies_since(t_start) >= STEADY_REPLIES, 180, "traffic after the AP is back")
        t_ok = p.now()
    for ev in (kill, back):
        loss_figures(res, p, ev)
    res.figure("AP back -> traffic again", round(t_ok - t_start - STEADY_REPLIES * PING_MS / 1000, 1), "s")
    res.figure("AP outage as seen by the pinger", p.stats(since=t_stop, until=t_ok)["max_gap_ms"], "ms")
    wait_for(lambda: all(wpa_status(w).get("wpa_state") == "COMPLETED" for w in (wlan0, wlan1)), 120,
             "both radios re-associated")
    res.check("AP back: both radios re-associated, wlan0 active, the address kept",
              bond_state(BOND)["active_slave"] == wlan0 and global_addrs(BOND, 4) == a4,
              {"active": bond_state(BOND)["active_slave"], "a4": global_addrs(BOND, 4)})
    res.check("no failed units", not failed_units(), failed_units())
