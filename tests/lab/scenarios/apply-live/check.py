#!/usr/bin/env python3
"""Issue 20, proofs 1 and 2: `wibond apply` changes a running system touching only what changed.

bond0 is the ArchWiki bond (eth0 preferred, wlan0) with DHCPv4 and carries a ping to the router
every 10 ms; bond1 has a static address on a dummy link. In turn: apply with the file
unchanged, then with only bond1 changed (bond0: no ping lost, none of its units restarted);
then live changes on bond0: the primary, a radio's bitrates, ARP monitoring on and off, a slave
added, a slave removed, the active slave removed. Each under the ping: the pings lost are
figures, the bond's state is checked, no unit fails."""
from pathlib import Path

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Pinger, Results, bond_state, fixture, sh, wait_for
from guest.failover import PING_MS
from guest.product import (
    dhcp_units,
    failed_units,
    global_addrs,
    journal,
    unit_props,
    unit_state,
    wait_unit,
    wpa_status,
)
from guest.util import say

CONF = Path("/etc/wibond.conf")
BASE = CONF.read_text()
WLAN1 = """    [[wlan1]]
        wpa_conf = /etc/wpa_supplicant/wpa_supplicant.conf
"""


def invocations(units):
    return {u: unit_props(u, "InvocationID").get("InvocationID") for u in units}


def enslaved(bond="bond0"):
    st = bond_state(bond)
    return st["slaves"] if st else []


with Results() as res:
    far = fixture()
    wlan0, wlan1 = far.stations[0]["ifname"], far.stations[1]["ifname"]
    eth0 = far.wired
    gw = far.ip4.split("/")[0]
    wait_unit("wibond@bond0.service", "active", 240)
    wait_for(lambda: sorted(enslaved()) == sorted([eth0, wlan0]) and
             bond_state("bond0")["active_slave"] == eth0, 240, "bond0: eth0 and wlan0, eth0 active")
    wait_for(lambda: wpa_status(wlan0).get("wpa_state") == "COMPLETED", 180, f"{wlan0} associated")
    wait_for(lambda: global_addrs("bond0", 4), 180, "bond0's DHCPv4 address")
    sh(["ip", "link", "add", "dummy1", "type", "dummy"])
    wait_for(lambda: enslaved("bond1") == ["dummy1"] and "10.99.0.1/24" in global_addrs("bond1", 4),
             120, "bond1 with dummy1 and 10.99.0.1/24")
    bond0_units = ["wibond@bond0.service", f"bond0-wired@{eth0}.service",
                   f"bond0-supplicant@{wlan0}.service"] + dhcp_units("bond0")
    for u in bond0_units:
        wait_unit(u, "active", 120)
    first = invocations(bond0_units)
    res.check("records: each bond's start kept what it was made from",
              all(Path(f"/run/wibond/{b}/applied.json").exists() for b in ("bond0", "bond1")),
              sh(["ls", "-l", "/run/wibond/bond0", "/run/wibond/bond1"], check=False, quiet=True).stdout)

    def applied(label, text, settled, marks=()):
        """TEXT into /etc/wibond.conf and `wibond apply` while bond0 carries the ping; wait
        for SETTLED(); figures of what the ping lost."""
        CONF.write_text(text)
        with Pinger(gw, interval=PING_MS / 1000) as p:
            wait_for(lambda: p.replies_since(p.now() - 1) >= 50, 60, "pinger steady")
            t0 = p.now()
            r = sh(["wibond", "apply"], check=False, quiet=True, timeout=300)
            t1 = p.now()
            ok = wait_for(settled, 120, f"{label}: settled", raise_on_timeout=False)
            wait_for(lambda: p.replies_since(p.now() - 1) >= 50, 60, f"{label}: pings flow")
            t_end = p.now()
        s = p.stats(since=t0, until=t_end)
        say(f"$ wibond apply   ({label})\n{r.stdout}{r.stderr}"
            f"-> {s['lost']} of {s['sent']} pings lost, longest gap {s['max_gap_ms']} ms, "
            f"apply took {t1 - t0:.1f} s")
        res.check(f"{label}: wibond apply exited 0", r.returncode == 0, r.stdout + r.stderr)
        res.check(f"{label}: the result is in place", bool(ok), bond_state("bond0"))
        res.figure(f"{label}: pings lost", s["lost"], f"of {s['sent']} at {PING_MS} ms")
        res.figure(f"{label}: longest gap without a reply", s["max_gap_ms"], "ms")
        res.figure(f"{label}: wibond apply took", round(t1 - t0, 2), "s")
        res.timeline(label, p, t0, t_end, [(t0, "wibond apply"), (t1, "apply done"), *marks])
        res.check(f"{label}: no failed unit", not failed_units(), failed_units())
        return r, s

    # -- 1. unchanged, and only the other bond changed: bond0 untouched
    r, s = applied("unchanged", BASE, lambda: True)
    res.check("unchanged: both bonds said unchanged",
              "bond0: unchanged, not touched" in r.stdout and "bond1: unchanged, not touched" in r.stdout,
              r.stdout)
    res.check("unchanged: no ping lost", s["lost"] == 0, s)
    other = BASE.replace("10.99.0.1/24", "10.99.0.2/24")
    r, s = applied("bond1 changed", other,
                   lambda: global_addrs("bond1", 4) == ["10.99.0.2/24"])
    res.check("bond1 changed: its address swapped in place",
              "bond1: address 10.99.0.1/24 -> 10.99.0.2/24, set in place" in r.stdout,
              r.stdout)
    res.check("bond1 changed: bond0 said unchanged, no ping lost on it",
              "bond0: unchanged, not touched" in r.stdout and s["lost"] == 0, s)
    res.check("bond1 changed: none of bond0's units restarted", invocations(bond0_units) == first,
              {"before": first, "after": invocations(bond0_units)})
    base = other

    # -- 2. live changes on bond0
    to_radio = base.replace("primary = eth0", f"primary = {wlan0}")
    r, s = applied("primary eth0 -> wlan0", to_radio,
                   lambda: bond_state("bond0")["active_slave"] == wlan0)
    res.check("primary: set in place, no unit of bond0 restarted",
              invocations(bond0_units) == first and "bond0: primary eth0 -> wlan0, set in place"
              in r.stdout, r.stdout)
    applied("primary wlan0 -> eth0", base, lambda: bond_state("bond0")["active_slave"] == eth0)

    rates = base.replace("wpa_conf = /etc/wpa_supplicant/wpa_supplicant.conf\n",
                         "wpa_conf = /etc/wpa_supplicant/wpa_supplicant.conf\n"
                         "        bitrates = legacy-2.4 6 9 12 18 24 36 48 54\n", 1)
    r, s = applied("bitrates on wlan0 (a backup)", rates,
                   lambda: unit_state(f"bond0-supplicant@{wlan0}.service") == "active"
                   and wlan0 in enslaved() and wpa_status(wlan0).get("wpa_state") == "COMPLETED")
    env = Path(f"/run/wibond/bond0/slave-{wlan0}.env").read_text()
    res.check("bitrates: the radio's unit restarted with them, the others not",
              "legacy-2.4 6 9" in env and invocations(bond0_units[:2]) == {
                  u: first[u] for u in bond0_units[:2]}, env)
    base = rates

    arp = base.replace("    miimon = 100\n    dhcp = ipv4\n",
                       "    miimon = 100\n    arp_interval = 200\n    arp_ip_target = gateway\n"
                       "    dhcp = ipv4\n", 1)
    r, s = applied("ARP monitoring on", arp,
                   lambda: bond_state("bond0")["arp_ip_target"] == gw
                   and bond_state("bond0")["active_slave"] == eth0
                   and unit_state("wibond-arp@bond0.service") == "active")
    applied("ARP monitoring off", base,
            lambda: bond_state("bond0")["arp_interval"] == "0"
            and bond_state("bond0")["miimon"] == "100"
            and unit_state("wibond-arp@bond0.service") != "active")

    added = base.replace("\n[bond1]", WLAN1 + "\n[bond1]", 1)
    r, s = applied("slave wlan1 added", added,
                   lambda: wlan1 in enslaved() and wpa_status(wlan1).get("wpa_state") == "COMPLETED")
    res.check("slave added: joined, eth0 still active, no ping lost",
              bond_state("bond0")["active_slave"] == eth0 and s["lost"] == 0, s)
    r, s = applied("slave wlan1 removed", base,
                   lambda: wlan1 not in enslaved()
                   and unit_state(f"bond0-supplicant@{wlan1}.service") != "active")
    res.check("slave removed: left, eth0 still active, no ping lost",
              bond_state("bond0")["active_slave"] == eth0 and s["lost"] == 0, s)

    no_wire = base.replace("primary = eth0", f"primary = {wlan0}").replace(
        "    [[eth0]]\n        type = wired\n", "")
    r, s = applied("active slave eth0 removed", no_wire,
                   lambda: enslaved() == [wlan0] and bond_state("bond0")["active_slave"] == wlan0)
    res.check("active slave removed: traffic moved to wlan0 before eth0 left",
              f"active slave {eth0} -> {wlan0} before {eth0} leaves" in r.stdout, r.stdout)
    res.check("addresses kept", global_addrs("bond0", 4), global_addrs("bond0", 4))

    # -- the baseline: what applying an edit cost before `wibond apply` (daemon-reload and a
    # restart of the bond's units), on the same bond, under the same ping
    CONF.write_text(no_wire)
    with Pinger(gw, interval=PING_MS / 1000) as p:
        wait_for(lambda: p.replies_since(p.now() - 1) >= 50, 60, "pinger steady")
        t0 = p.now()
        sh(["systemctl", "daemon-reload"])
        sh(["systemctl", "restart", "wibond@bond0.service"], timeout=300)
        t1 = p.now()
        back = wait_for(lambda: wlan0 in enslaved() and global_addrs("bond0", 4)
                        and p.replies_since(p.now() - 1) >= 50, 180, "restart: pings flow",
                        raise_on_timeout=False)
        t_end = p.now()
    s = p.stats(since=t0, until=t_end)
    say(f"baseline, `systemctl daemon-reload; systemctl restart wibond@bond0`: {s['lost']} of "
        f"{s['sent']} pings lost, longest gap {s['max_gap_ms']} ms")
    res.check("baseline restart: the bond came back", bool(back), bond_state("bond0"))
    res.figure("baseline: daemon-reload + restart of wibond@bond0: pings lost", s["lost"],
               f"of {s['sent']} at {PING_MS} ms")
    res.figure("baseline: daemon-reload + restart of wibond@bond0: longest gap without a reply",
               s["max_gap_ms"], "ms")
    res.timeline("baseline: restart of the bond's units", p, t0, t_end,
                 [(t0, "daemon-reload + restart"), (t1, "restart returned")])
    res.check("no unit failed in the journal",
              "Failed with result" not in journal(grep="wibond|bond0|bond1|dhc"),
              journal(grep="Failed with result")[-2000:])
    res.check("no failed units at the end", not failed_units(), failed_units())
