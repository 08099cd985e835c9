"""Network devices as udev sees them (pyudev), for matching and status.

Not for the generator: pyudev is slow to import and the generator must not
talk to udev.
"""

from __future__ import annotations

from ..config.match import Device

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pyudev


def from_udev(dev: pyudev.Device) -> Device:
    """A match.Device from a pyudev Device of the net subsystem."""
    props = dev.properties
    try:
        mac = dev.attributes.asstring("address")
    except (KeyError, UnicodeDecodeError):
        mac = None
    driver = props.get("ID_NET_DRIVER")
    if not driver and dev.parent is not None:
        driver = dev.parent.driver
    usb = None
    usb_dev = dev.find_parent("usb", "usb_device")
    if usb_dev is not None:
        try:
            usb = (f"{usb_dev.attributes.asstring('idVendor')}:"
                   f"{usb_dev.attributes.asstring('idProduct')}")
        except KeyError:
            usb = None
    return Device(dev.sys_name, mac=mac, driver=driver, usb=usb)


def lookup(ifname: str) -> Device | None:
    """The device called `ifname`, or None when there is none."""
    import pyudev

    try:
        dev = pyudev.Devices.from_name(pyudev.Context(), "net", ifname)
    except pyudev.DeviceNotFoundError:
        return None
    return from_udev(dev)


def present() -> list[Device]:
    import pyudev

    ctx = pyudev.Context()
    return sorted((from_udev(d) for d in ctx.list_devices(subsystem="net")),
                  key=lambda d: d.name)
