#!/usr/bin/env python3
"""Issue 19: beside NetworkManager as Raspberry Pi OS runs it (the Imager's preconfigured
Wi-Fi connection for any radio, the automatic wired connection, the D-Bus wpa_supplicant).
With nothing but /etc/wibond.conf added: the bond as alone, one supplicant per radio,
wibond's devices unmanaged in `nmcli device`, NetworkManager's own dummy0 connected; across
a failover and a dongle (the [[spare]] MAC: match-device mac: and udev's NM_UNMANAGED)."""
import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Results, fixture
from guest.managers import beside

with Results() as res:
    beside(res, fixture(), "NetworkManager", dongle_mac="02:d2:00:00:00:01")
