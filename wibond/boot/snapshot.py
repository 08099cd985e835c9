"""The checked configuration, handed from the generator to the units' steps.

Reading wibond.conf again in every step (configobj, validate and the checks) was most of
what a step cost: about half a second of CPU each in the lab's emulated
guests, paid at every boot, plug and restart. The generator has read and checked the file
already; it leaves what it found in its own output directory, which systemd empties and
fills again at every boot and `systemctl daemon-reload`, and the steps read that. The units
systemd runs and the settings their steps use so come from one reading of the file.

The file's size and CRC-32 go with it: a step that finds wibond.conf edited since says that
the edit waits for `systemctl daemon-reload`, as the units do. Without the snapshot (a step
run by hand on a machine whose generator has not run) a step reads wibond.conf itself.
"""

from __future__ import annotations

from ..config.model import Bond, Diagnostic, Loaded, Slave, stamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..common.protocols import Files

# systemd's normal generator directory for the system manager, and the file in it.
GENERATOR_DIR = "/run/systemd/generator"
REL = "wibond/config.json"
PATH = f"{GENERATOR_DIR}/{REL}"
VERSION = 3


def dumps(loaded: Loaded, bonds: list[Bond], errors: list[Diagnostic]) -> str:
    """The snapshot, as JSON, of LOADED's BONDS that got units and of ERRORS (why the others
    did not), with LOADED's path and stamp."""
    from ..common.jsonread import dumps as json_dumps

    return json_dumps({
        "version": VERSION,
        "config": loaded.path,
        "stamp": loaded.stamp,
        "bonds": [_bond(b) for b in bonds],
        "errors": [{k: getattr(d, k) for k in Diagnostic.__slots__} for d in errors],
    }) + "\n"


def _bond(bond: Bond) -> dict:
    return {"name": bond.name, "line": bond.line,
            "options": {k: getattr(bond, k) for k in Bond.OPTIONS},
            "slaves": [{k: getattr(s, k) for k in Slave.__slots__} for s in bond.slaves]}


def loads(text: bytes) -> Loaded | None:
    """The Loaded a snapshot holds (its stamp the file's when the generator read it); None
    when TEXT is not a snapshot this wibond wrote."""
    from ..common.jsonread import loads as read_json

    try:
        data = read_json(text)
        if data.get("version") != VERSION:
            return None
        bonds = []
        for b in data["bonds"]:
            if set(b["options"]) != set(Bond.OPTIONS):
                return None
            bond = Bond(b["name"], [Slave(**s) for s in b["slaves"]], **b["options"])
            bond.line = b["line"]
            bonds.append(bond)
        errors = [Diagnostic(d["severity"], d["path"], d["message"], d["line"],
                             tuple(d["section"]), d["key"]) for d in data["errors"]]
        return Loaded(data["config"], bonds, errors, data["stamp"])
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
        return None


def read(host: Files, config: str) -> tuple[Loaded, bool] | None:
    """(what the generator read, whether CONFIG has changed since), or None without a
    usable snapshot."""
    text = host.read_bytes(PATH)
    loaded = loads(text) if text is not None else None
    if loaded is None:
        return None
    return loaded, stamp(host.read_bytes(config)) != loaded.stamp
