"""Where things are: host paths behind one root, and install locations.

Every host path wibond reads or writes goes through `host()`, so tests run
against a directory tree instead of the machine (WIBOND_ROOT=/tmp/x).
The install locations below are paths on the target system; `make install`
rewrites them when its directories are overridden.
"""

from __future__ import annotations

import os

# -- install locations (rewritten by the Makefile) --
LIBEXECDIR = "/usr/lib/wibond"
UNIT_TEMPLATE_DIR = "/usr/lib/wibond/units"
UNIT_DIR = "/usr/lib/systemd/system"
# Where systemd looks for units, highest priority first (generator directories aside).
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system",
             "/lib/systemd/system")

# -- host paths, relative to the root --
CONFIG = "/etc/wibond.conf"
# `wibond try`: the candidate config while a try is pending. Under /run, so a reboot before
# `wibond confirm` boots /etc/wibond.conf again.
TRY_DIR = "/run/wibond-try"
TRY_CONFIG = f"{TRY_DIR}/wibond.conf"
# `wibond metrics --follow`: the failover counts kept across restarts of wibond's units (and
# its own) during a boot; under /run, so a boot starts from zero as a counter should.
METRICS_RUN_DIR = "/run/wibond-metrics"
METRICS_STATE = f"{METRICS_RUN_DIR}/failovers.json"
# Where Debian's prometheus-node-exporter reads *.prom files (its textfile collector).
TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
MACHINE_ID = "/etc/machine-id"
RUN_DIR = "/run/wibond"
STATE_DIR = "/var/lib/wibond"
SYSFS_NET = "/sys/class/net"
DHCP6C_DUID = "/var/lib/dhcpv6/dhcp6c_duid"
# dhcpcd's database directory on Debian (dhcpcd-base) and Arch alike.
DHCPCD_DBDIR = "/var/lib/dhcpcd"
KMSG = "/dev/kmsg"
# Where programs are: Arch has everything in /usr/bin (/usr/sbin links to it), Debian keeps
# wpa_supplicant, dhclient, dhcpcd and iw in /usr/sbin (/sbin on an unmerged system).
BIN_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


def root() -> str:
    return os.environ.get("WIBOND_ROOT", "/")


def host(path: str) -> str:
    """`path` on the host wibond manages (under WIBOND_ROOT when set)."""
    base = root()
    if base in ("", "/"):
        return path
    return os.path.join(base, path.lstrip("/"))


def config_in_force() -> str:
    """The config the system runs: a pending try's candidate, else /etc/wibond.conf."""
    return TRY_CONFIG if os.path.isfile(host(TRY_CONFIG)) else CONFIG


def run_dir(bond: str) -> str:
    """What wibond keeps at run time for BOND (records, the clients' configurations)."""
    return f"{RUN_DIR}/{bond}"


def installed_program(name: str) -> str | None:
    """Where program NAME is installed in the system wibond configures (under WIBOND_ROOT when
    set: a test's tree), None if it is not. For what that system has; the program to run on
    this machine is hostio.find_program's."""
    for directory in BIN_DIRS:
        path = host(f"{directory}/{name}")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return f"{directory}/{name}"
    if root() in ("", "/"):
        import shutil

        return shutil.which(name)
    return None
