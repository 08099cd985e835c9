"""Benchmark: what wibond-metrics.service costs a box while nothing changes, against the
timer it replaces.

wibond-metrics.service sleeps on rtnetlink and, only while a radio is a slave or a lease is
held, looks every 15 s: one look is a collection in the running process (sysfs, one
`iw dev X link` per radio, the lease file) and a comparison with the text it last wrote. The
baseline, run side by side in the same run, is what a systemd timer every 15 s would cost:
a fresh `wibond metrics --textfile-dir DIR` each time. Prints the CPU time of each (this
process's, or the children's, from getrusage), their ratio, and the CPU seconds per hour.

    python3 benchmarks/metrics.py [--looks N]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

FILES = {
    "etc/wibond.conf": "[bond0]\ndhcp = ipv4\ndhcp_client = dhclient\n[[eth0]]\ntype = wired\n[[wlan0]]\n",
    "sys/class/net/bond0/ifindex": "7",
    "sys/class/net/bond0/bonding/mode": "active-backup 1",
    "sys/class/net/bond0/bonding/slaves": "eth0 wlan0",
    "sys/class/net/bond0/bonding/active_slave": "eth0",
    "sys/class/net/bond0/bonding/primary": "eth0",
    "sys/class/net/bond0/bonding/miimon": "100",
    "sys/class/net/bond0/carrier": "1",
    "sys/class/net/eth0/bonding_slave/mii_status": "up",
    "sys/class/net/eth0/bonding_slave/link_failure_count": "0",
    "sys/class/net/wlan0/bonding_slave/mii_status": "up",
    "sys/class/net/wlan0/bonding_slave/link_failure_count": "0",
    "var/lib/wibond/dhclient-bond0.leases": "lease {\n  fixed-address 192.168.77.50;\n"
        "  option dhcp-lease-time 600;\n  renew 1 2026/12/07 10:00:00;\n}\n",
    "usr/sbin/dhclient": "", "usr/sbin/dhcp6c": "", "usr/sbin/wpa_supplicant": "",
}


def cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--looks", type=int, default=40)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="wibond-bench-metrics-")
    for rel, text in FILES.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text + ("\n" if text else ""))
        if rel.startswith("usr/sbin/"):
            os.chmod(path, 0o755)
    os.makedirs(os.path.join(root, "sys/class/net/wlan0/phy80211"))
    os.environ["WIBOND_ROOT"] = root
    from wibond.cli import metrics
    from wibond.cli.report import Sources

    sources = Sources()
    cfg = metrics._Config(None)
    written = metrics.render(metrics.collect(cfg.current(), sources, metrics.Failovers()))
    timer = [sys.executable, "-m", "wibond", "metrics", "--textfile-dir", "/var/lib/node"]
    daemon_s = oneshot_s = 0.0
    same = 0
    for _ in range(args.looks):   # interleaved: the machine's load falls on both alike
        t = cpu(resource.RUSAGE_SELF) + cpu(resource.RUSAGE_CHILDREN)   # iw is a child
        samples = metrics.collect(cfg.current(), sources, metrics.Failovers())
        same += metrics.render(samples) == written
        daemon_s += cpu(resource.RUSAGE_SELF) + cpu(resource.RUSAGE_CHILDREN) - t
        t = cpu(resource.RUSAGE_CHILDREN)
        subprocess.run(timer, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        oneshot_s += cpu(resource.RUSAGE_CHILDREN) - t
    look_ms = daemon_s / args.looks * 1000
    oneshot_ms = oneshot_s / args.looks * 1000
    per_hour = 3600 / metrics.TICK_S
    print(f"python: {sys.executable} {sys.version.split()[0]}; looks: {args.looks}; one bond, "
          f"a cable and a radio, a DHCP lease")
    print(f"a look in wibond-metrics.service (collect, render, compare; iw included): "
          f"{look_ms:.1f} ms CPU; the text unchanged in {same} of {args.looks}: nothing written")
    print(f"baseline, a timer's `wibond metrics --textfile-dir` per look: {oneshot_ms:.1f} ms CPU")
    print(f"ratio timer / service: {oneshot_ms / look_ms:.1f}x")
    print(f"per hour while nothing changes: service {look_ms * per_hour / 1000:.2f} s CPU "
          f"({per_hour:.0f} looks; none without a radio or a lease), timer "
          f"{oneshot_ms * per_hour / 1000:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
