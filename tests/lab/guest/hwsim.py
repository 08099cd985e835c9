"""Create/delete mac80211_hwsim radios at run time over generic netlink (raw AF_NETLINK).

This plays a USB Wi-Fi dongle being plugged/unplugged: the kernel registers a new wiphy and a
wlanN netdev, udev sees real add/remove events, systemd's device units come and go.

Constants from drivers/net/wireless/mac80211_hwsim.h (Linux 6.1).
A radio created here lives in the caller's network namespace and in the same hwsim "netgroup"
as the radios created at module load, so it hears the far-side AP.
"""
import errno
import os
import socket
import struct
import time
from pathlib import Path

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLMSG_ERROR = 0x2

HWSIM_FAMILY = "MAC80211_HWSIM"
HWSIM_CMD_NEW_RADIO = 4
HWSIM_CMD_DEL_RADIO = 5
HWSIM_ATTR_CHANNELS = 9
HWSIM_ATTR_RADIO_ID = 10
HWSIM_ATTR_RADIO_NAME = 17
HWSIM_ATTR_PERM_ADDR = 22


def _nla(atype, payload):
    ln = 4 + len(payload)
    return struct.pack("=HH", ln, atype) + payload + b"\0" * ((4 - ln % 4) % 4)


def _attrs(buf):
    out = {}
    off = 0
    while off + 4 <= len(buf):
        ln, at = struct.unpack_from("=HH", buf, off)
        if ln < 4:
            break
        out[at & 0x3FFF] = buf[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


class _Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.s.bind((0, 0))
        self.s.settimeout(10)
        self.seq = int(time.time()) & 0xFFFF

    def close(self):
        self.s.close()

    def request(self, family, cmd, attrs=b"", version=1):
        """Send one request with NLM_F_ACK; return (ack_error_code, [reply payloads])."""
        self.seq += 1
        body = struct.pack("=BBH", cmd, version, 0) + attrs
        hdr = struct.pack("=IHHII", 16 + len(body), family, NLM_F_REQUEST | NLM_F_ACK, self.seq, 0)
        self.s.send(hdr + body)
        replies = []
        while True:
            data = self.s.recv(65536)
            off = 0
            while off + 16 <= len(data):
                ln, typ, _flags, seq, _pid = struct.unpack_from("=IHHII", data, off)
                if ln < 16:
                    break
                payload = data[off + 16:off + ln]
                off += (ln + 3) & ~3
                if seq != self.seq:
                    continue
                if typ == NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", payload, 0)
                    return code, replies
                replies.append(payload)

    def family_id(self, name):
        code, replies = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                     _nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        for r in replies:
            a = _attrs(r[4:])
            if CTRL_ATTR_FAMILY_ID in a:
                return struct.unpack("=H", a[CTRL_ATTR_FAMILY_ID][:2])[0]
        raise OSError(-code if code < 0 else errno.ENOENT,
                      f"generic netlink family {name} not found (is mac80211_hwsim loaded?)")


def new_radio(name=None, perm_addr=None, channels=None):
    """HWSIM_CMD_NEW_RADIO.  Returns the new radio id (hwsim<id> in /sys/class/mac80211_hwsim)."""
    g = _Genl()
    try:
        fam = g.family_id(HWSIM_FAMILY)
        attrs = b""
        if name:
            attrs += _nla(HWSIM_ATTR_RADIO_NAME, name.encode())
        if perm_addr:
            attrs += _nla(HWSIM_ATTR_PERM_ADDR, bytes.fromhex(perm_addr.replace(":", "")))
        if channels:
            attrs += _nla(HWSIM_ATTR_CHANNELS, struct.pack("=I", channels))
        code, _ = g.request(fam, HWSIM_CMD_NEW_RADIO, attrs)
        if code < 0:
            raise OSError(-code, f"HWSIM_CMD_NEW_RADIO failed: {os.strerror(-code)}")
        return code  # the kernel acks with the new radio's index
    finally:
        g.close()


def del_radio(radio_id=None, name=None):
    """HWSIM_CMD_DEL_RADIO by id (int) or by phy name."""
    g = _Genl()
    try:
        fam = g.family_id(HWSIM_FAMILY)
        if name is not None:
            attrs = _nla(HWSIM_ATTR_RADIO_NAME, name.encode())
        else:
            attrs = _nla(HWSIM_ATTR_RADIO_ID, struct.pack("=I", int(radio_id)))
        code, _ = g.request(fam, HWSIM_CMD_DEL_RADIO, attrs)
        if code < 0:
            raise OSError(-code, f"HWSIM_CMD_DEL_RADIO failed: {os.strerror(-code)}")
    finally:
        g.close()


def radio_info(radio_id):
    """{'id', 'phy', 'ifnames'} for hwsim<id>, from sysfs (root netns view)."""
    dev = Path(f"/sys/class/mac80211_hwsim/hwsim{radio_id}")
    if not dev.exists():
        dev = Path(f"/sys/devices/virtual/mac80211_hwsim/hwsim{radio_id}")
    phys = sorted(p.name for p in (dev / "ieee80211").iterdir()) if (dev / "ieee80211").is_dir() else []
    ifnames = sorted(p.name for p in (dev / "net").iterdir()) if (dev / "net").is_dir() else []
    return {"id": radio_id, "phy": phys[0] if phys else None, "ifnames": ifnames}
