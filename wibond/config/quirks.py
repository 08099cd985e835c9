"""What the radios people bond do that a bond must work around, in one table.

The lab's radios are mac80211_hwsim, which behaves like the mac80211 stack and nothing else;
these entries come from the drivers' sources and users' reports (../shared/FACTS.md, "Real
radios on Raspberry Pis"), not from the lab. Each says for which drivers (and USB ids, where a
chipset needs it) it holds, the symptom, what wibond does when such a radio joins a bond and
undoes when it leaves (runtime/radioquirks.py), the slave key that turns it off, and the
source. `wibond status` shows the quirks applied to each radio and, for a radio that keeps
going down, its driver's usual causes; `wibond check` notes the quirks of the radios present.
"""

from __future__ import annotations

# Every in-kernel mac80211 driver a Pi's USB dongles use, and the lab's simulated radio.
MAC80211_USB = ("mt7601u", "rt2800usb", "rtl8xxxu", "rtw88_*", "rtw89_*", "mt76x2u",
                "mt76x0u", "mt7921u", "ath9k_htc", "carl9170")
ANY_RADIO = ("*",)

# What a quirk's action is, for the steps: they look these up, never the wording.
POWER_SAVE_OFF = "power-save-off"
PROMISCUOUS = "promiscuous"
NOTHING = ""


class Quirk:
    __slots__ = ("name", "drivers", "usb", "symptom", "action", "does", "key", "source")

    def __init__(self, name: str, drivers: tuple[str, ...], symptom: str, action: str,
                 does: str, key: str | None, source: str, usb: tuple[str, ...] = ()) -> None:
        self.name = name
        self.drivers = drivers      # driver names, shell patterns; "*" for every radio
        self.usb = usb              # "vvvv:pppp" where only some chipsets of a driver have it
        self.symptom = symptom
        self.action = action        # POWER_SAVE_OFF, PROMISCUOUS or NOTHING
        self.does = does            # what wibond does about it, for people
        self.key = key              # the slave key (key = value) that turns it off
        self.source = source

    def fits(self, driver: str | None, usb: str | None) -> bool:
        if not any(_matches(driver or "", p) for p in self.drivers):
            return False
        return not self.usb or (usb or "").lower() in self.usb

    def __repr__(self) -> str:
        return f"Quirk({self.name!r})"


TABLE: tuple[Quirk, ...] = (
    Quirk("power save", ANY_RADIO,
          symptom="power save is on by default on the Pi's brcmfmac and many USB drivers: "
                  "latency spikes, missed broadcasts and ARP, links that flap",
          action=POWER_SAVE_OFF,
          does="power save off while the radio is a slave (iw dev X set power_save off); its "
               "own setting back when it leaves",
          key="power_save = keep",
          source="raspberrypi/linux #2522, #7038 (Raspberry Pi engineers: `iw dev wlan0 set "
                 "power_save off` is the way); `iw get power_save` can report the wrong state "
                 "on some firmware"),
    Quirk("firmware ARP/ND offload", ("brcmfmac",),
          symptom="the firmware answers and filters ARP and IPv6 ND itself, for the addresses "
                  "on wlan0; the bond's address is on bond0 and never in its list: neighbours "
                  "may not resolve the Pi while this radio carries the traffic, and ARP "
                  "monitoring through it may see nothing",
          action=PROMISCUOUS,
          does="promiscuous mode while the radio is a slave (brcmfmac turns its ARP/ND "
               "offload off while the interface is promiscuous); off again when it leaves",
          key="promiscuous = off",
          source="linux drivers/net/wireless/broadcom/brcm80211/brcmfmac core.c, common.c; "
                 "raspberrypi/linux #2677, #3849; RPi-Distro/firmware-nonfree #23"),
    Quirk("MAC change refused while connected", MAC80211_USB + ("mac80211_hwsim",),
          symptom="a mac80211 radio refuses a new MAC while it is connected (-EBUSY)",
          action=NOTHING,
          does="nothing needed: fail_over_mac = active never changes a slave's MAC, and with "
               "`mac` set wibond changes it while the radio is down, before wpa_supplicant "
               "starts (tests/test_quirks.py keeps that order)",
          key=None,
          source="net/mac80211/iface.c; drivers/net/bonding/bond_main.c; netctl #137"),
)

# What usually makes a radio of a driver keep going down, for `wibond status` to name when one
# does (users' reports; FACTS.md, "USB dongles on Pis").
FLAP_CAUSES: dict[str, str] = {
    "brcmfmac": "power save (wibond turns it off unless power_save = keep), firmware roaming "
                "(module parameter roamoff=1), a weak signal; FWSUP firmware that keeps EAPOL "
                "from wpa_supplicant (brcmfmac feature_disable=0x82000)",
    "mt76x2u": "on a Pi 4's USB3 ports it times out (-110) and drops: try a USB2 port or the "
               "module parameter disable_usb_sg=1",
    "rtw88_*": "rtw88 USB before Linux 6.8: 'failed to get tx report', then authentication "
               "timeouts after days (a broadcast filter bug, fixed in 6.8)",
    "rt2800usb": "drops every 5 to 10 minutes reported on a Pi 2: power supply and the USB hub",
    "mt7921u": "resets when another USB3 device is unplugged",
    "88*": "an out-of-tree Realtek driver (8812au, 88x2bu, 8821cu...): its own power "
           "management and roaming; morrownr/USB-WiFi lists chipsets with in-kernel drivers "
           "that work",
    "*": "a weak signal (see the radio's signal), power save, an overloaded or underpowered USB "
         "port, the access point itself",
}


def _matches(name: str, pattern: str) -> bool:
    """The table's patterns: a name, a prefix ending in *, or * (no fnmatch: it imports re,
    which the join step does without)."""
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern


def quirks_for(driver: str | None, usb: str | None = None) -> list[Quirk]:
    """The quirks of a radio driven by DRIVER (with USB id USB), in table order."""
    return [q for q in TABLE if q.fits(driver, usb)]


def flap_causes(driver: str | None) -> str:
    for pattern, causes in FLAP_CAUSES.items():
        if pattern != "*" and _matches(driver or "", pattern):
            return causes
    return FLAP_CAUSES["*"]


def wanted_actions(power_save: str, promiscuous: str, driver: str | None,
                   usb: str | None = None) -> list[str]:
    """What a slave section's keys and the radio's driver ask the join step to do."""
    actions = []
    if power_save == "off":
        actions.append(POWER_SAVE_OFF)
    if promiscuous == "on" or (promiscuous == "auto" and any(
            q.action == PROMISCUOUS for q in quirks_for(driver, usb))):
        actions.append(PROMISCUOUS)
    return actions
