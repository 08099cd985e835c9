"""Make wibond.conf(5) from its template and the configspec.

The key tables of the man page are the configspec's comments, so the page
and the checks cannot drift apart: `python3 -m wibond.manpage IN OUT`.
"""

from __future__ import annotations

import sys

from configobj import ConfigObj, Section
from validate import Validator

from .reader import SPEC_PATH

_TYPES = {
    "integer": "integer",
    "ifname": "interface name",
    "section_ref": "slave name",
    "mac_list": "list of MAC addresses",
    "pattern_list": "list of names or shell patterns",
    "usb_id_list": "list of vendor:product",
    "mac": "MAC address",
    "ipv4": "IPv4 address",
    "ipv6": "IPv6 address",
    "ip_list": "list of IP addresses",
    "arp_target_list": "list of IPv4 addresses or gateway",
    "ip_interface_list": "list of addresses with prefix length",
    "dhcp_list": "ipv4, ipv6, both, or none",
    "hostname": "host name",
    "duid": "auto or a hex DUID",
    "abspath": "absolute path",
    "driver": "driver name(s)",
    "bitrates": "words for iw",
}


def _roff(text: str) -> str:
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + ln if ln.startswith((".", "'")) else ln) for ln in text.split("\n"))


def _describe(check: str) -> tuple[str, str | None]:
    name, args, kwargs, default = Validator()._parse_with_caching(check)
    if name == "option":
        kind = " | ".join(args)
    else:
        kind = _TYPES.get(name, name)
        if "min" in kwargs and "max" in kwargs:
            kind += f", {kwargs['min']} to {kwargs['max']}"
        if "max" in kwargs and name.endswith("_list"):
            kind += f", at most {kwargs['max']}"
    if isinstance(default, list):
        default = ", ".join(default) or None
    return kind, default


def key_table(section: Section) -> str:
    out = []
    for key in section.scalars:
        doc = " ".join(c.strip().lstrip("#").strip() for c in section.comments.get(key, []) if c.strip())
        kind, default = _describe(section[key])
        out.append(".TP")
        shown = f" (default: {default})" if default not in (None, "None") else ""
        out.append(f"\\fB{key}\\fR = \\fI{_roff(kind)}\\fR{_roff(shown)}")
        out.append(_roff(doc))
    return "\n".join(out)


def render(template: str) -> str:
    spec = ConfigObj(SPEC_PATH, _inspec=True, list_values=False, encoding="utf-8")
    bond = spec["__many__"]
    slave = bond["__many__"]
    return template.replace("@BOND_KEYS@", key_table(bond)).replace("@SLAVE_KEYS@", key_table(slave))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python3 -m wibond.manpage TEMPLATE OUTPUT", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        text = render(f.read())
    with open(args[1], "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
