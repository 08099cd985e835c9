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
from . import rules, values
from .model import (
    BY_MATCH,
    BY_NAME,
    BY_PATTERN,
    ERROR,
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
    # What editors leave: a byte-order mark (Windows' Notepad), CRLF line ends (splitlines
    # takes them), tabs (configobj takes them as indentation).
    text = text.removeprefix("\ufeff")
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
            line = str(getattr(err, "line", "")).strip()
            report(ERROR, (bond,) if bond else (), None,
                   f"cannot parse {line!r}: {_parse_message(err, line)}", line=number)
        if conf is None:
            return Loaded(path, [], report.diagnostics, file_stamp)
        # What parsed still gets checked; the bonds with broken lines are skipped.
        conf = ConfigObj(conf.dict(), configspec=_spec(), interpolation=False)

    _drop_bad_sections(conf, report)
    validator = Validator(values.FUNCTIONS)
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
            report(ERROR, where, name, _unknown_key(conf, where, name))

    bonds = [_bond(name, conf[name], index, report)
             for name in conf.sections]
    if not conf.sections and not report.diagnostics:
        report(WARNING, (), None, "has no [bond] section: it brings no bond up "
               "(examples: /usr/share/doc/wibond/examples/)")
    rules.check_across([b for b in bonds if b is not None], report)
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


def _parse_message(err: Exception, line: str) -> str:
    """What is wrong with a line configobj could not parse, in our words."""
    text = str(getattr(err, "msg", err))
    if text.startswith("Duplicate keyword"):
        return "a duplicate key: set twice in one section; keep one"
    if text.startswith("Duplicate section"):
        return "a duplicate section: given twice; merge the two"
    if text.startswith("Section too nested"):
        return "sections nest two deep at most: [bond] and [[slave]]"
    if text.startswith("Cannot compute"):
        return "the opening and closing brackets do not match"
    if text.startswith("Invalid line"):
        if ":" in line and "=" not in line:
            return "keys are set with `=`, not `:` (key = value)"
        return "not a [bond] or [[slave]] header, nor a `key = value` line"
    return text.split(" at line ")[0].rstrip(".").lower()


def _unknown_key(conf: ConfigObj, where: tuple[str, ...], key: str) -> str:
    """An unknown key, with what it was probably meant to be: the known key it misspells, or
    a key of the other level (a bond key after a [[slave]] header belongs to that slave)."""
    import difflib

    bond_keys = [k for k in conf.configspec["__many__"].scalars]
    slave_keys = [k for k in conf.configspec["__many__"]["__many__"].scalars]
    here, other = (slave_keys, bond_keys) if len(where) == 2 else (bond_keys, slave_keys)
    lowered = {k.lower(): k for k in here}
    if key.lower() in lowered:
        return f"unknown key; did you mean {lowered[key.lower()]}? (keys are lower case)"
    if key.lower() in (k.lower() for k in other):
        if len(where) == 2:
            return (f"a key of the bond, not of a slave: bond keys go above the first [[slave]] "
                    f"of [{where[0]}] (every key after [[{where[1]}]] belongs to that slave)")
        if not conf[where[0]].sections:
            return (f"a key of a slave section; if {where[0]} is meant as a slave, write it "
                    f"[[{where[0]}]] (two brackets) under its bond's [section]")
        return (f"a key of a slave section: put it under the [[interface]] of [{where[0]}] "
                "it is for")
    close = difflib.get_close_matches(key.lower(), here, n=1, cutoff=0.75)
    return f"unknown key; did you mean {close[0]}?" if close else "unknown key"


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
    if isinstance(err, values.CheckError):
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
                            power_save=sub.get("power_save") or "off",
                            promiscuous=sub.get("promiscuous") or "auto",
                            line=index.line(swhere), kind=kind, **matchers))
        if stype != WIRELESS:
            for key in ("wpa_conf", "bitrates", "after", "power_save", "promiscuous"):
                if sub.get(key) and key not in sub.defaults:
                    report(WARNING, swhere, key, "applies to wireless slaves only; ignored")
    bond = Bond(name, slaves, **options)
    bond.line = index.line(where)
    defaulted = set(section.defaults)   # the keys the file left out
    rules.resolve_defaults(bond, defaulted)
    rules.check_bond(bond, defaulted, bool(section.sections), report)
    return bond
