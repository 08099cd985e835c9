"""`wibond status`'s report: radios (iw), leases (the clients' files), the last failover (the
bonding driver's kernel lines), and the text and JSON renderings of one report."""

from __future__ import annotations

import calendar
import ipaddress
import json
import os
import time

import pytest
from test_status import fake_root, write

from wibond.cli import failovers, radio
from wibond.cli.report import Sources, report
from wibond.cli.status import _ago, render
from wibond.config import reader
from wibond.dhcp import leases

IW_LINK = """Connected to 02:00:00:00:01:00 (on wlan0)
\tSSID: wibond-lab
\tfreq: 2412.0
\tRX: 98231 bytes (1022 packets)
\tTX: 4471 bytes (41 packets)
\tsignal: -30 dBm
\trx bitrate: 1.0 MBit/s
\ttx bitrate: 54.0 MBit/s
\tbss flags: short-slot-time
\tdtim period: 2
\tbeacon int: 100
"""


def test_iw_link_parsed() -> None:
    info = radio.parse_link(IW_LINK)
    assert info == {"connected": True, "ap": "02:00:00:00:01:00", "ssid": "wibond-lab",
                    "freq_mhz": 2412, "signal_dbm": -30, "rx_bitrate_mbps": 1.0,
                    "tx_bitrate_mbps": 54.0}
    assert radio.describe(info) == ('SSID "wibond-lab" via 02:00:00:00:01:00, 2412 MHz, -30 dBm, '
                                    "tx 54 Mbit/s, rx 1 Mbit/s")
    assert radio.parse_link("Not connected.\n") == {"connected": False}
    assert radio.describe({"connected": False}) == "not associated"


def test_iw_ssid_cannot_reach_the_terminal_raw() -> None:
    info = radio.parse_link("Connected to 02:00:00:00:01:00 (on wlan0)\n\tSSID: a\x1b[2Jb\n")
    assert info["ssid"] == "a\\x1b[2Jb"


# The driver's lines, in order, from a lab run (sid, dhcp-failover): the bond comes up on the
# radio, the wire (primary) takes over, the wire is cut, the wire comes back.
KERNEL = [
    (100.0, "bond0: (slave eth0): Enslaving as a backup interface with a down link"),
    (100.1, "bond0: (slave wlan0): Enslaving as a backup interface with a down link"),
    (105.0, "bond0: (slave wlan0): link status definitely up, 0 Mbps full duplex"),
    (105.0, "bond0: (slave wlan0): making interface the new active one"),
    (105.1, "bond0: active interface up!"),
    (113.0, "bond0: (slave eth0): link status up, enabling it in 300 ms"),
    (113.3, "bond0: (slave eth0): link status definitely up, 10000 Mbps full duplex"),
    (113.3, "bond0: (slave eth0): making interface the new active one"),
    (172.0, "bond0: (slave eth0): link status definitely down, disabling slave"),
    (172.0, "bond0: (slave wlan0): making interface the new active one"),
    (172.5, "bond1: (slave wlan1): link status definitely down, disabling slave"),
]


def test_failovers_from_the_kernel_lines() -> None:
    got = failovers.events("bond0", KERNEL)
    assert [(e["from"], e["to"]) for e in got] == [(None, "wlan0"), ("wlan0", "eth0"),
                                                   ("eth0", "wlan0")]
    assert got[0]["why"] == "wlan0 link came up"
    assert got[1]["why"] == "eth0 link came up; preferred to wlan0"
    assert got[2]["why"] == "eth0 link went down"
    last = failovers.last("bond0", KERNEL, arp=True)
    assert last == {"at": 172.0, "from": "eth0", "to": "wlan0",
                    "why": "eth0 link went down (no ARP answer)"}


def test_failover_to_nothing_and_a_released_active_slave() -> None:
    lines = [
        (1.0, "bond0: (slave eth0): Enslaving as an active interface with an up link"),
        (2.0, "bond0: (slave wlan0): Enslaving as a backup interface with a down link"),
        (9.0, "bond0: (slave eth0): link status definitely down, disabling slave"),
        (9.0, "bond0: now running without any active interface!"),
        (12.0, "bond0: (slave wlan0): link status definitely up, 0 Mbps full duplex"),
        (12.0, "bond0: (slave wlan0): making interface the new active one"),
        (20.0, "bond0: (slave wlan0): Releasing active interface"),
        (20.0, "bond0: now running without any active interface!"),
    ]
    got = failovers.events("bond0", lines)
    assert [(e["from"], e["to"], e["why"]) for e in got] == [
        (None, "eth0", "eth0 joined the bond"),
        ("eth0", None, "eth0 link went down; no other slave was up"),
        (None, "wlan0", "wlan0 link came up"),
        ("wlan0", None, "wlan0 left the bond; no other slave was up")]
    # An emptied bond starts again: its next active slave is no failover.
    lines += [(30.0, "bond0: (slave eth0): Releasing backup interface"),
              (40.0, "bond0: (slave eth0): Enslaving as a backup interface with an up link"),
              (40.0, "bond0: (slave eth0): making interface the new active one")]
    assert failovers.last("bond0", lines)["at"] == 20.0


def bootp(yiaddr: str, lease_time: int, server: str) -> bytes:
    head = bytearray(240)
    head[0] = 2
    head[16:20] = ipaddress.IPv4Address(yiaddr).packed
    head[236:240] = b"\x63\x82\x53\x63"
    opts = bytes([53, 1, 5]) + bytes([0]) + bytes([51, 4]) + lease_time.to_bytes(4, "big") \
        + bytes([54, 4]) + ipaddress.IPv4Address(server).packed + bytes([255])
    return bytes(head) + opts


def test_dhcpcd_lease_file() -> None:
    lease = leases.parse_bootp(bootp("192.168.77.50", 600, "192.168.77.1"), 1000.0)
    assert lease == leases.Lease("192.168.77.50", 1000.0, 600, "192.168.77.1")
    assert lease.expires() == 1600.0
    assert leases.parse_bootp(b"\0" * 100, 0) is None
    truncated = bootp("10.0.0.2", 60, "10.0.0.1")[:-4]   # ends inside the server option
    assert leases.parse_bootp(truncated, 5.0) == leases.Lease("10.0.0.2", 5.0, 60, "")


DHCLIENT_LEASES = """lease {
  interface "bond0";
  fixed-address 192.168.77.40;
  option dhcp-lease-time 120;
  expire 4 2026/12/03 01:00:00;
}
lease {
  interface "bond0";
  fixed-address 192.168.77.50;
  option subnet-mask 255.255.255.0;
  option dhcp-lease-time 600;
  option dhcp-server-identifier 192.168.77.1;
  renew 6 2026/12/05 02:05:00;
  rebind 6 2026/12/05 02:08:45;
  expire 6 2026/12/05 02:10:00;
}
"""


def test_dhclient_lease_file_newest_block() -> None:
    lease = leases.parse_dhclient(DHCLIENT_LEASES)
    expire = calendar.timegm((2026, 12, 5, 2, 10, 0))
    assert lease == leases.Lease("192.168.77.50", expire - 600, 600, "192.168.77.1")
    epoch = leases.parse_dhclient("lease {\n fixed-address 10.0.0.9;\n option dhcp-lease-time 60;\n"
                                  " expire epoch 1800000000; # date\n}\n")
    assert epoch == leases.Lease("10.0.0.9", 1800000000 - 60, 60, "")
    assert leases.parse_dhclient("lease {\n fixed-address 10.0.0.9;\n}\n") is None
    assert leases.parse_dhclient("") is None


class FakeSources(Sources):
    def __init__(self, now: float) -> None:
        self._now = now

    def radio(self, ifname: str) -> dict:
        return radio.parse_link(IW_LINK.replace("wlan0", ifname))

    def addresses(self, bond: str) -> list[dict]:
        return [
            {"family": "inet", "local": "192.168.77.50", "prefixlen": 24, "scope": "global",
             "dynamic": True, "valid_life_time": 590},
            {"family": "inet", "local": "10.9.0.1", "prefixlen": 24, "scope": "global",
             "valid_life_time": 4294967295},
            {"family": "inet6", "local": "fd77::32", "prefixlen": 128, "scope": "global",
             "dynamic": True, "valid_life_time": 3500},
            {"family": "inet6", "local": "fd77::aa:bb", "prefixlen": 64, "scope": "global",
             "dynamic": True, "valid_life_time": 86000},
            {"family": "inet6", "local": "fe80::1", "prefixlen": 64, "scope": "link"},
        ]

    def kernel_lines(self, bond: str):  # type: ignore[no-untyped-def]
        return [(self._now - 300 + t - 100, m.replace("bond0: ", f"{bond}: ")) for t, m in KERNEL], None

    def units(self, names: list[str]) -> dict:
        return {n: {"Id": n, "ActiveState": "active", "ActiveEnterTimestamp": "x"} for n in names}

    def dhcp(self, bond):  # type: ignore[no-untyped-def]
        from wibond.dhcp import DHCPCD

        return [(DHCPCD, ["ipv4", "ipv6"])]

    def now(self) -> float:
        return self._now


def test_report_text_and_json_say_the_same(tmp_path, monkeypatch) -> None:
    root = fake_root(tmp_path)
    write(root, "etc/wibond.conf", "[tbond0]\naddress = 10.9.0.1/24\ndhcp = ipv4, ipv6\n"
                                   "[[twlan0]]\ntype = wireless\n[[twlx*]]\n")
    now = time.time()
    lease_file = root / "var/lib/dhcpcd/tbond0.lease"
    lease_file.parent.mkdir(parents=True)
    lease_file.write_bytes(bootp("192.168.77.50", 600, "192.168.77.1"))
    os.utime(lease_file, (now - 10, now - 10))
    monkeypatch.setenv("WIBOND_ROOT", str(root))
    loaded = reader.load(str(root / "etc/wibond.conf"))
    assert not loaded.errors, loaded.errors
    data = report(loaded.bonds, loaded.bonds, [], FakeSources(now))
    b = data["bonds"][0]
    assert b["slaves"][0]["radio"]["ssid"] == "wibond-lab"
    assert [(a["address"], a["source"]) for a in b["addresses"]] == [
        ("192.168.77.50/24", "dhcp"), ("10.9.0.1/24", "static"), ("fd77::32/128", "dhcp"),
        ("fd77::aa:bb/64", "slaac")]
    lease = b["addresses"][0]["lease"]
    assert lease["seconds"] == 600 and lease["ago_s"] == 10 and lease["left_s"] == 590
    assert b["last_failover"]["from"] == "eth0" and b["last_failover"]["to"] == "wlan0"
    assert b["last_failover"]["ago_s"] == pytest.approx(228.0, abs=0.2)
    json.dumps(data)   # the --json form holds nothing JSON cannot
    text = "\n".join(render(data))
    assert 'SSID "wibond-lab" via 02:00:00:00:01:00, 2412 MHz, -30 dBm, tx 54 Mbit/s' in text
    assert ("192.168.77.50/24 DHCP by dhcpcd@tbond0.service: 10 min lease obtained "
            in text) and "(10 s ago), 9 min 50 s left, server 192.168.77.1" in text
    assert "10.9.0.1/24 static (wibond.conf)" in text
    assert "fd77::32/128 DHCP by dhcpcd@tbond0.service, valid 58 min more" in text
    assert "fd77::aa:bb/64 from router advertisements (SLAAC)" in text
    assert "fe80::1" not in text
    assert "(3 min 48 s ago) eth0 -> wlan0: eth0 link went down" in text


def test_durations_for_people() -> None:
    assert [_ago(s) for s in (5, 119, 200, 3599, 7300, 90000, 200000)] == [
        "5 s", "119 s", "3 min 20 s", "59 min", "2 h 1 min", "25 h", "2 d 7 h"]


def test_bond_lines_from_the_journal() -> None:
    journal = "\n".join(json.dumps(e) for e in [
        {"__REALTIME_TIMESTAMP": "1000000",
         "MESSAGE": "bond0: (slave eth0): making interface the new active one"},
        {"__REALTIME_TIMESTAMP": "2000000", "MESSAGE": "bond1: (slave wlan1): Releasing backup interface"},
        {"__REALTIME_TIMESTAMP": "3000000",
         "MESSAGE": list(b"bond0: now running without any active interface!\xff")},
        {"__REALTIME_TIMESTAMP": "4000000", "MESSAGE": "usb 1-1: bond0: not a bonding line"},
    ]) + "\nnot json bond0: \n"
    got = failovers.bond_lines("bond0", journal)
    assert [t for t, _m in got] == [1.0, 3.0]
    assert got[1][1].startswith("bond0: now running without any active interface!")


def test_a_radio_that_keeps_going_down_is_named_with_its_drivers_usual_causes(tmp_path,
                                                                              monkeypatch) -> None:
    root = fake_root(tmp_path)
    write(root, "etc/wibond.conf", "[tbond0]\naddress = 10.9.0.1/24\n[[twlan0]]\ntype = wireless\n")
    monkeypatch.setenv("WIBOND_ROOT", str(root))
    loaded = reader.load(str(root / "etc/wibond.conf"))
    now = time.time()

    class Flapping(FakeSources):
        def kernel_lines(self, bond: str):  # type: ignore[no-untyped-def]
            down = f"{bond}: (slave twlan0): link status definitely down, disabling slave"
            # four in the last hour, two before it
            return [(now - s, down) for s in (7200, 5000, 3000, 1200, 600, 60)], None

        def hardware(self, bond: str, ifname: str) -> dict:
            return {"driver": "mt76x2u", "usb": "0e8d:7612", "firmware": None,
                    "power_save": "off", "quirks": ["power-save-off"]}

    data = report(loaded.bonds, loaded.bonds, [], Flapping(now))
    b = data["bonds"][0]
    slave = next(s for s in b["slaves"] if s["name"] == "twlan0")
    assert slave["downs_last_hour"] == 4
    assert ("twlan0 went down 4 times in the last hour; usual causes for mt76x2u: on a Pi 4's "
            "USB3 ports") in b["problems"][0]
    text = "\n".join(render(data))
    assert "driver mt76x2u (USB 0e8d:7612), power save off; wibond set: power save off" in text
    assert "twlan0 went down 4 times in the last hour" in text
