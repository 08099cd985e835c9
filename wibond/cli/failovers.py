"""When a bond last changed its active slave, from which to which and why: read from the
bonding driver's own kernel log lines (the kernel decides a failover; wibond only sees its
result), through the journal.

The driver's lines this reads (Linux 6.1 to 7.x):
    bond0: (slave eth0): link status definitely down, disabling slave
    bond0: (slave wlan0): making interface the new active one
    bond0: (slave eth0): making interface the new active one 300 ms earlier
    bond0: (slave eth0): Releasing active interface
    bond0: now running without any active interface!
"""

from __future__ import annotations

import re
from typing import Any

_SLAVE_LINE = re.compile(r"^\(slave ([^)]+)\): (.*)$")
# A cause must come just before the change it explains (the driver logs both in one pass).
_CAUSE_WINDOW_S = 5.0


def events(bond: str, lines: list[tuple[float, str]], arp: bool = False) -> list[dict[str, Any]]:
    """Every change of BOND's active slave in LINES ((epoch seconds, kernel message) in
    order): {"at", "from", "to", "why"}. "from" is None when the bond had none (it came up,
    or came back from having no slave up); "to" None when it was left without one."""
    prefix = f"{bond}: "
    active: str | None = None
    slaves: set[str] = set()
    cause: tuple[float, str, str] | None = None   # (when, slave, what happened to it)
    out: list[dict[str, Any]] = []
    for at, message in lines:
        if not message.startswith(prefix):
            continue
        rest = message[len(prefix):]
        if rest.startswith("now running without any active interface"):
            why = _why(cause, at, active, None, arp)
            out.append({"at": at, "from": active, "to": None, "why": why})
            active = None
            continue
        m = _SLAVE_LINE.match(rest)
        if not m:
            continue
        slave, what = m.groups()
        if what.startswith("Enslaving"):
            slaves.add(slave)
            if "as an active interface" in what:
                out.append({"at": at, "from": active, "to": slave, "why": f"{slave} joined the bond"})
                active = slave
        elif what.startswith("Releasing"):
            slaves.discard(slave)
            cause = (at, slave, "left the bond")
            if not slaves:
                active, cause = None, None  # the bond is empty: whatever comes next is a new start
        elif what.startswith("link status definitely down"):
            cause = (at, slave, "link went down")
        elif what.startswith("link status definitely up"):
            cause = (at, slave, "link came up")
        elif what.startswith("making interface the new active one"):
            why = _why(cause, at, active, slave, arp)
            out.append({"at": at, "from": active, "to": slave, "why": why})
            active = slave
    return out


def _why(cause: tuple[float, str, str] | None, at: float, old: str | None, new: str | None,
         arp: bool) -> str:
    if cause and at - cause[0] <= _CAUSE_WINDOW_S:
        _when, slave, what = cause
        if what == "link went down" and arp:
            what = "link went down (no ARP answer)"
        if slave == old or (slave == new and what.startswith("link came up")):
            extra = ""
            if new is None:
                extra = "; no other slave was up"
            elif slave == new and old is not None:
                extra = f"; preferred to {old}"
            return f"{slave} {what}{extra}"
    if old is None and new is not None:
        return f"{new} is the first slave up"
    return "the bond's choice (primary or reselection)"


def last(bond: str, lines: list[tuple[float, str]], arp: bool = False) -> dict[str, Any] | None:
    """The newest change that moved traffic away from a slave (a failover or a failback),
    not the bond's first slave coming up."""
    moved = [e for e in events(bond, lines, arp) if e["from"] is not None]
    return moved[-1] if moved else None


def journal_kernel() -> tuple[str, str | None]:
    """This boot's kernel messages from the journal (JSON, one entry a line), or why not: read
    once for all bonds (bond_lines picks each bond's)."""
    from ..runtime.hostio import find_program, spawn

    journalctl = find_program("journalctl")
    if not journalctl:
        return "", "journalctl is not installed"
    try:
        code, out, err = spawn([journalctl, "-k", "-b", "0", "-o", "json", "--no-pager",
                                "--output-fields=MESSAGE"])
    except OSError as e:
        return "", f"journalctl: {e}"
    if code != 0:
        return "", f"journalctl: {err.strip() or f'exited {code}'}"
    return out, None


def bond_lines(bond: str, journal: str) -> list[tuple[float, str]]:
    """BOND's lines of JOURNAL (journal_kernel's text): (epoch seconds, message)."""
    from ..common.jsonread import loads

    prefix = f"{bond}: "
    found: list[tuple[float, str]] = []
    for line in journal.splitlines():
        # Most of the kernel's lines are not decoded at all; a message that is not UTF-8
        # comes as a list of bytes and is.
        if prefix not in line and '"MESSAGE":[' not in line and '"MESSAGE": [' not in line:
            continue
        try:
            entry = loads(line)
        except ValueError:
            continue
        message = entry.get("MESSAGE")
        if isinstance(message, list):   # the journal's form for a message that is not UTF-8
            message = bytes(message).decode("utf-8", "replace")
        if isinstance(message, str) and message.startswith(prefix):
            try:
                found.append((int(entry["__REALTIME_TIMESTAMP"]) / 1e6, message))
            except (KeyError, ValueError, TypeError):
                continue
    return found


def downs(bond: str, lines: list[tuple[float, str]], since: float) -> dict[str, int]:
    """How often each slave of BOND went down (the driver's "link status definitely down")
    at or after SINCE (epoch seconds)."""
    prefix = f"{bond}: "
    out: dict[str, int] = {}
    for at, message in lines:
        if at < since or not message.startswith(prefix):
            continue
        m = _SLAVE_LINE.match(message[len(prefix):])
        if m and m.group(2).startswith("link status definitely down"):
            out[m.group(1)] = out.get(m.group(1), 0) + 1
    return out
