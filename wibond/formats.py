"""Every value that leaves wibond for another file format goes through one function here,
one per format, and each refuses what its format cannot hold: a value is written as meant,
or not at all. The config checks (checks.py) already keep such values out; these are the
last word at the door, so a value that slips past a check cannot add a line, a directive or
an expansion to a file.
"""

from __future__ import annotations

import re


class FormatError(ValueError):
    """A value the target format cannot hold as one value."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENV_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# EnvironmentFile=: a backslash continues or escapes, quotes group, a leading # comments.
_ENV_UNSAFE = set("\\\"'`$")
_WORD = re.compile(r"^[A-Za-z0-9._:/+-]+$")


def _refuse(what: str, value: str, why: str) -> FormatError:
    return FormatError(f"{what}: {value!r} {why}")


def env_file(pairs: list[tuple[str, str]]) -> str:
    """systemd EnvironmentFile= lines, KEY=value each; empty values allowed."""
    lines = []
    for key, value in pairs:
        if not _ENV_KEY.match(key):
            raise _refuse("environment file", key, "is not a variable name")
        if _CONTROL.search(value):
            raise _refuse("environment file", value, "holds a control character or newline")
        bad = sorted(set(value) & _ENV_UNSAFE)
        if bad:
            raise _refuse("environment file", value, f"holds {' '.join(bad)}")
        if value != value.strip():
            raise _refuse("environment file", value, "starts or ends with white space")
        lines.append(f"{key}={value}\n")
    return "".join(lines)


def unit_value(value: str) -> str:
    """A value in a unit file or drop-in: one line, `%` written as `%%` so that no specifier
    is expanded, no trailing backslash (it would continue the line)."""
    if _CONTROL.search(value):
        raise _refuse("unit file", value, "holds a control character or newline")
    if value.endswith("\\"):
        raise _refuse("unit file", value, "ends with a backslash")
    return value.replace("%", "%%")


def conf_word(value: str | int) -> str:
    """One word of a DHCP client's configuration (dhcpcd.conf, dhclient.conf, dhcp6c.conf):
    a name, a number, a hex string, an address."""
    text = str(value)
    if not _WORD.match(text):
        raise _refuse("DHCP client configuration", text, "is not one plain word")
    return text


def conf_string(value: str) -> str:
    """A double-quoted string in dhclient.conf."""
    if _CONTROL.search(value) or '"' in value or "\\" in value:
        raise _refuse("dhclient configuration", value, "cannot be a quoted string")
    return f'"{value}"'


def resolv_line(keyword: str, value: str) -> str:
    """One line of resolv.conf (`nameserver ADDR`): the value is one word."""
    if not value or _CONTROL.search(value) or any(c.isspace() for c in value) or "#" in value \
            or ";" in value:
        raise _refuse("resolv.conf", value, "is not one word")
    return f"{keyword} {value}\n"
