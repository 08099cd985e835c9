"""Read network state: bonds from sysfs, links/addresses/routes from `ip -j`."""
import json
import os
from pathlib import Path

from .util import sh

SYS = Path("/sys/class/net")
BOND_ATTRS = ["mode", "slaves", "active_slave", "primary", "primary_reselect", "fail_over_mac",
              "miimon", "updelay", "downdelay", "mii_status", "num_grat_arp", "num_unsol_na",
              "arp_interval", "arp_ip_target", "arp_validate", "arp_missed_max"]


def _read(p):
    try:
        return Path(p).read_text().strip()
    except OSError:
        return None


def bond_state(bond="bond0"):
    """Dict of the bond's sysfs attributes; slaves as a list; plus address/operstate/carrier.

    Returns None when the bond does not exist.  Values are strings as sysfs gives them
    (mode e.g. "active-backup 1"), except 'slaves' (list) and 'exists' (True).
    """
    d = SYS / bond / "bonding"
    if not d.is_dir():
        return None
    st = {"exists": True}
    for a in BOND_ATTRS:
        st[a] = _read(d / a)
    st["slaves"] = (st["slaves"] or "").split()
    st["address"] = _read(SYS / bond / "address")
    st["operstate"] = _read(SYS / bond / "operstate")
    st["carrier"] = _read(SYS / bond / "carrier") == "1"
    st["slave_state"] = {s: slave_state(s) for s in st["slaves"]}
    return st


def slave_state(dev):
    d = SYS / dev / "bonding_slave"
    if not d.is_dir():
        return None
    out = {a: _read(d / a) for a in ("state", "mii_status", "link_failure_count", "perm_hwaddr")}
    master = SYS / dev / "master"
    out["master"] = os.path.basename(os.readlink(master)) if master.is_symlink() else None
    out["address"] = _read(SYS / dev / "address")
    return out


def ip_j(*args, netns=None):
    """Parsed JSON of `ip -j <args>` (e.g. ip_j("addr", "show", "dev", "bond0"))."""
    r = sh(["ip", "-j"] + list(args), netns=netns, quiet=True, check=False)
    if r.returncode != 0 or not r.stdout.strip():
        return []
    return json.loads(r.stdout)


def links(netns=None):
    return ip_j("-d", "link", "show", netns=netns)


def link(dev, netns=None):
    found = ip_j("-d", "link", "show", "dev", dev, netns=netns)
    return found[0] if found else None


def addrs(dev, family=4, scope=None, netns=None):
    """['192.168.77.123/24', ...] on dev (family 4 or 6; scope e.g. 'global')."""
    res = []
    for ifc in ip_j("addr", "show", "dev", dev, netns=netns):
        for a in ifc.get("addr_info", []):
            if a.get("family") != ("inet" if family == 4 else "inet6"):
                continue
            if scope and a.get("scope") != scope:
                continue
            if a.get("tentative"):
                continue
            res.append(f"{a['local']}/{a['prefixlen']}")
    return res


def routes(family=4, netns=None, table=None):
    args = ["-4" if family == 4 else "-6", "route", "show"]
    if table:
        args += ["table", str(table)]
    return ip_j(*args, netns=netns)


def operstate(dev):
    return _read(SYS / dev / "operstate")


def has_carrier(dev):
    return _read(SYS / dev / "carrier") == "1"


def mac_of(dev, netns=None):
    if netns is None:
        return _read(SYS / dev / "address")
    found = link(dev, netns=netns)
    return found.get("address") if found else None
