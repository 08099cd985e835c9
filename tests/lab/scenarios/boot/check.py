#!/usr/bin/env python3
"""Fastest sanity scenario: the VM boots cleanly, the far side exists, the kernel has what the
other scenarios need.  Nothing of wibond is used (it is installed but has no wibond.conf)."""
import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Results, fixture, links
from guest.util import sh

with Results() as res:
    up = float(open("/proc/uptime").read().split()[0])
    res.figure("uptime at check (boot to check)", up, "s")
    far = fixture()
    res.check("station radio present", far.stations and far.stations[0]["ifname"] == "wlan0",
              far.stations)
    res.check("wired veth present", far.wired in [ln["ifname"] for ln in links()], far.wired)
    res.check("AP enabled", "state=ENABLED" in far.hostapd_cli("status").stdout)
    res.check("dnsmasq running", sh(["pgrep", "-x", "dnsmasq"], check=False).returncode == 0)
    for m in ("bonding", "mac80211_hwsim", "veth"):
        r = sh(["modprobe", m], check=False)
        res.check(f"modprobe {m}", r.returncode == 0, r.stderr.strip())
    failed = sh(["systemctl", "list-units", "--failed", "--plain", "--no-legend", "--no-pager"],
                check=False).stdout.strip()
    res.check("no failed units", not failed, failed)
    gettys = sh(["pgrep", "-a", "getty"], check=False).stdout.strip()
    res.check("no getty on the test console", not gettys, gettys)
    res.note(f"installed product: {sh(['ls', '/usr/lib/systemd/system-generators'], check=False).stdout.split()}")
