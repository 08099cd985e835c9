"""Every value that leaves wibond for another file format goes through one function here,
one per format, and each refuses what its format cannot hold: a value is written as meant,
or not at all. The config's checks (config/values.py) already keep such values out; these are the
last word at the door, so a value that slips past a check cannot add a line, a directive or
an expansion to a file.
"""

from __future__ import annotations


class FormatError(ValueError):
    """A value the target format cannot hold as one value."""


# Sets of characters, not regular expressions (nor `string`, which imports re): the steps
# import no `re` (wibond/__init__.py).
_CONTROL = frozenset(chr(c) for c in range(0x20)) | {"\x7f"}
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
_ENV_KEY_FIRST = frozenset(_UPPER + "_")
_ENV_KEY = _ENV_KEY_FIRST | frozenset(_DIGITS)
# EnvironmentFile=: a backslash continues or escapes, quotes group, a leading # comments.
_ENV_UNSAFE = frozenset("\\\"'`$")
_WORD = frozenset(_UPPER + _UPPER.lower() + _DIGITS + "._:/+-")


def _has_control(value: str) -> bool:
    return not _CONTROL.isdisjoint(value)


def _refuse(what: str, value: str, why: str) -> FormatError:
    return FormatError(f"{what}: {value!r} {why}")


def env_file(pairs: list[tuple[str, str]]) -> str:
    """systemd EnvironmentFile= lines, KEY=value each; empty values allowed."""
    lines = []
    for key, value in pairs:
        if not key or key[0] not in _ENV_KEY_FIRST or not _ENV_KEY.issuperset(key):
            raise _refuse("environment file", key, "is not a variable name")
        if _has_control(value):
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
    if _has_control(value):
        raise _refuse("unit file", value, "holds a control character or newline")
    if value.endswith("\\"):
        raise _refuse("unit file", value, "ends with a backslash")
    return value.replace("%", "%%")


def conf_word(value: str | int) -> str:
    """One word of a DHCP client's configuration (dhcpcd.conf, dhclient.conf, dhcp6c.conf):
    a name, a number, a hex string, an address."""
    text = str(value)
    if not text or not _WORD.issuperset(text):
        raise _refuse("DHCP client configuration", text, "is not one plain word")
    return text


def conf_string(value: str) -> str:
    """A double-quoted string in dhclient.conf."""
    if _has_control(value) or '"' in value or "\\" in value:
        raise _refuse("dhclient configuration", value, "cannot be a quoted string")
    return f'"{value}"'


def resolv_line(keyword: str, value: str) -> str:
    """One line of resolv.conf (`nameserver ADDR`): the value is one word."""
    if not value or _has_control(value) or any(c.isspace() for c in value) or "#" in value \
            or ";" in value:
        raise _refuse("resolv.conf", value, "is not one word")
    return f"{keyword} {value}\n"


def printable(text: str) -> str:
    """A line for a terminal or the journal: control and bidi characters shown as \\xNN or
    \\uNNNN, so what a config or an interface name holds never reaches a terminal or the
    kernel log as an escape sequence."""
    return "".join(ch if ch.isprintable() or ch == " " else
                   (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
                   for ch in text)


def network_word(value: str) -> str:
    """One word of a systemd .network [Match] list (Name=, Driver=, ...): globs allowed, no
    white space, quotes or control characters."""
    if not value or _has_control(value) or any(c.isspace() or c in "\"'\\" for c in value):
        raise _refuse("systemd .network file", value, "is not one word")
    return value


def nm_spec(value: str) -> str:
    """One value of a NetworkManager device spec (interface-name:, mac:, driver:): no ';' or
    ',' (they separate specs), no white space, backslash or control characters."""
    if not value or _has_control(value) or any(c.isspace() or c in ";,\\" for c in value):
        raise _refuse("NetworkManager configuration", value, "cannot be one device spec")
    return value


def udev_value(value: str) -> str:
    """One alternative in a udev rule's match value: no quote, '|', backslash or control."""
    if not value or _has_control(value) or any(c in "\"|\\" for c in value):
        raise _refuse("udev rule", value, "cannot be one match value")
    return value


# Prometheus' text exposition format 0.0.4 (what node_exporter's textfile collector reads).
_PROM_NAME_FIRST = frozenset(_UPPER + _UPPER.lower() + "_:")
_PROM_NAME = _PROM_NAME_FIRST | frozenset(_DIGITS)
_PROM_LABEL_FIRST = frozenset(_UPPER + _UPPER.lower() + "_")
_PROM_LABEL = _PROM_LABEL_FIRST | frozenset(_DIGITS)


def prom_sample(name: str, labels: list[tuple[str, str]], value: float) -> str:
    """One sample line: NAME{label="value",...} VALUE. A label's value may hold anything
    but a surrogate: backslash, double quote and newline are escaped as the format says (an
    interface name may hold a quote or a backslash); a name outside the format's alphabet,
    or a value that is not a finite number, is refused."""
    if not name or name[0] not in _PROM_NAME_FIRST or not _PROM_NAME.issuperset(name):
        raise _refuse("Prometheus metric", name, "is not a metric name")
    if value != value or value in (float("inf"), float("-inf")):
        raise _refuse("Prometheus metric", str(value), f"is not a number for {name}")
    parts = []
    for key, text in labels:
        if (not key or key[0] not in _PROM_LABEL_FIRST or not _PROM_LABEL.issuperset(key)
                or key.startswith("__")):
            raise _refuse("Prometheus label", key, "is not a label name")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _refuse("Prometheus label", text, "is not UTF-8") from None
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        parts.append(f'{key}="{escaped}"')
    number = repr(float(value)) if isinstance(value, float) and not value.is_integer() \
        else str(int(value))
    return f"{name}{{{','.join(parts)}}} {number}\n" if parts else f"{name} {number}\n"


def prom_help(name: str, kind: str, text: str) -> str:
    """The # HELP and # TYPE lines of a metric family (HELP escapes backslash and newline)."""
    if kind not in ("counter", "gauge", "untyped"):
        raise _refuse("Prometheus metric type", kind, "is not counter, gauge or untyped")
    if not name or name[0] not in _PROM_NAME_FIRST or not _PROM_NAME.issuperset(name):
        raise _refuse("Prometheus metric", name, "is not a metric name")
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
    return f"# HELP {name} {escaped}\n# TYPE {name} {kind}\n"
