"""`wibond status` and `wibond monitor` against a fake sysfs under WIBOND_ROOT."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from wibond.cli.status import bond_changes

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def write(root, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def fake_root(tmp_path):
    write(tmp_path, "etc/wibond.conf", "[tbond0]\n[[twlan0]]\n[[twlx*]]\n[[teth9]]\n")
    net = "sys/class/net"
    write(tmp_path, f"{net}/tbond0/bonding/mode", "active-backup 1")
    write(tmp_path, f"{net}/tbond0/bonding/slaves", "twlan0 twlx0011")
    write(tmp_path, f"{net}/tbond0/bonding/active_slave", "twlx0011")
    write(tmp_path, f"{net}/tbond0/bonding/primary", "teth9")
    write(tmp_path, f"{net}/tbond0/address", "02:00:00:00:11:00")
    write(tmp_path, f"{net}/tbond0/carrier", "1")
    write(tmp_path, f"{net}/tbond0/bonding/miimon", "100")
    write(tmp_path, f"{net}/tbond0/bonding/arp_interval", "0")
    write(tmp_path, f"{net}/twlan0/bonding_slave/mii_status", "down")
    write(tmp_path, f"{net}/twlan0/bonding_slave/link_failure_count", "3")
    write(tmp_path, f"{net}/twlx0011/bonding_slave/mii_status", "up")
    write(tmp_path, f"{net}/twlx0011/bonding_slave/link_failure_count", "0")
    return tmp_path


def wibond(root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wibond", *args], cwd=REPO, check=False,
                          env=dict(os.environ, WIBOND_ROOT=str(root)),
                          capture_output=True, text=True, timeout=60)


def test_status_shows_slaves_sections_and_absent(tmp_path) -> None:
    root = fake_root(tmp_path)
    proc = wibond(root, "status")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == ("tbond0: active-backup, carrier, active twlx0011, primary teth9, "
                        "MAC 02:00:00:00:11:00")
    assert lines[1] == "  monitoring: MII every 100 ms"
    assert any(ln.startswith("  twlan0") and "mii down, 3 failures" in ln and "[[twlan0]]" in ln
               for ln in lines), lines
    assert any(ln.startswith(" *twlx0011") and "[[twlx*]]" in ln for ln in lines)
    assert "  absent: teth9" in lines


def test_status_under_arp_monitoring(tmp_path) -> None:
    root = fake_root(tmp_path)
    net = "sys/class/net"
    for key, value in (("miimon", "0"), ("arp_interval", "200"), ("arp_validate", "all 3"),
                       ("arp_ip_target", "192.168.77.1"), ("arp_missed_max", "2")):
        write(root, f"{net}/tbond0/bonding/{key}", value)
    write(root, f"{net}/twlan0/operstate", "up")
    proc = wibond(root, "status")
    lines = proc.stdout.splitlines()
    assert lines[1] == ("  monitoring: ARP every 200 ms to 192.168.77.1 (validate all, down "
                        "after 2 missed)")
    # up and associated, but no answer from the gateway through it: the silent failure
    assert any(ln.startswith("  twlan0") and "arp silent (carrier up), 3 failures" in ln
               for ln in lines), lines
    assert any(ln.startswith(" *twlx0011") and "arp ok, 0 failures" in ln for ln in lines), lines


def test_status_bond_not_created(tmp_path) -> None:
    write(tmp_path, "etc/wibond.conf", "[tbond1]\n[[twlan5]]\n")
    proc = wibond(tmp_path, "status")
    assert proc.stdout.splitlines()[0] == "tbond1: not created (no slave unit running)"
    assert proc.returncode == 3   # a bond shown carries no traffic, as systemctl is-active says


def test_status_exit_codes_follow_the_traffic_and_the_names(tmp_path) -> None:
    root = fake_root(tmp_path)
    assert wibond(root, "status").returncode == 0
    assert wibond(root, "status", "tbond0").returncode == 0
    write(root, "sys/class/net/tbond0/bonding/active_slave", "")
    assert wibond(root, "status").returncode == 3      # no slave carries the traffic
    proc = wibond(root, "status", "bond9")
    assert proc.returncode == 1
    assert "bond9: no such bond in /etc/wibond.conf (bonds: tbond0)" in proc.stderr
    proc = wibond(root, "status", "--json", "bond9")
    assert proc.returncode == 1 and proc.stdout == ""
    assert wibond(root, "monitor", "--duration", "1", "bond9").returncode == 1


def test_status_json_has_a_version_and_every_key_whatever_the_state(tmp_path) -> None:
    import json

    root = fake_root(tmp_path)
    write(root, "etc/wibond.conf", "[tbond0]\n[[twlan0]]\n[[twlx*]]\n[[teth9]]\n"
                                   "[tbond1]\n[[twlan5]]\n")
    data = json.loads(wibond(root, "status", "--json").stdout)
    assert data["version"] == 1 and data["try"] is None
    up, absent = data["bonds"]
    assert set(up) == set(absent)            # the same keys, created or not
    assert absent["exists"] is False and absent["mode"] is None and absent["dhcp"] == []
    assert up["carries_traffic"] is True and absent["carries_traffic"] is False
    slave_keys = {frozenset(s) for s in up["slaves"]}
    assert len(slave_keys) == 1               # enslaved or not, radio or not
    assert isinstance(data["managers"], list)


def test_monitor_refuses_an_interval_or_duration_not_above_zero(tmp_path) -> None:
    root = fake_root(tmp_path)
    for args in (("--interval", "-1", "--duration", "1"), ("--interval", "0"),
                 ("--duration", "0"), ("--interval", "nan"), ("--interval", "x")):
        proc = wibond(root, "monitor", *args)
        assert proc.returncode == 2, args
        assert "seconds" in proc.stderr, proc.stderr


def test_bond_changes() -> None:
    old = {"exists": True, "active": "a", "mac": "m1", "carrier": True, "monitor": "MII",
           "arp": False, "slaves": {"a": ("up", "up", 0), "b": ("up", "up", 0)}}
    new = {"exists": True, "active": "c", "mac": "m2", "carrier": True, "monitor": "MII",
           "arp": False, "slaves": {"a": ("down", "up", 1), "c": ("up", "up", 0)}}
    assert bond_changes("b0", old, new) == [
        "b0: c joined", "b0: b left", "b0: a link down",
        "b0: active slave a -> c", "b0: MAC m1 -> m2"]
    assert bond_changes("b0", old, old) == []


def test_bond_changes_under_arp_monitoring_name_the_silent_failure() -> None:
    old = {"exists": True, "active": "a", "mac": "m1", "carrier": True, "monitor": "MII 100",
           "arp": False, "slaves": {"a": ("up", "up", 0), "b": ("up", "up", 0)}}
    arp = dict(old, monitor="ARP 200", arp=True)
    assert bond_changes("b0", old, arp) == ["b0: monitoring MII 100 -> ARP 200"]
    silent = dict(arp, active="b", slaves={"a": ("down", "up", 1), "b": ("up", "up", 0)})
    assert bond_changes("b0", arp, silent) == [
        "b0: a link down: no ARP answer while its carrier is up (failure 1)",
        "b0: active slave a -> b"]
    assert bond_changes("b0", silent, arp)[0] == "b0: a link up: ARP answers"


def test_monitor_prints_changes_live(tmp_path) -> None:
    root = fake_root(tmp_path)

    def failover() -> None:
        time.sleep(1.5)
        write(root, "sys/class/net/tbond0/bonding/active_slave", "twlan0")
        write(root, "sys/class/net/tbond0/bonding/slaves", "twlan0")

    thread = threading.Thread(target=failover)
    thread.start()
    proc = wibond(root, "monitor", "--duration", "4", "--interval", "0.1")
    thread.join()
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "tbond0: active twlx0011; slaves twlan0, twlx0011" in out
    assert "tbond0: twlx0011 left" in out and "tbond0: active slave twlx0011 -> twlan0" in out
