"""What runs after boot: the steps wibond's units run, and the changes `wibond apply` and
`wibond try` make to a running system with the same steps.

    helper     wibond-helper's command table and main: the units' entry point, nothing
               else imports it
    context    what a step is given (Context: the Host, the config in force, its Output,
               udev lookups) and its error (StepError)
    hostio     the one IO layer: sysfs, procfs, rtnetlink, programs; every write logged
    bondstate  the one reader of a bond's kernel state (options, slaves, active slave, MII
               and ARP verdicts), for the steps, apply, try's check and `wibond status`
    bondctl    the writes to a bond: create, enslave, release, delete, options
    addressing static addresses, default routes, DNS
    dhcpsteps  a DHCP client's files, waiting for the active slave, clean-up
    hotplug    which unit serves an interface, starting it (devices: udev's view)
    rfkill, leasearp, handoff   a blocked radio, ARP monitoring of the lease's router, the
               other network managers' files
    apply, trial   `wibond apply` (a plan carried out) and `wibond try` (with a way back)
"""
