"""wibond-helper: the steps wibond's units run (ExecStart=, ExecStartPre=, ...).

Each command is one step, idempotent, and says what is wrong in words a
person can act on; a failing step exits 1, a wrong call exits 2. Messages go
to stderr, which systemd puts in the journal with the right priority.
A unit runs one Python process per start, whose imports are most of a step's
cost (wibond/__init__.py), so a unit's steps are one command (start, join,
dhcp-start) that runs them in order; the steps are also commands of their
own, to run by hand. The steps themselves live in the modules beside this one
and work in a context.Context; this module is the command table and main.

    start BOND             managers, create, static (if the bond has any) and
                           start-slaves: the bond unit's one step
    create BOND            make the bond, every option set before a slave joins
    static BOND            static addresses, default routes, DNS servers
    delete BOND            release what is left, delete the bond, undo DNS
    join BOND IFACE        slave-env, wait-unblocked and enslave: the supplicant unit's
                           one step before wpa_supplicant
    slave-env BOND IFACE   write the supplicant's settings for IFACE
    wait-unblocked IFACE   wait while IFACE's radio is rfkill-blocked
    enslave BOND IFACE     down, flush, master, up (and primary)
    release BOND IFACE     out of the bond, back as it was
    dhcp-start BOND CLIENT       dhcp-config and wait-active: a DHCP unit's one step
    dhcp-config BOND CLIENT      CLIENT's configuration (dhclient, dhcp6c, dhcpcd)
    wait-active BOND       wait until the bond has an active slave and its MAC
    dhcp-clean BOND CLIENT ipv4|ipv6|ipv4,ipv6   take back what CLIENT configured
    match IFACE|SYSFS-PATH start the slave unit of the section IFACE matches
                           (wibond-match@.service passes the device's sysfs path)
    start-slaves BOND      start the slave units of BOND's interfaces that are present
    managers               tell the other network managers (networkd, NetworkManager, udev)
                           which interfaces are wibond's: files under /run; the start of
                           every bond does it too (wibond-managers.service at boot)
"""

from __future__ import annotations

import os
import sys

from ..common import layout
from ..common.formats import FormatError
from ..common.names import ifname_problem
from ..config.model import wpa_conf_for
from . import bondctl, bondstate
from .context import ConfigError, Context, Output, StepError
from .hostio import Host, HostError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time (wibond/__init__.py)
    from typing import Callable

    from .context import Lookup

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# A step refused for a mistake in a file only a person can mend (sysexits' EX_CONFIG): the
# units do not restart on it (RestartPreventExitStatus=).
EXIT_CONFIG = 78


# -- the steps -----------------------------------------------------------------

def cmd_create(ctx: Context, bond: str) -> None:
    bondctl.create(ctx.host, ctx.bond(bond), ctx.out.info)


def cmd_start(ctx: Context, bond: str) -> None:
    cmd_managers(ctx)  # the config may have changed since boot: the managers hear it first
    cmd_create(ctx, bond)
    config_bond = ctx.bond(bond)
    if config_bond.address or config_bond.gateway or config_bond.gateway6 or config_bond.dns:
        cmd_static(ctx, bond)
    cmd_start_slaves(ctx, bond)
    bondctl.keep_record(ctx.host, bond, ctx.loaded)


def cmd_static(ctx: Context, bond: str) -> None:
    from . import addressing

    addressing.apply(ctx.host, ctx.bond(bond), ctx.out.warning)


def cmd_delete(ctx: Context, bond: str) -> None:
    from . import addressing

    addressing.undo(ctx.host, bond, ctx.out.warning)
    bondctl.delete(ctx.host, bond, ctx.out.info)


def cmd_join(ctx: Context, bond: str, ifname: str) -> None:
    cmd_slave_env(ctx, bond, ifname)
    cmd_wait_unblocked(ctx, ifname)
    cmd_enslave(ctx, bond, ifname)


def cmd_slave_env(ctx: Context, bond: str, ifname: str) -> None:
    config_bond = ctx.bond(bond)
    section = ctx.section(config_bond, ifname)
    lines = []
    if section.wireless:
        from ..config import wpafile
        from ..config.model import ERROR

        conf = wpa_conf_for(section, ifname, ctx.host.exists)
        # What `wibond check` says of the file, in its words and severity.
        found = wpafile.for_radio(config_bond, section, conf, ifname, ctx.loaded.path)
        errors = [str(d) for d in found if d.severity == ERROR]
        for diag in found:
            if diag.severity != ERROR:
                ctx.out.warning(str(diag))
        if errors:
            # wpa_supplicant could not join with this file: no restart helps until it is
            # mended (the unit's RestartPreventExitStatus=); mended, restart the unit.
            raise ConfigError("\n".join(errors) + f"\nmend it, then `systemctl restart "
                              f"{layout.slave_unit(bond, True, ifname)}`")
        lines = [("WPA_CONF", conf), ("WPA_DRIVER", section.driver),
                 ("BITRATES", section.bitrates or "")]
    from ..common.formats import env_file

    text = env_file(lines)
    path = layout.slave_env_path(bond, ifname)
    if ctx.host.read_bytes(path) != text.encode():
        ctx.host.save(path, text)


def cmd_wait_unblocked(ctx: Context, ifname: str) -> None:
    from . import rfkill

    if not rfkill.wait_unblocked(ctx.host, ifname, ctx.out.warning):
        raise StepError(f"{ifname} went away")


def cmd_enslave(ctx: Context, bond: str, ifname: str) -> None:
    config_bond = ctx.bond(bond)
    section = ctx.section(config_bond, ifname)
    bondctl.enslave(ctx.host, config_bond, ifname, section, ctx.out.info)


def cmd_release(ctx: Context, bond: str, ifname: str) -> None:
    from . import hotplug

    bondctl.release(ctx.host, bond, ifname, ctx.out.info)
    ctx.host.remove(layout.slave_env_path(bond, ifname))
    hotplug.hand_on_primary(ctx, bond)


def cmd_dhcp_start(ctx: Context, bond: str, client: str) -> None:
    cmd_dhcp_config(ctx, bond, client)
    cmd_wait_active(ctx, bond)


def cmd_dhcp_config(ctx: Context, bond: str, client: str) -> None:
    from .. import dhcp
    from . import dhcpsteps

    dhcpsteps.configure(ctx.host, ctx.bond(bond), dhcp.client(client))


def cmd_wait_active(ctx: Context, bond: str) -> None:
    from . import dhcpsteps

    dhcpsteps.wait_active(ctx.host, bond, ctx.out.info)


def cmd_dhcp_clean(ctx: Context, bond: str, client: str, families: str) -> None:
    from .. import dhcp
    from . import dhcpsteps

    dhcpsteps.clean(ctx.host, bond, dhcp.client(client), families.split(","))


def cmd_arp_follow(ctx: Context, bond: str) -> None:
    from . import leasearp

    config_bond = ctx.bond(bond)
    if not config_bond.arp_follows_lease:
        ctx.out.info(f"{bond}: its ARP targets do not come from a DHCP lease "
                    "(arp_ip_target = gateway with dhcp = ipv4); nothing to follow")
        return
    leasearp.follow(ctx.host, config_bond, ctx.out.info)


def cmd_arp_unfollow(ctx: Context, bond: str) -> None:
    config_bond = ctx.bond(bond)
    if not config_bond.arp_follows_lease:
        return
    try:
        if bondstate.is_bond(ctx.host, bond):
            bondctl.set_monitoring(ctx.host, config_bond, None, ctx.out.info)
    except (StepError, HostError):
        # The bond deleted while this ran (its own unit stopping beside this one): what this
        # step would put back went with it.
        if bondstate.is_bond(ctx.host, bond):
            raise
        ctx.out.info(f"{bond}: gone; no monitoring to put back")


def cmd_managers(ctx: Context) -> None:
    from . import handoff

    handoff.apply(ctx.host, ctx.loaded.bonds, ctx.out.info)


def cmd_match(ctx: Context, ifname: str) -> None:
    from . import hotplug

    hotplug.offer(ctx, ifname)


def cmd_start_slaves(ctx: Context, bond: str) -> None:
    from . import hotplug

    hotplug.start_present(ctx, ctx.bond(bond))


# name -> (function, argument kinds)
COMMANDS: dict[str, tuple[Callable[..., None], tuple[str, ...]]] = {
    "start": (cmd_start, ("bond",)),
    "create": (cmd_create, ("bond",)),
    "static": (cmd_static, ("bond",)),
    "delete": (cmd_delete, ("bond",)),
    "join": (cmd_join, ("bond", "iface")),
    "slave-env": (cmd_slave_env, ("bond", "iface")),
    "wait-unblocked": (cmd_wait_unblocked, ("iface",)),
    "enslave": (cmd_enslave, ("bond", "iface")),
    "release": (cmd_release, ("bond", "iface")),
    "dhcp-start": (cmd_dhcp_start, ("bond", "client")),
    "dhcp-config": (cmd_dhcp_config, ("bond", "client")),
    "wait-active": (cmd_wait_active, ("bond",)),
    "dhcp-clean": (cmd_dhcp_clean, ("bond", "client", "families")),
    "arp-follow": (cmd_arp_follow, ("bond",)),
    "arp-unfollow": (cmd_arp_unfollow, ("bond",)),
    "match": (cmd_match, ("device",)),
    "start-slaves": (cmd_start_slaves, ("bond",)),
    "managers": (cmd_managers, ()),
}


def device_ifname(path: str) -> str:
    """The interface of a network device's sysfs path (/sys/devices/.../net/wlan0 -> wlan0),
    as systemd gives it to wibond-match@.service; '' when it is not one."""
    parent, _, name = path.rstrip("/").rpartition("/")
    return name if path.startswith("/sys/") and parent.endswith("/net") else ""


# A device pulled while one of its unit's steps runs makes the step fail. The unit's BindsTo=
# should stop it, but after a quick unplug/replug the stop can fail to come, or come and miss
# the step: in the lab (systemd 252) a unit sat in stop-sigterm while its step slept on, its
# SIGTERM lost (seen with a stop that raced the step's start). So the step asks for its own
# unit's stop, waits a moment for the SIGTERM and, if none came, ends as if it had: a SIGTERM
# death is a clean exit for wibond's units (SuccessExitStatus=), so the unit ends stopped,
# not failed.
GONE_GRACE_S = 5.0


def own_unit(host: Host) -> str | None:
    """The systemd unit this process runs in (from its cgroup), None outside one."""
    text = host.read("/proc/self/cgroup") or ""
    for line in text.splitlines():
        if line.startswith("0::"):
            name = line[3:].rstrip("/").rpartition("/")[2]
            if name.endswith(".service"):
                return name
    return None


def _gone(ctx: Context, kinds: tuple[str, ...], values: list[str]) -> str | None:
    """The interface argument of this step if it no longer exists."""
    for kind, value in zip(kinds, values):
        if kind in ("iface", "device") and not bondstate.exists(ctx.host, value):
            return value
    return None


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def _terminate() -> None:
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _stop_own_unit(ctx: Context, step: str, gone: str) -> None:
    """Stop the unit this step runs in, whose interface GONE went away; returns only when
    there is no such unit or the stop could not be asked for (the step then fails)."""
    unit = own_unit(ctx.host)
    if not unit:
        return
    ctx.out.info(f"{step}: {gone} went away (pulled?); stopping {unit}")
    try:
        ctx.host.systemctl("stop", "--no-block", unit)
    except HostError as e:
        ctx.out.warning(str(e))
        return
    _sleep(GONE_GRACE_S)  # the stop's SIGTERM ends this
    ctx.out.info(f"{step}: no SIGTERM from the stop; ending as if it came")
    _terminate()


def _usage(out: Output, message: str) -> int:
    out.error(message)
    out.error("usage: wibond-helper COMMAND ARGS...; commands: " + ", ".join(COMMANDS))
    return EXIT_USAGE


def main(argv: list[str] | None = None, host: Host | None = None, out: Output | None = None,
         lookup: Lookup | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = out or Output()
    if not args or args[0] not in COMMANDS:
        return _usage(out, f"unknown command {args[0]!r}" if args else "no command")
    func, kinds = COMMANDS[args[0]]
    values = args[1:]
    if len(values) != len(kinds):
        return _usage(out, f"{args[0]} takes {len(kinds)} argument(s): {' '.join(kinds).upper()}")
    for i, (kind, value) in enumerate(zip(kinds, values)):
        if kind == "client":
            from ..dhcp import CLIENTS

            if value not in CLIENTS:
                return _usage(out, f"{value!r} is not a DHCP client wibond runs "
                                   f"({', '.join(CLIENTS)})")
            continue
        if kind == "families":
            if not value or any(f not in ("ipv4", "ipv6") for f in value.split(",")):
                return _usage(out, f"{value!r} is not ipv4, ipv6 or ipv4,ipv6")
            continue
        if kind == "device" and value.startswith("/"):
            if not device_ifname(value):
                return _usage(out, f"{value!r} is not the sysfs path of a network interface")
            value = values[i] = device_ifname(value)
        problem = ifname_problem(value)
        if problem and kind == "device":
            # Every new interface is offered; one wibond cannot name is not its business.
            out.info(f"{problem}; no section can match it, left alone")
            return EXIT_OK
        if problem:
            return _usage(out, problem)
    ctx = Context(host or Host(out.info), out, lookup)
    try:
        func(ctx, *values)
    except (StepError, HostError, FormatError) as e:
        # Only a unit's step stops its unit (systemd sets INVOCATION_ID); by hand, the error.
        gone = _gone(ctx, kinds, values) if os.environ.get("INVOCATION_ID") else None
        if gone:
            _stop_own_unit(ctx, f"{args[0]} {' '.join(values)}", gone)
        out.error(f"{args[0]} {' '.join(values)}: {e}")
        return EXIT_CONFIG if isinstance(e, ConfigError) else EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug: say where, briefly, never a traceback in the journal
        tb = e.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}" if tb else "?"
        out.error(f"{args[0]} {' '.join(values)}: internal error ({type(e).__name__} at {where}: "
                  f"{e}); please report it")
        return EXIT_FAILED
    return EXIT_OK
