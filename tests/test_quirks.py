"""The radio quirks table (config/quirks.py) and its steps (runtime/radioquirks.py), on the fake
kernel with the driver names and USB ids of real radios: what joins a bond gets power save off
(and promiscuous mode where the firmware answers ARP itself), and gets its own settings back
when it leaves. The lab shows the same on mac80211_hwsim; the real drivers' behaviour comes
from their sources and users' reports, not from here."""

from __future__ import annotations

from test_helper import World, _root  # noqa: F401  (autouse: WIBOND_ROOT per test)

from wibond.config import quirks
from wibond.runtime import radioquirks

CONF = """[bond0]
    primary = eth0
    [[eth0]]
    [[wlan0]]
"""


def radio_world(tmp_path, driver: str, conf: str = CONF, usb: str | None = None,
                power_save: str | None = "on") -> World:
    w = World(tmp_path, conf, programs=("modprobe", "systemctl", "iw"))
    w.host.add("eth0", "ether")
    radio = w.host.add("wlan0", "wlan")
    radio.driver, radio.usb, radio.power_save = driver, usb, power_save
    w.ok("create", "bond0")
    return w


def names(qs: list[quirks.Quirk]) -> list[str]:
    return [q.name for q in qs]


def test_the_table_covers_the_radios_on_pis() -> None:
    assert names(quirks.quirks_for("brcmfmac")) == ["power save", "firmware ARP/ND offload"]
    for driver in ("rtl8xxxu", "rtw88_8822bu", "rtw89_8851bu", "mt76x2u", "mt7601u",
                   "rt2800usb", "ath9k_htc", "mt7921u", "mac80211_hwsim"):
        assert names(quirks.quirks_for(driver)) == ["power save",
                                                    "MAC change refused while connected"], driver
    # an out-of-tree Realtek driver, or one nobody reported: power save only
    assert names(quirks.quirks_for("88x2bu")) == ["power save"]
    assert "out-of-tree Realtek" in quirks.flap_causes("88x2bu")
    assert "USB3" in quirks.flap_causes("mt76x2u") and "roamoff" in quirks.flap_causes("brcmfmac")
    assert quirks.flap_causes("iwlwifi") == quirks.FLAP_CAUSES["*"]
    for q in quirks.TABLE:
        assert q.symptom and q.does and q.source, q


def test_a_quirk_keyed_by_usb_id_fits_that_chipset_only() -> None:
    q = quirks.Quirk("x", ("mt76x2u",), "s", quirks.NOTHING, "d", None, "src", usb=("0e8d:7612",))
    assert q.fits("mt76x2u", "0E8D:7612") and not q.fits("mt76x2u", "0e8d:7632")
    assert not q.fits("mt7601u", "0e8d:7612")


def test_the_pis_radio_gets_power_save_off_and_promiscuous_then_its_own_back(tmp_path) -> None:
    w = radio_world(tmp_path, "brcmfmac")
    radio = w.host.links["wlan0"]
    w.ok("enslave", "bond0", "wlan0")
    assert radio.power_save == "off" and radio.promisc
    assert radioquirks.applied(w.host, "bond0", "wlan0") == [quirks.POWER_SAVE_OFF,
                                                             quirks.PROMISCUOUS]
    assert w.ok("enslave", "bond0", "wlan0") == []      # twice: nothing the second time
    w.ok("release", "bond0", "wlan0")
    assert radio.power_save == "on" and not radio.promisc
    assert not (tmp_path / "run/wibond/bond0/quirks/wlan0").exists()


def test_a_usb_dongle_gets_power_save_off_and_no_promiscuous_mode(tmp_path) -> None:
    w = radio_world(tmp_path, "rtl8xxxu", usb="0bda:8179")
    w.ok("enslave", "bond0", "wlan0")
    radio = w.host.links["wlan0"]
    assert radio.power_save == "off" and not radio.promisc
    assert radioquirks.identity(w.host, "wlan0") == ("rtl8xxxu", "0bda:8179")


def test_the_keys_turn_them_off(tmp_path) -> None:
    conf = CONF.replace("[[wlan0]]", "[[wlan0]]\n        power_save = keep\n        promiscuous = off")
    w = radio_world(tmp_path, "brcmfmac", conf)
    w.ok("enslave", "bond0", "wlan0")
    radio = w.host.links["wlan0"]
    assert radio.power_save == "on" and not radio.promisc
    assert radioquirks.applied(w.host, "bond0", "wlan0") == []


def test_a_radio_already_without_power_save_is_left_so(tmp_path) -> None:
    w = radio_world(tmp_path, "brcmfmac")
    w.host.links["wlan0"].power_save = "off"
    w.ok("enslave", "bond0", "wlan0")
    w.ok("release", "bond0", "wlan0")
    assert w.host.links["wlan0"].power_save == "off"     # its own setting, not ours


def test_a_driver_without_power_save_joins_all_the_same(tmp_path) -> None:
    w = radio_world(tmp_path, "rt2800usb", power_save=None)
    w.ok("enslave", "bond0", "wlan0")
    assert w.host.links["wlan0"].master == "bond0"
    assert "wlan0 (rt2800usb): no power save to turn off" in w.said


def test_a_radio_pulled_before_it_leaves_only_forgets(tmp_path) -> None:
    w = radio_world(tmp_path, "brcmfmac")
    w.ok("enslave", "bond0", "wlan0")
    w.host.ip("link", "set", "wlan0", "nomaster")
    del w.host.links["wlan0"]
    w.host.mutations()
    w.ok("release", "bond0", "wlan0")
    assert w.host.mutations() == []
    assert not (tmp_path / "run/wibond/bond0/quirks/wlan0").exists()


def test_the_bonds_stop_gives_every_radio_back(tmp_path) -> None:
    w = radio_world(tmp_path, "brcmfmac")
    w.ok("enslave", "bond0", "wlan0")
    w.ok("delete", "bond0")
    assert w.host.links["wlan0"].power_save == "on" and not w.host.links["wlan0"].promisc


def test_a_mac_is_changed_only_while_the_radio_is_down(tmp_path) -> None:
    """The mac80211 drivers refuse a new MAC while connected (the fake refuses it while up):
    with `mac` set, wibond changes it before the radio joins, before wpa_supplicant starts."""
    conf = CONF.replace("primary = eth0", "primary = eth0\n    mac = 02:11:22:33:44:55")
    w = radio_world(tmp_path, "mt7601u", conf)
    w.host.links["wlan0"].up = True
    ops = w.ok("enslave", "bond0", "wlan0")
    assert w.host.links["wlan0"].mac == "02:11:22:33:44:55"
    down, address, master = (ops.index("ip link set wlan0 down"),
                             ops.index("ip link set wlan0 address 02:11:22:33:44:55"),
                             ops.index("ip link set wlan0 master bond0"))
    assert down < address < master


def test_a_changed_quirk_key_restarts_only_that_slave() -> None:
    from wibond.config import changes, reader

    old = reader.load("x", text=CONF).bonds
    new = reader.load("x", text=CONF.replace("[[wlan0]]", "[[wlan0]]\npower_save = keep")).bonds
    (c,) = changes.plan(old, new).changes
    assert c.kind == "slave-restart" and c.what == "wlan0" and "power_save" in c.why


def test_check_notes_the_quirks_of_the_radios_present(tmp_path, monkeypatch) -> None:
    from wibond.cli.check import quirk_notes
    from wibond.config import reader

    net = tmp_path / "sys" / "class" / "net" / "wlan0"
    (net / "phy80211").mkdir(parents=True)
    (net / "device").mkdir()
    (net / "device" / "uevent").write_text("DRIVER=brcmfmac\n")
    drivers = tmp_path / "sys" / "bus" / "sdio" / "drivers" / "brcmfmac"
    drivers.mkdir(parents=True)
    (net / "device" / "driver").symlink_to(drivers)
    monkeypatch.setenv("WIBOND_ROOT", str(tmp_path))
    bonds = reader.load("x", text=CONF).bonds
    notes = quirk_notes(bonds)
    assert notes[0].startswith("[bond0] wlan0 (brcmfmac): power save: power save off while "
                               "the radio is a slave") and "(power_save = keep turns it off)" in notes[0]
    assert notes[1].startswith("[bond0] wlan0 (brcmfmac): firmware ARP/ND offload: promiscuous")
    keep = reader.load("x", text=CONF.replace("[[wlan0]]", "[[wlan0]]\npromiscuous = off")).bonds
    assert len(quirk_notes(keep)) == 1
