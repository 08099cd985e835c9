#!/usr/bin/env python3
"""Baseline without wibond: a Wi-Fi + wired active-backup bond built by hand with ip, sysfs,
wpa_supplicant and dhclient.  Proves the fixture (AP, veth wire, bridge, dnsmasq) and measures
what the kernel alone gives: association on an enslaved radio, DHCP over the bond, failover and
failback loss at miimon=100 with fail_over_mac=active.  Then plays a USB dongle (hwsim
new_radio/del_radio with udev + systemd device events) and rfkill block/unblock.  Leaves the
system as it found it.
"""
import os
import time
from pathlib import Path

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Pinger, Results, addrs, bond_state, fixture, sh, wait_for
from guest.failover import PING_MS, STEADY_REPLIES, failover, loss_figures
from guest.util import log

BOND = "bond0"
RUN = Path("/run/plain-bond")
WPA_CONF = RUN / "wpa.conf"
WPA_CTRL = RUN / "wpa"
WPA_PID = RUN / "wpa.pid"
DHC_PID = RUN / "dhclient.pid"
DHC_LEASES = RUN / "dhclient.leases"


def sysfs(path):
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def wpa_status(ifname):
    r = sh(["wpa_cli", "-p", WPA_CTRL, "-i", ifname, "status"], check=False, quiet=True)
    return dict(ln.split("=", 1) for ln in r.stdout.splitlines() if "=" in ln)


def make_bond(res):
    """bond0: active-backup, fail_over_mac=active, miimon=100, primary = the wire.  Loading
    bonding with the default max_bonds=1 creates an empty bond0 itself; `ip link add` then
    fails with "File exists" (FACTS.md): reconfigure that one while it is empty and down."""
    r = sh(["ip", "link", "add", BOND, "type", "bond", "mode", "active-backup",
            "fail_over_mac", "active", "miimon", "100"], check=False)
    res.figure("ip link add bond0 (bonding not loaded before)",
               "ok" if r.returncode == 0 else r.stderr.strip(), "")
    if r.returncode != 0:
        st = bond_state(BOND)
        res.check("bonding auto-created an empty bond0", st is not None and not st["slaves"], st)
        sh(["ip", "link", "set", BOND, "down"])
        sh(["ip", "link", "set", BOND, "type", "bond", "mode", "active-backup",
            "fail_over_mac", "active", "miimon", "100"])


def enslave(dev):
    sh(["ip", "link", "set", dev, "down"])
    sh(["ip", "addr", "flush", "dev", dev])
    sh(["ip", "link", "set", dev, "master", BOND])
    sh(["ip", "link", "set", dev, "up"])


def bond_part(res, far):
    sta = far.stations[0]
    wlan, wired = sta["ifname"], far.wired
    wlan_mac = sta["mac"]
    wired_mac = sysfs(f"/sys/class/net/{wired}/address")
    res.check("fixture: station radio and wired veth present",
              wlan and wired and Path(f"/sys/class/net/{wlan}").exists()
              and Path(f"/sys/class/net/{wired}").exists(), {"wlan": wlan, "wired": wired})

    make_bond(res)
    bonding = Path(f"/sys/class/net/{BOND}/bonding")
    sh(["sh", "-c", f"echo {wired} > {bonding}/primary"])
    st = bond_state(BOND)
    res.check("bond0 options", st["mode"].startswith("active-backup")
              and st["fail_over_mac"].startswith("active") and st["miimon"] == "100",
              {k: st[k] for k in ("mode", "fail_over_mac", "miimon", "primary")})
    enslave(wired)
    enslave(wlan)
    sh(["ip", "link", "set", BOND, "up"])
    st = wait_for(lambda: (lambda s: s if s and s["active_slave"] == wired else None)(bond_state(BOND)),
                  60, "wired active")
    res.check("both slaves enslaved, wired active", st["slaves"] == [wired, wlan]
              or sorted(st["slaves"]) == sorted([wired, wlan]), st)
    res.check("bond MAC is the wired MAC (fail_over_mac=active, wired active)",
              st["address"] == wired_mac, {"bond": st["address"], "wired": wired_mac})
    res.check("the radio keeps its own MAC as a slave", sysfs(f"/sys/class/net/{wlan}/address") == wlan_mac,
              {"wlan": sysfs(f"/sys/class/net/{wlan}/address"), "perm": wlan_mac})

    # Wi-Fi on the enslaved radio
    RUN.mkdir(parents=True, exist_ok=True)
    WPA_CONF.write_text(f'ctrl_interface={WPA_CTRL}\nnetwork={{\n  ssid="{far.ssid}"\n'
                        f'  psk="{far.psk}"\n  key_mgmt=WPA-PSK\n}}\n')
    t = time.monotonic()
    sh(["wpa_supplicant", "-B", "-Dnl80211", "-i", wlan, "-b", BOND, "-c", WPA_CONF,
        "-P", WPA_PID, "-f", RUN / "wpa.log"])
    wait_for(lambda: wlan_mac in far.ap_stations(), 90, f"{wlan} associated (hostapd all_sta)")
    wait_for(lambda: wpa_status(wlan).get("wpa_state") == "COMPLETED", 60, "wpa_state COMPLETED")
    res.check(f"{wlan} associates while enslaved (hostapd all_sta has {wlan_mac})",
              wlan_mac in far.ap_stations(), far.ap_stations())
    res.figure("association time (wpa_supplicant start -> COMPLETED)", round(time.monotonic() - t, 2), "s")
    wait_for(lambda: sysfs(f"/sys/class/net/{wlan}/carrier") == "1", 30, f"{wlan} carrier")

    # DHCPv4 over the bond
    t = time.monotonic()
    sh(["dhclient", "-4", "-v", "-pf", DHC_PID, "-lf", DHC_LEASES, BOND], timeout=180)
    a4 = wait_for(lambda: addrs(BOND, 4, scope="global"), 120, "bond0 DHCPv4 address")
    res.check("bond0 gets a DHCPv4 address", a4, a4)
    res.figure("DHCPv4 time (dhclient start -> address)", round(time.monotonic() - t, 2), "s")
    res.figure("DHCPv4 address", a4[0], "")
    lease = [x for x in far.leases() if x["family"] == 4]
    res.check("dnsmasq lease is for the bond's (wired) MAC",
              any(x["mac"] == wired_mac for x in lease), lease)

    r = sh(["ping", "-c", "3", "-W", "5", far.ip4], check=False)
    res.check(f"ping {far.ip4} over the bond", r.returncode == 0, r.stdout[-300:])

    with Pinger(far.ip4, interval=PING_MS / 1000) as p:
        wait_for(lambda: len(p.recv) >= STEADY_REPLIES, 60, "pinger steady")
        cut = failover(res, p, "wire cut", far.wire_cut, wlan)
        res.check("bond MAC becomes the radio's MAC (fail_over_mac=active)",
                  cut["state"]["address"] == wlan_mac, {"bond": cut["state"]["address"], "wlan": wlan_mac})
        res.check("address kept across failover", addrs(BOND, 4, scope="global") == a4,
                  addrs(BOND, 4, scope="global"))
        back = failover(res, p, "wire restore", far.wire_restore, wired)
        res.check("bond MAC back to the wired MAC", back["state"]["address"] == wired_mac,
                  {"bond": back["state"]["address"], "wired": wired_mac})
    for ev in (cut, back):
        loss_figures(res, p, ev)
    s = p.stats()
    res.figure("whole ping run", f"{s['lost']} lost of {s['sent']}, rtt avg {s['rtt_avg_ms']} ms", "")
    return wlan, wired


def teardown_bond(res, far, wlan, wired):
    if DHC_PID.exists():
        sh(["dhclient", "-x", "-pf", DHC_PID, "-lf", DHC_LEASES, BOND], check=False, timeout=60)
    if WPA_PID.exists():
        sh(["wpa_cli", "-p", WPA_CTRL, "-i", wlan, "terminate"], check=False)
        pid = sysfs(WPA_PID)
        if pid:
            wait_for(lambda: not Path(f"/proc/{pid}").exists(), 30, "wpa_supplicant exit",
                     raise_on_timeout=False)
    if Path(f"/sys/class/net/{BOND}").exists():
        sh(["ip", "link", "del", BOND], check=False)
    for dev in (wlan, wired):
        if dev and Path(f"/sys/class/net/{dev}").exists():
            sh(["ip", "link", "set", dev, "down"], check=False)
            sh(["ip", "addr", "flush", "dev", dev], check=False)
    procs = sh(["pgrep", "-a", "-f", "wpa_supplicant|dhclient"], check=False, quiet=True).stdout.strip()
    res.check("teardown: no bond, slaves free, no wpa_supplicant/dhclient left",
              not Path(f"/sys/class/net/{BOND}").exists()
              and not any(Path(f"/sys/class/net/{d}/master").exists() for d in (wlan, wired) if d)
              and not procs, procs)


def radio_part(res, far):
    """hwsim new_radio/del_radio = plug/unplug a dongle: netdev, udev events, device unit."""
    import pyudev

    ctx = pyudev.Context()
    mon = pyudev.Monitor.from_netlink(ctx, source="udev")
    mon.filter_by("net")
    mon.start()

    def udev_event(action, ifname, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            d = mon.poll(timeout=max(0.1, deadline - time.monotonic()))
            if d is not None and d.action == action and d.sys_name == ifname:
                return d
        return None

    t = time.monotonic()
    info = far.new_radio()
    ifn = info["ifname"]
    res.check("new_radio: a new wlan netdev appears", Path(f"/sys/class/net/{ifn}").exists(), info)
    ev = udev_event("add", ifn)
    res.check(f"new_radio: udev 'add' event for {ifn}", ev is not None,
              dict(ev.properties) if ev is not None else None)
    res.figure("new_radio -> udev add event", round(time.monotonic() - t, 2), "s")
    r = sh(["udevadm", "info", f"/sys/class/net/{ifn}"], check=False)
    res.check(f"udevadm info finds {ifn}", r.returncode == 0 and f"INTERFACE={ifn}" in r.stdout,
              r.stdout[-600:])
    unit = sh(["systemd-escape", "--path", "--suffix=device", f"/sys/subsystem/net/devices/{ifn}"],
              quiet=True).stdout.strip()
    wait_for(lambda: sh(["systemctl", "is-active", unit], check=False, quiet=True).stdout.strip() == "active",
             60, f"{unit} active", raise_on_timeout=False)
    state = sh(["systemctl", "is-active", unit], check=False, quiet=True).stdout.strip()
    res.check(f"systemd device unit {unit} is active", state == "active", state)
    res.check("the new radio hears the far AP (scan)", wait_for(
        lambda: far.ssid in _scan(ifn), 60, "scan sees the AP", raise_on_timeout=False), None)

    t = time.monotonic()
    far.del_radio(info["id"])
    wait_for(lambda: not Path(f"/sys/class/net/{ifn}").exists(), 60, f"{ifn} gone")
    ev = udev_event("remove", ifn)
    res.check(f"del_radio: {ifn} gone with a udev 'remove' event", ev is not None, None)
    res.figure("del_radio -> udev remove event", round(time.monotonic() - t, 2), "s")
    wait_for(lambda: sh(["systemctl", "is-active", unit], check=False, quiet=True).stdout.strip() != "active",
             60, f"{unit} inactive", raise_on_timeout=False)
    state = sh(["systemctl", "is-active", unit], check=False, quiet=True).stdout.strip()
    res.check(f"device unit {unit} gone", state != "active", state)


def _scan(ifn):
    sh(["ip", "link", "set", ifn, "up"], check=False, quiet=True)
    r = sh(["iw", "dev", ifn, "scan"], check=False, quiet=True, timeout=60)
    return r.stdout


def rfkill_part(res, far):
    wlan = far.stations[0]["ifname"]
    phy = sysfs(f"/sys/class/net/{wlan}/phy80211/name")
    sh(["ip", "link", "set", wlan, "up"])
    rk = far.rfkill(wlan, True)
    soft = Path(f"/sys/class/rfkill/{rk}/soft")
    res.check(f"rfkill block {wlan} ({phy}, {rk}): sysfs soft=1", sysfs(soft) == "1", sysfs(soft))
    down = wait_for(lambda: not int(sysfs(f"/sys/class/net/{wlan}/flags"), 16) & 1, 30,
                    f"{wlan} down after block", raise_on_timeout=False)
    res.check(f"blocking takes {wlan} down", down, sysfs(f"/sys/class/net/{wlan}/flags"))
    r = sh(["ip", "link", "set", wlan, "up"], check=False)
    res.check(f"a blocked {wlan} cannot be brought up", r.returncode != 0, r.stderr.strip())
    # FACTS.md: enslaving a blocked radio fails with ERFKILL
    sh(["ip", "link", "add", "rfk-bond", "type", "bond", "mode", "active-backup"], check=False)
    r = sh(["ip", "link", "set", wlan, "master", "rfk-bond"], check=False)
    res.figure("enslave an rfkill-blocked radio", "ok" if r.returncode == 0 else r.stderr.strip(), "")
    sh(["ip", "link", "set", wlan, "nomaster"], check=False, quiet=True)
    sh(["ip", "link", "del", "rfk-bond"], check=False)
    far.rfkill(wlan, False)
    res.check(f"rfkill unblock {wlan}: sysfs soft=0", sysfs(soft) == "0", sysfs(soft))
    r = sh(["ip", "link", "set", wlan, "up"], check=False)
    res.check(f"{wlan} can be brought up again", r.returncode == 0, r.stderr.strip())
    sh(["ip", "link", "set", wlan, "down"], check=False)


with Results() as res:
    far = fixture()
    wlan = wired = None
    try:
        wlan, wired = bond_part(res, far)
    finally:
        # restore the wire even when a check above failed half way
        far.wire_restore()
        teardown_bond(res, far, wlan or far.stations[0]["ifname"], wired or far.wired)
    radio_part(res, far)
    rfkill_part(res, far)
    log(f"plain-bond done, pid {os.getpid()}")
