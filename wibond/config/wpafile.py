"""A radio's wpa_supplicant file, read as wpa_supplicant reads it, for what stops a radio from
ever joining: the file missing or unreadable, a line wpa_supplicant refuses (it then refuses
the whole file), no network block, a network without an ssid or a key, and a key every user
of the machine can read.

Nothing of the file's values leaves here but an ssid: keys are named, never shown.
"""

from __future__ import annotations

import os
import stat

from ..common import paths
from .diagnostics import diagnostic
from .model import Bond, Diagnostic, Slave, wpa_conf_for

# What holds key material in a network block (wpa_supplicant.conf(5)).
SECRET_FIELDS = ("psk", "sae_password", "password", "private_key_passwd", "wep_key0",
                 "wep_key1", "wep_key2", "wep_key3")
# What makes a network joinable without a shared key of its own (EAP-TLS: a client key file).
KEY_FIELDS = SECRET_FIELDS + ("private_key",)
# Blocks wpa_supplicant reads besides network={ (credentials, blobs); their lines are theirs.
_OTHER_BLOCKS = ("cred={",)


class Network:
    __slots__ = ("line", "fields")

    def __init__(self, line: int) -> None:
        self.line = line
        self.fields: dict[str, str] = {}

    @property
    def ssid(self) -> str:
        value = self.fields.get("ssid", "")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value
        return value or "?"


def parse(text: str) -> tuple[list[Network], list[tuple[int, str]]]:
    """The network blocks of a wpa_supplicant file and the lines it would refuse (line, why)."""
    networks: list[Network] = []
    bad: list[tuple[int, str]] = []
    current: Network | None = None
    other_block = False
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if other_block:
            other_block = line != "}"
            continue
        if current is None and (line in _OTHER_BLOCKS or line.startswith("blob-base64-")):
            other_block, start = True, number
            continue
        if line == "network={":
            if current is not None:
                bad.append((number, "a network block inside another"))
                continue
            current, start = Network(number), number
            continue
        if line == "}":
            if current is None:
                bad.append((number, "a } with no block open"))
            else:
                networks.append(current)
                current = None
            continue
        name, eq, value = line.partition("=")
        if not eq or not name.strip() or " " in name.strip():
            bad.append((number, "not a name=value line"))
            continue
        if current is not None:
            current.fields[name.strip()] = value.strip()
    if current is not None or other_block:
        bad.append((start, "a block that is never closed with }"))
    return networks, bad


def problems(host_path: str, conf: str) -> list[tuple[str, dict[str, object]]]:
    """(diagnostics code, fields) for each problem of the wpa_supplicant file CONF (read at
    HOST_PATH); codes from diagnostics.TABLE."""
    try:
        with open(host_path, "rb") as f:
            raw = f.read()
        st = os.stat(host_path)
    except FileNotFoundError:
        return [("wpa-missing", {})]
    except PermissionError:
        if os.geteuid() != 0:
            return [("wpa-unchecked", {})]
        return [("wpa-unreadable", {"reason": "permission denied"})]
    except OSError as e:
        return [("wpa-unreadable", {"reason": e.strerror or str(e)})]
    from ..common.trust import problems as trust

    out: list[tuple[str, dict[str, object]]] = [("file-trust", {"text": t})
                                               for t in trust(host_path, conf)]
    networks, bad = parse(raw.decode("utf-8", "replace"))
    out += [("wpa-bad-line", {"at": n, "why": why}) for n, why in bad]
    if not networks and not bad:
        out.append(("wpa-no-network", {}))
    for net in networks:
        where = {"at": net.line, "ssid": net.ssid}
        if "ssid" not in net.fields:
            out.append(("wpa-no-ssid", {"at": net.line}))
        elif net.fields.get("key_mgmt", "").split() == ["NONE"]:
            if not any(k in net.fields for k in KEY_FIELDS):
                out.append(("wpa-open", where))
        elif not any(k in net.fields for k in KEY_FIELDS):
            out.append(("wpa-no-key", where))
    holds_key = any(k in net.fields for net in networks for k in SECRET_FIELDS)
    if holds_key and st.st_mode & stat.S_IROTH:
        out.append(("wpa-readable", {"mode": f"{stat.S_IMODE(st.st_mode):04o}"}))
    return out


def for_radio(bond: Bond, slave: Slave, conf: str, who: str, config: str) -> list[Diagnostic]:
    """The problems of CONF, the wpa_supplicant file a radio of BOND's section SLAVE uses
    (wpa_conf_for), as diagnostics of the config at CONFIG, naming the radio WHO: what
    `wibond check` and the slave's step in the journal say alike."""
    return [diagnostic(code, config, (bond.name, slave.name), slave.line,
                       iface=who, conf=conf, **fields)
            for code, fields in problems(paths.host(conf), conf)]


def for_config(bonds: list[Bond], config: str) -> list[Diagnostic]:
    """What this machine shows of each radio of BONDS: a radio named but absent (a note),
    and the problems of each wpa_supplicant file the radios use (each file once)."""
    out: list[Diagnostic] = []
    seen: set[str] = set()
    for bond in bonds:
        for slave in bond.wireless_slaves:
            if not slave.dynamic and not os.path.lexists(
                    paths.host(f"{paths.SYSFS_NET}/{slave.name}")):
                out.append(diagnostic("radio-absent", config, (bond.name, slave.name),
                                      slave.line, iface=slave.name))
            conf = wpa_conf_for(slave, slave.name, lambda p: os.path.exists(paths.host(p)))
            if conf in seen:
                continue
            seen.add(conf)
            who = f"the radios of [[{slave.name}]]" if slave.dynamic else slave.name
            out += for_radio(bond, slave, conf, who, config)
    return out
