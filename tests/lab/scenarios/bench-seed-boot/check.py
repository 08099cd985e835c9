#!/usr/bin/env python3
"""Benchmark (issue 12): the seed's own units at boot, for bench-seed's wibond boot figures.

etc/ is the ArchWiki page's setup as bench-seed installs it (Debian's paths, the lab's
interface names), enabled the page's way (WantedBy=default.target); no wibond.conf. Prints
the uptime at which the bond was ready (the radio enslaved and associated, a DHCPv4 lease
bound) and the time from the radio's device unit to ready, as bench-seed does for wibond.
"""
import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Results, fixture, sh, wait_for
from guest.product import boot_figures, global_addrs, wait_unit, wpa_status

with Results() as res:
    far = fixture()
    wlan = far.stations[0]["ifname"]
    wait_unit(f"bond0-supplicant@{wlan}.service", "active", 240)
    wait_for(lambda: wpa_status(wlan).get("wpa_state") == "COMPLETED", 240, f"{wlan} associated")
    wait_for(lambda: global_addrs("bond0", 4), 240, "an IPv4 address on the bond")
    wait_for(lambda: sh(["ping", "-c", "1", "-W", "1", far.ip4], check=False,
                        quiet=True).returncode == 0, 240, "the gateway answers")
    boot_figures(res, "seed", "bond0", wlan)
