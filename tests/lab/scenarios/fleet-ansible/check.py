#!/usr/bin/env python3
"""Issue 29: examples/ansible, as the package installs it, run by the guest's ansible-core
against the guest itself (connection local), on a box whose only path is one radio (the
try-rollback setup): wibond installed by apt from its .deb (the maintainer scripts run), the
radio's own wpa_supplicant file, a good change tried with `wibond try --no-wait`, reconnected
and confirmed; a second run with changed=0; check mode showing `wibond apply --dry-run`'s
changes and making none; a radio's file with a wrong key rolled back by itself with the play
failing for this box and saying why. No key in any output.

With connection local, `wait_for_connection` cannot lose the box: what cuts a box off here is
caught by wibond's own check after the try (the fleet's SSH case is the try's deadline)."""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import guest  # noqa: F401  (refuses to run outside the lab VM)
from guest import Results, bond_state, fixture, sh, wait_for
from guest.product import (failed_units, global_addrs, only_radio_up, reachable, unit_state,
                           wpa_status)
from guest.util import say

CONF = Path("/etc/wibond.conf")
TRY_DIR = Path("/run/wibond-try")


EXAMPLE = Path("/usr/share/doc/wibond/examples/ansible")
PSKS = ("wibond-lab-psk", "not-the-right-passphrase")
RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+"
                   r"failed=(\d+)", re.M)


def play(vars_, *extra):
    """ansible-playbook on the example with these variables; (rc, output, recap)."""
    Path("/root/fleet").mkdir(exist_ok=True)
    Path("/root/fleet/inventory.ini").write_text(
        "[pis]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")
    Path("/root/fleet/vars.json").write_text(json.dumps(vars_))
    env = dict(os.environ, ANSIBLE_HOME="/root/fleet/home", ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_DEPRECATION_WARNINGS="0",
               ANSIBLE_PIPELINING="1")
    r = subprocess.run(["ansible-playbook", "-i", "/root/fleet/inventory.ini",
                        "-e", "@/root/fleet/vars.json", *extra, str(EXAMPLE / "site.yml")],
                       text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                       timeout=900)
    m = RECAP.search(r.stdout)
    recap = dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m.groups()))) if m else {}
    return r.returncode, r.stdout, recap


def ansible_example(res, gw, wlan0, addr):
    deb = sorted(Path("/var/cache/wibond-lab").glob("wibond_*_all.deb"))
    wanted = {
        "wibond_package_file": str(deb[0]) if deb else "",
        "wibond_bonds": [{"name": "bond0",
                          "options": {"mode": "active-backup", "primary": wlan0,
                                      "fail_over_mac": "active", "miimon": 100, "dhcp": ["ipv4"]},
                          "slaves": [{"name": wlan0, "options": {
                              "wpa_conf": f"/etc/wpa_supplicant/wpa_supplicant-{wlan0}.conf"}}]}],
        "wibond_radios": [{"name": wlan0, "networks": [{"ssid": "wibond-lab",
                                                        "psk": "wibond-lab-psk"}]}],
        "wibond_metrics": True,
        "wibond_try_timeout": 120,
        "wibond_reconnect_timeout": 30,
    }
    before = CONF.read_text()
    t = time.monotonic()
    rc, out, recap = play(wanted)
    res.figure("ansible: the first run (install, wpa file, try, confirm)",
               round(time.monotonic() - t), "s")
    say("$ ansible-playbook -i inventory.ini site.yml   (a good change: miimon, the radio's own "
        "wpa_supplicant file)\n" + "\n".join(out.splitlines()[-40:]))
    res.check("ansible: a good change tried, reconnected, confirmed (the play passes)",
              rc == 0 and recap.get("failed") == 0 and recap.get("changed", 0) > 0
              and "Keep the new config (wibond confirm)" in out, out[-3000:])
    # The handler's reload of the radio's new file (wpa_supplicant re-reads it on SIGHUP and
    # associates again) may still be under way on this box's only link.
    res.check("ansible: /etc/wibond.conf is the rendered config, the bond runs it",
              "miimon = 100" in CONF.read_text() and f"wpa_supplicant-{wlan0}.conf" in CONF.read_text()
              and bond_state("bond0")["miimon"] == "100" and not (TRY_DIR / "wibond.conf").exists()
              and wait_for(lambda: reachable(gw), 60, "the router answers",
                           raise_on_timeout=False),
              {"conf": CONF.read_text(), "miimon": bond_state("bond0")["miimon"],
               "pending": (TRY_DIR / "wibond.conf").exists(), "router": reachable(gw)})
    wpa = Path(f"/etc/wpa_supplicant/wpa_supplicant-{wlan0}.conf")
    res.check("ansible: the radio's wpa_supplicant file is mode 0600, the radio associated with it",
              wpa.exists() and oct(wpa.stat().st_mode)[-3:] == "600"
              and wait_for(lambda: wpa_status(wlan0).get("wpa_state") == "COMPLETED", 120,
                           "associated", raise_on_timeout=False), wpa_status(wlan0))
    res.check("ansible: the package installed by apt (dpkg knows it), wibond-metrics.service on",
              "install ok installed" in sh(["dpkg-query", "-W", "-f", "${Status}", "wibond"],
                                           check=False, quiet=True).stdout
              and unit_state("wibond-metrics.service") == "active",
              unit_state("wibond-metrics.service"))
    res.check("ansible: no key in the play's output", not any(k in out for k in PSKS), "")

    rc, out, recap = play(wanted)
    res.check("ansible: a second run changes nothing (changed=0)",
              rc == 0 and recap.get("changed") == 0 and recap.get("failed") == 0, out[-3000:])

    slower = dict(wanted, wibond_bonds=[dict(wanted["wibond_bonds"][0], options=dict(
        wanted["wibond_bonds"][0]["options"], miimon=250))])
    rc, out, recap = play(slower, "--check")
    res.check("ansible: check mode shows the change (wibond apply --dry-run) and makes none",
              rc == 0 and "miimon 100 -> 250" in out.replace("'", "")
              and bond_state("bond0")["miimon"] == "100" and "miimon = 100" in CONF.read_text(),
              out[-3000:])

    good = CONF.read_text()
    cut = dict(wanted, wibond_bonds=[dict(wanted["wibond_bonds"][0], slaves=[
        {"name": wlan0, "options": {"wpa_conf": "/etc/wpa_supplicant/wrong-psk.conf"}}])])
    t = time.monotonic()
    rc, out, recap = play(cut)
    res.figure("ansible: the run with a change that cuts the network, to its end",
               round(time.monotonic() - t), "s")
    say("$ ansible-playbook -i inventory.ini site.yml   (the radio's file with a wrong key)\n"
        + "\n".join(out.splitlines()[-25:]))
    res.check("ansible: a change that cuts the network fails the play, naming the box and why",
              rc != 0 and recap.get("failed") == 1
              and "localhost: the new /etc/wibond.conf did not work and was rolled back" in out
              and "refused the key" in out, out[-3000:])
    res.check("ansible: it rolled back by itself: /etc/wibond.conf as before, connectivity back",
              CONF.read_text() == good and not (TRY_DIR / "wibond.conf").exists()
              and wait_for(lambda: global_addrs("bond0", 4) == addr and reachable(gw), 120,
                           "connectivity back", raise_on_timeout=False), CONF.read_text())
    res.check("ansible: no key in the failed play's output", not any(k in out for k in PSKS), "")


with Results() as res:
    wlan0, gw, addr = only_radio_up(fixture())
    ansible_example(res, gw, wlan0, addr)
    res.check("no failed units at the end", not failed_units(), failed_units())
