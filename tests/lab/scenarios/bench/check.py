#!/usr/bin/env python3
"""Benchmark (issue 3): figures, not pass/fail thresholds.  The checks only say that each
measurement happened.

- boot: the machine boots with the cable out, so a radio is the first slave to carry traffic:
  from wlan0's device unit appearing to its association and to the kernel making it the
  bond's active slave.
- failover at miimon=100, pinging the far router every 5 ms, REPEAT times each: link down
  (the wire cut) and failback (restored); AP deauthentication of the active radio (2*REPEAT,
  alternating between the radios); at the end, once, removal of the active radio.
(Bring-up per slave, restarts and stops beside the seed's own units: bench-seed.)
"""
import statistics

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Pinger, Results, bond_state, fixture, wait_for
from guest.failover import failover
from guest.product import device_unit, journal_mono, unit_timestamp, wait_unit, wpa_status

BOND = "bond0"
REPEAT = 5
PING_S = 0.005


def boot_figures(res, wlan):
    t_dev = unit_timestamp(device_unit(wlan))
    t_unit = unit_timestamp(f"bond0-supplicant@{wlan}.service")
    t_conn = journal_mono(["-u", f"bond0-supplicant@{wlan}.service"], "CTRL-EVENT-CONNECTED")
    t_active = journal_mono(["-k"], f"(slave {wlan}): making interface the new active one")
    res.check("boot timestamps found", all((t_dev, t_unit, t_conn, t_active)),
              {"device": t_dev, "unit": t_unit, "connected": t_conn, "active": t_active})
    if all((t_dev, t_unit, t_conn, t_active)):
        res.figure("boot: radio device unit appears (uptime)", round(t_dev, 2), "s")
        res.figure("boot: device -> supplicant unit started (enslaved)", round(t_unit - t_dev, 2), "s")
        res.figure("boot: device -> associated (CTRL-EVENT-CONNECTED)", round(t_conn - t_dev, 2), "s")
        res.figure("boot: device -> active slave, bond carries traffic", round(t_active - t_dev, 2), "s")


def summary(values):
    return {"median": statistics.median(values), "max": max(values), "min": min(values), "n": len(values)}


def event_stats(p, ev):
    s = p.stats(since=ev["t0"], until=ev["t_ok"])
    return {"lost": s["lost"], "gap_ms": s["max_gap_ms"],
            "switch_ms": round((ev["t_switch"] - ev["t0"]) * 1000)}


def report(res, label, stats):
    for key, unit in (("lost", f"pings (every {PING_S * 1000:g} ms)"), ("gap_ms", "ms"),
                      ("switch_ms", "ms")):
        vals = [s[key] for s in stats]
        sm = summary(vals)
        name = {"lost": "lost", "gap_ms": "longest gap without a reply",
                "switch_ms": "to active slave change"}[key]
        res.figure(f"{label}: {name} (median of {sm['n']}; min..max {sm['min']}..{sm['max']})",
                   sm["median"], unit)


def failovers(res, far, wired, w0, w1):
    wlan0, wlan1 = w0["ifname"], w1["ifname"]
    out = {k: [] for k in ("link down", "link failback", "AP deauth")}
    with Pinger(far.ip4.split("/")[0], interval=PING_S) as p:
        wait_for(lambda: len(p.recv) >= 200, 60, "pinger steady")
        for _ in range(REPEAT):
            ev = failover(res, p, "link down", far.wire_cut, wlan0, record=False)
            out["link down"].append(ev)
            ev = failover(res, p, "link failback", far.wire_restore, wired, record=False)
            out["link failback"].append(ev)
        far.wire_cut()
        wait_for(lambda: bond_state(BOND)["active_slave"] == wlan0, 60, "wlan0 active")
        # Deauthenticate whichever radio is active: the other takes over (the wire is the
        # primary, so there is no failback between radios; the pi scenario measures that).
        stations = {wlan0: w0, wlan1: w1}
        for _ in range(2 * REPEAT):
            cur = bond_state(BOND)["active_slave"]
            other = wlan1 if cur == wlan0 else wlan0
            wait_for(lambda: wpa_status(other).get("wpa_state") == "COMPLETED"
                     and bond_state(BOND)["slave_state"][other]["mii_status"] == "up",
                     120, f"{other} associated and up")
            ev = failover(res, p, "AP deauth", lambda: far.deauth(stations[cur]["mac"]), other,
                          record=False)
            out["AP deauth"].append(ev)
        wait_for(lambda: wpa_status(wlan0).get("wpa_state") == "COMPLETED", 120, "wlan0 associated")
        if bond_state(BOND)["active_slave"] != wlan0:
            failover(res, p, "to wlan0", lambda: far.deauth(w1["mac"]), wlan0, record=False)
        wait_for(lambda: wpa_status(wlan1).get("wpa_state") == "COMPLETED"
                 and bond_state(BOND)["slave_state"][wlan1]["mii_status"] == "up",
                 120, f"{wlan1} associated and up before the removal")
        removal = failover(res, p, "radio removed", lambda: far.del_radio(w0["radio_id"]), wlan1, record=False)
    for label, evs in out.items():
        report(res, label, [event_stats(p, ev) for ev in evs])
    report(res, "radio removed", [event_stats(p, removal)])
    far.wire_restore()


with Results() as res:
    far = fixture()
    w0, w1 = far.stations
    wired = far.wired
    for u in ("wibond@bond0.service", f"bond0-supplicant@{w0['ifname']}.service",
              f"bond0-supplicant@{w1['ifname']}.service"):
        wait_unit(u, "active", 180)
    wait_for(lambda: bond_state(BOND)["active_slave"] == w0["ifname"], 120, "wlan0 active at boot")
    boot_figures(res, w0["ifname"])
    far.wire_restore()
    wait_for(lambda: bond_state(BOND)["active_slave"] == wired, 60, "wire active")
    failovers(res, far, wired, w0, w1)
