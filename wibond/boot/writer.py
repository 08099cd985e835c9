"""Put a plan on disk: the only code in the generator that writes."""

from __future__ import annotations

import os

from .plan import File, Plan, Symlink


class WriteError(Exception):
    pass


def write_plan(plan: Plan, outdir: str) -> list[str]:
    """Write every entry of `plan` under `outdir`, in sorted order.

    Files are created exclusively, as systemd's own generators do: an entry
    that exists already is a bug to report, not something to overwrite.
    Returns the relative paths written.
    """
    written = []
    for rel in sorted(plan):
        entry = plan[rel]
        path = os.path.join(outdir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            if isinstance(entry, Symlink):
                os.symlink(entry.target, path)
            elif isinstance(entry, File):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(entry.text)
            else:
                raise TypeError(f"unknown plan entry {entry!r}")
        except FileExistsError:
            raise WriteError(f"{path} exists already") from None
        written.append(rel)
    return written
