#!/usr/bin/env python3
"""Issue 3, scenario 4: `systemctl stop wibond@bond0` leaves nothing behind (no bond, no
enslaved interface, no address, no route, no process, no run-time record, no failed unit, the
interfaces with their own MACs); `systemctl start` brings it all back; 20 restarts in a row
each come back correct and leak nothing."""
import os
import time

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Results, bond_state, fixture, mac_of, sh, wait_for
from guest.product import (client_processes_by_unit, dhcp_units, failed_units, global_addrs,
                           leftovers, processes, unit_main_pids, unit_state, wait_unit,
                           wibond_units)

BOND = "bond0"
RESTARTS = 20


def up(wired, wlan, timeout=180):
    """The whole bond is back: both slaves, the wire active, an IPv4 address, a DHCPv6 client."""
    # In either order: the bond's start starts both slave units at once.
    st = wait_for(lambda: (lambda s: s if s and sorted(s["slaves"]) == sorted([wired, wlan])
                           and s["active_slave"] == wired else None)(bond_state(BOND)),
                  timeout, "both slaves enslaved, wire active")
    a4 = wait_for(lambda: global_addrs(BOND, 4), timeout, "DHCPv4 address")
    for u in dhcp_units(BOND):
        wait_unit(u, "active", timeout)
    wait_unit(f"bond0-supplicant@{wlan}.service", "active", timeout)
    return st, a4


def stop_clean(res, label, slaves, macs):
    sh(["systemctl", "stop", "wibond@bond0.service"], timeout=180)
    left = wait_for(lambda: not leftovers(BOND, slaves), 30, f"{label}: nothing left",
                    raise_on_timeout=False)
    res.check(f"{label}: nothing left behind", left, leftovers(BOND, slaves))
    res.check(f"{label}: no failed units", not failed_units(), failed_units())
    now = {s: mac_of(s) for s in slaves}
    res.check(f"{label}: interfaces back to their own MACs", now == macs, {"now": now, "own": macs})


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


with Results() as res:
    far = fixture()
    wlan, wired = far.stations[0]["ifname"], far.wired
    slaves = [wired, wlan]
    wait_unit("wibond@bond0.service", "active", 180)
    st, a4 = up(wired, wlan)
    macs = {wired: mac_of(wired), wlan: far.stations[0]["mac"]}
    res.check("booted: both slaves, the wire active, an address", st and a4, {"bond": st, "a4": a4})

    stop_clean(res, "stop", slaves, macs)
    res.check("stop: every wibond unit inactive",
              all(s == "inactive" for s in wibond_units().values()), wibond_units())

    sh(["systemctl", "start", "wibond@bond0.service"], timeout=180)
    st, a4b = up(wired, wlan)
    res.check("start again: both slaves, the wire active, the same address", a4b == a4,
              {"before": a4, "after": a4b})
    r = sh(["ping", "-c", "3", "-W", "5", far.ip4.split("/")[0]], check=False)
    res.check("start again: traffic flows", r.returncode == 0, r.stdout[-200:])

    pid1_fds = fds(1)
    times = []
    bad = []
    for i in range(RESTARTS):
        t = time.monotonic()
        sh(["systemctl", "restart", "wibond@bond0.service"], timeout=180)
        try:
            st, got = up(wired, wlan)
        except AssertionError as e:
            bad.append(f"restart {i + 1}: {e}")
            break
        times.append(time.monotonic() - t)
        if got != a4:
            bad.append(f"restart {i + 1}: address {got}, not {a4}")
        procs = processes()
        by_unit = client_processes_by_unit()
        clients = dhcp_units(BOND)
        if len([p for p in procs if "wpa_supplicant" in p]) != 1 or \
           len(unit_main_pids(clients)) != len(clients) or "" in by_unit or \
           set(by_unit) - set(clients) - {f"bond0-supplicant@{wlan}.service"}:
            bad.append(f"restart {i + 1}: processes {procs}, by unit {by_unit}")
    res.check(f"{RESTARTS} restarts in a row: each back with both slaves, the same address, "
              "one wpa_supplicant, one process per DHCP unit, no client outside its unit",
              not bad and len(times) == RESTARTS, bad)
    if times:
        res.figure("restart to bond back with its address (median)", round(sorted(times)[len(times) // 2], 2), "s")
        res.figure("restart to bond back with its address (max)", round(max(times), 2), "s")
    res.figure("PID 1 open fds before/after the restarts", f"{pid1_fds} -> {fds(1)}", "")
    res.check("systemd did not leak fds over the restarts", fds(1) <= pid1_fds + 5,
              {"before": pid1_fds, "after": fds(1)})
    res.check("no failed units after the restarts", not failed_units(), failed_units())
    stop_clean(res, "final stop", slaves, macs)
    res.check("the bond stays down after stop (no device event restarts it)",
              unit_state("wibond@bond0.service") == "inactive" and bond_state(BOND) is None,
              unit_state("wibond@bond0.service"))
