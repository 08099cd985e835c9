"""A radio's driver quirks (config/quirks.py), applied when it joins a bond and undone when it
leaves: power save off, promiscuous mode where the firmware answers ARP itself.

What was changed is recorded beside the slave's record (/run/wibond/<bond>/quirks/<radio>),
so leaving gives the radio back its own setting whatever the config says by then. A radio
whose driver has no power save, or that is gone, is said and left alone: a quirk never
stops a radio from joining.
"""

from __future__ import annotations

from ..common import layout
from ..config import quirks
from ..config.model import Slave
from .bondstate import NET
from .hostio import Host, HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .hostio import Log

IFF_PROMISC = 0x100


def identity(host: Host, ifname: str) -> tuple[str | None, str | None]:
    """(driver, USB id "vvvv:pppp" or None) of IFNAME, from sysfs."""
    link = host.readlink(f"{NET}/{ifname}/device/driver")
    driver = link.rstrip("/").rpartition("/")[2] if link else None
    usb = None
    for line in (host.read(f"{NET}/{ifname}/device/uevent") or "").splitlines():
        if line.startswith("DRIVER=") and not driver:
            driver = line[len("DRIVER="):] or None
        if line.startswith("PRODUCT="):   # USB: vendor/product/bcdDevice, hex without zeros
            parts = line[len("PRODUCT="):].split("/")
            try:
                usb = f"{int(parts[0], 16):04x}:{int(parts[1], 16):04x}"
            except (ValueError, IndexError):
                usb = None
    return driver, usb


def power_save(host: Host, ifname: str) -> str | None:
    """"on" or "off" as the driver says, None when it has none or iw cannot ask."""
    iw = host.program("iw")
    if not iw:
        return None
    try:
        out = host.run(iw, "dev", ifname, "get", "power_save")
    except HostError:
        return None
    word = out.strip().rpartition(":")[2].strip()
    return word if word in ("on", "off") else None


def is_promiscuous(host: Host, ifname: str) -> bool:
    flags = host.read(f"{NET}/{ifname}/flags")
    return bool(flags) and int(flags, 16) & IFF_PROMISC == IFF_PROMISC


def _record(host: Host, bond: str, ifname: str) -> dict[str, str]:
    text = host.read(layout.quirk_record(bond, ifname)) or ""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def apply(host: Host, bond: str, section: Slave, ifname: str, log: Log) -> list[str]:
    """Apply what radio IFNAME's section and driver call for; the quirks applied, by name."""
    driver, usb = identity(host, ifname)
    actions = quirks.wanted_actions(section.power_save, section.promiscuous, driver, usb)
    done = _record(host, bond, ifname)
    before = dict(done)
    if quirks.POWER_SAVE_OFF in actions:
        state = power_save(host, ifname)
        if state == "on":
            iw = host.program("iw") or "iw"
            try:
                host.run(iw, "dev", ifname, "set", "power_save", "off")
                done["power_save"] = "on"   # what to give back
            except HostError as e:
                log(f"{ifname}: power save left on: {e}")
        elif state is None and "power_save" not in done:
            log(f"{ifname} ({driver or 'unknown driver'}): no power save to turn off "
                "(the driver has none, or iw is not installed)")
    if quirks.PROMISCUOUS in actions and not is_promiscuous(host, ifname):
        try:
            host.ip("link", "set", ifname, "promisc", "on")
            done["promisc"] = "off"
        except HostError as e:
            log(f"{ifname}: promiscuous mode not set: {e}")
    if done != before:
        host.save(layout.quirk_record(bond, ifname),
                  "".join(f"{k}={v}\n" for k, v in sorted(done.items())))
    return applied(host, bond, ifname)


def undo(host: Host, bond: str, ifname: str, log: Log) -> None:
    """Give radio IFNAME back what apply changed (the record says what)."""
    done = _record(host, bond, ifname)
    if done and host.exists(f"{NET}/{ifname}"):
        if done.get("power_save") == "on":
            try:
                host.run(host.program("iw") or "iw", "dev", ifname, "set", "power_save", "on")
            except HostError as e:
                log(f"{ifname}: its power save not given back: {e}")
        if done.get("promisc") == "off" and is_promiscuous(host, ifname):
            try:
                host.ip("link", "set", ifname, "promisc", "off")
            except HostError as e:
                log(f"{ifname}: promiscuous mode not taken back: {e}")
    host.remove(layout.quirk_record(bond, ifname))


def applied(host: Host, bond: str, ifname: str) -> list[str]:
    """The quirks wibond applied to IFNAME, as `wibond status` names them."""
    done = _record(host, bond, ifname)
    return ([quirks.POWER_SAVE_OFF] if "power_save" in done else []) + \
        ([quirks.PROMISCUOUS] if "promisc" in done else [])
