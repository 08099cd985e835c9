#!/usr/bin/env python3
"""Issue 19: beside a global dhcpcd.service (dhcpcd on every interface, as older guides set it
up). With nothing but /etc/wibond.conf added: wibond's drop-in starts it with
--denyinterfaces naming wibond's interfaces, no slave gets an address of dhcpcd's, dhcpcd
still configures its own dummy0; across a failover and a dongle (the [[wlan*]] pattern)."""
import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Results, fixture, sh
from guest.managers import beside


def dummy0():
    sh(["ip", "link", "add", "dummy0", "type", "dummy"])
    sh(["ip", "link", "set", "dummy0", "up"])


with Results() as res:
    beside(res, fixture(), "dhcpcd", make_own_link=dummy0)
