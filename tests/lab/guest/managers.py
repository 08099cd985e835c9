"""Another network manager beside wibond (issue 19): what shows that it keeps off wibond's
interfaces while it still configures one of its own."""
from .net import addrs, routes
from .util import sh


def own_config(ifname):
    """What ifname has of its own: global addresses and routes (the slaves of a bond have
    none; a manager that took one gives it both)."""
    out = addrs(ifname, 4, scope="global") + addrs(ifname, 6, scope="global")
    for family in (4, 6):
        out += [f"route {r.get('dst')}" for r in routes(family)
                if r.get("dev") == ifname and not str(r.get("dst", "")).startswith("fe80")]
    return out


def networkctl_setup():
    """{link: setup state} as `networkctl list` shows it (configured, unmanaged, ...), read
    from networkd's own state files (/run/systemd/netif/links/<ifindex>, ADMIN_STATE):
    networkctl needs D-Bus, which the lab's minimal images do not run."""
    from pathlib import Path

    out = {}
    for dev in Path("/sys/class/net").iterdir():
        try:
            index = (dev / "ifindex").read_text().strip()
            text = Path(f"/run/systemd/netif/links/{index}").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("ADMIN_STATE="):
                out[dev.name] = line.split("=", 1)[1]
    return out


def check_kept_off(res, label, ifaces):
    """No interface of wibond's has an address or route of its own."""
    own = {i: own_config(i) for i in ifaces}
    res.check(f"{label}: no slave has an address or route of its own",
              not any(own.values()), own)
