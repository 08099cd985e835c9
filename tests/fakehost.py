"""A fake kernel behind wibond.hostio.Host's methods, for the helpers' host tests.

It keeps the rules the real kernel enforces and that wibond must respect
(../shared/FACTS.md): mode and fail_over_mac only while the bond is empty
(mode also only while it is down), no enslaving while up, a radio refuses a
new MAC while up and refuses to go up while rfkill-blocked, MII and ARP
monitoring exclude each other. Every change is appended to `ops` as the
command line that made it, so tests can check order and that a second run
changes nothing. Files outside /sys and /proc (/run/wibond, /etc) are real
files under WIBOND_ROOT.
"""

from __future__ import annotations

import json
import os
import re
import shlex

from wibond.common import paths
from wibond.runtime.hostio import Host, HostError, RfkillBlocked

NET = "/sys/class/net/"
BOND_DEFAULTS = {
    "mode": "balance-rr 0", "fail_over_mac": "none 0", "miimon": "0", "updelay": "0",
    "downdelay": "0", "arp_interval": "0", "primary_reselect": "always 0",
    "num_grat_arp": "1", "num_unsol_na": "1", "primary": "",
    "arp_validate": "none 0", "arp_all_targets": "any 0", "arp_missed_max": "2",
}
VALIDATE = {"none": 0, "active": 1, "backup": 2, "all": 3, "filter": 4, "filter_active": 5,
            "filter_backup": 6}
ALL_TARGETS = {"any": 0, "all": 1}
MODES = {"balance-rr": 0, "active-backup": 1, "balance-xor": 2, "broadcast": 3,
         "802.3ad": 4, "balance-tlb": 5, "balance-alb": 6}
FOM = {"none": 0, "active": 1, "follow": 2}
RESELECT = {"always": 0, "better": 1, "failure": 2}


class Link:
    def __init__(self, name: str, kind: str, mac: str, carrier: bool = True) -> None:
        self.name = name
        self.kind = kind            # "bond", "ether" or "wlan"
        self.mac = mac
        self.perm_mac = mac
        self.up = False
        self.carrier = carrier      # the link's own carrier (cable in / associated)
        self.master: str | None = None
        self.addrs: list[dict] = []
        self.routes: list[dict] = []
        self.rfkill_soft = False
        self.rfkill_hard = False
        self.bonding: dict[str, str] = dict(BOND_DEFAULTS) if kind == "bond" else {}
        self.arp_targets: list[str] = []
        self.slaves: list[str] = []
        self.stable_secret: str | None = None
        self.forced_active: str | None = None   # written to bonding/active_slave
        # The radio's driver (device/driver), USB id (device/uevent PRODUCT=), power save
        # (`iw dev X get power_save`; None: the driver has none) and promiscuous flag.
        self.driver = {"wlan": "mac80211_hwsim", "ether": "virtio_net"}.get(kind)
        self.usb: str | None = None
        self.power_save: str | None = "on" if kind == "wlan" else None
        self.promisc = False

    def state(self) -> tuple:
        return (self.kind, self.mac, self.up, self.master, json.dumps(self.addrs),
                json.dumps(self.routes), tuple(sorted(self.bonding.items())),
                tuple(self.arp_targets), tuple(self.slaves), self.stable_secret,
                self.power_save, self.promisc)


class FakeHost(Host):
    def __init__(self, root: str, programs: tuple[str, ...] = ("modprobe", "systemctl")) -> None:
        self.root = root
        self.links: dict[str, Link] = {}
        self.module = False
        self.ops: list[str] = []
        self.programs = set(programs)
        self.resolvconf: dict[str, str] = {}
        self.messages: list[str] = []
        self.cgroup: str | None = None  # /proc/self/cgroup: the unit a step runs in
        self.journal: dict[str, str] = {}   # unit -> what journalctl -u would print
        super().__init__(self.messages.append)

    # -- setting the scene -------------------------------------------------------
    def add(self, name: str, kind: str = "ether", mac: str | None = None,
            carrier: bool = True) -> Link:
        mac = mac or f"02:00:00:00:{len(self.links):02x}:{len(name):02x}"
        link = Link(name, kind, mac, carrier)
        self.links[name] = link
        return link

    def snapshot(self) -> dict:
        return {n: link.state() for n, link in self.links.items()}

    def mutations(self) -> list[str]:
        out, self.ops = self.ops, []
        return out

    # -- reads -------------------------------------------------------------------
    def read(self, path: str) -> str | None:
        if path.startswith(("/sys/", "/proc/")):
            return self._sys(path)
        return super().read(path)

    def exists(self, path: str) -> bool:
        if path.startswith(("/sys/", "/proc/")):
            if path == NET + "bonding_masters":
                return self.module
            m = re.fullmatch(r"/proc/sys/net/ipv6/conf/([^/]+)/stable_secret", path)
            if m:
                return m.group(1) in self.links
            return self._sys(path) is not None or self._sysdir(path)
        return super().exists(path)

    def _sysdir(self, path: str) -> bool:
        m = re.fullmatch(r"/sys/class/net/([^/]+)(/bonding|/phy80211)?", path)
        if not m or m.group(1) not in self.links:
            return False
        link = self.links[m.group(1)]
        if m.group(2) == "/bonding":
            return link.kind == "bond"
        if m.group(2) == "/phy80211":
            return link.kind == "wlan"
        return True

    def listdir(self, path: str) -> list[str]:
        if path == NET.rstrip("/"):
            return sorted(list(self.links) + (["bonding_masters"] if self.module else []))
        m = re.fullmatch(r"/sys/class/net/([^/]+)/phy80211", path)
        if m:
            link = self.links.get(m.group(1))
            return [f"rfkill{list(self.links).index(link.name)}"] if link and link.kind == "wlan" else []
        return super().listdir(path)

    def readlink(self, path: str) -> str | None:
        m = re.fullmatch(r"/sys/class/net/([^/]+)/device/driver", path)
        if m:
            link = self.links.get(m.group(1))
            return f"../../../../bus/usb/drivers/{link.driver}" if link and link.driver else None
        m = re.fullmatch(r"/sys/class/net/([^/]+)/master", path)
        if m:
            link = self.links.get(m.group(1))
            return f"../../../virtual/net/{link.master}" if link and link.master else None
        return super().readlink(path)

    def _sys(self, path: str) -> str | None:
        if path == "/proc/self/cgroup":
            return self.cgroup
        m = re.fullmatch(r"/proc/sys/net/ipv6/conf/([^/]+)/stable_secret", path)
        if m:
            link = self.links.get(m.group(1))
            return link.stable_secret if link else None
        m = re.fullmatch(r"/sys/class/net/([^/]+)/(.+)", path)
        if not m or m.group(1) not in self.links:
            return None
        link, attr = self.links[m.group(1)], m.group(2)
        if attr == "address":
            return link.mac
        if attr == "ifindex":
            return str(list(self.links).index(link.name) + 2)
        if attr == "flags":
            return hex((0x1003 if link.up else 0x1002) | (0x100 if link.promisc else 0))
        if attr == "device/uevent" and link.driver:
            usb = link.usb.split(":") if link.usb else None
            return f"DRIVER={link.driver}" + (
                f"\nPRODUCT={int(usb[0], 16):x}/{int(usb[1], 16):x}/100" if usb else "")
        if attr == "carrier":
            return "1" if self._carrier(link) else "0"
        if attr == "bonding_slave/mii_status" and link.master:
            return "up" if self._carrier(link) else "down"
        if attr.startswith("bonding/") and link.kind == "bond":
            key = attr[len("bonding/"):]
            if key == "slaves":
                return " ".join(link.slaves)
            if key == "active_slave":
                return self._active(link) or ""
            if key == "arp_ip_target":
                return " ".join(link.arp_targets)
            return link.bonding.get(key)
        m2 = re.fullmatch(r"phy80211/rfkill\d+/(soft|hard|name)", attr)
        if m2 and link.kind == "wlan":
            return {"soft": "1" if link.rfkill_soft else "0",
                    "hard": "1" if link.rfkill_hard else "0",
                    "name": f"phy{list(self.links).index(link.name)}"}[m2.group(1)]
        return None

    def _carrier(self, link: Link) -> bool:
        if link.kind == "bond":
            return link.up and self._active(link) is not None
        return link.up and link.carrier

    def _active(self, bond: Link) -> str | None:
        up = [s for s in bond.slaves if self._carrier(self.links[s])]
        if bond.forced_active in up:
            return bond.forced_active
        primary = bond.bonding.get("primary")
        if primary in up:
            return primary
        return up[0] if up else None

    def link(self, name: str) -> dict | None:
        link = self.links.get(name)
        return {"ifname": name, "address": link.mac} if link else None

    def addresses(self, name: str) -> list[dict]:
        link = self.links.get(name)
        return [dict(a) for a in link.addrs] if link else []

    def unit_messages(self, units: list[str], since: float) -> str:
        return "".join(self.journal.get(unit, "") for unit in units)

    def routes(self, name: str, family: int) -> list[dict]:
        link = self.links.get(name)
        return [dict(r) for r in link.routes if r["family"] == family] if link else []

    # -- writes --------------------------------------------------------------------
    def write(self, path: str, value: str) -> None:
        self.ops.append(f"write {path} {value.strip()}")
        m = re.fullmatch(r"/proc/sys/net/ipv6/conf/([^/]+)/stable_secret", path)
        if m:
            self.links[m.group(1)].stable_secret = value.strip()
            return
        m = re.fullmatch(r"/sys/class/net/([^/]+)/bonding/(\w+)", path)
        if not m or m.group(1) not in self.links or self.links[m.group(1)].kind != "bond":
            raise HostError(f"cannot write {value!r} to {path}: No such file or directory")
        self._set_bond(self.links[m.group(1)], m.group(2), value.strip())

    def _set_bond(self, bond: Link, key: str, value: str) -> None:
        def refuse(why: str) -> None:
            raise HostError(f"cannot write {value!r} to {bond.name}/bonding/{key}: {why}")

        if key == "mode":
            if bond.slaves:
                refuse("Directory not empty")
            if bond.up:
                refuse("Device or resource busy")
            bond.bonding[key] = f"{value} {MODES[value]}"
            bond.bonding["arp_validate"] = "none 0"  # the kernel does not keep it across modes
        elif key == "arp_validate":
            bond.bonding[key] = f"{value} {VALIDATE[value]}"
        elif key == "arp_all_targets":
            bond.bonding[key] = f"{value} {ALL_TARGETS[value]}"
        elif key == "fail_over_mac":
            if bond.slaves:
                refuse("Directory not empty")
            bond.bonding[key] = f"{value} {FOM[value]}"
        elif key == "primary_reselect":
            bond.bonding[key] = f"{value} {RESELECT[value]}"
        elif key == "miimon":
            bond.bonding[key] = value
            if int(value):
                bond.bonding["arp_interval"] = "0"
        elif key == "arp_interval":
            bond.bonding[key] = value
            if int(value):
                bond.bonding["miimon"] = "0"
        elif key in ("updelay", "downdelay"):
            miimon = int(bond.bonding["miimon"])
            if int(value) and (not miimon or int(value) % miimon):
                refuse("Invalid argument")
            bond.bonding[key] = value
        elif key == "arp_ip_target":
            sign, addr = value[0], value[1:]
            if sign == "+" and addr not in bond.arp_targets:
                bond.arp_targets.append(addr)
            elif sign == "-" and addr in bond.arp_targets:
                bond.arp_targets.remove(addr)
        elif key == "primary":
            bond.bonding[key] = "" if value == "" else value
            bond.forced_active = None   # the kernel reselects when the primary changes
        elif key == "active_slave":
            if value not in bond.slaves or not self._carrier(self.links[value]):
                refuse("Invalid argument")
            bond.forced_active = value
        elif key in bond.bonding:
            bond.bonding[key] = value
        else:
            refuse("No such file or directory")
        self._follow_mac(bond)

    def _follow_mac(self, bond: Link) -> None:
        active = self._active(bond)
        if active and bond.bonding["fail_over_mac"].startswith("active"):
            bond.mac = self.links[active].mac

    def run(self, program: str, *args: str, input: str | None = None) -> str:
        name = os.path.basename(program)
        if name not in self.programs:
            raise HostError(f"cannot run {program}: No such file or directory")
        if name == "iw" and args[:1] == ("dev",) and args[2:] == ("get", "power_save"):
            link = self._dev(args[1])
            if link.power_save is None:
                raise HostError(f"`iw dev {args[1]} get power_save` failed: command failed: "
                                "Operation not supported (-95)")
            return f"Power save: {link.power_save}\n"
        self.ops.append(" ".join([name, *args]))
        if name == "iw" and args[:1] == ("dev",) and args[2:4] == ("set", "power_save"):
            link = self._dev(args[1])
            if link.power_save is None:
                raise HostError(f"`iw dev {args[1]} set power_save {args[4]}` failed: command "
                                "failed: Operation not supported (-95)")
            link.power_save = args[4]
        if name == "modprobe" and args[:1] == ("bonding",):
            self.module = True
        elif name == "resolvconf":
            if args[0] == "-a":
                self.resolvconf[args[1]] = input or ""
            elif args[0] == "-d":
                self.resolvconf.pop(args[1], None)
        return ""

    def save_bytes(self, path: str, data: bytes, mode: int = 0o644, durable: bool = False) -> None:
        if not path.startswith((paths.RUN_DIR + "/", paths.TRY_DIR + "/")):
            self.ops.append(f"save {path}")
        super().save_bytes(path, data, mode, durable)

    def remove(self, path: str) -> None:
        if not path.startswith(paths.RUN_DIR + "/") and os.path.lexists(paths.host(path)):
            self.ops.append(f"remove {path}")
        super().remove(path)

    def program(self, name: str) -> str | None:
        return f"/usr/bin/{name}" if name in self.programs else None

    def watch_links(self, groups: int = 1) -> None:
        pass

    def wait_link_change(self, timeout: float) -> None:
        raise AssertionError("a test's step waits for a link change it does not make")

    def has_addresses(self, name: str) -> bool:
        return bool(self.addresses(name))

    def set_up(self, ifname: str, up: bool) -> None:
        self.ip("link", "set", ifname, "up" if up else "down")

    def set_master(self, ifname: str, bond: str, join: bool) -> None:
        self.ip("link", "set", ifname, *(("master", bond) if join else ("nomaster",)))

    def ip(self, *args: str) -> None:
        self.ops.append("ip " + " ".join(args))
        argv = list(args)
        family = None
        if argv and argv[0] in ("-4", "-6"):
            family = int(argv.pop(0)[1])
        obj, verb, rest = argv[0], argv[1], argv[2:]
        getattr(self, f"_ip_{obj}")(verb, rest, family)

    def _dev(self, name: str) -> Link:
        if name not in self.links:
            raise HostError(f'Cannot find device "{name}"')
        return self.links[name]

    def _ip_link(self, verb: str, rest: list[str], _family) -> None:  # type: ignore[no-untyped-def]
        if verb == "add":
            name = rest[0]
            if rest[1:] != ["type", "bond"]:
                raise AssertionError(f"unexpected ip link add {rest}")
            if name in self.links:
                raise HostError("RTNETLINK answers: File exists")
            if not self.module:
                self.module = True  # the kernel loads it on demand (max_bonds from modprobe.d)
            self.add(name, "bond", mac="00:00:00:00:00:00")
            return
        if verb == "del":
            bond = self._dev(rest[0])
            for slave in list(bond.slaves):
                self._release(bond, self.links[slave])
            del self.links[rest[0]]
            return
        assert verb == "set", verb
        link = self._dev(rest[0])
        words = rest[1:]
        while words:
            word = words.pop(0)
            if word == "up":
                if link.kind == "wlan" and (link.rfkill_soft or link.rfkill_hard):
                    raise RfkillBlocked("RTNETLINK answers: Operation not possible due to RF-kill")
                link.up = True
            elif word == "down":
                link.up = False
            elif word == "promisc":
                link.promisc = words.pop(0) == "on"
            elif word == "address":
                mac = words.pop(0)
                if link.kind == "wlan" and link.up:
                    raise HostError("RTNETLINK answers: Device or resource busy")
                link.mac = mac
            elif word == "master":
                bond = self._dev(words.pop(0))
                if link.up:
                    raise HostError("Error: Device can not be enslaved while up.")
                if link.master:
                    raise HostError("Error: Device is already a slave.")
                if link.kind == "wlan" and (link.rfkill_soft or link.rfkill_hard):
                    # bond_enslave opens the slave, which a blocked radio refuses
                    raise RfkillBlocked("RTNETLINK answers: Operation not possible due to RF-kill")
                link.master = bond.name
                bond.slaves.append(link.name)
                if bond.bonding["fail_over_mac"].startswith("none"):
                    if bond.mac == "00:00:00:00:00:00":
                        bond.mac = link.mac
                    link.mac = bond.mac
                link.up = True  # the bonding driver opens its slaves
                self._follow_mac(bond)
            elif word == "nomaster":
                if link.master:
                    self._release(self.links[link.master], link)
            else:
                raise AssertionError(f"unexpected ip link set word {word}")

    def _release(self, bond: Link, link: Link) -> None:
        bond.slaves.remove(link.name)
        link.master = None
        if bond.bonding["fail_over_mac"].startswith("none"):
            link.mac = link.perm_mac
        self._follow_mac(bond)

    def _ip_addr(self, verb: str, rest: list[str], _family) -> None:  # type: ignore[no-untyped-def]
        if verb == "flush":
            self._dev(rest[rest.index("dev") + 1]).addrs = []
            return
        cidr, dev = rest[0], self._dev(rest[rest.index("dev") + 1])
        local, prefix = cidr.split("/")
        entry = {"family": "inet6" if ":" in local else "inet", "local": local,
                 "prefixlen": int(prefix), "scope": "global"}
        if "dynamic" in rest:
            entry["dynamic"] = True
        have = [a for a in dev.addrs if (a["local"], a["prefixlen"]) == (local, int(prefix))]
        if verb == "add":
            if have:
                raise HostError("RTNETLINK answers: File exists")
            dev.addrs.append(entry)
        elif verb == "del":
            if not have:
                raise HostError("RTNETLINK answers: Cannot assign requested address")
            dev.addrs.remove(have[0])
        else:
            raise AssertionError(verb)

    def _ip_route(self, verb: str, rest: list[str], family) -> None:  # type: ignore[no-untyped-def]
        opts = dict(zip(rest[1::2], rest[2::2])) if rest and rest[0] == "default" else {}
        dev = self._dev(opts["dev"])
        route = {"family": family, "dst": "default", "gateway": opts.get("via"),
                 "metric": int(opts.get("metric", 0))}
        same = [r for r in dev.routes if (r["family"], r["gateway"], r["metric"])
                == (family, route["gateway"], route["metric"])]
        if verb == "replace":
            for r in same:
                dev.routes.remove(r)
            dev.routes.append(route)
        elif verb == "del":
            if not same:
                raise HostError("RTNETLINK answers: No such process")
            dev.routes.remove(same[0])
        else:
            raise AssertionError(verb)

    # -- test conveniences -------------------------------------------------------
    def run_dir_files(self) -> list[str]:
        top = paths.host(paths.RUN_DIR)
        out = []
        for dirpath, _dirs, files in os.walk(top):
            out += [os.path.relpath(os.path.join(dirpath, f), top) for f in files]
        return sorted(out)

    def __repr__(self) -> str:
        return "FakeHost(" + ", ".join(shlex.quote(n) for n in self.links) + ")"
