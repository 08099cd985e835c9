"""Static addresses, default routes and DNS servers of a bond.

What is applied is recorded in /run/wibond/<bond>/static.json, so the DHCP
clean-up keeps it and the bond's stop takes back exactly that.
"""

from __future__ import annotations

from ..common import formats, layout
from ..config.model import Bond
from .hostio import Host, HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .hostio import Log

RESOLV_CONF = "/etc/resolv.conf"
RESOLV_HEADER = "# Written by wibond for {bond}; the previous file comes back when the bond stops.\n"


def static_record(host: Host, bond: str) -> dict:
    from ..common.jsonread import loads

    raw = host.read_bytes(layout.static_record(bond))
    try:
        return loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        return {}


def default_routes(bond: Bond) -> list[tuple[int, str, bool]]:
    """(family, gateway, onlink) of the bond's static default routes."""
    import ipaddress  # not for the DHCP clean-up, which only reads the record

    out = []
    nets4 = [ipaddress.ip_interface(a).network for a in bond.address if ":" not in a]
    if bond.gateway:
        inside = any(ipaddress.ip_address(bond.gateway) in n for n in nets4)
        out.append((4, bond.gateway, not inside))
    if bond.gateway6:
        out.append((6, bond.gateway6, False))
    return out


def apply(host: Host, bond: Bond, log: Log) -> None:
    name = bond.name
    present = {f"{a['local']}/{a['prefixlen']}" for a in host.addresses(name)}
    for addr in bond.address:
        if addr not in present:
            host.ip("addr", "add", addr, "dev", name)
    for family, gateway, onlink in default_routes(bond):
        routes = host.routes(name, family)
        if any(r.get("dst") == "default" and r.get("gateway") == gateway
               and r.get("metric", 0) == bond.metric for r in routes):
            continue
        args = [f"-{family}", "route", "replace", "default", "via", gateway, "dev", name,
                "metric", str(bond.metric), "proto", "static"]
        if onlink:
            args.append("onlink")
        host.ip(*args)
    record = {"addresses": list(bond.address),
              "gateways": [g for _f, g, _o in default_routes(bond)]}
    record["dns"] = _set_dns(host, name, bond.dns, static_record(host, name).get("dns"), log)
    if static_record(host, name) != record:
        import json

        host.save(layout.static_record(name), json.dumps(record, sort_keys=True) + "\n")


def _set_dns(host: Host, bond: str, servers: list[str], before: dict | None,
             log: Log) -> dict | None:
    """Hand the servers to resolvconf, else to /etc/resolv.conf; return how, for undoing."""
    if not servers:
        return None
    text = "".join(formats.resolv_line("nameserver", s) for s in servers)
    resolvconf = host.program("resolvconf")
    if resolvconf:
        if before != {"how": "resolvconf", "text": text}:
            host.run(resolvconf, "-a", f"{bond}.wibond", input=text)
        return {"how": "resolvconf", "text": text}
    ours = RESOLV_HEADER.format(bond=bond) + text
    if host.readlink(RESOLV_CONF) is not None:
        log(f"{bond}: DNS servers not set: {RESOLV_CONF} is a link to "
            f"{host.readlink(RESOLV_CONF)} (another program manages it) and resolvconf "
            f"is not installed")
        return None
    current = host.read_bytes(RESOLV_CONF)
    if current == ours.encode():
        return before
    saved = layout.resolv_saved(bond)
    if current is not None:
        host.save_bytes(saved, current)
    host.save(RESOLV_CONF, ours)
    return {"how": "file", "saved": current is not None}


def undo(host: Host, bond: str, log: Log) -> None:
    """Take back the DNS setup (addresses and routes go with the bond)."""
    dns = static_record(host, bond).get("dns")
    if not dns:
        return
    if dns["how"] == "resolvconf":
        resolvconf = host.program("resolvconf")
        if resolvconf:
            try:
                host.run(resolvconf, "-d", f"{bond}.wibond", "-f")
            except HostError as e:
                log(f"{bond}: {e}")
        return
    ours = RESOLV_HEADER.format(bond=bond)
    current = host.read_bytes(RESOLV_CONF) or b""
    if not current.startswith(ours.encode()):
        return  # someone wrote it since: theirs now
    saved = host.read_bytes(layout.resolv_saved(bond))
    if saved is not None:
        host.save_bytes(RESOLV_CONF, saved)
    else:
        host.remove(RESOLV_CONF)
        log(f"removed {RESOLV_CONF}, which wibond had written")

