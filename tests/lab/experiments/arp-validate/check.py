#!/usr/bin/env python3
"""Experiment (issue 13): which kernel ARP-monitor settings see silent faults on Wi-Fi slaves.

Not a test: run it on demand (python3 tests/lab/host/labrun.py run tests/lab/experiments/arp-validate
--suite sid) and read result.json's notes and out/arpexp/rows.json.  The bond is made by wibond
from etc/wibond.conf (MII); each trial then switches the monitoring through sysfs, waits for a
settled bond, applies one fault under a 10 ms ping and clears it.  Results of the run that
chose wibond's default: benchmarks/results/arp-validate-20261202.txt."""
import json
import threading
import time
from pathlib import Path

import guest  # noqa: F401
from guest import Pinger, Results, bond_state, fixture, wait_for, sh, log
from guest.product import wait_unit, wpa_status

BOND = "bond0"
GW = "192.168.77.1"
B = Path(f"/sys/class/net/{BOND}/bonding")


def w(attr, value):
    try:
        (B / attr).write_text(value)
    except OSError as e:
        log(f"write {attr}={value}: {e}")


def rd(attr):
    return (B / attr).read_text().strip()


def states():
    st = bond_state(BOND)
    return st["active_slave"], {s: (v or {}).get("mii_status") for s, v in st["slave_state"].items()}


class Recorder(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.events, self.stop_ = [], False
        self.t0 = time.monotonic()

    def run(self):
        last = None
        while not self.stop_:
            try:
                cur = states()
            except Exception as e:  # noqa: BLE001
                cur = repr(e)
            if cur != last:
                self.events.append((round(time.monotonic() - self.t0, 3), cur))
                last = cur
            time.sleep(0.02)


def mode(kind, validate="none", interval=200, missed=2, all_targets="any"):
    if kind == "mii":
        w("arp_interval", "0")
        w("miimon", "100")
    else:
        w("miimon", "0")
        if GW not in rd("arp_ip_target"):
            w("arp_ip_target", "+" + GW)
        w("arp_validate", validate)
        w("arp_all_targets", all_targets)
        w("arp_missed_max", str(missed))
        w("arp_interval", str(interval))


def settle(primary, secs=4, timeout=90):
    w("primary", primary)
    def ok():
        a, m = states()
        return a == primary and all(v == "up" for v in m.values())
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if ok():
            t1 = time.monotonic()
            while ok() and time.monotonic() - t1 < secs:
                time.sleep(0.1)
            if ok():
                return True
        time.sleep(0.2)
    return False


with Results() as res:
    far = fixture()
    wlan0, wlan1 = far.stations[0]["ifname"], far.stations[1]["ifname"]
    for u in (f"bond0-supplicant@{wlan0}.service", f"bond0-supplicant@{wlan1}.service"):
        wait_unit(u, "active", 300)
    wait_for(lambda: len(bond_state(BOND)["slaves"]) == 3, 300, "3 slaves")
    for wl in (wlan0, wlan1):
        wait_for(lambda: wpa_status(wl).get("wpa_state") == "COMPLETED", 200, f"{wl} associated")
    res.note(f"kernel {sh(['uname', '-r']).stdout.strip()}")
    res.note("stations: " + json.dumps(far.ap_stations()) + " / ap1 " + json.dumps(far.ap_stations(ap=1)))

    faults = {
        "ap0-uplink": (wlan0, lambda: far.isolate("ap0", True), lambda: far.isolate("ap0", False)),
        "ap0-silent": (wlan0, lambda: far.ap_silence(True), lambda: far.ap_silence(False)),
        "wire-far": ("eth0", lambda: far.isolate("wired-far", True), lambda: far.isolate("wired-far", False)),
        "ap0-nomaster-only": (wlan0, lambda: sh(["ip", "-n", "far", "link", "set", "ap0", "nomaster"]),
                              lambda: sh(["ip", "-n", "far", "link", "set", "ap0", "master", "br0"])),
    }
    configs = [("mii", {}), ("arp-none", {"validate": "none"}), ("arp-active", {"validate": "active"}),
               ("arp-all", {"validate": "all"}), ("arp-filter_all", {"validate": "filter_all"})]
    plan = [(c, f) for c in configs for f in ("ap0-uplink", "ap0-silent", "wire-far")]
    plan += [(("arp-all", {"validate": "all"}), "ap0-nomaster-only"),
             (("arp-none", {"validate": "none"}), "ap0-nomaster-only")]
    rows = []
    for (cname, kw), fname in plan:
        primary, on, off = faults[fname]
        mode("mii" if cname == "mii" else "arp", **kw)
        ready = settle(primary)
        fc0 = {s: (v or {}).get("link_failure_count") for s, v in bond_state(BOND)["slave_state"].items()}
        rec = Recorder()
        row = {"config": cname, "fault": fname, "primary": primary, "settled": ready}
        with Pinger(GW, interval=0.01) as p:
            time.sleep(2)
            rec.start()
            time.sleep(1)
            t0 = p.now()
            tr = time.monotonic() - rec.t0
            on()
            ok = wait_for(lambda: states()[0] not in (primary, None), 15, "failover", raise_on_timeout=False)
            t_sw = p.now()
            if ok:
                wait_for(lambda: p.replies_since(t_sw) >= 100, 15, "pings after failover", raise_on_timeout=False)
            t_ok = p.now()
            row.update(failover=bool(ok), switch_ms=round((t_sw - t0) * 1000) if ok else None,
                       new_active=states()[0])
            time.sleep(3)   # watch for flapping after the switch
            t1 = p.now()
            off()
            back = wait_for(lambda: states()[0] == primary, 60, "failback", raise_on_timeout=False)
            t_back = p.now()
            time.sleep(2)
            row.update(failback=bool(back), failback_ms=round((t_back - t1) * 1000) if back else None)
        rec.stop_ = True
        rec.join()
        s1 = p.stats(since=t0, until=t1)
        s2 = p.stats(since=t1, until=p.now())
        row.update(lost=s1["lost"], gap_ms=s1["max_gap_ms"], lost_failback=s2["lost"], gap_back_ms=s2["max_gap_ms"])
        fc1 = {s: (v or {}).get("link_failure_count") for s, v in bond_state(BOND)["slave_state"].items()}
        row["failure_counts"] = {s: (fc0.get(s), fc1.get(s)) for s in fc1}
        row["events"] = [(round(t - tr, 3), e) for t, e in rec.events]
        rows.append(row)
        log(json.dumps({k: v for k, v in row.items() if k != "events"}))
        res.note(json.dumps(row))
        settle(primary, secs=2, timeout=90)

    # steady state with ARP (all): 120 s, count transitions
    for cname, kw in (("arp-all", {"validate": "all"}), ("arp-active", {"validate": "active"})):
        mode("arp", **kw)
        settle(wlan0)
        rec = Recorder()
        rec.start()
        with Pinger(GW, interval=0.05) as p:
            time.sleep(120)
        rec.stop_ = True
        rec.join()
        s = p.stats()
        res.note(json.dumps({"steady": cname, "transitions": rec.events, "lost": s["lost"], "sent": s["sent"]}))
    Path(guest.OUT_DIR, "rows.json").write_text(json.dumps(rows, indent=1))
    res.note(sh(["dmesg"]).stdout[-20000:])
    res.check("every trial started from a settled bond", all(r["settled"] for r in rows),
              [(r["config"], r["fault"]) for r in rows if not r["settled"]])
