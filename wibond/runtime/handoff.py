"""Tell the other network managers which interfaces are wibond's: write the files each reads
(managers/), remove the ones a former config left, and have a running manager read them again
when they changed. Run before the managers start at boot (wibond-managers.service) and at
every start of a bond (the config may have changed since); unchanged files are not rewritten
and no manager is bothered.
"""

from __future__ import annotations

from .. import managers
from ..config.model import Bond
from .hostio import Host, HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .hostio import Log


def apply(host: Host, bonds: list[Bond], log: Log) -> list[str]:
    """Bring the managers' files in line with BONDS; returns the paths changed."""
    want = managers.files(bonds)
    changed = []
    for path, text in sorted(want.items()):
        if host.read_bytes(path) != text.encode("utf-8"):
            host.save(path, text)
            changed.append(path)
    for manager in managers.MANAGERS:
        if not manager.directory or not manager.prefix:
            continue  # told on its command line (dhcpcd), not by files of wibond's
        for name in host.listdir(manager.directory):
            path = f"{manager.directory}/{name}"
            if name.startswith(manager.prefix) and path not in want:
                host.remove(path)
                changed.append(path)
    if changed:
        _reload(host, changed, log)
    return changed


def _reload(host: Host, changed: list[str], log: Log) -> None:
    """Have each running manager whose files changed read them again (one that starts later
    reads them anyway; udev reads its rules again by itself)."""
    for manager in managers.MANAGERS:
        command = manager.reload()
        if not command or not any(p.startswith(manager.directory + "/") for p in changed):
            continue
        program = host.program(command[0])
        if program is None or not any(_active(host, unit) for unit in manager.units):
            continue
        try:
            host.run(program, *command[1:])
            log(f"{manager.name}: read wibond's files again ({' '.join(command)})")
        except HostError as e:
            log(f"{manager.name}: could not make it read wibond's files again: {e}")


def _active(host: Host, unit: str) -> bool:
    try:
        return host.systemctl("is-active", "--quiet", unit) is not None
    except HostError:
        return False
