"""The run-time steps wibond's units run (helper: wibond-helper's commands).
They act on the kernel through one IO layer (hostio): the bond and its slaves
(bondctl), addresses, routes and DNS (addressing), DHCP clients' files and
clean-up (dhcpsteps), hotplugged devices (hotplug) as udev sees them (devices), rfkill (rfkill), and ARP
monitoring of the lease's router (leasearp)."""
