"""`wibond report`: what a hardware bug report needs, in one text a person can paste: versions,
each slave's driver, firmware, USB id, what iw says of its link and phy, rfkill, the bond as
the kernel holds it, the config, and the recent journal of wibond's and the supplicants'
units. Every key, password and PSK is replaced (redact) before anything is printed: the text
is meant to be pasted in public.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Callable

from .. import __version__
from ..common import paths
from .base import EXIT_OK, load_quiet

# key = value and key: value forms wpa_supplicant, its debug output and config files use.
_SECRET_KEYS = r"(?:psk|passphrase|password|sae_password|private_key_passwd|wep_key[0-3]|" \
               r"pin|identity_key|secret|key_mgmt_secret|nai_realm_key)"
# The value is the rest of the line: a passphrase may hold spaces.
_SECRET_ASSIGN = re.compile(rf"(?i)(\b{_SECRET_KEYS}\b\s*[=:]\s*)([^\n]+)")
# wpa_supplicant -d's dumps of key material: "PMK - hexdump(len=32): 01 02 ..." and the like.
_KEY_DUMP = re.compile(r"(?i)(\b(?:PMK|PTK|GTK|IGTK|KCK|KEK|TK|PSK|PMKID|passphrase|key)"
                       r"[^\n:]*?hexdump(?:_ascii)?\(len=\d+\):)[^\n]*")
# A raw 256-bit PSK (what wpa_passphrase writes as psk=) wherever it stands.
_HEX_KEY = re.compile(r"\b[0-9a-fA-F]{64}\b")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """TEXT with every key, password and PSK replaced by [redacted]."""
    text = _KEY_DUMP.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _SECRET_ASSIGN.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _HEX_KEY.sub(REDACTED, text)


def _run(argv: list[str]) -> str:
    """A command's output for the report; what went wrong, when it did, instead."""
    from ..runtime.hostio import find_program, spawn

    program = find_program(argv[0])
    if not program:
        return f"({argv[0]} is not installed)\n"
    try:
        code, out, err = spawn([program, *argv[1:]])
    except OSError as e:
        return f"({' '.join(argv)}: {e.strerror})\n"
    text = out + (err if code != 0 else "")
    return text if text.strip() else f"(nothing; exit status {code})\n"


def _plain(path: str) -> str:
    """A file named on the command line, as it is (not under WIBOND_ROOT)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as e:
        return f"({path}: {e.strerror})\n"


def _read(path: str) -> str:
    try:
        with open(paths.host(path), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as e:
        return f"({path}: {e.strerror})\n"


def report(run: Callable[[list[str]], str] = _run, read: Callable[[str], str] = _read,
           config: str | None = None) -> str:
    """The report, redacted."""
    from ..runtime import bondstate, radioquirks
    from ..runtime.hostio import Host

    host = Host(lambda _line: None)   # reads only
    shown = config or paths.config_in_force()
    loaded = load_quiet(config or paths.host(shown))
    parts: list[tuple[str, str]] = []
    uname = os.uname()
    os_release = dict(line.split("=", 1) for line in read("/etc/os-release").splitlines()
                      if "=" in line)
    parts.append(("versions", f"wibond {__version__}\nkernel {uname.release} {uname.machine}\n"
                              f"system {os_release.get('PRETTY_NAME', '?').strip(chr(34))}\n"
                              f"python {sys.version.split()[0]}\n"
                              + run(["systemctl", "--version"]).splitlines()[0] + "\n"))
    parts.append((f"config ({loaded.path})", read(shown) if not config else _plain(config)))
    units = ["wibond@*", "wibond-arp@*", "wibond-match@*", "wibond-managers.service"]
    for bond in loaded.bonds:
        name = bond.name
        units += [f"{name}-supplicant@*", f"{name}-wired@*", f"*@{name}.service"]
        parts.append((f"{name}: the kernel's view", read(f"/proc/net/bonding/{name}")
                      if bondstate.is_bond(host, name) else "(not created)\n"))
        parts.append((f"{name}: ip -d link, ip addr", run(["ip", "-d", "link", "show", "dev", name])
                      + run(["ip", "addr", "show", "dev", name])))
        slaves = bondstate.slaves(host, name) + [
            s.name for s in bond.named_slaves if s.name not in bondstate.slaves(host, name)]
        for ifname in slaves:
            if not bondstate.exists(host, ifname):
                parts.append((f"{name}: {ifname}", "(not present)\n"))
                continue
            driver, usb = radioquirks.identity(host, ifname)
            text = (f"driver {driver or '?'}; USB {usb or '-'}; "
                    f"MAC {bondstate.mac_of(host, ifname)}; "
                    f"bond's verdict {bondstate.mii_status(host, ifname) or '-'}\n")
            text += run(["ethtool", "-i", ifname])
            if bondstate.is_radio(host, ifname):
                phy = (host.read(f"{bondstate.NET}/{ifname}/phy80211/name") or "").strip()
                text += run(["iw", "dev", ifname, "link"])
                text += run(["iw", "dev", ifname, "get", "power_save"])
                text += "wibond set: " + (", ".join(radioquirks.applied(host, name, ifname))
                                          or "nothing") + "\n"
                if phy:
                    info = run(["iw", "phy", phy, "info"])
                    keep = ("Wiphy", "Supported interface modes", "* managed", "* AP",
                            "Device supports", "Supported Ciphers", "Band ",
                            "max # scan", "Available Antennas")
                    text += "".join(ln + "\n" for ln in info.splitlines()
                                    if ln.strip().startswith(keep) or ln.startswith(keep))
            parts.append((f"{name}: {ifname}", text))
    parts.append(("rfkill", run(["rfkill", "list"])))
    journal = ["journalctl", "-b", "--no-pager", "-q", "-o", "short-monotonic", "-n", "400"]
    for unit in units:
        journal += ["-u", unit]
    parts.append(("journal of wibond's and the supplicants' units (this boot, last 400)",
                  run(journal)))
    parts.append(("the bonding driver's kernel lines (this boot, last 100)",
                  run(["journalctl", "-b", "-k", "--no-pager", "-q", "-o", "short-monotonic",
                       "-g", "bond", "-n", "100"])))
    text = "".join(f"### {title}\n{body.rstrip()}\n\n" for title, body in parts)
    return redact(text)


def cmd_report(args: argparse.Namespace) -> int:
    text = report(config=args.config)
    sys.stdout.write("# wibond report: paste it whole; keys, passwords and PSKs are replaced "
                     f"by {REDACTED}\n\n" + text)
    return EXIT_OK
