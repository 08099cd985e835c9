#!/usr/bin/env python3
"""Issue 20, proofs 5 and 6: `wibond try` across a reboot, three boots of one guest.

Boot 1: a candidate (miimon 200) tried and left pending; the guest reboots before confirming.
Boot 2: the old /etc/wibond.conf came up (miimon 100, no try pending, no rollback timer);
        the candidate tried again and confirmed with `wibond confirm`; the guest reboots.
Boot 3: the confirmed config came up (miimon 200), /etc/wibond.conf.previous holds the old.
The lab's root is a snapshot: what a disk keeps of /etc goes to the next boot through
Results.reboot(keep=...); /run starts empty at every boot, as on a machine."""
import subprocess
from pathlib import Path

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Results, bond_state, fixture, sh, wait_for
from guest.product import failed_units, global_addrs, unit_state, wait_unit, wpa_status

CONF = Path("/etc/wibond.conf")
PREVIOUS = Path("/etc/wibond.conf.previous")
TRY = Path("/run/wibond-try/wibond.conf")
CANDIDATE = Path("/root/miimon-200.conf")


def up(wlan0):
    wait_unit("wibond@bond0.service", "active", 240)
    wait_for(lambda: wpa_status(wlan0).get("wpa_state") == "COMPLETED", 180, f"{wlan0} associated")
    wait_for(lambda: global_addrs("bond0", 4), 180, "bond0's DHCPv4 address")


def start_try(timeout):
    CANDIDATE.write_text(CONF.read_text().replace("miimon = 100", "miimon = 200"))
    p = subprocess.Popen(["wibond", "try", "--timeout", str(timeout), str(CANDIDATE)], text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = ""
    for line in p.stdout:
        out += line
        if "Press Enter" in line or "rolled back in" in line:
            break
    return p, out


with Results() as res:
    wlan0 = fixture().stations[0]["ifname"]
    up(wlan0)
    if res.boot == 1:
        base = CONF.read_text()
        p, out = start_try(600)
        res.check("boot 1: the try works and waits", "Press Enter" in out, out)
        res.check("boot 1: the candidate is in force", bond_state("bond0")["miimon"] == "200",
                  bond_state("bond0")["miimon"])
        res.check("boot 1: /etc/wibond.conf unchanged before confirming", CONF.read_text() == base)
        Path("/root/base.conf").write_text(base)
        res.reboot(keep=[CONF, PREVIOUS, "/root/base.conf"])
    elif res.boot == 2:
        base = Path("/root/base.conf").read_text()
        res.check("boot 2 (reboot before confirming): the old config came up",
                  bond_state("bond0")["miimon"] == "100" and CONF.read_text() == base,
                  bond_state("bond0")["miimon"])
        res.check("boot 2: no try pending, no rollback timer", not TRY.exists() and
                  unit_state("wibond-rollback.timer") in ("inactive", "unknown", ""),
                  unit_state("wibond-rollback.timer"))
        res.check("boot 2: no failed unit", not failed_units(), failed_units())
        p, out = start_try(600)
        c = sh(["wibond", "confirm"], check=False, quiet=True)
        tail = p.communicate(timeout=60)[0]
        res.check("boot 2: tried again and confirmed", c.returncode == 0 and p.returncode == 0
                  and CONF.read_text() == CANDIDATE.read_text(), out + tail + c.stdout + c.stderr)
        res.reboot(keep=[CONF, PREVIOUS, "/root/base.conf", CANDIDATE])
    else:
        base = Path("/root/base.conf").read_text()
        res.check("boot 3 (reboot after confirming): the confirmed config came up",
                  bond_state("bond0")["miimon"] == "200" and CONF.read_text() == CANDIDATE.read_text(),
                  bond_state("bond0")["miimon"])
        res.check("boot 3: the old file kept beside it", PREVIOUS.read_text() == base)
        res.check("boot 3: no try pending, nothing to apply",
                  not TRY.exists() and "bond0: unchanged, not touched" in
                  sh(["wibond", "apply", "--dry-run"], check=False, quiet=True).stdout)
        res.check("boot 3: no failed unit", not failed_units(), failed_units())
