#!/usr/bin/env python3
"""Issue 13: silent failures with the Raspberry Pi setup (two radios, static address), each
radio on its own access point.

ARP monitoring of the static gateway (arp_ip_target = gateway).  Five minutes with nothing
wrong: no failover, no slave declared down.  Then wlan0's access point loses its uplink (it
stays up and associated) and vanishes without a deauth, with ARP monitoring and again with MII
monitoring (the same file without the arp_ keys); wlan1 takes over.  Figures: time to
failover, pings lost, failback."""
import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Results, bond_state, fixture, wait_for
from guest.product import failed_units, global_addrs, status_text, wait_unit, wpa_status
from guest.silent import CONF, faults_in_turn, mii_variant, ready, reconfigure, steady

BOND = "bond0"
STEADY_S = 300
AP_FAULTS = ["ap-uplink", "ap-silent"]

with Results() as res:
    far = fixture()
    wlan0, wlan1 = far.stations[0]["ifname"], far.stations[1]["ifname"]
    gw = far.ip4
    text = CONF.read_text()
    units = ["wibond@bond0.service", f"bond0-supplicant@{wlan0}.service",
             f"bond0-supplicant@{wlan1}.service"]
    for u in units:
        wait_unit(u, "active", 240)
    for w in (wlan0, wlan1):
        wait_for(lambda w=w: wpa_status(w).get("wpa_state") == "COMPLETED", 180, f"{w} associated")
    res.check("each radio on its own access point",
              far.stations[0]["mac"] in far.ap_stations(ap=0)
              and far.stations[1]["mac"] in far.ap_stations(ap=1),
              {"ap0": far.ap_stations(ap=0), "ap1": far.ap_stations(ap=1)})

    ready([wlan0, wlan1], wlan0, arp_target=gw)
    st = bond_state(BOND)
    res.check("the static gateway is the ARP target, MII off, arp_validate all, 2 missed",
              st["arp_ip_target"] == gw and st["miimon"] == "0" and st["arp_interval"] == "200"
              and st["arp_validate"] == "all 3" and st["arp_missed_max"] == "2",
              {k: st[k] for k in ("arp_interval", "arp_ip_target", "miimon", "arp_validate",
                                  "arp_missed_max")})
    out = status_text(BOND)
    res.check("wibond status shows the ARP monitoring", f"monitoring: ARP every 200 ms to {gw}" in out, out)

    steady(res, far, gw, STEADY_S, "ARP")

    faults_in_turn(res, far, gw, AP_FAULTS, [wlan0, wlan1], wlan0, wlan1, "ARP", arp_target=gw)
    reconfigure(mii_variant(text), units)
    faults_in_turn(res, far, gw, AP_FAULTS, [wlan0, wlan1], wlan0, wlan1, "MII")

    res.check("the static address stayed", global_addrs(BOND, 4) == ["192.168.77.150/24"],
              global_addrs(BOND, 4))
    res.check("no failed units", not failed_units(), failed_units())
