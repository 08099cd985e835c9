"""Another network manager beside wibond (issue 19), one sequence for each: the bond comes up
as it does alone, no slave has an address or route of its own, the manager shows wibond's
links as not its own and keeps configuring a link of its own; the same after a cable pull,
the failback and a dongle plugged at run time. The beside-* scenarios give the manager."""
import time
from pathlib import Path

from . import hwsim
from .failover import PING_MS, failover, loss_figures
from .net import addrs, bond_state, routes
from .pinger import Pinger
from .product import failed_units, global_addrs, processes, status_text, unit_state, wait_unit
from .util import sh, wait_for

BOND = "bond0"
OWN_LINK, OWN_ADDR = "dummy0", "10.99.0.1/24"


def own_config(ifname):
    """What ifname has of its own: global addresses and routes (the slaves of a bond have
    none; a manager that took one gives it both)."""
    out = addrs(ifname, 4, scope="global") + addrs(ifname, 6, scope="global")
    for family in (4, 6):
        out += [f"route {r.get('dst')}" for r in routes(family)
                if r.get("dev") == ifname and not str(r.get("dst", "")).startswith("fe80")]
    return out


def networkd_states():
    """{link: setup state} as `networkctl list` shows it (configured, unmanaged, ...), read
    from networkd's own state files (/run/systemd/netif/links/<ifindex>, ADMIN_STATE):
    networkctl needs D-Bus, which the lab's minimal images do not run."""
    out = {}
    for dev in Path("/sys/class/net").iterdir():
        try:
            index = (dev / "ifindex").read_text().strip()
            text = Path(f"/run/systemd/netif/links/{index}").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("ADMIN_STATE="):
                out[dev.name] = line.split("=", 1)[1]
    return out


def nmcli_states():
    """{device: state} as `nmcli device` shows it (connected, unmanaged, ...)."""
    r = sh(["nmcli", "-t", "-f", "DEVICE,STATE", "device"], check=False, quiet=True)
    return dict(ln.split(":", 1) for ln in r.stdout.splitlines() if ":" in ln)


def dhcpcd_states():
    """{interface: "denied" or "managed"} for the global dhcpcd.service: whether the command
    line systemd runs it with (wibond's drop-in) denies the interface."""
    from fnmatch import fnmatchcase

    line = sh(["systemctl", "show", "-p", "ExecStart", "--value", "dhcpcd.service"],
              check=False, quiet=True).stdout
    words = line.split()
    deny = []
    if "--denyinterfaces" in words:
        deny = words[words.index("--denyinterfaces") + 1].split(",")
    return {dev.name: "denied" if any(fnmatchcase(dev.name, d) for d in deny) else "managed"
            for dev in Path("/sys/class/net").iterdir()}


MANAGERS = {
    # unit, {link: state}, the state of a link it keeps off, the state of its own link
    "networkd": ("systemd-networkd.service", networkd_states, "unmanaged", "configured"),
    "NetworkManager": ("NetworkManager.service", nmcli_states, "unmanaged", "connected"),
    "dhcpcd": ("dhcpcd.service", dhcpcd_states, "denied", "managed"),
}


def check_kept_off(res, label, ifaces):
    own = {i: own_config(i) for i in ifaces}
    res.check(f"{label}: no slave has an address or route of its own",
              not any(own.values()), own)


def beside(res, far, manager, dongle_mac=None, make_own_link=None):
    """The whole sequence beside MANAGER (a key of MANAGERS). make_own_link: a function
    that creates the manager's own link when the scenario does not at boot."""
    unit, states, kept_off, own_state = MANAGERS[manager]
    wlan, wired = far.stations[0]["ifname"], far.wired
    for u in ("wibond@bond0.service", f"bond0-wired@{wired}.service",
              f"bond0-supplicant@{wlan}.service"):
        wait_unit(u, "active", 180)
    res.check(f"{unit} runs", wait_for(lambda: unit_state(unit) == "active", 120, unit,
                                       raise_on_timeout=False) is not None, unit_state(unit))
    st = wait_for(lambda: (lambda s: s if s and sorted(s["slaves"]) == sorted([wired, wlan])
                           and s["active_slave"] == wired else None)(bond_state(BOND)),
                  180, "both slaves, the wire active")
    a4 = wait_for(lambda: global_addrs(BOND, 4), 180, "DHCPv4 address on the bond")
    res.check("boot: the bond as alone (both slaves, the wire active, a DHCP address)",
              bool(st and a4), {"bond": st, "a4": a4})
    if make_own_link:
        make_own_link()
    got = wait_for(lambda: OWN_ADDR in own_config(OWN_LINK)
                   and (own_state is None or states().get(OWN_LINK) == own_state), 120,
                   f"{manager} configures {OWN_LINK}", raise_on_timeout=False)
    time.sleep(3)  # a manager that would take a slave has had its chance
    check_kept_off(res, "boot", [wired, wlan])
    now = states()
    res.check(f"{manager}: wibond's links are {kept_off}",
              all(now.get(i) == kept_off for i in (wired, wlan, BOND)), now)
    res.check(f"{manager} still configures its own {OWN_LINK} ({OWN_ADDR})",
              got is not None and (own_state is None or now.get(OWN_LINK) == own_state),
              {"state": now.get(OWN_LINK), OWN_LINK: own_config(OWN_LINK)})
    out = status_text(BOND)
    res.check(f"wibond status names {manager}", f"({unit} enabled)" in out, out[-800:])
    supplicants = [p for p in processes() if "wpa_supplicant" in p and wlan in p]
    res.check(f"one supplicant on {wlan}, wibond's", len(supplicants) == 1, supplicants)

    with Pinger(far.ip4.split("/")[0], interval=PING_MS / 1000) as p:
        wait_for(lambda: p.replies_since(p.now() - 1) >= 50, 60, "pinger steady")
        cut = failover(res, p, "cable pulled", far.wire_cut, wlan)
        time.sleep(3)  # the manager sees the carrier change: it must not take the cable
        back = failover(res, p, "cable back", far.wire_restore, wired)
        time.sleep(3)
    loss_figures(res, p, cut)
    loss_figures(res, p, back)
    check_kept_off(res, "after the cable pull and failback", [wired, wlan])
    res.check("the bond kept its address", global_addrs(BOND, 4) == a4, global_addrs(BOND, 4))

    rid = hwsim.new_radio(perm_addr=dongle_mac)
    name = wait_for(lambda: (hwsim.radio_info(rid)["ifnames"] or [None])[0], 60, "dongle netdev")
    sh(["udevadm", "settle"], quiet=True)
    enslaved = wait_for(lambda: name in (bond_state(BOND) or {}).get("slaves", []), 120,
                        f"{name} enslaved", raise_on_timeout=False)
    res.check(f"dongle {name} plugged: enslaved", enslaved is not None, bond_state(BOND))
    time.sleep(3)
    now = states()
    res.check(f"dongle {name}: {manager} keeps off it ({kept_off})", now.get(name) == kept_off, now)
    check_kept_off(res, "after the dongle plug", [wired, wlan, name])
    res.check(f"{manager} still has {OWN_LINK}", OWN_ADDR in own_config(OWN_LINK), own_config(OWN_LINK))
    res.check("no failed units", not failed_units(), failed_units())
