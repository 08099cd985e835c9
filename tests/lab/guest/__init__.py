"""wibond VM-lab guest library.  Imported by scenario check.py scripts INSIDE the lab VM.

Importing this package on any machine whose kernel command line lacks ``wibond.lab=1``
exits the process (status 3) before anything else happens, so a guest script run on a host
by mistake does nothing.

Quick reference (see tests/lab/README.md for the full story):

    from guest import Results, fixture, wait_for, bond_state, addrs, Pinger, sh

    far = fixture()                  # controls for the far side (netns "far")
    far.wire_cut(); far.wire_restore(); far.ap_down(); far.ap_up(); far.ap_stop(); far.ap_start()
    far.deauth(mac); far.ap_stations(); far.dhcp_stop(); far.dhcp_start(); far.leases()
    far.rfkill("wlan0", True); r = far.new_radio(); far.del_radio(r["id"]); far.far_sh([...])
    wait_for(lambda: bond_state("bond0")["active_slave"] == "wlan0", 60, "failover")
    with Pinger(far.ip4) as p: ...;  p.stats(since=t0, until=t1)
    with Results() as res: res.check(name, ok, detail); res.figure(name, value, unit)

Entry points of the lab units: python3 -m guest fixture setup|show|teardown; python3 -m guest run.
"""
import sys

LAB_SWITCH = "wibond.lab=1"


def in_lab():
    try:
        with open("/proc/cmdline") as f:
            return LAB_SWITCH in f.read().split()
    except OSError:
        return False


def require_lab():
    if not in_lab():
        sys.stderr.write(
            f"wibond lab guest code refuses to run: '{LAB_SWITCH}' is not on the kernel "
            "command line (this is not the lab VM).\n")
        raise SystemExit(3)


require_lab()

from . import hwsim  # noqa: E402
from .fixture import Fixture, fixture, load_config  # noqa: E402
from .net import (  # noqa: E402
    addrs,
    bond_state,
    has_carrier,
    ip_j,
    link,
    links,
    mac_of,
    operstate,
    routes,
    slave_state,
)
from .paths import LAB_DIR, OUT_DIR, SCENARIO_DIR, STATE_DIR  # noqa: E402
from .pinger import Pinger  # noqa: E402
from .results import Results  # noqa: E402
from .util import WaitTimeout, log, sh, wait_for  # noqa: E402

__all__ = ["LAB_DIR", "OUT_DIR", "SCENARIO_DIR", "STATE_DIR", "sh", "log", "wait_for",
           "WaitTimeout", "bond_state", "slave_state", "ip_j", "addrs", "routes", "links",
           "link", "has_carrier", "operstate", "mac_of", "Pinger", "Results", "fixture",
           "Fixture", "load_config", "hwsim", "in_lab", "require_lab"]
