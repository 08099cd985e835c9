"""What the command's subcommands share: exit codes and how a config's problems are shown."""

from __future__ import annotations

import sys

from ..config import reader

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def print_diagnostics(loaded: reader.Loaded) -> None:
    for diag in sorted(loaded.diagnostics, key=lambda d: (d.line or 0, d.severity)):
        print(diag, file=sys.stderr)


def load_quiet(path: str) -> reader.Loaded:
    loaded = reader.load(path)
    for diag in loaded.errors:
        print(diag, file=sys.stderr)
    return loaded
