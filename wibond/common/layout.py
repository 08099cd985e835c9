"""The names boot and run time must agree on, spelled once: wibond's units and the files
it keeps under /run/wibond/<bond>.

The generator (boot/plan.py) writes units and drop-ins that name these; the steps
(runtime/) start and stop the units and write and read the files. Instances are escaped
here (systemd-escape); a bond or interface name is passed as the kernel spells it.
"""

from __future__ import annotations

from .names import escape_instance
from .paths import RUN_DIR

# -- units ----------------------------------------------------------------------

# The ArchWiki and Raspberry Pi write-ups call the wireless unit <bond>-supplicant@.
SUPPLICANT_SUFFIX = "-supplicant"
WIRED_SUFFIX = "-wired"
# The templates shipped in the unit template directory that each bond's slave templates
# link to.
SUPPLICANT_TEMPLATE = "bond-supplicant@.service"
WIRED_TEMPLATE = "bond-wired@.service"
# udev/90-wibond.rules tests for this link in the generator directory.
MATCH_UNIT = "wibond-match@.service"
MANAGERS_UNIT = "wibond-managers.service"


def bond_unit(bond: str) -> str:
    """The unit that makes BOND (wibond@.service: `wibond-helper start`)."""
    return f"wibond@{escape_instance(bond)}.service"


def arp_unit(bond: str) -> str:
    """The unit that watches BOND's lease for the ARP target (wibond-arp@.service)."""
    return f"wibond-arp@{escape_instance(bond)}.service"


def slave_template(bond: str, wireless: bool) -> str:
    """BOND's template for its radios (<bond>-supplicant@) or its wired slaves (-wired@)."""
    suffix = SUPPLICANT_SUFFIX if wireless else WIRED_SUFFIX
    return f"{escape_instance(bond)}{suffix}@.service"


def slave_unit(bond: str, wireless: bool, ifname: str) -> str:
    """The unit that runs interface IFNAME as a slave of BOND."""
    return slave_template(bond, wireless).replace("@.", f"@{escape_instance(ifname)}.", 1)


# -- files under /run/wibond ------------------------------------------------------

def run_dir(bond: str) -> str:
    """What wibond keeps at run time for BOND (records, the clients' configurations)."""
    return f"{RUN_DIR}/{bond}"


def record_path(bond: str) -> str:
    """The generator's snapshot BOND was started from: `wibond apply` compares an edited
    config with it."""
    return f"{run_dir(bond)}/applied.json"


def config_record(bond: str) -> str:
    """The text of the config BOND was started from (the file whose snapshot record_path
    holds): `wibond try` of an edited /etc/wibond.conf rolls back to it."""
    return f"{run_dir(bond)}/applied.conf"


def created_path(bond: str) -> str:
    """Written once the bond's start step has made it."""
    return f"{run_dir(bond)}/created"


def slaves_dir(bond: str) -> str:
    """One file per interface wibond enslaved to BOND, holding the MAC to give back ("" for
    none): a stop works from it even when the config has changed since."""
    return f"{run_dir(bond)}/slaves"


def slave_record(bond: str, ifname: str) -> str:
    return f"{slaves_dir(bond)}/{ifname}"


def quirk_record(bond: str, ifname: str) -> str:
    """What wibond changed on radio IFNAME for its driver's quirks (power save, promiscuous
    mode), given back when it leaves."""
    return f"{run_dir(bond)}/quirks/{ifname}"


def slave_env_path(bond: str, ifname: str) -> str:
    """The supplicant unit's settings for radio IFNAME (its EnvironmentFile=; the generator
    passes the unit specifier %I for IFNAME)."""
    return f"{run_dir(bond)}/slave-{ifname}.env"


def static_record(bond: str) -> str:
    """What the static step added (addresses, gateways, DNS), so that it can be taken back."""
    return f"{run_dir(bond)}/static.json"


def resolv_saved(bond: str) -> str:
    """resolv.conf as it was before the bond's DNS servers went in."""
    return f"{run_dir(bond)}/resolv.conf.saved"


def client_file(bond: str, name: str) -> str:
    """A DHCP client's file for BOND (its configuration, its pid file)."""
    return f"{run_dir(bond)}/{name}"
