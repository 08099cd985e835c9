"""The leases the DHCP clients keep on disk, read for `wibond status`.

The kernel knows a DHCP address's remaining lifetime, not when it was obtained nor for how
long: the clients' own lease files do. Each client's backend names its file (Client.lease);
the readers here parse the two formats and never raise on a file a client is rewriting.
"""

from __future__ import annotations

import calendar
import ipaddress
import os
import re
import time
from dataclasses import dataclass

from ..common import paths


@dataclass(frozen=True)
class Lease:
    address: str          # the address leased ("" when the file names none)
    obtained: float       # epoch seconds the lease was bound or last renewed
    seconds: int | None   # the lease time the server gave
    server: str = ""      # the server's identifier

    def expires(self) -> float | None:
        return self.obtained + self.seconds if self.seconds is not None else None


_BOOTP_COOKIE = b"\x63\x82\x53\x63"
_OPT_PAD, _OPT_END, _OPT_LEASE_TIME, _OPT_SERVER_ID = 0, 255, 51, 54


def parse_bootp(data: bytes, obtained: float) -> Lease | None:
    """dhcpcd's lease file: the DHCP ACK as received (RFC 2131: yiaddr at 16, the options
    after the magic cookie at 236). OBTAINED is the file's mtime: dhcpcd writes it when it
    binds or renews."""
    if len(data) < 240 or data[236:240] != _BOOTP_COOKIE:
        return None
    address = str(ipaddress.IPv4Address(data[16:20]))
    seconds: int | None = None
    server = ""
    i = 240
    while i < len(data):
        code = data[i]
        if code == _OPT_PAD:
            i += 1
            continue
        if code == _OPT_END or i + 1 >= len(data):
            break
        length = data[i + 1]
        value = data[i + 2:i + 2 + length]
        if len(value) < length:
            break
        if code == _OPT_LEASE_TIME and length == 4:
            seconds = int.from_bytes(value, "big")
        elif code == _OPT_SERVER_ID and length == 4:
            server = str(ipaddress.IPv4Address(value))
        i += 2 + length
    return Lease(address, obtained, seconds, server)


_BLOCK = re.compile(r"lease\s*\{(.*?)\}", re.S)
_WHEN = re.compile(r"^\s*(renew|rebind|expire)\s+(?:\d\s+(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})"
                   r"|epoch\s+(\d+))", re.M)


def parse_dhclient(text: str) -> Lease | None:
    """dhclient's lease database: the newest `lease { ... }` block, its times in UTC
    ("expire 4 2026/12/05 02:20:00;") or, with db-time-format local, as "epoch N"."""
    blocks = _BLOCK.findall(text)
    if not blocks:
        return None
    block = blocks[-1]
    address = _value(block, r"fixed-address\s+([0-9.]+);")
    lease_time = _value(block, r"option dhcp-lease-time\s+(\d+);")
    server = _value(block, r"option dhcp-server-identifier\s+([0-9.]+);")
    when = {}
    for name, utc, epoch in _WHEN.findall(block):
        when[name] = float(epoch) if epoch else float(
            calendar.timegm(time.strptime(utc, "%Y/%m/%d %H:%M:%S")))
    seconds = int(lease_time) if lease_time else None
    if "expire" not in when or seconds is None:
        return None
    return Lease(address or "", when["expire"] - seconds, seconds, server or "")


def _value(block: str, pattern: str) -> str | None:
    m = re.search(pattern, block)
    return m.group(1) if m else None


def read_bootp(path: str) -> Lease | None:
    try:
        with open(paths.host(path), "rb") as f:
            data = f.read(4096)
            mtime = os.fstat(f.fileno()).st_mtime
    except OSError:
        return None
    return parse_bootp(data, mtime)


def read_dhclient(path: str) -> Lease | None:
    try:
        with open(paths.host(path), encoding="utf-8", errors="replace") as f:
            return parse_dhclient(f.read())
    except OSError:
        return None
