"""`wibond status` and `wibond monitor` against a fake sysfs under WIBOND_ROOT."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from wibond.cli import bond_changes

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
    write(tmp_path, f"{net}/twlan0/bonding_slave/mii_status", "down")
    write(tmp_path, f"{net}/twlx0011/bonding_slave/mii_status", "up")
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
    assert any(ln.startswith("  twlan0") and "mii down" in ln and "[[twlan0]]" in ln for ln in lines)
    assert any(ln.startswith(" *twlx0011") and "[[twlx*]]" in ln for ln in lines)
    assert "  absent: teth9" in lines


def test_status_bond_not_created(tmp_path) -> None:
    write(tmp_path, "etc/wibond.conf", "[tbond1]\n[[twlan5]]\n")
    proc = wibond(tmp_path, "status")
    assert proc.stdout.splitlines()[0] == "tbond1: not created (no slave unit running)"


def test_bond_changes() -> None:
    old = {"exists": True, "active": "a", "mac": "m1", "carrier": True,
           "slaves": {"a": ("up", "up"), "b": ("up", "up")}}
    new = {"exists": True, "active": "c", "mac": "m2", "carrier": True,
           "slaves": {"a": ("down", "up"), "c": ("up", "up")}}
    assert bond_changes("b0", old, new) == [
        "b0: c joined", "b0: b left", "b0: a link down",
        "b0: active slave a -> c", "b0: MAC m1 -> m2"]
    assert bond_changes("b0", old, old) == []


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
