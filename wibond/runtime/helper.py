"""wibond-helper: the steps wibond's units run (ExecStart=, ExecStartPre=, ...).

Each command is one step, idempotent, and says what is wrong in words a
person can act on; a failing step exits 1, a wrong call exits 2. Messages go
to stderr, which systemd puts in the journal with the right priority.
A unit runs one Python process per start: on a slow board the interpreter's
start is most of a step's cost, so a unit's steps are one command (start,
join, dhcp-start) that runs them in order; the steps are also commands of
their own, to run by hand.

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

from ..common import paths
from ..common.formats import FormatError, printable
from ..common.names import ifname_problem
from ..config.model import Bond, Loaded, Slave, wpa_conf_for
from . import bondctl
from .bondctl import HelperError
from .hostio import Host, HostError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a step a tenth of a second on a slow board
    from typing import Callable

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# syslog priorities, understood by journald at the start of a line on stderr
_ERR, _WARNING, _INFO = 3, 4, 6


class Output:
    def __init__(self, stream=None) -> None:  # type: ignore[no-untyped-def]
        self.stream = stream or sys.stderr
        self.prefixed = "JOURNAL_STREAM" in os.environ

    def _say(self, priority: int, message: str) -> None:
        for line in message.splitlines():
            line = printable(line)  # an interface name from the kernel may hold escapes
            self.stream.write(f"<{priority}>{line}\n" if self.prefixed else f"wibond-helper: {line}\n")
        self.stream.flush()

    def info(self, message: str) -> None:
        self._say(_INFO, message)

    def warning(self, message: str) -> None:
        self._say(_WARNING, message)

    def error(self, message: str) -> None:
        self._say(_ERR, message)


class Runtime:
    """What a step needs: the system, the config (read once, when asked) and the output."""

    def __init__(self, host: Host, out: Output,
                 lookup: Callable[[str], object] | None = None) -> None:
        self.host = host
        self.out = out
        self._loaded: Loaded | None = None
        self._lookup = lookup

    @property
    def loaded(self) -> Loaded:
        """What the generator read from wibond.conf (snapshot.py); the file itself when
        there is no snapshot."""
        if self._loaded is None:
            from ..boot import snapshot

            in_force = paths.config_in_force()
            handed = snapshot.read(self.host, in_force)
            if handed is not None:
                self._loaded, changed = handed
                if changed:
                    self.out.warning(f"{in_force} has changed since the units were made "
                                     "from it; this step uses the settings they were made "
                                     "from: `wibond apply` applies the edit")
            else:
                # Imported here: configobj is a good part of a step's start on a slow CPU.
                _site_packages()
                from ..config import reader

                self._loaded = reader.load(paths.host(in_force), shown=in_force)
        return self._loaded

    def bond(self, name: str) -> Bond:
        bond = self.loaded.bond(name)
        if bond is not None:
            return bond
        errors = [d for d in self.loaded.errors if d.bond == name or not d.bond]
        if errors:
            raise HelperError(f"{name}: {paths.CONFIG} has errors, so the bond is not set up:\n"
                              + "\n".join(str(d) for d in errors))
        raise HelperError(f"{name} is not a bond in {paths.CONFIG}")

    def device(self, ifname: str):  # type: ignore[no-untyped-def]
        from ..config.match import Device

        lookup = self._lookup
        if lookup is None:
            _site_packages()
            from .devices import lookup
        try:
            dev = lookup(ifname)
        except Exception as e:  # no udev here: the name is all there is to go by
            self.out.warning(f"cannot ask udev about {ifname} ({e}); matching by name only")
            dev = None
        return dev or Device(ifname)

    def find(self, ifname: str) -> tuple[Bond, Slave] | None:
        """The (bond, section) IFNAME belongs to, or None; asks udev only when a pattern or
        labelled section could claim it."""
        from ..config import match

        for bond in self.loaded.bonds:
            for slave in bond.named_slaves:
                if slave.name == ifname:
                    return bond, slave
        if not any(bond.dynamic_slaves for bond in self.loaded.bonds):
            return None
        try:
            return match.find(self.loaded.bonds, self.device(ifname))
        except match.Conflict as e:
            raise HelperError(str(e)) from None

    def section(self, bond: Bond, ifname: str) -> Slave:
        """The slave section of BOND that IFNAME belongs to."""
        found = self.find(ifname)
        if found is None:
            raise HelperError(f"{ifname} matches no slave section of [{bond.name}] in "
                              f"{paths.CONFIG}")
        if found[0].name != bond.name:
            raise HelperError(f"{ifname} belongs to [{found[0].name}] [[{found[1].name}]], "
                              f"not to [{bond.name}]")
        return found[1]


def _site_packages() -> None:
    """Make the system's Python packages (configobj, pyudev) importable. wibond-helper starts
    without the site module (python3 -S), which costs a third of the interpreter's start on a
    slow board and serves only the steps that need those packages."""
    if "site" not in sys.modules:
        import site

        site.main()


def slave_env_path(bond: str, ifname: str) -> str:
    """Read by the supplicant unit (EnvironmentFile= in the generator's drop-in)."""
    return f"{bondctl.run_dir(bond)}/slave-{ifname}.env"


# -- the steps -----------------------------------------------------------------

def cmd_create(rt: Runtime, bond: str) -> None:
    bondctl.create(rt.host, rt.bond(bond), rt.out.info)


def cmd_start(rt: Runtime, bond: str) -> None:
    cmd_managers(rt)  # the config may have changed since boot: the managers hear it first
    cmd_create(rt, bond)
    config_bond = rt.bond(bond)
    if config_bond.address or config_bond.gateway or config_bond.gateway6 or config_bond.dns:
        cmd_static(rt, bond)
    cmd_start_slaves(rt, bond)
    bondctl.keep_record(rt.host, bond)


def cmd_static(rt: Runtime, bond: str) -> None:
    from . import addressing

    addressing.apply(rt.host, rt.bond(bond), rt.out.warning)


def cmd_delete(rt: Runtime, bond: str) -> None:
    from . import addressing

    addressing.undo(rt.host, bond, rt.out.warning)
    bondctl.delete(rt.host, bond, rt.out.info)


def cmd_join(rt: Runtime, bond: str, ifname: str) -> None:
    cmd_slave_env(rt, bond, ifname)
    cmd_wait_unblocked(rt, ifname)
    cmd_enslave(rt, bond, ifname)


def cmd_slave_env(rt: Runtime, bond: str, ifname: str) -> None:
    config_bond = rt.bond(bond)
    section = rt.section(config_bond, ifname)
    lines = []
    if section.wireless:
        conf = wpa_conf_for(section, ifname, rt.host.exists)
        if not rt.host.exists(conf):
            raise HelperError(
                f"{ifname}: the wpa_supplicant configuration {conf} does not exist; write it "
                f"(wpa_passphrase SSID >> {conf}) or set wpa_conf in [{bond}] [[{section.name}]]")
        from ..common.trust import problems

        for problem in problems(paths.host(conf), conf):
            rt.out.warning(f"{ifname}: {problem}")
        lines = [("WPA_CONF", conf), ("WPA_DRIVER", section.driver),
                 ("BITRATES", section.bitrates or "")]
    from ..common.formats import env_file

    text = env_file(lines)
    path = slave_env_path(bond, ifname)
    if rt.host.read_bytes(path) != text.encode():
        rt.host.save(path, text)


def cmd_wait_unblocked(rt: Runtime, ifname: str) -> None:
    from . import rfkill

    if not rfkill.wait_unblocked(rt.host, ifname, rt.out.warning):
        raise HelperError(f"{ifname} went away")


def cmd_enslave(rt: Runtime, bond: str, ifname: str) -> None:
    config_bond = rt.bond(bond)
    section = rt.section(config_bond, ifname)
    bondctl.enslave(rt.host, config_bond, ifname, section, rt.out.info)


def cmd_release(rt: Runtime, bond: str, ifname: str) -> None:
    from . import hotplug

    bondctl.release(rt.host, bond, ifname, rt.out.info)
    rt.host.remove(slave_env_path(bond, ifname))
    hotplug.hand_on_primary(rt, bond)


def cmd_dhcp_start(rt: Runtime, bond: str, client: str) -> None:
    cmd_dhcp_config(rt, bond, client)
    cmd_wait_active(rt, bond)


def cmd_dhcp_config(rt: Runtime, bond: str, client: str) -> None:
    from .. import dhcp
    from . import dhcpsteps

    dhcpsteps.configure(rt.host, rt.bond(bond), dhcp.client(client))


def cmd_wait_active(rt: Runtime, bond: str) -> None:
    from . import dhcpsteps

    dhcpsteps.wait_active(rt.host, bond, rt.out.info)


def cmd_dhcp_clean(rt: Runtime, bond: str, client: str, families: str) -> None:
    from .. import dhcp
    from . import dhcpsteps

    dhcpsteps.clean(rt.host, bond, dhcp.client(client), families.split(","))


def cmd_arp_follow(rt: Runtime, bond: str) -> None:
    from . import leasearp

    config_bond = rt.bond(bond)
    if not config_bond.arp_follows_lease:
        rt.out.info(f"{bond}: its ARP targets do not come from a DHCP lease "
                    "(arp_ip_target = gateway with dhcp = ipv4); nothing to follow")
        return
    leasearp.follow(rt.host, config_bond, rt.out.info)


def cmd_arp_unfollow(rt: Runtime, bond: str) -> None:
    config_bond = rt.bond(bond)
    if not config_bond.arp_follows_lease:
        return
    try:
        if bondctl.is_bond(rt.host, bond):
            bondctl.set_monitoring(rt.host, config_bond, None, rt.out.info)
    except (HelperError, HostError):
        # The bond deleted while this ran (its own unit stopping beside this one): what this
        # step would put back went with it.
        if bondctl.is_bond(rt.host, bond):
            raise
        rt.out.info(f"{bond}: gone; no monitoring to put back")


def cmd_managers(rt: Runtime) -> None:
    from . import handoff

    handoff.apply(rt.host, rt.loaded.bonds, rt.out.info)


def cmd_match(rt: Runtime, ifname: str) -> None:
    from . import hotplug

    hotplug.offer(rt, ifname)


def cmd_start_slaves(rt: Runtime, bond: str) -> None:
    from . import hotplug

    hotplug.start_present(rt, rt.bond(bond))


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


def _gone(rt: Runtime, kinds: tuple[str, ...], values: list[str]) -> str | None:
    """The interface argument of this step if it no longer exists."""
    for kind, value in zip(kinds, values):
        if kind in ("iface", "device") and not rt.host.exists(f"{paths.SYSFS_NET}/{value}"):
            return value
    return None


def _sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def _terminate() -> None:
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _stop_own_unit(rt: Runtime, step: str, gone: str) -> None:
    """Stop the unit this step runs in, whose interface GONE went away; returns only when
    there is no such unit or the stop could not be asked for (the step then fails)."""
    unit = own_unit(rt.host)
    if not unit:
        return
    rt.out.info(f"{step}: {gone} went away (pulled?); stopping {unit}")
    try:
        rt.host.systemctl("stop", "--no-block", unit)
    except HostError as e:
        rt.out.warning(str(e))
        return
    _sleep(GONE_GRACE_S)  # the stop's SIGTERM ends this
    rt.out.info(f"{step}: no SIGTERM from the stop; ending as if it came")
    _terminate()


def _usage(out: Output, message: str) -> int:
    out.error(message)
    out.error("usage: wibond-helper COMMAND ARGS...; commands: " + ", ".join(COMMANDS))
    return EXIT_USAGE


def main(argv: list[str] | None = None, host: Host | None = None, out: Output | None = None,
         lookup: Callable[[str], object] | None = None) -> int:
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
    rt = Runtime(host or Host(out.info), out, lookup)
    try:
        func(rt, *values)
    except (HelperError, HostError, FormatError) as e:
        # Only a unit's step stops its unit (systemd sets INVOCATION_ID); by hand, the error.
        gone = _gone(rt, kinds, values) if os.environ.get("INVOCATION_ID") else None
        if gone:
            _stop_own_unit(rt, f"{args[0]} {' '.join(values)}", gone)
        out.error(f"{args[0]} {' '.join(values)}: {e}")
        return EXIT_FAILED
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
