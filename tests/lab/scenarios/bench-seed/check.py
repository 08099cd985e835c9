#!/usr/bin/env python3
"""Benchmark (issue 12): wibond beside the seed's own hand-written units, in one guest.

Figures, not pass/fail thresholds; the checks say that each measurement happened and that
both setups came up right each time.

1. Bring-up per slave: the supplicant unit's start step (`wibond-helper join`) against the
   same work as plain commands (read the rfkill state, ip link set down, ip addr flush,
   ip link set master, ip link set up), alternated CYCLES times.
2. wibond (etc/wibond.conf: cable primary, one radio, DHCPv4+v6, no 802.11b rates):
   CYCLES x `systemctl stop wibond@bond0`, `systemctl start wibond@bond0`, and
   `systemctl restart wibond@bond0`. "Ready" is: both slaves in the bond, the radio
   associated, the bond with its IPv4 address, the gateway answering a ping. The CPU each
   unit consumed by then (systemd's CPUUsageNSec: its start steps and its main process).
3. The seed (seed/ = ../bench-seed-boot/etc: the ArchWiki page's bond0-supplicant@.service,
   dhclient@.service, dhcp6c@.service, dhclient.conf, dhcp6c.conf and the bonding module's
   options, with
   Debian's paths and the lab's interface names): wibond's config removed, daemon-reload,
   the bonding module unloaded, the seed's files installed; the same stop and start, CYCLES
   times, of bond0-supplicant@wlan0 (its page says `restart` toggles it, so a restart is a
   stop and a start), ready by the same test.
Ratios wibond / seed are printed for start, stop and restart, and wibond / plain for bring-up.
At the start, the boot figures (radio device to ready) that bench-seed-boot prints for the
seed's units.
"""
import shutil
import statistics
import time
from pathlib import Path

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Results, bond_state, fixture, sh, wait_for
from guest.product import boot_figures, global_addrs, leftovers, unit_props, wait_unit, wpa_status

BOND = "bond0"
CYCLES = 5
HELPER = "/usr/lib/wibond/wibond-helper"
# The seed's files at their paths under /etc (bench-seed-boot/etc, which boots them).
SEED = Path(__file__).resolve().parent / "seed"
SEED_UNIT = "bond0-supplicant@{wlan}.service"


def median(values):
    return round(statistics.median(values), 2)


def ready(far, wired, wlan, timeout=240):
    """Both slaves in, the radio associated, an IPv4 address, the gateway answering."""
    wait_for(lambda: (lambda s: s and sorted(s["slaves"]) == sorted([wired, wlan]))(
        bond_state(BOND)), timeout, "both slaves in the bond")
    wait_for(lambda: wpa_status(wlan).get("wpa_state") == "COMPLETED", timeout,
             f"{wlan} associated")
    wait_for(lambda: global_addrs(BOND, 4), timeout, "an IPv4 address on the bond")
    wait_for(lambda: sh(["ping", "-c", "1", "-W", "1", far.ip4], check=False,
                        quiet=True).returncode == 0, timeout, "the gateway answers")


def gone(slaves):
    wait_for(lambda: not leftovers(BOND, slaves), 120, "the bond gone, nothing left")


def timed(fn):
    t = time.monotonic()
    fn()
    return time.monotonic() - t


def cpu_ms(units):
    out = {}
    for u in units:
        v = unit_props(u, "CPUUsageNSec").get("CPUUsageNSec", "")
        out[u] = round(int(v) / 1e6) if v.isdigit() else None
    return out


def cycles(res, label, stop, start, restart, far, wired, wlan, units):
    times = {"start": [], "stop": [], "restart": []}
    cpu = {u: [] for u in units}
    for _ in range(CYCLES):
        times["stop"].append(timed(lambda: (stop(), gone([wired, wlan]))))
        times["start"].append(timed(lambda: (start(), ready(far, wired, wlan))))
        for u, ms in cpu_ms(units).items():
            cpu[u].append(ms)
        times["restart"].append(timed(lambda: (restart(), ready(far, wired, wlan))))
    res.check(f"{label}: {CYCLES} stops, starts and restarts, each ready again",
              all(len(v) == CYCLES for v in times.values()), times)
    for what, values in times.items():
        res.figure(f"{label}: {what} to ready (median of {CYCLES}; min..max "
                   f"{min(values):.1f}..{max(values):.1f})", median(values), "s")
    for u, values in cpu.items():
        ok = [v for v in values if v is not None]
        res.figure(f"{label}: CPU of {u} at ready (median of {len(ok)})",
                   statistics.median(ok) if ok else None, "ms")
    return {k: statistics.median(v) for k, v in times.items()}, \
        sum(statistics.median([v for v in vs if v is not None] or [0]) for vs in cpu.values())


def bring_up(res, wlan):
    """The supplicant unit's start step against the same work as plain commands."""
    sh(["systemctl", "stop", "wibond@bond0.service"], timeout=180)
    gone([wlan])
    rfk = [p for p in Path(f"/sys/class/net/{wlan}/phy80211").glob("rfkill*")][0]
    plain = [["cat", rfk / "soft", rfk / "hard"], ["ip", "link", "set", wlan, "down"],
             ["ip", "addr", "flush", "dev", wlan], ["ip", "link", "set", wlan, "master", BOND],
             ["ip", "link", "set", wlan, "up"]]
    tw, tp = [], []
    for _ in range(CYCLES):
        sh([HELPER, "create", BOND])
        tw.append(timed(lambda: sh([HELPER, "join", BOND, wlan], quiet=True)))
        sh([HELPER, "release", BOND, wlan])
        sh([HELPER, "delete", BOND])
        sh(["ip", "link", "add", BOND, "type", "bond", "mode", "active-backup", "miimon", "100",
            "fail_over_mac", "active"])
        tp.append(timed(lambda: [sh(c, quiet=True) for c in plain]))
        sh(["ip", "link", "set", wlan, "nomaster"])
        sh(["ip", "link", "set", wlan, "down"])
        sh(["ip", "link", "del", BOND])
    mw, mp = statistics.median(tw), statistics.median(tp)
    res.check("bring-up measured, both ways enslaved the radio", len(tw) == len(tp) == CYCLES, None)
    res.figure("bring-up per slave: wibond-helper join (median)", round(mw * 1000), "ms")
    res.figure("bring-up per slave: same steps as plain commands (median)", round(mp * 1000), "ms")
    res.figure("bring-up per slave: ratio wibond / plain (aim <= 1.5)", round(mw / mp, 2), "x")
    res.figure("python3 -c pass, for scale (one interpreter start)",
               round(statistics.median(timed(lambda: sh(["python3", "-c", "pass"], quiet=True))
                                       for _ in range(CYCLES)) * 1000), "ms")
    res.figure("python3 -S -c pass (how wibond-helper starts)",
               round(statistics.median(timed(lambda: sh(["python3", "-S", "-c", "pass"], quiet=True))
                                       for _ in range(CYCLES)) * 1000), "ms")


def install_seed(wlan):
    """wibond out (its config gone, its units with it), the seed's files in."""
    Path("/etc/wibond.conf").unlink()
    sh(["systemctl", "daemon-reload"])
    sh(["rmmod", "bonding"], check=False)
    for rel in ("systemd/system/bond0-supplicant@.service", "systemd/system/dhclient@.service",
                "systemd/system/dhcp6c@.service", "dhcp/dhclient.conf",
                "wide-dhcpv6/dhcp6c.conf", "modprobe.d/bonding.conf"):
        shutil.copy(SEED / rel, Path("/etc") / rel)
    sh(["systemctl", "daemon-reload"])


with Results() as res:
    far = fixture()
    wlan, wired = far.stations[0]["ifname"], far.wired
    wait_unit("wibond@bond0.service", "active", 240)
    ready(far, wired, wlan)
    boot_figures(res, "wibond", BOND, wlan)  # bench-seed-boot has the seed's
    bring_up(res, wlan)

    sh(["systemctl", "start", "wibond@bond0.service"], timeout=180)
    ready(far, wired, wlan)
    wb_units = ["wibond@bond0.service", f"bond0-wired@{wired}.service",
                f"bond0-supplicant@{wlan}.service", "dhclient@bond0.service",
                "dhcp6c@bond0.service"]
    wb, wb_cpu = cycles(res, "wibond", lambda: sh(["systemctl", "stop", "wibond@bond0.service"],
                                                  timeout=180),
                        lambda: sh(["systemctl", "start", "wibond@bond0.service"], timeout=180),
                        lambda: sh(["systemctl", "restart", "wibond@bond0.service"], timeout=180),
                        far, wired, wlan, wb_units)
    sh(["systemctl", "stop", "wibond@bond0.service"], timeout=180)
    gone([wired, wlan])

    install_seed(wlan)
    unit = SEED_UNIT.format(wlan=wlan)
    sh(["systemctl", "start", unit], timeout=180)
    ready(far, wired, wlan)
    seed_units = [unit, "dhclient@bond0.service", "dhcp6c@bond0.service"]

    def seed_restart():
        sh(["systemctl", "stop", unit], timeout=180)
        sh(["systemctl", "start", unit], timeout=180)

    sd, sd_cpu = cycles(res, "seed", lambda: sh(["systemctl", "stop", unit], timeout=180),
                        lambda: sh(["systemctl", "start", unit], timeout=180), seed_restart,
                        far, wired, wlan, seed_units)
    for what in ("start", "stop", "restart"):
        res.figure(f"ratio wibond / seed: {what} (aim <= 1.5)", round(wb[what] / sd[what], 2), "x")
    res.figure("CPU of all units at ready: wibond / seed", f"{wb_cpu:.0f} / {sd_cpu:.0f} ms", "")
