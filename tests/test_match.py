"""Pattern and labelled slave sections: parsing, refusals, and which section wins."""

from __future__ import annotations

import textwrap

import pytest

from wibond.config import reader
from wibond.config.match import Conflict, Device, find
from wibond.config.model import BY_MATCH, BY_NAME, BY_PATTERN


def load(text: str) -> reader.Loaded:
    return reader.load("/etc/wibond.conf", textwrap.dedent(text))


CONF = """
    [bond0]
        [[wlan0]]
        [[wlx*]]
            wpa_conf = /etc/wpa_supplicant/usb.conf
        [[tplink]]
            match_usb = 2357:010C
        [[bymac]]
            match_mac = 02:00:00:00:09:00
            type = wired
    [bond1]
        [[rtl]]
            match_driver = rtl88*
"""


def test_kinds_and_defaults() -> None:
    loaded = load(CONF)
    assert loaded.errors == [], loaded.errors
    bond = loaded.bond("bond0")
    assert [s.kind for s in bond.slaves] == [BY_NAME, BY_PATTERN, BY_MATCH, BY_MATCH]
    assert [s.type for s in bond.slaves] == ["wireless", "wireless", "wireless", "wired"]
    assert bond.slave("tplink").match_usb == ["2357:010c"]
    assert bond.primary == "bymac"  # the first wired section


def test_named_section_wins_over_patterns() -> None:
    bonds = load(CONF).bonds
    bond, slave = find(bonds, Device("wlan0", driver="rtl8812au"))
    assert (bond.name, slave.name) == ("bond0", "wlan0")


def test_first_matching_section_in_order_wins() -> None:
    bonds = load(CONF).bonds
    bond, slave = find(bonds, Device("wlx001122334455", usb="2357:010c"))
    assert (bond.name, slave.name) == ("bond0", "wlx*")
    bond, slave = find(bonds, Device("wlan1", usb="2357:010c"))
    assert slave.name == "tplink"
    bond, slave = find(bonds, Device("eth5", mac="02:00:00:00:09:00"))
    assert slave.name == "bymac"
    assert find(bonds, Device("wlan7", driver="iwlwifi")) is None


def test_device_fitting_two_bonds_joins_neither() -> None:
    bonds = load(CONF).bonds
    with pytest.raises(Conflict, match=r"wlan5 fits \[bond0\] \[\[tplink\]\], \[bond1\] \[\[rtl\]\]"):
        find(bonds, Device("wlan5", driver="rtl8812au", usb="2357:010c"))


def test_all_match_keys_must_fit() -> None:
    bonds = load("[b]\n[[d]]\nmatch_usb = 0bda:8179\nmatch_driver = rtl8xxxu\n").bonds
    assert find(bonds, Device("wlan1", driver="rtl8xxxu", usb="0bda:8179")) is not None
    assert find(bonds, Device("wlan1", driver="r8188eu", usb="0bda:8179")) is None


def test_overlapping_patterns_in_two_bonds_are_refused() -> None:
    loaded = load("[a]\n[[wl*]]\n[b]\n[[wlx*]]\n")
    assert [b.name for b in loaded.bonds] == ["a"]
    assert "can match the same device as [a] [[wl*]]" in str(loaded.errors[0])


def test_same_usb_id_in_two_bonds_is_refused() -> None:
    loaded = load("[a]\n[[x]]\nmatch_usb = 0bda:8179\n[b]\n[[y]]\nmatch_usb = 0bda:8179\n")
    assert loaded.errors and "[b] [[y]]" in str(loaded.errors[0])


def test_disjoint_sections_are_fine() -> None:
    assert load("[a]\n[[wlx*]]\n[b]\n[[enx*]]\n").errors == []
    assert load("[a]\n[[x]]\nmatch_usb = 0bda:8179\n[b]\n[[y]]\nmatch_usb = 0bda:8178\n").errors == []


def test_after_between_named_slaves_only() -> None:
    loaded = load("[b]\n[[wlan0]]\n[[wlx*]]\nafter = wlan0\n")
    assert "a pattern or labelled section cannot use it" in str(loaded.errors[0])


def test_primary_may_name_a_pattern_section() -> None:
    assert load("[b]\nprimary = wlx*\n[[wlan0]]\n[[wlx*]]\n").errors == []


@pytest.mark.parametrize("text,fragment", [
    ("[b]\n[[wl;x*]]\n", "contains ';'"),
    ("[b]\n[[d]]\nmatch_usb = 0bda-8179\n", "is not a USB vendor:product"),
    ("[b]\n[[d]]\nmatch_mac = 02:00:00:00:09\n", "is not a MAC address"),
    ("[b]\n[[d]]\nmatch_driver = rtl 88\n", "contains a space"),
    ("[b]\n[[dongle 1]]\nmatch_usb = 0bda:8179\n", "label 'dongle 1' contains a space"),
])
def test_refusals(text: str, fragment: str) -> None:
    loaded = load(text)
    assert loaded.bonds == [] and fragment in str(loaded.errors[0]), loaded.errors
