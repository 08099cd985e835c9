"""Static addresses, default routes and DNS servers of a bond.

What is applied is recorded in /run/wibond/<bond>/static.json, so the DHCP
clean-up keeps it and the bond's stop takes back exactly that.
"""

from __future__ import annotations

from ..common import formats
from ..config.model import Bond
from . import bondctl
from .hostio import HostError

RESOLV_CONF = "/etc/resolv.conf"
RESOLV_HEADER = "# Written by wibond for {bond}; the previous file comes back when the bond stops.\n"


def _record_path(bond: str) -> str:
    return f"{bondctl.run_dir(bond)}/static.json"


def static_record(host, bond: str) -> dict:  # type: ignore[no-untyped-def]
    from ..common.jsonread import loads

    raw = host.read_bytes(_record_path(bond))
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


def apply(host, bond: Bond, log) -> None:  # type: ignore[no-untyped-def]
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

        host.save(_record_path(name), json.dumps(record, sort_keys=True) + "\n")


def _set_dns(host, bond: str, servers: list[str], before, log):  # type: ignore[no-untyped-def]
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
    saved = f"{bondctl.run_dir(bond)}/resolv.conf.saved"
    if current is not None:
        host.save_bytes(saved, current)
    host.save(RESOLV_CONF, ours)
    return {"how": "file", "saved": current is not None}


def undo(host, bond: str, log) -> None:  # type: ignore[no-untyped-def]
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
    saved = host.read_bytes(f"{bondctl.run_dir(bond)}/resolv.conf.saved")
    if saved is not None:
        host.save_bytes(RESOLV_CONF, saved)
    else:
        host.remove(RESOLV_CONF)
        log(f"removed {RESOLV_CONF}, which wibond had written")

