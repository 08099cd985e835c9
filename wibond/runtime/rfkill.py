"""rfkill: a blocked radio cannot be brought up, so it cannot join a bond.

The supplicant unit waits here, saying why and how to unblock, instead of
failing: systemd #15257 is a slave blocked at boot that never came back
after it was unblocked.
"""

from __future__ import annotations

import time

from ..common import paths
from .hostio import Host

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

    from .hostio import Log


class Switch:
    __slots__ = ("index", "name", "soft", "hard")

    def __init__(self, index: str, name: str, soft: bool, hard: bool) -> None:
        self.index = index
        self.name = name
        self.soft = soft
        self.hard = hard

    @property
    def blocked(self) -> bool:
        return self.soft or self.hard


def switches(host: Host, ifname: str) -> list[Switch]:
    """The rfkill switches of IFNAME's radio (its phy), [] for a wired interface."""
    phy = f"{paths.SYSFS_NET}/{ifname}/phy80211"
    found = []
    for entry in host.listdir(phy):
        if not entry.startswith("rfkill"):
            continue
        base = f"{phy}/{entry}"
        found.append(Switch(entry[len("rfkill"):], host.read(f"{base}/name") or entry,
                            host.read(f"{base}/soft") == "1", host.read(f"{base}/hard") == "1"))
    return found


def blocked_message(host: Host, ifname: str) -> str | None:
    """Why IFNAME's radio is blocked and how to unblock it, or None when it is not."""
    for sw in switches(host, ifname):
        if sw.hard:
            return (f"{ifname} ({sw.name}) is blocked by a hardware switch (rfkill hard block): "
                    "turn the radio on with its switch or key")
        if sw.soft:
            return (f"{ifname} ({sw.name}) is blocked by rfkill (soft block): unblock it with "
                    f"`rfkill unblock {sw.index}` (or `rfkill unblock wifi`)")
    return None


def wait_unblocked(host: Host, ifname: str, log: Log, interval: float = 0.5,
                   remind: float = 300.0, sleep: Callable[[float], None] = time.sleep,
                   clock: Callable[[], float] = time.monotonic) -> bool:
    """Return once IFNAME's radio is unblocked (True), or False if the radio went away."""
    said = None
    last = 0.0
    while True:
        if not host.exists(f"{paths.SYSFS_NET}/{ifname}"):
            return False
        message = blocked_message(host, ifname)
        if message is None:
            if said:
                log(f"{ifname} is unblocked now")
            return True
        if message != said or clock() - last >= remind:
            log(f"{message}; waiting until it is unblocked")
            said, last = message, clock()
        sleep(interval)
