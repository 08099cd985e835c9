"""`wibond apply`: the running system brought to /etc/wibond.conf, only what changed."""

from __future__ import annotations

import argparse
import os
import sys

from ..common import paths
from .base import EXIT_ERROR, EXIT_OK, print_diagnostics


def cmd_apply(args: argparse.Namespace) -> int:
    from ..config import reader
    from ..runtime import apply
    from ..runtime.context import StepError
    from ..runtime.hostio import Host, HostError

    loaded = reader.load(paths.host(paths.CONFIG), shown=paths.CONFIG)
    print_diagnostics(loaded)
    if loaded.errors:
        print(f"wibond apply: {paths.CONFIG} has errors (above); nothing changed",
              file=sys.stderr)
        return EXIT_ERROR
    if not args.dry_run and os.geteuid() != 0 and paths.root() in ("", "/"):
        print("wibond apply: changing the network takes root; --dry-run shows the changes",
              file=sys.stderr)
        return EXIT_ERROR

    def log(line: str) -> None:
        print(f"  {line}", flush=True)

    host = Host(log)
    try:
        planned = apply.plan(host, loaded)
        the_plan = planned[0]
        if args.dry_run:
            print("\n".join(the_plan.lines()) or "nothing runs and nothing is configured")
            return EXIT_OK
        for line in the_plan.lines():
            print(line, flush=True)
        if not the_plan.changes:
            return EXIT_OK
        apply.apply(host, loaded, log, planned=planned)
    except (HostError, StepError) as e:
        print(f"wibond apply: {e}", file=sys.stderr)
        return EXIT_ERROR
    print("applied")
    return EXIT_OK
