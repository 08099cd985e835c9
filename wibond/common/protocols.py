"""The types the phases pass each other, for type checkers only.

`Log` is how a step or a command says what it does (a line at a time); `Files` is the
part of the run-time Host (runtime/hostio.py) that the phases below run time read and write
through, so that they take the Host without importing it. Nothing here exists at run time:
import these names under `if TYPE_CHECKING:` (typing is not imported by the steps).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Protocol

    Log = Callable[[str], None]

    class Files(Protocol):
        def read(self, path: str) -> str | None: ...

        def read_bytes(self, path: str) -> bytes | None: ...

        def exists(self, path: str) -> bool: ...

        def save_bytes(self, path: str, data: bytes, mode: int = 0o644,
                       durable: bool = False) -> None: ...
