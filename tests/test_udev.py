"""udev/90-wibond.rules and wibond-match@.service: how a new interface reaches the matcher.

The rule names the matcher template without an instance, so systemd instantiates it with the
device's sysfs path, escaped by systemd itself: no escaping happens in udev, where systemd
233-257 would drop the backslashes of an escaped name ("wl\\x2dusb" -> "wlx2dusb"). The chain
checked here: sysfs path -> instance (%i) -> the device unit the matcher binds to (%i.device)
and the path it is given (%f) -> the interface name -> the slave unit with its own escaping.
The lab scenario `dongles` runs it on a real kernel with a radio named wlx-usb.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from wibond.common.layout import MATCH_UNIT
from wibond.common.names import device_unit, escape_instance, escape_path
from wibond.runtime import helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RULES = os.path.join(REPO, "udev", "90-wibond.rules")
MATCHER = os.path.join(REPO, "units", MATCH_UNIT)

PATHS = [
    "/sys/devices/virtual/net/wlan2",
    "/sys/devices/virtual/net/wlx-usb",
    "/sys/devices/virtual/net/eth0.100",
    "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2/1-1.2:1.0/net/wlx00c0ca123456",
    "/sys/devices/platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/usb1/1-1/"
    "1-1.3/1-1.3:1.0/net/wlx-dongle_2",
]


def rules() -> list[str]:
    with open(RULES) as f:
        text = f.read().replace("\\\n", "")
    return [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def keys(rule: str) -> list[tuple[str, str, str]]:
    return re.findall(r'([A-Z_]+(?:\{[^}]*\})?)\s*([!=+:-]?=)\s*"([^"]*)"', rule)


def test_rule_wants_the_matcher_template_without_an_instance() -> None:
    (rule,) = rules()
    found = keys(rule)
    assert ("ENV{SYSTEMD_WANTS}", "+=", "wibond-match@.service") in found
    # Nothing that builds a unit name from the interface name inside udev.
    assert not re.search(r"\$name|%k|\$kernel|%c|\$result|PROGRAM|IMPORT\{program\}|RUN", rule)
    assert ("SUBSYSTEM", "==", "net") in found and ("ACTION", "!=", "remove") in found


def test_rule_acts_only_while_the_generator_linked_the_matcher() -> None:
    (rule,) = rules()
    assert ("TEST", "==", f"/run/systemd/generator/{MATCH_UNIT}") in keys(rule)


def test_matcher_binds_to_its_device_and_gets_the_path() -> None:
    with open(MATCHER) as f:
        unit = f.read()
    assert "\nBindsTo=%i.device\n" in unit and "\nAfter=%i.device\n" in unit
    assert re.search(r"\nExecStart=\S+/wibond-helper match %f\n", unit)


@pytest.mark.parametrize("sysfs", PATHS)
def test_sysfs_path_to_matcher_to_slave_unit(sysfs: str) -> None:
    name = sysfs.rsplit("/", 1)[1]
    instance = escape_path(sysfs)  # what systemd fills in for the template's empty instance
    assert helper.device_ifname(unescape_path(instance)) == name
    # The slave unit the matcher starts is bound to the same device under its
    # /sys/subsystem/net/devices alias, which escapes the name the same way.
    assert device_unit(name) == f"sys-subsystem-net-devices-{escape_instance(name)}.device"


@pytest.mark.parametrize("sysfs", PATHS)
def test_systemd_escape_agrees(sysfs: str) -> None:
    if not shutil.which("systemd-escape"):
        pytest.skip("systemd-escape not installed")

    def run(*args: str) -> str:
        return subprocess.run(["systemd-escape", *args], capture_output=True, text=True,
                              check=True).stdout.strip()

    unit = run("--path", f"--template={MATCH_UNIT}", sysfs)
    assert unit == f"wibond-match@{escape_path(sysfs)}.service"
    instance = unit[len("wibond-match@"):-len(".service")]
    assert run("--unescape", "--path", instance) == sysfs  # %f
    assert unescape_path(instance) == sysfs


def unescape_path(instance: str) -> str:
    """What %f makes of a path instance (systemd's unit_name_path_unescape)."""
    out = instance.replace("-", "/")
    out = re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), out)
    return "/" + out


def test_helper_refuses_a_path_that_is_no_interface() -> None:
    assert helper.device_ifname("/sys/devices/virtual/net/wlan0") == "wlan0"
    assert helper.device_ifname("/sys/devices/virtual/block/loop0") == ""
    assert helper.device_ifname("/etc/net/wlan0") == ""
