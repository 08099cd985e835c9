"""What a radio slave is connected to, from `iw dev IFACE link`: for `wibond status`."""

from __future__ import annotations

import re
from typing import Any

from ..common.formats import printable

_CONNECTED = re.compile(r"^Connected to ([0-9a-fA-F:]{17})")
_FIELDS = {
    "SSID": "ssid",
    "freq": "freq_mhz",
    "signal": "signal_dbm",
    "tx bitrate": "tx_bitrate_mbps",
    "rx bitrate": "rx_bitrate_mbps",
}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def parse_link(text: str) -> dict[str, Any]:
    """{"connected": False} or the access point's BSSID, SSID, frequency, signal and
    bitrates. iw escapes an SSID's unprintable bytes itself (\\xNN); printable() keeps a
    terminal safe from the rest."""
    lines = text.splitlines()
    m = _CONNECTED.match(lines[0]) if lines else None
    if not m:
        return {"connected": False}
    out: dict[str, Any] = {"connected": True, "ap": m.group(1).lower()}
    for line in lines[1:]:
        key, sep, value = line.strip().partition(":")
        field = _FIELDS.get(key)
        if not sep or not field:
            continue
        value = value.strip()
        if field == "ssid":
            out[field] = printable(value)
            continue
        number = _NUMBER.search(value)
        if number:
            n = float(number.group())
            out[field] = int(n) if field in ("signal_dbm", "freq_mhz") else n
    return out


def link(ifname: str) -> dict[str, Any]:
    """The radio's link now; {"connected": False, "error": ...} when iw cannot say."""
    from ..runtime.hostio import find_program, spawn

    iw = find_program("iw")
    if not iw:
        return {"connected": False, "error": "iw is not installed"}
    try:
        code, out, err = spawn([iw, "dev", ifname, "link"])
    except OSError as e:
        return {"connected": False, "error": f"iw: {e}"}
    if code != 0:
        return {"connected": False, "error": printable(err.strip() or f"iw exited {code}")}
    return parse_link(out)


def describe(info: dict[str, Any]) -> str:
    """One line for people: 'SSID "home" via 02:00:.. 2412 MHz, -30 dBm, tx 54 Mbit/s'."""
    if not info.get("connected"):
        return info.get("error") or "not associated"
    parts = [f"SSID \"{info.get('ssid', '?')}\" via {info['ap']}"]
    if "freq_mhz" in info:
        parts.append(f"{info['freq_mhz']} MHz")
    if "signal_dbm" in info:
        parts.append(f"{info['signal_dbm']} dBm")
    if "tx_bitrate_mbps" in info:
        parts.append(f"tx {info['tx_bitrate_mbps']:g} Mbit/s")
    if "rx_bitrate_mbps" in info:
        parts.append(f"rx {info['rx_bitrate_mbps']:g} Mbit/s")
    return ", ".join(parts)
