#!/usr/bin/env python3
"""Issue 19: beside systemd-networkd as Arch Linux ARM enables it (en.network, eth.network:
DHCP on every cable; plus a wl* file). With nothing but /etc/wibond.conf added, the bond comes
up as it does alone, no slave has an address or route of its own, networkd shows wibond's
links unmanaged and keeps configuring its own dummy0; the same after a cable pull, a failover
and back, and a dongle plugged at run time."""
import time

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Pinger, Results, bond_state, fixture, hwsim, sh, wait_for
from guest.failover import PING_MS, failover, loss_figures
from guest.managers import check_kept_off, networkctl_setup, own_config
from guest.product import failed_units, global_addrs, status_text, unit_state, wait_unit

BOND = "bond0"
SPARE_MAC = "02:d2:00:00:00:01"

with Results() as res:
    far = fixture()
    wlan, wired = far.stations[0]["ifname"], far.wired
    for u in ("wibond@bond0.service", f"bond0-wired@{wired}.service",
              f"bond0-supplicant@{wlan}.service"):
        wait_unit(u, "active", 180)
    res.check("systemd-networkd runs", unit_state("systemd-networkd.service") == "active",
              unit_state("systemd-networkd.service"))
    st = wait_for(lambda: (lambda s: s if s and sorted(s["slaves"]) == sorted([wired, wlan])
                           and s["active_slave"] == wired else None)(bond_state(BOND)),
                  180, "both slaves, the wire active")
    a4 = wait_for(lambda: global_addrs(BOND, 4), 180, "DHCPv4 address on the bond")
    res.check("boot: the bond as alone (both slaves, the wire active, a DHCP address)",
              bool(st and a4), {"bond": st, "a4": a4})
    check_kept_off(res, "boot", [wired, wlan])
    setup = wait_for(lambda: (lambda s: s if s.get("dummy0") == "configured" else None)(
        networkctl_setup()), 120, "networkd configured dummy0", raise_on_timeout=False) or networkctl_setup()
    res.check("networkctl: wibond's links unmanaged",
              all(setup.get(i) == "unmanaged" for i in (wired, wlan, BOND)), setup)
    res.check("networkd still configures its own dummy0 (10.99.0.1/24)",
              setup.get("dummy0") == "configured" and "10.99.0.1/24" in own_config("dummy0"),
              {"setup": setup, "dummy0": own_config("dummy0")})
    files = sh(["ls", "/run/systemd/network"], check=False, quiet=True).stdout.split()
    res.check("wibond's .network file is in /run/systemd/network", "10-wibond.network" in files, files)
    out = status_text(BOND)
    res.check("wibond status names networkd and what it was told",
              "systemd-networkd (systemd-networkd.service enabled): /run/systemd/network/10-wibond.network"
              in out, out[-800:])

    with Pinger(far.ip4.split("/")[0], interval=PING_MS / 1000) as p:
        wait_for(lambda: p.replies_since(p.now() - 1) >= 50, 60, "pinger steady")
        cut = failover(res, p, "cable pulled", far.wire_cut, wlan)
        time.sleep(3)  # networkd sees the carrier change: it must not start DHCP on the cable
        back = failover(res, p, "cable back", far.wire_restore, wired)
        time.sleep(3)
    loss_figures(res, p, cut)
    loss_figures(res, p, back)
    check_kept_off(res, "after the cable pull and failback", [wired, wlan])
    res.check("the bond kept its address", global_addrs(BOND, 4) == a4, global_addrs(BOND, 4))

    rid = hwsim.new_radio(perm_addr=SPARE_MAC)
    name = wait_for(lambda: (hwsim.radio_info(rid)["ifnames"] or [None])[0], 60, "dongle netdev")
    sh(["udevadm", "settle"], quiet=True)
    enslaved = wait_for(lambda: name in (bond_state(BOND) or {}).get("slaves", []), 120,
                        f"{name} enslaved", raise_on_timeout=False)
    prop = sh(["udevadm", "info", "-q", "property", "-p", f"/sys/class/net/{name}"],
              check=False, quiet=True).stdout
    res.check(f"dongle {name} (the [[spare]] MAC) plugged: enslaved", bool(enslaved), bond_state(BOND))
    res.check(f"dongle {name}: udev marks it wibond's (ID_NET_MANAGED_BY, NM_UNMANAGED)",
              "ID_NET_MANAGED_BY=io.wibond" in prop and "NM_UNMANAGED=1" in prop, prop[-600:])
    time.sleep(3)
    res.check(f"dongle {name}: networkd leaves it unmanaged (wl* would have taken it)",
              networkctl_setup().get(name) == "unmanaged", networkctl_setup())
    check_kept_off(res, "after the dongle plug", [wired, wlan, name])
    res.check("networkd still has dummy0", "10.99.0.1/24" in own_config("dummy0"), own_config("dummy0"))
    res.check("no failed units", not failed_units(), failed_units())
