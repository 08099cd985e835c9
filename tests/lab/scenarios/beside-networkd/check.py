#!/usr/bin/env python3
"""Issue 19: beside systemd-networkd as Arch Linux ARM enables it (en.network, eth.network:
DHCP on every cable; plus a wl* file of the kind Arch guides suggest). With nothing but
/etc/wibond.conf added: the bond as alone, no slave configured by networkd, wibond's links
unmanaged, networkd's own dummy0 configured; across a failover and a dongle (the [[spare]]
MAC: .network PermanentMACAddress= and udev's ID_NET_MANAGED_BY) plugged at run time."""
import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Results, fixture
from guest.managers import beside

with Results() as res:
    beside(res, fixture(), "networkd", dongle_mac="02:d2:00:00:00:01")
