"""Failover under a running Pinger: do something to the active slave, wait until the bond has
switched and replies flow again, then turn the pinger's record into loss figures."""
from .net import bond_state
from .util import wait_for

PING_MS = 10
STEADY_REPLIES = 150   # "pings flow again" = this many replies after a switch (~1.5 s at 10 ms)


def active_slave(bond="bond0"):
    st = bond_state(bond)
    return st and st["active_slave"]


def failover(res, p, label, action, want_active, bond="bond0", timeout=60, record=True):
    """Do `action`, wait until `want_active` is the active slave and pings flow again.
    Returns the event (times, state) for loss_figures() once the pinger has stopped.
    record=False: no check or figure for this one event (a benchmark summarises many)."""
    before_mac = bond_state(bond)["address"]
    t0 = p.now()
    action()
    wait_for(lambda: active_slave(bond) == want_active, timeout, f"{label}: active slave {want_active}")
    t_switch = p.now()
    wait_for(lambda: p.replies_since(t_switch) >= STEADY_REPLIES, timeout, f"{label}: pings flow again")
    t_ok = p.now()
    st = bond_state(bond)
    if not record:
        return {"label": label, "t0": t0, "t_switch": t_switch, "t_ok": t_ok, "state": st}
    res.check(f"{label}: active slave becomes {want_active}", st["active_slave"] == want_active,
              {k: st[k] for k in ("active_slave", "slaves", "address")})
    res.figure(f"{label}: time to active slave change", round((t_switch - t0) * 1000), "ms")
    res.figure(f"{label}: bond MAC", f"{before_mac} -> {st['address']}", "")
    return {"label": label, "t0": t0, "t_switch": t_switch, "t_ok": t_ok, "state": st}


def loss_figures(res, p, ev, interval_ms=PING_MS):
    """Figures of one event; call after the pinger stopped (its record is complete)."""
    s = p.stats(since=ev["t0"], until=ev["t_ok"])
    label = ev["label"]
    res.timeline(label, p, ev["t0"], ev["t_ok"],
                 [(ev["t0"], label), (ev["t_switch"], f"{(ev['state'] or {}).get('active_slave')} active")])
    res.check(f"{label}: pings continue", s["received"] > 0 and s["max_gap_ms"] < 10000, s)
    res.figure(f"{label}: pings lost", s["lost"], f"of {s['sent']} at {interval_ms} ms")
    res.figure(f"{label}: longest gap without a reply", s["max_gap_ms"], "ms")
    res.figure(f"{label}: loss runs [ms after the event, lost in a row]", s["loss_runs"], "")
    return s
