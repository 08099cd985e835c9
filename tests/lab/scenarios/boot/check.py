#!/usr/bin/env python3
"""Fastest sanity scenario: the VM boots cleanly, the far side exists, the kernel has what the
other scenarios need, and systemd behaves as wibond's units assume.  Nothing of wibond is used
(it is installed but has no wibond.conf)."""
from pathlib import Path

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Results, fixture, links
from guest.util import sh

# wibond's units rely on this: an ExecStartPre writes an EnvironmentFile=- that the later
# ExecStartPre/ExecStart/ExecStartPost lines read (systemd loads the file before each command).
ENV_UNIT = """[Service]
Type=oneshot
EnvironmentFile=-/run/lab-envtest/env
ExecStartPre=/bin/sh -c 'mkdir -p /run/lab-envtest; echo FOO=first > /run/lab-envtest/env'
ExecStartPre=/bin/sh -c 'echo "pre2 $$FOO ${FOO}" >> /run/lab-envtest/log; echo FOO=second > /run/lab-envtest/env'
ExecStart=/bin/sh -c 'echo "start $$FOO ${FOO}" >> /run/lab-envtest/log'
ExecStartPost=/bin/sh -c 'echo "post $$FOO" >> /run/lab-envtest/log'
"""
# ... and this: without the "-", a file missing when the unit starts fails it before the first
# ExecStartPre could write it.
ENV_UNIT_STRICT = """[Service]
Type=oneshot
EnvironmentFile=/run/lab-envtest/strict.env
ExecStartPre=/bin/sh -c 'mkdir -p /run/lab-envtest; echo FOO=x > /run/lab-envtest/strict.env'
ExecStart=/bin/true
"""


def environment_file_facts(res):
    Path("/run/systemd/system/lab-envtest.service").write_text(ENV_UNIT)
    Path("/run/systemd/system/lab-envtest-strict.service").write_text(ENV_UNIT_STRICT)
    sh(["systemctl", "daemon-reload"])
    sh(["systemctl", "start", "lab-envtest.service"])
    log = Path("/run/lab-envtest/log").read_text().split("\n")
    want = ["pre2 first first", "start second second", "post second", ""]
    ver = sh(["systemctl", "--version"]).stdout.split("\n")[0]
    res.check(f"EnvironmentFile=- written by ExecStartPre is read by the later commands ({ver})",
              log == want, {"got": log, "want": want})
    r = sh(["systemctl", "start", "lab-envtest-strict.service"], check=False)
    res.check("EnvironmentFile= without '-' missing at start fails the unit before ExecStartPre",
              r.returncode != 0 and not Path("/run/lab-envtest/strict.env").exists(), r.stderr.strip())
    for u in ("lab-envtest.service", "lab-envtest-strict.service"):
        sh(["systemctl", "reset-failed", u], check=False, quiet=True)
        Path(f"/run/systemd/system/{u}").unlink()  # inactive: systemd drops them, no reload needed

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
    environment_file_facts(res)
    res.note(f"installed product: {sh(['ls', '/usr/lib/systemd/system-generators'], check=False).stdout.split()}")
