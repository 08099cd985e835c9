"""What `wibond status` knows about one bond, gathered once as plain data: the text view and
`--json` are two renderings of the same report (status.py).

Sources: sysfs (runtime/bondstate.py), udev's devices, `iw dev X link` for each radio (radio.py), `ip -j
addr` for the bond's addresses, the DHCP clients' units and lease files (dhcp/), and the
bonding driver's kernel lines for the last failover (failovers.py). Each source that cannot
answer leaves its field empty with the reason, never stops the report.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any, Callable

from ..config import match
from ..config.model import Bond
from ..runtime.bondstate import BondState, SlaveState
from ..runtime.hostio import Host


class Sources:
    """What the report asks the running system; tests give a fake."""

    def radio(self, ifname: str) -> dict[str, Any]:
        from . import radio

        return radio.link(ifname)

    _host: Host | None = None

    @property
    def host(self) -> Host:
        if self._host is None:
            self._host = Host(lambda _line: None)   # reads only: nothing to log
        return self._host

    def bond(self, name: str) -> BondState:
        return BondState(self.host, name)

    def addresses(self, bond: str) -> list[dict[str, Any]]:
        return self.host.addresses(bond)

    _journal: tuple[str, str | None] | None = None

    def kernel_lines(self, bond: str) -> tuple[list[tuple[float, str]], str | None]:
        """BOND's kernel lines this boot, or why not (the journal read once for all bonds)."""
        from . import failovers

        if self._journal is None:
            self._journal = failovers.journal_kernel()
        text, error = self._journal
        return ([], error) if error else (failovers.bond_lines(bond, text), None)

    def units(self, names: list[str]) -> dict[str, dict[str, str]]:
        """ActiveState and ActiveEnterTimestamp of each unit, {} when systemctl cannot say."""
        from ..runtime.hostio import find_program, spawn

        systemctl = find_program("systemctl")
        if not names or not systemctl:
            return {}
        try:
            code, out, _err = spawn([systemctl, "show", "--no-pager", "-p", "Id",
                                     "-p", "ActiveState", "-p", "ActiveEnterTimestamp", *names])
        except OSError:
            return {}
        if code != 0:
            return {}
        found: dict[str, dict[str, str]] = {}
        for block in out.strip().split("\n\n"):
            props = dict(ln.partition("=")[::2] for ln in block.splitlines() if "=" in ln)
            if props.get("Id"):
                found[props["Id"]] = props
        return found

    def hardware(self, bond: str, ifname: str) -> dict[str, Any]:
        """What a radio is: its driver, USB id, firmware, power save, the quirks applied."""
        from ..runtime import radioquirks

        driver, usb = radioquirks.identity(self.host, ifname)
        return {"driver": driver, "usb": usb, "firmware": firmware(ifname),
                "power_save": radioquirks.power_save(self.host, ifname),
                "quirks": radioquirks.applied(self.host, bond, ifname)}

    def dhcp(self, bond: Bond) -> list[tuple[Any, list[str]]]:
        """The clients running DHCP on BOND, with their families (what boot chose)."""
        from .. import dhcp

        return dhcp.clients_here(bond)

    def now(self) -> float:
        return time.time()


def firmware(ifname: str) -> str | None:
    """The firmware version ethtool knows for IFNAME (`ethtool -i`), None when it does not."""
    from ..runtime.hostio import find_program, spawn

    ethtool = find_program("ethtool")
    if not ethtool:
        return None
    try:
        code, out, _err = spawn([ethtool, "-i", ifname])
    except OSError:
        return None
    for line in out.splitlines() if code == 0 else []:
        key, _, value = line.partition(":")
        if key.strip() == "firmware-version" and value.strip() not in ("", "N/A"):
            return value.strip()
    return None


# A radio that went down this often in the last hour is named, with its driver's usual causes.
FLAPS_NAMED = 3
FLAP_WINDOW_S = 3600


def slave_verdict(st: BondState, slave: SlaveState) -> str:
    """What the bond thinks of SLAVE: under ARP monitoring whether the targets answer on it
    (validated), with how often it failed."""
    failures = f", {slave.failures} failure{'s' if slave.failures != 1 else ''}" \
        if slave.failures is not None else ""
    if st.arp_interval:
        verdict = "arp ok" if slave.mii == "up" else "arp silent"
        if slave.mii != "up" and slave.operstate == "up":
            verdict += " (carrier up)"
    else:
        verdict = f"mii {slave.mii or '?'}"
    return verdict + failures


def bond_report(bond: Bond, bonds: list[Bond], present: list[match.Device],
                sources: Sources) -> dict[str, Any]:
    from ..common.names import escape_instance

    st = sources.bond(bond.name)
    # Every key, whatever the state (--json's shape): null when the kernel has no bond.
    out: dict[str, Any] = {"bond": bond.name, "exists": st.exists, "carries_traffic": False,
                           "mode": None, "carrier": None, "active": None, "primary": None,
                           "mac": None, "monitoring": None, "dhcp": [], "addresses": [],
                           "last_failover": None, "last_failover_error": None}
    if st.exists:
        out.update(mode=st.mode, carrier=st.carrier, active=st.active, primary=st.primary,
                   mac=st.mac, monitoring=st.monitor)
        out["carries_traffic"] = st.carries_traffic
    by_name = {d.name: d for d in present}
    enslaved = {s.name: s for s in st.slaves}
    slaves: list[dict[str, Any]] = []
    problems: list[str] = []
    for name in sorted(set(enslaved) | set(by_name)):
        dev = by_name.get(name) or match.Device(name)
        try:
            found = match.find(bonds, dev)
        except match.Conflict as e:
            problems.append(f"{name}: {e}")
            continue
        slave = enslaved.get(name)
        if (found is None or found[0] is not bond) and not slave:
            continue
        section = found[1] if found is not None and found[0] is bond else None
        entry: dict[str, Any] = {"name": name, "type": section.type if section else None,
                                 "section": section.name if section else None,
                                 "enslaved": bool(slave), "active": st.active == name,
                                 "link": None, "mii": None, "failures": None, "radio": None,
                                 "hardware": None, "downs_last_hour": None}
        if slave:
            entry.update(link=slave_verdict(st, slave), mii=slave.mii, failures=slave.failures)
        if section is not None and (section.wireless or (slave and slave.wireless)):
            entry["radio"] = sources.radio(name)
            entry["hardware"] = sources.hardware(bond.name, name)
        slaves.append(entry)
    out["slaves"] = slaves
    out["problems"] = problems
    out["absent"] = [s.name for s in bond.named_slaves
                     if s.name not in by_name and s.name not in enslaved]
    if not st.exists:
        return out
    now = sources.now()
    clients = sources.dhcp(bond)
    escaped = escape_instance(bond.name)
    unit_names = [c.unit(escaped) for c, _f in clients]
    states = sources.units(unit_names)
    out["dhcp"] = [{"unit": c.unit(escaped), "client": c.name, "families": fams,
                    "state": states.get(c.unit(escaped), {}).get("ActiveState"),
                    "since": states.get(c.unit(escaped), {}).get("ActiveEnterTimestamp") or None}
                   for c, fams in clients]
    out["addresses"] = _addresses(bond, sources.addresses(bond.name), clients, escaped, now)
    lines, error = sources.kernel_lines(bond.name)
    from . import failovers

    last = failovers.last(bond.name, lines, arp=bool(st.arp_interval))
    from ..config.quirks import flap_causes

    downs = failovers.downs(bond.name, lines, now - FLAP_WINDOW_S)
    for entry in slaves:
        if entry["radio"] is None:
            continue
        count = downs.get(entry["name"], 0)
        entry["downs_last_hour"] = count
        if count >= FLAPS_NAMED:
            driver = (entry["hardware"] or {}).get("driver")
            problems.append(f"{entry['name']} went down {count} times in the last hour; "
                            f"usual causes for {driver or 'its driver'}: {flap_causes(driver)}")
    out["last_failover"] = dict(last, ago_s=round(now - last["at"], 1)) if last else None
    out["last_failover_error"] = error
    return out


def _addresses(bond: Bond, infos: list[dict[str, Any]], clients: list[tuple[Any, list[str]]],
               escaped: str, now: float) -> list[dict[str, Any]]:
    """Each global address of the bond with who put it there and, for a DHCP lease, when it
    was obtained and for how long."""
    static = {str(ipaddress.ip_interface(a)) for a in bond.address}
    holder: dict[str, Any] = {}
    for client, fams in clients:
        for fam in fams:
            holder[fam] = client
    out: list[dict[str, Any]] = []
    for info in infos:
        if info.get("scope") != "global" or "local" not in info:
            continue
        family = 4 if info.get("family") == "inet" else 6
        text = f"{info['local']}/{info.get('prefixlen')}"
        entry: dict[str, Any] = {"address": text, "family": family, "source": None,
                                 "unit": None, "valid_s": None, "lease": None}
        valid = info.get("valid_life_time")
        if isinstance(valid, int) and valid < 0xFFFFFFFF:
            entry["valid_s"] = valid
        if text in static:
            entry["source"] = "static"
        elif family == 4 and "ipv4" in holder:
            client = holder["ipv4"]
            entry.update(source="dhcp", unit=client.unit(escaped))
            lease = client.lease(bond.name)
            if lease and lease.address in ("", info["local"]):
                expires = lease.expires()
                entry["lease"] = {"obtained": lease.obtained, "seconds": lease.seconds,
                                  "server": lease.server or None,
                                  "ago_s": round(now - lease.obtained),
                                  "left_s": max(0, round(expires - now))
                                  if expires is not None else None}
        elif family == 6 and info.get("prefixlen") == 128 and "ipv6" in holder:
            entry.update(source="dhcp", unit=holder["ipv6"].unit(escaped))
        elif family == 6 and info.get("dynamic"):
            entry["source"] = "slaac"
        else:
            entry["source"] = "other"
        out.append(entry)
    return out


def report(bonds: list[Bond], all_bonds: list[Bond], present: list[match.Device],
           sources: Sources | None = None,
           managers: Callable[[], list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    sources = sources or Sources()
    return {"bonds": [bond_report(b, all_bonds, present, sources) for b in bonds],
            "managers": managers() if managers else []}
