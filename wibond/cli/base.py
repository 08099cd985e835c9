"""What the command's subcommands share: exit codes, how the config is named and its
problems shown, and the versioned shape of --json."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from ..common import paths
from ..config import reader

# Exit codes, listed in wibond(8): 0 done; 1 an error (the config, a bond named that is not in
# it, a change refused or failed); 2 a wrong call; 3 `status`: a bond shown carries no traffic.
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_DOWN = 0, 1, 2, 3

# The shape of every --json output (status, check, apply --dry-run): a top-level "version";
# every key present whatever the state (null when unknown), lists as lists. A key's meaning
# does not change within a version; a change of shape raises it.
JSON_VERSION = 1


def print_json(data: dict[str, Any]) -> None:
    json.dump({"version": JSON_VERSION, **data}, sys.stdout, indent=2)
    print()


class UsageError(Exception):
    """A wrong call: the text says what is wrong; exit 2."""


def config_path(args: Any, default: str | None = None) -> str:
    """The config a command reads: --config FILE, or the FILE argument of check and try (both
    given must agree), else DEFAULT (the host's /etc/wibond.conf)."""
    given = getattr(args, "config", None)
    positional = getattr(args, "file", None)
    if given and positional and os.path.abspath(given) != os.path.abspath(positional):
        raise UsageError(f"two configs given ({positional} and --config {given}); name one")
    return given or positional or default or paths.host(paths.CONFIG)


def shown(path: str) -> str | None:
    """How messages name PATH: the machine's own config (and a try's candidate) as boot and
    the journal name it, another file as given."""
    for own in (paths.CONFIG, paths.TRY_CONFIG):
        if os.path.abspath(path) == os.path.abspath(paths.host(own)):
            return own
    return None


def print_diagnostics(loaded: reader.Loaded) -> None:
    for diag in sorted(loaded.diagnostics, key=lambda d: (d.line or 0, d.severity)):
        print(diag, file=sys.stderr)


def load_quiet(path: str) -> reader.Loaded:
    """The config, its errors on stderr (and that it brings no bond up, when it does not)."""
    loaded = reader.load(path, shown=shown(path))
    for diag in loaded.errors:
        print(diag, file=sys.stderr)
    if not loaded.errors and not loaded.bonds:
        print(f"{loaded.path}: brings no bond up (no [bond] section)", file=sys.stderr)
    return loaded


def unknown_bonds(loaded: reader.Loaded, names: list[str]) -> list[str]:
    """The bonds named on the command line that the config does not have."""
    known = {b.name for b in loaded.bonds} | {d.bond for d in loaded.errors if d.bond}
    return [n for n in names if n not in known]


def refuse_test_root(command: str) -> bool:
    """True (and says why) when WIBOND_ROOT is set: it moves the files wibond reads under a
    test's tree, not the `ip`, `systemctl` and sysfs writes of a command that changes the
    network, which would act on this machine from a config it does not run."""
    if paths.root() in ("", "/"):
        return False
    print(f"wibond {command}: WIBOND_ROOT={paths.root()} is set (it is for tests); a command "
          "that changes the network does not run with it", file=sys.stderr)
    return True
