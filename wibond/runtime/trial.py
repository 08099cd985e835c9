"""`wibond try`, `confirm` and `rollback`: a candidate config applied with a way back.

The candidate lives in /run/wibond-try/wibond.conf while the try is pending (paths.TRY_CONFIG;
the generator and the steps read it instead of /etc/wibond.conf), so a reboot before
`wibond confirm` boots /etc/wibond.conf again. The deadline is a transient systemd timer
(wibond-rollback.timer, made with systemd-run), not the try process: a closed SSH session, a
SIGHUP or a killed `wibond try` still rolls back in time. Confirming writes the candidate over
/etc/wibond.conf atomically (the old file kept as /etc/wibond.conf.previous); rolling back
drops the candidate and applies /etc/wibond.conf, touching only what the try changed. One
lock orders them: the timer's rollback waits for a try still applying.
"""

from __future__ import annotations

import fcntl
import os
import re
import time

from ..common import paths
from ..config import reader
from ..config.model import Bond, Loaded
from .hostio import Host, HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..config import changes
    from .context import Lookup
    from .hostio import Log

TIMER_UNIT = "wibond-rollback"
DEADLINE = f"{paths.TRY_DIR}/deadline"
SOURCE = f"{paths.TRY_DIR}/source"
LOCK = "/run/wibond-try.lock"
PREVIOUS = f"{paths.CONFIG}.previous"
# A rolled-back try of /etc/wibond.conf edited in place: the edit, kept for its author.
REJECTED = f"{paths.CONFIG}.rejected"


class TryError(Exception):
    """A try that cannot be started, confirmed or rolled back; the text says why."""


def journal(message: str) -> None:
    """Every step of a try in the journal (syslog: no process to start)."""
    import syslog

    if paths.root() not in ("", "/"):
        return  # a test's root: not this machine's journal
    syslog.openlog("wibond", 0, syslog.LOG_DAEMON)
    syslog.syslog(syslog.LOG_NOTICE, message)


class Lock:
    def __enter__(self) -> Lock:
        path = paths.host(LOCK)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def pending() -> dict | None:
    """The pending try: {"deadline": epoch seconds, "source": the file tried}, or None."""
    if not os.path.isfile(paths.host(paths.TRY_CONFIG)):
        return None
    out: dict = {"config": paths.TRY_CONFIG, "deadline": None, "source": None}
    try:
        with open(paths.host(DEADLINE), encoding="utf-8") as f:
            out["deadline"] = float(f.read().strip())
    except (OSError, ValueError):
        pass
    try:
        with open(paths.host(SOURCE), encoding="utf-8") as f:
            out["source"] = f.read().strip()
    except OSError:
        pass
    return out


def in_place(candidate: str) -> bool:
    """Whether CANDIDATE is /etc/wibond.conf itself (edited, then tried, as netplan teaches)."""
    return os.path.abspath(candidate) == os.path.abspath(paths.host(paths.CONFIG))


def start(host: Host, candidate: str, timeout: float, wibond: str, log: Log) -> Loaded:
    """Check CANDIDATE, put it in force and arm the deadline's timer; the caller applies it.
    Refused (TryError) when a try is pending, the candidate has errors or, for /etc/wibond.conf
    edited in place, the text the bonds run is not known; then nothing is left behind.

    Trying /etc/wibond.conf itself: the edit becomes the candidate and the text the running
    bonds were started from (their records) goes back into /etc/wibond.conf, so the try is
    like any other: a rollback or a reboot runs the old text, `wibond confirm` the edit."""
    from . import apply

    if pending():
        raise TryError("a try is pending already: `wibond confirm` or `wibond rollback` it first")
    loaded = reader.load(candidate, shown=paths.CONFIG if in_place(candidate) else None)
    if loaded.errors:
        raise TryError(f"{candidate} has errors; nothing changed:\n"
                       + "\n".join(str(d) for d in loaded.errors))
    with open(candidate, "rb") as f:
        data = f.read()
    previous = None
    if in_place(candidate):
        previous = apply.running_text(host)
        if previous is None:
            raise TryError(f"{paths.CONFIG} was edited in place, and the text the bonds run is "
                           "not known (no running bond kept it, or they run different ones); "
                           f"nothing changed. `wibond apply` applies the edit without a way "
                           f"back; for a try, put the old text back and try a copy")
    deadline = time.time() + timeout
    try:
        host.save_bytes(paths.TRY_CONFIG, data, durable=True)
        host.save_bytes(DEADLINE, f"{deadline:.0f}\n".encode(), durable=True)
        host.save_bytes(SOURCE, os.path.abspath(candidate).encode() + b"\n", durable=True)
        # A timer of an earlier try that elapsed (or a failed rollback) keeps the unit's name.
        for unit in (f"{TIMER_UNIT}.timer", f"{TIMER_UNIT}.service"):
            try:
                host.systemctl("stop", unit)
                host.systemctl("reset-failed", unit)
            except HostError:
                pass
        # The timer first: from here on a killed try still rolls back.
        host.run(host.program("systemd-run") or "systemd-run", f"--unit={TIMER_UNIT}",
                 f"--on-active={max(1, int(timeout))}s", "--timer-property=AccuracySec=1s",
                 "--description=wibond: roll back an unconfirmed `wibond try`",
                 wibond, "rollback", "--deadline")
    except (HostError, OSError) as e:
        _clear()
        raise TryError(f"cannot arm the rollback timer: {e}; nothing changed") from None
    if previous is not None and previous != data:
        host.save_bytes(paths.CONFIG, previous, durable=True)
        journal(f"try of {paths.CONFIG} as edited: the edit is the candidate; {paths.CONFIG} "
                "holds the text the bonds ran until `wibond confirm`")
    journal(f"try of {candidate}: in force from {paths.TRY_CONFIG}; rolls back at "
            f"{time.strftime('%H:%M:%S', time.localtime(deadline))} unless confirmed")
    return reader.load(paths.host(paths.TRY_CONFIG), shown=paths.TRY_CONFIG)


def _disarm(host: Host) -> None:
    """Stop the deadline's timer. Its service is left alone: when it is what runs this, it
    ends by itself once the rollback is done."""
    try:
        host.systemctl("stop", f"{TIMER_UNIT}.timer")
    except HostError:
        pass  # gone already: the deadline passed or a reboot came


def confirm(host: Host, log: Log) -> str:
    """The candidate becomes /etc/wibond.conf; returns where the old file was kept."""
    if not pending():   # asked before the lock, which would otherwise be left in /run
        raise TryError("no try is pending (nothing to confirm)")
    with Lock():
        if not pending():
            raise TryError("no try is pending (nothing to confirm)")
        with open(paths.host(paths.TRY_CONFIG), "rb") as f:
            data = f.read()
        old = None
        try:
            with open(paths.host(paths.CONFIG), "rb") as f:
                old = f.read()
        except OSError:
            pass
        if old is not None:
            host.save_bytes(PREVIOUS, old, durable=True)
        host.save_bytes(paths.CONFIG, data, durable=True)
        _disarm(host)
        _clear()
        # The units are made from /etc/wibond.conf again: the same content, nothing restarts.
        host.systemctl("daemon-reload")
        journal(f"try confirmed: {paths.CONFIG} replaced by the candidate"
                + (f", the old one kept as {PREVIOUS}" if old is not None else ""))
        return PREVIOUS if old is not None else ""


def _clear() -> None:
    """No try pending any more: its files and their directory gone."""
    for path in (paths.TRY_CONFIG, DEADLINE, SOURCE):
        try:
            os.unlink(paths.host(path))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(paths.host(paths.TRY_DIR))
    except OSError:
        pass  # gone already, or something else was put there: left alone


def rollback(host: Host, log: Log, why: str,
             lookup: Lookup | None = None) -> changes.Plan | None:
    """Drop the candidate and apply /etc/wibond.conf; the plan carried out, or None when no
    try was pending."""
    from . import apply

    if not pending():   # asked before the lock, which would otherwise be left in /run
        return None
    with Lock():
        tried = pending()
        if not tried:
            return None
        if tried.get("source") == os.path.abspath(paths.host(paths.CONFIG)):
            # /etc/wibond.conf edited in place: the edit is kept for its author.
            edit = host.read_bytes(paths.TRY_CONFIG)
            if edit is not None and edit != host.read_bytes(paths.CONFIG):
                host.save_bytes(REJECTED, edit, durable=True)
                log(f"the tried edit is kept as {REJECTED}")
        _clear()
        journal(f"try rolled back ({why}): applying {paths.CONFIG} again")
        loaded = reader.load(paths.host(paths.CONFIG), shown=paths.CONFIG)
        if loaded.errors:
            # /etc/wibond.conf was fine when the try began; whatever happened since, the
            # candidate is gone and the units are made from it again.
            host.systemctl("daemon-reload")
            raise TryError(f"{paths.CONFIG} has errors now; the candidate is dropped, "
                           "nothing else changed:\n" + "\n".join(str(d) for d in loaded.errors))
        the_plan = apply.apply(host, loaded, log, lookup=lookup)
        _disarm(host)
        journal("try rolled back: " + ("; ".join(the_plan.lines()) or "nothing to change"))
        return the_plan


# wpa_supplicant's word that the access point refused the key (its 4-way handshake failed).
_WRONG_KEY = re.compile(r"^([^:\s]+): CTRL-EVENT-SSID-TEMP-DISABLED .*\breason=WRONG_KEY\b",
                        re.MULTILINE)


def refused_keys(messages: str) -> list[str]:
    """The radios whose access point refused the key, from wpa_supplicant's messages."""
    return sorted(set(_WRONG_KEY.findall(messages)))


def verify(host: Host, loaded: Loaded, wait_s: float, log: Log,
           since: float | None = None) -> str | None:
    """Whether the tried config works: each bond has an active slave and the addresses it
    asks for (a DHCPv4 address when it runs DHCP for IPv4), and its gateway (static, or the
    lease's router) answers a ping. None when it does, else what does not (after WAIT_S).
    A bond with no active slave whose every radio (each interface: a pattern may match
    several) had its key refused since SINCE (epoch seconds) fails at once: waiting would
    not bring it up."""
    from . import bondstate, hotplug, leasearp

    deadline = time.monotonic() + wait_s
    while True:
        problem: str | None = None
        for bond in loaded.bonds:
            name = bond.name
            if not bondstate.is_bond(host, name):
                problem = f"{name} does not exist"
                break
            if bond.mode == "active-backup" and not bondstate.active_slave(host, name):
                problem = f"{name} has no active slave (no slave has a link)"
                radios = _radio_names(host, bond) if since is not None else []
                if radios:
                    section = bond.wireless_slaves[0]   # the radios' unit template
                    refused = refused_keys(host.unit_messages(
                        [hotplug.unit_for(bond, section, ifname) for ifname in radios], since))
                    if set(radios) <= set(refused):
                        return (f"{name} has no active slave: the access point refused the key "
                                f"of {', '.join(refused)} (wpa_supplicant: WRONG_KEY; check "
                                f"its psk)")
                break
            addresses = host.addresses(name)
            have = {f"{a['local']}/{a['prefixlen']}" for a in addresses}
            missing = [a for a in bond.address if a not in have]
            if missing:
                problem = f"{name} lacks {', '.join(missing)}"
                break
            if "ipv4" in bond.dhcp and not any(a.get("family") == "inet" and
                                               a.get("scope") == "global" for a in addresses):
                problem = f"{name} has no DHCPv4 address"
                break
            gateway = bond.gateway or (leasearp.lease_gateway(host, name)[0]
                                       if "ipv4" in bond.dhcp else None)
            if gateway and not _answers(host, name, gateway):
                problem = f"{name}'s gateway {gateway} does not answer"
                break
        if problem is None or time.monotonic() >= deadline:
            return problem
        time.sleep(1)


def _radio_names(host: Host, bond: Bond) -> list[str]:
    """BOND's radios by interface name: those named in the config, and the slaves it has
    now that are radios (a radio matched by MAC, driver or USB port has its own name)."""
    from . import bondstate

    names = {s.name for s in bond.wireless_slaves if not s.dynamic}
    if any(s.dynamic for s in bond.wireless_slaves):
        names.update(n for n in bondstate.slaves(host, bond.name)
                     if bondstate.is_radio(host, n))
    return sorted(names)


def _answers(host: Host, bond: str, gateway: str) -> bool:
    ping = host.program("ping")
    if not ping:
        return True  # nothing to ask with; the bond's own state was checked
    try:
        host.run(ping, "-c", "1", "-W", "2", "-I", bond, gateway)
        return True
    except HostError:
        return False
