"""Read /etc/wibond.conf: parse with configobj, check against the configspec,
then check what no single key can say (a Wi-Fi slave with the wrong
fail_over_mac, a primary that is not a slave, ...).

Every problem becomes a Diagnostic naming the file, the line where one is
known, the section and the key. A bond with an error is left out of the
result, the others are kept: the generator brings up what it can, `wibond
check` reports everything.
"""

from __future__ import annotations

import os
import re

from configobj import ConfigObj, ConfigObjError, Section, flatten_errors, get_extra_values
from validate import ValidateError, Validator, VdtValueTooLongError

from ..common.names import ifname_problem, is_pattern, label_problem, pattern_problem
from . import checks, match
from .model import (
    BY_MATCH,
    BY_NAME,
    BY_PATTERN,
    ERROR,
    GATEWAY_TARGET,
    WARNING,
    WIRELESS,
    Bond,
    Diagnostic,
    Loaded,
    Slave,
    default_type,
    stamp,
)

SPEC_PATH = os.path.join(os.path.dirname(__file__), "configspec.ini")

# configobj's own patterns: a line the index reads as a header is one the parser reads as one
# (`[ [x] ]` is a [[x]]; `[ ]` and `[]` are no header at all).
_HEADER = ConfigObj._sectionmarker
_KEY = ConfigObj._keyword
# Names configobj gives a meaning of its own (configspec sections; interpolation defaults).
RESERVED_SECTIONS = ("__many__", "DEFAULT")


class _LineIndex:
    """Where each section and key stands: configobj keeps no line numbers."""

    def __init__(self, lines: list[str]) -> None:
        self.sections: dict[tuple[str, ...], int] = {}
        self.keys: dict[tuple[tuple[str, ...], str], int] = {}
        self.starts: list[tuple[int, str]] = []  # (line, bond) of top-level sections
        stack: list[str] = []
        for number, line in enumerate(lines, 1):
            header = _HEADER.match(line)
            if header:
                depth = header.group(2).count("[")
                if depth != header.group(4).count("]"):
                    continue  # the parser refuses it and says where
                name = _unquote(header.group(3))
                stack = stack[:depth - 1] + [name]
                self.sections.setdefault(tuple(stack), number)
                if depth == 1:
                    self.starts.append((number, name))
                continue
            key = _KEY.match(line)
            if key and not line.lstrip().startswith("#"):
                self.keys.setdefault((tuple(stack), _unquote(key.group(2))), number)

    def line(self, section: tuple[str, ...], key: str | None = None) -> int | None:
        if key is not None and (section, key) in self.keys:
            return self.keys[(section, key)]
        return self.sections.get(section)

    def bond_at(self, line: int) -> str | None:
        owner = None
        for start, name in self.starts:
            if start <= line:
                owner = name
        return owner


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _decode(raw: bytes) -> tuple[str, list[int]]:
    """The text, and the numbers of the lines that were not UTF-8. Those lines keep their
    place (bytes shown as \\xNN), so a broken header still starts a section and the damage
    stays inside the bond it belongs to."""
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    out, bad = [], []
    for number, line in enumerate(raw.split(b"\n"), 1):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode("utf-8", "backslashreplace"))
            bad.append(number)
    return "\n".join(out), bad


class _Reporter:
    def __init__(self, path: str, index: _LineIndex) -> None:
        self.path = path
        self.index = index
        self.diagnostics: list[Diagnostic] = []

    def __call__(self, severity: str, section: tuple[str, ...], key: str | None,
                 message: str, line: int | None = None) -> None:
        if line is None:
            line = self.index.line(section, key)
        self.diagnostics.append(Diagnostic(severity, self.path, message, line, section, key))


def _spec() -> ConfigObj:
    return ConfigObj(SPEC_PATH, _inspec=True, list_values=False, encoding="utf-8")


def load(path: str, text: str | None = None, shown: str | None = None) -> Loaded:
    """Load and check the config at `path` (or `text`), naming it `shown` in messages."""
    from_file, file_path = text is None, path
    if text is None:
        name = shown or path
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return Loaded(name, [], [Diagnostic(ERROR, name, "no such file")])
        except OSError as e:
            return Loaded(name, [], [Diagnostic(ERROR, name, f"cannot read: {e.strerror}")])
        text, undecodable = _decode(raw)
        file_stamp = stamp(raw)
    else:
        undecodable, file_stamp = [], None
    lines = text.splitlines()
    index = _LineIndex(lines)
    path = shown or path
    report = _Reporter(path, index)
    if from_file:
        from ..common.trust import problems

        for problem in problems(file_path, shown or file_path):
            report(WARNING, (), None, problem)
    for number in undecodable:
        if lines[number - 1].lstrip().startswith("#"):
            # A comment holds nothing (a Latin-1 "# Kuche" from an old editor): it costs nothing.
            report(WARNING, (), None, "is not UTF-8 text; it is a comment, so it is ignored "
                   "(save the file as UTF-8 to silence this)", line=number)
            continue
        bond = index.bond_at(number)
        report(ERROR, (bond,) if bond else (), None,
               "is not UTF-8 text" + (f"; [{bond}] is not brought up" if bond else ""),
               line=number)

    try:
        conf = ConfigObj(lines, configspec=_spec(), interpolation=False,
                         list_values=True, raise_errors=False)
    except ConfigObjError as e:
        conf = e.config
        for err in getattr(e, "errors", [e]):
            number = getattr(err, "line_number", None)
            bond = index.bond_at(number) if number else None
            msg = str(getattr(err, "msg", err)).split(": ")[0].rstrip(".")
            report(ERROR, (bond,) if bond else (), None,
                   f"cannot parse {getattr(err, 'line', '').strip()!r}: {msg.lower()}",
                   line=number)
        if conf is None:
            return Loaded(path, [], report.diagnostics, file_stamp)
        # What parsed still gets checked; the bonds with broken lines are skipped.
        conf = ConfigObj(conf.dict(), configspec=_spec(), interpolation=False)

    _drop_bad_sections(conf, report)
    validator = Validator(checks.FUNCTIONS)
    result = conf.validate(validator, preserve_errors=True)
    for sections, key, err in flatten_errors(conf, result):
        where = tuple(sections)
        if key is None:
            report(ERROR, where, None, "section is missing")
            continue
        if isinstance(err, VdtValueTooLongError):
            report(ERROR, where, key, "has too many values")
        elif isinstance(err, (ValidateError, ValueError)):
            report(ERROR, where, key, _validate_message(err, conf, where, key))
        else:
            report(ERROR, where, key, "is missing")
        # Later checks see the default, not the value just refused.
        _reset_to_default(conf, validator, where, key)

    for sections, name in get_extra_values(conf):
        where = tuple(sections)
        value = conf
        for part in where:
            value = value[part]
        if not where:
            if isinstance(value[name], dict):
                continue  # top-level sections are bonds
            report(ERROR, (), name, "a key outside any [bond] section; "
                   "put it inside the section of the bond it belongs to")
        else:
            report(ERROR, where, name, "unknown key")

    bonds = [_bond(name, conf[name], index, report)
             for name in conf.sections]
    _check_across(bonds, report)
    bad = {d.bond for d in report.diagnostics if d.severity == ERROR}
    good = [b for b in bonds if b is not None and b.name not in bad]
    report.diagnostics.sort(key=lambda d: d.line or 0)
    return Loaded(path, good, report.diagnostics, file_stamp)


def _drop_bad_sections(conf: ConfigObj, report: _Reporter) -> None:
    """Take out, with an error, the sections validation cannot take: a name configobj
    reserves, a slave section named like a key of the bond (`[[mode]]`), a third level. What
    is taken out costs only its bond."""
    bond_keys = set(conf.configspec["__many__"].scalars)
    for name in list(conf.sections):
        if name in RESERVED_SECTIONS:
            report(ERROR, (name,), None, "a name configobj reserves; "
                   "a bond section is named after the bond's interface")
            del conf[name]
            continue
        bond = conf[name]
        for sub in list(bond.sections):
            where = (name, sub)
            if sub in RESERVED_SECTIONS or sub in bond_keys:
                what = "a name configobj reserves" if sub in RESERVED_SECTIONS else \
                    f"the name of a key of [{name}]; set it as `{sub} = ...`, not as a section"
                report(ERROR, where, None, f"a slave section cannot have {what}")
                del bond[sub]
                continue
            for third in list(bond[sub].sections):
                report(ERROR, where + (third,), None,
                       "sections nest two deep at most: [bond] and [[slave]]")
                del bond[sub][third]


def _spec_for(conf: ConfigObj, where: tuple[str, ...]) -> dict:
    spec = conf.configspec
    for part in where:
        spec = spec[part] if part in spec else spec["__many__"]
    return spec


def _reset_to_default(conf: ConfigObj, validator: Validator,
                      where: tuple[str, ...], key: str) -> None:
    section = conf
    for part in where:
        section = section[part]
    check = _spec_for(conf, where).get(key)
    if check is None:
        return
    try:
        default = validator.get_default_value(check)
    except KeyError:
        default = None
    section[key] = default


def _validate_message(err: Exception, conf: ConfigObj, where: tuple[str, ...], key: str) -> str:
    if isinstance(err, checks.CheckError):
        return str(err)
    section = conf
    for part in where:
        section = section[part]
    value = section.get(key)
    shown = ", ".join(value) if isinstance(value, list) else value
    text = str(err)
    # validate says 'the value "x" is unacceptable.'; keep its reason, show ours.
    if "is too small" in text or "is too big" in text:
        return f"{shown!r} {text.split(' is ', 1)[1].rstrip('.')}"
    if "is of the wrong type" in text or "is not the correct type" in text:
        return f"{shown!r} is not a whole number"
    if "unacceptable" in text:
        spec = re.sub(r",?\s*default=.*\)$", ")", _spec_for(conf, where).get(key, ""))
        options = re.findall(r"'([^']*)'", spec)
        return f"{shown!r} is not one of {', '.join(options)}"
    return text


def _bond(name: str, section: Section, index: _LineIndex, report: _Reporter) -> Bond | None:
    where = (name,)
    problem = ifname_problem(name)
    if problem:
        report(ERROR, where, None, f"bond name: {problem}")
    options = {k: section[k] for k in section.scalars if k in Bond.OPTIONS}
    slaves = []
    for slave_name in section.sections:
        sub = section[slave_name]
        swhere = where + (slave_name,)
        matchers = {k: sub.get(k) or [] for k in ("match_mac", "match_driver", "match_usb")}
        if any(matchers.values()):
            kind, problem = BY_MATCH, label_problem(slave_name)
        elif is_pattern(slave_name):
            kind, problem = BY_PATTERN, pattern_problem(slave_name)
        else:
            kind, problem = BY_NAME, ifname_problem(slave_name)
        if problem:
            report(ERROR, swhere, None, f"slave name: {problem}")
            continue
        stype = sub.get("type") or (WIRELESS if kind == BY_MATCH else default_type(slave_name))
        slaves.append(Slave(slave_name, stype, wpa_conf=sub.get("wpa_conf"),
                            driver=sub.get("driver") or "nl80211",
                            bitrates=sub.get("bitrates"), after=sub.get("after"),
                            line=index.line(swhere), kind=kind, **matchers))
        if stype != WIRELESS:
            for key in ("wpa_conf", "bitrates", "after"):
                if sub.get(key):
                    report(WARNING, swhere, key, "applies to wireless slaves only; ignored")
    bond = Bond(name, slaves, **options)
    bond.line = index.line(where)
    _defaults(bond, section)
    _check_bond(bond, section, report)
    return bond


# Measured in the lab (tests/lab/scenarios/silent-*, README "Silent failures"): with "all" a
# backup counts only the active slave's ARP requests seen going by, which cross the LAN only
# while the active slave's path works, and the active slave only the targets' ARP.
ARP_VALIDATE_DEFAULT = "all"

# A radio's carrier comes up at association; the WPA handshake follows (~250 ms in the lab).
RADIO_UPDELAY_MS = 300


def _defaults(bond: Bond, section: Section) -> None:
    if bond.dhcp is None:
        bond.dhcp = [] if bond.address else ["ipv4"]
    if bond.primary is None and bond.slaves:
        wired = bond.wired_slaves
        bond.primary = (wired[0] if wired else bond.slaves[0]).name
    # arp_interval selects ARP monitoring; an unset miimon then means 0, except where it
    # watches the links until a DHCP lease names the gateway to probe.
    if bond.arp_interval and "miimon" in section.defaults and not bond.arp_follows_lease:
        bond.miimon = 0
    if bond.arp_validate is None:
        bond.arp_validate = ARP_VALIDATE_DEFAULT if bond.arp_interval else "none"
    if bond.updelay is None:
        bond.updelay = 0
        if bond.wireless_slaves and bond.miimon:
            # Measured in the lab (tests/lab/scenarios/raspberry-pi): failing back to a radio
            # at carrier-up lost ~1 s of traffic; waiting 300 ms for the handshake lost none.
            bond.updelay = -(-RADIO_UPDELAY_MS // bond.miimon) * bond.miimon


def _check_bond(bond: Bond, section: Section, report: _Reporter) -> None:
    where = (bond.name,)
    names = [s.name for s in bond.slaves]
    wireless = [s.name for s in bond.wireless_slaves]
    if not bond.slaves and not section.sections:
        report(ERROR, where, None, "has no slaves; add one [[interface]] subsection per slave")
    if bond.name in names:
        report(ERROR, where + (bond.name,), None, "a bond cannot be its own slave")
    if wireless and bond.mode != "active-backup":
        report(ERROR, where, "mode",
               f"{bond.mode} cannot work with a wireless slave ({', '.join(wireless)}); "
               "a station uses one link at a time under its own MAC: use active-backup")
    if wireless and bond.fail_over_mac in ("none", "follow") and not bond.mac:
        report(ERROR, where, "fail_over_mac",
               f"{bond.fail_over_mac} cannot work with a wireless slave ({', '.join(wireless)}): "
               "a radio refuses another MAC while associated; use fail_over_mac = active, "
               "or set mac to give the bond and every slave one MAC")
    if bond.miimon and bond.arp_interval and not bond.arp_follows_lease:
        report(ERROR, where, "arp_interval",
               f"miimon ({bond.miimon}) and arp_interval ({bond.arp_interval}) are both set; "
               "the kernel monitors links one way at a time: set miimon = 0 for ARP monitoring")
    if bond.arp_follows_lease and not bond.miimon:
        report(ERROR, where, "miimon",
               "arp_ip_target = gateway waits for the DHCP lease to name the gateway; until "
               "then miimon watches the links and must be above 0 (default 100)")
    if bond.arp_interval and not bond.arp_ip_target:
        report(ERROR, where, "arp_ip_target", "ARP monitoring (arp_interval > 0) needs a target")
    if bond.arp_ip_target and not bond.arp_interval:
        report(WARNING, where, "arp_ip_target", "ignored while arp_interval is 0")
    if not bond.arp_interval:
        for key in ("arp_validate", "arp_all_targets", "arp_missed_max"):
            if key not in section.defaults:
                report(WARNING, where, key, "ignored while arp_interval is 0")
    if not bond.miimon and not bond.arp_interval:
        report(WARNING, where, "miimon",
               "miimon and arp_interval are both 0: no link is watched and the bond never fails over")
    for key in ("updelay", "downdelay"):
        value = getattr(bond, key)
        if value and not bond.miimon:
            report(ERROR, where, key, f"{key} needs miimon > 0")
        elif value and value % bond.miimon:
            report(ERROR, where, key,
                   f"{value} is not a multiple of miimon ({bond.miimon})")
    if bond.primary and bond.primary not in names and section.sections:
        report(ERROR, where, "primary",
               f"{bond.primary} is not a slave of {bond.name} (slaves: {', '.join(names) or 'none'})")
    named_wireless = [s.name for s in bond.wireless_slaves if not s.dynamic]
    for slave in bond.slaves:
        if not slave.after or not slave.wireless:
            continue
        swhere = where + (slave.name,)
        if slave.dynamic:
            report(ERROR, swhere, "after",
                   "orders slaves named by interface; a pattern or labelled section cannot use it")
        elif slave.after == slave.name:
            report(ERROR, swhere, "after", "a slave cannot start after itself")
        elif slave.after not in named_wireless:
            report(ERROR, swhere, "after",
                   f"{slave.after} is not a wireless slave of {bond.name} named by interface")
    _check_after_cycles(bond, report)
    ipv4 = [a for a in bond.address if ":" not in a]
    ipv6 = [a for a in bond.address if ":" in a]
    if bond.gateway and not ipv4:
        report(ERROR, where, "gateway", "needs an IPv4 address in address")
    if bond.address and "ipv4" in bond.dhcp and ipv4:
        report(WARNING, where, "dhcp", "DHCPv4 runs beside the static IPv4 address")
    if bond.gateway6 and not ipv6 and "ipv6" not in bond.dhcp \
            and not bond.gateway6.lower().startswith("fe80:"):
        report(WARNING, where, "gateway6", "no IPv6 address in address to reach it through")
    if bond.dns and not bond.address:
        report(WARNING, where, "dns", "used beside what the DHCP server sends")
    if bond.arp_interval:
        _check_arp_targets(bond, ipv4, report)


def _check_arp_targets(bond: Bond, ipv4: list[str], report: _Reporter) -> None:
    """The kernel asks for a target's own MAC, from the bond's IPv4 address, on the bond's
    link: a target off that link, or a bond without IPv4, never gets an answer."""
    import ipaddress

    where = (bond.name,)
    if not ipv4 and "ipv4" not in bond.dhcp:
        report(ERROR, where, "arp_interval",
               "ARP monitoring asks from the bond's IPv4 address and the bond has none "
               "(no IPv4 address in address, no ipv4 in dhcp): every slave would be down")
        return
    if GATEWAY_TARGET in bond.arp_ip_target and not bond.gateway and "ipv4" not in bond.dhcp:
        report(ERROR, where, "arp_ip_target",
               "gateway: the bond has no IPv4 gateway (set gateway, or dhcp with ipv4)")
    if not ipv4:
        return  # the DHCP lease decides the subnet: checked when it arrives
    networks = [ipaddress.ip_interface(a).network for a in ipv4]
    for target in bond.arp_targets():
        if not any(ipaddress.ip_address(target) in net for net in networks):
            report(ERROR, where, "arp_ip_target",
                   f"{target} is not on the bond's subnet ({', '.join(map(str, networks))}): "
                   "ARP asks for the target itself on the link, and only a host on it answers")


def _check_after_cycles(bond: Bond, report: _Reporter) -> None:
    after = {s.name: s.after for s in bond.wireless_slaves if s.after and s.after != s.name}
    for start in after:
        seen = [start]
        node = after.get(start)
        while node in after:
            if node in seen:
                if node == start:
                    chain = " -> ".join(seen + [node])
                    report(ERROR, (bond.name, start), "after", f"a cycle: {chain}")
                break
            seen.append(node)
            node = after[node]


def _check_across(bonds: list[Bond | None], report: _Reporter) -> None:
    _check_one_dhcpv6_duid([b for b in bonds if b is not None], report)
    owner: dict[str, str] = {}
    names = {b.name for b in bonds if b is not None}
    seen: list[tuple[Bond, Slave]] = []
    for bond in bonds:
        if bond is None:
            continue
        for slave in bond.dynamic_slaves:
            for other_bond, other in seen:
                if other_bond is bond:
                    continue
                how = match.overlap(slave, other)
                if how == match.CERTAIN:
                    report(ERROR, (bond.name, slave.name), None,
                           f"can match the same device as [{other_bond.name}] [[{other.name}]]; "
                           "a device can join one bond only")
                elif how == match.POSSIBLE:
                    report(WARNING, (bond.name, slave.name), None,
                           f"a device matching both this and [{other_bond.name}] [[{other.name}]] "
                           "would join neither bond")
            seen.append((bond, slave))
        for slave in bond.named_slaves:
            where = (bond.name, slave.name)
            if slave.name in names:
                report(ERROR, where, None, f"{slave.name} is a bond in this file, not a slave")
            elif slave.name in owner:
                report(ERROR, where, None,
                       f"{slave.name} is already a slave of {owner[slave.name]}; "
                       "a device can join one bond only")
            else:
                owner[slave.name] = bond.name


def _check_one_dhcpv6_duid(bonds: list[Bond], report: _Reporter) -> None:
    # dhcp6c reads its DUID from one file for the whole machine.
    first: Bond | None = None
    for bond in bonds:
        if "ipv6" not in bond.dhcp:
            continue
        if first is None:
            first = bond
        elif bond.duid != first.duid:
            report(ERROR, (bond.name,), "duid",
                   f"{bond.duid} differs from [{first.name}]'s {first.duid}; bonds with DHCPv6 "
                   "share one DUID (dhcp6c, which dhcp_client = auto or dhclient may run, keeps "
                   "one per machine)")
