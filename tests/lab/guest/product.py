"""What the scenarios ask of wibond itself: its units, its run-time records, what it must leave
behind.  Everything here reads state (systemctl, /run/wibond, /proc); nothing changes it."""
import os
import time
from pathlib import Path

from .net import addrs, bond_state, routes
from .util import sh, wait_for

RUN = Path("/run/wibond")
WPA_CTRL = "/run/wpa_supplicant"
# The DHCP clients wibond runs (wibond/dhcp/): which one a bond got depends on the suite.
DHCP_CLIENTS = ("dhclient", "dhcp6c", "dhcpcd")


def unit_state(unit):
    """ActiveState of a unit ("active", "inactive", "failed", "activating", ...)."""
    r = sh(["systemctl", "show", "-P", "ActiveState", unit], check=False, quiet=True)
    return r.stdout.strip()


def unit_props(unit, *props):
    r = sh(["systemctl", "show", unit, *[f"-p{p}" for p in props]], check=False, quiet=True)
    return dict(ln.split("=", 1) for ln in r.stdout.splitlines() if "=" in ln)


def wait_unit(unit, state="active", timeout=120):
    return wait_for(lambda: unit_state(unit) == state, timeout, f"{unit} {state}")


def failed_units():
    r = sh(["systemctl", "list-units", "--failed", "--plain", "--no-legend", "--no-pager"],
           check=False, quiet=True)
    return [ln.split()[0] for ln in r.stdout.splitlines() if ln.strip()]


def wibond_units():
    """Loaded wibond units (bond, slaves, DHCP clients, matcher) with their states."""
    r = sh(["systemctl", "list-units", "--all", "--plain", "--no-legend", "--no-pager",
            "wibond@*", "wibond-match@*", "*-supplicant@*", "*-wired@*",
            *[f"{c}@*" for c in DHCP_CLIENTS]],
           check=False, quiet=True)
    out = {}
    for ln in r.stdout.splitlines():
        f = ln.split()
        if len(f) >= 4:
            out[f[0]] = f[2]
    return out


def active_units():
    return {u: s for u, s in wibond_units().items() if s not in ("inactive",)}


def dhcp_units(bond="bond0"):
    """The DHCP client units wibond's generator pulled in for BOND (dhclient@ + dhcp6c@, or
    dhcpcd@), from the Wants= of wibond@BOND."""
    wants = unit_props(f"wibond@{bond}.service", "Wants").get("Wants", "").split()
    return sorted(u for u in wants if u.split("@")[0] in DHCP_CLIENTS)


def dhcp_client_name(bond="bond0"):
    """'dhcpcd' or 'dhclient+dhcp6c' (or 'dhclient'): what runs DHCP on BOND."""
    return "+".join(u.split("@")[0] for u in dhcp_units(bond)) or "none"


def unit_main_pids(units):
    """{unit: MainPID} of the running ones (dhcpcd forks helpers; the main PID is the client)."""
    out = {}
    for u in units:
        pid = unit_props(u, "MainPID").get("MainPID", "0")
        if pid not in ("", "0"):
            out[u] = int(pid)
    return out


def client_processes_by_unit():
    """{unit: [pid, ...]} of every wpa_supplicant and DHCP client process, by the unit whose
    cgroup holds it ("" when none)."""
    out = {}
    r = sh(["pgrep", "-f", r"^(/[^ ]*/)?(wpa_supplicant|dhclient|dhcp6c|dhcpcd)([: ]|$)"],
           check=False, quiet=True)
    for pid in r.stdout.split():
        try:
            cg = Path(f"/proc/{pid}/cgroup").read_text()
        except OSError:
            continue
        unit = next((ln.rstrip("/").rpartition("/")[2] for ln in cg.splitlines()
                     if ln.startswith("0::")), "")
        if unit.endswith(".service") and not unit.startswith("wibond-lab-run"):
            out.setdefault(unit, []).append(int(pid))
        elif not unit.startswith("wibond-lab-run"):
            out.setdefault("", []).append(int(pid))
    return out


def processes(pattern="wpa_supplicant|dhclient|dhcp6c|dhcpcd"):
    """Running programs named PATTERN (the program, not any argument: the scenario
    dhcp-failover-dhcpcd's own check.py has "dhcpcd" in its path)."""
    r = sh(["pgrep", "-a", "-f", rf"^(/[^ ]*/)?({pattern})([: ]|$)"], check=False, quiet=True)
    return [ln for ln in r.stdout.splitlines() if ln.strip() and "pgrep" not in ln]


def wpa_status(ifname, ctrl=WPA_CTRL):
    r = sh(["wpa_cli", "-p", ctrl, "-i", ifname, "status"], check=False, quiet=True)
    return dict(ln.split("=", 1) for ln in r.stdout.splitlines() if "=" in ln)


def active_slave(bond="bond0"):
    st = bond_state(bond)
    return st and st["active_slave"]


def global_addrs(dev, family):
    return addrs(dev, family, scope="global")


def default_routes(dev, family=4):
    return [r for r in routes(family) if r.get("dst") == "default" and r.get("dev") == dev]


def leftovers(bond, slaves):
    """What a stopped bond must not leave: the bond, enslaved interfaces, addresses on the
    slaves, routes via the bond, clients, run-time records, active or failed wibond units."""
    left = {}
    if bond_state(bond) is not None:
        left["bond"] = bond
    for s in slaves:
        if Path(f"/sys/class/net/{s}/master").exists():
            left[f"{s} enslaved"] = os.path.basename(os.readlink(f"/sys/class/net/{s}/master"))
        a = ([x for fam in (4, 6) for x in addrs(s, fam, scope="global")]
             if Path(f"/sys/class/net/{s}").exists() else [])
        if a:
            left[f"{s} addresses"] = a
    rt = [r for fam in (4, 6) for r in routes(fam) if r.get("dev") == bond]
    if rt:
        left["routes"] = rt
    procs = processes()
    if procs:
        left["processes"] = procs
    if (RUN / bond).exists():
        left["run records"] = sorted(str(p.relative_to(RUN)) for p in (RUN / bond).rglob("*"))
    units = active_units()
    if units:
        left["units"] = units
    return left


def journal(unit=None, since_cursor=None, grep=None):
    cmd = ["journalctl", "-b", "--no-pager", "-o", "cat"]
    if unit:
        cmd += ["-u", unit]
    if grep:
        cmd += ["-g", grep]
    return sh(cmd, check=False, quiet=True).stdout


def uptime():
    return float(Path("/proc/uptime").read_text().split()[0])


def unit_timestamp(unit, prop="ActiveEnterTimestampMonotonic"):
    """Seconds since boot when the unit entered the state (0.0 = never)."""
    v = unit_props(unit, prop).get(prop, "0")
    return int(v or 0) / 1e6


def status_text(*bonds):
    return sh(["wibond", "status", *bonds], check=False, quiet=True).stdout


def status_json(*bonds):
    """`wibond status --json`, parsed; the bonds' reports by name."""
    import json

    out = sh(["wibond", "status", "--json", *bonds], check=False, quiet=True).stdout
    return {b["bond"]: b for b in json.loads(out)["bonds"]}


def monotonic():
    return time.monotonic()


def journal_mono(args, needle):
    """Uptime (s) of the first journal entry of this boot, selected by journalctl ARGS, whose
    message contains NEEDLE; None if there is none."""
    import json

    r = sh(["journalctl", "-b", "--no-pager", "-o", "json", *args], check=False, quiet=True)
    for ln in r.stdout.splitlines():
        e = json.loads(ln)
        msg = e.get("MESSAGE")
        if isinstance(msg, str) and needle in msg:
            return int(e.get("_SOURCE_MONOTONIC_TIMESTAMP") or e["__MONOTONIC_TIMESTAMP"]) / 1e6
    return None


def device_unit(ifname):
    return sh(["systemd-escape", "--path", "--suffix=device", f"/sys/subsystem/net/devices/{ifname}"],
              quiet=True).stdout.strip()


def boot_ready(bond, wlan):
    """When, at this boot, the radio's device appeared and the bond became ready the way the
    benchmarks define it (the radio enslaved and associated, a DHCPv4 lease bound): uptimes
    in seconds from the journal, whatever set the bond up (wibond or the seed's units)."""
    t = {"radio device": unit_timestamp(device_unit(wlan)) or None,
         "radio enslaved": journal_mono(["-k"], f"(slave {wlan}): Enslaving"),
         "associated": journal_mono(["-u", f"{bond}-supplicant@{wlan}.service"],
                                    "CTRL-EVENT-CONNECTED"),
         "DHCPv4 bound": journal_mono(["-t", "dhclient"], "bound to")}
    if all(t.values()):
        t["ready"] = max(t["radio enslaved"], t["associated"], t["DHCPv4 bound"])
    return t


def boot_figures(res, label, bond, wlan):
    t = boot_ready(bond, wlan)
    res.check(f"{label}: boot timestamps found", "ready" in t, t)
    if "ready" in t:
        res.figure(f"{label} boot: uptime at ready (enslaved, associated, DHCPv4 bound)",
                   round(t["ready"], 2), "s")
        res.figure(f"{label} boot: radio device -> ready", round(t["ready"] - t["radio device"], 2),
                   "s")


def scrape(url="http://127.0.0.1:9100/metrics"):
    """What Prometheus would scrape from node_exporter: {'name{labels}': value} ({} when it
    does not answer)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode("utf-8", "replace")
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        key, _, value = line.rpartition(" ")
        try:
            out[key] = float(value)
        except ValueError:
            pass
    return out


def wibond_metrics(scraped, bond="bond0"):
    """The wibond_ samples of BOND in a scrape, with the bond's label left out of the key:
    {'wibond_bond_active_slave{slave="eth0"}': 1.0, 'wibond_failovers_total': 2.0, ...}."""
    out = {}
    for key, value in scraped.items():
        if not key.startswith("wibond_") or f'bond="{bond}"' not in key:
            continue
        key = key.replace(f'bond="{bond}",', "").replace(f',bond="{bond}"', "") \
                 .replace(f'{{bond="{bond}"}}', "")
        out[key] = value
    return out


def reachable(addr):
    """ADDR answers one ping within a second."""
    return sh(["ping", "-c", "1", "-W", "1", addr], check=False, quiet=True).returncode == 0


def only_radio_up(far, bond="bond0"):
    """A box whose only path is one radio, come up: the bond made, the radio associated, a
    DHCPv4 address, the router answering. (radio, router, the address list)."""
    radio = far.stations[0]["ifname"]
    router = far.ip4.split("/")[0]
    wait_unit(f"wibond@{bond}.service", "active", 240)
    wait_for(lambda: wpa_status(radio).get("wpa_state") == "COMPLETED", 180, f"{radio} associated")
    addr = wait_for(lambda: global_addrs(bond, 4), 180, f"{bond}'s DHCPv4 address")
    wait_for(lambda: reachable(router), 60, "the router answers")
    return radio, router, addr
