"""wibond.conf checks: defaults, lists, and every refusal with its message."""

from __future__ import annotations

import textwrap

import pytest

from wibond.config import reader


def load(text: str) -> reader.Loaded:
    return reader.load("/etc/wibond.conf", textwrap.dedent(text))


def errors(text: str) -> list[str]:
    return [str(d) for d in load(text).errors]


def only_error(text: str) -> str:
    found = errors(text)
    assert len(found) == 1, found
    return found[0]


def test_archwiki_contract_example_parses() -> None:
    loaded = load("""
        [bond0]
            mode = active-backup        # the only mode accepted when a slave is wireless
            primary = enp0s10           # default: the first wired slave
            primary_reselect = always   # always | better | failure
            fail_over_mac = active
            miimon = 100                # ms
            updelay = 0
            downdelay = 0
            arp_interval = 0
            arp_ip_target =             # IPv4 addresses, up to 16
            num_grat_arp = 1
            mac =
            address = 192.168.43.150/24 # one or more
            gateway = 192.168.43.1
            gateway6 =
            metric = 100
            dns = 192.168.43.1
            dhcp = ipv4
            hostname =
            duid = auto
            [[enp0s10]]
                type = wired
            [[wlp3s0]]
                wpa_conf = /etc/wpa_supplicant/wpa_supplicant.conf
                driver = nl80211
                bitrates = legacy-2.4 6 9 12 18 24 36 48 54   # reset on stop
    """)
    assert loaded.errors == []
    bond = loaded.bonds[0]
    assert bond.address == ["192.168.43.150/24"] and bond.dns == ["192.168.43.1"]
    assert bond.arp_ip_target == [] and bond.mac is None and bond.hostname is None
    assert bond.dhcp == ["ipv4"] and bond.duid == "auto"
    assert bond.slave("wlp3s0").bitrates == "legacy-2.4 6 9 12 18 24 36 48 54"


def test_defaults() -> None:
    bond = load("""
        [bond0]
            [[wlan0]]
            [[eth0]]
            [[eth1]]
    """).bonds[0]
    assert [s.type for s in bond.slaves] == ["wireless", "wired", "wired"]
    assert bond.primary == "eth0"  # the first wired slave
    assert bond.mode == "active-backup" and bond.fail_over_mac == "active"
    assert bond.miimon == 100 and bond.dhcp == ["ipv4"]
    assert bond.ipv6_addr_gen == "stable-privacy"


def test_primary_defaults_to_first_slave_without_wired() -> None:
    assert load("[b]\n[[wlan1]]\n[[wlan0]]\n").bonds[0].primary == "wlan1"


def test_static_address_means_no_dhcp_by_default() -> None:
    assert load("[b]\naddress = 10.0.0.2/24\n[[wlan0]]\n").bonds[0].dhcp == []


@pytest.mark.parametrize("key,value,expected", [
    ("address", "10.0.0.2/24", ["10.0.0.2/24"]),
    ("address", "10.0.0.2/24, 2001:db8::2/64", ["10.0.0.2/24", "2001:db8::2/64"]),
    ("dns", "10.0.0.1", ["10.0.0.1"]),
    ("dhcp", "ipv6", ["ipv6"]),
    ("dhcp", "ipv6, ipv4", ["ipv4", "ipv6"]),
    ("dhcp", "none", []),
])
def test_single_value_lists_need_no_trailing_comma(key: str, value: str, expected: list) -> None:
    bond = load(f"[b]\n{key} = {value}\n[[wlan0]]\n").bonds[0]
    assert getattr(bond, key) == expected


def test_arp_target_single_value() -> None:
    bond = load("[b]\narp_interval = 200\narp_ip_target = 10.0.0.1\n[[eth0]]\n").bonds[0]
    assert bond.arp_ip_target == ["10.0.0.1"]
    assert bond.miimon == 0  # unset miimon yields to ARP monitoring


@pytest.mark.parametrize("mode", ["none", "follow"])
def test_wireless_needs_active_fail_over_mac(mode: str) -> None:
    msg = only_error(f"[bond0]\nfail_over_mac = {mode}\n[[eth0]]\n[[wlan0]]\n")
    assert msg.startswith("/etc/wibond.conf:2: error: [bond0] fail_over_mac:")
    assert "wlan0" in msg and "use fail_over_mac = active" in msg


def test_fail_over_mac_none_is_fine_with_one_mac() -> None:
    assert errors("[bond0]\nfail_over_mac = none\nmac = 02:00:00:00:00:01\n[[wlan0]]\n") == []


def test_fail_over_mac_none_is_fine_wired_only() -> None:
    assert errors("[bond0]\nfail_over_mac = none\n[[eth0]]\n[[eth1]]\n") == []


def test_mode_with_wireless_slave() -> None:
    msg = only_error("[bond0]\nmode = 802.3ad\n[[wlan0]]\n")
    assert "[bond0] mode: 802.3ad cannot work with a wireless slave (wlan0)" in msg
    assert "use active-backup" in msg


def test_other_modes_fine_when_wired() -> None:
    assert errors("[bond0]\nmode = 802.3ad\n[[eth0]]\n[[eth1]]\n") == []


def test_miimon_and_arp_interval_both_set() -> None:
    msg = only_error("[bond0]\nmiimon = 100\narp_interval = 200\narp_ip_target = 10.0.0.1\n[[eth0]]\n")
    assert "/etc/wibond.conf:3: error: [bond0] arp_interval: miimon (100) and arp_interval (200)" in msg


def test_arp_interval_needs_target() -> None:
    assert "needs a target" in only_error("[bond0]\narp_interval = 200\n[[eth0]]\n")


def test_primary_not_a_slave() -> None:
    msg = only_error("[bond0]\nprimary = eth9\n[[eth0]]\n[[wlan0]]\n")
    assert msg == ("/etc/wibond.conf:2: error: [bond0] primary: eth9 is not a slave of bond0 "
                   "(slaves: eth0, wlan0)")


def test_updelay_multiple_of_miimon() -> None:
    assert "150 is not a multiple of miimon (100)" in only_error(
        "[b]\nupdelay = 150\n[[eth0]]\n")


@pytest.mark.parametrize("name,why", [
    ("wlan0123456789ab", "16 bytes long; the limit is 15"),
    ("wl/an0", "contains '/'"),
    ("wl an0", "contains a space"),
    ("wl;an0", "contains ';'"),
    ("wl%an0", "contains '%'"),
])
def test_hostile_slave_names(name: str, why: str) -> None:
    loaded = load(f"[bond0]\n[[{name}]]\n")
    assert loaded.bonds == []
    assert any(why in str(d) and "[bond0]" in str(d) for d in loaded.errors), loaded.errors


def test_newline_in_a_name() -> None:
    loaded = load('[bond0]\n[[wlan0]]\n[[wlan1]]\nafter = """wl\nan0"""\n')
    assert loaded.bonds == []
    assert "contains a newline" in str(loaded.errors[0])


def test_hostile_bond_name() -> None:
    msg = only_error("[bond 0]\n[[wlan0]]\n")
    assert "[bond 0] bond name:" in msg and "contains a space" in msg


def test_bad_values_name_line_section_key() -> None:
    msg = only_error("[bond0]\n\n[[wlan0]]\n    driver = nl80211\n    wpa_conf = relative.conf\n")
    assert msg == ("/etc/wibond.conf:5: error: [bond0] [[wlan0]] wpa_conf: "
                   "'relative.conf' must be an absolute path")


@pytest.mark.parametrize("line,fragment", [
    ("miimon = fast", "'fast' is not a whole number"),
    ("miimon = -5", "'-5' too small"),
    ("primary_reselect = sometimes", "'sometimes' is not one of always, better, failure"),
    ("mac = 01:00:5e:00:00:01", "multicast"),
    ("address = 10.0.0.2", "needs a prefix length"),
    ("gateway = 2001:db8::1", "is not an IPv4 address"),
    ("dhcp = ipv5", "'ipv5' is not one of ipv4, ipv6, both, none"),
    ("duid = xyz", "is not auto or a hex DUID"),
    ("arp_ip_target = " + ", ".join(f"10.0.0.{i}" for i in range(17)), "too many values"),
    ("hostname = -bad-", "not a valid host name"),
    ("primay = eth0", "primay: unknown key"),
])
def test_bad_values(line: str, fragment: str) -> None:
    msg = only_error(f"[bond0]\n{line}\n[[eth0]]\n")
    assert msg.startswith("/etc/wibond.conf:2: error: [bond0]") and fragment in msg, msg


def test_key_outside_a_section() -> None:
    loaded = load("miimon = 100\n[bond0]\n[[eth0]]\n")
    assert [b.name for b in loaded.bonds] == ["bond0"]
    assert "a key outside any [bond] section" in str(loaded.errors[0])


def test_parse_error_skips_only_its_bond() -> None:
    loaded = load("[bond0]\n[[eth0]]\n[bond1]\nthis line is broken\n[[eth1]]\n")
    assert [b.name for b in loaded.bonds] == ["bond0"]
    msg = str(loaded.errors[0])
    assert msg.startswith("/etc/wibond.conf:4: error: [bond1] cannot parse 'this line is broken'")


def test_duplicate_section() -> None:
    loaded = load("[bond0]\n[[eth0]]\n[bond0]\n[[eth1]]\n")
    assert "duplicate section" in str(loaded.errors[0]).lower()


def test_a_device_joins_one_bond_only() -> None:
    loaded = load("[bond0]\n[[wlan0]]\n[bond1]\n[[wlan0]]\n")
    assert [b.name for b in loaded.bonds] == ["bond0"]
    assert "wlan0 is already a slave of bond0" in str(loaded.errors[0])


def test_after_must_name_a_wireless_slave() -> None:
    assert "eth0 is not a wireless slave of b" in only_error(
        "[b]\n[[eth0]]\n[[wlan0]]\nafter = eth0\n")


def test_after_cycle() -> None:
    found = errors("[b]\n[[wlan0]]\nafter = wlan1\n[[wlan1]]\nafter = wlan0\n")
    assert any("a cycle: wlan0 -> wlan1 -> wlan0" in e for e in found), found


def test_no_slaves() -> None:
    assert "has no slaves" in only_error("[bond0]\nmiimon = 100\n")


def test_missing_and_unreadable_file(tmp_path) -> None:
    assert str(reader.load(str(tmp_path / "nope")).errors[0]).endswith("no such file")
    bad = tmp_path / "bin.conf"
    bad.write_bytes(b"[bond0]\n[[wlan\xff]]\n")
    assert "is not UTF-8 text" in str(reader.load(str(bad)).errors[0])


def test_warnings_do_not_skip() -> None:
    loaded = load("[b]\nmiimon = 0\n[[eth0]]\nbitrates = legacy-2.4 6\n")
    assert loaded.errors == [] and len(loaded.bonds) == 1
    texts = [str(d) for d in loaded.diagnostics]
    assert any("never fails over" in t for t in texts)
    assert any("applies to wireless slaves only" in t for t in texts)


def test_bonds_with_dhcpv6_share_one_duid() -> None:
    text = ("[a]\ndhcp = ipv6\n[[eth0]]\n[b]\ndhcp = ipv4, ipv6\nduid = 00:04:01:02:03\n[[eth1]]\n"
            "[c]\nduid = 00:04:09:09:09\n[[eth2]]\n")
    found = only_error(text)
    assert found.startswith("/etc/wibond.conf:6: error: [b] duid: 00:04:01:02:03 differs from [a]'s auto")


@pytest.mark.parametrize("keys, slaves, want", [
    ("", "[[eth0]]\n[[eth1]]", 0),                         # wired only
    ("", "[[eth0]]\n[[wlan0]]", 300),                      # a radio: wait for its handshake
    ("miimon = 200", "[[wlan0]]", 400),                    # least multiple of miimon >= 300
    ("miimon = 150", "[[wlan0]]", 300),
    ("updelay = 0", "[[wlan0]]", 0),                       # said explicitly: kept
    ("arp_interval = 100\narp_ip_target = 10.0.0.1", "[[wlan0]]", 0),   # no MII monitor
])
def test_updelay_default_waits_for_a_radio_handshake(keys: str, slaves: str, want: int) -> None:
    loaded = load(f"[bond0]\n{keys}\n{slaves}\n")
    assert not loaded.errors, [str(e) for e in loaded.errors]
    assert loaded.bond("bond0").updelay == want


# -- ARP monitoring (issue 13) ---------------------------------------------------------

STATIC = "address = 192.168.1.5/24\ngateway = 192.168.1.1\n"


def test_arp_defaults_validate_all_with_arp_and_none_without() -> None:
    arp = load(f"[b]\n{STATIC}arp_interval = 200\narp_ip_target = gateway\n[[wlan0]]\n").bond("b")
    assert (arp.arp_validate, arp.arp_all_targets, arp.arp_missed_max, arp.miimon) == \
        ("all", "any", 2, 0)
    assert arp.arp_targets() == ["192.168.1.1"] and not arp.arp_follows_lease
    mii = load("[b]\n[[wlan0]]\n").bond("b")
    assert mii.arp_validate == "none" and mii.arp_targets() == []


def test_arp_gateway_from_dhcp_keeps_miimon_until_the_lease() -> None:
    loaded = load("[b]\narp_interval = 200\narp_ip_target = gateway, 10.1.1.9\n[[wlan0]]\n")
    assert not loaded.diagnostics, [str(d) for d in loaded.diagnostics]
    bond = loaded.bond("b")
    assert bond.arp_follows_lease and bond.miimon == 100 and bond.updelay == 300
    assert bond.arp_targets() == ["10.1.1.9"]
    assert bond.arp_targets("10.1.1.1") == ["10.1.1.1", "10.1.1.9"]


@pytest.mark.parametrize("keys, expect", [
    # the lease names the gateway; before it nothing would watch the links
    ("arp_interval = 200\narp_ip_target = gateway\nmiimon = 0",
     "[b] miimon: arp_ip_target = gateway waits for the DHCP lease"),
    # no gateway anywhere
    ("address = 192.168.1.5/24\narp_interval = 200\narp_ip_target = gateway",
     "[b] arp_ip_target: gateway: the bond has no IPv4 gateway"),
    # a target off the bond's subnet never answers ARP on the link
    (f"{STATIC}arp_interval = 200\narp_ip_target = 192.168.2.1",
     "[b] arp_ip_target: 192.168.2.1 is not on the bond's subnet (192.168.1.0/24)"),
    # no IPv4 source address at all
    ("address = fd00::5/64\narp_interval = 200\narp_ip_target = 10.0.0.1",
     "[b] arp_interval: ARP monitoring asks from the bond's IPv4 address and the bond has none"),
    ("dhcp = ipv6\narp_interval = 200\narp_ip_target = 10.0.0.1",
     "[b] arp_interval: ARP monitoring asks from the bond's IPv4 address"),
    ("arp_interval = 200\narp_ip_target = 10.0.0.1\narp_validate = sometimes", "arp_validate"),
    ("arp_interval = 200\narp_ip_target = 10.0.0.1\narp_missed_max = 0", "arp_missed_max"),
    ("arp_interval = 200\narp_ip_target = 10.0.0.1\narp_all_targets = most", "arp_all_targets"),
])
def test_arp_combinations_that_cannot_work(keys: str, expect: str) -> None:
    assert expect in only_error(f"[b]\n{keys}\n[[wlan0]]\n")


def test_arp_targets_listed_twice_count_once() -> None:
    bond = load("[b]\narp_interval = 200\narp_ip_target = 10.0.0.1, gateway, 10.0.0.1, gateway\n"
                "[[eth0]]\n").bond("b")
    assert bond.arp_ip_target == ["10.0.0.1", "gateway"]


def test_arp_settings_without_arp_monitoring_are_ignored_with_a_warning() -> None:
    loaded = load("[b]\narp_validate = active\narp_missed_max = 5\n[[eth0]]\n")
    assert not loaded.errors
    texts = [str(d) for d in loaded.diagnostics]
    assert any("[b] arp_validate: ignored while arp_interval is 0" in t for t in texts), texts
    assert any("[b] arp_missed_max: ignored while arp_interval is 0" in t for t in texts), texts
