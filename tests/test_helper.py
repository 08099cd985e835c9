"""The run-time steps against a fake kernel: order, idempotence, refusals, clean stops."""

from __future__ import annotations

import io
import os
import struct

import pytest
from fakehost import FakeHost

from wibond.boot import snapshot
from wibond.common import identity
from wibond.config.match import Device
from wibond.runtime import helper
from wibond.runtime.hostio import HostError

MACHINE_ID = "0123456789abcdef0123456789abcdef"

ARCHWIKI = """\
[bond0]
    primary = enp0s10
    dhcp = ipv4, ipv6
    hostname = laptop
    [[enp0s10]]
        type = wired
    [[wlp3s0]]
        bitrates = legacy-2.4 6 9 12 18 24 36 48 54
"""

PI = """\
[bond0]
    primary = wlan0
    address = 192.168.43.150/24
    gateway = 192.168.43.1
    metric = 100
    dns = 192.168.43.1
    [[wlan0]]
    [[wlan1]]
        after = wlan0
"""


# A radio's wpa_supplicant file as wpa_passphrase writes it (the key is a test's).
WPA_CONF = ('network={\n\tssid="lab"\n'
            '\tpsk=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n}\n')


class World:
    """A host root with wibond.conf, the fake kernel and the helper's output."""

    def __init__(self, root, conf: str, programs=("modprobe", "systemctl"), lookup=None) -> None:
        self.root = root
        (root / "etc" / "wpa_supplicant").mkdir(parents=True)
        (root / "etc" / "wibond.conf").write_text(conf)
        (root / "etc" / "machine-id").write_text(MACHINE_ID + "\n")
        wpa = root / "etc" / "wpa_supplicant" / "wpa_supplicant.conf"
        wpa.write_text(WPA_CONF)
        wpa.chmod(0o600)
        self.host = FakeHost(str(root), programs)
        self.err = io.StringIO()
        self.lookup = lookup or (lambda name: Device(name))

    def run(self, *args: str) -> int:
        self.err.truncate(0)
        self.err.seek(0)
        return helper.main(list(args), host=self.host, out=helper.Output(self.err),
                           lookup=self.lookup)

    def ok(self, *args: str) -> list[str]:
        """Run a step that must succeed; the changes it made."""
        code = self.run(*args)
        assert code == 0, self.err.getvalue()
        return self.host.mutations()

    @property
    def said(self) -> str:
        return self.err.getvalue()


@pytest.fixture(autouse=True)
def _root(tmp_path, monkeypatch):
    monkeypatch.setenv("WIBOND_ROOT", str(tmp_path))
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    # a step that would end itself must never take pytest with it
    monkeypatch.setattr(helper, "_terminate", lambda: pytest.fail("the helper ended itself"))


def archwiki(tmp_path, **kw) -> World:
    w = World(tmp_path, ARCHWIKI, **kw)
    w.host.add("enp0s10", "ether", "52:54:00:00:00:10")
    w.host.add("wlp3s0", "wlan", "52:54:00:00:00:20")
    return w


def bring_up(w: World, slaves: list[str]) -> None:
    w.ok("create", "bond0")
    w.ok("static", "bond0")
    for s in slaves:
        if w.host.links[s].kind == "wlan":
            w.ok("slave-env", "bond0", s)
            w.ok("wait-unblocked", s)
        w.ok("enslave", "bond0", s)


# -- create -----------------------------------------------------------------------

def test_create_sets_every_option_before_up_and_before_any_slave(tmp_path) -> None:
    w = archwiki(tmp_path)
    ops = w.ok("create", "bond0")
    assert ops[:2] == ["modprobe bonding max_bonds=0", "ip link add bond0 type bond"]
    writes = [op.split()[1].rsplit("/", 1)[1] for op in ops if op.startswith("write /sys")]
    assert writes == ["mode", "fail_over_mac", "miimon", "updelay", "primary"]
    assert ops[-1] == "ip link set bond0 up"
    assert ops.index("write /sys/class/net/bond0/bonding/mode active-backup") < \
        ops.index("write /sys/class/net/bond0/bonding/fail_over_mac active")
    bond = w.host.links["bond0"]
    assert bond.bonding["mode"] == "active-backup 1" and bond.bonding["primary"] == "enp0s10"
    assert bond.stable_secret == identity.stable_secret(w.host, "bond0")


def test_every_step_twice_changes_nothing_the_second_time(tmp_path) -> None:
    w = archwiki(tmp_path)
    steps = [("create", "bond0"), ("static", "bond0"), ("slave-env", "bond0", "wlp3s0"),
             ("wait-unblocked", "wlp3s0"), ("enslave", "bond0", "wlp3s0"),
             ("enslave", "bond0", "enp0s10"), ("dhcp-config", "bond0", "dhclient"),
             ("dhcp-config", "bond0", "dhcp6c"), ("dhcp-config", "bond0", "dhcpcd"),
             ("wait-active", "bond0")]
    for step in steps:
        first = w.ok(*step)
        assert w.ok(*step) == [], (step, first)
    stops = [("dhcp-clean", "bond0", "dhclient", "ipv4"), ("dhcp-clean", "bond0", "dhcp6c", "ipv6"),
             ("dhcp-clean", "bond0", "dhcpcd", "ipv4,ipv6"),
             ("release", "bond0", "wlp3s0"), ("release", "bond0", "enp0s10"),
             ("delete", "bond0")]
    for step in stops:
        w.ok(*step)
        assert w.ok(*step) == [], step


def test_module_made_bond0_is_reconfigured_while_empty(tmp_path) -> None:
    w = archwiki(tmp_path)
    w.host.module = True
    bond = w.host.add("bond0", "bond", "00:00:00:00:00:00")
    bond.up = True  # someone brought it up with the module's defaults
    ops = w.ok("create", "bond0")
    assert "ip link add bond0 type bond" not in ops
    assert ops[0] == "ip link set bond0 down"  # mode changes only while down
    assert w.host.links["bond0"].bonding["mode"] == "active-backup 1"
    assert ops[-1] == "ip link set bond0 up"


def test_bond_with_foreign_slaves_is_refused(tmp_path) -> None:
    w = archwiki(tmp_path)
    w.host.module = True
    w.host.add("bond0", "bond")
    w.host.add("eth7")
    w.host.ip("link", "set", "eth7", "master", "bond0")
    w.host.mutations()
    assert w.run("create", "bond0") == 1
    assert "bond0 already has slaves wibond does not manage: eth7" in w.said
    assert w.host.mutations() == []
    assert w.host.links["eth7"].master == "bond0"


def test_interface_that_is_not_a_bond_is_refused(tmp_path) -> None:
    w = archwiki(tmp_path)
    w.host.module = True
    w.host.add("bond0", "ether")
    assert w.run("create", "bond0") == 1
    assert "bond0 exists and is not a bond" in w.said


def test_leftover_own_slaves_are_released_to_change_the_mode(tmp_path) -> None:
    w = archwiki(tmp_path)
    bring_up(w, ["enp0s10"])
    w.host.links["bond0"].bonding["mode"] = "balance-rr 0"  # as after a crash and a config edit
    ops = w.ok("create", "bond0")
    assert ops.index("ip link set enp0s10 nomaster") < \
        ops.index("write /sys/class/net/bond0/bonding/mode active-backup")
    assert "releasing enp0s10 left from an earlier run" in w.said


def test_arp_monitoring_turns_miimon_off_first(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\narp_interval = 200\narp_ip_target = 10.0.0.1, 10.0.0.2\n"
                        "[[eth0]]\n")
    ops = w.ok("create", "bond0")
    names = [op.split()[1].rsplit("/", 1)[1] + " " + op.split()[2]
             for op in ops if op.startswith("write /sys")]
    assert names.index("arp_ip_target +10.0.0.1") < names.index("arp_interval 200")
    bond = w.host.links["bond0"]
    assert bond.bonding["miimon"] == "0" and bond.arp_targets == ["10.0.0.1", "10.0.0.2"]


def test_mac_goes_on_the_bond_and_every_slave_while_down(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\nmac = 02:11:22:33:44:55\nfail_over_mac = none\n"
                        "[[wlan0]]\n[[wlan1]]\n")
    w.host.add("wlan0", "wlan", "52:54:00:00:00:01").up = True
    w.host.add("wlan1", "wlan", "52:54:00:00:00:02")
    w.ok("create", "bond0")
    assert w.host.links["bond0"].mac == "02:11:22:33:44:55"
    ops = w.ok("enslave", "bond0", "wlan0")
    assert ops == ["ip link set wlan0 down", "ip link set wlan0 address 02:11:22:33:44:55",
                   "ip link set wlan0 master bond0"]
    w.ok("enslave", "bond0", "wlan1")
    assert {w.host.links[n].mac for n in ("bond0", "wlan0", "wlan1")} == {"02:11:22:33:44:55"}
    w.ok("release", "bond0", "wlan0")
    assert w.host.links["wlan0"].mac == "52:54:00:00:00:01"


# -- slaves ---------------------------------------------------------------------------

def test_enslave_is_down_flush_master_up(tmp_path) -> None:
    w = archwiki(tmp_path)
    eth = w.host.links["enp0s10"]
    eth.up = True
    eth.addrs = [{"family": "inet", "local": "10.1.1.1", "prefixlen": 24, "scope": "global"}]
    w.ok("create", "bond0")
    ops = w.ok("enslave", "bond0", "enp0s10")
    assert ops == ["ip link set enp0s10 down", "ip addr flush dev enp0s10",
                   "ip link set enp0s10 master bond0"]
    assert eth.up and eth.master == "bond0" and eth.addrs == []


def test_enslave_brings_a_slave_that_was_taken_down_back_up(tmp_path) -> None:
    w = archwiki(tmp_path)
    bring_up(w, ["enp0s10"])
    w.host.links["enp0s10"].up = False
    assert w.ok("enslave", "bond0", "enp0s10") == ["ip link set enp0s10 up"]


def test_slave_of_another_bond_is_left_there(tmp_path) -> None:
    w = archwiki(tmp_path)
    w.host.module = True
    w.host.add("bond9", "bond")
    w.host.ip("link", "set", "enp0s10", "master", "bond9")
    w.ok("create", "bond0")
    assert w.run("enslave", "bond0", "enp0s10") == 1
    assert "enp0s10 is already a slave of bond9" in w.said
    assert w.host.links["enp0s10"].master == "bond9"


def test_enslave_without_the_bond_says_which_unit_makes_it(tmp_path) -> None:
    w = archwiki(tmp_path)
    assert w.run("enslave", "bond0", "enp0s10") == 1
    assert "bond bond0 does not exist; wibond@bond0.service creates it" in w.said


def test_enslave_of_an_absent_interface(tmp_path) -> None:
    w = archwiki(tmp_path)
    w.ok("create", "bond0")
    del w.host.links["wlp3s0"]
    assert w.run("enslave", "bond0", "wlp3s0") == 1  # by hand: at once, no wait for a stop
    assert "wlp3s0 does not exist" in w.said and "waiting" not in w.said


def test_blocked_radio_is_explained_with_how_to_unblock(tmp_path) -> None:
    w = archwiki(tmp_path)
    w.ok("create", "bond0")
    w.host.links["wlp3s0"].rfkill_soft = True
    assert w.run("enslave", "bond0", "wlp3s0") == 1
    assert "wlp3s0 (phy1) is blocked by rfkill (soft block): unblock it with `rfkill unblock 1`" \
        in w.said
    w.host.links["wlp3s0"].rfkill_soft = False
    w.host.links["wlp3s0"].rfkill_hard = True
    assert w.run("enslave", "bond0", "wlp3s0") == 1
    assert "blocked by a hardware switch" in w.said


def test_wait_unblocked_waits_says_why_once_and_returns_when_unblocked(tmp_path) -> None:
    from wibond.runtime import rfkill

    w = archwiki(tmp_path)
    radio = w.host.links["wlp3s0"]
    radio.rfkill_soft = True
    said: list[str] = []
    naps = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 5:
            radio.rfkill_soft = False

    assert rfkill.wait_unblocked(w.host, "wlp3s0", said.append, sleep=sleep) is True
    assert len(naps) == 5
    assert said == ["wlp3s0 (phy1) is blocked by rfkill (soft block): unblock it with "
                    "`rfkill unblock 1` (or `rfkill unblock wifi`); waiting until it is unblocked",
                    "wlp3s0 is unblocked now"]


def test_wait_unblocked_gives_up_when_the_radio_goes(tmp_path) -> None:
    from wibond.runtime import rfkill

    w = archwiki(tmp_path)
    w.host.links["wlp3s0"].rfkill_soft = True

    def sleep(_s: float) -> None:
        del w.host.links["wlp3s0"]

    assert rfkill.wait_unblocked(w.host, "wlp3s0", lambda m: None, sleep=sleep) is False


def test_release_gives_the_interface_back_down_and_forgets_it(tmp_path) -> None:
    w = archwiki(tmp_path)
    bring_up(w, ["enp0s10", "wlp3s0"])
    ops = w.ok("release", "bond0", "wlp3s0")
    assert ops == ["ip link set wlp3s0 nomaster", "ip link set wlp3s0 down"]
    assert "bond0/slaves/wlp3s0" not in w.host.run_dir_files()
    assert "bond0/slave-wlp3s0.env" not in w.host.run_dir_files()


def test_release_of_an_unplugged_interface_only_forgets_it(tmp_path) -> None:
    w = archwiki(tmp_path)
    bring_up(w, ["enp0s10", "wlp3s0"])
    w.host.links["bond0"].slaves.remove("wlp3s0")
    del w.host.links["wlp3s0"]
    assert w.ok("release", "bond0", "wlp3s0") == []
    assert "bond0/slaves/wlp3s0" not in w.host.run_dir_files()


def test_slave_env_names_config_driver_and_bitrates(tmp_path) -> None:
    w = archwiki(tmp_path)
    w.ok("slave-env", "bond0", "wlp3s0")
    env = (tmp_path / "run" / "wibond" / "bond0" / "slave-wlp3s0.env").read_text()
    assert env == ("WPA_CONF=/etc/wpa_supplicant/wpa_supplicant.conf\nWPA_DRIVER=nl80211\n"
                   "BITRATES=legacy-2.4 6 9 12 18 24 36 48 54\n")


def test_slave_env_prefers_the_radios_own_wpa_conf(tmp_path) -> None:
    w = World(tmp_path, PI)
    (tmp_path / "etc" / "wpa_supplicant" / "wpa_supplicant-wlan1.conf").write_text(WPA_CONF)
    w.ok("slave-env", "bond0", "wlan1")
    w.ok("slave-env", "bond0", "wlan0")
    run = tmp_path / "run" / "wibond"
    assert "WPA_CONF=/etc/wpa_supplicant/wpa_supplicant-wlan1.conf\n" in \
        (run / "bond0" / "slave-wlan1.env").read_text()
    assert "WPA_CONF=/etc/wpa_supplicant/wpa_supplicant.conf\n" in \
        (run / "bond0" / "slave-wlan0.env").read_text()


def test_slave_env_refuses_a_missing_wpa_conf(tmp_path) -> None:
    w = archwiki(tmp_path)
    os.unlink(tmp_path / "etc" / "wpa_supplicant" / "wpa_supplicant.conf")
    assert w.run("slave-env", "bond0", "wlp3s0") == helper.EXIT_CONFIG
    assert "wlp3s0: the wpa_supplicant file /etc/wpa_supplicant/wpa_supplicant.conf does " \
           "not exist, so the radio cannot join" in w.said
    assert "systemctl restart bond0-supplicant@wlp3s0.service" in w.said


def test_slave_env_names_what_the_wpa_conf_lacks_and_never_a_key(tmp_path) -> None:
    w = archwiki(tmp_path)
    wpa = tmp_path / "etc" / "wpa_supplicant" / "wpa_supplicant.conf"
    wpa.write_text('network={\n ssid="lab"\n}\n')
    assert w.run("slave-env", "bond0", "wlp3s0") == helper.EXIT_CONFIG
    assert 'network "lab" has no key (psk, sae_password or password)' in w.said
    wpa.write_text(WPA_CONF)
    wpa.chmod(0o644)
    assert w.run("slave-env", "bond0", "wlp3s0") == 0
    assert "holds a key and every user can read it (mode 0644): chmod 600" in w.said
    assert "0123456789abcdef" not in w.said


def test_interface_in_no_section_is_refused(tmp_path) -> None:
    w = archwiki(tmp_path)
    w.host.add("wlan5", "wlan")
    w.ok("create", "bond0")
    assert w.run("enslave", "bond0", "wlan5") == 1
    assert "wlan5 matches no slave section of [bond0]" in w.said


# -- patterns and primary ---------------------------------------------------------------

def test_a_dongle_matching_the_primary_section_becomes_primary(tmp_path) -> None:
    conf = "[bond0]\n[[wlx*]]\n[[wlan0]]\n"
    w = World(tmp_path, conf)
    w.host.add("wlan0", "wlan")
    w.host.add("wlx001122334455", "wlan")
    w.ok("create", "bond0")
    w.ok("enslave", "bond0", "wlan0")
    assert w.host.links["bond0"].bonding["primary"] == ""
    ops = w.ok("enslave", "bond0", "wlx001122334455")
    assert ops[-1] == "write /sys/class/net/bond0/bonding/primary wlx001122334455"


def test_two_dongles_of_the_primary_section_pull_the_primary_the_other_takes_over(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\n[[wlx*]]\n[[wlan0]]\n")
    for name in ("wlan0", "wlx0a", "wlx0b"):
        w.host.add(name, "wlan")
    w.ok("create", "bond0")
    for name in ("wlan0", "wlx0a", "wlx0b"):
        w.ok("enslave", "bond0", name)
    assert w.host.links["bond0"].bonding["primary"] == "wlx0a"
    ops = w.ok("release", "bond0", "wlx0a")
    assert ops[-1] == "write /sys/class/net/bond0/bonding/primary wlx0b"
    assert "wlx0b ([[wlx*]]) is the primary now" in w.said
    assert w.ok("release", "bond0", "wlan0")[-1] == "ip link set wlan0 down"  # nothing to hand on

def test_device_fitting_two_bonds_joins_neither(tmp_path) -> None:
    conf = "[bond0]\n[[wlx*]]\n[bond1]\n[[usb]]\nmatch_driver = rtl*\n"
    w = World(tmp_path, conf, lookup=lambda n: Device(n, driver="rtl8xxxu"))
    w.host.add("wlx00aa", "wlan")
    w.ok("create", "bond0")
    assert w.run("enslave", "bond0", "wlx00aa") == 1
    assert "joins none" in w.said


def test_start_slaves_starts_the_units_of_present_interfaces(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\n[[eth0]]\n[[wlan0]]\n[[wlx*]]\n[[wlan9]]\n")
    for name, kind in (("eth0", "ether"), ("wlan0", "wlan"), ("wlx0a0b", "wlan"),
                       ("eth5", "ether")):
        w.host.add(name, kind)
    w.ok("create", "bond0")
    assert w.ok("start-slaves", "bond0") == [
        "systemctl start --no-block bond0-wired@eth0.service bond0-supplicant@wlan0.service "
        "bond0-supplicant@wlx0a0b.service"]


def test_match_starts_the_unit_of_the_pattern_section(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\n[[wlan0]]\n[[wlx*]]\n[lan]\n[[usbeth]]\nmatch_usb = 0bda:8153\n"
                        "type = wired\n",
              lookup=lambda n: Device(n, usb="0bda:8153" if n == "enx1" else None))
    assert w.ok("match", "wlx00c0ffee") == ["systemctl start --no-block "
                                            "bond0-supplicant@wlx00c0ffee.service"]
    assert w.ok("match", "enx1") == ["systemctl start --no-block lan-wired@enx1.service"]
    assert w.ok("match", "wlan0") == []  # its device unit starts it
    assert w.ok("match", "eth3") == []
    assert "eth3: no section of /etc/wibond.conf matches it; left alone" in w.said


def test_match_takes_the_sysfs_path_systemd_gives_the_matcher(tmp_path) -> None:
    """wibond-match@.service runs `match %f`: the device's path, whatever its name holds."""
    w = World(tmp_path, "[bond0]\n[[wlan0]]\n[[wlx*]]\n")
    assert w.ok("match", "/sys/devices/virtual/net/wlx-usb") == [
        "systemctl start --no-block bond0-supplicant@wlx\\x2dusb.service"]
    assert w.ok("match", "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/net/"
                         "wlx00c0ca123456") == [
        "systemctl start --no-block bond0-supplicant@wlx00c0ca123456.service"]
    assert w.run("match", "/sys/devices/virtual/block/loop0") == 2
    assert "is not the sysfs path of a network interface" in w.said


def test_match_leaves_an_interface_wibond_cannot_name_alone(tmp_path) -> None:
    """Every new interface is offered; one with a name wibond refuses is no error."""
    w = World(tmp_path, "[bond0]\n[[wlan0]]\n[[wlx*]]\n")
    assert w.ok("match", "/sys/devices/virtual/net/wlx+odd") == []
    assert "left alone" in w.said


# -- DHCP -----------------------------------------------------------------------------

def test_dhcpv4_and_dhcpv6_use_one_duid_from_the_machine_id(tmp_path) -> None:
    w = archwiki(tmp_path)
    w.ok("create", "bond0")
    w.ok("dhcp-config", "bond0", "dhclient")
    ops = w.ok("dhcp-config", "bond0", "dhcp6c")
    assert ops == ["save /var/lib/dhcpv6/dhcp6c_duid"]
    duid = identity.default_duid(bytes.fromhex(MACHINE_ID))
    assert duid[:6] == bytes.fromhex("00020000ab11")  # DUID-EN, systemd's number
    run = tmp_path / "run" / "wibond" / "bond0"
    v4 = (run / "dhclient.conf").read_text()
    client_id = "ff:" + identity.hexcolon(struct.pack(">I", identity.iaid("bond0"))) + ":" + \
        identity.hexcolon(duid)
    assert f"send dhcp-client-identifier {client_id};" in v4
    assert 'send host-name "laptop";' in v4
    assert (run / "dhclient.env").read_text() == "METRIC=100\n"
    raw = (tmp_path / "var" / "lib" / "dhcpv6" / "dhcp6c_duid").read_bytes()
    assert raw == struct.pack("=H", len(duid)) + duid
    v6 = (run / "dhcp6c.conf").read_text()
    assert f"send ia-na {identity.iaid('bond0')};" in v6 and "interface bond0 {" in v6


def test_systemd_duid_matches_systemd_test_vector() -> None:
    # systemd's dhcp-duid.c asserts this DUID for machine ID 01..10 in test mode.
    assert identity.hexcolon(identity.default_duid(bytes(range(1, 17)))) == \
        "00:02:00:00:ab:11:61:77:40:de:13:42:c3:a2"


def test_siphash_reference_vector() -> None:
    assert identity.siphash24(bytes(range(16)), bytes(range(15))) == 0xA129CA6149BE45E5


def test_configured_duid_is_used_as_given(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\nduid = 00:04:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10\n"
                        "[[eth0]]\n")
    w.ok("dhcp-config", "bond0", "dhclient")
    text = (tmp_path / "run" / "wibond" / "bond0" / "dhclient.conf").read_text()
    assert ":00:04:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10;" in text


def test_dhcpcd_starts_without_its_saved_ipv4_lease(tmp_path) -> None:
    """A saved lease makes dhcpcd arm its ARP defence, which the next failover trips."""
    w = World(tmp_path, "[bond0]\ndhcp = ipv4, ipv6\ndhcp_client = dhcpcd\n[[eth0]]\n")
    db = tmp_path / "var" / "lib" / "dhcpcd"
    db.mkdir(parents=True)
    for name in ("bond0.lease", "bond0.lease6", "eth1.lease"):
        (db / name).write_text("lease")
    ops = w.ok("dhcp-config", "bond0", "dhcpcd")
    assert sorted(os.listdir(db)) == ["bond0.lease6", "eth1.lease"]
    assert "remove /var/lib/dhcpcd/bond0.lease" in ops
    assert w.ok("dhcp-config", "bond0", "dhcpcd") == []   # nothing left to do


def test_no_machine_id_is_a_clear_error(tmp_path) -> None:
    w = archwiki(tmp_path)
    os.unlink(tmp_path / "etc" / "machine-id")
    assert w.run("dhcp-config", "bond0", "dhclient") == 1
    assert "/etc/machine-id is missing" in w.said and "duid" in w.said


def test_wait_active_waits_for_link_and_mac(tmp_path) -> None:
    from wibond.runtime import dhcpsteps

    w = archwiki(tmp_path)
    w.host.links["enp0s10"].carrier = False
    w.host.links["wlp3s0"].carrier = False
    bring_up(w, ["enp0s10", "wlp3s0"])
    states = []

    def sleep(_s: float) -> None:
        states.append(dhcpsteps.settled(w.host, "bond0"))
        if len(states) == 3:
            w.host.links["wlp3s0"].carrier = True  # associated
            w.host.links["bond0"].mac = "00:00:00:00:00:00"  # the bond not yet following
        if len(states) == 5:
            w.host._follow_mac(w.host.links["bond0"])

    said: list[str] = []
    dhcpsteps.wait_active(w.host, "bond0", said.append, sleep=sleep)
    assert states[0] == "no slave has link yet"
    assert states[3] == "the bond has not taken wlp3s0's MAC yet"
    assert said[-1] == "bond0: active slave wlp3s0, MAC 52:54:00:00:00:20"


def test_wait_active_fails_without_the_bond(tmp_path) -> None:
    w = archwiki(tmp_path)
    assert w.run("wait-active", "bond0") == 1
    assert "bond0 does not exist" in w.said


def test_dhcp_clean_takes_dhcp_addresses_and_routes_keeps_static(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\naddress = 10.9.9.9/24\ndhcp = ipv4, ipv6\n[[eth0]]\n")
    w.host.add("eth0")
    bring_up(w, ["eth0"])
    bond = w.host.links["bond0"]
    bond.addrs.append({"family": "inet", "local": "192.168.77.150", "prefixlen": 24,
                       "scope": "global", "dynamic": True})
    bond.addrs.append({"family": "inet6", "local": "fd77::150", "prefixlen": 128,
                       "scope": "global", "dynamic": True})
    bond.addrs.append({"family": "inet6", "local": "fd77::aa", "prefixlen": 64,
                       "scope": "global", "dynamic": True})  # SLAAC: the kernel's
    bond.routes.append({"family": 4, "dst": "default", "gateway": "192.168.77.1", "metric": 100})
    w.ok("dhcp-config", "bond0", "dhclient")
    ops = w.ok("dhcp-clean", "bond0", "dhclient", "ipv4")
    assert ops == ["ip addr del 192.168.77.150/24 dev bond0",
                   "ip -4 route del default via 192.168.77.1 dev bond0 metric 100"]
    ops = w.ok("dhcp-clean", "bond0", "dhcp6c", "ipv6")
    assert ops == ["ip addr del fd77::150/128 dev bond0"]
    assert [a["local"] for a in bond.addrs] == ["10.9.9.9", "fd77::aa"]
    assert "bond0/dhclient.conf" not in w.host.run_dir_files()


# -- static ------------------------------------------------------------------------------

def test_static_address_route_metric_and_dns(tmp_path) -> None:
    w = World(tmp_path, PI)
    (tmp_path / "etc" / "resolv.conf").write_text("nameserver 9.9.9.9\n")
    w.ok("create", "bond0")
    ops = w.ok("static", "bond0")
    assert ops == ["ip addr add 192.168.43.150/24 dev bond0",
                   "ip -4 route replace default via 192.168.43.1 dev bond0 metric 100 proto static",
                   "save /etc/resolv.conf"]
    assert (tmp_path / "etc" / "resolv.conf").read_text().endswith("nameserver 192.168.43.1\n")
    assert w.ok("static", "bond0") == []
    w.ok("delete", "bond0")
    assert (tmp_path / "etc" / "resolv.conf").read_text() == "nameserver 9.9.9.9\n"


def test_static_dns_through_resolvconf_when_installed(tmp_path) -> None:
    w = World(tmp_path, PI, programs=("modprobe", "systemctl", "resolvconf"))
    w.ok("create", "bond0")
    ops = w.ok("static", "bond0")
    assert ops[-1] == "resolvconf -a bond0.wibond"
    assert w.host.resolvconf == {"bond0.wibond": "nameserver 192.168.43.1\n"}
    assert w.ok("static", "bond0") == []
    w.ok("delete", "bond0")
    assert w.host.resolvconf == {}


def test_resolv_conf_link_is_left_to_its_owner(tmp_path) -> None:
    w = World(tmp_path, PI)
    os.symlink("/run/systemd/resolve/stub-resolv.conf", tmp_path / "etc" / "resolv.conf")
    w.ok("create", "bond0")
    w.ok("static", "bond0")
    assert os.path.islink(tmp_path / "etc" / "resolv.conf")
    assert "DNS servers not set" in w.said


def test_gateway_outside_the_subnets_is_added_onlink(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\naddress = 10.0.0.5/32\ngateway = 10.0.0.1\n[[eth0]]\n")
    w.ok("create", "bond0")
    assert w.ok("static", "bond0") == [
        "ip addr add 10.0.0.5/32 dev bond0",
        "ip -4 route replace default via 10.0.0.1 dev bond0 metric 100 proto static onlink"]


# -- the whole life --------------------------------------------------------------------------

@pytest.mark.parametrize("conf", [ARCHWIKI, PI], ids=["archwiki", "raspberry-pi"])
def test_stop_leaves_nothing_behind(tmp_path, conf: str) -> None:
    w = World(tmp_path, conf)
    (tmp_path / "etc" / "resolv.conf").write_text("nameserver 9.9.9.9\n")
    names = ["enp0s10", "wlp3s0"] if conf is ARCHWIKI else ["wlan0", "wlan1"]
    for name in names:
        w.host.add(name, "wlan" if name.startswith("wl") else "ether")
    before = w.host.snapshot()
    for _ in range(3):  # stop and start again, and again
        bring_up(w, names)
        clients = ("dhclient", "dhcp6c", "dhcpcd") if conf is ARCHWIKI else ()
        for client in clients:
            w.ok("dhcp-config", "bond0", client)
        w.ok("wait-active", "bond0")
        for client in clients:
            w.ok("dhcp-clean", "bond0", client, "ipv4,ipv6")
        for name in reversed(names):
            w.ok("release", "bond0", name)
        w.ok("delete", "bond0")
        assert w.host.snapshot() == before
        assert w.host.run_dir_files() == []
        assert (tmp_path / "etc" / "resolv.conf").read_text() == "nameserver 9.9.9.9\n"


def test_delete_alone_releases_slaves_and_restores_macs(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\nmac = 02:11:22:33:44:55\n[[wlan0]]\n[[eth0]]\n")
    w.host.add("wlan0", "wlan", "52:54:00:00:00:01")
    w.host.add("eth0", "ether", "52:54:00:00:00:02")
    before = w.host.snapshot()
    bring_up(w, ["wlan0", "eth0"])
    w.ok("delete", "bond0")
    assert w.host.snapshot() == before
    assert w.host.run_dir_files() == []


# -- the command line ------------------------------------------------------------------------

@pytest.mark.parametrize("args", [[], ["frobnicate"], ["create"], ["create", "a", "b"],
                                  ["dhcp-config", "bond0", "ipv5"],
                                  ["dhcp-config", "bond0", "ipv4"],
                                  ["dhcp-clean", "bond0", "dhcpcd", "ipv4,ipx"],
                                  ["dhcp-clean", "bond0", "dhcpcd", ""],
                                  ["dhcp-clean", "bond0", "dhcpcd"]])
def test_usage_errors_exit_2(tmp_path, args) -> None:
    w = archwiki(tmp_path)
    assert w.run(*args) == 2
    assert "usage: wibond-helper COMMAND" in w.said


@pytest.mark.parametrize("name", ["a" * 16, "wl/an0", "wl an0", "wl;an0", "wl%an0", "wl\nan0",
                                  "..", ""])
def test_hostile_interface_names_exit_2_and_touch_nothing(tmp_path, name: str) -> None:
    w = archwiki(tmp_path)
    assert w.run("enslave", "bond0", name) == 2
    assert w.run("create", name) == 2
    assert w.host.mutations() == []


def test_broken_config_is_reported_not_a_traceback(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\nmode = balance-rr\n[[wlan0]]\n")
    assert w.run("create", "bond0") == 1
    assert "/etc/wibond.conf has errors" in w.said and "balance-rr cannot work" in w.said
    assert "Traceback" not in w.said


def test_bond_not_in_config(tmp_path) -> None:
    w = archwiki(tmp_path)
    assert w.run("create", "bond7") == 1
    assert "bond7 is not a bond in /etc/wibond.conf" in w.said


def test_journal_gets_priorities(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
    w = archwiki(tmp_path)
    assert w.run("create", "bond7") == 1
    assert w.said.startswith("<3>create bond7: bond7 is not a bond")


def test_installed_helper_runs_from_the_tree(tmp_path) -> None:
    import subprocess
    import sys

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, os.path.join(repo, "helpers", "wibond-helper"),
                           "wait-active", "no;pe"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "contains ';'" in proc.stderr


def test_a_step_whose_device_was_pulled_stops_its_own_unit(tmp_path, monkeypatch) -> None:
    # Pulled between the unit's start and this step: the step fails; it stops its unit and
    # waits for the stop's SIGTERM, so the unit ends stopped, not failed.
    slept, ended = [], []
    monkeypatch.setattr(helper, "_sleep", slept.append)
    monkeypatch.setattr(helper, "_terminate", lambda: ended.append(True))
    monkeypatch.setenv("INVOCATION_ID", "0123")
    w = World(tmp_path, "[bond0]\n[[wlx*]]\n[[wlan0]]\n")
    w.host.add("wlan0", "wlan")
    w.host.cgroup = ("0::/system.slice/system-bond0\\x2dsupplicant.slice/"
                     "bond0-supplicant@wlx0a.service\n")
    w.ok("create", "bond0")
    assert w.run("enslave", "bond0", "wlx0a") == 1
    assert w.host.ops[-1] == "systemctl stop --no-block bond0-supplicant@wlx0a.service"
    assert slept == [helper.GONE_GRACE_S] and ended == [True]  # no SIGTERM came: as if it had
    assert "wlx0a went away (pulled?); stopping bond0-supplicant@wlx0a.service" in w.said
    assert "no SIGTERM from the stop; ending as if it came" in w.said
    assert w.run("wait-unblocked", "wlx0a") == 1 and "wlx0a: wlx0a went away" in w.said


def test_own_unit_is_read_from_the_cgroup(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\n[[wlan0]]\n")
    assert helper.own_unit(w.host) is None
    w.host.cgroup = "0::/user.slice/user-0.slice/session-3.scope\n"
    assert helper.own_unit(w.host) is None
    w.host.cgroup = ("0::/system.slice/system-wibond\\x2dmatch.slice/"
                     "wibond-match@sys-devices-virtual-net-wlx\\x2dusb.service\n")
    assert helper.own_unit(w.host) == "wibond-match@sys-devices-virtual-net-wlx\\x2dusb.service"


def test_a_step_failing_with_its_device_present_fails_at_once(tmp_path, monkeypatch) -> None:
    slept = []
    monkeypatch.setattr(helper, "_sleep", slept.append)
    monkeypatch.setenv("INVOCATION_ID", "0123")
    w = World(tmp_path, "[bond0]\n[[wlan0]]\n")
    w.host.add("wlan0", "wlan")
    w.host.add("wlan1", "wlan")
    w.ok("create", "bond0")
    assert w.run("enslave", "bond0", "wlan1") == 1
    assert slept == [] and "matches no slave section" in w.said


def test_a_value_its_file_cannot_hold_is_a_clear_step_failure(tmp_path, monkeypatch) -> None:
    from wibond.common import formats

    def refuse(_pairs):
        raise formats.FormatError("environment file: '/etc/x\\\\' holds \\\\")

    monkeypatch.setattr(formats, "env_file", refuse)
    w = archwiki(tmp_path)
    w.ok("create", "bond0")
    assert w.run("slave-env", "bond0", "wlp3s0") == 1
    assert "slave-env bond0 wlp3s0: environment file:" in w.said
    assert "internal error" not in w.said
    assert "bond0/slave-wlp3s0.env" not in w.host.run_dir_files()


# -- a unit's one step, and the config the generator hands it ----------------------------------

def test_a_units_one_step_does_what_its_steps_do_in_order(tmp_path) -> None:
    """start = managers + create + static + start-slaves; join = slave-env + wait-unblocked + enslave;
    dhcp-start = dhcp-config + wait-active: the same changes as the steps one by one."""
    def life(w: World, composite: bool) -> list[str]:
        ops = []
        if composite:
            ops += w.ok("start", "bond0")
            ops += w.ok("join", "bond0", "wlan0")
            ops += w.ok("join", "bond0", "wlan1")
        else:
            for step in (("managers",), ("create", "bond0"), ("static", "bond0"),
                         ("start-slaves", "bond0"),
                         ("slave-env", "bond0", "wlan0"), ("wait-unblocked", "wlan0"),
                         ("enslave", "bond0", "wlan0"), ("slave-env", "bond0", "wlan1"),
                         ("wait-unblocked", "wlan1"), ("enslave", "bond0", "wlan1")):
                ops += w.ok(*step)
        return ops

    worlds = []
    for composite in (False, True):
        root = tmp_path / str(composite)
        root.mkdir()
        os.environ["WIBOND_ROOT"] = str(root)
        w = World(root, PI)
        w.host.add("wlan0", "wlan", "52:54:00:00:00:01")
        w.host.add("wlan1", "wlan", "52:54:00:00:00:02")
        ops = life(w, composite)
        # start keeps the bond's record as well (what it was started from): its own step
        records = [f for f in w.host.run_dir_files() if "/applied." in f]
        assert records == (["bond0/applied.conf"] if composite else [])
        worlds.append((ops, w.host.snapshot(), sorted(set(w.host.run_dir_files()) - set(records))))
    assert worlds[0] == worlds[1]
    assert any("systemctl start --no-block" in op for op in worlds[1][0])


def test_dhcp_start_writes_the_files_then_waits_for_the_active_slave(tmp_path) -> None:
    w = archwiki(tmp_path)
    bring_up(w, ["enp0s10"])
    w.ok("dhcp-start", "bond0", "dhclient")
    assert (tmp_path / "run/wibond/bond0/dhclient.conf").exists()
    assert "active slave enp0s10" in w.said


def generate(tmp_path) -> None:
    """What boot does first: the generator, into systemd's generator directory."""
    from wibond.boot import generator

    for program in ("dhclient", "dhcp6c"):  # installed, as the generator asks
        path = tmp_path / "usr" / "sbin" / program
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    out = tmp_path / "run" / "systemd" / "generator"
    out.mkdir(parents=True)
    assert generator.generate(str(tmp_path / "etc" / "wibond.conf"), str(out),
                              lambda *_: None) == 0


def test_steps_read_the_config_the_generator_checked_not_the_file(tmp_path, monkeypatch) -> None:
    w = archwiki(tmp_path)
    generate(tmp_path)
    import wibond.config.reader

    monkeypatch.setattr(wibond.config.reader, "load", lambda *a, **k: pytest.fail("parsed again"))
    w.ok("create", "bond0")
    assert w.host.links["bond0"].bonding["primary"] == "enp0s10"
    assert "changed" not in w.said


def test_an_edit_without_daemon_reload_is_named_and_waits_for_it(tmp_path) -> None:
    w = archwiki(tmp_path)
    generate(tmp_path)
    (tmp_path / "etc" / "wibond.conf").write_text(ARCHWIKI.replace("primary = enp0s10",
                                                                   "primary = wlp3s0"))
    w.ok("create", "bond0")
    assert w.host.links["bond0"].bonding["primary"] == "enp0s10"  # what the units came from
    assert "/etc/wibond.conf has changed since the units were made" in w.said
    assert "`wibond apply` applies the edit" in w.said


def test_a_bond_boot_left_out_is_refused_with_the_generators_reason(tmp_path) -> None:
    w = World(tmp_path, "[bond0]\ndhcp = ipv4\ndhcp_client = dhcpcd\n[[eth0]]\ntype = wired\n")
    w.host.add("eth0", "ether")
    from wibond.boot import generator

    out = tmp_path / "run" / "systemd" / "generator"
    out.mkdir(parents=True)
    generator.generate(str(tmp_path / "etc" / "wibond.conf"), str(out), lambda *_: None)
    assert w.run("create", "bond0") == 1
    assert "bond0 is not brought up on this machine" in w.said and "dhcpcd" in w.said


def test_a_snapshot_of_another_version_is_not_trusted(tmp_path) -> None:
    w = archwiki(tmp_path)
    generate(tmp_path)
    path = tmp_path / "run/systemd/generator/wibond/config.json"
    text = path.read_text()
    mark = f'"version": {snapshot.VERSION}'
    assert mark in text and '"miimon": 100' in text
    # Another version's snapshot whose miimon differs from the file's: not used.
    path.write_text(text.replace(mark, '"version": 99').replace('"miimon": 100', '"miimon": 700'))
    w.ok("create", "bond0")  # read from the file itself
    assert "changed" not in w.said and w.host.links["bond0"].bonding["miimon"] == "100"


def test_a_snapshot_without_every_option_is_not_trusted(tmp_path) -> None:
    """One of this version written before an option was added (an update between boots)."""
    w = archwiki(tmp_path)
    generate(tmp_path)
    path = tmp_path / "run/systemd/generator/wibond/config.json"
    text = path.read_text()
    assert '    "arp_missed_max": 2,\n' in text
    path.write_text(text.replace('    "arp_missed_max": 2,\n', "").replace('"miimon": 100', '"miimon": 700'))
    w.ok("create", "bond0")
    assert w.host.links["bond0"].bonding["miimon"] == "100"


# -- ARP monitoring (issue 13) ------------------------------------------------------------

ARP_STATIC = ("[bond0]\naddress = 192.168.1.5/24\ngateway = 192.168.1.1\narp_interval = 200\n"
              "arp_ip_target = gateway\n{extra}[[eth0]]\n[[wlan0]]\n")
ARP_LEASE = "[bond0]\narp_interval = 200\narp_ip_target = gateway\n[[eth0]]\n[[wlan0]]\n"


def _bonding(w: World) -> dict:
    return w.host.links["bond0"].bonding


def test_arp_monitoring_of_the_static_gateway_with_the_lab_defaults(tmp_path) -> None:
    w = World(tmp_path, ARP_STATIC.format(extra=""))
    ops = w.ok("create", "bond0")
    b = _bonding(w)
    assert (b["miimon"], b["arp_interval"], b["arp_validate"], b["arp_all_targets"],
            b["arp_missed_max"]) == ("0", "200", "all 3", "any 0", "2")
    assert w.host.links["bond0"].arp_targets == ["192.168.1.1"]
    writes = [op.split("/")[-1] for op in ops if op.startswith("write /sys")]
    # the mode first (it resets arp_validate), the targets before the monitor starts
    assert writes.index("mode active-backup") < writes.index("arp_validate all")
    assert writes.index("arp_ip_target +192.168.1.1") < writes.index("arp_interval 200")


@pytest.mark.parametrize("extra, said", [
    ("arp_missed_max = 4\n", "bond0: this kernel has no arp_missed_max (Linux 6.0 and later "
     "have): a slave is down after 2 ARP intervals without an answer, not 4"),
    ("", None),   # 2 is what that kernel does anyway: nothing to say
])
def test_arp_missed_max_on_a_kernel_without_it(tmp_path, extra: str, said: str | None) -> None:
    w = World(tmp_path, ARP_STATIC.format(extra=extra))
    w.host.add("bond0", "bond", "00:00:00:00:00:00")
    del w.host.links["bond0"].bonding["arp_missed_max"]   # Linux before 6.0
    w.ok("create", "bond0")
    assert _bonding(w)["arp_interval"] == "200"
    assert (said in w.said) if said else ("arp_missed_max" not in w.said)


def test_arp_gateway_from_the_lease_mii_until_then(tmp_path) -> None:
    from wibond.runtime import leasearp

    w = World(tmp_path, ARP_LEASE)
    w.host.add("eth0", "ether", "52:54:00:00:00:10")
    w.ok("create", "bond0")
    b = _bonding(w)
    assert (b["miimon"], b["arp_interval"]) == ("100", "0")   # no lease: MII
    bond = w.host.links["bond0"]
    config_bond = helper_bond(w, "bond0")
    said: list[str] = []

    def step(current, now=0.0, lost_at=None):  # type: ignore[no-untyped-def]
        return leasearp.step(w.host, config_bond, current, said.append, now, lost_at)

    assert step(leasearp.UNKNOWN) == (None, None)
    assert "MII monitoring every 100 ms: no default route on the bond" in said[-1]
    # the lease: an address and a default route through the router
    w.host.ip("addr", "add", "10.1.1.50/24", "dev", "bond0")
    w.host.ip("-4", "route", "replace", "default", "via", "10.1.1.1", "dev", "bond0", "metric", "100")
    assert step(None) == ("10.1.1.1", None)
    assert (b["miimon"], b["arp_interval"], b["arp_validate"]) == ("0", "200", "all 3")
    assert bond.arp_targets == ["10.1.1.1"] and "ARP monitoring of 10.1.1.1 every 200 ms" in said[-1]
    # nothing changed: nothing written
    w.host.mutations()
    assert step("10.1.1.1") == ("10.1.1.1", None)
    assert w.host.mutations() == []
    # a new router: the target follows
    w.host.ip("-4", "route", "del", "default", "via", "10.1.1.1", "dev", "bond0", "metric", "100")
    w.host.ip("-4", "route", "replace", "default", "via", "10.1.1.2", "dev", "bond0", "metric", "100")
    assert step("10.1.1.1") == ("10.1.1.2", None)
    assert bond.arp_targets == ["10.1.1.2"]
    # the route gone for a moment (a client rebinding): the router stays monitored ...
    w.host.ip("-4", "route", "del", "default", "via", "10.1.1.2", "dev", "bond0", "metric", "100")
    w.host.mutations()
    assert step("10.1.1.2", now=100.0) == ("10.1.1.2", 100.0)
    assert "ARP monitoring of 10.1.1.2 kept for 10 s" in said[-1]
    assert step("10.1.1.2", now=109.0, lost_at=100.0) == ("10.1.1.2", 100.0)
    assert w.host.mutations() == []
    # ... and back within the grace: nothing to change
    w.host.ip("-4", "route", "replace", "default", "via", "10.1.1.2", "dev", "bond0", "metric", "100")
    assert step("10.1.1.2", now=109.5, lost_at=100.0) == ("10.1.1.2", None)
    assert "the route to 10.1.1.2 is back" in said[-1] and b["arp_interval"] == "200"
    # a router off the address's subnet cannot be asked: after the grace, MII, and why
    w.host.ip("addr", "del", "10.1.1.50/24", "dev", "bond0")
    w.host.ip("addr", "add", "10.9.9.50/24", "dev", "bond0")
    assert step("10.1.1.2", now=200.0) == ("10.1.1.2", 200.0)
    assert step("10.1.1.2", now=210.0, lost_at=200.0) == (None, None)
    assert "the router 10.1.1.2 is not on the bond's subnet (10.9.9.0/24)" in said[-1]
    assert (b["miimon"], b["arp_interval"], bond.arp_targets) == ("100", "0", [])
    assert b["updelay"] == "300"   # MII again with what it had


def test_arp_unfollow_goes_back_to_mii(tmp_path) -> None:
    from wibond.runtime import bondctl

    w = World(tmp_path, ARP_LEASE)
    w.ok("create", "bond0")
    bondctl.set_monitoring(w.host, helper_bond(w, "bond0"), "10.1.1.1", lambda _m: None)
    assert _bonding(w)["arp_interval"] == "200"
    w.ok("arp-unfollow", "bond0")
    assert (_bonding(w)["miimon"], _bonding(w)["arp_interval"]) == ("100", "0")
    assert w.host.links["bond0"].arp_targets == []


def test_arp_follow_without_a_lease_target_does_nothing(tmp_path) -> None:
    w = World(tmp_path, ARP_STATIC.format(extra=""))
    assert w.ok("arp-follow", "bond0") == []
    assert "its ARP targets do not come from a DHCP lease" in w.said


def helper_bond(w: World, name: str):  # type: ignore[no-untyped-def]
    from wibond.config import reader

    return reader.load(str(w.root / "etc" / "wibond.conf")).bond(name)


def test_arp_follow_loop_waits_for_changes_and_the_end_of_a_grace(tmp_path) -> None:
    """follow(): one step per kernel change; while a route is gone it wakes when the grace
    ends; it ends with the bond."""
    from wibond.runtime import leasearp

    w = World(tmp_path, ARP_LEASE)
    w.ok("create", "bond0")
    w.host.ip("addr", "add", "10.1.1.50/24", "dev", "bond0")
    route = ("default", "via", "10.1.1.1", "dev", "bond0", "metric", "100")
    w.host.ip("-4", "route", "replace", *route)
    clock = [1000.0]
    waits: list[float] = []

    def wait_link_change(timeout: float) -> None:
        waits.append(round(timeout, 1))
        if len(waits) == 1:
            clock[0] += 4.0
            w.host.ip("-4", "route", "del", *route)     # after 4 s the lease's route goes ...
        else:
            clock[0] += timeout                        # ... then the kernel is quiet
        if len(waits) == 3:
            w.host.ip("link", "del", "bond0")          # the bond deleted: the end

    w.host.wait_link_change = wait_link_change  # type: ignore[method-assign]
    said: list[str] = []
    leasearp.follow(w.host, helper_bond(w, "bond0"), said.append, clock=lambda: clock[0])
    # ARP at once; the route gone at 1004: woken at the end of the grace (1014), MII then
    assert waits == [leasearp.RECHECK_S, 10.0, leasearp.RECHECK_S]
    assert "ARP monitoring of 10.1.1.1" in said[0] and "kept for 10 s" in said[1]
    assert "MII monitoring every 100 ms: no default route on the bond" in said[2]


def _deleted_at_first_write(w: World, path_part: str) -> None:
    """The bond deleted (its own unit stopping) just before this step's first write to it."""
    real = w.host.write

    def write(path: str, value: str) -> None:
        if path_part in path and "bond0" in w.host.links:
            w.host.ip("link", "del", "bond0")
        real(path, value)

    w.host.write = write  # type: ignore[method-assign]


def test_arp_unfollow_of_a_bond_deleted_meanwhile_is_done_not_failed(tmp_path) -> None:
    """systemctl restart wibond@bond0: the bond's stop deleted it while wibond-arp@'s stop put
    MII back (CI, silent-archwiki): nothing left to put back is success."""
    from wibond.runtime import bondctl

    w = World(tmp_path, ARP_LEASE)
    w.ok("create", "bond0")
    bondctl.set_monitoring(w.host, helper_bond(w, "bond0"), "10.1.1.1", lambda _m: None)
    _deleted_at_first_write(w, "/bonding/")
    w.ok("arp-unfollow", "bond0")
    assert "bond0: gone; no monitoring to put back" in w.said


def test_arp_unfollow_still_fails_when_the_bond_refuses(tmp_path) -> None:
    from wibond.runtime import bondctl

    w = World(tmp_path, ARP_LEASE)
    w.ok("create", "bond0")
    bondctl.set_monitoring(w.host, helper_bond(w, "bond0"), "10.1.1.1", lambda _m: None)
    real = w.host.write

    def refuse(path: str, value: str) -> None:
        if path.endswith("/arp_interval"):
            raise HostError(f"cannot write {value!r} to {path}: Invalid argument")
        real(path, value)

    w.host.write = refuse  # type: ignore[method-assign]
    assert w.run("arp-unfollow", "bond0") == 1
    assert "cannot set arp_interval = 0" in w.said


def test_arp_follow_ends_when_the_bond_goes_mid_step(tmp_path) -> None:
    from wibond.runtime import leasearp

    w = World(tmp_path, ARP_LEASE)
    w.ok("create", "bond0")
    w.host.ip("addr", "add", "10.1.1.50/24", "dev", "bond0")
    w.host.ip("-4", "route", "replace", "default", "via", "10.1.1.1", "dev", "bond0")
    _deleted_at_first_write(w, "/bonding/")
    w.host.wait_link_change = lambda _t: pytest.fail("the loop went on")  # type: ignore[method-assign]
    leasearp.follow(w.host, helper_bond(w, "bond0"), lambda _m: None)  # returns, no raise
    assert "bond0" not in w.host.links
