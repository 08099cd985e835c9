from __future__ import annotations

import shutil
import subprocess

import pytest

from wibond.common.names import device_unit, escape_instance, escape_path, ifname_problem

SAMPLES = ["wlan0", "wlan-usb", "en-dock.1", ".hidden", "a_b", "x:y", "wlx00c0ca123456"]


@pytest.mark.parametrize("text", SAMPLES)
def test_escape_matches_systemd_escape(text: str) -> None:
    if not shutil.which("systemd-escape"):
        pytest.skip("systemd-escape not installed")
    out = subprocess.run(["systemd-escape", "--", text], capture_output=True, text=True).stdout
    assert escape_instance(text) == out.strip()
    out = subprocess.run(["systemd-escape", "--path", "--", f"/sys/subsystem/net/devices/{text}"],
                         capture_output=True, text=True).stdout
    assert escape_path(f"/sys/subsystem/net/devices/{text}") == out.strip()


def test_known_escapes() -> None:
    assert escape_instance("wlan-usb") == "wlan\\x2dusb"
    assert device_unit("wlan-usb") == "sys-subsystem-net-devices-wlan\\x2dusb.device"
    assert escape_instance(".x") == "\\x2ex"


@pytest.mark.parametrize("name", ["wlan0", "enp0s10", "wlx001122334455", "a", "x" * 15])
def test_good_names(name: str) -> None:
    assert ifname_problem(name) is None


@pytest.mark.parametrize("name", ["", ".", "..", "x" * 16, "a/b", "a b", "a\nb", "a;b", "a%b",
                                  "a$b", "a'b", "ä" * 8, ".hidden"])
def test_bad_names(name: str) -> None:
    assert ifname_problem(name)
