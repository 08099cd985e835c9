"""Silent faults (issue 13): a link whose carrier stays up while nothing gets through.

The fixture's faults (fixture.isolate, fixture.ap_silence), each measured under a pinger with
the monitoring the bond has: time from the fault to another active slave, pings lost, and
the failback once the fault clears.  Used by the silent-archwiki and silent-raspberry-pi
scenarios, which run each fault with ARP monitoring and again with MII monitoring.
"""
import time
from pathlib import Path

from .failover import PING_MS, STEADY_REPLIES
from .net import bond_state
from .pinger import Pinger
from .product import wait_unit
from .util import log, sh, wait_for

CONF = Path("/etc/wibond.conf")
# How long a fault MII monitoring cannot see is watched before it is called unseen.
MII_WINDOW_S = 10.0


def faults(far):
    """name -> (what happens, apply, clear)."""
    return {
        "ap-uplink": ("the access point's uplink dies (the AP stays up and associated)",
                      lambda: far.isolate("ap0", True), lambda: far.isolate("ap0", False)),
        "ap-silent": ("the access point vanishes without a deauth",
                      lambda: far.ap_silence(True), lambda: far.ap_silence(False)),
        "cable-silent": ("the cable's far end stops forwarding (its carrier stays up)",
                         lambda: far.isolate("wired-far", True),
                         lambda: far.isolate("wired-far", False)),
    }


def active(bond="bond0"):
    st = bond_state(bond)
    return st["active_slave"] if st else None


def failure_counts(bond="bond0"):
    st = bond_state(bond) or {"slave_state": {}}
    return {s: int((v or {}).get("link_failure_count") or 0) for s, v in st["slave_state"].items()}


def reconfigure(text, units, bond="bond0"):
    """Put TEXT in /etc/wibond.conf and restart the bond the way a user would."""
    CONF.write_text(text)
    sh(["systemctl", "daemon-reload"])
    sh(["systemctl", "restart", f"wibond@{bond}.service"], timeout=600)
    for unit in units:
        wait_unit(unit, "active", 180)


def ready(slaves, primary, bond="bond0", arp_target=None):
    """Every slave enslaved with link, PRIMARY active; with ARP_TARGET: ARP monitoring of it."""
    def ok():
        st = bond_state(bond)
        if not st or sorted(st["slaves"]) != sorted(slaves) or st["active_slave"] != primary:
            return False
        if any((v or {}).get("mii_status") != "up" for v in st["slave_state"].values()):
            return False
        if arp_target is not None:
            return st["arp_interval"] not in ("0", None) and st["arp_ip_target"] == arp_target
        return st["arp_interval"] == "0"
    return wait_for(ok, 240, f"{bond}: {', '.join(slaves)} up, {primary} active"
                    + (f", ARP monitoring of {arp_target}" if arp_target else ", MII"))


def measure(res, far, gw, fault, primary, expect, monitor, bond="bond0"):
    """One fault under a pinger: apply, wait for EXPECT to take over (under MII at most
    MII_WINDOW_S, unscaled: a window, not a deadline), clear, wait for PRIMARY to be back.
    Records checks and figures labelled '<monitor>: <fault>'; returns the figures."""
    what, apply, clear = faults(far)[fault]
    label = f"{monitor}: {fault}"
    counts0 = failure_counts(bond)
    out = {"fault": fault, "monitor": monitor}
    with Pinger(gw, interval=PING_MS / 1000) as p:
        wait_for(lambda: p.replies_since(p.now() - 1) >= 50, 60, "pinger steady")
        apply()
        t0 = p.now()   # the fault's last step has returned: it is in effect
        if monitor == "MII":
            end = time.monotonic() + MII_WINDOW_S
            while time.monotonic() < end and active(bond) == primary:
                time.sleep(0.05)
            switched = active(bond) == expect
        else:
            switched = bool(wait_for(lambda: active(bond) == expect, 30, f"{label}: {expect} active",
                                     raise_on_timeout=False))
        t_switch = p.now()
        if switched:
            wait_for(lambda: p.replies_since(t_switch) >= STEADY_REPLIES, 60,
                     f"{label}: pings after the failover", raise_on_timeout=False)
        t_ok = p.now()
        time.sleep(2)   # a slave that flaps after the switch shows here
        t_clear = p.now()
        clear()
        back = wait_for(lambda: active(bond) == primary, 180, f"{label}: {primary} active again",
                        raise_on_timeout=False)
        t_back = p.now()
        if back:
            wait_for(lambda: p.replies_since(t_back) >= STEADY_REPLIES, 60,
                     f"{label}: pings after the failback", raise_on_timeout=False)
        t_end = p.now()
    during = p.stats(since=t0, until=t_clear)
    res.timeline(label, p, t0, t_end, [(t0, f"{fault}"),
                                       (t_switch if switched else None, f"{expect} active"),
                                       (t_clear, "fault cleared"),
                                       (t_back if back else None, f"{primary} back")])
    after = p.stats(since=t_clear, until=t_end)
    out.update(switched=switched, switch_ms=round((t_switch - t0) * 1000) if switched else None,
               ok_ms=round((t_ok - t0) * 1000) if switched else None,
               lost=during["lost"], sent=during["sent"], gap_ms=during["max_gap_ms"],
               failback=bool(back), failback_ms=round((t_back - t_clear) * 1000) if back else None,
               lost_back=after["lost"], gap_back_ms=after["max_gap_ms"],
               link_failures={s: n - counts0.get(s, 0) for s, n in failure_counts(bond).items()})
    log(f"{label}: {out}")
    if monitor == "MII":
        res.figure(f"{label}: {what}: time to failover",
                   out["switch_ms"] if switched else f"none in {MII_WINDOW_S:.0f} s",
                   "ms" if switched else "")
    else:
        res.check(f"{label}: {what}: {expect} takes over", switched and active(bond) in (expect, primary),
                  out)
        res.figure(f"{label}: {what}: time to failover", out["switch_ms"], "ms")
    res.figure(f"{label}: pings lost until the fault cleared", f"{out['lost']} of {out['sent']}",
               f"at {PING_MS} ms")
    res.figure(f"{label}: longest gap without a reply", out["gap_ms"], "ms")
    res.check(f"{label}: fault cleared: {primary} active again", bool(back), out)
    res.figure(f"{label}: failback time", out["failback_ms"], "ms")
    res.figure(f"{label}: pings lost in the failback", out["lost_back"], f"at {PING_MS} ms")
    return out


def faults_in_turn(res, far, gw, names, slaves, primary, backup, monitor, arp_target=None):
    """Each fault of NAMES measured from a ready bond (every slave up, PRIMARY active; under
    ARP monitoring of ARP_TARGET)."""
    for fault in names:
        ready(slaves, primary, arp_target=arp_target if monitor == "ARP" else None)
        measure(res, far, gw, fault, primary, backup, monitor)


def _forwarding_snapshot(far, bond):
    """Where each side sends the other's traffic: the bond's neighbour entries and slaves,
    the far side's neighbours and its bridge's forwarding table (which port a MAC was last
    seen on).  Logged when something changes in a window meant to be quiet, so a rare
    flap leaves the state that explains it."""
    out = {}
    for name, cmd, ns in (("bond neigh", ["ip", "-4", "neigh", "show", "dev", bond], None),
                          ("bond", ["ip", "-d", "link", "show", "master", bond], None),
                          ("far neigh", ["ip", "-4", "neigh", "show"], far.ns),
                          ("far fdb", ["bridge", "fdb", "show", "br", "br0"], far.ns)):
        out[name] = sh(cmd, netns=ns, check=False, quiet=True).stdout.strip().splitlines()
    return out


def steady(res, far, gw, seconds, label, bond="bond0", warmup_s=30.0, quiet_s=3.0):
    """SECONDS with nothing wrong: no failover, no slave declared down, no ping lost
    (at 100 ms).

    The window starts once traffic flows (the pinger answered for a second) and the bond
    has kept its active slave and failure counts for QUIET_S: the first packets after boot
    (neighbour resolution, the far bridge learning the bond's MAC) are a different
    question from five quiet minutes, so the warm-up is reported on its own, not counted
    and not hidden."""
    log_changes = []
    with Pinger(gw, interval=0.1) as p:
        first = active(bond)
        counts = failure_counts(bond)
        quiet_since = p.now()
        deadline = p.now() + warmup_s
        while p.now() < deadline:
            now, c = active(bond), failure_counts(bond)
            if now != first or c != counts:
                log_changes.append((round(p.now() - p.t_start, 1), now, c))
                first, counts, quiet_since = now, c, p.now()
            if p.now() - quiet_since >= quiet_s and p.replies_since(p.now() - 1) >= 9:
                break
            time.sleep(0.1)
        t0 = p.now()
        first = active(bond)
        counts0 = failure_counts(bond)
        changes = []
        snapshot = None
        # The guest's own pauses (two vCPUs under TCG on a busy host): a watcher that
        # slept 0.1 s and woke much later says the guest itself stalled.
        stall_s, last = 0.0, p.now()
        end = t0 + seconds
        while p.now() < end:
            now = active(bond)
            if now != (changes[-1][1] if changes else first):
                changes.append((round(p.now() - t0, 1), now))
                if snapshot is None:
                    snapshot = _forwarding_snapshot(far, bond)
                    snapshot["longest watcher pause so far (s)"] = round(stall_s, 2)
            time.sleep(0.1)
            stall_s, last = max(stall_s, p.now() - last - 0.1), p.now()
    warm = p.stats(until=t0)
    res.figure(f"{label}: first traffic: time until steady", round((t0 - p.t_start) * 1000), "ms")
    res.figure(f"{label}: first traffic: pings lost", f"{warm['lost']} of {warm['sent']}",
               "at 100 ms")
    if log_changes:
        res.note(f"{label}: first traffic: the bond changed before the window "
                 f"(s, active, failures): {log_changes}")
    res.figure(f"{label}: {seconds:.0f} s steady: longest pause of the guest's watcher",
               round(stall_s * 1000), "ms")
    s = p.stats(since=t0)
    flaps = {k: v - counts0.get(k, 0) for k, v in failure_counts(bond).items()}
    if snapshot is not None:
        res.note(f"{label}: forwarding state at the first change: {snapshot}")
    res.check(f"{label}: {seconds:.0f} s steady: no failover", not changes, changes)
    res.check(f"{label}: {seconds:.0f} s steady: no slave declared down", not any(flaps.values()),
              flaps)
    res.check(f"{label}: {seconds:.0f} s steady: pings answered", s["lost"] <= s["sent"] // 100,
              s)
    res.figure(f"{label}: {seconds:.0f} s steady: pings lost", f"{s['lost']} of {s['sent']}",
               "at 100 ms")
    return s


def mii_variant(text):
    """The same wibond.conf with MII monitoring: the arp_ keys left out."""
    return "".join(ln for ln in text.splitlines(keepends=True) if "arp_" not in ln.split("#")[0])

