"""`wibond metrics`: the bonds in Prometheus' text format, for node_exporter's textfile
collector (or a look on the terminal).

node_exporter's own bonding collector counts the slaves that are up; it has no active slave,
no failover count and nothing about radios (prometheus/node_exporter #1604). This exports
what a Wi-Fi bond's operator needs: which slave carries the traffic, how often the bond failed
over, each slave's link, each radio's signal and bitrate, the DHCP lease's expiry.

One collection reads sysfs (runtime/bondstate.py), `iw dev X link` for each radio that is a
slave (radio.py) and the DHCP client's lease file (dhcp/); never the journal. `--follow`
keeps DIR/wibond.prom current and costs nothing while nothing changes: it sleeps on the
kernel's rtnetlink link messages (a failover, a slave's link, a bond made or deleted wake it
at once) and, only while a radio is a slave or a lease is held, looks again every TICK_S
seconds (a radio's signal and bitrate, a lease renewed). The file is replaced (written under
a temporary name without .prom and renamed, the collector's convention) only when its text
changes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from ..common import paths
from ..common.formats import prom_help, prom_sample
from .base import EXIT_ERROR, EXIT_OK, UsageError, load_quiet

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..config.model import Bond
    from .report import Sources

TEXTFILE = "wibond.prom"
# How often --follow looks again at what changes without a kernel message (a radio's signal
# and bitrate, a lease's renewal); the bound is 15 s.
TICK_S = 15.0
STATE_VERSION = 1

# The metric families, in the order written: name, type, HELP. Names and units as Prometheus'
# naming guide and node_exporter's wifi collector spell them.
FAMILIES = (
    ("wibond_bond_up", "gauge",
     "1 when the bond exists and carries traffic (a carrier and, in active-backup, an active "
     "slave), else 0."),
    ("wibond_bond_info", "gauge", "Always 1: the bond's mode and primary slave as labels."),
    ("wibond_bond_on_primary", "gauge",
     "1 when the bond's primary slave carries its traffic, 0 when another slave or none does."),
    ("wibond_bond_active_slave", "gauge",
     "1 for the slave carrying the bond's traffic, 0 for its other slaves."),
    ("wibond_slave_up", "gauge",
     "1 when the bond counts the slave's link up (MII: its carrier; ARP: the targets answer), "
     "0 when down or when a slave named in wibond.conf is not enslaved."),
    ("wibond_slave_link_failures_total", "counter",
     "Link failures of the slave the bonding driver counted since the slave joined the bond."),
    ("wibond_failovers_total", "counter",
     "Times the bond's active slave changed from one slave to another this boot (counted by "
     "wibond-metrics.service, across restarts of wibond's units)."),
    ("wibond_last_failover_timestamp_seconds", "gauge",
     "When the bond's active slave last changed from one slave to another (Unix time)."),
    ("wibond_radio_connected", "gauge",
     "1 when the radio slave is associated with an access point, else 0."),
    ("wibond_radio_signal_dbm", "gauge", "The radio slave's signal from its access point, in dBm."),
    ("wibond_radio_tx_bitrate_bits_per_second", "gauge",
     "The radio slave's transmit bitrate to its access point."),
    ("wibond_lease_expiry_timestamp_seconds", "gauge",
     "When the bond's DHCP lease expires unless renewed (Unix time), from the client's lease "
     "file."),
)
_KNOWN = {name for name, _kind, _help in FAMILIES}

Sample = tuple[str, list[tuple[str, str]], float]


# -- failovers counted across restarts ----------------------------------------------------

class Failovers:
    """Each bond's failovers this boot: a change of the active slave from one slave to
    another. A change to none (every link down) is not one; the change after it to a slave
    other than the last active one is. A bond made anew (a new ifindex: wibond@ restarted,
    the bond deleted and made again) starts without a last active slave, so its first slave
    is no failover, and keeps its count."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        bonds = (data or {}).get("bonds")
        self.bonds: dict[str, dict[str, Any]] = bonds if isinstance(bonds, dict) else {}

    @classmethod
    def load(cls) -> Failovers | None:
        """The counts --follow keeps (None when it never ran this boot)."""
        from ..common.jsonread import loads

        try:
            with open(paths.host(paths.METRICS_STATE), encoding="utf-8") as f:
                data = loads(f.read())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return None
        return cls(data)

    def data(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "bonds": self.bonds}

    def observe(self, bond: str, ifindex: int | None, active: str | None, now: float) -> bool:
        """Note BOND's state (IFINDEX None: no such bond now); True when the counts changed."""
        rec = self.bonds.get(bond)
        if rec is None:
            rec = self.bonds[bond] = {"total": 0, "last_at": None, "active": None,
                                      "ifindex": None}
            changed = True
        else:
            changed = False
        if ifindex != rec["ifindex"]:
            rec["ifindex"], rec["active"] = ifindex, active or None
            return True
        if not active:
            return changed
        if rec["active"] and active != rec["active"]:
            rec["total"] += 1
            rec["last_at"] = now
            changed = True
        if active != rec["active"]:
            rec["active"] = active
            changed = True
        return changed

    def total(self, bond: str) -> int:
        return int(self.bonds.get(bond, {}).get("total") or 0)

    def last_at(self, bond: str) -> float | None:
        return self.bonds.get(bond, {}).get("last_at")


# -- one collection -----------------------------------------------------------------------

def collect(bonds: list[Bond], sources: Sources, failovers: Failovers | None) -> list[Sample]:
    """Every sample of BONDS now. FAILOVERS None: no count is known (--follow not running)."""
    out: list[Sample] = []
    for bond in bonds:
        out += _bond_samples(bond, sources, failovers)
    return out


def _bond_samples(bond: Bond, sources: Sources, failovers: Failovers | None) -> list[Sample]:
    b = [("bond", bond.name)]
    st = sources.bond(bond.name)
    out: list[Sample] = []
    if failovers is not None:
        out.append(("wibond_failovers_total", b, failovers.total(bond.name)))
        last = failovers.last_at(bond.name)
        if last is not None:
            out.append(("wibond_last_failover_timestamp_seconds", b, round(last, 3)))
    out.append(("wibond_bond_up", b, 1 if st.carries_traffic else 0))
    if not st.exists:
        return out
    out.append(("wibond_bond_info", b + [("mode", st.mode or ""), ("primary", st.primary or "")],
                1))
    if st.primary:
        out.append(("wibond_bond_on_primary", b, 1 if st.active == st.primary else 0))
    enslaved = {s.name: s for s in st.slaves}
    named_radios = {s.name for s in bond.named_slaves if s.wireless}
    for s in st.slaves:
        labels = b + [("slave", s.name)]
        radio = s.wireless or s.name in named_radios
        out.append(("wibond_bond_active_slave", labels, 1 if st.active == s.name else 0))
        out.append(("wibond_slave_up", labels + [("type", "radio" if radio else "wired")],
                    1 if s.mii == "up" else 0))
        if s.failures is not None:
            out.append(("wibond_slave_link_failures_total", labels, s.failures))
        if radio:
            out += _radio_samples(labels, sources.radio(s.name))
    for slave in bond.named_slaves:
        if slave.name not in enslaved:
            out.append(("wibond_slave_up", b + [("slave", slave.name),
                                                ("type", "radio" if slave.wireless else "wired")], 0))
    expiry = _lease_expiry(bond, sources)
    if expiry is not None:
        out.append(("wibond_lease_expiry_timestamp_seconds", b + [("family", "ipv4")],
                    round(expiry)))
    return out


def _radio_samples(labels: list[tuple[str, str]], link: dict[str, Any]) -> list[Sample]:
    out: list[Sample] = [("wibond_radio_connected", labels, 1 if link.get("connected") else 0)]
    if isinstance(link.get("signal_dbm"), int):
        out.append(("wibond_radio_signal_dbm", labels, link["signal_dbm"]))
    if isinstance(link.get("tx_bitrate_mbps"), (int, float)):
        out.append(("wibond_radio_tx_bitrate_bits_per_second", labels,
                    round(link["tx_bitrate_mbps"] * 1_000_000)))
    return out


def _lease_expiry(bond: Bond, sources: Sources) -> float | None:
    if "ipv4" not in bond.dhcp:
        return None
    for client, families in sources.dhcp(bond):
        if "ipv4" in families:
            lease = client.lease(bond.name)
            return lease.expires() if lease else None
    return None


def render(samples: list[Sample], note: str = "") -> str:
    """The exposition text: each family's HELP and TYPE, then its samples (families without
    a sample are left out). NOTE: a comment line first (the collector ignores it)."""
    by_family: dict[str, list[Sample]] = {}
    for sample in samples:
        if sample[0] not in _KNOWN:
            raise ValueError(f"{sample[0]} is not in FAMILIES")
        by_family.setdefault(sample[0], []).append(sample)
    text = [f"# {note}\n"] if note else []
    for name, kind, help_text in FAMILIES:
        if name in by_family:
            text.append(prom_help(name, kind, help_text))
            text += [prom_sample(n, labels, value) for n, labels, value in by_family[name]]
    return "".join(text)


def needs_tick(samples: list[Sample]) -> bool:
    """Whether anything in SAMPLES changes without a kernel link message: a radio's signal
    or bitrate, a lease."""
    return any(s[0] in ("wibond_radio_connected", "wibond_lease_expiry_timestamp_seconds")
               for s in samples)


# -- the config in force, read again when it changes --------------------------------------

class _Config:
    def __init__(self, given: str | None) -> None:
        self.given = given
        self.seen: tuple[str, int] | None = None
        self.bonds: list[Bond] = []

    def current(self) -> list[Bond]:
        path = self.given or paths.host(paths.config_in_force())
        try:
            stamp = (path, os.stat(path).st_mtime_ns)
        except OSError:
            stamp = (path, 0)
        if stamp != self.seen:
            self.seen = stamp
            self.bonds = load_quiet(path).bonds
        return self.bonds


def _observe(bonds: list[Bond], sources: Sources, failovers: Failovers) -> bool:
    from ..runtime import bondstate

    changed = False
    now = time.time()
    for bond in bonds:
        index = bondstate.ifindex(sources.host, bond.name)
        active = bondstate.active_slave(sources.host, bond.name) if index is not None else ""
        changed |= failovers.observe(bond.name, index, active or None, now)
    return changed


def follow(directory: str, config: str | None, sources: Sources, tick: float = TICK_S,
           rounds: int | None = None) -> None:
    """Keep DIRECTORY/wibond.prom current until stopped (SIGTERM), then remove it: stale
    figures from a stopped exporter would look current. ROUNDS: stop after that many
    collections (tests)."""
    import signal

    host = sources.host
    target = os.path.join(directory, TEXTFILE)
    if not os.path.isdir(paths.host(directory)):
        print(f"wibond metrics: {directory} does not exist; making it (point node_exporter's "
              f"--collector.textfile.directory at it)", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(0))
    failovers = Failovers.load() or Failovers()
    cfg = _Config(config)
    written: str | None = None
    failing = False
    host.watch_links()   # before the first look: a change during it still wakes the next
    try:
        while rounds is None or rounds > 0:
            bonds = cfg.current()
            if _observe(bonds, sources, failovers):
                host.save_bytes(paths.METRICS_STATE, _dump(failovers.data()))
            samples = collect(bonds, sources, failovers)
            text = render(samples)
            if text != written:
                try:
                    host.save_bytes(target, text.encode("utf-8"), mode=0o644)
                    written, failing = text, False
                except OSError as e:
                    if not failing:
                        print(f"wibond metrics: cannot write {target}: {e.strerror}; trying "
                              f"again at the next change", file=sys.stderr, flush=True)
                    failing = True
            if rounds is not None:
                rounds -= 1
                if rounds == 0:
                    break
            # A failover's messages come in a burst; the state is read after the burst.
            host.wait_link_change(tick if needs_tick(samples) or failing else None)
    finally:
        host.remove(target)


def _dump(data: dict[str, Any]) -> bytes:
    from ..common.jsonread import dumps

    return dumps(data).encode("utf-8")


def cmd_metrics(args: argparse.Namespace) -> int:
    from .report import Sources

    if args.follow and not args.textfile_dir:
        raise UsageError("--follow keeps a file current: name its directory with --textfile-dir")
    sources = Sources()
    if args.follow:
        try:
            follow(args.textfile_dir, args.config, sources, tick=args.interval)
        except OSError as e:
            print(f"wibond metrics: {e}", file=sys.stderr)
            return EXIT_ERROR
        return EXIT_OK
    loaded = load_quiet(args.config or paths.host(paths.config_in_force()))
    failovers = Failovers.load()
    note = "" if failovers else ("no failover count: wibond-metrics.service has not run this "
                                 "boot (systemctl enable --now wibond-metrics.service)")
    text = render(collect(loaded.bonds, sources, failovers), note)
    if args.textfile_dir:
        target = os.path.join(args.textfile_dir, TEXTFILE)
        try:
            sources.host.save_bytes(target, text.encode("utf-8"), mode=0o644)
        except OSError as e:
            print(f"wibond metrics: cannot write {target}: {e.strerror}", file=sys.stderr)
            return EXIT_ERROR
    else:
        sys.stdout.write(text)
    return EXIT_ERROR if loaded.errors else EXIT_OK
