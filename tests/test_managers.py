"""Beside the network manager the image already runs: the files each manager gets, the step
that writes them, and what is found on the system."""

from __future__ import annotations

import os

import pytest
from test_helper import World, _root  # noqa: F401  (_root: every host path under tmp_path)

from wibond import managers
from wibond.common import formats
from wibond.config import reader

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = ("# Written by wibond from /etc/wibond.conf: these interfaces are wibond's; "
          "edit that file, not this one.")
PATTERNS = os.path.join(REPO, "tests", "golden", "hotplug-patterns", "root", "etc", "wibond.conf")
ARCHWIKI = open(os.path.join(REPO, "examples", "archwiki.conf")).read()


def bonds(path: str) -> list:
    return reader.load(path).bonds


def test_names_patterns_and_usb_ids_each_in_the_form_its_manager_reads() -> None:
    files = managers.files(bonds(PATTERNS))
    assert files == {
        "/run/systemd/network/10-wibond.network": "\n".join([
            HEADER, "", "[Match]", "Name=bond0 wlan0 wlx* lan eth0 enx*", "", "[Link]",
            "Unmanaged=yes", ""]),
        "/run/systemd/network/10-wibond-devices1-1.network": "\n".join([
            HEADER, "", "[Match]", "Property=ID_VENDOR_ID=2357 ID_MODEL_ID=010c", "",
            "[Link]", "Unmanaged=yes", ""]),
        "/run/NetworkManager/conf.d/90-wibond.conf": "\n".join([
            HEADER, "", "[device-wibond]",
            "match-device=interface-name:bond0;interface-name:wlan0;interface-name:wlx*;"
            "interface-name:lan;interface-name:eth0;interface-name:enx*", "managed=0", ""]),
        "/run/udev/rules.d/90-wibond-managers.rules": "\n".join([
            HEADER, "# [bond0] [[tplink]]",
            'SUBSYSTEM=="net", ACTION!="remove", ENV{ID_VENDOR_ID}=="2357", '
            'ENV{ID_MODEL_ID}=="010c", ENV{NM_UNMANAGED}="1", ENV{ID_NET_MANAGED_BY}="io.wibond"',
            ""]),
    }


def test_mac_and_driver_sections(tmp_path) -> None:
    conf = tmp_path / "w.conf"
    conf.write_text("[bond0]\n[[eth0]]\n[[usbwifi]]\ntype = wireless\n"
                    "match_mac = 02:00:00:00:00:01, 02:00:00:00:00:02\n"
                    "[[rtl]]\ntype = wireless\nmatch_driver = rtl88*\n")
    files = managers.files(bonds(str(conf)))
    assert "PermanentMACAddress=02:00:00:00:00:01 02:00:00:00:00:02" in \
        files["/run/systemd/network/10-wibond-devices1-1.network"]
    assert "Driver=rtl88*" in files["/run/systemd/network/10-wibond-devices2-1.network"]
    assert "match-device=interface-name:bond0;interface-name:eth0;mac:02:00:00:00:00:01;" \
           "mac:02:00:00:00:00:02;driver:rtl88*\n" in files["/run/NetworkManager/conf.d/90-wibond.conf"]
    rules = files["/run/udev/rules.d/90-wibond-managers.rules"]
    assert 'ATTR{address}=="02:00:00:00:00:01|02:00:00:00:00:02"' in rules
    assert 'ENV{ID_NET_DRIVER}=="rtl88*"' in rules


def test_no_bond_no_file() -> None:
    assert managers.files([]) == {}


def test_each_format_refuses_what_it_cannot_hold() -> None:
    for bad in ("a b", "a\nb", 'a"', ""):
        with pytest.raises(formats.FormatError):
            formats.network_word(bad)
    for bad in ("a;b", "a,b", "a b", ""):
        with pytest.raises(formats.FormatError):
            formats.nm_spec(bad)
    for bad in ('a"b', "a|b", "a\\b", ""):
        with pytest.raises(formats.FormatError):
            formats.udev_value(bad)


def test_the_step_writes_them_once_and_takes_back_what_the_config_dropped(tmp_path) -> None:
    w = World(tmp_path, ARCHWIKI, programs=("modprobe", "systemctl", "networkctl", "nmcli"))
    (tmp_path / "run" / "keep").mkdir(parents=True)
    ops = w.ok("managers")
    # it touches its own files only (a manager told on its command line has no directory)
    assert (tmp_path / "etc" / "wibond.conf").exists() and (tmp_path / "run" / "keep").exists()
    assert "save /run/systemd/network/10-wibond.network" in ops
    assert "save /run/NetworkManager/conf.d/90-wibond.conf" in ops
    text = (tmp_path / "run/systemd/network/10-wibond.network").read_text()
    assert "Name=bond0 enp0s10 wlp3s0" in text
    # nothing found running (the fake systemctl answers every is-active): both told again
    assert "networkctl reload" in ops and "nmcli general reload conf" in ops
    assert w.ok("managers") == []  # again: nothing to write, nobody bothered
    # a file a former config left is removed; the rest stays as it is
    (tmp_path / "run/systemd/network/10-wibond-devices1-1.network").write_text("old")
    ops = w.ok("managers")
    assert ops == ["remove /run/systemd/network/10-wibond-devices1-1.network",
                   "systemctl is-active --quiet systemd-networkd.service", "networkctl reload"]
    # the config no longer names the radio: the managers get it back
    (tmp_path / "etc" / "wibond.conf").write_text(ARCHWIKI.replace("[[wlp3s0]]", "[[wlp9s0]]"))
    ops = w.ok("managers")
    assert "Name=bond0 enp0s10 wlp9s0" in (tmp_path / "run/systemd/network/10-wibond.network").read_text()


def test_a_manager_not_running_is_not_asked_to_reload(tmp_path) -> None:
    w = World(tmp_path, ARCHWIKI, programs=("modprobe", "systemctl"))  # no networkctl, nmcli
    ops = w.ok("managers")
    assert not any(op.startswith(("networkctl", "nmcli")) for op in ops)


def _enable(root, unit: str, target: str = "multi-user.target") -> None:
    wants = root / "etc" / "systemd" / "system" / f"{target}.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / unit).symlink_to(f"/usr/lib/systemd/system/{unit}")


def test_managers_and_conflicting_units_are_found(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WIBOND_ROOT", str(tmp_path))
    assert managers.found() == []
    _enable(tmp_path, "systemd-networkd.service")
    _enable(tmp_path, "wpa_supplicant@wlp3s0.service")
    found = managers.found()
    assert [(m.name, how) for m, how in found] == [("systemd-networkd", "systemd-networkd.service enabled")]
    conf = tmp_path / "w.conf"
    conf.write_text(ARCHWIKI)
    assert managers.conflicts(bonds(str(conf))) == [
        ("bond0", "wpa_supplicant@wlp3s0.service", "wlp3s0 is wibond's radio")]
    assert managers.enabled("systemd-networkd.service") == \
        "/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
    masked = tmp_path / "etc" / "systemd" / "system" / "systemd-networkd.service"
    masked.symlink_to("/dev/null")
    assert managers.found() == []


def test_check_and_status_say_which_managers_and_what_they_were_told(tmp_path, monkeypatch, capsys) -> None:
    from wibond.cli.main import main

    monkeypatch.setenv("WIBOND_ROOT", str(tmp_path))
    _enable(tmp_path, "NetworkManager.service")
    _enable(tmp_path, "wpa_supplicant@wlp3s0.service")
    (tmp_path / "usr" / "sbin").mkdir(parents=True)
    (tmp_path / "usr" / "sbin" / "dhcpcd").write_text("")
    (tmp_path / "usr" / "sbin" / "dhcpcd").chmod(0o755)
    conf = tmp_path / "etc" / "wibond.conf"
    conf.write_text(ARCHWIKI)
    wpa = tmp_path / "etc" / "wpa_supplicant" / "wpa_supplicant.conf"
    wpa.parent.mkdir(parents=True)
    wpa.write_text('network={\n ssid="x"\n psk="0123456789"\n}\n')
    wpa.chmod(0o600)
    assert main(["check", str(conf)]) == 0
    err = capsys.readouterr().err
    assert "note: NetworkManager (NetworkManager.service enabled) keeps off wibond's interfaces: " \
           "it reads wibond's files in /run/NetworkManager/conf.d" in err, err
    assert "[bond0] wpa_supplicant@wlp3s0.service is enabled and wlp3s0 is wibond's radio: " \
           "wibond's supplicant unit conflicts with it" in err, err
    main(["status"])
    out = capsys.readouterr().out
    assert "other network managers (told to keep off bond0, enp0s10, wlp3s0):" in out, out
    assert "NetworkManager (NetworkManager.service enabled): /run/NetworkManager/conf.d/90-wibond.conf; " \
           "MISSING /run/NetworkManager/conf.d/90-wibond.conf" in out, out
